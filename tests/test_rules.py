"""qa.rules (the rules reader and the baseline): verbatim citations, answer quality on the seeds, corroboration,
and the sentence scorer's confidence features as the rules reader reports them."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import AFP, FOX, SEEDS_PATH
from qa import ner
from qa.metrics import contains_answer
from qa.pipeline import QA
from qa.rules import RulesReader
from qa.types import Answer, Citation, Snippet

pytestmark = pytest.mark.usefixtures("qa_isolated")


@pytest.fixture(scope="module")
def rules_qa(seeds_store_dir):
    """The hand-made reader over the seeds (the baseline the trained reader is measured against)."""
    from qa.config import Config
    return QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), reader="rules", notice=lambda m: None)
needs_spacy = pytest.mark.skipif(not ner.available(), reason="the `ner` extra (spaCy) is not installed")


@pytest.fixture(scope="module")
def seed_answers(rules_qa, seed_questions):
    """Every seed question answered once: [(Question, Answer)]."""
    return [(q, rules_qa.ask(q.question)) for q in seed_questions]


def par_text(index, doc: str, paragraph: int) -> str:
    row = index.find(doc, paragraph)
    assert row is not None, (doc, paragraph)
    return index.paragraphs[row].text


# -- citations are exact -----------------------------------------------------------------------------

def test_every_snippet_is_a_verbatim_slice_of_its_paragraph(rules_qa, seed_answers):
    idx = rules_qa.index
    n_snippets = n_short = n_corr = 0
    for q, ans in seed_answers:
        for s in ans.snippets:
            n_snippets += 1
            text = par_text(idx, s.doc, s.paragraph)
            assert 0 <= s.start < s.end <= len(text)
            assert text[s.start:s.end] == s.text, (q.id, s)
            assert s.citation == Citation(s.doc, s.paragraph, s.start, s.end, s.title, s.date)
            if s.short is not None:
                n_short += 1
                assert par_text(idx, s.short.doc, s.short.paragraph)[s.short.start:s.short.end]
                # the short answer sits inside its snippet
                assert (s.short.doc, s.short.paragraph) == (s.doc, s.paragraph)
                assert s.start <= s.short.start < s.short.end <= s.end
            for c in s.corroborated_by:
                n_corr += 1
                ctext = par_text(idx, c.doc, c.paragraph)
                assert 0 <= c.start < c.end <= len(ctext)
                assert ctext[c.start:c.end].strip(), (q.id, c)
        if ans.short_answer is not None:
            sa = ans.short_answer
            assert par_text(idx, sa.doc, sa.paragraph)[sa.start:sa.end] == ans.text, q.id
            assert sa == ans.snippets[0].short
        elif not ans.abstained:
            assert ans.text == ans.snippets[0].text, q.id
    assert n_snippets >= len(seed_answers)
    assert n_short > 0 and n_corr > 0  # the checks above really ran on both kinds


def test_snippets_are_well_formed(rules_qa, seed_answers):
    idx = rules_qa.index
    cfg = rules_qa.config
    for q, ans in seed_answers:
        assert isinstance(ans, Answer) and ans.question == q.question
        assert 0.0 <= ans.confidence <= 1.0 and math.isfinite(ans.confidence)
        assert len(ans.snippets) <= cfg.max_snippets
        scores = [s.score for s in ans.snippets]
        assert scores == sorted(scores, reverse=True), q.id
        if ans.abstained:
            assert ans.text == "" and ans.short_answer is None
        else:
            assert ans.text and ans.snippets
        for s in ans.snippets:
            assert isinstance(s, Snippet)
            par = idx.paragraphs[idx.find(s.doc, s.paragraph)]
            assert par.answerable, (q.id, par.kind)
            # never quote page chrome inside a paragraph (bylines, photo credits)
            for a, b in par.skip:
                assert s.end <= a or s.start >= b, (q.id, s.text, par.text[a:b])
            assert s.title == idx.doc_of(idx.find(s.doc, s.paragraph)).title
            docs = [c.doc for c in s.corroborated_by]
            assert s.doc not in docs and len(set(docs)) == len(docs)


def test_gold_answer_in_first_three_snippets_for_80_percent(seed_answers):
    answerable = [(q, a) for q, a in seed_answers if q.answers]
    assert len(answerable) >= 40
    hits = [q.id for q, a in answerable if any(contains_answer(s.text, q.answers) for s in a.snippets[:3])]
    missed = sorted({q.id for q, _ in answerable} - set(hits))
    assert len(hits) / len(answerable) >= 0.8, f"hit@3 {len(hits)}/{len(answerable)}; missed {missed}"


def test_corroboration_machinery_on_the_shared_quote(rules_qa):
    """Both articles quote Shoigu's 'common border' statement: the quote is cited from both."""
    ans = rules_qa.ask("Besides a rich history of cooperation, what does Shoigu say Russia shares with "
                       "North Korea?")
    corr = [(s, c) for s in ans.snippets for c in s.corroborated_by]
    assert corr, [(s.doc, s.paragraph) for s in ans.snippets]
    s, c = corr[0]
    assert c.doc != s.doc
    other = par_text(rules_qa.index, c.doc, c.paragraph)[c.start:c.end]
    assert "common border" in s.text and "common border" in other


