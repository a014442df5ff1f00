"""Typed answer objects shared by the answerer, the CLI, the chat and the evaluator."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .retrieve import Passage


@dataclass(frozen=True)
class Citation:
    """Where a quote stands: paragraph text of (`doc`, `paragraph`) sliced [start:end]."""

    doc: str
    paragraph: int
    start: int
    end: int
    title: str = ""
    date: str | None = None


@dataclass(frozen=True)
class Snippet:
    """A verbatim quote from one paragraph, plus the other documents that say the same thing."""

    text: str
    doc: str
    paragraph: int
    start: int
    end: int
    score: float
    title: str = ""
    date: str | None = None
    corroborated_by: tuple[Citation, ...] = ()
    short: Citation | None = None  # the short answer inside this snippet, when pinned down

    @property
    def citation(self) -> Citation:
        return Citation(self.doc, self.paragraph, self.start, self.end, self.title, self.date)


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

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "short_answer": asdict(self.short_answer) if self.short_answer else None,
            "snippets": [
                {**{k: v for k, v in asdict(s).items() if k not in ("corroborated_by", "short")},
                 "score": round(s.score, 4),
                 "short": asdict(s.short) if s.short else None,
                 "corroborated_by": [asdict(c) for c in s.corroborated_by]}
                for s in self.snippets
            ],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v * 1000, 2) for k, v in self.timings.items()},
        }
