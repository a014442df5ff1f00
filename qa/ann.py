"""Approximate nearest neighbours for large segments: faiss HNSW, memory-mapped on open.

Below `ANN_THRESHOLD` rows a segment is searched exactly (numpy); at or above it the store
writes an HNSW graph (inner product on unit vectors = cosine) beside the vectors. faiss-cpu is
an optional extra (`pip install 'qa[scale]'`): without it large segments are searched exactly,
with one notice. The index is read with IO_FLAG_MMAP_IFC, so opening it maps the file instead of
reading a few GB into memory (measured in bench/scale.py).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("qa")

ANN_THRESHOLD = 50_000  # rows; exact numpy search of 50k x 384 float32 takes ~3 ms here
HNSW_M = 32
EF_CONSTRUCTION = 40
EF_SEARCH = 128
_warned = False


def faiss_or_none():
    """faiss, or None (one notice per process) when the `scale` extra is not installed."""
    global _warned
    try:
        import faiss
        return faiss
    except ImportError:
        if not _warned:
            log.warning("faiss-cpu is not installed: large stores are searched exactly "
                        "(pip install 'qa[scale]' for HNSW)")
            _warned = True
        return None


def build(vectors: np.ndarray, path: Path, threads: int = 0) -> bool:
    """Write an HNSW index of `vectors` (unit rows) to `path`; False when faiss is missing."""
    faiss = faiss_or_none()
    if faiss is None:
        return False
    if threads:
        faiss.omp_set_num_threads(threads)
    # float16 codes: the same recall@10 as float32 (0.955 and 0.955 on 17,574 real MiniLM vectors
    # with SQuAD questions, bench/scale.py) in 57% of the file, which a long-lived process ends up
    # holding resident; the candidates are rescored exactly from the stored vectors anyway
    index = faiss.IndexHNSWSQ(vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, HNSW_M,
                              faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.train(np.ascontiguousarray(vectors[:1024], dtype=np.float32))  # float16 needs no statistics
    step = 65_536
    for a in range(0, len(vectors), step):
        index.add(np.ascontiguousarray(vectors[a:a + step], dtype=np.float32))
    faiss.write_index(index, str(path))
    return True


class HNSW:
    """A memory-mapped faiss HNSW index over one segment's rows."""

    def __init__(self, path: Path, ef_search: int = EF_SEARCH):
        import faiss
        self.index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        self.index.hnsw.efSearch = ef_search

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if k > self.index.hnsw.efSearch:
            self.index.hnsw.efSearch = k
        scores, ids = self.index.search(np.asarray(query, np.float32).reshape(1, -1), k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]
