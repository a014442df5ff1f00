"""Read a folder of articles into Documents and numbered Paragraphs.

The numbering and the stripped paragraph text are the citation contract: a citation
(`doc`, `paragraph`, `start`, `end`) indexes `Paragraph.text` exactly.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import QAError

SUFFIXES = (".txt", ".md")
_HEADER_DATE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*(.*)$")
_HEADER_TITLE = re.compile(r"^\s*title\s+(.*)$")
_BLANK_SPLIT = re.compile(r"\n[ \t\f\v\u00a0]*\n")

# --- page chrome -----------------------------------------------------------------------------
_COPYRIGHT = re.compile(r"^\s*(©|\(c\)\s|copyright\s*(©|\(c\)|\d{4}))|\ball rights reserved\b", re.I)
_UI_WORDS = frozenset("""expand collapse search menu skip to content main navigation sign in up out log login logout
register account subscribe subscription share print advertisement ad close open toggle cookie cookies accept
settings newsletter read more click here follow us watch listen next previous back top home""".split())
_BYLINE = re.compile(r"^\s*By\s+((?:[A-Z][\w.'’-]*\s*){1,5}?)(?:\s*[|,–-]\s*((?:[A-Z][\w.&'’-]*\s*){1,5}))?\s*$")
_CREDIT_LINE = re.compile(r"^\s*((?:[A-Z][\w.&'-]*(?: [\w.&'-]+)*\s/\s){2,}[A-Z][\w.&'-]*)\s+")
_CREDIT_PAREN = re.compile(
    r"\s*\((?:photo(?:s)?(?: by)?|credit|[^()]*\b(?:via|/)\s*(?:Getty Images|AP|AFP|Reuters)|"
    r"[^()]*(?:Getty Images|Handout|AP Photo|Reuters|AFP)[^()]*)[^()]*\)\s*$", re.I)
_BIO = re.compile(
    r"(follow (him|her|them) on (twitter|x|instagram|facebook)|can (e-?mail|reach) (him|her|them)|"
    r"^[A-Z][\w.' -]+ is an? (staff )?(writer|reporter|correspondent|editor|journalist|contributor) (for|at|with)\b)",
    re.I)


@dataclass(frozen=True)
class Paragraph:
    """One block of a document. `skip` lists (start, end) ranges of `text` never to answer from."""

    doc: str
    paragraph: int
    text: str
    kind: str = "body"  # body | headline | caption | copyright | ui | byline | bio
    skip: tuple[tuple[int, int], ...] = ()

    @property
    def answerable(self) -> bool:
        return self.kind in ("body", "headline", "caption")


@dataclass(frozen=True)
class Document:
    doc: str  # path relative to the corpus root, with '/' separators
    title: str
    date: str | None
    author: str | None
    outlet: str | None
    paragraphs: tuple[Paragraph, ...]
    sha256: str = ""


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class Corpus:
    root: Path
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...] = field(default=())

    @property
    def n_paragraphs(self) -> int:
        return sum(len(d.paragraphs) for d in self.documents)


def _is_ui(line: str) -> bool:
    """A short line made only of interface words ("Expand / Collapse search")."""
    ws = [w for w in re.split(r"[\s/|&·•>»]+", line.lower().strip(" .:")) if w]
    return 0 < len(ws) <= 6 and all(w in _UI_WORDS for w in ws)


def _line_kind(line: str) -> str | None:
    s = line.strip()
    if not s:
        return None
    if _COPYRIGHT.search(s):
        return "copyright"
    if _is_ui(s):
        return "ui"
    words = s.split()
    if len(words) <= 12 and _BYLINE.match(s):
        return "byline"
    if _BIO.search(s):
        return "bio"
    return None


def _classify(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Kind of a paragraph and the chrome ranges inside it."""
    skip: list[tuple[int, int]] = []
    kinds: list[str] = []
    pos = 0
    for line in text.split("\n"):
        k = _line_kind(line)
        if k:
            kinds.append(k)
            skip.append((pos, pos + len(line)))
        pos += len(line) + 1
    lines = text.split("\n")
    if kinds and len(kinds) == len([ln for ln in lines if ln.strip()]):
        return kinds[0], tuple(skip)
    kind = "body"
    m = _CREDIT_LINE.match(text)
    if m and "/" in m.group(1):
        skip.append((0, m.end()))
        kind = "caption"
    m = _CREDIT_PAREN.search(text)
    if m:
        skip.append((m.start(), len(text)))
        kind = "caption"
    return kind, tuple(sorted(skip))


