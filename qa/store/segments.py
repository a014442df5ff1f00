"""One immutable segment of a store: written once by `write_segment` (under .tmp-s-<id>, renamed
when complete), memory-mapped by `open_segment`. Rows are local to the segment."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import ann
from ..document import identity, join_json, split_json
from ..lexical import POSTING_FILES, Postings
from .format import (FORMAT, SEGMENT_FILES, VECTOR_DTYPE, StoreError, checksum, verify_files, writable,
                     write_arr, write_bytes, write_json)


def _blob(path: Path) -> np.ndarray:
    return np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)


class Segment:
    """One finished segment, memory-mapped. Rows are local to the segment."""

    def __init__(self, folder: Path, info: dict):
        self.folder, self.info, self.name = folder, info, folder.name
        names = SEGMENT_FILES + (("ann.faiss",) if info.get("ann") else ())
        verify_files(folder, info.get("checksums"), names)
        arr = {n: np.load(folder / n, mmap_mode="r", allow_pickle=False)
               for n in SEGMENT_FILES if n.endswith(".npy")}
        self.vectors, self.sentence_vectors = arr["vectors.npy"], arr["sentences.npy"]
        self.text_offsets, self.doc_offsets = arr["text_offsets.npy"], arr["doc_offsets.npy"]
        self.doc_paragraphs, self.par_info = arr["doc_paragraphs.npy"], arr["par_info.npy"]
        self.par_sentences, self.spans = arr["par_sentences.npy"], arr["spans.npy"]
        self.postings = Postings(*(arr[n] for n in POSTING_FILES))
        self.texts, self.meta = _blob(folder / "texts.bin"), _blob(folder / "meta.bin")
        p, s, d, dim = (info.get(k) for k in ("paragraphs", "sentences", "documents", "dim"))
        shapes = {"vectors.npy": (self.vectors, (p, dim)), "sentences.npy": (self.sentence_vectors, (s, dim)),
                  "text_offsets.npy": (self.text_offsets, (p + 1,) if isinstance(p, int) else None),
                  "par_info.npy": (self.par_info, (p, 3)), "par_sentences.npy": (self.par_sentences, (p, 2)),
                  "spans.npy": (self.spans, (s, 3)),
                  "doc_paragraphs.npy": (self.doc_paragraphs, (d + 1,) if isinstance(d, int) else None)}
        for n, (a, want) in shapes.items():
            if a.shape != want:
                raise StoreError(f"{n} has shape {a.shape}, expected {want}")
        if self.vectors.dtype != VECTOR_DTYPE or self.sentence_vectors.dtype != VECTOR_DTYPE:
            raise StoreError(f"vectors are {self.vectors.dtype}, expected {np.dtype(VECTOR_DTYPE)}")
        self.ann = None
        if info.get("ann") and ann.faiss_or_none() is not None:
            self.ann = ann.HNSW(folder / "ann.faiss")

    @property
    def n_paragraphs(self) -> int:
        return int(self.info["paragraphs"])

    @property
    def n_sentences(self) -> int:
        return int(self.info["sentences"])

    @property
    def docs(self) -> list[list[str]]:
        """[name, sha256] of each document, in row order."""
        return self.info["docs"]

    def text(self, row: int) -> str:
        a, b = self.text_offsets[row], self.text_offsets[row + 1]
        return bytes(self.texts[a:b]).decode("utf-8")

    def doc_json(self, d: int) -> dict:
        """Document `d` as the indexer gave it (paragraph texts and sentence spans put back)."""
        a, b = self.doc_offsets[d], self.doc_offsets[d + 1]
        meta = json.loads(bytes(self.meta[a:b]).decode("utf-8"))
        rows = range(int(self.doc_paragraphs[d]), int(self.doc_paragraphs[d + 1]))
        return join_json(meta, [self.text(r) for r in rows], [self._sentences(r) for r in rows])

    def _sentences(self, row: int) -> list[list[int]]:
        s0, s1 = self.par_sentences[row]
        return [[int(x), int(y)] for _, x, y in self.spans[s0:s1]]


def write_segment(root: Path, documents: list[dict], vectors: np.ndarray, sentence_vectors: np.ndarray,
                  bm25_texts: Sequence[str], ann_threshold: int | None = None,
                  build: dict | None = None) -> str:
    """Write one segment from documents in their JSON form (qa/document.py), their paragraph and
    sentence vectors in row order, and each paragraph's BM25 text. Returns its name once it is
    complete."""
    root = writable(root)
    seg_root = root / "segments"
    seg_root.mkdir(exist_ok=True)
    name = f"s-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = seg_root / f".tmp-{name}"
    tmp.mkdir()
    try:
        texts, metas, par_info, par_sent, spans, doc_par = [], [], [], [], [], [0]
        for di, d in enumerate(documents):
            meta, rows = split_json(d)
            for n, (text, sentences, answerable) in enumerate(rows):
                row = len(texts)
                texts.append(text.encode("utf-8"))
                par_info.append((di, n, answerable))
                par_sent.append((len(spans), len(spans) + len(sentences)))
                spans.extend((row, a, b) for a, b in sentences)
            metas.append(json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            doc_par.append(len(texts))
        vectors, sentence_vectors = np.asarray(vectors), np.asarray(sentence_vectors)
        dim = int(vectors.shape[1]) if vectors.ndim == 2 else int(sentence_vectors.shape[1])
        if len(vectors) != len(texts) or len(sentence_vectors) != len(spans):
            raise ValueError(f"{len(vectors)} vectors for {len(texts)} paragraphs, "
                             f"{len(sentence_vectors)} for {len(spans)} sentences")
        write_bytes(tmp / "texts.bin", texts)
        write_bytes(tmp / "meta.bin", metas)
        write_arr(tmp / "text_offsets.npy", _offsets(texts))
        write_arr(tmp / "doc_offsets.npy", _offsets(metas))
        write_arr(tmp / "doc_paragraphs.npy", np.asarray(doc_par, np.int64))
        write_arr(tmp / "par_info.npy", np.asarray(par_info, np.int32).reshape(-1, 3))
        write_arr(tmp / "par_sentences.npy", np.asarray(par_sent, np.int64).reshape(-1, 2))
        write_arr(tmp / "spans.npy", np.asarray(spans, np.int32).reshape(-1, 3))
        write_arr(tmp / "vectors.npy", vectors.astype(VECTOR_DTYPE, copy=False).reshape(-1, dim))
        write_arr(tmp / "sentences.npy", sentence_vectors.astype(VECTOR_DTYPE, copy=False).reshape(-1, dim))
        Postings.build(bm25_texts).save(tmp, write_arr)
        threshold = ann.ANN_THRESHOLD if ann_threshold is None else ann_threshold
        has_ann = len(texts) >= threshold and ann.build(
            np.load(tmp / "vectors.npy", mmap_mode="r"), tmp / "ann.faiss")
        names = SEGMENT_FILES + (("ann.faiss",) if has_ann else ())
        info = {"format": FORMAT, "paragraphs": len(texts), "sentences": len(spans),
                "documents": len(documents), "dim": dim, "ann": bool(has_ann),
                "docs": [identity(d) for d in documents], "build": build or {},
                "checksums": {n: checksum(tmp / n) for n in names}}
        write_json(tmp / "segment.json", info)
        os.rename(tmp, seg_root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return name


def _offsets(chunks: list[bytes]) -> np.ndarray:
    out = np.zeros(len(chunks) + 1, np.int64)
    np.cumsum([len(c) for c in chunks], out=out[1:])
    return out


def open_segment(root: Path, name: str, sha256: str | None = None) -> Segment:
    """The segment `name` of the store in `root`, its files checked (StoreError when damaged)."""
    if not re.fullmatch(r"s-[\w-]+", str(name)):
        raise StoreError("the manifest names a segment that cannot be one")
    folder = Path(root) / "segments" / name
    raw = (folder / "segment.json").read_bytes()
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise StoreError(f"{name}/segment.json does not match its checksum")
    info = json.loads(raw.decode("utf-8"))
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise StoreError(f"segment {name} has another format")
    return Segment(folder, info)
