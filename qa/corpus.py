"""Read a folder of articles into Documents and numbered Paragraphs (qa/document.py).

The numbering and the stripped paragraph text are the citation contract: a citation
(`doc`, `paragraph`, `start`, `end`) indexes `Paragraph.text` exactly.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from .convert import FORMATS, Converted, MissingLibrary, fingerprint
from .document import Document, Paragraph
from .errors import QAError
from .seen import Seen

SUFFIXES = (".txt", ".md", ".markdown", ".rst")
# Files without an extension are read when they decode as UTF-8 text (README, NEWS, CHANGELOG),
# except these, which hold build or tool instructions rather than prose.
NOT_PROSE = frozenset("makefile dockerfile vagrantfile gemfile rakefile procfile jenkinsfile brewfile "
                      "podfile justfile codeowners".split())
_HEADER_DATE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*(.*)$")
_HEADER_TITLE = re.compile(r"^\s*title\s+(.*)$")
_BLANK_SPLIT = re.compile(r"\n[ \t\f\v\u00a0]*\n")

# --- page chrome -----------------------------------------------------------------------------
_COPYRIGHT = re.compile(r"^\s*(©|\(c\)\s|copyright\s*(©|\(c\)|\d{4}))|\ball rights reserved\b", re.I)
_UI_WORDS = frozenset("""expand collapse search menu skip to content main navigation sign in up out log login logout
register account subscribe subscription share print advertisement ad close open toggle cookie cookies accept
settings newsletter read more click here follow us watch listen next previous back top home""".split())
# "By Timothy H.J. Nerozzi | Fox News": the author and, after the bar, the outlet
BYLINE = re.compile(r"^\s*By\s+((?:[A-Z][\w.'’-]*\s*){1,5}?)(?:\s*[|,–-]\s*((?:[A-Z][\w.&'’-]*\s*){1,5}))?\s*$")
_CREDIT_LINE = re.compile(r"^\s*((?:[A-Z][\w.&'-]*(?: [\w.&'-]+)*\s/\s){2,}[A-Z][\w.&'-]*)\s+")
_CREDIT_PAREN = re.compile(
    r"\s*\((?:photo(?:s)?(?: by)?|credit|[^()]*\b(?:via|/)\s*(?:Getty Images|AP|AFP|Reuters)|"
    r"[^()]*(?:Getty Images|Handout|AP Photo|Reuters|AFP)[^()]*)[^()]*\)\s*$", re.I)
_BIO = re.compile(
    r"(follow (him|her|them) on (twitter|x|instagram|facebook)|can (e-?mail|reach) (him|her|them)|"
    r"^[A-Z][\w.' -]+ is an? (staff )?(writer|reporter|correspondent|editor|journalist|contributor) (for|at|with)\b)",
    re.I)


@dataclass(frozen=True)
class Skipped:
    """A file (or folder) not used, and why. One entry may stand for a group of `paths`."""

    path: str
    reason: str
    paths: tuple[str, ...] = ()


# A file changed within this long of being hashed is hashed again next time: a write in the same
# timestamp tick as the one hashed would leave its stat unchanged ("racy git").
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Corpus:
    root: Path
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...] = field(default=())
    ignored: tuple[str, ...] = field(default=())  # files in formats qa does not read
    # Files whose identity matched `known` (the store's): their Document is a stub (name and
    # identity, no paragraphs), as the store already holds them. Not parsed, often not read.
    unchanged: frozenset[str] = field(default=frozenset())
    seen: Mapping[str, Seen] = field(default_factory=dict, compare=False)  # for the next scan

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
    if len(words) <= 12 and BYLINE.match(s):
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


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_RST_RULE = re.compile(r"^\s*([=\-~^\"*+#`:.'_])\1{2,}\s*$")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>|<!--.*?-->")


def strip_markup(text: str) -> str:
    """A line without HTML tags, Markdown images, link targets, emphasis and code marks."""
    text = _HTML_TAG.sub(" ", _MD_IMAGE.sub(" ", text))
    text = _MD_LINK.sub(r"\1", text)
    text = re.sub(r"(?<!\w)[*_`]+|[*_`]+(?!\w)", "", text)
    return " ".join(text.split())


def _heading(text: str) -> tuple[int, str] | None:
    """(level, text) when a paragraph is a Markdown heading ("# Team notes") or an
    underlined reStructuredText one ("Team notes" over "=========="); level 1 is the top."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    m = _MD_HEADING.match(lines[0]) if lines else None
    if m and len(lines) == 1:
        return len(m.group(1)), strip_markup(m.group(2))
    if len(lines) == 2 and _RST_RULE.match(lines[1]) and not _RST_RULE.match(lines[0]):
        return (1 if lines[1].strip()[0] == "=" else 2), strip_markup(lines[0])
    if len(lines) == 3 and _RST_RULE.match(lines[0]) and _RST_RULE.match(lines[2]):
        return 1, strip_markup(lines[1])
    return None


