"""Sentence spans inside a paragraph, computed once at index time (pysbd costs ~5 ms a paragraph)."""
from __future__ import annotations

import re
from functools import lru_cache

from .inline import INLINE_HTML
from .text import CODE_SPAN  # a "?" or "." inside inline code ends no sentence

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


# A line that starts its own unit: a list item ("- ", "* ", "• ", "1. ", "2) ", "a) "), a
# Markdown heading, a quote or table row, an rst/markdown rule.
_OWN_LINE = re.compile(r"^\s*(?:[-*+•‣◦▪–—]\s|\d{1,3}[.)]\s|[a-zA-Z][.)]\s|#{1,6}\s|>|\||[-=*_~^]{3,}\s*$)")
def own_line_between(text: str, end: int, nxt: int) -> bool:
    """Does the sentence at `nxt` start a line of its own after the one that ends at `end` (a
    list item, a table row, a heading: `_OWN_LINE`)?"""
    return "\n" in text[end:nxt] and bool(_OWN_LINE.match(text[text.rfind("\n", 0, nxt) + 1:].partition("\n")[0]))


_QUOTED = re.compile(r"[ \t]*>[ \t]?")  # a block quote's line mark
_SHORT_LINE = 0.6  # a line shorter than this share of the paragraph's longest line ends its unit
_MIN_WRAP = 40  # lines all shorter than this are not wrapped prose (verse, an address): kept apart


def _units(text: str, skip: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """(start, end) of the runs of lines that read as one text: hard-wrapped lines join.

    A line joins the one before unless it starts a list item, heading, quote or table row
    (`_OWN_LINE`), either of them is chrome (a byline, a credit: in `skip`), or the one before
    is clearly shorter than the wrap width although the next word would have fitted on it (a
    title, a verse or address line). An indented
    line after a list item is the item's wrapped continuation; a block quote's lines join as
    the quote's text does.
    """
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    width = max((len(text[a:b].rstrip()) for a, b in lines), default=0)

    def chrome(a: int, b: int) -> bool:
        return any(x < b and a < y for x, y in skip)

    units: list[tuple[int, int]] = []
    prev: tuple[int, int] | None = None
    for a, b in lines:
        line = text[a:b]
        if not line.strip():
            prev = None
            continue
        joins = False
        if prev is not None and _QUOTED.match(line) and _QUOTED.match(text[prev[0]:prev[1]]) \
                and not chrome(a, b) and not chrome(*prev):
            # a block quote's next line goes on with its text ("> type rather than ..."), unless
            # it starts a unit of its own inside the quote, or one of them is the quote's blank
            inner = _QUOTED.sub("", line, 1)
            before = _QUOTED.sub("", text[prev[0]:prev[1]], 1)
            joins = bool(inner.strip() and before.strip()) and not _OWN_LINE.match(inner) \
                and not before.lstrip().startswith(("#", "|"))
        elif prev is not None and not _OWN_LINE.match(line) and not chrome(a, b) and not chrome(*prev):
            before = text[prev[0]:prev[1]]
            unit_start = text[units[-1][0]:prev[1]]
            if _OWN_LINE.match(unit_start):  # inside a list item, heading, quote, table row
                joins = line[:1].isspace() and not unit_start.lstrip().startswith(("#", "|", ">"))
            else:
                # a short line was wrapped all the same when the next line's first word
                # would not have fitted after it (a long link or path)
                word = len(line.split(None, 1)[0])
                joins = width >= _MIN_WRAP and (len(before.strip()) >= _SHORT_LINE * width
                                                or len(before.rstrip()) + 1 + word > width)
        if joins:
            units[-1] = (units[-1][0], b)
        else:
            units.append((a, b))
        prev = (a, b)
    return units


_NOT_WORD = re.compile(r"[^\w\s]")
CODE_LINES = 12  # a code block is quoted in runs of at most this many lines
_PROMPT_LINE = re.compile(r"[ \t]*(?:\$|>>>|PS>)[ \t]")


# inline HTML: a comment (`<!-- ignore -->`: its "!" ends no sentence) or a tag
_INLINE_HTML = re.compile(INLINE_HTML, re.S)


def _mask_code(unit: str) -> str:
    """`unit` with the punctuation inside inline code spans and inline HTML replaced (same length)."""
    if "<" in unit:
        unit = _INLINE_HTML.sub(lambda m: "<" + _NOT_WORD.sub("x", m.group()[1:-1]) + ">", unit)
    if "`" not in unit:
        return unit
    return CODE_SPAN.sub(lambda m: m.group(1) + _NOT_WORD.sub("x", m.group(2)) + m.group(1), unit)


def split_code(text: str, skip: tuple[tuple[int, int], ...] = ()) -> list[tuple[int, int]]:
    """A code block's quotable units: its runs of non-blank lines (at most CODE_LINES each; in
    a shell session, each prompt line with the output under it), leading indentation and `skip`
    ranges left out."""
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []

    def flush():
        if run:
            for x, y in _cut(run[0][0], run[-1][1], skip):
                x, y = _trim(text, x, y)
                if y > x and any(c.isalnum() for c in text[x:y]):
                    spans.append((x, y))
            run.clear()

    pos = 0
    for line in text.split("\n"):
        a, b = pos, pos + len(line)
        pos = b + 1
        if not line.strip() or any(x <= a and b <= y for x, y in skip):
            flush()
            continue
        if run and _PROMPT_LINE.match(line):  # a shell session: each command with its output
            flush()
        run.append((a, b))
        if len(run) >= CODE_LINES:
            flush()
    flush()
    return spans


def split(text: str, skip: tuple[tuple[int, int], ...] = (), code: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, never crossing a chrome range (a code block's
    line runs when `code`).

    Sentences run across the single line breaks of hard-wrapped text; lines that stand on
    their own (list items, headings, chrome, short lines) are boundaries (`_units`); inline
    code and inline HTML are atomic. The spans index `text` exactly: a sentence's text keeps its inner line breaks.
    """
    if code:
        return split_code(text, skip)
    spans: list[tuple[int, int]] = []
    seg = _segmenter()
    for ua, ub in _units(text, skip):
        unit = _mask_code(text[ua:ub].replace("\n", " "))  # same length: offsets stay exact
        cursor = 0
        for piece in seg.segment(unit):
            piece = piece.strip()
            found = unit.find(piece, cursor) if piece else -1
            if found < 0:  # the segmenter altered the text: skip the piece
                continue
            a, b = ua + found, ua + found + len(piece)
            cursor = found + len(piece)
            for x, y in _cut(a, b, skip):
                x, y = _trim(text, x, y)
                if y - x >= 2 and any(c.isalnum() for c in text[x:y]):
                    spans.append((x, y))
    return spans
