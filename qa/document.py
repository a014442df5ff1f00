"""A document and its numbered paragraphs, and the one JSON layout the store keeps them in.

`Document` / `Paragraph` are what the corpus parser (qa/corpus.py) produces and the open index
gives back. The JSON form is how the indexer hands a document to the store and how the index
reads it back: `to_json` / `from_json`, and `split_json` / `join_json` for the store, which keeps
each paragraph's text and sentence spans in files of their own. Nothing here parses files, so
the store can take the layout without knowing the parser.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .inline import reading_view, view_of, view_spans

ANSWERABLE_KINDS = ("body", "headline", "caption", "code")  # the kinds of paragraph answers come from

Spans = list[tuple[int, int]]  # a paragraph's sentences: (start, end) in its text


@dataclass(frozen=True)
class Paragraph:
    """One block of a document. `skip` lists (start, end) ranges of `text` never to answer from.

    Where it stands in the original: `page` (PDF: the page it starts on, from 1; `page_breaks`
    are the offsets in `text` where the next pages begin) or `section` (the heading it stands
    under: HTML, DOCX, Markdown). Both are None for plain text."""

    doc: str
    paragraph: int
    text: str
    kind: str = "body"  # body | headline | caption | code | heading | html | directive | copyright | ui | byline | bio
    skip: tuple[tuple[int, int], ...] = ()
    page: int | None = None
    section: str | None = None
    page_breaks: tuple[int, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.kind in ANSWERABLE_KINDS

    def page_at(self, offset: int) -> int | None:
        """The page of the original that character `offset` of `text` stands on."""
        if self.page is None:
            return None
        return self.page + sum(1 for b in self.page_breaks if b <= offset)


@dataclass(frozen=True)
class Document:
    doc: str  # path relative to the corpus root, with '/' separators
    title: str
    date: str | None
    author: str | None
    outlet: str | None
    paragraphs: tuple[Paragraph, ...]
    sha256: str = ""


def passage_text(title: str | None, text: str, with_title: bool, section: str | None = None) -> str:
    """What gets embedded and BM25-indexed for a paragraph: the title, and the heading of the
    section it stands in, give it context (a FAQ's answer stands under its question)."""
    if not with_title:
        return text
    context = " - ".join(x for x in dict.fromkeys((title, section)) if x)
    return f"{context}\n{text}" if context else text


# -- the JSON layout --------------------------------------------------------------------------------

def to_json(d: Document, sentences: Sequence[Spans]) -> dict:
    """A document and each paragraph's sentence spans as the store keeps them."""
    return {
        "doc": d.doc, "title": d.title, "date": d.date, "author": d.author, "outlet": d.outlet,
        "sha256": d.sha256,
        "paragraphs": [{"text": p.text, "kind": p.kind, "skip": [list(r) for r in p.skip],
                        "sentences": [list(s) for s in sents], **_place_to_json(p)}
                       for p, sents in zip(d.paragraphs, sentences)],
    }


def _place_to_json(p: Paragraph) -> dict:
    """Page and section only where the format has them, so text corpora store nothing more."""
    out: dict = {}
    if p.page is not None:
        out["page"] = p.page
        if p.page_breaks:
            out["page_breaks"] = list(p.page_breaks)
    if p.section:
        out["section"] = p.section
    return out


def from_json(j: dict) -> tuple[Document, list[Spans]]:
    """`to_json` read back: the document and each paragraph's sentence spans."""
    paras = tuple(Paragraph(j["doc"], i, p["text"], p["kind"], tuple(tuple(r) for r in p["skip"]),
                            p.get("page"), p.get("section"), tuple(p.get("page_breaks", ())))
                  for i, p in enumerate(j["paragraphs"]))
    doc = Document(j["doc"], j["title"], j.get("date"), j.get("author"), j.get("outlet"), paras,
                   j.get("sha256", ""))
    return doc, [[tuple(s) for s in p["sentences"]] for p in j["paragraphs"]]


def intro_of(kinds: Sequence[str], sentences: Sequence[Spans], i: int) -> tuple[int, int] | None:
    """For a code paragraph, the sentence that introduces it ("Run the following command:"):
    the last sentence of the prose paragraph right before it, as (start, end) in that one."""
    if i == 0 or kinds[i] != "code" or kinds[i - 1] == "code" or kinds[i - 1] not in ANSWERABLE_KINDS \
            or not sentences[i - 1]:
        return None
    a, b = sentences[i - 1][-1]
    return int(a), int(b)


def json_passage_texts(j: dict, with_title: bool) -> list[str]:
    """`passage_text` of each paragraph of a document in its JSON form: prose as it reads (links
    as their labels: `inline.reading_view`); a code block's with the sentence that introduces
    it, which says what the code is for."""
    return [text for text, _ in json_passage_spans(j, with_title)]


def with_intro(intro: str | None, body: str) -> str:
    """A code block as embedded: after the sentence that introduces it (read as prose reads)."""
    return body if intro is None else reading_view(intro)[0] + "\n" + body


def json_passage_spans(j: dict, with_title: bool) -> list[tuple[str, list[tuple[int, int]]]]:
    """Each paragraph's `json_passage_texts` text with its sentence spans moved into that text
    (into the prose's reading view, past the title and a code block's introduction): what the
    indexer embeds."""
    ps = j["paragraphs"]
    kinds = [p.get("kind", "body") for p in ps]
    sentences = [p.get("sentences") or [] for p in ps]
    out = []
    for i, p in enumerate(ps):
        body, where = view_of(p["text"], kinds[i] == "code")
        spans = view_spans(where, sentences[i])
        span = intro_of(kinds, sentences, i)
        text = passage_text(j.get("title"), with_intro(None if span is None else ps[i - 1]["text"][span[0]:span[1]],
                                                       body), with_title, p.get("section"))
        shift = len(text) - len(body)
        out.append((text, [(a + shift, b + shift) for a, b in spans]))
    return out


def identity(j: dict) -> list[str]:
    """[name, sha256] of a document in its JSON form."""
    return [j["doc"], j.get("sha256", "")]


# -- what the store keeps apart -----------------------------------------------------------------------

_APART = ("text", "sentences")  # per paragraph, kept in the segment's own files


def split_json(j: dict) -> tuple[dict, list[tuple[str, list, bool]]]:
    """(the document without its paragraphs' texts and sentence spans, and per paragraph its
    text, its sentence spans and whether answers may come from it)."""
    meta = {k: v for k, v in j.items() if k != "paragraphs"}
    meta["paragraphs"] = [{k: v for k, v in p.items() if k not in _APART} for p in j["paragraphs"]]
    rows = [(p["text"], p["sentences"], p.get("kind", "body") in ANSWERABLE_KINDS) for p in j["paragraphs"]]
    return meta, rows


def join_json(meta: dict, texts: Sequence[str], sentences: Sequence[list]) -> dict:
    """`split_json` undone: each paragraph's text and sentence spans put back (in place)."""
    for p, text, spans in zip(meta["paragraphs"], texts, sentences):
        p["text"] = text
        p["sentences"] = spans
    return meta
