"""Tests of qa.corpus: parsing, paragraph numbering, page chrome, and bad input."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import AFP, FOX
from qa.corpus import parse_text, read_corpus, read_file
from qa.errors import QAError

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SQUAD = Path(__file__).resolve().parents[2] / "shared/eval/squad-v1.1/corpus"
FOX_HEADLINE = "North Korean, Russian defense ministers hold meeting in Pyongyang amid celebrations"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_bytes(data.encode("utf-8"))  # bytes: no newline translation
    return path


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def single(tmp_path: Path, raw: str | bytes, name: str = "a.txt"):
    write(tmp_path / name, raw)
    corpus = read_corpus(tmp_path)
    assert len(corpus.documents) == 1
    return corpus.documents[0]


def skipped_text(p) -> list[str]:
    return [p.text[s:e] for s, e in p.skip]


# --- headers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("lead", ["", " ", "  \t"])
def test_date_header(tmp_path, lead):
    doc = single(tmp_path, f"{lead}date 2023-07-26 Ministers meet in Pyongyang\n\nFirst para.\n\nSecond para.\n")
    assert doc.date == "2023-07-26"
    assert doc.title == "Ministers meet in Pyongyang"
    assert texts(doc) == ["First para.", "Second para."]
    assert [p.paragraph for p in doc.paragraphs] == [0, 1]


@pytest.mark.parametrize("lead", ["", " ", "\t "])
def test_title_header(tmp_path, lead):
    doc = single(tmp_path, f"{lead}title Warsaw\n\nWarsaw is the capital of Poland.\n")
    assert doc.title == "Warsaw"
    assert doc.date is None
    assert texts(doc) == ["Warsaw is the capital of Poland."]


def test_header_not_followed_by_blank_line(tmp_path):
    doc = single(tmp_path, "title Warsaw\nWarsaw is the capital of Poland.\n\nSecond.")
    assert doc.title == "Warsaw"
    assert texts(doc) == ["Warsaw is the capital of Poland.", "Second."]


def test_date_header_without_title_falls_back(tmp_path):
    doc = single(tmp_path, "date 2023-07-26\n\nThe ministers met on Wednesday in the capital.", name="my_story.txt")
    assert doc.date == "2023-07-26"
    assert doc.title == "my story"  # file stem, underscores as spaces
    assert texts(doc) == ["The ministers met on Wednesday in the capital."]


def test_no_header_first_line_is_paragraph_zero(tmp_path):
    doc = single(tmp_path, "The ministers met on Wednesday.\nThey spoke for an hour.\n\nLater they ate.")
    assert doc.date is None
    assert doc.paragraphs[0].paragraph == 0
    assert doc.paragraphs[0].text == "The ministers met on Wednesday.\nThey spoke for an hour."
    assert texts(doc) == ["The ministers met on Wednesday.\nThey spoke for an hour.", "Later they ate."]


def test_bom_is_dropped_before_header(tmp_path):
    doc = single(tmp_path, "\ufeffdate 2023-07-26 Title here\n\nBody text.")
    assert doc.date == "2023-07-26"
    assert doc.title == "Title here"
    assert texts(doc) == ["Body text."]


# --- line endings, blank lines, stripping, numbering ------------------------------------------

@pytest.mark.parametrize("nl", ["\r\n", "\r"])
def test_line_endings_normalised(tmp_path, nl):
    raw = nl.join(["date 2023-07-26 A title here", "", "Line one", "line two.", "", "Second para.", ""])
    doc = single(tmp_path, raw)
    assert doc.date == "2023-07-26"
    assert doc.title == "A title here"
    assert texts(doc) == ["Line one\nline two.", "Second para."]
    assert all("\r" not in p.text for p in doc.paragraphs)


def test_mixed_line_endings(tmp_path):
    doc = single(tmp_path, "title T x y\r\n\r\nOne.\r\rTwo.\n\nThree.")
    assert texts(doc) == ["One.", "Two.", "Three."]


def test_whitespace_only_lines_separate_paragraphs(tmp_path):
    raw = "title Title words\n\nFirst para.\n   \nSecond para.\n\t\nThird para.\n \t \nFourth para.\n\n\n\n  \n\nFifth."
    doc = single(tmp_path, raw)
    assert texts(doc) == ["First para.", "Second para.", "Third para.", "Fourth para.", "Fifth."]
    assert [p.paragraph for p in doc.paragraphs] == [0, 1, 2, 3, 4]


def test_inner_single_newlines_kept_and_text_stripped(tmp_path):
    raw = "title Title words\n\n   First line of para\n  second line, indented.   \n\n\tNext para.  \n"
    doc = single(tmp_path, raw)
    assert texts(doc) == ["First line of para\n  second line, indented.", "Next para."]


def test_parse_text_numbering_and_doc(tmp_path):
    doc = parse_text("x/y.txt", "title T a b\n\n\n\nA one.\n\n\n\nB two.\n\nC three.")
    assert doc.doc == "x/y.txt"
    assert [(p.doc, p.paragraph, p.text) for p in doc.paragraphs] == [
        ("x/y.txt", 0, "A one."), ("x/y.txt", 1, "B two."), ("x/y.txt", 2, "C three.")]
    assert [p.kind for p in doc.paragraphs] == ["body"] * 3


# --- folder walking ---------------------------------------------------------------------------

def test_recursive_relative_paths_and_suffixes(tmp_path):
    write(tmp_path / "top.txt", "Top level text.")
    write(tmp_path / "a" / "b" / "deep.md", "Deep markdown text.")
    write(tmp_path / "a" / "mid.TXT", "Upper-case suffix text.")
    write(tmp_path / "a" / "notes.rst", "Read as text.")
    write(tmp_path / "a" / "more.markdown", "Read as text too.")
    write(tmp_path / "a" / "data.json", '{"x": 1}')
    write(tmp_path / "img.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(tmp_path / "NEWS", "An extension-less text file is read.")
    write(tmp_path / "program", b"\x7fELF\x00\x01\x02")  # extension-less, not text
    write(tmp_path / "Makefile", "all:\n\techo hi\n")
    write(tmp_path / ".hidden.txt", "Hidden file.")
    write(tmp_path / ".git" / "x.txt", "Hidden folder.")
    corpus = read_corpus(tmp_path)
    assert sorted(d.doc for d in corpus.documents) == [
        "NEWS", "a/b/deep.md", "a/mid.TXT", "a/more.markdown", "a/notes.rst", "top.txt"]
    deep = next(d for d in corpus.documents if d.doc == "a/b/deep.md")
    assert all(p.doc == "a/b/deep.md" for p in deep.paragraphs)
    assert corpus.n_paragraphs == 6
    # what is not read is reported once, grouped by kind, hidden files not at all
    assert corpus.ignored == ("Makefile", "a/data.json", "img.png", "program")
    (group,) = corpus.skipped
    assert group.path == "4 files qa does not read"
    assert group.reason == "no extension x2, .json x1, .png x1"
    assert group.paths == corpus.ignored


def test_many_ignored_files_are_one_grouped_line(tmp_path):
    write(tmp_path / "doc.txt", "Text.")
    for i in range(16):
        write(tmp_path / "docs" / f"book{i}.epub", b"PK\x03\x04")
    write(tmp_path / "a.odt", b"PK\x03\x04")
    write(tmp_path / "b.ODT", b"PK\x03\x04")
    write(tmp_path / "questions.jsonl", "{}")  # excluded at the top, not reported
    corpus = read_corpus(tmp_path)
    assert [(s.path, s.reason) for s in corpus.skipped] == [("18 files qa does not read", ".epub x16, .odt x2")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can read a chmod 000 folder")
def test_unreadable_folder_is_reported(tmp_path):
    write(tmp_path / "good.txt", "Fine.")
    locked = tmp_path / "private"
    write(locked / "secret.txt", "Secret.")
    locked.chmod(0)
    try:
        corpus = read_corpus(tmp_path)
    finally:
        locked.chmod(0o755)
    (s,) = corpus.skipped
    assert s.path == "private/" and s.reason.startswith("unreadable folder")


def test_unreadable_folder_is_reported_by_walk(tmp_path, monkeypatch):
    """The same through os.walk's error callback, so it also runs as root."""
    import qa.corpus as corpus_mod
    write(tmp_path / "good.txt", "Fine.")
    real_walk = os.walk

    def walk(top, onerror=None, **kw):
        yield from real_walk(top, onerror=onerror, **kw)
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "private")))

    monkeypatch.setattr(corpus_mod.os, "walk", walk)
    (s,) = read_corpus(tmp_path).skipped
    assert (s.path, s.reason) == ("private/", "unreadable folder (Permission denied)")


