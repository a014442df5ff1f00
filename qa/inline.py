"""Inline markup in prose, read past: a link as its label, emphasis as its words, a tag as a
space, with a map back to the source characters, so what is read or embedded cites the file's
own text. Base level: the indexer embeds this view and the reader reads it (a URL is dozens of
word pieces of noise to models trained on prose)."""
from __future__ import annotations

import re
from bisect import bisect_left

from .text import CODE_SPAN

# what a reader skips in a Markdown paragraph: a link's or image's target (its label stays),
# emphasis marks (`_Cargo.toml_`, `**bold**`: the words stay; not `snake_case` inside a word),
# inline HTML tags and comments, and a block quote's `>` at each line's start
_EMPHASIS_RX = (r"(?<![\w*])\*\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*\*(?![\w*])"
                r"|(?<![\w_])__(?=[^\s_])([^_]+?)(?<=[^\s_])__(?![\w_])"
                r"|(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])"
                r"|(?<![\w_])_(?=[^\s_])((?:[^_]|(?<=\w)_(?=\w))+?)(?<=[^\s_])_(?![\w_])")
_EMPHASIS = re.compile(_EMPHASIS_RX)
INLINE_HTML = r"<!--.*?-->|</?[A-Za-z][^<>\n]*>"  # a comment (it may span lines: re.S) or a tag
_VIEW = re.compile(r"!?\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)"
                   r"|!?\[([^\]\n]*)\]\[[^\]\n]*\]|" + _EMPHASIS_RX +
                   r"|" + INLINE_HTML + r"|(?m:^[ \t]*>[ \t]?)", re.S)
_MARKS = re.compile(r"[\[<`*_]|^[ \t]*>", re.M)  # a text without these has no markup to read past


def _markup(text: str, rx: re.Pattern = _VIEW):
    """The links, images, emphasis and tags of a prose text, outside its inline code
    (`<package>` in code is a placeholder, not a tag; `_x_` there is a name)."""
    code = code_spans(text) if "`" in text else []
    for m in rx.finditer(text):
        if not any(a <= m.start() < b for a, b in code):
            yield m


def _label(m: re.Match) -> int:
    """The group of a link's or image's label, or of emphasised words, in a `_VIEW` (or
    `_EMPHASIS`) match; 0 for a tag, a comment or a quote's `>`."""
    return next((g for g in range(1, m.re.groups + 1) if m.group(g) is not None), 0)


def _read_past(text: str, where: list[int], matches) -> tuple[str, list[int]]:
    """`text` with each match replaced by its label (`_label`) or, a tag, by a space (it still
    parts two words); `where` (source offsets of `text`'s characters, and its end) carried along."""
    out: list[str] = []
    kept: list[int] = []
    pos = 0
    for m in matches:
        out.append(text[pos:m.start()])
        kept.extend(where[pos:m.start()])
        g = _label(m)
        if g:
            a, b = m.span(g)
            out.append(text[a:b])
            kept.extend(where[a:b])
        else:
            out.append(" ")
            kept.append(where[m.start()])
        pos = m.end()
    out.append(text[pos:])
    kept.extend(where[pos:])
    return "".join(out), kept


def reading_view(text: str) -> tuple[str, list[int]]:
    """`text` as a reader should read it: links and images as their labels, emphasis marks and
    inline tags gone, inline code without its backticks. Also, for each character of the view,
    the offset of the source character it stands for (and one more entry: the source's end), so
    a span read in the view cites the source. The models were trained on prose; a URL is dozens
    of word pieces of noise to them."""
    if not _MARKS.search(text):
        return text, list(range(len(text) + 1))
    view, where = _read_past(text, list(range(len(text) + 1)), _markup(text))
    if view != text and ("_" in view or "*" in view):  # emphasis inside a label: [_TOML_][toml]
        view, where = _read_past(view, where, _markup(view, _EMPHASIS))
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
    if not _MARKS.search(text):
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


# what a name is called by in prose after it: "the `[dev-dependencies]` section", "the **curl** program"
_CATEGORY = re.compile(r"[ \t\n]+(?:section|table|program|tool|crate|package|library|module|file|command|"
                       r"subcommand|flag|option|setting|key|field|variable|macro|trait|method|function|"
                       r"keyword|type|attribute|profile|feature|channel|component|target|director(?:y|ies)|"
                       r"folder|extension|plugin)s?[ \t]*", re.I)


def marked_name(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end), or the name alone when it is a name the text marks (inline code,
    emphasis, a link's label) and the word the text calls it by ("`[dev-dependencies]`
    section", "the [cargo-cache](...) crate" gives cargo-cache)."""
    found = [(m.start(), m.end(), m.span(2)) for m in CODE_SPAN.finditer(text, 0, end)]
    if _MARKS.search(text):
        found += [(m.start(), m.end(), m.span(g)) for m in _markup(text) for g in [_label(m)] if g]
    for a, b, content in found:
        if a <= start < max(content[1], a + 1) and b < end and _CATEGORY.fullmatch(text, b, end):
            return content
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
