"""What the format converters (qa/convert_pdf.py, convert_html.py, convert_docx.py) give the
corpus reader, and which suffix goes to which.

A converter turns a file's bytes into `Block`s of extracted text plus the metadata the file
carries; `qa.corpus` numbers the blocks as paragraphs and finds the page chrome in them as it
does for text files, so the citation contract is the same for every format: a citation
indexes the extracted paragraph text exactly. Each converter imports its library inside its
function, so `qa --help` pays nothing, and says in one line which extra brings it when missing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import QAError


@dataclass(frozen=True)
class Block:
    """One paragraph of extracted text and where it stands in the original."""

    text: str
    section: str | None = None  # the heading it stands under
    page: int | None = None  # the page it starts on, from 1
    page_breaks: tuple[int, ...] = ()  # offsets in `text` where the next pages begin
    kind: str | None = None  # "headline" (a heading), "code"; None: classify like text


@dataclass(frozen=True)
class Converted:
    blocks: list[Block]
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD
    author: str | None = None
    outlet: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Format:
    """A converted format: the module that reads it, the library it needs and the extra that
    installs it (None: in the default install)."""

    name: str  # "pdf" -> qa/convert_pdf.py
    what: str  # for messages: "PDF"
    library: str  # import name
    package: str  # PyPI name
    extra: str | None
    version: int  # bump when the converter's output changes: the files it read re-index
    size_factor: float = 1.0  # its size limit is max_file_mb times this


FORMATS = {
    # PDFs and Word files are mostly images and fonts: a 30 MB report holds a few hundred KB of text
    ".pdf": Format("pdf", "PDF", "pypdfium2", "pypdfium2", None, 2, size_factor=10.0),
    ".html": Format("html", "web page", "trafilatura", "trafilatura", None, 2),
    ".htm": Format("html", "web page", "trafilatura", "trafilatura", None, 2),
    ".xhtml": Format("html", "web page", "trafilatura", "trafilatura", None, 2),
    ".docx": Format("docx", "Word", "docx", "python-docx", "docx", 1, size_factor=10.0),
}


class MissingLibrary(QAError):
    """The library a format needs is not installed: one line saying how to get it."""

    def __init__(self, fmt: Format):
        how = f"pip install 'qa[{fmt.extra}]'" if fmt.extra else f"pip install {fmt.package}"
        super().__init__(f"reading {fmt.what} files needs {fmt.package}: {how}")
        self.format = fmt


def require(suffix: str):
    """Import the library of `suffix`'s format, or raise MissingLibrary."""
    import importlib
    fmt = FORMATS[suffix]
    try:
        return importlib.import_module(fmt.library)
    except ImportError:
        raise MissingLibrary(fmt) from None


def fingerprint(sha256: str, suffix: str) -> str:
    """A converted file's identity in the store: its bytes and the converter version, so a
    converter change re-indexes the files it read and nothing else."""
    fmt = FORMATS[suffix]
    return f"{sha256}+{fmt.name}{fmt.version}"


_WS = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def clean_line(text: str) -> str:
    """One line of extracted text: control characters out, runs of white space as one space."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]", " ", text)
    return _WS.sub(" ", text).strip()


def clean_block(text: str) -> str:
    """A block that may hold real line breaks (<br>): each line cleaned, empty lines dropped."""
    return "\n".join(ln for ln in (clean_line(x) for x in text.split("\n")) if ln)


_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def iso_date(value) -> str | None:
    """YYYY-MM-DD from a datetime, '2023-07-26...', or a PDF date 'D:20230726...'."""
    if value is None:
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    m = _ISO_DATE.search(str(value))
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}" if 1 <= mo <= 12 and 1 <= d <= 31 and 1000 < y < 3000 else None