def _body_title(paragraphs: list[Paragraph]) -> str | None:
    """The title of a file without a header: its first heading when that comes before the
    body (or is a top-level one), else its first headline-like block, markup stripped."""
    seen_body = False
    for p in paragraphs:
        if p.kind == "heading":
            h = _heading(p.text) or (1, p.section or "")
        elif not p.answerable:
            continue
        else:
            h = _heading(p.text)
        if h and h[1] and (not seen_body or h[0] == 1):
            return h[1]
        if not seen_body and not h:
            plain = strip_markup(p.text)
            if plain and _is_headline(plain) and any(c.isalpha() for c in plain):
                return plain
            seen_body = seen_body or bool(plain)
    return None


def parse_text(doc: str, raw: str) -> Document:
    """Parse one file's text (already decoded) into a Document. Markdown is read by a CommonMark
    parser (qa/markdown.py): code blocks are paragraphs of kind "code", headings, HTML and
    include directives paragraphs never answered from. In reStructuredText underlined headings
    name the section of the paragraphs under them."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    suffix = doc.lower().rpartition(".")[2] if "." in doc.rpartition("/")[2] else ""
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
    if suffix in ("md", "markdown"):
        paragraphs, front_title, front_date = _markdown_paragraphs(doc, rest)
        return _finish(doc, paragraphs, title or front_title, date or front_date, None, None)
    markup = suffix == "rst"
    paragraphs = []
    section = None
    for block in _BLANK_SPLIT.split(rest):
        text = block.strip()
        if not text:
            continue
        kind, skip = _classify(text)
        if markup:
            h = _heading(text)
            if h and h[1]:
                section, kind, skip = h[1], "heading", ()
        paragraphs.append(Paragraph(doc, len(paragraphs), text, kind, skip, section=section))
    return _finish(doc, paragraphs, title, date, None, None)


def _markdown_paragraphs(doc: str, text: str) -> tuple[list[Paragraph], str | None, str | None]:
    """The paragraphs, and the front matter's title and date."""
    from . import markdown
    front = markdown.front_matter(text)
    if front is not None:
        text = text[front.end:]
    paragraphs = []
    section = front.title if front is not None else None
    for b in markdown.blocks(text):
        block = text[b.start:b.end]
        if b.kind == "heading":
            section = b.heading or section
        skip: tuple[tuple[int, int], ...] = ()
        kind = b.kind
        if kind == "body":
            kind, skip = _classify(block)
        elif kind == "code":  # include lines inside a code block are not code
            skip = tuple((m.start(), m.end()) for m in _DIRECTIVE_LINE.finditer(block))
        paragraphs.append(Paragraph(doc, len(paragraphs), block, kind, skip, section=section))
    return paragraphs, front.title if front else None, front.date if front else None


_DIRECTIVE_LINE = re.compile(r"^[ \t]*(\{\{#?[^{}\n]*\}\}|\{%[^\n]*%\})[ \t]*$", re.M)


def _finish(doc: str, paragraphs: list[Paragraph], title: str | None, date: str | None,
            author: str | None, outlet: str | None, sha256: str = "") -> Document:
    """Author and outlet from a byline or copyright line when not known, the title when
    missing, and the headlines before the body: the same for text and converted files."""
    for p in paragraphs:
        for line in p.text.split("\n"):
            bm = BYLINE.match(line.strip())
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
    # No header title, or scraped UI text ("Expand / Collapse search"): take the real headline.
    if not title or _line_kind(title):
        title = _body_title(paragraphs) or Path(doc).stem.replace("_", " ")
    # Short unpunctuated blocks before the first sentence-like paragraph are headlines.
    out = []
    seen_body = False
    for p in paragraphs:
        if p.kind == "body" and not seen_body and _is_headline(p.text):
            p = replace(p, kind="headline")
        elif p.kind == "body":
            seen_body = True
        out.append(p)
    return Document(doc, title, date, author, outlet, tuple(out), sha256)


