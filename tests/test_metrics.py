"""Metrics against hand-computed values (and numpy.percentile for interpolation)."""
import numpy as np
import pytest

from qa.metrics import (abstention_stats, contains_answer, exact_match, f1, normalize_answer,
                        percentile, recall_at_k, reciprocal_rank)


@pytest.mark.parametrize("raw, expected", [
    ("The  Cat!", "cat"),
    ("a an the", ""),
    ("The", ""),
    ("1,000", "1000"),
    ("U.S. the Army", "us army"),
    ("theater anthem", "theater anthem"),      # articles only as whole words
    ("the-cat", "thecat"),                     # punctuation goes first, so no article left
    ("  Tab\tand\nnewline ", "tab and newline"),
    ("Maria Skłodowska-Curie", "maria skłodowskacurie"),
    ("Café — Olé", "café — olé"),              # em dash is not in string.punctuation
    ("ÉCOLE", "école"),
    ("", ""),
])
def test_normalize_answer(raw, expected):
    assert normalize_answer(raw) == expected


def test_exact_match():
    assert exact_match("the Cat.", ["cat"]) == 1.0
    assert exact_match("cat", ["dog", "Cat"]) == 1.0
    assert exact_match("black cat", ["cat"]) == 0.0
    assert exact_match("1000", ["1,000"]) == 1.0


def test_f1_partial_overlap():
    # pred [big, black, cat] vs gold [black, cat, sat]: 2 common, P = R = 2/3, F1 = 2/3
    assert f1("the big black cat", ["black cat sat"]) == pytest.approx(2 / 3)
    # pred [cat, cat, dog] vs gold [cat]: common = min(2, 1) = 1, P = 1/3, R = 1,
    # F1 = 2 * 1/3 * 1 / (1/3 + 1) = 0.5
    assert f1("cat cat dog", ["cat"]) == pytest.approx(0.5)
    assert f1("dog", ["cat"]) == 0.0


def test_f1_max_over_golds():
    # vs [york]: P = 1/3, R = 1 -> 0.5; vs [new, york]: P = 2/3, R = 1 -> 2*(2/3)/(5/3) = 0.8
    assert f1("New York City", ["York", "New York"]) == pytest.approx(0.8)
    assert f1("New York City", ["New York", "York"]) == pytest.approx(0.8)
    assert f1("New York City", ["new york city", "York"]) == 1.0


def test_empty_prediction_on_answerable_scores_zero():
    assert exact_match("", ["cat"]) == 0.0
    assert f1("", ["cat"]) == 0.0


def test_abstention_on_impossible_scores_one():
    assert exact_match("", []) == 1.0
    assert f1("", []) == 1.0
    # Official v2: the prediction is normalised first, so "the" counts as empty.
    assert exact_match("the", []) == 1.0


def test_answer_on_impossible_scores_zero():
    assert exact_match("cat", []) == 0.0
    assert f1("cat", []) == 0.0


def test_golds_that_normalise_to_nothing_are_dropped():
    # Official v2 drops such golds; with none left the question is unanswerable.
    assert exact_match("", ["the", "cat"]) == 0.0
    assert f1("cat", ["the", "cat"]) == 1.0
    assert exact_match("", ["the"]) == 1.0


def test_contains_answer_whole_tokens():
    assert not contains_answer("in 1990s", ["1990"])
    assert contains_answer("in 1990, the", ["1990"])
    assert contains_answer("He won the Nobel Prize.", ["Nobel prize"])
    assert not contains_answer("nobelprize winner", ["Nobel Prize"])
    assert not contains_answer("prize Nobel", ["Nobel Prize"])         # order matters
    assert contains_answer("The U.S. Army", ["navy", "US"])           # any gold
    assert contains_answer("the cat sat", ["the cat"])                # article dropped both sides
    assert not contains_answer("anything", [])
    assert not contains_answer("the end", ["the"])                    # gold normalises to nothing


def test_recall_and_reciprocal_rank():
    ranked = [("a.txt", 0), ("a.txt", 1), ("b.txt", 0)]
    gold = ("b.txt", 0)
    assert recall_at_k(ranked, gold, 2) == 0.0
    assert recall_at_k(ranked, gold, 3) == 1.0
    assert recall_at_k(ranked, gold, 10) == 1.0
    assert recall_at_k(ranked, gold, 0) == 0.0
    assert reciprocal_rank(ranked, gold) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, ("a.txt", 0)) == 1.0