def _is_headline(text: str) -> bool:
    s = text.strip()
    return "\n" not in s and 3 <= len(s.split()) <= 30 and not re.search(r"[.!?:]$", s)


def parse_text(doc: str, raw: str) -> Document:
    """Parse one file's text (already decoded) into a Document."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    first, _, rest = raw.partition("\n")
    title, date = None, None
    m = _HEADER_DATE.match(first)
    if m:
        date, title = m.group(1), m.group(2).strip()
    else:
        m = _HEADER_TITLE.match(first)
        if m:
            title = m.group(1).strip()
        else:
            rest = raw
    paragraphs = []
    for block in _BLANK_SPLIT.split(rest):
        text = block.strip()
        if text:
            kind, skip = _classify(text)
            paragraphs.append(Paragraph(doc, len(paragraphs), text, kind, skip))
    author = outlet = None
    for p in paragraphs:
        for line in p.text.split("\n"):
            bm = _BYLINE.match(line.strip())
            if bm and len(line.split()) <= 12:
                author = author or bm.group(1).strip()
                outlet = outlet or (bm.group(2) or "").strip() or None
    if outlet is None:
        for p in paragraphs:
            if p.kind == "copyright":
                cm = re.search(r"(?:©|\(c\)|copyright)\s*\d{0,4}\s*([A-Z][\w&.' ]+?)(?:,|\.|\s+All rights)", p.text, re.I)
                if cm:
                    outlet = cm.group(1).strip()
                break
    # The header title may be scraped UI text ("Expand / Collapse search"): take the real headline.
    if not title or _line_kind(title):
        first_content = next((p for p in paragraphs if p.answerable), None)
        if first_content is not None and _is_headline(first_content.text):
            title = first_content.text
        elif not title or _line_kind(title):
            title = Path(doc).stem.replace("_", " ")
    # Short unpunctuated blocks before the first sentence-like paragraph are headlines.
    out = []
    seen_body = False
    for p in paragraphs:
        if p.kind == "body" and not seen_body and _is_headline(p.text):
            p = Paragraph(p.doc, p.paragraph, p.text, "headline", p.skip)
        elif p.kind == "body":
            seen_body = True
        out.append(p)
    return Document(doc, title, date, author, outlet, tuple(out))


def read_file(root: Path, path: Path, max_bytes: int) -> Document:
    """Read and parse one file; raises QAError with the reason when it cannot be used."""
    rel = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise QAError(f"too large ({size / 1e6:.3g} MB; the limit is {max_bytes / 1e6:g} MB)")
        data = path.read_bytes()
    except OSError as e:
        raise QAError(f"unreadable ({e.strerror or e})") from None
    if b"\x00" in data[:8192]:
        raise QAError("binary file")
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise QAError(f"not UTF-8 (bad byte at offset {e.start})") from None
    doc = parse_text(rel, raw)
    if not doc.paragraphs:
        raise QAError("no paragraphs")
    return Document(doc.doc, doc.title, doc.date, doc.author, doc.outlet, doc.paragraphs,
                    hashlib.sha256(data).hexdigest())


def list_files(root: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.lower().endswith(SUFFIXES) and not name.startswith("."):
                files.append(Path(dirpath) / name)
    return files


def read_corpus(root: str | os.PathLike, *, max_file_mb: float = 10.0,
                exclude: tuple[str, ...] = ("questions.jsonl", "README.md")) -> Corpus:
    """Read every .txt/.md file under `root`; unusable files are skipped and reported."""
    root = Path(root).expanduser()
    if not root.exists():
        raise QAError(f"corpus folder not found: {root}")
    if not root.is_dir():
        raise QAError(f"corpus is not a folder: {root}")
    docs, skipped = [], []
    for path in list_files(root):
        if path.name in exclude and path.parent == root:
            continue
        try:
            docs.append(read_file(root, path, int(max_file_mb * 1e6)))
        except QAError as e:
            skipped.append(Skipped(path.relative_to(root).as_posix(), str(e)))
    if not docs:
        why = f" ({len(skipped)} skipped: {skipped[0].path}: {skipped[0].reason})" if skipped else ""
        raise QAError(f"no usable .txt or .md files in {root}{why}")
    return Corpus(root, tuple(docs), tuple(skipped))
