"""The on-disk store: immutable segments, generations that list them, and the dense search.

Layout of a store folder:
    CURRENT                  name of the live generation (replaced atomically by rename)
    .lock                    flock held by the one indexer at work
    seen.json                the last corpus scan's stat cache (qa/corpus.py `Seen`); only a
                             cache: when it is missing or damaged, files are hashed again
    g-<id>/manifest.json     format, model, dim, sha256 per corpus file, the segments in row
                             order with their deleted documents (tombstones), and the checksum
                             of each segment's segment.json
    segments/s-<id>/         one immutable segment (written under .tmp-s-<id>, renamed when done):
        segment.json         its documents (name, sha256), counts, and a checksum per file below
        vectors.npy          float16 (paragraphs, dim); sentences.npy float16 (sentences, dim)
        texts.bin            paragraph texts, utf-8, back to back; text_offsets.npy (P + 1)
        meta.bin             one JSON object per document (title, date, per-paragraph kind,
                             chrome ranges and any further keys), back to back; doc_offsets.npy
        doc_paragraphs.npy   first row of each document (D + 1)
        par_info.npy         int32 (P, 3): document, paragraph number, answerable
        par_sentences.npy    int64 (P, 2): each paragraph's sentence rows [first, last)
        spans.npy            int32 (S, 3): sentence -> (paragraph row, start, end)
        terms.npy ... doclen.npy   the BM25 postings (qa/lexical.py)
        ann.faiss            HNSW graph, for segments of ANN_THRESHOLD rows or more (qa/ann.py)

Opening maps the arrays (nothing per paragraph is parsed: texts and document metadata are
decoded when a row is read), so a million-paragraph store opens in well under 2 s. New or
changed files go to a new segment; a changed or deleted file's old rows become a tombstone in
the next generation's manifest; `merge` compacts segments. Each finished segment is kept until a
generation is complete, so a killed indexer resumes from the segments it finished.
No pickle: JSON and .npy (allow_pickle=False).

Integrity (the "cheap" checksum, checked on every open): each data file's size, and a sha256
over its first and last 64 KiB and 64 blocks of 4 KiB spread evenly between (the whole file when
it is under 1 MiB). That reads at most ~400 KiB per file, so it costs milliseconds at a million
paragraphs where a full sha256 would cost seconds; it catches an empty, truncated or extended
file, a cut header and garbled contents behind an intact header, but not a few flipped bytes
between the sampled blocks of a large file (`verify(root, full=True)` hashes everything).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from . import ann
from .corpus import ANSWERABLE_KINDS, Seen
from .errors import QAError
from .lexical import POSTING_FILES, BM25Index, Postings

FORMAT = 4  # 4: segments, float16 vectors, persisted BM25, lazy texts, sampled checksums
VECTOR_DTYPE = np.float16
SEGMENT_FILES = ("vectors.npy", "sentences.npy", "texts.bin", "text_offsets.npy", "meta.bin",
                 "doc_offsets.npy", "doc_paragraphs.npy", "par_info.npy", "par_sentences.npy",
                 "spans.npy") + POSTING_FILES
SAMPLE_BLOCKS, BLOCK, EDGE = 64, 4096, 65536
WIDEN_MAX = 200_000  # rows widened to float32 and kept in memory for exact search


class StoreError(Exception):
    """The store on disk cannot be used as it is (missing, corrupt, other model)."""


# -- dense search ------------------------------------------------------------------------------

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


# -- checksums ---------------------------------------------------------------------------------

def _checksum(path: Path, full: bool = False) -> dict:
    """Size and a sha256 of the file's first and last 64 KiB and 64 evenly spread 4 KiB blocks
    (the whole file under 1 MiB, or when `full`)."""
    size = path.stat().st_size
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if full or size <= 16 * EDGE:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        else:
            h.update(f.read(EDGE))
            span = size - 2 * EDGE - BLOCK
            for i in range(SAMPLE_BLOCKS):
                f.seek(EDGE + span * i // (SAMPLE_BLOCKS - 1))
                h.update(f.read(BLOCK))
            f.seek(size - EDGE)
            h.update(f.read(EDGE))
    return {"size": size, "sha256": h.hexdigest()}


def _verify_files(folder: Path, checksums, names: Sequence[str], full: bool = False) -> None:
    if not isinstance(checksums, dict) or any(not isinstance(checksums.get(n), dict) for n in names):
        raise StoreError(f"{folder.name} has no checksums")
    for name in names:
        want = checksums[name]
        size = (folder / name).stat().st_size  # FileNotFoundError: "missing <name>"
        if size != want.get("size"):
            raise StoreError(f"{name} is {size:,} bytes, the manifest says {want.get('size')}")
        if _checksum(folder / name, full)["sha256"] != want.get("sha256"):
            raise StoreError(f"{name} does not match its checksum")


# -- segments ------------------------------------------------------------------------------------

def _blob(path: Path) -> np.ndarray:
    return np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)


class Segment:
    """One finished segment, memory-mapped. Rows are local to the segment."""

    def __init__(self, folder: Path, info: dict, full_check: bool = False):
        self.folder, self.info, self.name = folder, info, folder.name
        names = SEGMENT_FILES + (("ann.faiss",) if info.get("ann") else ())
        _verify_files(folder, info.get("checksums"), names, full_check)
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
        j = json.loads(bytes(self.meta[a:b]).decode("utf-8"))
        first = int(self.doc_paragraphs[d])
        for n, p in enumerate(j["paragraphs"]):
            row = first + n
            s0, s1 = self.par_sentences[row]
            p["text"] = self.text(row)
            p["sentences"] = [[int(x), int(y)] for _, x, y in self.spans[s0:s1]]
        return j


def write_segment(root: Path, documents: list[dict], vectors: np.ndarray, sentence_vectors: np.ndarray,
                  bm25_texts: Sequence[str], ann_threshold: int | None = None,
                  build: dict | None = None) -> str:
    """Write one segment from documents in the indexer's JSON form (paragraphs with "text",
    "kind", "skip", "sentences" and any further keys), their paragraph and sentence vectors in
    row order, and each paragraph's BM25 text. Returns its name once it is complete."""
    root = _writable(root)
    seg_root = root / "segments"
    seg_root.mkdir(exist_ok=True)
    name = f"s-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = seg_root / f".tmp-{name}"
    tmp.mkdir()
    try:
        texts, metas, par_info, par_sent, spans, doc_par = [], [], [], [], [], [0]
        for di, d in enumerate(documents):
            meta = {k: v for k, v in d.items() if k != "paragraphs"}
            meta["paragraphs"] = []
            for n, p in enumerate(d["paragraphs"]):
                meta["paragraphs"].append({k: v for k, v in p.items() if k not in ("text", "sentences")})
                row = len(texts)
                texts.append(p["text"].encode("utf-8"))
                par_info.append((di, n, p.get("kind", "body") in ANSWERABLE_KINDS))
                par_sent.append((len(spans), len(spans) + len(p["sentences"])))
                spans.extend((row, a, b) for a, b in p["sentences"])
            metas.append(json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            doc_par.append(len(texts))
        vectors, sentence_vectors = np.asarray(vectors), np.asarray(sentence_vectors)
        dim = int(vectors.shape[1]) if vectors.ndim == 2 else int(sentence_vectors.shape[1])
        if len(vectors) != len(texts) or len(sentence_vectors) != len(spans):
            raise ValueError(f"{len(vectors)} vectors for {len(texts)} paragraphs, "
                             f"{len(sentence_vectors)} for {len(spans)} sentences")
        _write_bytes(tmp / "texts.bin", texts)
        _write_bytes(tmp / "meta.bin", metas)
        _write_arr(tmp / "text_offsets.npy", _offsets(texts))
        _write_arr(tmp / "doc_offsets.npy", _offsets(metas))
        _write_arr(tmp / "doc_paragraphs.npy", np.asarray(doc_par, np.int64))
        _write_arr(tmp / "par_info.npy", np.asarray(par_info, np.int32).reshape(-1, 3))
        _write_arr(tmp / "par_sentences.npy", np.asarray(par_sent, np.int64).reshape(-1, 2))
        _write_arr(tmp / "spans.npy", np.asarray(spans, np.int32).reshape(-1, 3))
        _write_arr(tmp / "vectors.npy", vectors.astype(VECTOR_DTYPE, copy=False).reshape(-1, dim))
        _write_arr(tmp / "sentences.npy", sentence_vectors.astype(VECTOR_DTYPE, copy=False).reshape(-1, dim))
        Postings.build(bm25_texts).save(tmp, _write_arr)
        threshold = ann.ANN_THRESHOLD if ann_threshold is None else ann_threshold
        has_ann = len(texts) >= threshold and ann.build(
            np.load(tmp / "vectors.npy", mmap_mode="r"), tmp / "ann.faiss")
        names = SEGMENT_FILES + (("ann.faiss",) if has_ann else ())
        info = {"format": FORMAT, "paragraphs": len(texts), "sentences": len(spans),
                "documents": len(documents), "dim": dim, "ann": bool(has_ann),
                "docs": [[d["doc"], d.get("sha256", "")] for d in documents], "build": build or {},
                "checksums": {n: _checksum(tmp / n) for n in names}}
        _write_json(tmp / "segment.json", info)
        os.rename(tmp, seg_root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return name


def _offsets(chunks: list[bytes]) -> np.ndarray:
    out = np.zeros(len(chunks) + 1, np.int64)
    np.cumsum([len(c) for c in chunks], out=out[1:])
    return out


def open_segment(root: Path, name: str, sha256: str | None = None, full_check: bool = False) -> Segment:
    if not re.fullmatch(r"s-[\w-]+", str(name)):
        raise StoreError("the manifest names a segment that cannot be one")
    folder = Path(root) / "segments" / name
    raw = (folder / "segment.json").read_bytes()
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise StoreError(f"{name}/segment.json does not match its checksum")
    info = json.loads(raw.decode("utf-8"))
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise StoreError(f"segment {name} has another format")
    return Segment(folder, info, full_check)


def finished_segments(root: Path) -> list[Segment]:
    """Complete segments no generation uses yet: what a killed indexer finished (to resume)."""
    folder = Path(root) / "segments"
    used = set()
    with contextlib.suppress(StoreError, OSError, ValueError):
        gen = _current(Path(root))
        if gen is not None:
            m = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
            used = {s["name"] for s in m.get("segments", [])}
    out = []
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.name.startswith("s-") and p.name not in used:
                with contextlib.suppress(StoreError, OSError, ValueError, KeyError, TypeError):
                    out.append(open_segment(root, p.name))
    return out


# -- generations -----------------------------------------------------------------------------------

@dataclass
class Store:
    """The live generation: its manifest and its segments with their deleted documents."""
    root: Path
    manifest: dict
    segments: list[Segment]
    dead: list[frozenset]  # per segment, the indices of its deleted documents

    @property
    def n_paragraphs(self) -> int:
        return int(self.manifest["paragraphs"])

    def live_docs(self) -> Iterator[tuple[int, int]]:
        """(segment, document) of every live document, in row order."""
        for si, seg in enumerate(self.segments):
            for d in range(len(seg.docs)):
                if d not in self.dead[si]:
                    yield si, d

    # conveniences that materialise everything (tests, small stores)
    @property
    def documents(self) -> list[dict]:
        return [self.segments[s].doc_json(d) for s, d in self.live_docs()]

    def _live_rows(self, sentences: bool) -> np.ndarray:
        parts = []
        for s, d in self.live_docs():
            seg = self.segments[s]
            a, b = int(seg.doc_paragraphs[d]), int(seg.doc_paragraphs[d + 1])
            if sentences:
                a, b = (int(seg.par_sentences[a, 0]), int(seg.par_sentences[b - 1, 1])) if b > a else (0, 0)
                parts.append(np.asarray(seg.sentence_vectors[a:b], np.float32))
            else:
                parts.append(np.asarray(seg.vectors[a:b], np.float32))
        dim = int(self.manifest.get("dim") or 0)
        return np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)

    @property
    def vectors(self) -> np.ndarray:
        return self._live_rows(False)

    @property
    def sentence_vectors(self) -> np.ndarray:
        return self._live_rows(True)


def _current(root: Path) -> Path | None:
    try:
        name = (root / "CURRENT").read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise StoreError(f"cannot read {root / 'CURRENT'}: {e}") from None
    if not name or "/" in name or name.startswith("."):
        raise StoreError("CURRENT pointer is corrupt")
    return root / name


def exists(root: Path) -> bool:
    return (Path(root) / "CURRENT").exists()


def load(root: Path, full_check: bool = False) -> Store | None:
    """The live generation, or None when there is none; StoreError when it is damaged."""
    root = Path(root)
    gen = _current(root)
    if gen is None:
        return None
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise StoreError(f"store format {manifest.get('format') if isinstance(manifest, dict) else '?'} "
                             f"is not {FORMAT}")
        entries = manifest.get("segments")
        if not isinstance(entries, list):
            raise StoreError("the manifest lists no segments")
        segments, dead = [], []
        for e in entries:
            segments.append(open_segment(root, e["name"], e["sha256"], full_check))
            dead.append(frozenset(int(d) for d in e.get("dead", ())))
    except FileNotFoundError as e:
        raise StoreError(f"missing {Path(e.filename).name}") from None
    except (KeyError, TypeError, AttributeError):
        raise StoreError("the manifest or a segment.json is malformed") from None
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as e:
        raise StoreError(f"unreadable store ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
    store = Store(root, manifest, segments, dead)
    n_par = sum(s.n_paragraphs for s in segments)
    dim = manifest.get("dim")
    if any(s.info.get("dim") != dim for s in segments):
        raise StoreError(f"a segment's dimension is not {dim}")
    live = n_par - sum(int(s.doc_paragraphs[d + 1] - s.doc_paragraphs[d]) for s, dd in zip(segments, dead)
                       for d in dd)
    if live != manifest.get("paragraphs"):
        raise StoreError(f"the segments hold {live} live paragraphs, the manifest says {manifest.get('paragraphs')}")
    return store


def verify(root: Path) -> None:
    """A full check: every byte of every data file against a full sha256 is not recorded, so
    this re-reads everything through `load(full_check=True)` (StoreError when damaged)."""
    load(root, full_check=True)


def commit(root: Path, manifest: dict, segments: list[dict]) -> Path:
    """Write a generation (manifest + [{"name", "dead"}] segments), point CURRENT at it, then
    remove older generations and every segment it does not use."""
    root = _writable(root)
    entries = []
    for s in segments:
        raw = (root / "segments" / s["name"] / "segment.json").read_bytes()
        entries.append({"name": s["name"], "sha256": hashlib.sha256(raw).hexdigest(),
                        "dead": sorted(int(d) for d in s.get("dead", ()))})
    name = f"g-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    try:
        _write_json(tmp / "manifest.json", dict(manifest, format=FORMAT, segments=entries))
        os.rename(tmp, root / name)
        ptr = root / f".CURRENT.{name}"
        ptr.write_text(name + "\n")
        os.replace(ptr, root / "CURRENT")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in root.iterdir():
        if old.name != name and (old.name.startswith("g-") or old.name.startswith(".tmp-g-")):
            shutil.rmtree(old, ignore_errors=True)
    used = {e["name"] for e in entries}
    for old in (root / "segments").iterdir() if (root / "segments").is_dir() else ():
        if old.name not in used:
            shutil.rmtree(old, ignore_errors=True)
    return root / name


@dataclass
class StoreData:
    """A whole store in memory (tests and tools): documents in the indexer's JSON form."""
    manifest: dict
    documents: list[dict]
    vectors: np.ndarray
    sentence_vectors: np.ndarray


def save(root: Path, data: StoreData, bm25_texts: Sequence[str] | None = None) -> Path:
    """One segment with everything, committed as a new generation."""
    texts = bm25_texts if bm25_texts is not None else [
        p["text"] for d in data.documents for p in d["paragraphs"]]
    name = write_segment(root, data.documents, data.vectors, data.sentence_vectors, texts)
    m = dict(data.manifest)
    m.setdefault("paragraphs", sum(len(d["paragraphs"]) for d in data.documents))
    return commit(root, m, [{"name": name}])


def _write_arr(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _write_bytes(path: Path, chunks: list[bytes]) -> None:
    with open(path, "wb") as f:
        for c in chunks:
            f.write(c)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())


def check_location(store: str | os.PathLike, corpus: str | os.PathLike | None = None) -> Path:
    """The store folder, or QAError (one line) when it cannot be one: a URL (no remote stores
    yet), an existing file, a path through a file, or a folder inside the corpus that the corpus
    reader would walk (a hidden folder there is fine: hidden folders are never read)."""
    text = os.fspath(store)
    if re.match(r"^[A-Za-z][\w+.-]*://", text):
        scheme = text.split("://", 1)[0]
        raise QAError(f"--store {text}: {scheme}:// stores are not supported yet; give a local folder")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise QAError(f"--store {text} is a file, not a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise QAError(f"--store {text}: {parent} is a file, not a folder")
            break
    if corpus is not None:
        root = Path(corpus).expanduser().resolve()
        try:
            inside = path.resolve().relative_to(root)
        except ValueError:
            inside = None
        if inside is not None and not any(part.startswith(".") for part in inside.parts):
            raise QAError(f"--store {text} is inside the corpus folder {root}: use a folder outside "
                          f"it, or a hidden one such as {root / '.qa-store'}")
    return path


def _writable(root) -> Path:
    """`root` created if need be; QAError (one line) when it cannot be (a file, no permission)."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise QAError(f"cannot use {root} as the store: it is a file, not a folder") from None
    except OSError as e:
        raise QAError(f"cannot create the store {root}: {e.strerror or e}") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise QAError(f"cannot write the store {root}: permission denied")
    return root


SEEN = "seen.json"


def read_seen(root: Path) -> dict[str, Seen]:
    """The last scan's stat cache; {} when there is none or it cannot be read (a cache)."""
    try:
        raw = json.loads((Path(root) / SEEN).read_text(encoding="utf-8"))
        return {name: Seen((v[0], v[1], v[2], v[3]), v[4]) for name, v in raw["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return {}


def write_seen(root: Path, seen: dict[str, Seen]) -> None:
    """Replace the stat cache atomically; best effort (a read-only store just hashes again)."""
    root = Path(root)
    tmp = root / f".{SEEN}.{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"format": 1, "files": {n: [*s.stat, s.sha256] for n, s in seen.items()}}, f,
                      separators=(",", ":"))
        os.replace(tmp, root / SEEN)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def locked(root: Path, notice=None) -> Iterator[None]:
    """Exclusive lock so two indexers never write the same store at once."""
    root = _writable(root)
    try:
        f = open(root / ".lock", "a+")
    except OSError as e:
        raise QAError(f"cannot write the store {root}: {e.strerror or e}") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            (notice or (lambda m: print(m, file=sys.stderr)))(
                f"waiting for another indexer to finish with {root} ...")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
