"""Dense search over a store's vectors: exact (`NumpyStore`) or, for a segment with its HNSW graph
(qa/ann.py), through the graph; `SegmentedVectors` sees the segments as one `types.DenseStore`
over the live rows."""
from __future__ import annotations

from typing import Sequence

import numpy as np

WIDEN_MAX = 200_000  # rows widened to float32 and kept in memory for exact search


class NumpyStore:
    """Exact search over normalised vectors (≈4 ms for 100k x 384 float32): a `types.DenseStore`.
    float16 input is widened to float32 once, on the first search (numpy has no fast float16
    matrix product)."""

    def __init__(self, vectors: np.ndarray):
        self._raw = vectors
        self._f32 = vectors if vectors.dtype == np.float32 else None

    @property
    def vectors(self) -> np.ndarray:
        if self._f32 is None:
            self._f32 = np.asarray(self._raw, dtype=np.float32)
        return self._f32

    def __len__(self) -> int:
        return int(self._raw.shape[0])

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(self)
        if n == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._f32 is None and n > WIDEN_MAX:  # a large float16 segment without its ANN graph
            sims = np.concatenate([np.asarray(self._raw[a:a + 65536], np.float32) @ query
                                   for a in range(0, n, 65536)])
        else:
            sims = self.vectors @ query
        k = min(k, n)
        top = np.argpartition(-sims, k - 1)[:k] if k < n else np.arange(n)
        top = top[np.argsort(-sims[top], kind="stable")]
        return top, sims[top]

    def score(self, query: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        if ids is None:
            return self.vectors @ query
        return self.get(ids) @ query

    def get(self, ids) -> np.ndarray:
        src = self._f32 if self._f32 is not None else self._raw
        return np.asarray(src[np.asarray(ids, dtype=np.int64)], dtype=np.float32)


class SegmentedVectors:
    """Vectors spread over segments, seen as one `types.DenseStore` over live rows.

    `parts` are (vectors, ann or None); `live` maps concatenated rows to live rows (-1:
    deleted), `rows` live rows to concatenated ones (both None when nothing is deleted). Small
    segments are searched exactly, large ones through their HNSW graph; the per-segment
    candidates are merged by cosine."""

    def __init__(self, parts: Sequence[tuple[np.ndarray, object]], live: np.ndarray | None = None,
                 rows: np.ndarray | None = None):
        self.parts = [(NumpyStore(v), a) for v, a in parts]
        sizes = [len(s) for s, _ in self.parts]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.live, self.rows = live, rows
        self._n = len(rows) if rows is not None else int(self.starts[-1])
        # deleted rows per segment, counted once (not per question over a million rows)
        self._dead = [0 if live is None else int((live[a:b] < 0).sum())
                      for a, b in zip(self.starts[:-1], self.starts[1:])]

    def __len__(self) -> int:
        return self._n

    @property
    def vectors(self) -> np.ndarray:
        """Every live row as float32 (materialises the whole store: for tests and small stores)."""
        return self.get(np.arange(len(self)))

    def _concat(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        return ids if self.rows is None else self.rows[ids]

    def get(self, ids) -> np.ndarray:
        cat = self._concat(ids)
        if len(self.parts) == 1:
            return self.parts[0][0].get(cat)
        dim = self.parts[0][0]._raw.shape[1] if self.parts else 0
        out = np.empty((len(cat), dim), np.float32)
        seg = np.searchsorted(self.starts, cat, side="right") - 1
        for s in np.unique(seg):
            m = seg == s
            out[m] = self.parts[s][0].get(cat[m] - self.starts[s])
        return out

    def score(self, query: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        if ids is None:
            ids = np.arange(len(self))
        return self.get(ids) @ query

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k <= 0 or not len(self):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        all_ids, all_scores = [], []
        for (store, hnsw), start, dead in zip(self.parts, self.starts, self._dead):
            want = min(k + dead, len(store))
            ids, scores = (hnsw or store).search(query, want)
            ids = ids + start
            if self.live is not None:
                ids = self.live[ids]
                keep = ids >= 0
                ids, scores = ids[keep], scores[keep]
            all_ids.append(ids)
            all_scores.append(np.asarray(scores, np.float32))
        ids, scores = np.concatenate(all_ids), np.concatenate(all_scores)
        order = np.argsort(-scores, kind="stable")[:k]
        return ids[order], scores[order]
