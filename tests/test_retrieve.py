"""qa.retrieve on the seeds: paraphrases, the three retrievers, and page chrome never surfacing."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import AFP, FOX
from qa.lexical import BM25Index
from qa.retrieve import MODES, RETRIEVERS
from qa.types import Passage

pytestmark = pytest.mark.usefixtures("qa_isolated")


@pytest.fixture(scope="module")
def retrievers(seeds_qa):
    return {mode: RETRIEVERS[mode](seeds_qa.index) for mode in MODES}


@pytest.mark.parametrize("question, doc, needle", [
    ("Which Chinese official heads the delegation?", FOX, "Li Hongzhong"),
    ("What did North Korea fire in response to the submarine?", AFP, "ballistic and cruise missiles"),
    ("Which port did the American nuclear submarine dock at?", AFP, "Jeju Island"),
    ("What do China and North Korea share according to the spokeswoman?", FOX, "mountains and rivers"),
    ("Where did the Russian visitors place flowers?", FOX, "Liberation Monument"),
    ("Which monuments on a hill did the Russian minister visit?", AFP, "Mansu Hill"),
])
def test_paraphrased_question_finds_paragraph_in_top3_hybrid(retrievers, question, doc, needle):
    top = retrievers["hybrid"].retrieve(question, 3)
    assert [p for p in top if p.doc == doc and needle in p.text], \
        [(p.doc, p.paragraph, p.text[:60]) for p in top]


@pytest.mark.parametrize("mode", MODES)
def test_modes_return_passages_best_first(retrievers, seeds_qa, mode):
    idx = seeds_qa.index
    for q in ("Who will lead the Chinese delegation?", "What did North Korea fire?",
              "Where did Shoigu meet Kang Sun Nam?"):
        ps = retrievers[mode].retrieve(q, 5)
        assert 1 <= len(ps) <= 5
        assert all(isinstance(p, Passage) for p in ps)
        scores = [p.score for p in ps]
        assert scores == sorted(scores, reverse=True), scores
        assert len({(p.doc, p.paragraph) for p in ps}) == len(ps)
        for p in ps:
            par = idx.paragraphs[idx.row(*p.id)]
            assert (par.doc, par.paragraph, par.text) == (p.doc, p.paragraph, p.text)
            assert p.title == idx.doc_of(idx.row(*p.id)).title
            assert np.isfinite(p.score)
        d = ps[0].to_dict()
        assert set(d) == {"doc", "paragraph", "score", "text", "title", "date", "page", "section"}


def test_mode_scores_use_their_own_retriever(retrievers):
    q = "Which Chinese official heads the delegation?"
    bm = retrievers["bm25"].retrieve(q, 3)
    de = retrievers["dense"].retrieve(q, 3)
    hy = retrievers["hybrid"].retrieve(q, 3)
    assert all(p.score == p.bm25 and p.dense == 0.0 for p in bm)
    assert all(p.score == pytest.approx(p.dense) and p.bm25 == 0.0 for p in de)
    assert all(-1.0 <= p.dense <= 1.0 + 1e-6 for p in de)
    # fused scores are weighted sums of per-question normalised parts: at most w_bm25 + w_dense
    cfg = retrievers["hybrid"].index.config
    assert all(0.0 <= p.score <= cfg.w_bm25 + cfg.w_dense + 1e-6 for p in hy)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("question", [
    "Who is the writer for Fox News Digital?",
    "Timothy Nerozzi writer Fox News Digital follow him on Twitter",
    "FOX News Network LLC all rights reserved copyright",
])
def test_page_chrome_is_never_returned(retrievers, seeds_qa, mode, question):
    idx = seeds_qa.index
    kinds = {p.kind for p in idx.paragraphs}
    assert {"bio", "copyright"} <= kinds  # the seeds do hold chrome paragraphs
    ps = retrievers[mode].retrieve(question, len(idx.paragraphs))
    assert ps
    for p in ps:
        par = idx.paragraphs[idx.row(*p.id)]
        assert par.answerable, (par.kind, par.text[:80])
        assert "is a writer for Fox News Digital" not in p.text
        assert "All rights reserved" not in p.text


def test_k_zero_and_k_larger_than_corpus(retrievers, seeds_qa):
    n_answerable = sum(p.answerable for p in seeds_qa.index.paragraphs)
    for mode, r in retrievers.items():
        assert r.retrieve("Who will lead the Chinese delegation?", 0) == []
        ps = r.retrieve("Who will lead the Chinese delegation?", 1000)
        assert len(ps) <= n_answerable
        if mode != "bm25":
            assert len(ps) == n_answerable


def test_question_with_no_known_terms(retrievers):
    # no term matches: BM25 finds nothing (no crash); the hybrid still ranks by the dense side
    assert retrievers["bm25"].retrieve("zxqv wvut", 3) == []
    ps = retrievers["hybrid"].retrieve("zxqv wvut", 3)
    scores = [p.score for p in ps]
    assert scores == sorted(scores, reverse=True)


def test_lexical_index_idf_search_and_score():
    lex = BM25Index(["the comet passed the sun", "the harbour bridge reopened", "apple harvest"])
    s = lex.scores("comet")
    assert s[0] > 0 and s[1] == 0 and s[2] == 0
    from qa.text import terms
    seen = terms("the comet passed the sun the harbour bridge reopened apple harvest")
    assert all(t in lex.idf for t in seen) and "unseenterm" not in lex.idf
    assert lex.idf_of("unseenterm") >= max(lex.idf_of(t) for t in seen)
    assert lex.scores("").tolist() == [0.0, 0.0, 0.0]
    ids, scores = lex.search("comet harbour bridge", 5)
    assert ids.tolist() == [1, 0] and scores[0] > scores[1] > 0  # only matching rows, best first
    assert lex.score("comet harbour bridge", np.array([2, 0])).tolist() == [0.0, float(scores[1])]
    assert lex.search("", 5)[0].tolist() == []
