"""Sentence spans inside a paragraph, computed once at index time (pysbd costs ~5 ms a paragraph)."""
from __future__ import annotations

import re
from functools import lru_cache

_WS = re.compile(r"\s")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd  # rule-based: knows "U.S.", "Mr.", "p.m." and quotes
    return pysbd.Segmenter(language="en", clean=False)


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and _WS.match(text[s]):
        s += 1
    while e > s and _WS.match(text[e - 1]):
        e -= 1
    return s, e


def _cut(s: int, e: int, skip: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """The parts of [s, e) outside the chrome ranges."""
    parts = [(s, e)]
    for a, b in skip:
        nxt = []
        for x, y in parts:
            if b <= x or a >= y:
                nxt.append((x, y))
                continue
            if x < a:
                nxt.append((x, a))
            if b < y:
                nxt.append((b, y))
        parts = nxt
    return parts


def split(text: str, skip: tuple[tuple[int, int], ...] = ()) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, never crossing a line break or a chrome range."""
    spans: list[tuple[int, int]] = []
    seg = _segmenter()
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            cursor = 0
            for piece in seg.segment(line):
                piece = piece.strip()
                found = line.find(piece, cursor) if piece else -1
                if found < 0:  # the segmenter altered the text: fall back to the rest of the line
                    continue
                a, b = pos + found, pos + found + len(piece)
                cursor = found + len(piece)
                for x, y in _cut(a, b, skip):
                    x, y = _trim(text, x, y)
                    if y - x >= 2 and any(c.isalnum() for c in text[x:y]):
                        spans.append((x, y))
        pos += len(line) + 1
    return spans
