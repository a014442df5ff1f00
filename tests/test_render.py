"""qa.render: hand-built answers, no model needed."""
from __future__ import annotations

import io
import re

import pytest

from qa.citations import number_citations
from qa.corpus import Document, Paragraph
from qa.errors import QAError
from qa.render import citations, render_answer, render_context, render_sources, use_color
from qa.types import Answer, Citation, Passage, Snippet

pytestmark = pytest.mark.unit

ESC = "\x1b"
A_PARAS = [
    "Shoigu arrived in Pyongyang on Tuesday.",
    "Russian Defence Minister Sergei Shoigu met his counterpart Kang Sun Nam in Pyongyang.",
    "The talks covered \x1b[31mmilitary\x1b[0m cooperation.",
]
B_PARAS = ["Intro.", "Kang Sun-nam, North Korea's defence minister, hosted Shoigu.", "x", "y",
           "Kang met Shoigu on Wednesday."]


def _doc(name: str, title: str, date: str | None, texts: list[str]) -> Document:
    paras = tuple(Paragraph(name, i, t) for i, t in enumerate(texts))
    return Document(name, title, date, None, None, paras)


class FakeIndex:
    """Just what render_sources / render_context use of qa.index.Index."""

    def __init__(self, *docs: Document):
        self.documents = list(docs)
        self.paragraphs = [p for d in docs for p in d.paragraphs]
        self._doc = [d for d in docs for _ in d.paragraphs]

    def find(self, doc, paragraph):
        for i, p in enumerate(self.paragraphs):
            if (p.doc, p.paragraph) == (doc, paragraph):
                return i
        return None

    def doc_of(self, row):
        return self._doc[row]


DOC_A = _doc("a.txt", "Shoigu visits Pyongyang", "2023-07-26", A_PARAS)
DOC_B = _doc("b.txt", "Defence chiefs meet", None, B_PARAS)
INDEX = FakeIndex(DOC_A, DOC_B)


def _snippet(doc: Document, paragraph: int, start: int = 0, end: int | None = None, also=(),
             short=None) -> Snippet:
    text = doc.paragraphs[paragraph].text
    end = len(text) if end is None else end
    return Snippet(text[start:end], Citation(doc.doc, paragraph, start, end, doc.title, doc.date), 1.0,
                   tuple(also), short)


def _cite(doc: Document, paragraph: int, start: int = 0, end: int | None = None) -> Citation:
    end = len(doc.paragraphs[paragraph].text) if end is None else end
    return Citation(doc.doc, paragraph, start, end, doc.title, doc.date)


def answered(short: bool = True) -> Answer:
    text1 = A_PARAS[1]
    k = text1.index("Kang Sun Nam")
    short_cite = Citation("a.txt", 1, k, k + len("Kang Sun Nam"), DOC_A.title, DOC_A.date)
    s1 = _snippet(DOC_A, 1, also=[_cite(DOC_B, 1)], short=short_cite if short else None)
    s2 = _snippet(DOC_B, 4)
    s3 = _snippet(DOC_A, 2)
    return Answer("Who did Shoigu meet?", "Kang Sun Nam" if short else s1.text, False, 0.8333,
                  [s1, s2, s3], [], short_cite if short else None)


def abstained() -> Answer:
    p = Passage("b.txt", 4, 0.2, B_PARAS[4], DOC_B.title, None)
    return Answer("What is the capital of France?", "", True, 0.12, [], [p], None)


# -- render_answer -------------------------------------------------------------------------------
def test_plain_has_no_escape_codes_and_all_parts():
    out = render_answer(answered(), color=False)
    assert ESC not in out
    lines = out.splitlines()
    assert lines[0] == "Kang Sun Nam"
    assert "“Russian Defence Minister Sergei Shoigu met his counterpart Kang Sun Nam in Pyongyang.” [1][2]" in out
    assert "“Kang met Shoigu on Wednesday.” [3]" in out
    assert "Sources" in lines
    assert "[1] Shoigu visits Pyongyang — 2023-07-26 — a.txt ¶1" in lines
    assert "[2] Defence chiefs meet — b.txt ¶1" in lines  # no date: no empty field
    assert "[3] Defence chiefs meet — b.txt ¶4" in lines
    assert "[4] Shoigu visits Pyongyang — 2023-07-26 — a.txt ¶2" in lines
    assert lines[-1] == "confidence 0.83"


def test_color_marks_short_answer_and_citations():
    out = render_answer(answered(), color=True)
    assert out.splitlines()[0] == "\x1b[1mKang Sun Nam\x1b[0m"
    assert "\x1b[36m[1]\x1b[0m\x1b[36m[2]\x1b[0m" in out
    assert "\x1b[2mconfidence 0.83\x1b[0m" in out
    # no white/black foregrounds (30, 37, 90, 97): they vanish on one of dark/light backgrounds
    codes = {c for m in re.findall(r"\x1b\[([\d;]*)m", out) for c in m.split(";")}
    assert not codes & {"30", "37", "90", "97"}
    # colour changes nothing but escape codes
    assert re.sub(r"\x1b\[[\d;]*m", "", out) == render_answer(answered(), color=False)


