"""qa.lexical: BM25 over persisted postings, scored with the whole store's statistics."""
from __future__ import annotations

import numpy as np
import pytest

from qa.lexical import POSTING_FILES, BM25Index, Postings
from qa.text import terms

pytestmark = pytest.mark.unit

TEXTS = [
    "The comet passed the sun on Tuesday and the comet was bright.",
    "The harbour bridge reopened after repairs to the harbour wall.",
    "Apple harvest fell by a third; apples were scarce at the market.",
    "The market for bridges and harbours grew in the north.",
    "",  # no terms at all
    "Sun, sun, sun: the summer was long and the harvest early.",
]
QUERIES = ["comet sun", "harbour bridge market", "apple harvest north", "sun sun", "nothing matches xyzzy"]


def test_scores_match_bm25s():
    """Same formula as the bm25s index it replaced (lucene variant, k1 1.5, b 0.75)."""
    bm25s = pytest.importorskip("bm25s")
    ref = bm25s.BM25()
    ref.index([terms(t) or [""] for t in TEXTS], show_progress=False)
    ours = BM25Index(TEXTS)
    for q in QUERIES:
        qt = [t for t in terms(q) if t in ref.vocab_dict]
        want = ref.get_scores(qt) if qt else np.zeros(len(TEXTS))
        np.testing.assert_allclose(ours.scores(q), want, rtol=1e-5, atol=1e-6)


def test_postings_round_trip_through_files(tmp_path):
    def write(path, arr):
        np.save(path, arr, allow_pickle=False)
    Postings.build(TEXTS).save(tmp_path, write)
    loaded = Postings(*(np.load(tmp_path / name, mmap_mode="r") for name in POSTING_FILES))  # as a segment maps them
    a, b = BM25Index(TEXTS), BM25Index(segments=[(loaded, 0, None)])
    for q in QUERIES:
        np.testing.assert_array_equal(a.scores(q), b.scores(q))


def test_segments_are_scored_with_global_statistics():
    """Two segments score exactly like one index over all rows: a small segment appended for one
    changed file is not scored with its own (tiny) statistics."""
    whole = BM25Index(TEXTS)
    split = BM25Index(segments=[(Postings.build(TEXTS[:4]), 0, None), (Postings.build(TEXTS[4:]), 4, None)])
    assert split.n == whole.n and split.avgdl == pytest.approx(whole.avgdl)
    for q in QUERIES:
        np.testing.assert_allclose(split.scores(q), whole.scores(q), rtol=1e-6)
    assert split.idf_of("comet") == pytest.approx(whole.idf_of("comet"))


def test_deleted_rows_are_left_out():
    """`live` maps a segment's rows to the index's rows; -1 rows never score."""
    live = np.array([0, -1, 1, 2, 3, 4])
    lex = BM25Index(segments=[(Postings.build(TEXTS), 0, live)], n_rows=5)
    s = lex.scores("harbour bridge")
    assert len(s) == 5
    assert s[0] == 0 and s[2] > 0  # row 1 (the harbour text) is gone; row 3 moved to 2
    ids, _ = lex.search("harbour bridge", 10)
    assert ids.tolist() == [2]


def test_idf_view():
    lex = BM25Index(TEXTS)
    assert "comet" in lex.idf and "xyzzy" not in lex.idf and 3 not in lex.idf
    assert lex.idf["comet"] == lex.idf_of("comet") > lex.idf_of("the" if "the" in lex.idf else "sun")
    assert lex.idf.get("xyzzy") is None
    with pytest.raises(KeyError):
        lex.idf["xyzzy"]
    assert lex.idf_of("xyzzy") > lex.idf_of("comet")


def test_spelled_like_finds_the_corpus_term_a_misspelling_or_a_prefix_stands_for():
    bm = BM25Index(["The city council met in the government building", "macos and linux"])
    assert bm.spelled_like("counil") and bm.spelled_like("govern")  # one letter off; a stem's prefix
    assert bm.spelled_like("mac")  # "mac" starts "macos"
    assert not bm.spelled_like("freebsd") and not bm.spelled_like("subvers")
    free = BM25Index(["free threaded builds", "the council"])
    assert free.spelled_like("councils") and not free.spelled_like("freebsd")  # an ending, not a compound
    assert not bm.spelled_like("zz")  # too short to say