def document_from(doc: str, conv: Converted, sha256: str = "") -> Document:
    """A converted file's blocks as numbered paragraphs, chrome found as in text files."""
    paragraphs = []
    for b in conv.blocks:
        if b.kind:
            kind, skip = b.kind, ()
        else:
            kind, skip = _classify(b.text)
        paragraphs.append(Paragraph(doc, len(paragraphs), b.text, kind, skip, b.page, b.section, b.page_breaks))
    title = conv.title
    if not title:
        title = next((p.text for p in paragraphs if p.kind in ("heading", "headline")
                      and any(c.isalpha() for c in p.text) and len(p.text) < 200), None)
    return _finish(doc, paragraphs, title, conv.date, conv.author, conv.outlet, sha256)


def _convert(suffix: str, data: bytes) -> Converted:
    name = FORMATS[suffix].name
    if name == "pdf":
        from .convert_pdf import convert
    elif name == "html":
        from .convert_html import convert
    else:
        from .convert_docx import convert
    return convert(data)


def read_file(root: Path, path: Path, max_bytes: int) -> Document:
    """Read and parse one file; raises QAError with the reason when it cannot be used
    (MissingLibrary when its format needs a library that is not installed)."""
    return _read(root, path.relative_to(root).as_posix(), max_bytes)[0]


def _identity(sha256: str, suffix: str) -> str:
    """What the store records for a file: its bytes' sha256, and the converter's version for
    converted formats."""
    return fingerprint(sha256, suffix) if suffix in FORMATS else sha256


def _stub(rel: str, identity: str) -> Document:
    return Document(rel, "", None, None, None, (), identity)


def _read(root: Path, rel: str, max_bytes: int, known: str | None = None) -> tuple[Document, Seen | None]:
    """(the document, what to remember of the file for the next scan). A file whose identity
    is `known` is hashed but not parsed: a stub stands for it."""
    full = os.path.join(root, rel)
    suffix = os.path.splitext(rel)[1].lower()
    fmt = FORMATS.get(suffix)
    if fmt is not None:
        max_bytes = int(max_bytes * fmt.size_factor)
    try:
        info = os.stat(full)
        size = info.st_size
        if size > max_bytes:
            what = f" for {fmt.what} files" if fmt else ""
            raise QAError(f"too large ({size / 1e6:.3g} MB; the limit{what} is {max_bytes / 1e6:g} MB)")
        key = (size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        settled = time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > RACY_NS
        data = Path(full).read_bytes()
    except OSError as e:
        raise QAError(f"unreadable ({e.strerror or e})") from None
    sha = hashlib.sha256(data).hexdigest()
    remember = Seen(key, sha) if settled and len(data) == size else None
    if known is not None and _identity(sha, suffix) == known:
        return _stub(rel, known), remember
    if fmt is not None:
        doc = document_from(rel, _convert(suffix, data), fingerprint(sha, suffix))
        if not any(p.answerable for p in doc.paragraphs):
            raise QAError("no paragraphs to answer from")
        return doc, remember
    if b"\x00" in data[:8192]:
        raise QAError("binary file")
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise QAError(f"not UTF-8 (bad byte at offset {e.start})") from None
    doc = parse_text(rel, raw)
    if not doc.paragraphs:
        raise QAError("no paragraphs")
    return replace(doc, sha256=sha), remember


_TEXT_ENDINGS = SUFFIXES + tuple(FORMATS)


def _is_text_name(name: str) -> bool:
    return name.lower().endswith(_TEXT_ENDINGS)


def _walk(root: Path) -> tuple[list[str], list[str], list[Skipped]]:
    """(files to read, files in other formats, unreadable folders) under `root`, as paths
    relative to it with '/' separators; hidden files and folders are left out."""
    files, others, bad = [], [], []

    def onerror(e: OSError) -> None:
        path = Path(e.filename) if e.filename else root
        rel = path.relative_to(root).as_posix() if path != root else "."
        bad.append(Skipped(rel + "/", f"unreadable folder ({e.strerror or e})"))

    top = os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(top, onerror=onerror):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = os.path.relpath(dirpath, top)
        prefix = "" if base == "." else base.replace(os.sep, "/") + "/"
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            wanted = _is_text_name(name) or ("." not in name and name.lower() not in NOT_PROSE)
            (files if wanted else others).append(prefix + name)
    return files, others, bad


def _group(paths: list[str]) -> str:
    """".html x16, .pdf x2, no extension x1": the kinds of file, most common first."""
    counts: dict[str, int] = {}
    for p in paths:
        name = p.rsplit("/", 1)[-1]
        kind = "." + name.rsplit(".", 1)[1].lower() if "." in name else "no extension"
        counts[kind] = counts.get(kind, 0) + 1
    kinds = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} x{n}" for k, n in kinds[:8])
    return text + (f", {len(kinds) - 8} more kinds" if len(kinds) > 8 else "")


