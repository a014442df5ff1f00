"""Answer -> terminal text, shared by `qa ask` and the chat.

Pure functions: they return strings and never print, so the CLI, the chat and the tests
agree on what an answer looks like. Colour is plain ANSI SGR (bold, dim, underline, cyan,
yellow) so it reads on dark and light terminals alike; `color=False` emits no escape codes.
Document text is stripped of control characters before it is shown, so a file holding
escape sequences cannot repaint the user's terminal.
"""
from __future__ import annotations

import os
import re
import textwrap
from typing import TYPE_CHECKING, Iterable, TextIO

from .citations import citations, number_citations
from .errors import QAError
from .inline import reading_view
from .types import Answer, Citation, place

if TYPE_CHECKING:
    from .index import Index

__all__ = ["render_answer", "render_sources", "render_context", "citations", "format_citation",
           "use_color", "sanitize", "dim", "warn", "wrap", "terminal_width"]

PARA = "¶"
RESET = "\x1b[0m"
BOLD = "1"
DIM = "2"
UNDERLINE = "4"
CYAN = "36"
YELLOW = "33"

# Everything but newline and tab: ESC, BEL, backspace, C1 controls, ...
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def use_color(stream: TextIO | None) -> bool:
    """Colour only on a real terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if "NO_COLOR" in os.environ:
        return False
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed or fake streams
        return False


def _style(text: str, codes: str, color: bool) -> str:
    return f"\x1b[{codes}m{text}{RESET}" if color and text else text


def sanitize(text: str) -> str:
    """Text made safe to print: control characters (ESC, BEL, C1, ...) become spaces."""
    return _CONTROL.sub(" ", text)


def error_line(exc: BaseException) -> str:
    """An exception as one short line: a QAError's message, else 'TypeName: first line'."""
    text = str(exc).strip()
    msg = text.splitlines()[0] if text else ""
    if not isinstance(exc, QAError):
        msg = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return sanitize(msg)[:300]


_clean = sanitize


def dim(text: str, color: bool) -> str:
    """A hint or status line, sanitized; dimmed in colour mode."""
    return _style(sanitize(text), DIM, color)


def warn(text: str, color: bool) -> str:
    """An error or warning line, sanitized; yellow in colour mode."""
    return _style(sanitize(text), YELLOW, color)


# -- citations (numbered in qa/citations.py, shared by every front end) --------------------------
def format_citation(c: Citation | object) -> str:
    """`Title — date — doc ¶paragraph, p. 4` (or `, § Section`), leaving out what is unknown."""
    title = (getattr(c, "title", "") or "").strip()
    date = getattr(c, "date", None)
    where = place(getattr(c, "page", None), getattr(c, "section", None))
    ref = f"{getattr(c, 'doc')} {PARA}{getattr(c, 'paragraph')}" + (f", {where}" if where else "")
    parts = [p for p in (title, date, ref) if p]
    return _clean(" — ".join(parts))  # file names can hold control characters too


def _marker(n: int, color: bool) -> str:
    return _style(f"[{n}]", CYAN, color)


def _one_line(text: str) -> str:
    """Sanitized, with the line breaks of hard-wrapped text folded into single spaces."""
    return " ".join(_clean(text).split())


# -- answers -------------------------------------------------------------------------------------
def render_answer(answer: Answer, *, color: bool) -> str:
    """Short answer (bold), quoted snippets with [n] markers, Sources, confidence."""
    if answer.abstained:
        return _render_abstention(answer, color)
    order, markers = number_citations(answer)
    lines: list[str] = []
    if answer.short_answer is not None and answer.text:
        lines += [_style(_one_line(answer.text), BOLD, color), ""]
    for snippet, nums in zip(answer.snippets, markers):
        marks = "".join(_marker(n, color) for n in nums)
        if snippet.code:  # a code block: its lines as they stand, under what introduces it
            if snippet.intro is not None:
                lines.append(_style("“" + _one_line(reading_view(snippet.intro.text)[0]) + "”", DIM, color))
            lines += ["    " + _clean(ln) for ln in textwrap.dedent(snippet.text).split("\n")]
            lines.append("    " + marks)
            continue
        quote = "“" + _one_line(snippet.shown()[0]) + "”"  # links as their labels, no tags
        lines.append(quote + " " + marks)
    if not answer.snippets and answer.text:  # defensive: an answer without quotes
        lines.append(_clean(answer.text))
    if order:
        lines += ["", _style("Sources", BOLD, color)]
        lines += [f"{_marker(i, color)} {format_citation(c)}" for i, c in enumerate(order, 1)]
    lines += ["", _style(f"confidence {answer.confidence:.2f}", DIM, color)]
    return "\n".join(lines)


def _render_abstention(answer: Answer, color: bool) -> str:
    lines = [_style("Not in the documents.", f"{BOLD};{YELLOW}", color)]
    closest = answer.snippets[0].citation if answer.snippets else (
        answer.passages[0] if answer.passages else None)
    if closest is not None:
        lines.append(_style(f"closest passage: {format_citation(closest)}", DIM, color))
    lines.append(_style(f"confidence {answer.confidence:.2f}", DIM, color))
    return "\n".join(lines)


