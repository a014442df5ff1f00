"""qa.ner: optional spaCy entities, and the answerer's fallback when they are missing."""
from __future__ import annotations

import pytest

from qa import ner

needs_spacy = pytest.mark.skipif(not ner.available(), reason="the `ner` extra (spaCy) is not installed")


@pytest.mark.unit
@pytest.mark.parametrize("question, labels", [
    ("How many projects does the Centre realise a year?", {"CARDINAL"}),
    ("How long did the siege last?", {"DATE", "TIME"}),
    ("In what year did the war end?", {"DATE"}),
    ("When did Shoigu arrive?", {"DATE"}),
    ("Where did Shoigu meet Kang?", {"GPE"}),
    ("Who did Shoigu meet?", {"PERSON"}),
])
def test_wanted_maps_the_wh_phrase_to_entity_kinds(question, labels):
    assert labels <= ner.wanted(question)


@pytest.mark.unit
def test_wanted_is_none_for_a_question_that_names_no_kind():
    assert ner.wanted("What did the minister say about the treaty?") is None
    assert ner.wanted("Why is the sky blue?") is None


@needs_spacy
def test_entities_have_offsets_into_the_text():
    text = "Sergei Shoigu met Kang Sun-nam in Pyongyang on Friday."
    ents = ner.entities(text)
    assert ents, "the model finds no entity in a plainly named sentence"
    for e in ents:
        assert text[e.start:e.end] == e.text
    labels = {e.label for e in ents}
    assert "PERSON" in labels and ("GPE" in labels or "DATE" in labels)


@pytest.mark.unit
def test_the_switch_is_config_ner(monkeypatch):
    """QA_NER=1 sets `Config.ner`, which the sentence scorer checks (tests/test_rules.py);
    this module reads no environment of its own."""
    from qa.config import Config
    monkeypatch.setenv("QA_NER", "1")
    assert Config.from_env().ner is True
    assert Config.from_env(environ={}).ner is False  # opt-in: spaCy stays off the question path