@pytest.mark.parametrize("raw, title", [
    ("# Team notes\n\nWe met on Monday.", "Team notes"),
    ('<p align="center"><img src="logo.png" alt="Zstandard"></p>\n\n__Zstandard__ is a fast '
     'compressor.\n\n## Benchmarks\n\nFast.', "my notes"),
    ("Release notes\n=============\n\nThe body.", "Release notes"),
    ("**Release notes** for [Foobar](https://example.org)\n\nThe body here.", "Release notes for Foobar"),
    ("Some body sentence first.\n\n# The Real Title\n\nMore.", "The Real Title"),
    ("A plain sentence opens the file.\n\n## Section\n\nMore.", "my notes"),
])
def test_titles_without_a_header_strip_markup(tmp_path, raw, title):
    assert single(tmp_path, raw, name="my_notes.md").title == title


def test_root_readme_and_questions_excluded(tmp_path):
    write(tmp_path / "README.md", "About this corpus.")
    write(tmp_path / "article.txt", "Real content.")
    write(tmp_path / "sub" / "README.md", "A nested readme is a document.")
    corpus = read_corpus(tmp_path)
    assert sorted(d.doc for d in corpus.documents) == ["article.txt", "sub/README.md"]


def test_sha256_set(tmp_path):
    import hashlib
    data = "Some text.".encode()
    write(tmp_path / "a.txt", data)
    doc = read_corpus(tmp_path).documents[0]
    assert doc.sha256 == hashlib.sha256(data).hexdigest()


