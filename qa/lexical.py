"""BM25 over the project's own terms (stemmed, stop words dropped): the lexical index.

The index is a plain postings list per term (rows and term frequencies, CSC-style numpy arrays)
written with each store segment and memory-mapped on open, so nothing is rebuilt at open. Scores
are computed at query time from the statistics of the whole store (live rows, their mean length,
each term's document frequency over all segments), so a small segment appended for one changed
file is scored exactly like the rest. The formula is bm25s' default ("lucene": idf =
ln(1 + (N - df + 0.5) / (df + 0.5)), tf part = tf / (tf + k1 (1 - b + b dl / avgdl)), k1 1.5,
b 0.75), which this module replaced: same scores, same ranking (tests/test_lexical.py).
"""
from __future__ import annotations

import math
from array import array
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from .text import terms

K1, B = 1.5, 0.75
POSTING_FILES = ("terms.npy", "indptr.npy", "rows.npy", "tf.npy", "doclen.npy")


class Postings:
    """One segment's postings: `terms` (sorted utf-8 bytes), `indptr` (len(terms) + 1), `rows`
    and `tf` (one entry per (term, row)), `doclen` (terms per row)."""

    def __init__(self, terms_: np.ndarray, indptr: np.ndarray, rows: np.ndarray, tf: np.ndarray,
                 doclen: np.ndarray):
        # plain ndarray views of the memory maps: slicing an np.memmap costs ~60 us in Python
        # bookkeeping, and a question slices several postings per segment (bench/scale.py)
        self.terms, self.indptr, self.rows, self.tf, self.doclen = (
            np.asarray(a) for a in (terms_, indptr, rows, tf, doclen))

    @classmethod
    def build(cls, texts: Sequence[str]) -> "Postings":
        """From raw texts; a text without terms counts one empty term (as bm25s did)."""
        vocab: dict[str, int] = {}
        cols, rws, tfs = array("i"), array("i"), array("i")  # compact: a million texts fit
        doclen = np.zeros(len(texts), np.int32)
        for r, t in enumerate(texts):
            toks = terms(t) or [""]
            doclen[r] = len(toks)
            counts = Counter(toks)
            cols.extend(vocab.setdefault(tok, len(vocab)) for tok in counts)
            tfs.extend(counts.values())
            rws.extend([r] * len(counts))
        names = sorted(vocab)
        remap = np.empty(len(vocab), np.int64)
        for new, name in enumerate(names):
            remap[vocab[name]] = new
        col = remap[np.frombuffer(cols, np.int32)] if cols else np.zeros(0, np.int64)
        order = np.argsort(col, kind="stable")  # rows ascending within a term (added in row order)
        col = col[order]
        indptr = np.zeros(len(names) + 1, np.int64)
        np.cumsum(np.bincount(col, minlength=len(names)), out=indptr[1:])
        enc = [n.encode("utf-8") for n in names]
        width = max((len(e) for e in enc), default=1) or 1
        return cls(np.array(enc, dtype=f"S{width}"), indptr,
                   np.frombuffer(rws, np.int32)[order], np.frombuffer(tfs, np.int32)[order], doclen)

    def save(self, folder: Path, write) -> None:
        for name, arr in zip(POSTING_FILES, (self.terms, self.indptr, self.rows, self.tf, self.doclen)):
            write(folder / name, arr)

    def lookup(self, term: bytes) -> int:
        """The term's column, or -1."""
        i = int(np.searchsorted(self.terms, term))
        return i if i < len(self.terms) and self.terms[i] == term else -1


