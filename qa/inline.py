"""Inline markup in prose, read past: a link as its label, a tag as a space, with a map back to
the source characters, so what is read or embedded cites the file's own text. Base level: the
indexer embeds this view and the reader reads it (a URL is dozens of word pieces of noise to
models trained on prose)."""
from __future__ import annotations

import re
from bisect import bisect_left

from .text import CODE_SPAN

# what a reader skips in a Markdown paragraph: a link's or image's target (its label stays), and
# inline HTML tags and comments
_VIEW = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)"
                   r"|!?\[([^\]\n]*)\]\[[^\]\n]*\]|<!--.*?-->|</?[A-Za-z][^<>\n]*>", re.S)


def _markup(text: str):
    """The links, images and tags of a prose text, outside its inline code (`<package>` in
    code is a placeholder, not a tag)."""
    code = code_spans(text) if "`" in text else []
    for m in _VIEW.finditer(text):
        if not any(a <= m.start() < b for a, b in code):
            yield m


def _label(m: re.Match) -> int:
    """The group of a link's or image's label in a `_VIEW` match; 0 for a tag or comment."""
    return 1 if m.group(1) is not None else 2 if m.group(2) is not None else 0


def reading_view(text: str) -> tuple[str, list[int]]:
    """`text` as a reader should read it: links and images as their labels, inline tags gone,
    inline code without its backticks. Also, for each character of the view, the offset of the
    source character it stands for (and one more entry: the source's end), so a span read in
    the view cites the source. The models were trained on prose; a URL is dozens of word
    pieces of noise to them."""
    if "[" not in text and "<" not in text and "`" not in text:
        return text, list(range(len(text) + 1))
    out: list[str] = []
    where: list[int] = []
    pos = 0
    for m in _markup(text):
        out.append(text[pos:m.start()])
        where.extend(range(pos, m.start()))
        g = _label(m)
        if g:
            a, b = m.span(g)
            out.append(text[a:b])
            where.extend(range(a, b))
        else:  # a tag between two words still parts them
            out.append(" ")
            where.append(m.start())
        pos = m.end()
    out.append(text[pos:])
    where.extend(range(pos, len(text) + 1))
    view = "".join(out)
    if "`" not in view:
        return view, where
    out, kept, pos = [], [], 0
    for m in CODE_SPAN.finditer(view):  # `uv lock` reads as uv lock
        a, b = m.span(2)
        out += [view[pos:m.start()], view[a:b]]
        kept += where[pos:m.start()] + where[a:b]
        pos = m.end()
    out.append(view[pos:])
    return "".join(out), kept + where[pos:]


def whole_links(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened so that it cuts no link, image or tag in two: an answer that
    ends inside a link's label runs to the end of its target, and reads as the label
    (`reading_view`). One inside a label stays as it is."""
    if "[" not in text and "<" not in text:
        return start, end
    for m in _markup(text):
        a, b = m.span()
        if a >= end:
            break
        g = _label(m)
        inside_label = g and m.start(g) <= start and end <= m.end(g)
        if b > start and (a < start or b > end) and not inside_label:  # overlaps and is cut
            start, end = min(start, a), max(end, b)
    return start, end


def code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each inline code span, backticks included."""
    return [m.span() for m in CODE_SPAN.finditer(text)]


def view_of(text: str, code: bool) -> tuple[str, list[int]]:
    """`reading_view` of prose; code as it stands (`<package>` and brackets are its own)."""
    return (text, list(range(len(text) + 1))) if code else reading_view(text)


def view_spans(where: list[int], spans) -> list[tuple[int, int]]:
    """Source spans (a paragraph's sentences) as spans of its view (`reading_view`'s map)."""
    return [(bisect_left(where, int(a)), bisect_left(where, int(b))) for a, b in spans]