# --- the seeds --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeds():
    if not SEEDS.is_dir():
        pytest.skip("seeds folder missing")
    corpus = read_corpus(SEEDS)
    return {d.doc: d for d in corpus.documents}, corpus


def test_seeds_read(seeds):
    docs, corpus = seeds
    assert set(docs) == {AFP, FOX}
    assert corpus.skipped == ()
    assert len(docs[AFP].paragraphs) == 8
    assert len(docs[FOX].paragraphs) == 18


def test_fox_title_is_headline_not_ui(seeds):
    fox = seeds[0][FOX]
    assert fox.title == FOX_HEADLINE
    assert fox.title != "Expand / Collapse search"
    assert fox.date == "2023-07-26"


def test_fox_author_and_outlet(seeds):
    fox = seeds[0][FOX]
    assert fox.author == "Timothy H.J. Nerozzi"
    assert fox.outlet == "Fox News"


def test_fox_copyright_paragraph(seeds):
    p0 = seeds[0][FOX].paragraphs[0]
    assert p0.paragraph == 0
    assert p0.text == "©2023 FOX News Network, LLC. All rights reserved."
    assert p0.kind == "copyright"
    assert not p0.answerable


def test_fox_headlines(seeds):
    fox = seeds[0][FOX]
    assert fox.paragraphs[1].text == FOX_HEADLINE
    assert fox.paragraphs[1].kind == "headline"
    assert fox.paragraphs[1].answerable


def test_fox_bio_not_answerable(seeds):
    bio = seeds[0][FOX].paragraphs[-1]
    assert bio.text.startswith("Timothy Nerozzi is a writer for Fox News Digital.")
    assert bio.kind == "bio"
    assert not bio.answerable


def test_fox_byline_range_in_skip(seeds):
    p = seeds[0][FOX].paragraphs[3]
    assert p.text.startswith("By Timothy H.J. Nerozzi | Fox News\nThe defense chiefs")
    assert p.answerable
    assert skipped_text(p) == ["By Timothy H.J. Nerozzi | Fox News"]
    rest = p.text[p.skip[-1][1]:].strip()
    assert rest.startswith("The defense chiefs of Russia and North Korea came together on Wednesday")


def test_fox_captions_credit_skipped(seeds):
    fox = seeds[0][FOX]
    captions = [p for p in fox.paragraphs if p.kind == "caption"]
    assert [p.paragraph for p in captions] == [5, 8, 11, 14]
    for p in captions:
        assert p.answerable
        (s, e), = p.skip
        assert e == len(p.text)
        assert "Getty Images" in p.text[s:e] and p.text[s:e].strip().startswith("(")
        kept = p.text[:s]
        assert "Getty" not in kept and "Handout" not in kept
        assert kept.startswith("Russian Defense Minister Sergei Shoigu")
        assert "July 26, 2023." in kept
    assert "Liberation Monument" in captions[-1].text[:captions[-1].skip[0][0]]


