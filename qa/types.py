"""Typed objects shared by the stages and the front ends, and the stages' small interfaces.

Data flows one way: corpus -> index -> retrieve (`Passage`) -> read (`Reading`) -> `Answer`.
A new dense store, lexical index, retriever or reader is a new class that meets one of the
protocols below and is injected into `qa.pipeline.QA`; the pipeline itself does not change.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from typing import Mapping, NamedTuple, Protocol, Sequence

import numpy as np

from .inline import reading_view, view_of


@dataclass(frozen=True)
class Citation:
    """Where a quote stands: paragraph text of (`doc`, `paragraph`) sliced [start:end]."""

    doc: str
    paragraph: int
    start: int
    end: int
    title: str = ""
    date: str | None = None
    page: int | None = None  # the page of the original the quote starts on (PDF), from 1
    section: str | None = None  # the heading it stands under (HTML, DOCX, Markdown)

    @property
    def place(self) -> str:
        """"p. 4" or "§ Background": where in the original, for a person; "" when unknown."""
        return place(self.page, self.section)


def place(page: int | None, section: str | None) -> str:
    if page is not None:
        return f"p. {page}"
    return f"§ {section}" if section else ""


@dataclass(frozen=True)
class Passage:
    """A retrieved paragraph with its fused score (and the two parts, for inspection).
    Its identity is (`doc`, `paragraph`): stable across index generations; `row` is where it
    stands in the index generation that retrieved it (-1: made elsewhere), for the readers."""

    doc: str
    paragraph: int
    score: float
    text: str
    title: str
    date: str | None
    bm25: float = 0.0
    dense: float = 0.0
    page: int | None = None  # where the paragraph starts in the original (see Citation)
    section: str | None = None
    row: int = field(default=-1, compare=False)

    @property
    def id(self) -> tuple[str, int]:
        return (self.doc, self.paragraph)

    def to_dict(self) -> dict:
        return {"doc": self.doc, "paragraph": self.paragraph, "score": round(self.score, 4),
                "text": self.text, "title": self.title, "date": self.date,
                "page": self.page, "section": self.section}


class Quote(NamedTuple):
    """Verbatim text and where it stands."""

    text: str
    citation: Citation


@dataclass(frozen=True)
class Snippet:
    """A verbatim quote from one paragraph, plus the other documents that say the same thing."""

    text: str
    citation: Citation
    score: float
    corroborated_by: tuple[Citation, ...] = ()
    short: Citation | None = None  # the short answer inside this snippet, when pinned down
    intro: Quote | None = None  # a code quote's introducing sentence (the paragraph before)
    code: bool = False  # quoted from a code block: its line breaks and indentation mean something

    doc = property(lambda self: self.citation.doc)
    paragraph = property(lambda self: self.citation.paragraph)
    start = property(lambda self: self.citation.start)
    end = property(lambda self: self.citation.end)
    title = property(lambda self: self.citation.title)
    date = property(lambda self: self.citation.date)

    def shown(self) -> tuple[str, tuple[int, int] | None]:
        """The quote as a person reads it (`inline.reading_view`: links as their labels, tags
        and emphasis marks gone; code as it stands), and where the short answer stands in that
        text. `text` and the citation stay the source's own characters."""
        view, where = view_of(self.text, self.code)
        sh = self.short
        if sh is None or (sh.doc, sh.paragraph) != (self.doc, self.paragraph) \
                or not self.start <= sh.start < sh.end <= self.end:
            return view, None
        return view, (bisect_left(where, sh.start - self.start), bisect_left(where, sh.end - self.start))

    def to_dict(self) -> dict:
        view, mark = self.shown()
        return {"text": self.text, **asdict(self.citation), "score": round(self.score, 4),
                "short": asdict(self.short) if self.short else None,
                "intro": {"text": self.intro.text, **asdict(self.intro.citation),
                          "shown": reading_view(self.intro.text)[0]} if self.intro else None,
                "code": self.code, "shown": {"text": view, "short": list(mark) if mark else None},
                "corroborated_by": [asdict(c) for c in self.corroborated_by]}


@dataclass(frozen=True)
class Reading:
    """What a reader makes of the passages: quotes best first, the short answer when it pins
    one down, and P(the first quote holds a right answer). "No answer" is a scored reading
    too: no snippets, or a confidence the pipeline finds too low."""

    snippets: tuple[Snippet, ...] = ()
    short: Citation | None = None
    confidence: float = 0.0
    features: Mapping[str, float] = field(default_factory=dict, compare=False)


class Turn(NamedTuple):
    """An earlier turn of a conversation as a client that keeps no `Answer` sends it:
    the question, and what its answer named ("" when it named nothing or abstained)."""

    question: str
    named: str = ""


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the short answer, else the best snippet's text; "" when abstaining
    abstained: bool
    confidence: float
    snippets: list[Snippet] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    short_answer: Citation | None = None
    timings: dict = field(default_factory=dict, compare=False)
    read_as: str = ""  # a follow-up as it was answered ("What is Kang Sun-nam's job?"); "" when as asked

    @property
    def named(self) -> str:
        """What this answer named, for a follow-up's pronoun: its short answer, else ""."""
        return self.text if self.short_answer is not None and not self.abstained else ""

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "short_answer": asdict(self.short_answer) if self.short_answer else None,
            "named": self.named,  # what a client sends back as a `Turn` for follow-ups
            "read_as": self.read_as,
            "snippets": [s.to_dict() for s in self.snippets],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v * 1000, 2) for k, v in self.timings.items()},
        }


# -- the stages' interfaces ----------------------------------------------------------------------
class Progress(Protocol):
    """How far a long job (indexing) is: `progress(done, total)` counts; `phase(text)` names a
    step the count does not show (loading the model, writing the store)."""

    def __call__(self, done: int, total: int) -> None: ...

    def phase(self, text: str) -> None: ...


class DenseStore(Protocol):
    """Vectors by row; an exact numpy store, an ANN index or a remote database can stand in."""

    def __len__(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (row ids, cosine scores), best first."""

    def score(self, query: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        """Cosine scores of the given rows (all rows when None)."""

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of the given rows."""


class LexicalIndex(Protocol):
    """Term search over the same rows as the dense store."""

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (row ids, scores), best first; only rows that match a query term."""

    def score(self, query: str, ids: np.ndarray) -> np.ndarray: ...

    def idf_of(self, term: str) -> float: ...


class Retriever(Protocol):
    def retrieve(self, question: str, k: int = 5, qvec: np.ndarray | None = None) -> list[Passage]: ...


class Reader(Protocol):
    """Passages -> a Reading. `more` are the next passages down, searched only for
    documents that corroborate the quotes. `abstain_below` is the confidence under which the
    pipeline abstains; `warm_up()` loads the models the first question would wait for."""

    abstain_below: float

    def warm_up(self) -> None: ...

    def read(self, question: str, passages: Sequence[Passage], qvec: np.ndarray,
             more: Sequence[Passage] = ()) -> Reading: ...