def read_corpus(root: str | os.PathLike, *, max_file_mb: float = 10.0,
                exclude: tuple[str, ...] = ("questions.jsonl", "README.md"),
                known: Mapping[str, str] | None = None, seen: Mapping[str, Seen] | None = None) -> Corpus:
    """Read every document under `root` (.txt, .md, .markdown, .rst, extension-less files that
    are UTF-8 text, and the converted formats of qa.convert.FORMATS: PDF, web pages, Word);
    unusable files are skipped and reported one line each, files whose format needs a library
    that is missing one line per library, other formats one line in all.

    `known` (file -> identity, the store's manifest) and `seen` (the last scan's `Corpus.seen`)
    make re-opening a large corpus cheap: a file still `known` becomes a stub instead of being
    parsed, and is not even read while its stat matches `seen`."""
    root = Path(root).expanduser()
    if not root.exists():
        raise QAError(f"corpus folder not found: {root}")
    if not root.is_dir():
        raise QAError(f"corpus is not a folder: {root}")
    files, others, bad_dirs = _walk(root)
    known, seen = known or {}, seen or {}
    docs, skipped, unchanged, remembered = [], list(bad_dirs), set(), {}
    missing: dict[str, tuple[MissingLibrary, list[str]]] = {}  # one line per missing library
    ignored = [rel for rel in others if rel not in exclude]  # `exclude`: names at the top level
    max_bytes = int(max_file_mb * 1e6)
    top = os.fspath(root) + os.sep
    for rel in files:
        if rel in exclude:
            continue
        was, ident = seen.get(rel), known.get(rel)
        if was is not None and ident is not None and \
                (ident == was.sha256 or ident == _identity(was.sha256, os.path.splitext(rel)[1].lower())):
            # an unchanged file: one stat and nothing else (plain strings, no pathlib: at 100,000
            # files pathlib cost more than the stat calls)
            try:
                info = os.stat(top + rel)
            except OSError:
                info = None
            if info is not None and info.st_size <= max_bytes and \
                    (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino) == was.stat:
                docs.append(_stub(rel, ident))
                unchanged.add(rel)
                remembered[rel] = was
                continue
        try:
            doc, memo = _read(root, rel, max_bytes, ident)
        except MissingLibrary as e:
            missing.setdefault(e.format.package, (e, []))[1].append(rel)
        except QAError as e:
            if not _is_text_name(rel) and str(e).startswith(("binary", "not UTF-8")):
                ignored.append(rel)  # an extension-less file that is not text: another format
            else:
                skipped.append(Skipped(rel, str(e)))
        else:
            docs.append(doc)
            if not doc.paragraphs:
                unchanged.add(rel)
            if memo is not None:
                remembered[rel] = memo
    for e, paths in missing.values():
        kinds = ", ".join(sorted({p.rpartition(".")[2].lower() for p in paths}))
        skipped.append(Skipped(f"{len(paths)} .{kinds} file{'s' if len(paths) != 1 else ''}", str(e), tuple(paths)))
    ignored.sort()
    if ignored:
        skipped.append(Skipped(f"{len(ignored)} file{'s' if len(ignored) != 1 else ''} qa does not read",
                               _group(ignored), tuple(ignored)))
    if not docs:
        why = f" ({len(skipped)} skipped: {skipped[0].path}: {skipped[0].reason})" if skipped else ""
        raise QAError(f"no usable documents ({', '.join(SUFFIXES + tuple(FORMATS))}) in {root}{why}")
    return Corpus(root, tuple(docs), tuple(skipped), tuple(ignored), frozenset(unchanged), remembered)