def test_afp_captions_credit_line_skipped(seeds):
    afp = seeds[0][AFP]
    assert afp.title.startswith("Russia's Defence Minister Sergei Shoigu says")
    captions = [p for p in afp.paragraphs if p.kind == "caption"]
    assert [p.paragraph for p in captions] == [2, 5]
    for p in captions:
        assert p.answerable
        assert skipped_text(p) == ["Handout / Russian Defence Ministry / AFP "]
        assert p.text[p.skip[0][1]:].startswith("This handout picture taken on July 26, 2023")
    assert all(p.kind == "body" for p in afp.paragraphs if p.paragraph not in (2, 5))


def test_seed_citation_offsets(seeds):
    p = seeds[0][FOX].paragraphs[15]
    i = p.text.index("Li Hongzhong")
    assert p.text[i:i + len("Li Hongzhong")] == "Li Hongzhong"
    assert (p.doc, p.paragraph) == (FOX, 15)


# --- bad input --------------------------------------------------------------------------------

def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


def test_missing_folder(tmp_path):
    with pytest.raises(QAError) as e:
        read_corpus(tmp_path / "nope")
    assert "not found" in one_line(e)


def test_root_is_a_file(tmp_path):
    f = write(tmp_path / "a.txt", "Text.")
    with pytest.raises(QAError) as e:
        read_corpus(f)
    assert "not a folder" in one_line(e)


def test_empty_folder(tmp_path):
    with pytest.raises(QAError) as e:
        read_corpus(tmp_path)
    assert "no usable" in one_line(e)


def test_folder_with_only_other_suffixes(tmp_path):
    write(tmp_path / "a.epub", b"PK\x03\x04")
    write(tmp_path / "b.odt", b"PK\x03\x04")
    with pytest.raises(QAError) as e:
        read_corpus(tmp_path)
    assert "no usable" in one_line(e)


def test_folder_with_only_a_broken_pdf_and_an_empty_page(tmp_path):
    """A .pdf and a .html are read now: when neither holds text the error names why."""
    write(tmp_path / "a.pdf", b"%PDF-1.4")
    write(tmp_path / "b.html", "<p>x</p>")
    with pytest.raises(QAError) as e:
        read_corpus(tmp_path)
    msg = one_line(e)
    assert "no usable documents" in msg and "2 skipped: a.pdf: not a readable PDF" in msg


BAD = {
    "binary.txt": (b"Looks like text\x00\x01\x02 but is not", "binary"),
    "latin1.txt": ("Caf\u00e9 cr\u00e8me au lait.".encode("latin-1"), "UTF-8"),
    "header_only.md": (b"date 2023-07-26 Only a header\n\n   \n\t\n\n", "no paragraphs"),
    "blank.txt": (b"\n \n\t\n", "no paragraphs"),
}


def test_bad_files_skipped_good_files_read(tmp_path):
    write(tmp_path / "good.txt", "title Good one\n\nA good paragraph.")
    write(tmp_path / "sub" / "good2.md", "Another good paragraph.")
    for name, (data, _) in BAD.items():
        write(tmp_path / "bad" / name, data)
    corpus = read_corpus(tmp_path)
    assert sorted(d.doc for d in corpus.documents) == ["good.txt", "sub/good2.md"]
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert set(reasons) == {f"bad/{n}" for n in BAD}
    for name, (_, why) in BAD.items():
        assert why in reasons[f"bad/{name}"], reasons
        assert "\n" not in reasons[f"bad/{name}"]


@pytest.mark.parametrize("name", sorted(BAD))
def test_read_file_raises_reason(tmp_path, name):
    data, why = BAD[name]
    path = write(tmp_path / name, data)
    with pytest.raises(QAError) as e:
        read_file(tmp_path, path, 10_000_000)
    assert why in one_line(e)


def test_latin1_reports_offset(tmp_path):
    write(tmp_path / "good.txt", "Fine.")
    write(tmp_path / "l.txt", "Caf\u00e9".encode("latin-1"))
    (s,) = read_corpus(tmp_path).skipped
    assert s.path == "l.txt"
    assert s.reason == "not UTF-8 (bad byte at offset 3)"


