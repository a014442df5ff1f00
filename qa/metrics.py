"""Scoring for `qa eval`: SQuAD answer metrics, retrieval metrics and abstention stats.

Pure functions on plain Python values (stdlib only) so they are cheap to import and easy
to check by hand. Answer scoring follows the official SQuAD v2.0 evaluation script, so
our numbers can be compared with published ones.
"""
from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Hashable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = frozenset(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower-case, drop ASCII punctuation, drop the articles a/an/the, collapse white space.

    Exactly the official SQuAD normalisation (same order of steps), so that "The  Cat!"
    and "cat" compare equal and "1,000" becomes "1000". Unicode punctuation is kept,
    as in the official script.
    """
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def _tokens(s: str) -> list[str]:
    return normalize_answer(s).split() if s else []


def _scorable_golds(golds: Sequence[str]) -> list[str]:
    """Golds that survive normalisation; [""] when none do (an unanswerable question).

    The official v2.0 script drops gold answers that normalise to nothing and scores
    against a single empty answer when none are left, which gives the abstention rule.
    A gold made of punctuation alone (`//!`, an operator: no SQuAD dev answer is) is kept and
    compared as written (`_symbol`).
    """
    kept = [g for g in golds if normalize_answer(g) or _symbol(g)]
    return kept or [""]


def _symbol(s: str) -> str:
    """An answer made of punctuation alone, as written without backticks and outer white space
    ("" for any other): normalising would leave nothing of it."""
    t = s.strip().strip("`").strip()
    return t if t and not any(ch.isalnum() or ch.isspace() for ch in t) else ""


def _exact(prediction: str, gold: str) -> float:
    if _symbol(gold):
        return float(_symbol(prediction) == _symbol(gold))
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction: str, gold: str) -> float:
    if _symbol(gold):
        return _exact(prediction, gold)
    pred, ref = _tokens(prediction), _tokens(gold)
    if not pred or not ref:
        # Official v2 rule: both empty is a match (abstaining on an impossible question).
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals some normalised gold, else 0.0.

    With no golds (an unanswerable question) only an abstention, i.e. a prediction
    that normalises to "", scores 1.0 -- the official SQuAD v2.0 rule.
    """
    return max(_exact(prediction, g) for g in _scorable_golds(golds))


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Best bag-of-tokens F1 of the prediction against any gold (official SQuAD semantics).

    If the prediction or a gold has no tokens after normalisation, that pair scores 1.0
    when both are empty and 0.0 otherwise; so golds == [] scores 1.0 only for an abstention.
    """
    return max(_f1(prediction, g) for g in _scorable_golds(golds))


def _has_run(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def contains_answer(text: str, golds: Sequence[str]) -> bool:
    """True when some normalised gold occurs in the normalised text as whole tokens.

    Token-level so that "1990" is not found in "in 1990s" but is in "in 1990, the".
    Used to tell whether retrieval surfaced a passage that holds the answer. A gold made of
    punctuation alone is found as written, standing alone; no golds gives False. Punctuation
    (ASCII or not) is tried both ways: deleted, as EM does ("U.S." = "US"), and as a separator, so that
    "Kim Jong Un" is found in "Kim Jong Un's" and "Adriatic" in "Adriatic—fell".
    """
    for g in filter(None, map(_symbol, golds)):  # `//!` as a word of its own: not inside `///`
        if re.search(rf"(?<![^\s`]){re.escape(g)}(?![^\s`])", text):
            return True
    for tokens in (lambda x: normalize_answer(x).split(), _containment_tokens):
        hay = tokens(text)
        if any(_has_run(hay, g) for g in (tokens(x) for x in golds) if g):
            return True
    return False


def _containment_tokens(s: str) -> list[str]:
    s = "".join(" " if (ch in _PUNCT or unicodedata.category(ch).startswith("P")) else ch for ch in s.lower())
    return _ARTICLES.sub(" ", s).split()


def recall_at_k(ranked: Sequence[Hashable], gold: Hashable, k: int) -> float:
    """1.0 if `gold` is among the first k keys of `ranked`, else 0.0.

    `ranked` is taken literally, best first: the caller breaks ties by the order it
    passes, and duplicates occupy positions (de-duplicate first if that is not wanted).
    """
    return float(k > 0 and gold in ranked[:k])


def reciprocal_rank(ranked: Sequence[Hashable], gold: Hashable) -> float:
    """1 / (1 + position of the first occurrence of `gold`), or 0.0 if absent.

    Same conventions as `recall_at_k`: order is the caller's, ties resolved by it.
    Averaged over questions this gives MRR.
    """
    for i, key in enumerate(ranked):
        if key == gold:
            return 1.0 / (1 + i)
    return 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation, as numpy.percentile's default.

    Returns 0.0 for no values so that latency reports over an empty run need no special case.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    xs = sorted(float(v) for v in values)
    if not xs:
        return 0.0
    rank = (len(xs) - 1) * p / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def abstention_stats(abstained: Sequence[bool], impossible: Sequence[bool]) -> dict[str, float]:
    """How well abstentions line up with unanswerable questions (one flag pair a question).

    precision: share of abstentions that were on impossible questions;
    recall / abstain_rate_impossible: share of impossible questions abstained on;
    abstain_rate_answerable: share of answerable questions abstained on (lower is better).
    Any ratio whose denominator is 0 (no abstentions, no impossible or no answerable
    questions) is reported as 0.0 rather than NaN, so reports stay printable.
    """
    if len(abstained) != len(impossible):
        raise ValueError(f"{len(abstained)} abstention flags for {len(impossible)} questions")
    pairs = list(zip(map(bool, abstained), map(bool, impossible)))
    hit = sum(a and i for a, i in pairs)
    n_abstained = sum(a for a, _ in pairs)
    n_impossible = sum(i for _, i in pairs)
    wrong = sum(a and not i for a, i in pairs)
    recall = _ratio(hit, n_impossible)
    return {
        "precision": _ratio(hit, n_abstained),
        "recall": recall,
        "abstain_rate_impossible": recall,
        "abstain_rate_answerable": _ratio(wrong, len(pairs) - n_impossible),
    }