class BM25Index:
    """BM25 over the rows of one or more `Postings` (a `types.LexicalIndex`). `segments` are
    (postings, first row, live) triples: `live` maps the segment's rows to this index's rows
    (-1: a deleted row), or None when every row is live and rows follow on from `first row`."""

    def __init__(self, texts: Sequence[str] | None = None, segments=None, n_rows: int | None = None):
        if texts is not None:
            segments = [(Postings.build(texts), 0, None)]
            n_rows = len(texts)
        self.segments = list(segments or [])
        self.n = int(n_rows if n_rows is not None else
                     sum(len(p.doclen) for p, _, _ in self.segments))
        total_len = 0
        for p, _, live in self.segments:
            total_len += int(p.doclen.sum()) if live is None else int(p.doclen[live >= 0].sum())
        self.avgdl = total_len / self.n if self.n else 1.0
        self._idf_unseen = math.log(1 + (max(self.n, 1) + 0.5) / 0.5)
        self.idf = _IdfView(self)
        self._df_cache: dict[str, int] = {}
        self._last: tuple[str, np.ndarray] | None = None  # search() then score() of one query

    def df(self, term: str) -> int:
        """Rows holding the term, over all segments (a deleted row still counts until a merge)."""
        got = self._df_cache.get(term)
        if got is None:
            b = term.encode("utf-8")
            got = 0
            for p, _, _ in self.segments:
                c = p.lookup(b)
                if c >= 0:
                    got += int(p.indptr[c + 1] - p.indptr[c])
            if len(self._df_cache) > 100_000:
                self._df_cache.clear()
            self._df_cache[term] = got
        return got

    def idf_of(self, term: str) -> float:
        """BM25's idf; a term the corpus never uses weighs the most."""
        df = self.df(term)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5)) if df else self._idf_unseen

    def scores(self, query: str) -> np.ndarray:
        """Every row's score, from the query terms' postings only."""
        last = self._last
        if last is not None and last[0] == query:
            return last[1]
        out = np.zeros(self.n, dtype=np.float32)
        q = [t for t in terms(query) if self.df(t)]
        for t in q:  # a repeated query term counts again, as in bm25s
            idf = self.idf_of(t)
            b = t.encode("utf-8")
            for p, first, live in self.segments:
                c = p.lookup(b)
                if c < 0:
                    continue
                a, z = int(p.indptr[c]), int(p.indptr[c + 1])
                rows = p.rows[a:z]
                tf = p.tf[a:z].astype(np.float32)
                dl = p.doclen[rows].astype(np.float32)
                s = (idf * tf / (tf + K1 * (1 - B + B * dl / self.avgdl))).astype(np.float32)
                if live is None:
                    out[rows + first] += s
                else:
                    to = live[rows]
                    keep = to >= 0
                    out[to[keep]] += s[keep]
        self._last = (query, out)
        return out

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.scores(query)
        # only rows a query term touched can rank: finding them takes 1.4 ms at a million rows,
        # where partitioning all the scores takes 5.6 ms
        hit = np.flatnonzero(s > 0)
        ids = hit[top_k(s[hit], k)]
        return ids, s[ids]

    def score(self, query: str, ids: np.ndarray) -> np.ndarray:
        return self.scores(query)[ids]

    def spelled_like(self, term: str) -> bool:
        """Does the corpus use a term spelt like `term`: one that starts with it, one it starts
        with but for an ending of one or two letters ("councils"; not "free" for "freebsd"),
        or one or two letters off ("counil" for "council")? Only terms that share its first
        three letters are looked at."""
        if len(term) < 3:
            return False
        key = term[:3].encode("utf-8")
        for p, _, _ in self.segments:
            lo = int(np.searchsorted(p.terms, key))
            hi = int(np.searchsorted(p.terms, key + b"\xff"))
            for raw in p.terms[lo:hi]:
                t = raw.decode("utf-8", "replace")
                if t.startswith(term) or (len(t) >= 4 and term.startswith(t) and len(term) - len(t) <= 2) \
                        or _within_edits(t, term, 1 if len(term) < 8 else 2):
                    return True
        return False


def _within_edits(a: str, b: str, k: int) -> bool:
    """Levenshtein distance of `a` and `b` at most `k` (rows cut short once past it)."""
    if abs(len(a) - len(b)) > k:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > k:
            return False
        prev = cur
    return prev[-1] <= k


class _IdfView:
    """`term in index.idf` (the corpus uses it) and `index.idf[term]`, without a dict of the
    whole vocabulary."""

    def __init__(self, index: BM25Index):
        self._index = index

    def __contains__(self, term) -> bool:
        return isinstance(term, str) and self._index.df(term) > 0

    def __getitem__(self, term: str) -> float:
        if term not in self:
            raise KeyError(term)
        return self._index.idf_of(term)

    def get(self, term: str, default=None):
        return self._index.idf_of(term) if term in self else default


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Row ids of the `k` highest scores, best first (ties in row order)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]