def test_no_bold_short_answer_without_short_answer():
    out = render_answer(answered(short=False), color=True)
    assert not out.startswith("\x1b[1m")
    assert out.startswith("“Russian Defence")


def test_document_control_characters_never_reach_the_terminal():
    for color in (False, True):
        out = render_answer(answered(), color=color)
        assert "\x1b[31m" not in out and "military" in out


def test_citation_numbering_shares_numbers_for_repeated_paragraphs():
    a = answered()
    dup = _snippet(DOC_B, 1, 0, 10)  # same paragraph as the corroboration [2]
    a2 = Answer(a.question, a.text, False, 0.5, [*a.snippets, dup], [], a.short_answer)
    out = render_answer(a2, color=False)
    assert "“Kang Sun-n” [2]" in out
    assert [(c.doc, c.paragraph) for c in citations(a2)] == [("a.txt", 1), ("b.txt", 1), ("b.txt", 4),
                                                              ("a.txt", 2)]
    assert out.count("b.txt ¶1") == 1


def test_numbering_is_plain_data_for_any_front_end():
    a = answered()
    sources, markers = number_citations(a)
    assert [(c.doc, c.paragraph) for c in sources] == [("a.txt", 1), ("b.txt", 1), ("b.txt", 4), ("a.txt", 2)]
    assert markers == [[1, 2], [3], [4]]  # snippet 1 and its corroboration, then one each
    assert all(isinstance(c, Citation) for c in sources)
    assert citations(a) == sources
    assert number_citations(abstained()) == ([], [])
    # a snippet corroborated by its own paragraph carries its number once
    s = _snippet(DOC_A, 1, also=[_cite(DOC_A, 1, 0, 5)])
    assert number_citations(Answer("q", s.text, False, 0.5, [s])).markers == [[1]]


def test_abstention():
    out = render_answer(abstained(), color=False)
    lines = out.splitlines()
    assert lines[0] == "Not in the documents."
    assert "closest passage: Defence chiefs meet — b.txt ¶4" in lines[1]
    assert "Sources" not in out and "[1]" not in out
    assert lines[-1] == "confidence 0.12"
    colored = render_answer(abstained(), color=True)
    assert "Not in the documents." in colored and "\x1b[2mclosest passage" in colored


def test_abstention_without_any_passage():
    out = render_answer(Answer("q", "", True, 0.0), color=False)
    assert out.splitlines() == ["Not in the documents.", "confidence 0.00"]


# -- use_color -----------------------------------------------------------------------------------
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_use_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(FakeTTY()) is True
    assert use_color(io.StringIO()) is False
    assert use_color(None) is False
    closed = io.StringIO()
    closed.close()  # isatty() raises ValueError
    assert use_color(closed) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(FakeTTY()) is False
    monkeypatch.setenv("NO_COLOR", "")  # any value, even empty
    assert use_color(FakeTTY()) is False


# -- sources and context -------------------------------------------------------------------------
def test_render_sources_plain_marks_quoted_span():
    out = render_sources(answered(), INDEX, color=False)
    assert ESC not in out
    assert "[1] Shoigu visits Pyongyang — 2023-07-26 — a.txt ¶1\n»Russian Defence" in out
    assert "[2] Defence chiefs meet — b.txt ¶1\n»Kang Sun-nam, North Korea's defence minister, hosted Shoigu.«" in out
    assert out.count("»") == 4


def test_render_sources_partial_span_and_color():
    s = _snippet(DOC_A, 1, 0, 24)
    a = Answer("q", s.text, False, 0.9, [s])
    assert "»Russian Defence Minister« Sergei Shoigu" in render_sources(a, INDEX, color=False)
    colored = render_sources(a, INDEX, color=True)
    assert "\x1b[1;4mRussian Defence Minister\x1b[0m Sergei Shoigu" in colored


def test_render_sources_missing_paragraph_and_no_answer():
    s = Snippet("gone", Citation("gone.txt", 3, 0, 4), 1.0)
    out = render_sources(Answer("q", "gone", False, 0.9, [s]), INDEX, color=False)
    assert "gone.txt ¶3" in out and "not in the open index" in out
    assert "No sources" in render_sources(abstained(), INDEX, color=False)


def test_render_context_neighbours_numbered():
    out = render_context(INDEX, "a.txt", 1, color=False)
    assert out.splitlines()[0] == "Shoigu visits Pyongyang — 2023-07-26 — a.txt ¶1"
    assert "¶0   Shoigu arrived" in out and "¶1 > Russian Defence" in out and "¶2   The talks" in out
    assert ESC not in out
    edge = render_context(INDEX, "b.txt", 0, color=False, around=2)
    assert "¶0 > Intro." in edge and "¶2" in edge and "¶3" not in edge
    alone = render_context(INDEX, "b.txt", 4, color=True, around=0)
    assert "\x1b[36m¶4\x1b[0m Kang met" in alone and "¶3" not in alone
    with pytest.raises(QAError):
        render_context(INDEX, "a.txt", 99, color=False)


