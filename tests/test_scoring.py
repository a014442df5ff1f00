"""qa.scoring's pieces that need no index: the contrast and mismatch signals, and the language check."""
from __future__ import annotations

import pytest

import qa.scoring as scoring_mod
from qa import ner

pytestmark = pytest.mark.unit
needs_spacy = pytest.mark.skipif(not ner.available(), reason="the `ner` extra (spaCy) is not installed")


@pytest.mark.parametrize("a, b, expected", [
    ({"non", "muslims", "london"}, {"muslims", "london"}, True),    # "non-Muslims" against "Muslims"
    ({"unlikely", "rain"}, {"likely", "rain"}, True),
    ({"likely", "rain"}, {"unlikely", "rain"}, False),              # the other direction is checked by the caller
    ({"index", "rain"}, {"dex", "rain"}, False),                    # too short a stem to be a negation
    ({"muslims", "london"}, {"muslims", "london"}, False),
])
def test_prefix_antonym(a, b, expected):
    assert scoring_mod._prefix_antonym(a, b) is expected


@needs_spacy
def test_entity_swap_is_seen_and_an_entity_of_the_wanted_kind_is_found():
    sent = "Mayor Ines Kovacs reopened the harbour bridge in Marlow on Tuesday."
    swap = scoring_mod._entity_features("When did Mayor Peter Novak reopen the bridge?", sent)
    same = scoring_mod._entity_features("When did Ines Kovacs reopen the bridge?", sent)
    plain = scoring_mod._entity_features("What did Ines Kovacs reopen?", sent)
    assert swap["ent_swap"] == 1.0
    assert same["ent_swap"] == 0.0 and same["ner_wanted"] == 1.0 and same["ner_found"] == 1.0
    assert plain == {"ent_swap": 0.0, "ner_wanted": 0.0, "ner_found": 0.0}


def test_units_of_time_are_singular_and_skip_the_ordinal_second():
    assert scoring_mod._units("Three centuries and two years, a Month later") == {"century", "year", "month"}
    assert scoring_mod._units("the second vessel since the 1980s") == set()


@pytest.mark.parametrize("question, foreign", [
    ("Wen hat Schoigu in Pjöngjang getroffen?", True),       # "in" is English too, "wen" and "hat" are not
    ("Quem Shoigu encontrou em Pyongyang?", True),
    ("Who did Shoigu meet in Pyongyang?", False),
    ("What did Charles de Gaulle say in Los Angeles?", False),  # names with foreign particles
    ("Shoigu Pyongyang", False),                              # too short to tell
])
def test_not_english(question, foreign):
    assert scoring_mod._not_english(question) is foreign


@pytest.mark.unit
@pytest.mark.parametrize("question, code", [
    ("How do I install uv on a Mac?", True),
    ("how can we upgrade it?", True),
    ("How to pin a version?", True),
    ("Which command verifies the lockfile?", True),
    ("What's the command to add a dependency?", True),
    ("What is the exact CLI invocation for that?", True),
    ("What do I run to start the server?", True),
    ("I installed it with the script. How do I upgrade it?", True),  # any sentence may ask
    ("The pier closed. How did the bridge reopen?", False),
    ("How did the bridge reopen?", False),
    ("How many cables were replaced?", False),
    ("What did the commander say?", False),
    ("Who commands the fleet?", False),
])
def test_how_to_and_command_questions_want_code(question, code):
    from qa.scoring import wants_code
    assert wants_code(question) is code


def test_an_identifier_is_left_out_only_when_the_question_writes_it_out():
    from qa.scoring import typed_phrases
    from qa.text import terms
    s = "Use the `--tide` flag with `uv sync` to record the tide."
    q = "Which uv sync flag records the tide?"
    found = [s[a:b] for a, b in typed_phrases(s, "code:code", frozenset(terms(q)), question=q)]
    assert found == ["--tide"]  # its word is the question's, but the question does not name it
    s = "Make them mutable by adding `mut`, or declare them with the `const` keyword."
    q = "What keyword makes a variable mutable, and which declares a constant?"
    found = [s[a:b] for a, b in typed_phrases(s, "code:code", frozenset(terms(q)), question=q)]
    assert found == ["mut", "const"]  # written in "mutable" and "constant", but not as words
    s = "To define a struct, we enter the keyword `struct` and name the entire struct."
    q = "What keyword defines a struct?"
    found = [s[a:b] for a, b in typed_phrases(s, "code:code", frozenset(terms(q)), question=q)]
    assert found == ["struct"]  # written in the question, but called by the noun asked for


@pytest.mark.parametrize("question, asks", [
    ("cargo update didn't pick the newest version. How do I turn on tracing?", "How do I turn on tracing?"),
    ("It keeps rebuilding for no clear reason! What command logs why?", "What command logs why?"),
    ("uv only gave me python3.13. How do I get python?", "How do I get python?"),
    ("What did Mr. Smith not say?", "What did Mr. Smith not say?"),  # an abbreviation ends no sentence
    ("Why did the U.S. not join?", "Why did the U.S. not join?"),
    ("Which is not a prime? Is it 4.", "Which is not a prime? Is it 4."),  # no question after the full stop
])
def test_the_sentence_that_asks_is_read_apart_from_the_situation_told_before_it(question, asks):
    assert scoring_mod.asked(question) == asks


def test_a_negation_in_the_situation_told_is_not_a_negated_question():
    assert not scoring_mod._negated("cargo update didn't pick the newest version. How do I turn on tracing?")
    assert scoring_mod._negated("The update ran. Which crates did it not pick?")


def test_a_negation_in_a_purpose_clause_is_not_a_negated_question():
    assert not scoring_mod._negated("What prefix do I use so Cargo doesn't create a feature?")
    assert not scoring_mod._negated("What do I set so that it never rebuilds?")
    assert scoring_mod._negated("When did the so called agreement not break down?")


@pytest.mark.parametrize("question, found", [
    ("What does the ? operator do?", ["?"]), ("What does `::` mean?", ["::"]),
    ("Who won?", []), ('Is "x" a name?', []),  # the question's own mark and quotes are no operators
])
def test_the_operators_a_question_names(question, found):
    assert scoring_mod.symbols(question) == found