def test_gold_absent():
    assert recall_at_k(["a", "b"], "c", 5) == 0.0
    assert reciprocal_rank(["a", "b"], "c") == 0.0
    assert reciprocal_rank([], "c") == 0.0


def test_duplicates_in_ranking_take_positions():
    ranked = ["a.txt", "a.txt", "b.txt"]   # e.g. documents of ranked paragraphs, not de-duplicated
    assert recall_at_k(ranked, "b.txt", 2) == 0.0
    assert reciprocal_rank(ranked, "b.txt") == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, "a.txt") == 1.0   # first occurrence counts


def test_percentile_hand_values():
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert percentile([1, 2, 3, 4], 90) == pytest.approx(3.7)   # rank 0.9 * 3 = 2.7 -> 3 + 0.7
    assert percentile([4, 1, 3, 2], 0) == 1.0
    assert percentile([4, 1, 3, 2], 100) == 4.0
    assert percentile([5], 95) == 5.0
    assert percentile([], 50) == 0.0


@pytest.mark.parametrize("values", [[1, 2, 3, 4], [5], [3, 1, 2], [10, 0, 7.5, 2.5, 100],
                                    [0.013, 0.2, 0.0021, 1.5, 0.04, 0.04]])
@pytest.mark.parametrize("p", [0, 1, 25, 50, 90, 95, 99, 100])
def test_percentile_matches_numpy(values, p):
    assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_percentile_rejects_bad_p():
    with pytest.raises(ValueError):
        percentile([1, 2], 101)
    with pytest.raises(ValueError):
        percentile([1, 2], -1)


def test_abstention_stats_hand_case():
    abstained = [True, True, False, False, True, False]
    impossible = [True, False, True, False, False, False]
    stats = abstention_stats(abstained, impossible)
    # abstentions at 0, 1, 4; only 0 is impossible -> precision 1/3
    assert stats["precision"] == pytest.approx(1 / 3)
    # impossible at 0, 2; abstained on 0 -> recall 1/2
    assert stats["recall"] == pytest.approx(0.5)
    assert stats["abstain_rate_impossible"] == pytest.approx(0.5)
    # answerable at 1, 3, 4, 5; abstained on 1 and 4 -> 2/4
    assert stats["abstain_rate_answerable"] == pytest.approx(0.5)


def test_abstention_stats_zero_denominators():
    stats = abstention_stats([False, False], [False, False])
    assert stats == {"precision": 0.0, "recall": 0.0, "abstain_rate_impossible": 0.0,
                     "abstain_rate_answerable": 0.0}
    only_impossible = abstention_stats([True], [True])
    assert only_impossible["precision"] == 1.0
    assert only_impossible["abstain_rate_answerable"] == 0.0
    assert abstention_stats([], []) == stats


def test_abstention_stats_length_mismatch():
    with pytest.raises(ValueError):
        abstention_stats([True], [True, False])


def test_contains_answer_punctuation_splits_as_well_as_vanishes():
    assert contains_answer("Dictator Kim Jong Un's regime", ["Kim Jong Un"])
    assert contains_answer("the Adriatic—fell to", ["Adriatic"])
    assert contains_answer("The U.S. Army", ["US Army"])
    assert not contains_answer("Kim Jong Il's regime", ["Kim Jong Un"])


def test_a_gold_made_of_punctuation_alone_is_compared_as_written():
    # SQuAD's normalisation leaves nothing of `//!`: such a gold is kept, not read as "unanswerable"
    assert exact_match("//!", ["//!"]) == 1.0 and exact_match("`//!`", ["//!"]) == 1.0
    assert exact_match("///", ["//!"]) == 0.0 and exact_match("", ["//!"]) == 0.0
    assert f1("//!", ["//!"]) == 1.0 and f1("docs", ["//!"]) == 0.0
    assert contains_answer("- `//!` - Generates docs for the enclosing item", ["//!"])
    assert not contains_answer("- `///` - Generates docs for the item after it", ["//!"])
    assert exact_match("", ["the"]) == 1.0  # a gold of words the normalisation drops is still dropped