# -- sources and context -------------------------------------------------------------------------
def _highlight(text: str, start: int, end: int, color: bool) -> str:
    """`text` with [start:end] in bold+underline, or between »…« in plain mode."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if end <= start:
        return _clean(text)
    head, span, tail = _clean(text[:start]), _clean(text[start:end]), _clean(text[end:])
    span = _style(span, f"{BOLD};{UNDERLINE}", color) if color else f"»{span}«"
    return head + span + tail


def render_sources(answer: Answer, index: "Index", *, color: bool) -> str:
    """Each cited paragraph in full, the quoted span highlighted: for the chat's `:sources`."""
    order = citations(answer)
    if not order:
        return "No sources: the last answer quoted nothing."
    spans = _spans_by_paragraph(answer)
    blocks = []
    for n, c in enumerate(order, 1):
        header = f"{_marker(n, color)} {_style(format_citation(c), BOLD, color)}"
        row = index.find(c.doc, c.paragraph)
        if row is None:
            body = _style("(this paragraph is not in the open index; it may have been re-indexed)",
                          DIM, color)
        else:
            start, end = spans.get((c.doc, c.paragraph), (c.start, c.end))
            body = _highlight(index.paragraphs[row].text, start, end, color)
        blocks.append(f"{header}\n{body}")
    return "\n\n".join(blocks)


def _spans_by_paragraph(answer: Answer) -> dict[tuple[str, int], tuple[int, int]]:
    """The first quoted span per paragraph (the one its marker number refers to)."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for s in answer.snippets:
        for c in (s.citation, *s.corroborated_by):
            out.setdefault((c.doc, c.paragraph), (c.start, c.end))
    return out


def render_context(index: "Index", doc: str, paragraph: int, *, color: bool, around: int = 1,
                   at: int = 0) -> str:
    """Paragraph `paragraph` of `doc` with `around` neighbours each side, numbered: for `:open N`.
    The header gives the page (of character `at`, the quote's start) or the section."""
    row = index.find(doc, paragraph)
    if row is None:
        raise QAError(f"no paragraph {PARA}{paragraph} of {doc} in the open index")
    d = index.doc_of(row)
    p = index.paragraphs[row]
    page = p.page_at(at) if hasattr(p, "page_at") else None
    header = _style(format_citation(Citation(doc, paragraph, 0, 0, d.title, d.date, page,
                                             getattr(p, "section", None))), BOLD, color)
    lines = [header]
    for p in _neighbours(d.paragraphs, paragraph, around):
        label = f"{PARA}{p.paragraph}"
        text = _clean(p.text).replace("\n", "\n" + " " * (len(label) + (1 if color else 3)))
        if p.paragraph == paragraph:
            lines.append(f"{_style(label, CYAN, color)} {text}" if color else f"{label} > {text}")
        else:
            lines.append(_style(f"{label} {text}", DIM, color) if color else f"{label}   {text}")
    return "\n\n".join(lines)


def _neighbours(paragraphs: Iterable, paragraph: int, around: int) -> list:
    around = max(0, around)
    return [p for p in paragraphs if abs(p.paragraph - paragraph) <= around]


# -- layout --------------------------------------------------------------------------------------
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HANG = re.compile(r" *(?:\[\d+\] |¶\d+ (?:> |  )?)?")  # a source's [n] or a paragraph's ¶n label


def terminal_width(stream: TextIO | None) -> int:
    """The columns to fill on the terminal behind `stream` (one short of its width: a character
    in the last column makes some terminals wrap early); 0 (do not wrap) when it is not one."""
    try:
        if stream is None or not stream.isatty():
            return 0
        return os.get_terminal_size(stream.fileno()).columns - 1
    except (AttributeError, ValueError, OSError):
        return 0


def wrap(text: str, width: int) -> str:
    """`text` with each line broken at spaces to fit `width` columns, so a terminal never cuts a
    word in two ("celeb|rations"); colour codes take no room; continuation lines hang under the
    text after a "[n] " or "¶n" label. A word longer than the width is left whole."""
    if width < 20:
        return text
    out = []
    for line in text.split("\n"):
        visible = _ANSI.sub("", line)
        if len(visible) <= width:
            out.append(line)
            continue
        indent = " " * min(len(_HANG.match(visible).group()), width // 2)
        rows, row, used = [], "", 0
        for token in re.split(r"( +)", line):
            if not token:
                continue
            size = len(_ANSI.sub("", token))
            if token.startswith(" ") and not token.strip(" "):  # a run of spaces
                if used + size < width:
                    row, used = row + token, used + size
                else:  # the break falls here: the spaces go
                    rows.append(row)
                    row, used = indent, len(indent)
                continue
            if used + size > width and used > len(indent):
                rows.append(row.rstrip(" "))
                row, used = indent, len(indent)
            row, used = row + token, used + size
        rows.append(row.rstrip(" "))
        out.append("\n".join(rows))
    return "\n".join(out)
