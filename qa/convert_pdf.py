"""PDF -> paragraphs with their page, on pypdfium2 (Chrome's PDFium; Apache-2.0 / BSD-3).

PDFium gives each page's text line by line with every character's box. Paragraphs are rebuilt
from that geometry: a line joins the one above unless a wider gap, an indent, a bullet, a
change of type size or a short line ending a sentence says a new paragraph starts, including
across a page break (the paragraph keeps the page it starts on and records where the next one
begins). Words hyphenated at a line end are joined (PDFium marks soft hyphens; a plain hyphen
goes when the joined word occurs elsewhere in the document). Lines repeated at the top or
bottom of most pages (running headers, footers) and bare page numbers are dropped.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from statistics import median

from .convert import Block, Converted, clean_line, iso_date, require
from .errors import QAError

MAX_PAGES = 5000  # about a minute of extraction on 2 cores; a longer file is skipped with the count


@dataclass
class _Line:
    text: str
    page: int
    left: float = 0.0  # of the first character
    right: float = 0.0  # of the last
    height: float = 0.0  # of the first character's font box
    bottom: float = 0.0  # the first character's (where the line starts)
    last_bottom: float = 0.0  # the last character's: below `bottom` when PDFium joined a
    # hyphenated line with the next


_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–—(\[]?\s*(?:\d{1,5}|[ivxlcdm]{1,7})\s*[-–—)\]]?"
                          r"(?:\s*(?:of|/)\s*\d{1,5})?$", re.I)
_BULLET = re.compile(r"^(?:[•▪◦●○■□‣∙·*–-]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)")
_SENTENCE_END = re.compile(r"[.!?:;\"”’)\]]$")
_WORD = re.compile(r"[^\W\d_]+")
SHY = "\u00ad"
_SHY_WORD = re.compile(r"([^\W\d_]+)\u00ad([^\W\d_]+)")


def convert(data: bytes, max_pages: int = MAX_PAGES) -> Converted:
    pdfium = require(".pdf")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise QAError("encrypted PDF (it needs a password)") from None
        raise QAError("not a readable PDF (corrupt or truncated)") from None
    try:
        n = len(pdf)
        if n > max_pages:
            raise QAError(f"too many pages ({n:,}; the limit is {max_pages:,})")
        pages = [_page_lines(pdf, i) for i in range(n)]
        meta = pdf.get_metadata_dict()
    except pdfium.PdfiumError as e:
        raise QAError(f"not a readable PDF ({e})") from None
    finally:
        pdf.close()
    if not any(ln.text for lines in pages for ln in lines):
        raise QAError(f"no text layer (scanned?): {n} page{'s' if n != 1 else ''} of images")
    pages = _drop_running_lines(pages)
    blocks = _paragraphs(pages)
    if not blocks:
        raise QAError("no text besides page headers and numbers")
    title = (meta.get("Title") or "").strip()
    if not _is_title(title):
        title = ""  # the document's first heading stands in (qa/corpus.py)
    return Converted(blocks, title=clean_line(title) or None, date=iso_date(meta.get("CreationDate") or None),
                     author=clean_line(meta.get("Author") or "") or None)


def _page_lines(pdf, i: int) -> list[_Line]:
    """The page's lines, top to bottom as PDFium orders them, with their boxes."""
    page = pdf[i]
    tp = page.get_textpage()
    try:
        text = tp.get_text_range()
        geometry = tp.count_chars() == len(text)  # one char per code unit: boxes line up
        out, pos = [], 0
        for raw in text.split("\r\n"):
            start, pos = pos, pos + len(raw) + 2
            # PDFium joins a word hyphenated at a line end and marks the hyphen: kept as a soft
            # hyphen (U+00AD) until the whole document's words say whether it was one
            line = clean_line(raw.replace("\ufffe", SHY).replace("\r", "").replace("\n", " "))
            if not line:
                continue
            ln = _Line(line, i + 1)
            if geometry:
                a = start + len(raw) - len(raw.lstrip())
                b = start + len(raw.rstrip()) - 1
                if b >= a:
                    l1, b1, r1, t1 = tp.get_charbox(a, loose=True)
                    l2, b2, r2, t2 = tp.get_charbox(b, loose=True)
                    ln.left, ln.right, ln.height = l1, r2, t1 - b1
                    ln.bottom, ln.last_bottom = b1, b2
            out.append(ln)
        return out
    finally:
        tp.close()
        page.close()


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower()).strip()


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Without the lines at the top or bottom of a page that recur on most pages (page
    numbers counted as one line whatever the number), bare page numbers there, and short
    edge lines that start or end with the printed page number (a running header that names
    the chapter: "Chapter 2: Syntax 3"), the number found by its steady offset from the
    page's place in the file."""
    edge = 2
    counts: Counter = Counter()
    offsets: Counter = Counter()
    for i, lines in enumerate(pages, 1):
        counts.update({_key(ln.text) for ln in lines[:edge] + lines[-edge:]})
        offsets.update({i - n for ln in lines[:edge] + lines[-edge:] for n in _edge_numbers(ln.text)})
    need = max(2, (len(pages) + 1) // 2)
    offset = next((o for o, c in offsets.most_common(1) if c >= need and len(pages) > 2), None)
    out = []
    for i, lines in enumerate(pages, 1):
        keep = []
        for j, ln in enumerate(lines):
            at_edge = j < edge or j >= len(lines) - edge
            if at_edge and ((len(pages) > 1 and counts[_key(ln.text)] >= need) or _PAGE_NUMBER.match(ln.text)
                            or (offset is not None and i - offset in _edge_numbers(ln.text))):
                continue
            keep.append(ln)
        out.append(keep)
    return out


def _edge_numbers(text: str) -> set[int]:
    """The numbers a short line starts or ends with: where a printed page number stands."""
    if len(text) > 100:
        return set()
    return {int(m) for m in re.findall(r"^(\d{1,5})\b|\b(\d{1,5})$", text) for m in m if m}


def _paragraphs(pages: list[list[_Line]]) -> list[Block]:
    lines = [ln for p in pages for ln in p]
    vocab = Counter(w.lower() for ln in lines for w in _WORD.findall(ln.text.replace(SHY, " ")))
    vocab.update(m.group(0).lower() for ln in lines for m in re.finditer(r"[^\W\d_]+-[^\W\d_]+", ln.text))
    for ln in lines:
        if SHY in ln.text:
            ln.text = _SHY_WORD.sub(lambda m: _unhyphenate(m.group(1), m.group(2), vocab), ln.text).replace(SHY, "")
    heights = [ln.height for ln in lines if ln.height > 0]
    body_h = median(heights) if heights else 0.0
    stats = {p[0].page: _page_stats(p) for p in pages if p}
    blocks: list[Block] = []
    cur: list[_Line] = []
    section = None

    def flush():
        nonlocal section
        if not cur:
            return
        text, breaks = cur[0].text, []
        for prev, ln in zip(cur, cur[1:]):
            text = _join(text, ln.text, vocab)
            if ln.page != prev.page:
                breaks.append(len(text) - len(ln.text))  # where the next page's text begins
        heading = body_h > 0 and all(ln.height > 1.2 * body_h for ln in cur) and len(text) < 200
        if heading:
            section = text
        blocks.append(Block(text, section=section, page=cur[0].page,
                            page_breaks=tuple(breaks),
                            kind="headline" if heading else None))
        cur.clear()

    for ln in lines:
        if cur and _starts_paragraph(cur[-1], ln, stats, body_h):
            flush()
        cur.append(ln)
    flush()
    return blocks


def _page_stats(lines: list[_Line]) -> tuple[float, float, float]:
    """(typical baseline step, left margin, right margin) of a page's body lines. The step is
    the usual one among those under 1.5 line heights when there are any (paragraph gaps are
    wider), counting the steps inside lines PDFium joined at a hyphen."""
    steps = [a.last_bottom - b.bottom for a, b in zip(lines, lines[1:])
             if 0 < a.last_bottom - b.bottom < 3 * max(a.height, 1)]
    steps += [ln.bottom - ln.last_bottom for ln in lines if 0 < ln.bottom - ln.last_bottom < 3 * max(ln.height, 1)]
    h = median([ln.height for ln in lines if ln.height > 0] or [0.0])
    tight = [s for s in steps if s <= 1.5 * h] if h else []
    step = median(tight or steps) if steps else 0.0
    lefts = [ln.left for ln in lines if ln.right > ln.left]
    rights = [ln.right for ln in lines if ln.right > ln.left]
    return step, (min(lefts) if lefts else 0.0), (max(rights) if rights else 0.0)


def _starts_paragraph(prev: _Line, ln: _Line, stats: dict, body_h: float) -> bool:
    if prev.height > 0 and ln.height > 0 and not (0.8 < ln.height / prev.height < 1.25):
        return True  # a change of type size: a heading starts or ends
    step, left, right = stats.get(prev.page, (0.0, 0.0, 0.0))
    ends_sentence = bool(_SENTENCE_END.search(prev.text))
    em = max(prev.height, body_h, 1.0)
    short = right > 0 and prev.right < right - 4 * em
    if _BULLET.match(ln.text) and (ends_sentence or short or _BULLET.match(prev.text)):
        return True  # a list item (a wrapped line may start with "11." or "–" too)
    if ln.page != prev.page:
        return ends_sentence and short  # a paragraph carries on over the page break
    if step <= 0 or prev.right <= prev.left:  # no geometry: text alone decides
        return ends_sentence and len(prev.text) < 0.7 * max(len(ln.text), 40)
    gap = prev.last_bottom - ln.bottom
    if gap <= 0 or gap > 1.4 * step * max(1.0, prev.height / max(body_h, 1e-6)):
        return True  # a wider gap, or a new column
    if ends_sentence and short:
        return True
    return ends_sentence and ln.left > left + 1.2 * em and ln.left > prev.left + 1.2 * em  # indented


def _unhyphenate(a: str, b: str, vocab: Counter) -> str:
    """A word split by a hyphen at a line end: joined ("manip-ulation"), unless the document
    writes it with a hyphen elsewhere and never without ("well-known")."""
    if not vocab.get((a + b).lower()) and vocab.get(f"{a}-{b}".lower()):
        return f"{a}-{b}"
    return a + b


def _join(text: str, nxt: str, vocab: Counter) -> str:
    """Two lines of one paragraph as running text; a word hyphenated at the line end (where
    PDFium did not join it) is joined the same way as `_unhyphenate`."""
    if not (text.endswith("-") and nxt[:1].islower()):
        return f"{text} {nxt}"
    tail = text[-64:]  # the last word only: searching the whole paragraph each line is quadratic
    m = re.search(r"([^\W\d_]+)-$", tail)
    w = _WORD.match(nxt)
    if m and w:
        return text[:len(text) - len(tail) + m.start()] + _unhyphenate(m.group(1), w.group(0), vocab) + nxt[w.end():]
    return f"{text} {nxt}"


_NOT_TITLE = re.compile(r"\.(docx?|pdf|odt|rtf|tex|indd)$|^untitled|^microsoft word|https?://|www\.|\(\s*[\w.-]+\.(org|com|net)\b", re.I)


def _is_title(text: str) -> bool:
    """False for a Title field that names the file it was made from ("report.docx", "Microsoft
    Word - x") or an organisation and its web address ("X Desktop Group
    (http://www.freedesktop.org)") rather than the document."""
    return bool(text) and not _NOT_TITLE.search(text)
