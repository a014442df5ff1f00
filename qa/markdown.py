"""Markdown's blocks told apart by a CommonMark parser (markdown-it-py), with exact offsets.

Line rules cannot tell a heading from prose, a link-reference definition from a sentence, or a
`<Listing>` tag from text; the parser can. Each block keeps the source characters it came from,
so a citation into a paragraph slices the file's text exactly. What is answered from: prose,
lists, block quotes, tables and code, and prose written as an HTML block (`<dl>` of options).
What is kept but never answered from: headings (they name the section), other raw HTML and
comments, paragraphs that are one inline element (a caption), include directives. What is
dropped: link-reference definitions, thematic breaks, front matter (its title and date are
read).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .text import CODE_SPAN

# mdBook / Jinja-style include and template lines: {{#include file.rs}}, {{#rustdoc_include ...}}, {% ... %}
DIRECTIVE = re.compile(r"^\s*(\{\{#?[^{}]*\}\}|\{%.*%\})\s*$")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_KEY = re.compile(r"^(title|date)\s*:\s*(.*?)\s*$", re.M | re.I)
_CLOSING_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})\s*$")


class Block(NamedTuple):
    """Characters [start, end) of the text, what kind of block they are, and for a heading its
    text without markup (the section of the blocks under it)."""

    start: int
    end: int
    kind: str  # body | heading | code | html | directive
    heading: str = ""
    level: int = 0


class FrontMatter(NamedTuple):
    end: int  # where the body starts
    title: str | None
    date: str | None


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt  # CommonMark with source line maps; tables as in GFM
    return MarkdownIt("commonmark").enable("table")


def front_matter(text: str) -> FrontMatter | None:
    """A leading YAML block (`---` ... `---`): where it ends, and its title and date if given."""
    m = _FRONT.match(text)
    if not m:
        return None
    found = {k.lower(): v.strip("'\"") for k, v in _FRONT_KEY.findall(m.group(1))}
    date = found.get("date")
    date = date[:10] if date and re.match(r"\d{4}-\d{2}-\d{2}", date) else None
    return FrontMatter(m.end(), found.get("title") or None, date)


# a paragraph that is one inline element, a caption or a label (mdBook's
# `<span class="filename">Filename: src/main.rs</span>`): markup, not prose
_WRAPPED = re.compile(r"\s*<([A-Za-z][\w-]*)\b[^<>]*>[^<>]*</\1>\s*", re.S)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|!?\[([^\]]*)\]\[[^\]]*\]")
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->", re.S)


_NOT_PROSE = re.compile(r"\s*<(?:script|style|pre|svg|textarea)\b", re.I)


def _prose_html(block: str) -> bool:
    """Is this raw HTML block prose written in tags (a definition list of options, a `<p>`, a
    `<div>` of text), rather than markup: three words or more once tags and comments are
    gone, not one element around a label (`_WRAPPED`), not a script, a style or preformatted
    text? Prose is answered from; its tags are read past as inline HTML is."""
    if _NOT_PROSE.match(block) or _WRAPPED.fullmatch(block):
        return False
    return len(re.findall(r"[A-Za-z]{2,}", _TAG.sub(" ", block))) >= 3


def plain(inline: str) -> str:
    """An inline's text without its markup: link targets, tags, emphasis and code marks."""
    text = _TAG.sub(" ", inline)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = CODE_SPAN.sub(lambda m: m.group(2).strip(), text)
    text = re.sub(r"(?<!\w)[*_]+|[*_]+(?!\w)", "", text)
    return " ".join(text.split())


# mkdocs-material / Python-Markdown containers: admonitions (!!! note "Title", ??? tip) and
# content tabs (=== "Linux"); their content is indented four spaces, which CommonMark reads as code
_CONTAINER = re.compile(r"^( *)(?:!!!|\?\?\?\+?|===)[ \t]+\S")


def _unindent_containers(text: str) -> str:
    """A copy of `text` with the same lines, where container marker lines are blank and their
    content is unindented by four spaces, so the parser reads it as Markdown. Line numbers are
    kept: the blocks' line maps still index the original."""
    lines = text.split("\n")
    for _ in range(4):  # nested containers: one level a pass
        changed, i = False, 0
        while i < len(lines):
            m = _CONTAINER.match(lines[i])
            if not m:
                i += 1
                continue
            inner = m.group(1) + "    "
            lines[i], changed, j = "", True, i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith(inner)):
                if lines[j].startswith(inner):
                    lines[j] = m.group(1) + lines[j][len(inner):]
                j += 1
            i = j
        if not changed:
            break
    return "\n".join(lines)


def blocks(text: str) -> list[Block]:
    """The blocks of a Markdown text in order. Adjacent prose blocks of one list or quote (no
    blank line between) stay one block, as a tight list reads as one paragraph."""
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    starts.append(len(text) + 1)

    def span(a: int, b: int) -> tuple[int, int]:
        s, e = starts[a], min(starts[min(b, len(starts) - 1)] - 1, len(text))
        return s, max(s, e)

    tokens = _parser().parse(_unindent_containers(text))
    leaves: list[tuple[int, int, int, str, str, int]] = []  # line a, line b, container, kind, heading, level
    container = -1
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.level == 0 and t.nesting == 1:
            container = i
        elif t.level == 0 and t.nesting == 0:
            container = -1
        if t.map is None:
            i += 1
            continue
        a, b = t.map
        if t.type == "heading_open":
            inline = tokens[i + 1].content if i + 1 < len(tokens) else ""
            leaves.append((a, b, container, "heading", plain(inline), int(t.tag[1:])))
            i += 3
            continue
        if t.type == "paragraph_open":
            inline = tokens[i + 1].content if i + 1 < len(tokens) else ""
            lines = [ln for ln in inline.split("\n") if ln.strip()]
            kind = "directive" if lines and all(DIRECTIVE.match(ln) for ln in lines) else \
                "html" if _WRAPPED.fullmatch(inline) else "body"
            leaves.append((a, b, container, kind, "", 0))
            i += 3
            continue
        if t.type == "table_open":
            while i < len(tokens) and tokens[i].type != "table_close":
                i += 1
            leaves.append((a, b, container, "body", "", 0))
        elif t.type == "fence":
            last = b - 1 if b - 1 > a and _CLOSING_FENCE.match(text[slice(*span(b - 1, b))]) else b
            lines = [ln for ln in t.content.split("\n") if ln.strip()]
            kind = "directive" if lines and all(DIRECTIVE.match(ln) for ln in lines) else "code"
            if lines:
                leaves.append((a + 1, last, container, kind, "", 0))
        elif t.type == "code_block":
            leaves.append((a, b, container, "code", "", 0))
        elif t.type == "html_block":
            leaves.append((a, b, container, "body" if _prose_html(t.content) else "html", "", 0))
        i += 1
    out: list[Block] = []
    prev = None
    for a, b, cont, kind, heading, level in leaves:
        s, e = span(a, b)
        while e > s and text[e - 1] in " \t\n":
            e -= 1
        if kind != "code":
            while s < e and text[s] in " \t\n":
                s += 1
        else:
            while s < e and text[s] == "\n":
                s += 1
        if e <= s:
            continue
        if kind == "body" and prev is not None and prev[2] == cont >= 0 and prev[3] == "body" \
                and prev[1] == a and out:  # the next item of a tight list or quote
            out[-1] = out[-1]._replace(end=e)
        else:
            out.append(Block(s, e, kind, heading, level))
        prev = (a, b, cont, kind)
    return out
