"""Generations: the manifest that lists a store's segments (with their deleted documents), the
atomic `CURRENT` pointer to the live one, and the lock one indexer holds while it writes."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..errors import QAError
from .format import FORMAT, StoreError, writable, write_json
from .segments import Segment, open_segment, write_segment


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


def current(root: Path) -> Path | None:
    """The live generation's folder, or None when there is none (no CURRENT)."""
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


def load(root: Path) -> Store | None:
    """The live generation, or None when there is none; StoreError when it is damaged."""
    root = Path(root)
    gen = current(root)
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
            segments.append(open_segment(root, e["name"], e["sha256"]))
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


def commit(root: Path, manifest: dict, segments: list[dict]) -> Path:
    """Write a generation (manifest + [{"name", "dead"}] segments), point CURRENT at it, then
    remove older generations and every segment it does not use."""
    root = writable(root)
    entries = []
    for s in segments:
        raw = (root / "segments" / s["name"] / "segment.json").read_bytes()
        entries.append({"name": s["name"], "sha256": hashlib.sha256(raw).hexdigest(),
                        "dead": sorted(int(d) for d in s.get("dead", ()))})
    name = f"g-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir()
    try:
        write_json(tmp / "manifest.json", dict(manifest, format=FORMAT, segments=entries))
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


@contextlib.contextmanager
def locked(root: Path, notice=None) -> Iterator[None]:
    """Exclusive lock so two indexers never write the same store at once."""
    root = writable(root)
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


def finished_segments(root: Path) -> list[Segment]:
    """Complete segments no generation uses yet: what a killed indexer finished (to resume)."""
    folder = Path(root) / "segments"
    used = set()
    with contextlib.suppress(StoreError, OSError, ValueError):
        gen = current(Path(root))
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
