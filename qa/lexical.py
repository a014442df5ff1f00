"""BM25 over the project's own terms (stemmed, stop words dropped): the lexical index."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from .text import terms


class BM25Index:
    """bm25s over paragraph texts: a `types.LexicalIndex`."""

    def __init__(self, texts: list[str]):
        import bm25s
        self.n = len(texts)
        self._bm25 = bm25s.BM25()
        tokens = [terms(t) or [""] for t in texts]
        self._bm25.index(tokens, show_progress=False)
        self._vocab = self._bm25.vocab_dict
        df = Counter(t for toks in tokens for t in set(toks))
        n = max(self.n, 1)
        self._idf_unseen = math.log(1 + (n + 0.5) / 0.5)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._last: tuple[str, np.ndarray] | None = None  # search() then score() of one query

    def idf_of(self, term: str) -> float:
        """BM25's idf; a term the corpus never uses weighs the most."""
        return self.idf.get(term, self._idf_unseen)

    def scores(self, query: str) -> np.ndarray:
        """Every row's score (bm25s scores the query's postings, not every row's text)."""
        last = self._last
        if last is not None and last[0] == query:
            return last[1]
        q = [t for t in terms(query) if t in self._vocab]
        if not q or self.n == 0:
            out = np.zeros(self.n, dtype=np.float32)
        else:
            out = np.asarray(self._bm25.get_scores(q), dtype=np.float32)
        self._last = (query, out)
        return out

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.scores(query)
        ids = top_k(s, k)
        ids = ids[s[ids] > 0]
        return ids, s[ids]

    def score(self, query: str, ids: np.ndarray) -> np.ndarray:
        return self.scores(query)[ids]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Row ids of the `k` highest scores, best first (ties in row order)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]
