"""qa.reader: the trained reader's short answers are exact spans inside the first quote; what it
reads (passages or windows) and which quote leads; a checkout without the adapter falls back to
the rules reader."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import FOX, REPO_ROOT, SEEDS_PATH
from qa import reader as reader_mod
from qa.rules import RulesReader
from qa.byline import BylineReader

pytestmark = pytest.mark.usefixtures("qa_isolated")


@pytest.fixture(scope="module")
def reader_qa(seeds_store_dir):
    from qa.config import Config
    from qa.pipeline import QA
    return QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), reader="reader", notice=lambda m: None)


def test_reader_is_the_default_stage(reader_qa):
    assert isinstance(reader_qa.reader, BylineReader)
    assert isinstance(reader_qa.reader.inner, reader_mod.ModelReader)


def test_short_answers_are_exact_spans_inside_the_first_quote(reader_qa, seed_questions):
    idx = reader_qa.index
    n_short = 0
    for q in seed_questions:
        ans = reader_qa.ask(q.question)
        for s in ans.snippets:
            assert idx.paragraphs[idx.row(s.doc, s.paragraph)].text[s.start:s.end] == s.text
        if ans.short_answer is not None:
            n_short += 1
            sa, first = ans.short_answer, ans.snippets[0]
            assert idx.paragraphs[idx.row(sa.doc, sa.paragraph)].text[sa.start:sa.end] == ans.text
            assert (sa.doc, sa.paragraph) == (first.doc, first.paragraph)
            assert first.start <= sa.start < sa.end <= first.end
        assert 0.0 <= ans.confidence <= 1.0
    assert n_short >= len(seed_questions) // 2


@pytest.mark.parametrize("question, doc, needle", [
    ("Who will lead the Chinese delegation?", FOX, "Li Hongzhong"),
    pytest.param("Who headed the Chinese delegation?", FOX, "Li Hongzhong", marks=pytest.mark.xfail(
        reason="the trained reader quotes the right sentence first and reads 'Li Hongzhong' in it, but "
               "'headed' is a word the corpus never uses (against 'will be led by'), so the question "
               "reads as off topic: confidence 0.06 (issue 19)", strict=False)),
    # Mao Ning stands in the second window: read because its sentence scores within
    # `reader_window_gap` of the best one (one window took 'Li Hongzhong')
    ("What is the name of the Chinese Foreign Ministry spokeswoman?", FOX, "Mao Ning"),
])
def test_reader_pins_the_short_answer(reader_qa, question, doc, needle):
    ans = reader_qa.ask(question)
    assert ans.short_answer is not None and ans.short_answer.doc == doc, (ans.text, ans.confidence)
    assert needle in ans.text, (ans.text, ans.snippets[0].text)


def test_reader_less_fallback(seeds_store_dir, monkeypatch):
    """Without the adapter files the 'reader' answerer is the rules reader, and answers."""
    from qa.config import Config
    from qa.pipeline import QA
    monkeypatch.setattr(reader_mod, "available", lambda *a: False)
    bot = QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), reader="reader", notice=lambda m: None)
    assert isinstance(bot.reader.inner, RulesReader)
    ans = bot.ask("Who will lead the Chinese delegation?")
    assert "Li Hongzhong" in ans.text + ans.snippets[0].text


def test_help_and_bad_input_do_not_load_the_reader():
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "ask", "  "], cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "safetensors" not in r.stderr and "transformers" not in r.stderr


# -- what it reads, and which quote leads --------------------------------------------------------------

def _parts(reader_qa, question: str, **config):
    from dataclasses import replace
    reader = reader_mod.ModelReader(reader_qa.index, replace(reader_qa.config, **config))
    qvec = reader_qa.index.embedder.encode_query(question)
    passages = reader_qa.retriever.retrieve(question, 5, qvec=qvec)
    an = reader.scorer.analyse(question, passages, qvec)
    return reader, passages, an


@pytest.mark.parametrize("n", [1, 2, 4])
def test_windows_are_a_sentence_and_its_neighbours_around_the_best_sentences(reader_qa, n):
    reader, passages, an = _parts(reader_qa, "Who will lead the Chinese delegation?", reader_windows=n)
    pieces = reader.pieces(an, passages)
    idx = reader_qa.index
    assert 1 <= len(pieces) <= n
    best = an.cands[0]
    assert any(p.row == best.pi and p.start <= best.start and best.end <= p.end for p in pieces)
    for p in pieces:
        spans = idx.sentence_spans[list(idx.sentence_rows(p.row))]
        starts, ends = [int(a) for _, a, _ in spans], [int(b) for _, _, b in spans]
        assert p.start in starts and p.end in ends  # whole sentences
        assert ends.index(p.end) - starts.index(p.start) + 1 <= 3  # never merged into a longer text
    # every window after the first is around a sentence that no earlier window holds
    def held(p):
        return {(c.pi, c.start) for c in an.cands if c.pi == p.row and p.start <= c.start and c.end <= p.end}
    for k, p in enumerate(pieces):
        assert held(p) - set().union(*(held(q) for q in pieces[:k]))


def test_a_further_window_only_for_a_near_tie(reader_qa):
    _, passages, an = _parts(reader_qa, "Who will lead the Chinese delegation?")
    top = an.cands[0].score
    later = [c.score for c in an.cands[1:] if top - c.score > 0]
    assert later, "the question should have sentences scored below the best"
    gap = (top - max(later)) / 2  # no other sentence within it
    reader, passages, an = _parts(reader_qa, "Who will lead the Chinese delegation?", reader_windows=4,
                                  reader_window_gap=gap)
    assert len(reader.pieces(an, passages)) == 1
    reader, passages, an = _parts(reader_qa, "Who will lead the Chinese delegation?", reader_windows=4,
                                  reader_window_gap=float("inf"))
    assert len(reader.pieces(an, passages)) > 1


def test_whole_passages_when_windows_are_off(reader_qa):
    reader, passages, an = _parts(reader_qa, "Who will lead the Chinese delegation?", reader_windows=0,
                                  reader_passages=2)
    assert reader.pieces(an, passages) == [reader_mod.Piece(p.row, 0, len(p.text)) for p in passages[:2]]


@pytest.mark.parametrize("question", ["Who will lead the Chinese delegation?", "Who did Shoigu meet in Pyongyang?",
                                      "What is the name of the Chinese Foreign Ministry spokeswoman?"])
def test_the_lead_weighs_the_span_against_the_sentence_score(reader_qa, question):
    """w_span 0: the best-scored sentence leads (as the rules reader quotes it); a large w_span:
    the sentence holding the best span leads; either way a short answer lies inside the first quote."""
    import numpy as np
    reader, passages, an = _parts(reader_qa, question, w_span=0.0)
    pieces = reader.pieces(an, passages)
    spans = reader.spans_of(question, pieces)
    flat = reader.reading(an, pieces, spans)
    assert (flat.snippets[0].start, flat.snippets[0].end) == reader.scorer.widen(an.cands[0])
    big, _, _ = _parts(reader_qa, question, w_span=1e6)
    strong = big.reading(an, pieces, spans)
    best = max(range(len(spans)), key=lambda i: spans[i].score)
    first, par = strong.snippets[0], reader_qa.index.paragraphs[pieces[best].row]
    assert np.isfinite(spans[best].score)
    assert (first.doc, first.paragraph) == (par.doc, par.paragraph)
    assert first.start <= spans[best].start and spans[best].end <= first.end
    for r in (flat, strong):
        if r.short is not None:
            s0 = r.snippets[0]
            assert (r.short.doc, r.short.paragraph) == (s0.doc, s0.paragraph)
            assert s0.start <= r.short.start < r.short.end <= s0.end


def test_the_confidence_model_is_the_one_fitted_for_the_entity_setting(reader_qa):
    """spaCy's features are off by default (QA_NER=1 turns them on); each setting reads the
    confidence model fitted on the same path (bench/fit_confidence.py)."""
    from dataclasses import replace
    from qa import ner, weights
    from qa.reader import ModelReader
    plain = ModelReader(reader_qa.index, replace(reader_qa.config, ner=False))
    assert plain.model is weights.fitted()["reader_confidence_plain"]
    assert reader_qa.config.ner is False  # the default
    if ner.available():
        with_entities = ModelReader(reader_qa.index, replace(reader_qa.config, ner=True))
        assert with_entities.model is weights.fitted()["reader_confidence"]
