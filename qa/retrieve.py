"""Question -> ranked paragraphs: BM25, dense cosine, and their weighted fusion.

Each retriever asks the index's stores for their top candidates (`search`) and scores only
those (`score`); nothing here scans every row. Fusion is a weighted sum of scores normalised
per question (BM25 by its best score, cosine by its spread over the candidates). Reciprocal
rank fusion throws away how far ahead the leader is, and on SQuAD-style questions ranks below
BM25 alone (see bench/).
"""
from __future__ import annotations

import numpy as np

from .index import Index
from .lexical import top_k
from .types import DenseStore, LexicalIndex, Passage


class _Base:
    """`dense` and `lexical` default to the index's own stores; another `types.DenseStore` or
    `types.LexicalIndex` over the same rows (an ANN index, a server) can stand in."""

    def __init__(self, index: Index, candidates: int | None = None, dense: DenseStore | None = None,
                 lexical: LexicalIndex | None = None):
        self.index = index
        self.candidates = candidates or index.config.candidates
        self.dense = dense if dense is not None else index.vectors
        self._lexical_index = lexical

    def _passages(self, ids, scores, lex=None, dense=None) -> list[Passage]:
        return [self.index.passage(int(i), scores[n], lex[n] if lex is not None else 0.0,
                                   dense[n] if dense is not None else 0.0) for n, i in enumerate(ids)]

    def _answerable(self, ids: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = self.index.answerable[ids] if len(ids) else np.zeros(0, bool)
        return ids[keep], scores[keep]

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical_index if self._lexical_index is not None else self.index.bm25

    def _lexical(self, question: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._answerable(*self.lexical.search(question, k))

    def _dense(self, qvec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per paragraph, the better of its own cosine and its best sentence's (fused Recall@1
        on SQuAD v1.1: 0.850 -> 0.879): candidates from the paragraph store (and, in a small
        store, an exact search of the sentence vectors), scored exactly."""
        idx = self.index
        p_ids, _ = self.dense.search(qvec, k)
        ids = p_ids
        if idx.sentence_search:  # exact sentence search: small stores only (see Index)
            s_ids, _ = idx.sentence_vectors.search(qvec, 4 * k)  # one paragraph may hold several
            if len(s_ids):
                owners = idx.sentence_spans[s_ids, 0]
                ids = np.union1d(p_ids, owners[owners >= 0])
        ids, _ = self._answerable(ids, ids)
        dense = self._dense_scores(qvec, ids)
        order = top_k(dense, k)
        return ids[order], dense[order]

    def _dense_scores(self, qvec: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return self.index.dense_scores(qvec, ids, self.dense)

    def _query_vector(self, question: str, qvec: np.ndarray | None) -> np.ndarray:
        return self.index.embedder.encode_query(question) if qvec is None else qvec


class BM25Retriever(_Base):
    def retrieve(self, question: str, k: int = 5, qvec: np.ndarray | None = None) -> list[Passage]:
        ids, s = self._lexical(question, k)
        return self._passages(ids, s, lex=s)


class DenseRetriever(_Base):
    def retrieve(self, question: str, k: int = 5, qvec: np.ndarray | None = None) -> list[Passage]:
        ids, s = self._dense(self._query_vector(question, qvec), k)
        return self._passages(ids, s, dense=s)


class HybridRetriever(_Base):
    """`w_bm25 * bm25 / max(bm25) + w_dense * (cos - median) / (max - median)` over the union
    of both retrievers' candidates."""

    def __init__(self, index: Index, w_bm25: float | None = None, w_dense: float | None = None,
                 candidates: int | None = None, dense: DenseStore | None = None,
                 lexical: LexicalIndex | None = None):
        super().__init__(index, candidates, dense, lexical)
        cfg = index.config
        self.w_bm25 = cfg.w_bm25 if w_bm25 is None else w_bm25
        self.w_dense = cfg.w_dense if w_dense is None else w_dense

    def retrieve(self, question: str, k: int = 5, qvec: np.ndarray | None = None) -> list[Passage]:
        if k <= 0 or not len(self.index.paragraphs):
            return []
        qvec = self._query_vector(question, qvec)
        l_ids, _ = self._lexical(question, self.candidates)
        d_ids, _ = self._dense(qvec, self.candidates)
        cand = np.union1d(l_ids, d_ids)
        if not len(cand):
            return []
        lex = self.lexical.score(question, cand)
        dense = self._dense_scores(qvec, cand)
        lmax = float(lex.max())
        ln = lex / lmax if lmax > 0 else np.zeros(len(cand), np.float32)
        lo, hi = float(np.percentile(dense, 50)), float(dense.max())
        dn = np.clip((dense - lo) / (hi - lo), 0, None) if hi > lo else np.zeros(len(cand), np.float32)
        fused = self.w_bm25 * ln + self.w_dense * dn
        order = top_k(fused, k)
        return self._passages(cand[order], fused[order], lex[order], dense[order])


RETRIEVERS = {"hybrid": HybridRetriever, "bm25": BM25Retriever, "dense": DenseRetriever}
MODES = tuple(RETRIEVERS)
