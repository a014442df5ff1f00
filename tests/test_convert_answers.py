"""Acceptance: documents as people keep them answer like the plain-text seeds.

The two seed articles rendered as saved news pages (navigation, sidebar, footer) and as
two-page PDFs (running header, page numbers, a paragraph over the page break) are indexed
and asked seed questions: the answers are those of the .txt seeds, cited with section or
page; a Word file with a heading and a table answers from both. Built with the real model
(the index is embedded), read with the rules reader, which is deterministic and quick.
"""
from __future__ import annotations

import json

import pytest

from conftest import AFP, FOX, SEED_QUESTIONS, SEEDS_PATH, quiet
from makedocs import make_docx, seed_html, seed_pdf
from qa.config import Config

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("qa_isolated")]
pytest.importorskip("fpdf", reason="the test extra (fpdf2) makes the PDFs")

# from both articles, and two the seeds cannot answer
QUESTION_IDS = {f"seed-{n:02d}" for n in (1, 2, 3, 4, 6, 8, 10, 14, 19, 21, 22, 23, 25, 28, 43, 47)}


def questions() -> list[dict]:
    rows = [json.loads(line) for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["id"] in QUESTION_IDS]


def norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def open_qa(corpus, store):
    from qa.pipeline import QA
    return QA(corpus, store=store, config=Config(), notice=quiet, reader="rules")


@pytest.fixture(scope="module")
def txt_answers(seeds_store_dir):
    """The .txt seeds' answers, asked once for both converted corpora."""
    qa = open_qa(SEEDS_PATH, seeds_store_dir)
    return {q["question"]: qa.ask(q["question"]) for q in questions()}


def converted(tmp_path_factory, kind: str):
    root = tmp_path_factory.mktemp(f"seeds-{kind}")
    make = seed_html if kind == "html" else seed_pdf
    for seed in (AFP, FOX):
        (root / seed.replace(".txt", f".{kind}")).write_bytes(make(seed))
    return open_qa(root, tmp_path_factory.mktemp(f"store-{kind}"))


@pytest.fixture(scope="module")
def html_qa(tmp_path_factory, embedder):
    return converted(tmp_path_factory, "html")


@pytest.fixture(scope="module")
def pdf_qa(tmp_path_factory, embedder):
    return converted(tmp_path_factory, "pdf")


def check_citations(qa, ans):
    """The citation contract: paragraph[start:end] is the quote, for every snippet."""
    for s in ans.snippets:
        p = qa.index.paragraphs[qa.index.row(s.doc, s.paragraph)]
        assert p.text[s.start:s.end] == s.text


@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_converted_seeds_answer_like_the_text_seeds(request, txt_answers, kind):
    qa = request.getfixturevalue(f"{kind}_qa")
    assert len(qa.index.documents) == 2 and not qa.index.skipped
    qs = questions()
    assert len(qs) >= 8
    same = 0
    for q in qs:
        want = txt_answers[q["question"]]
        got = qa.ask(q["question"])
        check_citations(qa, got)
        assert got.abstained == want.abstained, q["question"]
        if got.abstained:
            continue
        assert norm(got.text) == norm(want.text), q["question"]
        same += 1
        first = got.snippets[0].citation
        assert first.doc.rsplit(".", 1)[0] == want.snippets[0].doc.rsplit(".", 1)[0]
        if kind == "pdf":
            p = qa.index.paragraphs[qa.index.row(first.doc, first.paragraph)]
            assert first.page in (1, 2) and first.page == p.page_at(first.start)
        else:
            assert first.section
        d = got.to_dict()
        assert d["snippets"][0]["page" if kind == "pdf" else "section"] is not None
        assert all(("page" in p and "section" in p) for p in d["passages"])
    assert same >= 6


def test_docx_answers_from_paragraph_and_table(tmp_path, embedder):
    pytest.importorskip("docx")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bridge.docx").write_bytes(make_docx([
        ("heading", "Harbour bridge reopens"),
        ("p", "The old harbour bridge in Marlow reopened on Tuesday after eight months of repairs."),
        ("p", "Engineers replaced forty steel cables and repainted the northern arch."),
        ("heading", "Project team"),
        ("table", [["Name", "Role", "Joined"], ["Ines Kovacs", "Mayor of Marlow", "2019"],
                   ["Tomas Berg", "Chief engineer of the bridge works", "2021"]]),
    ], title="Bridge news"))
    qa = open_qa(corpus, tmp_path / "store")
    ans = qa.ask("When did the harbour bridge in Marlow reopen?")
    assert not ans.abstained and "Tuesday" in ans.snippets[0].text
    assert ans.snippets[0].citation.section == "Harbour bridge reopens"
    check_citations(qa, ans)
    ans = qa.ask("Who is the chief engineer of the bridge works?")
    assert not ans.abstained
    assert ans.snippets[0].text.startswith("Tomas Berg | Chief engineer")
    assert ans.snippets[0].citation.section == "Project team"
    check_citations(qa, ans)


def test_ask_prints_page_and_section(capsys, tmp_path, embedder, monkeypatch):
    from qa.cli import main
    monkeypatch.setenv("QA_ANSWERER", "rules")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fox.pdf").write_bytes(seed_pdf(FOX))
    (corpus / "afp.html").write_bytes(seed_html(AFP))
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4 broken")
    code = main(["ask", "Who will lead the Chinese delegation?", "--corpus", str(corpus),
                 "--store", str(tmp_path / "store")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "fox.pdf ¶" in out and ", p. 2" in out
    assert "qa: skipped scan.pdf: not a readable PDF (corrupt or truncated)" in err.splitlines()
    assert "Traceback" not in err
    code = main(["ask", "Who did Shoigu meet in Pyongyang?", "--corpus", str(corpus),
                 "--store", str(tmp_path / "store")])
    out, _ = capsys.readouterr()
    assert "afp.html ¶" in out and ", § " in out
