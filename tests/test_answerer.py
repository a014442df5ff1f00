"""qa.answerer (the rules reader): verbatim citations, answer quality on the seeds, corroboration, confidence features."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

import qa.answerer as answerer_mod
from conftest import AFP, FOX, SEEDS_PATH
from qa import ner
from qa.metrics import contains_answer
from qa.pipeline import QA
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

@pytest.mark.parametrize("a, b, expected", [
    ({"non", "muslims", "london"}, {"muslims", "london"}, True),    # "non-Muslims" against "Muslims"
    ({"unlikely", "rain"}, {"likely", "rain"}, True),
    ({"likely", "rain"}, {"unlikely", "rain"}, False),              # the other direction is checked by the caller
    ({"index", "rain"}, {"dex", "rain"}, False),                    # too short a stem to be a negation
    ({"muslims", "london"}, {"muslims", "london"}, False),
])
def test_prefix_antonym(a, b, expected):
    assert answerer_mod._prefix_antonym(a, b) is expected


@needs_spacy
def test_entity_swap_is_seen_and_an_entity_of_the_wanted_kind_is_found():
    sent = "Mayor Ines Kovacs reopened the harbour bridge in Marlow on Tuesday."
    swap = answerer_mod._entity_features("When did Mayor Peter Novak reopen the bridge?", sent)
    same = answerer_mod._entity_features("When did Ines Kovacs reopen the bridge?", sent)
    plain = answerer_mod._entity_features("What did Ines Kovacs reopen?", sent)
    assert swap["ent_swap"] == 1.0
    assert same["ent_swap"] == 0.0 and same["ner_wanted"] == 1.0 and same["ner_found"] == 1.0
    assert plain == {"ent_swap": 0.0, "ner_wanted": 0.0, "ner_found": 0.0}


def test_features_and_coefficients_agree(rules_qa):
    """Every feature the answerer reports has a fitted weight, in whichever model applies."""
    from qa import weights
    rules = answerer_mod.RulesReader(rules_qa.index, rules_qa.config)
    ans = rules_qa.ask("Who did Shoigu meet in Pyongyang?")
    passages = rules_qa.retriever.retrieve(ans.question, 5)
    qvec = rules_qa.index.embedder.encode_query(ans.question)
    feats = rules.read(ans.question, passages, qvec).features
    model = weights.fitted()["rules_confidence" if ner.available() else "rules_confidence_plain"]
    assert set(feats) == set(model["coef"]) == set(model["features"])
    plain = weights.fitted()["rules_confidence_plain"]["features"]
    assert set(plain) < set(weights.fitted()["rules_confidence"]["features"])


def test_weights_that_do_not_match_the_features_are_refused(tmp_path):
    from qa import weights
    from qa.errors import QAError
    path = tmp_path / "weights.json"
    weights.save({"m": {"features": ["cos", "gone"], "bias": 0.0, "coef": {"cos": 1.0, "gone": 1.0}}}, path)
    assert weights.model("m", ["gone", "cos"], path)["coef"]["cos"] == 1.0
    with pytest.raises(QAError, match="gone"):
        weights.model("m", ["cos"], path)
    with pytest.raises(QAError, match="no model"):
        weights.model("other", ["cos"], path)
    path.write_text('{"format": 99}')
    weights._CACHE.clear()
    with pytest.raises(QAError, match="format"):
        weights.fitted(path)


def test_without_spacy_the_plain_model_answers(rules_qa, monkeypatch):
    monkeypatch.setattr(ner, "available", lambda: False)
    ans = rules_qa.ask("Who did Shoigu meet in Pyongyang?")
    rules = answerer_mod.RulesReader(rules_qa.index, rules_qa.config)
    feats = rules.read(ans.question, rules_qa.retriever.retrieve(ans.question, 5),
                       rules_qa.index.embedder.encode_query(ans.question)).features
    assert "ent_swap" not in feats
    assert not ans.abstained and "Kang" in ans.text


def test_units_of_time_are_singular_and_skip_the_ordinal_second():
    assert answerer_mod._units("Three centuries and two years, a Month later") == {"century", "year", "month"}
    assert answerer_mod._units("the second vessel since the 1980s") == set()


@pytest.mark.parametrize("question, foreign", [
    ("Wen hat Schoigu in Pjöngjang getroffen?", True),       # "in" is English too, "wen" and "hat" are not
    ("Quem Shoigu encontrou em Pyongyang?", True),
    ("Who did Shoigu meet in Pyongyang?", False),
    ("What did Charles de Gaulle say in Los Angeles?", False),  # names with foreign particles
    ("Shoigu Pyongyang", False),                              # too short to tell
])
def test_not_english(question, foreign):
    assert answerer_mod._not_english(question) is foreign
