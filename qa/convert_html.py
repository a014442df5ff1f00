"""Web page -> paragraphs under their headings, on trafilatura (Apache-2.0).

trafilatura finds the main content of a page (navigation, ads, related links, comments and
footers go) and reads its metadata (title, author, date, site name), which become the
Document's title, author, date and outlet, as the text parser finds them by hand in a saved
article. Headings name the section of the paragraphs under them; list items and table rows
are paragraphs of their own (a row's cells joined by " | "); code blocks are kept but never
answered from. The bytes are decoded here, not guessed by the library: a byte-order mark, then
the page's own <meta charset> (or http-equiv), then UTF-8, then charset-normalizer's guess.
"""
from __future__ import annotations

import codecs
import logging
import re

from .convert import Block, Converted, clean_block, clean_line, iso_date, require
from .errors import QAError

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) of an HTML file."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc
    m = _META_CHARSET.search(data[:8192])
    if m:
        name = m.group(1).decode("ascii").lower()
        try:
            enc = codecs.lookup("cp1252" if name in ("iso-8859-1", "latin-1", "us-ascii", "ascii") else name).name
        except LookupError:
            enc = None
        if enc:  # browsers read latin-1 and ascii pages as windows-1252 (WHATWG), and so do we
            return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes  # comes with trafilatura
        best = from_bytes(data[:200_000]).best()
        if best is not None:
            return data.decode(best.encoding, errors="replace"), best.encoding
    except ImportError:  # pragma: no cover
        pass
    return data.decode("cp1252", errors="replace"), "cp1252"


def convert(data: bytes) -> Converted:
    trafilatura = require(".html")
    for name in ("trafilatura", "htmldate", "courlan", "justext"):  # their log lines are not ours
        logging.getLogger(name).setLevel(logging.CRITICAL)
    html, _ = decode(data)
    if "\x00" in html[:4096]:
        raise QAError("binary file, not a web page")
    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_tables=True,
                                          include_comments=False, include_formatting=False,
                                          include_images=False, include_links=False, deduplicate=False,
                                          # a date only from the page's metadata and markup: the
                                          # text search took "© 2001" for 2001-01-01
                                          date_extraction_params={"extensive_search": False,
                                                                  "original_date": True})
    except Exception as e:  # a parser deep inside lxml; one line whatever it is
        raise QAError(f"not a readable web page ({type(e).__name__})") from None
    body = getattr(doc, "body", None) if doc is not None else None
    blocks = _blocks(body) if body is not None else []
    if not any(b.kind != "code" for b in blocks):
        raise QAError("no main text found in the web page")
    return Converted(blocks, title=clean_line(doc.title or "") or None, date=iso_date(doc.date), author=clean_line(doc.author or "") or None,
                     outlet=clean_line(doc.sitename or "") or None)


def _text(el) -> str:
    """An element's text, <lb/> as a line break, white space folded within each line."""
    parts = []

    def walk(e):
        if e.text:
            parts.append(e.text)
        for child in e:
            if child.tag == "lb":
                parts.append("\n")
            else:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return clean_block("".join(parts))


def _blocks(body) -> list[Block]:
    out: list[Block] = []
    section = None
    for el in body:
        tag = el.tag
        if tag == "head":
            text = clean_line(_text(el).replace("\n", " "))
            if text:
                section = text
                out.append(Block(text, section=section, kind="headline"))
        elif tag == "list":
            for item in el.iter("item"):
                text = _text(item)
                if text:
                    out.append(Block(text, section=section))
        elif tag == "table":
            for row in el.iter("row"):
                cells = [clean_line(_text(c).replace("\n", " ")) for c in row.iter("cell")]
                text = " | ".join(c for c in cells if c)
                if text:
                    out.append(Block(text, section=section))
        elif tag == "code":
            text = "".join(el.itertext()).strip()
            if text:
                out.append(Block(text, section=section, kind="code"))
        else:  # p, quote, and anything else trafilatura keeps
            text = _text(el)
            if text:
                out.append(Block(text, section=section))
    return out
