"""The store's files: their names, the format number, checksums, and the writers (fsync'd).

Integrity (the "cheap" checksum, checked on every open): each data file's size, and a sha256
over its first and last 64 KiB and 64 blocks of 4 KiB spread evenly between (the whole file when
it is under 1 MiB). That reads at most ~400 KiB per file, so it costs milliseconds at a million
paragraphs where a full sha256 would cost seconds; it catches an empty, truncated or extended
file, a cut header and garbled contents behind an intact header, but not a few flipped bytes
between the sampled blocks of a large file (no full sha256 is recorded).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import QAError
from ..lexical import POSTING_FILES

FORMAT = 4  # 4: segments, float16 vectors, persisted BM25, lazy texts, sampled checksums
VECTOR_DTYPE = np.float16
SEGMENT_FILES = ("vectors.npy", "sentences.npy", "texts.bin", "text_offsets.npy", "meta.bin",
                 "doc_offsets.npy", "doc_paragraphs.npy", "par_info.npy", "par_sentences.npy",
                 "spans.npy") + POSTING_FILES
SAMPLE_BLOCKS, BLOCK, EDGE = 64, 4096, 65536


class StoreError(Exception):
    """The store on disk cannot be used as it is (missing, corrupt, other model)."""


def checksum(path: Path) -> dict:
    """Size and a sha256 of the file's first and last 64 KiB and 64 evenly spread 4 KiB blocks
    (the whole file under 1 MiB)."""
    size = path.stat().st_size
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if size <= 16 * EDGE:
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


def verify_files(folder: Path, checksums, names: Sequence[str]) -> None:
    """StoreError unless each of `names` in `folder` has the size and checksum recorded."""
    if not isinstance(checksums, dict) or any(not isinstance(checksums.get(n), dict) for n in names):
        raise StoreError(f"{folder.name} has no checksums")
    for name in names:
        want = checksums[name]
        size = (folder / name).stat().st_size  # FileNotFoundError: "missing <name>"
        if size != want.get("size"):
            raise StoreError(f"{name} is {size:,} bytes, the manifest says {want.get('size')}")
        if checksum(folder / name)["sha256"] != want.get("sha256"):
            raise StoreError(f"{name} does not match its checksum")


def write_arr(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def write_bytes(path: Path, chunks: list[bytes]) -> None:
    with open(path, "wb") as f:
        for c in chunks:
            f.write(c)
        f.flush()
        os.fsync(f.fileno())


def write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())


def writable(root) -> Path:
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
