"""qa.sentences: sentence spans inside a paragraph (pysbd, no model)."""
from __future__ import annotations

import random

import pytest

from qa.sentences import _cut, _trim, split

pytestmark = pytest.mark.unit


def texts(text: str, skip=()) -> list[str]:
    return [text[a:b] for a, b in split(text, skip)]


def test_abbreviations_do_not_end_a_sentence():
    t = "The U.S. envoy met Mr. Smith at 3 p.m. on Friday. He left."
    assert texts(t) == ["The U.S. envoy met Mr. Smith at 3 p.m. on Friday.", "He left."]


def test_a_sentence_never_crosses_a_line_break():
    t = "First line without a stop\nsecond line. Third sentence."
    assert texts(t) == ["First line without a stop", "second line.", "Third sentence."]


def test_quotes_stay_with_their_sentence():
    t = "“Quote here,” he said. Then more."
    assert texts(t) == ["“Quote here,” he said.", "Then more."]


def test_chrome_ranges_are_cut_out():
    t = "Shoigu arrived on Tuesday. Photo: AP / Getty Images"
    i = t.index("Photo")
    assert texts(t, ((i, len(t)),)) == ["Shoigu arrived on Tuesday."]
    mid = "Kang met Shoigu (Handout via Getty Images) in Pyongyang."
    a, b = mid.index("(Handout"), mid.index(")") + 1
    assert texts(mid, ((a, b),)) == ["Kang met Shoigu", "in Pyongyang."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", "- ."])
def test_nothing_to_split(text):
    assert split(text) == []


def test_spans_are_trimmed_ordered_and_inside_the_text():
    rnd = random.Random(7)
    words = ["Shoigu", "met", "Kang.", "U.S.", "\n", "  ", "Dr.", "said:", "“Yes.”", "3.5", "ok?", "!"]
    for _ in range(50):
        t = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 30)))
        spans = split(t)
        assert spans == sorted(spans)
        for (a, b), nxt in zip(spans, spans[1:] + [(len(t), len(t))]):
            assert 0 <= a < b <= nxt[0] <= len(t)
            assert t[a:b] == t[a:b].strip() and "\n" not in t[a:b]
            assert any(c.isalnum() for c in t[a:b])


def test_helpers():
    assert _cut(0, 10, ((2, 4), (6, 8))) == [(0, 2), (4, 6), (8, 10)]
    assert _cut(0, 10, ((0, 10),)) == [] and _cut(0, 10, ((20, 30),)) == [(0, 10)]
    assert _trim("  ab  ", 0, 6) == (2, 4) and _trim("   ", 0, 3) == (3, 3)