def test_too_large_skipped(tmp_path):
    write(tmp_path / "small.txt", "Small.")
    write(tmp_path / "big.txt", "word " * 400)  # 2000 bytes > 1000-byte limit
    corpus = read_corpus(tmp_path, max_file_mb=0.001)
    assert [d.doc for d in corpus.documents] == ["small.txt"]
    (s,) = corpus.skipped
    assert s.path == "big.txt"
    assert s.reason.startswith("too large")
    # Under the default 10 MB limit the same file is fine.
    assert len(read_corpus(tmp_path).documents) == 2


def test_only_bad_files_raise(tmp_path):
    for name, (data, _) in BAD.items():
        write(tmp_path / name, data)
    with pytest.raises(QAError) as e:
        read_corpus(tmp_path)
    msg = one_line(e)
    assert "no usable" in msg and f"{len(BAD)} skipped" in msg


def test_only_too_large_raise(tmp_path):
    write(tmp_path / "big.txt", "word " * 400)
    with pytest.raises(QAError) as e:
        read_corpus(tmp_path, max_file_mb=0.001)
    assert "too large" in one_line(e)


def test_broken_symlink_reported(tmp_path):
    write(tmp_path / "good.txt", "Fine.")
    try:
        os.symlink(tmp_path / "missing-target.txt", tmp_path / "dangling.txt")
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not supported")
    corpus = read_corpus(tmp_path)
    assert [d.doc for d in corpus.documents] == ["good.txt"]
    (s,) = corpus.skipped
    assert s.path == "dangling.txt" and s.reason.startswith("unreadable")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can read a chmod 000 file")
def test_unreadable_file_skipped(tmp_path):
    write(tmp_path / "good.txt", "Fine.")
    bad = write(tmp_path / "locked.txt", "Secret.")
    bad.chmod(0)
    try:
        corpus = read_corpus(tmp_path)
    finally:
        bad.chmod(0o644)
    assert [d.doc for d in corpus.documents] == ["good.txt"]
    (s,) = corpus.skipped
    assert s.path == "locked.txt"
    assert s.reason.startswith("unreadable")


# --- chrome false positives (suspected bugs; see reasons) -------------------------------------

def test_header_title_starting_with_ui_word_kept(tmp_path):
    doc = single(tmp_path, "date 2023-01-01 Home Office tightens visa rules\n\n"
                           "The Home Office said on Monday it would tighten the rules.", name="a_b.txt")
    assert doc.title == "Home Office tightens visa rules"


def test_sentence_starting_with_by_is_not_byline(tmp_path):
    doc = single(tmp_path, "title Storm passes\n\nBy Friday, most shops had reopened.\n\nThe mayor thanked crews.")
    assert doc.paragraphs[0].answerable
    assert doc.author is None


def test_sentence_about_copyright_is_body(tmp_path):
    doc = single(tmp_path, "title AI and the law\n\nCopyright lawsuits against AI firms are mounting.")
    assert doc.paragraphs[0].answerable
    assert doc.outlet is None


def test_sentence_with_email_is_body(tmp_path):
    doc = single(tmp_path, "title Phishing wave\n\nThe hackers used admin@example.com to send phishing emails.")
    assert doc.paragraphs[0].answerable


# --- SQuAD corpus -----------------------------------------------------------------------------

@pytest.mark.skipif(not SQUAD.is_dir(), reason="SQuAD corpus not present")
def test_squad_corpus():
    corpus = read_corpus(SQUAD)
    assert len(corpus.documents) == 19
    assert corpus.n_paragraphs == 829
    assert corpus.skipped == ()
    warsaw = next(d for d in corpus.documents if d.doc == "Warsaw.txt")
    assert warsaw.title == "Warsaw"
    assert warsaw.paragraphs[0].text.startswith("One of the most famous people born in Warsaw")
    assert all(p.answerable for d in corpus.documents for p in d.paragraphs)


# --- re-scanning against a store: known identities and the stat cache ---------------------------

def _count_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = Path.read_bytes

    def counting(self):
        reads.append(self.name)
        return real(self)
    monkeypatch.setattr(Path, "read_bytes", counting)
    return reads


def _forbid_parsing(monkeypatch):
    import qa.corpus as corpus

    def boom(*a, **k):
        raise AssertionError("an unchanged file was parsed")
    monkeypatch.setattr(corpus, "parse_text", boom)
    monkeypatch.setattr(corpus, "document_from", boom)


