"""Word (.docx) -> paragraphs under their headings, on python-docx (MIT; the `docx` extra).

Paragraphs and tables are read in document order. A paragraph styled as a heading (or
"Title") names the section of what follows; a table gives one paragraph per row, its cells
joined by " | " (merged cells once). Title, author and date (last modified, else created)
come from the file's core properties. Legacy .doc files are not read.
"""
from __future__ import annotations

import io
import re

from .convert import Block, Converted, clean_block, clean_line, iso_date, require
from .errors import QAError

_HEADING = re.compile(r"^(heading\s*\d*|title|subtitle)$", re.I)


def convert(data: bytes) -> Converted:
    docx = require(".docx")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # an OLE container: encrypted .docx or a .doc
        raise QAError("encrypted or legacy Word file (not a plain .docx)")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # zipfile, lxml or python-docx errors: one line whatever it is
        raise QAError(f"not a readable .docx file (corrupt or truncated: {type(e).__name__})") from None
    blocks: list[Block] = []
    section = None
    names = {st.style_id: st.name or "" for st in document.styles}
    names.setdefault(None, _default_name(document))
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):  # a table
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = clean_line(cell.text.replace("\n", " "))
                    if text and (not cells or cells[-1] != text):  # a merged cell repeats
                        cells.append(text)
                if cells:
                    blocks.append(Block(" | ".join(cells), section=section))
            continue
        text = clean_block(item.text)
        if not text:
            continue
        style = names.get(item._p.style) or item._p.style or ""  # by id: item.style scans all styles
        if _HEADING.match(style) or style.lower().startswith("heading"):
            section = clean_line(text.replace("\n", " "))
            blocks.append(Block(section, section=section, kind="headline"))
        else:
            blocks.append(Block(text, section=section))
    if not blocks:
        raise QAError("no paragraphs")
    props = document.core_properties
    author = clean_line(props.author or "")
    template = author == "python-docx"  # its template's properties, not the document's
    return Converted(blocks, title=clean_line(props.title or "") or None,
                     date=None if template else iso_date(props.modified or props.created),
                     author=None if template else author or None)


def _default_name(document) -> str:
    """The name of the default paragraph style (what a paragraph without a style id has)."""
    try:
        from docx.enum.style import WD_STYLE_TYPE
        st = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        return st.name if st is not None else ""
    except Exception:  # noqa: BLE001 - a file without styles part
        return ""
