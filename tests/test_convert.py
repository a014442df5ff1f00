"""Tests of the format converters (qa/convert*.py) through qa.corpus, on real files made here:
PDFs written with fpdf2, saved web pages, Word files written with python-docx.

No model and no index: what the converters extract, where each paragraph stands in the
original, and the one-line reasons for the files they cannot read.
"""
from __future__ import annotations

import sys

import pytest

from conftest import AFP, FOX
from makedocs import SEEDS, image_only_pdf, make_docx, make_pdf, read_seed, seed_html, seed_pdf
from qa.convert import FORMATS, iso_date
from qa.corpus import read_corpus, read_file
from qa.errors import QAError

pytestmark = pytest.mark.unit
pytest.importorskip("fpdf", reason="the test extra (fpdf2) makes the PDFs")


def write(path, data: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def one(tmp_path, name: str, data: bytes):
    write(tmp_path / name, data)
    corpus = read_corpus(tmp_path)
    assert len(corpus.documents) == 1, corpus.skipped
    return corpus.documents[0]


def reason(tmp_path, name: str, data: bytes, max_file_mb: float = 10.0) -> str:
    """The one-line reason `name` is skipped, while a good file beside it is read."""
    write(tmp_path / "good.txt", b"A good paragraph of text.")
    write(tmp_path / name, data)
    corpus = read_corpus(tmp_path, max_file_mb=max_file_mb)
    assert [d.doc for d in corpus.documents] == ["good.txt"]
    (s,) = corpus.skipped
    assert s.path == name and "\n" not in s.reason
    return s.reason


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def seed_lines(name: str) -> list[str]:
    _, _, blocks = read_seed(name)
    return [norm(line) for b in blocks for line in b.split("\n") if line.strip()]


# --- PDF --------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [AFP, FOX])
def test_seed_pdf_paragraphs_pages_and_chrome(tmp_path, seed):
    doc = one(tmp_path, "article.pdf", seed_pdf(seed))
    texts = [p.text for p in doc.paragraphs]
    # every line of the seed is one paragraph, rebuilt across the PDF's line breaks
    for line in seed_lines(seed):
        if line != norm(doc.title):
            assert line in [norm(t) for t in texts], line
    # running header and page numbers are gone
    assert not any("World Wire" in t or t.startswith("Page ") for t in texts)
    # two pages, a paragraph carried over the break: it starts on page 1 and knows where page 2 begins
    assert {p.page for p in doc.paragraphs} <= {1, 2}
    (crossing,) = [p for p in doc.paragraphs if p.page_breaks]
    assert crossing.page == 1 and crossing.page_at(0) == 1
    b = crossing.page_breaks[0]
    assert crossing.page_at(b - 1) == 1 and crossing.page_at(b) == 2 and crossing.text[b - 1] == " "
    assert doc.date == "2023-07-26"
    assert doc.sha256.endswith("+pdf2")  # a converter change re-indexes its files


def test_pdf_fox_chrome_kinds_like_the_text_file(tmp_path):
    doc = one(tmp_path, "fox.pdf", seed_pdf(FOX))
    kinds = {p.text.split()[0]: p.kind for p in doc.paragraphs}
    assert kinds["©2023"] == "copyright" and kinds["By"] == "byline"
    assert doc.author == "Timothy H.J. Nerozzi" and doc.outlet == "Fox News"
    assert doc.title == "North Korean, Russian defense ministers hold meeting in Pyongyang amid celebrations"


def test_pdf_hyphenation_and_line_joins(tmp_path):
    data = make_pdf([
        "Distinguished Encoding Rules make the manip-\nulation of structures easy; manipulation is the point.",
        "The well-\nknown library is small, as well-known ones go.",
        "A short first line\ncarries on here.",
    ], header=None, page_numbers=False)
    doc = one(tmp_path, "h.pdf", data)
    assert [p.text for p in doc.paragraphs] == [
        "Distinguished Encoding Rules make the manipulation of structures easy; manipulation is the point.",
        "The well-known library is small, as well-known ones go.",  # written with a hyphen elsewhere
        "A short first line carries on here.",
    ]


def test_pdf_running_header_naming_the_chapter_and_page(tmp_path):
    names = [a + b for a in ("Ba", "Ko", "Ri", "Mu", "Te", "Lo") for b in ("ran", "vel", "dos", "mik", "sut",
                                                                       "pel", "gor", "tam", "nix", "ful")]
    # every line differs (a line recurring at the edge of most pages is a running header)
    paras = [f"The {name} station logged readings long enough to wrap over two lines, so that "
             f"the page fills up after a dozen, said {name}." for name in names]
    chapters = ("Methods", "Results", "Discussion", "Outlook")  # a header that changes every 2 pages,
    data = make_pdf(paras, header=lambda n: f"Chapter {(n + 1) // 2}: {chapters[(n - 1) // 2]} {n + 2}",
                    page_numbers=False)  # with the printed page number 2 ahead of the PDF's
    doc = one(tmp_path, "chapters.pdf", data)
    assert max(p.page for p in doc.paragraphs) > 3
    assert not any("Chapter" in p.text for p in doc.paragraphs)
    assert [p.text for p in doc.paragraphs] == paras


def test_pdf_metadata(tmp_path):
    data = make_pdf(["Body text of the report, long enough to be a paragraph."], title="Annual report",
                    author="Ines Kovacs", date="2024-03-01")
    doc = one(tmp_path, "r.pdf", data)
    assert (doc.title, doc.author, doc.date) == ("Annual report", "Ines Kovacs", "2024-03-01")


def test_encrypted_pdf_skipped(tmp_path):
    assert reason(tmp_path, "secret.pdf", make_pdf(["Hidden text."], encrypt="pw")) == "encrypted PDF (it needs a password)"


def test_scanned_pdf_skipped(tmp_path):
    assert reason(tmp_path, "scan.pdf", image_only_pdf()).startswith("no text layer (scanned?)")


@pytest.mark.parametrize("cut", [0.0, 0.3, 0.9])
def test_corrupt_or_truncated_pdf_skipped(tmp_path, cut):
    data = seed_pdf(AFP)
    bad = data[:int(len(data) * cut)] if cut else b"%PDF-1.7\n" + bytes(range(256)) * 20
    assert reason(tmp_path, "broken.pdf", bad) == "not a readable PDF (corrupt or truncated)"


def test_huge_pdf_skipped_before_reading(tmp_path):
    write(tmp_path / "good.txt", b"Fine.")
    with open(tmp_path / "huge.pdf", "wb") as f:  # 200 MB, sparse: nothing is read
        f.truncate(200_000_000)
    (s,) = read_corpus(tmp_path).skipped
    assert s.path == "huge.pdf"
    assert s.reason == "too large (200 MB; the limit for PDF files is 100 MB)"
    assert FORMATS[".pdf"].size_factor * 10 == 100


def test_page_cap(tmp_path):
    from qa.convert_pdf import convert
    with pytest.raises(QAError) as e:
        convert(seed_pdf(FOX), max_pages=1)
    assert str(e.value) == "too many pages (2; the limit is 1)"


# --- web pages --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [AFP, FOX])
def test_seed_page_main_content_metadata_sections(tmp_path, seed):
    doc = one(tmp_path, "article.html", seed_html(seed))
    texts = [norm(p.text) for p in doc.paragraphs]
    chrome = {norm(p.text) for p in read_corpus(SEEDS).documents[[AFP, FOX].index(seed)].paragraphs
              if not p.answerable}  # the copyright line, the author's bio: trafilatura may drop them
    for line in seed_lines(seed):
        if line not in chrome:
            assert any(line in t for t in texts), line
    joined = " ".join(texts)
    for chrome in ("Privacy Policy", "Related story", "Most read", "Subscribe", "Advertisement", "Politics"):
        assert chrome not in joined
    assert (doc.date, doc.outlet) == ("2023-07-26", "World Wire")
    assert doc.sha256.endswith("+html2")
    assert all(p.section for p in doc.paragraphs)  # under the <h1> at least


def test_page_headings_name_sections(tmp_path):
    doc = one(tmp_path, "fox.html", seed_html(FOX))
    sub = "Russian Defense Minister Sergei Shoigu called North Korea 'an important partner' in global politics"
    head = next(p for p in doc.paragraphs if p.text == sub)
    assert head.kind == "headline" and head.section == sub
    after = doc.paragraphs[head.paragraph + 1]
    assert after.section == sub and after.text.endswith("the hermit kingdom's capital.")
    # the byline is a line of its own inside its paragraph, skipped like the text file's
    (s, e), = after.skip
    assert after.text[s:e] == "By Timothy H.J. Nerozzi | Fox News"
    assert doc.author == "Timothy H.J. Nerozzi"


PAGE = ("<html><head>{meta}<title>Café notes</title></head><body><article><h1>Café notes</h1>"
        "<p>{text}</p><p>The crème brûlée at the café on the corner costs eight euros and is the best in town, "
        "said the owner, Zoë Müller, who opened it in 1998.</p></article></body></html>")


@pytest.mark.parametrize("encoding, meta", [
    ("windows-1251", '<meta charset="windows-1251">'),
    ("iso-8859-1", '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'),
    ("utf-16", ""),  # a byte-order mark
    ("utf-8-sig", ""),
    ("cp1252", ""),  # no declaration, not UTF-8: charset-normalizer decides
])
def test_page_encodings(tmp_path, encoding, meta):
    text = ("Привет, мир: это русский текст о кафе на углу улицы." if encoding == "windows-1251"
            else "Zoë Müller’s café opened in 1998 near the old market square of the town.")
    data = PAGE.format(meta=meta, text=text).encode(encoding, errors="xmlcharrefreplace")
    doc = one(tmp_path, "page.html", data)
    joined = " ".join(p.text for p in doc.paragraphs)
    assert text in joined and "crème brûlée" in joined and "Zoë Müller" in joined


def test_page_without_text_skipped(tmp_path):
    assert reason(tmp_path, "empty.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>") == \
        "no main text found in the web page"


def test_binary_html_skipped(tmp_path):
    r = reason(tmp_path, "x.html", bytes(range(256)) * 50)
    assert r in ("no main text found in the web page", "binary file, not a web page")


def test_page_lists_tables_and_code(tmp_path):
    page = (b"<html><body><article><h1>Team handbook</h1><p>Our team meets every Monday to plan the week "
            b"and review what shipped.</p><h2>Contacts</h2><table><tr><th>Name</th><th>Role</th></tr>"
            b"<tr><td>Ines Kovacs</td><td>Treasurer</td></tr></table><h2>Setup</h2>"
            b"<ul><li>Install the tools first.</li><li>Then run the checks.</li></ul>"
            b"<pre><code>make all\n\nmake test</code></pre></article></body></html>")
    doc = one(tmp_path, "handbook.html", page)
    by_text = {p.text: p for p in doc.paragraphs}
    assert by_text["Ines Kovacs | Treasurer"].section == "Contacts"
    assert by_text["Then run the checks."].section == "Setup"
    code = [p for p in doc.paragraphs if p.kind == "code"]
    assert code and code[0].answerable and "make test" in code[0].text  # code is answered from


# --- Word -------------------------------------------------------------------------------------

def test_docx_headings_paragraphs_tables(tmp_path):
    pytest.importorskip("docx")
    data = make_docx([("heading", "Harbour bridge"),
                      ("p", "The old harbour bridge in Marlow reopened on Tuesday after eight months of repairs."),
                      ("heading", "Who runs it"),
                      ("table", [["Name", "Role"], ["Ines Kovacs", "Mayor"], ["Tomas Berg", "Chief engineer"]])],
                     title="Bridge news", author="City desk")
    doc = one(tmp_path, "bridge.docx", data)
    assert [(p.text, p.kind, p.section) for p in doc.paragraphs] == [
        ("Harbour bridge", "headline", "Harbour bridge"),
        ("The old harbour bridge in Marlow reopened on Tuesday after eight months of repairs.", "body", "Harbour bridge"),
        ("Who runs it", "headline", "Who runs it"),
        ("Name | Role", "body", "Who runs it"),  # a table: one paragraph per row
        ("Ines Kovacs | Mayor", "body", "Who runs it"),
        ("Tomas Berg | Chief engineer", "body", "Who runs it"),
    ]
    assert (doc.title, doc.author) == ("Bridge news", "City desk")
    assert doc.sha256.endswith("+docx1")
    plain = one(tmp_path / "plain", "p.docx", make_docx([("p", "Some words in a paragraph.")]))
    assert (plain.author, plain.date) == (None, None)  # python-docx's template says 2013 and "python-docx"


@pytest.mark.parametrize("data, why", [
    (b"PK\x03\x04 not really a zip", "not a readable .docx file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "encrypted or legacy Word file"),
])
def test_bad_docx_skipped(tmp_path, data, why):
    pytest.importorskip("docx")
    assert reason(tmp_path, "bad.docx", data).startswith(why)


def test_missing_library_is_one_hint_for_all_its_files(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "docx", None)  # import docx -> ImportError
    write(tmp_path / "a.txt", b"Some text.")
    write(tmp_path / "one.docx", b"PK")
    write(tmp_path / "sub" / "two.DOCX", b"PK")
    corpus = read_corpus(tmp_path)
    assert [d.doc for d in corpus.documents] == ["a.txt"]
    (s,) = corpus.skipped
    assert (s.path, s.reason) == ("2 .docx files", "reading Word files needs python-docx: pip install 'qa[docx]'")
    assert s.paths == ("one.docx", "sub/two.DOCX")


# --- Markdown ---------------------------------------------------------------------------------

def test_markdown_sections_and_code_blocks(tmp_path):
    raw = ("# Team notes\n\nWe meet on Mondays.\n\n## Build\n\nRun the build first.\n\n"
           "```sh\nmake all\n\n# not a heading\nmake test\n```\n\nThen deploy.\n")
    doc = one(tmp_path, "notes.md", raw.encode())
    got = [(p.text, p.kind, p.section) for p in doc.paragraphs]
    assert got == [
        ("# Team notes", "heading", "Team notes"),
        ("We meet on Mondays.", "body", "Team notes"),
        ("## Build", "heading", "Build"),  # a heading names the section; never answered from
        ("Run the build first.", "body", "Build"),
        ("make all\n\n# not a heading\nmake test", "code", "Build"),  # the code, without its fences
        ("Then deploy.", "body", "Build"),
    ]
    assert doc.title == "Team notes"
    assert doc.paragraphs[4].answerable and not doc.paragraphs[0].answerable


def test_a_pdf_title_field_naming_an_organisation_gives_way_to_the_heading(tmp_path):
    data = make_pdf(["Desktop entry files describe how a program is launched and how it appears in menus."],
                    title="Desktop Entry Specification", meta_title="X Desktop Group (http://www.freedesktop.org)")
    assert one(tmp_path, "spec.pdf", data).title == "Desktop Entry Specification"
    kept = make_pdf(["Some words in a paragraph of the report."], title="Annual report", meta_title="Harbour report 2023")
    assert one(tmp_path / "k", "r.pdf", kept).title == "Harbour report 2023"


def test_a_web_page_date_comes_from_its_metadata_not_its_copyright_line(tmp_path):
    body = (b"<article><h1>Desktop Entry Specification</h1><p>This document describes desktop entry files, "
            b"which say how a program is launched and how it appears in menus.</p><p>Entries are stored "
            b"in files with the .desktop extension and use a key-value format like INI files.</p></article>"
            b"<footer><p>Copyright \xc2\xa9 2001 The Foo Group. All rights reserved.</p></footer>")
    undated = one(tmp_path, "spec.html", b"<html><head><title>Spec</title></head><body>" + body + b"</body></html>")
    assert undated.date is None
    meta = b'<meta property="article:published_time" content="2024-03-05T10:00:00Z">'
    dated = one(tmp_path / "d", "spec.html", b"<html><head>" + meta + b"</head><body>" + body + b"</body></html>")
    assert dated.date == "2024-03-05"


def test_text_files_have_no_place(tmp_path):
    doc = one(tmp_path, "a.txt", b"# Not markdown here\n\nPlain text.")
    assert all(p.page is None and p.section is None for p in doc.paragraphs)


def test_iso_date():
    assert iso_date("D:20230726101500Z") == "2023-07-26"
    assert iso_date("2023-07-26T09:00:00Z") == "2023-07-26"
    assert iso_date("D:20231399") is None and iso_date(None) is None


def test_read_file_of_a_converted_format_raises_reason(tmp_path):
    path = write(tmp_path / "scan.pdf", image_only_pdf())
    with pytest.raises(QAError) as e:
        read_file(tmp_path, path, 10_000_000)
    assert "no text layer (scanned?)" in str(e.value)


# --- the store keeps page and section ---------------------------------------------------------

def test_index_json_round_trip_keeps_page_and_section(tmp_path):
    from qa.document import from_json, to_json
    for name, data in (("a.pdf", seed_pdf(FOX)), ("b.html", seed_html(FOX))):
        write(tmp_path / name, data)
    for doc in read_corpus(tmp_path).documents:
        back, _ = from_json(to_json(doc, [[] for _ in doc.paragraphs]))
        assert back.paragraphs == doc.paragraphs