def test_a_hard_wrapped_quote_is_shown_on_one_line():
    doc = _doc("w.txt", "Foobar", None, ["The new release of the Foobar server\nwas written by Alice."])
    s = _snippet(doc, 0)
    assert "\n" in s.text  # the citation keeps the exact text
    out = render_answer(Answer("Who wrote it?", s.text, False, 0.7, [s], [], None), color=False)
    assert "“The new release of the Foobar server was written by Alice.” [1]" in out.splitlines()


@pytest.mark.unit
def test_wrap_breaks_at_spaces_and_ignores_colour_codes():
    from qa.render import wrap
    text = "“The celebrations in Pyongyang lasted for three days and the minister met his counterpart.” \x1b[36m[1]\x1b[0m"
    out = wrap(text, 30)
    rows = out.split("\n")
    assert all(len(re.sub(r"\x1b\[[0-9;]*m", "", r)) <= 30 for r in rows)
    assert " ".join(re.sub(r"\x1b\[[0-9;]*m", "", out).split()) == " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())
    assert "celebrations" in out and "\x1b[36m[1]\x1b[0m" in out
    hanging = wrap("[2] " + "word " * 12, 24).split("\n")
    assert hanging[1].startswith("    word")  # continuation under the text, not the [2]
    assert wrap("short", 30) == "short" and wrap("a " * 40, 0) == "a " * 40  # 0: not a terminal
    assert wrap("x" * 50, 30) == "x" * 50  # a word longer than the width is left whole


# -- where in the original: page (PDF) or section (web page, Word, Markdown) -------------------
PDF_PARAS = (Paragraph("r.pdf", 0, "Title of the report", "headline", (), 1),
             Paragraph("r.pdf", 1, "It starts on page three and carries on over to page four.", "body", (), 3,
                       None, (30,)),
             Paragraph("r.pdf", 2, "All on page four.", "body", (), 4))
DOC_PDF = Document("r.pdf", "Annual report", "2024-03-01", None, None, PDF_PARAS)
DOC_WEB = Document("w.html", "Team page", None, None, None,
                   (Paragraph("w.html", 0, "Ines Kovacs | Treasurer", "body", (), None, "Contacts"),))


def test_citations_show_page_or_section():
    on4 = Citation("r.pdf", 1, 40, 50, DOC_PDF.title, DOC_PDF.date, page=4)
    web = Citation("w.html", 0, 0, 11, "Team page", None, section="Contacts")
    ans = Answer("q", "x", False, 0.9, [Snippet("over to page four."[:10], on4, 1.0, (web,))], [], None)
    lines = render_answer(ans, color=False).splitlines()
    assert "[1] Annual report — 2024-03-01 — r.pdf ¶1, p. 4" in lines
    assert "[2] Team page — w.html ¶0, § Contacts" in lines
    d = ans.to_dict()
    assert (d["snippets"][0]["page"], d["snippets"][0]["section"]) == (4, None)
    assert d["snippets"][0]["corroborated_by"][0]["section"] == "Contacts"
    assert _cite(DOC_A, 1).place == "" and on4.place == "p. 4" and web.place == "§ Contacts"


def test_open_shows_the_page_the_quote_starts_on():
    index = FakeIndex(DOC_PDF, DOC_WEB)
    assert PDF_PARAS[1].page_at(0) == 3 and PDF_PARAS[1].page_at(29) == 3 and PDF_PARAS[1].page_at(30) == 4
    head = render_context(index, "r.pdf", 1, color=False).splitlines()[0]
    assert head == "Annual report — 2024-03-01 — r.pdf ¶1, p. 3"
    assert render_context(index, "r.pdf", 1, color=False, at=40).splitlines()[0].endswith("¶1, p. 4")
    assert render_context(index, "w.html", 0, color=False).splitlines()[0] == "Team page — w.html ¶0, § Contacts"


def test_a_quote_shows_as_it_reads_and_its_json_marks_the_short_answer_there():
    text = 'Pass <code>--allow-dirty</code> to publish a [dirty](https://x.example/dirty "t") tree.'
    k = text.index("--allow-dirty")
    short = Citation("p.md", 0, k, k + len("--allow-dirty"), "P", None)
    s = Snippet(text, Citation("p.md", 0, 0, len(text), "P", None), 1.0, (), short)
    out = render_answer(Answer("Which flag?", "--allow-dirty", False, 0.9, [s], [], short), color=False)
    assert "“Pass --allow-dirty to publish a dirty tree.”" in out  # no tags, a link as its label
    shown = s.to_dict()["shown"]
    a, b = shown["short"]
    assert shown["text"][a:b] == "--allow-dirty" and s.to_dict()["text"] == text  # the source as stored