def test_important_partner_statement_is_corroborated_by_the_other_document(rules_qa):
    ans = rules_qa.ask("What did Shoigu say about North Korea being an important partner?")
    found = [(s, c) for s in ans.snippets for c in s.corroborated_by
             if c.doc != s.doc and "important partner" in s.text]
    assert found, [(s.doc, s.paragraph, s.text[:50], s.corroborated_by) for s in ans.snippets]
    s, c = found[0]
    assert "important partner" in par_text(rules_qa.index, c.doc, c.paragraph)[c.start:c.end]


# -- serialisation -----------------------------------------------------------------------------------

def test_to_dict_is_json_with_documented_keys(seed_answers):
    for q, ans in seed_answers[:12] + seed_answers[-4:]:
        d = ans.to_dict()
        assert {"question", "text", "abstained", "confidence", "snippets", "passages"} <= set(d)
        back = json.loads(json.dumps(d, allow_nan=False))
        assert back["question"] == ans.question and back["text"] == ans.text
        assert back["abstained"] is ans.abstained
        assert 0.0 <= back["confidence"] <= 1.0
        assert len(back["snippets"]) == len(ans.snippets)
        for sd, s in zip(back["snippets"], ans.snippets):
            assert (sd["text"], sd["doc"], sd["paragraph"], sd["start"], sd["end"]) == \
                (s.text, s.doc, s.paragraph, s.start, s.end)
            assert isinstance(sd["corroborated_by"], list)
        assert [(p["doc"], p["paragraph"]) for p in back["passages"]] == \
            [(p.doc, p.paragraph) for p in ans.passages]


# -- the baseline the bench compares against ---------------------------------------------------------

def test_baseline_quotes_the_best_cosine_sentence_of_the_top_paragraph(seeds_store_dir):
    from qa.config import Config
    base = QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), reader="baseline", notice=lambda m: None)
    ans = base.ask("Who will lead the Chinese delegation?")
    top = ans.passages[0]
    assert len(ans.snippets) == 1 and not ans.abstained
    s = ans.snippets[0]
    assert (s.doc, s.paragraph) == (top.doc, top.paragraph)
    idx = base.index
    first, last = idx.par_sentences[idx.row(*top.id)]
    qvec = idx.embedder.encode_query(ans.question)
    best = first + int(np.argmax(idx.sentence_vectors.vectors[first:last] @ qvec))
    assert (s.start, s.end) == tuple(int(x) for x in idx.sentence_spans[best][1:])


@pytest.mark.parametrize("question", ["¿Con quién se reunió Shoigu en Pyongyang?",
                                      "Wen hat Schoigu in Pjöngjang getroffen?",
                                      "Chi ha incontrato Shoigu a Pyongyang?",
                                      "Où est Shoigu allé ?"])
def test_question_in_another_language_abstains(rules_qa, question):
    ans = rules_qa.ask(question)
    assert ans.abstained and ans.text == ""


# -- confidence features -----------------------------------------------------------------------------

def test_features_and_coefficients_agree(rules_qa):
    """Every feature the answerer reports has a fitted weight, in whichever model applies."""
    from qa import weights
    rules = RulesReader(rules_qa.index, rules_qa.config)
    ans = rules_qa.ask("Who did Shoigu meet in Pyongyang?")
    passages = rules_qa.retriever.retrieve(ans.question, 5)
    qvec = rules_qa.index.embedder.encode_query(ans.question)
    feats = rules.read(ans.question, passages, qvec).features
    entities = rules_qa.config.ner and ner.available()  # QA_NER=1 with the `ner` extra
    model = weights.fitted()["rules_confidence" if entities else "rules_confidence_plain"]
    assert set(feats) == set(model["coef"]) == set(model["features"])
    plain = weights.fitted()["rules_confidence_plain"]["features"]
    assert set(plain) < set(weights.fitted()["rules_confidence"]["features"])


def test_without_spacy_the_plain_model_answers(rules_qa, monkeypatch):
    monkeypatch.setattr(ner, "available", lambda: False)
    ans = rules_qa.ask("Who did Shoigu meet in Pyongyang?")
    rules = RulesReader(rules_qa.index, rules_qa.config)
    feats = rules.read(ans.question, rules_qa.retriever.retrieve(ans.question, 5),
                       rules_qa.index.embedder.encode_query(ans.question)).features
    assert "ent_swap" not in feats
    assert not ans.abstained and "Kang" in ans.text


def test_entity_features_follow_the_config(rules_qa):
    """`Config(ner=False)` switches spaCy's features off whether or not it is installed."""
    from dataclasses import replace
    off = RulesReader(rules_qa.index, replace(rules_qa.config, ner=False))
    q = "Who did Shoigu meet in Pyongyang?"
    feats = off.read(q, rules_qa.retriever.retrieve(q, 5), rules_qa.index.embedder.encode_query(q)).features
    assert "ent_swap" not in feats
    from qa import weights
    assert off.abstain_below == pytest.approx(float(weights.fitted()["rules_confidence_plain"]["abstain_below"]))
    if ner.available():  # QA_NER=1 with the extra: spaCy's features and the model fitted with them
        on = RulesReader(rules_qa.index, replace(rules_qa.config, ner=True))
        feats = on.read(q, rules_qa.retriever.retrieve(q, 5), rules_qa.index.embedder.encode_query(q)).features
        assert {"ent_swap", "ner_wanted", "ner_found"} <= set(feats)
        assert on.abstain_below == pytest.approx(float(weights.fitted()["rules_confidence"]["abstain_below"]))
