"""Citation numbering for any front end: which [n] each quote of an answer carries.

No colour and no terminal: the ANSI renderer (`qa/render.py`), the chat's `:open N`, and a
future HTTP API or web page all number an answer's sources the same way.
"""
from __future__ import annotations

from typing import NamedTuple

from .types import Answer, Citation

__all__ = ["Numbered", "number_citations", "citations"]


class Numbered(NamedTuple):
    """`sources[n - 1]` is citation [n]; `markers[i]` are the numbers snippet i carries."""

    sources: list[Citation]
    markers: list[list[int]]


def number_citations(answer: Answer) -> Numbered:
    """Each snippet gets the next number, then each document corroborating it. A paragraph
    cited twice keeps its first number, so a Sources list has no duplicate lines."""
    order: list[Citation] = []
    seen: dict[tuple[str, int], int] = {}
    markers: list[list[int]] = []

    def number(c: Citation) -> int:
        key = (c.doc, c.paragraph)
        if key not in seen:
            order.append(c)
            seen[key] = len(order)
        return seen[key]

    for s in answer.snippets:
        nums = [number(s.citation)] + [number(c) for c in s.corroborated_by]
        markers.append(list(dict.fromkeys(nums)))
    return Numbered(order, markers)


def citations(answer: Answer) -> list[Citation]:
    """The answer's citations in marker order: [1] is citations(answer)[0]."""
    return number_citations(answer).sources