def test_known_files_are_hashed_but_not_parsed(tmp_path, monkeypatch):
    write(tmp_path / "a.txt", "title A\n\nThe ferry left at noon.")
    write(tmp_path / "b.txt", "title B\n\nThe bridge opened in May.")
    first = read_corpus(tmp_path)
    known = {d.doc: d.sha256 for d in first.documents}
    assert first.unchanged == frozenset()
    _forbid_parsing(monkeypatch)
    again = read_corpus(tmp_path, known=known)
    assert again.unchanged == {"a.txt", "b.txt"}
    assert {d.doc: d.sha256 for d in again.documents} == known
    assert all(d.paragraphs == () for d in again.documents)


def test_a_changed_known_file_is_parsed(tmp_path):
    write(tmp_path / "a.txt", "title A\n\nThe ferry left at noon.")
    known = {d.doc: d.sha256 for d in read_corpus(tmp_path).documents}
    write(tmp_path / "a.txt", "title A\n\nThe ferry left at dawn.")
    again = read_corpus(tmp_path, known=known)
    assert again.unchanged == frozenset()
    assert [p.text for p in again.documents[0].paragraphs] == ["The ferry left at dawn."]


def test_stat_cache_skips_reading_settled_files(tmp_path, monkeypatch):
    import qa.corpus as corpus
    monkeypatch.setattr(corpus, "RACY_NS", 0)  # these files were written just now: trust them anyway
    write(tmp_path / "a.txt", "title A\n\nThe ferry left at noon.")
    write(tmp_path / "b.txt", "title B\n\nThe bridge opened in May.")
    first = read_corpus(tmp_path)
    known = {d.doc: d.sha256 for d in first.documents}
    assert set(first.seen) == {"a.txt", "b.txt"}
    assert first.seen["a.txt"].sha256 == known["a.txt"]
    reads = _count_reads(monkeypatch)
    again = read_corpus(tmp_path, known=known, seen=first.seen)
    assert reads == [] and again.unchanged == {"a.txt", "b.txt"}
    assert dict(again.seen) == dict(first.seen)


def test_same_size_edit_with_mtime_put_back_is_still_seen(tmp_path, monkeypatch):
    """An edit that keeps the size and restores the mtime (as `touch -r` or a careless sync
    would) changes the ctime, so the file is read again."""
    import qa.corpus as corpus
    monkeypatch.setattr(corpus, "RACY_NS", 0)
    path = write(tmp_path / "a.txt", "title A\n\nThe ferry left at noon.")
    first = read_corpus(tmp_path)
    known = {d.doc: d.sha256 for d in first.documents}
    info = path.stat()
    time.sleep(0.01)
    write(path, "title A\n\nThe ferry left at nine.")  # same length
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns
    again = read_corpus(tmp_path, known=known, seen=first.seen)
    assert again.unchanged == frozenset()
    assert [p.text for p in again.documents[0].paragraphs] == ["The ferry left at nine."]


def test_files_changed_just_now_are_not_remembered(tmp_path):
    """A file written within RACY_NS of the scan could change again within the same timestamp
    tick, unnoticed by stat: it is hashed again next time rather than trusted."""
    write(tmp_path / "a.txt", "title A\n\nThe ferry left at noon.")
    assert dict(read_corpus(tmp_path).seen) == {}


def test_a_wrong_stat_cache_entry_costs_a_read_not_a_wrong_answer(tmp_path, monkeypatch):
    import qa.corpus as corpus
    from qa.seen import Seen
    monkeypatch.setattr(corpus, "RACY_NS", 0)
    path = write(tmp_path / "a.txt", "title A\n\nThe ferry left at noon.")
    first = read_corpus(tmp_path)
    known = {d.doc: d.sha256 for d in first.documents}
    info = path.stat()
    stale = {"a.txt": Seen((info.st_size + 1, info.st_mtime_ns, info.st_ctime_ns, info.st_ino), "0" * 64)}
    reads = _count_reads(monkeypatch)
    again = read_corpus(tmp_path, known=known, seen=stale)
    assert reads == ["a.txt"] and again.unchanged == {"a.txt"}
    assert again.seen["a.txt"].sha256 == known["a.txt"]
