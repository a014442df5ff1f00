"""The corpus scan's stat cache, kept beside the store in `seen.json`.

`Seen` is what a scan remembers of a file (qa/corpus.py `read_corpus(seen=...)` takes the last
scan's and gives the next); `read_seen` / `write_seen` keep it between runs. Only a cache: when it
is missing or damaged, files are hashed again.
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import NamedTuple

SEEN = "seen.json"


class Seen(NamedTuple):
    """A file's bytes as last hashed, keyed by what `stat` said then: the same size, mtime,
    ctime and inode mean the same bytes (git's index makes the same bet), so an unchanged
    corpus is checked without reading it. (A NamedTuple: a million-paragraph corpus has
    100,000 of them to load.)"""

    stat: tuple[int, int, int, int]
    sha256: str  # of the raw bytes


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
