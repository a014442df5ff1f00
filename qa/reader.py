"""The trained reader as a pipeline stage (a `types.Reader`): the span model reads the best
passages, or windows around their best sentences; the sentence scorer ranks the quotes.

The first quote is the sentence ranked best on its sentence score plus `w_span` times how
strongly the span model backs a span inside it (1 for the best span read, less for the others),
so a span the model is unsure of does not push a better-scored sentence aside. The short answer
is the best span inside that first quote. Confidence is a logistic model over the span model's
scores and the sentence scorer's features, fitted by bench/fit_confidence.py
(qa/models/weights.json).
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import NamedTuple, Sequence

import numpy as np

from . import weights
from .config import Config
from .extract import (asks_plural, candidates, code_answer_line, command_unit, enumeration, name_fit,
                      named_as_asked, shaped)
from .index import Index
from .inline import code_spans, marked_name, view_of, whole_links
from .scoring import FEATURES, NER_FEATURES, Analysis, Candidate, SentenceScorer, asked, list_item, typed_phrases
from .sentences import own_line_between
from .spans import DEFAULT_WEIGHTS, Span, SpanModel, available, get_span_model
from .text import CODE_SPAN, code_line, in_comment, terms, trim_answer
from .types import Citation, Passage, Reading, Snippet

__all__ = ["ModelReader", "Piece", "READER_FEATURES", "span_features", "available"]

READER_FEATURES = ("r_margin", "r_prob", "r_score", "r_null", "r_best_passage", "r_other_margin",
                   "rules_logit", "off_topic")


class Piece(NamedTuple):
    """What the span model reads: characters [start:end) of paragraph row `row`."""

    row: int
    start: int
    end: int


class ModelReader:
    """Reads the top `Config.reader_passages` passages whole, or, with `Config.reader_windows`
    > 0, that many windows (a sentence and its neighbours) around the best-scored sentences."""

    def __init__(self, index: Index, config: Config | None = None, spans: SpanModel | None = None,
                 scorer: SentenceScorer | None = None, model: dict | None = None):
        self.index = index
        self.config = config or index.config
        self.scorer = scorer or SentenceScorer(index, self.config)
        self.spans = spans or get_span_model(self.config.reader_weights or DEFAULT_WEIGHTS, self.config.threads)
        # `model`: another confidence model (bench/fit_confidence.py reads with none fitted yet)
        # fitted twice, with spaCy's entity features and without, like the rules reader's
        name = "reader_confidence" if self.scorer.uses_entities else "reader_confidence_plain"
        self.model = model or weights.model(name, READER_FEATURES + FEATURES + NER_FEATURES, subset=True)

    def warm_up(self) -> None:
        self.spans.warm_up()
        self.scorer.warm_up()

    @property
    def abstain_below(self) -> float:
        return float(self.model["abstain_below"])

    def read(self, question: str, passages: Sequence[Passage], qvec: np.ndarray,
             more: Sequence[Passage] = ()) -> Reading:
        an = self.scorer.analyse(question, passages, qvec)
        if an is None:
            return Reading()
        pieces = self.pieces(an, passages)
        return self.reading(an, pieces, self.spans_of(question, pieces), more)

    def spans_of(self, question: str, pieces: Sequence[Piece]) -> list[Span]:
        """The span model's best span of each piece (read without link targets and tags:
        `inline.reading_view`), in paragraph offsets."""
        views = []
        for p in pieces:
            par = self.index.paragraphs[p.row]
            text = par.text[p.start:p.end]
            views.append(view_of(text, par.kind == "code"))
        out = []
        for sp, p, (_, where) in zip(self.spans.read(question, [v for v, _ in views]), pieces, views):
            if np.isfinite(sp.score):
                end = where[sp.end - 1] + 1 if sp.end > sp.start else where[sp.start]
                sp = sp._replace(start=where[sp.start] + p.start, end=end + p.start)
                sp = sp._replace(end=self._within_item(p.row, sp.start, sp.end))
            out.append(sp)
        return out

    def _within_item(self, row: int, start: int, end: int) -> int:
        """`end`, or the end of the sentence `start` is in when a list item or another line
        that stands on its own begins before `end`: a span never runs into the next item."""
        text = self.index.paragraphs[row].text
        if "\n" not in text[start:end]:
            return end
        first, last = (int(x) for x in self.index.par_sentences[row])
        for r in range(first, last - 1):
            _, a, b = (int(x) for x in self.index.sentence_spans[r])
            nxt = int(self.index.sentence_spans[r + 1][1])
            if a <= start < b < end and nxt < end and own_line_between(text, b, nxt):
                return b
        return end

    def reading(self, an: Analysis, pieces: Sequence[Piece], spans: Sequence[Span],
                more: Sequence[Passage] = ()) -> Reading:
        """Quotes, short answer and confidence from the scored sentences and the spans read."""
        best = max(range(len(pieces)), key=lambda i: spans[i].score)
        feats = dict(an.features)
        feats.update(span_features(spans, best, an.confidence, an.off_topic))
        confidence = weights.probability(self.model, feats)
        if an.off_topic:
            confidence *= self.config.focus_absent_factor
        typed = bool(shaped(an.qtype) and an.cands[0].type_fit > 0)
        answered = frozenset()
        sp = spans[best]
        if not an.wants_code and np.isfinite(sp.score) and sp.prob >= self.config.reader_sure:
            # a sentence the span model is sure answers is quoted itself, not the code it introduces
            answered = frozenset(c.row for c in an.cands if c.pi == pieces[best].row and c.start <= sp.start
                                 and sp.end <= c.end)
        snippets = self.scorer.quotes(an.cands, more, self.lead(an.cands, pieces, spans, typed, an.wants_code),
                                      code=an.wants_code, answered=answered, question=an.question)
        if not snippets:
            return Reading(confidence=confidence, features=feats)
        first = snippets[0]

        def inside(i: int) -> bool:
            sp, par = spans[i], self.index.paragraphs[pieces[i].row]
            return (np.isfinite(sp.score) and sp.end > sp.start and (par.doc, par.paragraph) == (first.doc, first.paragraph)
                    and first.start <= sp.start and sp.end <= first.end)
        held = [i for i in range(len(pieces)) if inside(i)]
        i = max(held, key=lambda j: spans[j].score) if held else None
        identifier = bool(an.qtype and an.qtype.startswith("code"))
        # a question in words answered from a code block's comments: the span read there is prose
        # ("// Since Rust 1.45, ..." answers "Since which release ...?" with 1.45)
        remark = (i is not None and first.code and not an.wants_code and not identifier
                  and in_comment(self.index.paragraphs[pieces[i].row].text, spans[i].start, spans[i].end))
        if first.code and not command_unit(first.text) and not remark:
            i = None  # configuration or source code: no span of it the span model reads
        short = None
        if identifier:  # an identifier of the shape asked for, or no short answer from prose
            short = self.identifier(an, first, None if i is None else (spans[i].start, spans[i].end))
            if short is not None and not first.code and asks_plural(an.question):  # "What are the fields ...?"
                row = self.index.row(short.doc, short.paragraph)
                short = self.index.cite(row, *enumeration(self.index.paragraphs[row].text, short.start, short.end,
                                                          first.start, first.end))
        if an.qtype == "term" and not first.code:  # the term the quote marks, not the span's words
            short = self.identifier(an, first, None if i is None else (spans[i].start, spans[i].end))
        if remark:
            short = self.index.cite(pieces[i].row, *trim_answer(self.index.paragraphs[pieces[i].row].text,
                                                                spans[i].start, spans[i].end))
        if short is None and first.code:
            short = self.block_line(an, first)  # the line of the block that answers, if one does
        if short is None and i is not None and not (identifier and not first.code):
            row = pieces[i].row
            par = self.index.paragraphs[row]
            if par.kind == "code":
                a, b = code_line(par.text, *trim_answer(par.text, spans[i].start, spans[i].end), within=first.end)
            else:
                a, b = marked_name(par.text, *trim_answer(par.text, *whole_links(par.text, spans[i].start,
                                                                                spans[i].end)))
                if asks_plural(an.question):  # one item of a list read: the list
                    a, b = enumeration(par.text, a, b, first.start, first.end)
            short = self.index.cite(row, a, b)
        elif short is None and first.code and an.wants_code and command_unit(first.text) \
                and (first.intro is not None or an.qtype == "code:command"):
            # a how-to question answered by the code its sentence introduces, or a command
            # asked for, and no line answers before the others: the code's first line (the span
            # model reads prose windows, not this block); configuration (`repos:`, `[project]`)
            # has no line that answers alone
            short = self.block_line(an, first, whole=False)
        if an.wants_code and not first.code and not (short is not None and self._inline_code(short)):
            # "How do you check that it compiles?": the command the quote names, not prose around it
            short = self.inline_command(an, first) or short
        if short is None and not first.code and _WHICH.match(asked(an.question)):
            short = self.item_head(an, first)  # "Which marker ...?": "- `//!` - Generates docs for ..."
        if short is not None and an.qtype == "version":  # `rand = "0.8.5"` answers "What version ...?" with 0.8.5
            quoted = self.index.quoted(short)
            v = next(iter(candidates(quoted, "version")), None)
            if v is not None:
                short = self.index.cite(self.index.row(short.doc, short.paragraph),
                                        short.start + v[0], short.start + v[1])
        snippets[0] = replace(first, short=short)
        return Reading(tuple(snippets), short, confidence, feats)

    def item_head(self, an: Analysis, first: Snippet) -> Citation | None:
        """The code a list item opens with ("* `eprint!`: same as ..."), when the first quote is
        that item and the question does not write it: the item defines it, and "Which ...?"
        asks for what the item defines."""
        row = self.index.row(first.doc, first.paragraph)
        text = self.index.paragraphs[row].text
        if not list_item(text, first.start):
            return None
        m = _ITEM_HEAD.match(text, first.start)
        if m is None or not typed_phrases(text[m.start("code") - 1:m.end("code") + 1], "code:code", frozenset(),
                                          question=an.question):
            return None
        return self.index.cite(row, *m.span("code"))

    def _items(self, a: Candidate, b: Candidate) -> bool:
        """Are `a` and `b` items of one list (sentences of one paragraph, each opening a line
        with a list marker) or units of one code block?"""
        par = self.index.paragraphs[a.pi]
        return a.pi == b.pi and (par.kind == "code" or all(list_item(par.text, c.start) for c in (a, b)))

    def _inline_code(self, c: Citation) -> bool:
        """Is the cited span inside an inline code span of its paragraph?"""
        text = self.index.paragraphs[self.index.row(c.doc, c.paragraph)].text
        return any(a <= c.start and c.end <= b for a, b in code_spans(text))

    def inline_command(self, an: Analysis, first: Snippet) -> Citation | None:
        """For a how-to question quoted with prose, the command it names in inline code (a
        program and its arguments, `cargo check`; a setting, `members = ["crates/*"]`; or a
        call, `HashMap::with_capacity(uint)`):
        of several, the one sharing most of the question's weight, else the first."""
        row = self.index.row(first.doc, first.paragraph)
        text = self.index.paragraphs[row].text
        found = []
        for m in CODE_SPAN.finditer(text, first.start, first.end):
            code = m.group(2).strip()
            if len(code.split()) >= 2 and (command_unit(code) or " = " in code) or _CALL.fullmatch(code):
                said = set(terms(code.replace("_", " ").replace("-", " ")))
                found.append((-sum(w for t, w in an.idf.items() if t in said), m.start(2), m.end(2)))
        if not found:
            return None
        _, a, b = min(found)
        return self.index.cite(row, *trim_answer(text, a, b))

    def block_line(self, an: Analysis, first: Snippet, whole: bool = True) -> Citation | None:
        """The line of a quoted code block that answers (`extract.code_answer_line`: "only
        regex's entry" gets `cargo update regex`, the dependency asked for its line), without
        its prompt and comment; else, unless the block answers `whole`, its first line."""
        row = self.index.row(first.doc, first.paragraph)
        text = self.index.paragraphs[row].text
        line = code_answer_line(text, first.start, first.end, an.idf)
        if line is None and whole:
            return None
        at = first.start if line is None else line[0]
        return self.index.cite(row, *code_line(text, at, at, within=first.end))

    def identifier(self, an: Analysis, first: Snippet, span: tuple[int, int] | None) -> Citation | None:
        """For a question that asks for an identifier (`extract.code_kind`), the one of that
        shape in the first quote that the quote calls by the noun asked for ("the `X` variable"),
        else the one whose name says most of what is asked (`extract.name_fit`; a name that
        says the opposite last), and of those alike the one the span model's span touches, else
        the nearest to it: the span model, trained on prose, often takes the words around a
        code span, or a cell beside the one asked for."""
        row = self.index.row(first.doc, first.paragraph)
        text = self.index.paragraphs[row].text
        found = [(first.start + a, first.start + b)
                 for a, b in typed_phrases(text[first.start:first.end], an.qtype, an.qterms, question=an.question)]
        if not found:
            return None
        a, b = span if span is not None else (found[0][0], found[0][0])
        fit = {f: name_fit(text[f[0]:f[1]], an.question, an.idf) for f in found}
        found.sort(key=lambda f: (not named_as_asked(text, f[0], f[1], an.question), -fit[f],
                                  span is not None and not (f[0] < b and a < f[1]),
                                  min(abs(f[0] - a), abs(f[1] - b))))
        return self.index.cite(row, *found[0])

    def pieces(self, an: Analysis, passages: Sequence[Passage]) -> list[Piece]:
        """The texts the span model reads: whole passages, or windows of a sentence and its
        neighbours around the best-scored sentence and those scored within
        `Config.reader_window_gap` of it. Each window keeps the shape the reader is trained on
        (one sentence and its neighbours): a candidate already inside a window adds nothing,
        and windows are never merged into longer texts (which read worse: docs/benchmarks.md).
        Where the passages hold code, `Config.code_reader_windows` within
        `Config.code_reader_window_gap`."""
        n, gap = self.config.reader_windows, self.config.reader_window_gap
        if n <= 0:
            return [Piece(p.row, 0, len(p.text)) for p in passages[:self.config.reader_passages]]
        idx = self.index
        if any(idx.paragraphs[p.row].kind == "code" or "`" in p.text for p in passages):
            n, gap = self.config.code_reader_windows, self.config.code_reader_window_gap
        out: list[Piece] = []
        floor = an.cands[0].score - gap if an.cands else 0.0
        for c in an.cands:
            if len(out) >= n or (out and c.score < floor):
                break
            if any(p.row == c.pi and p.start <= c.start and c.end <= p.end for p in out):
                continue
            first, last = (int(x) for x in idx.par_sentences[c.pi])
            lo, hi = max(first, c.row - 1), min(last - 1, c.row + 1)
            out.append(Piece(c.pi, int(idx.sentence_spans[lo][1]), int(idx.sentence_spans[hi][2])))
        return out

    def lead(self, cands: list[Candidate], pieces: Sequence[Piece], spans: Sequence[Span],
             typed: bool = False, code: bool = False) -> Candidate | None:
        """The sentence to quote first when a span earns it the lead: best on sentence score
        + `w_span` x exp(span score - best span score), the span's sentence widened to every
        sentence the span touches; None when the best-scored sentence leads on its own.
        `typed`: the best-scored sentence holds the identifier asked for, and only a sentence
        that holds one too may take its place (the span model reads prose, not identifiers).
        A span in another item of the best sentence's list, or another unit of its code block,
        counts for the best sentence (`_items`). `code`: the question asks for code, and a span
        of prose that names none takes no lead ("package manager" answers no "How do I list
        ...?")."""
        finite = [sp.score for sp in spans if np.isfinite(sp.score)]
        if not finite:
            return None
        top = max(finite)
        best, best_score = None, cands[0].score
        for p, sp in zip(pieces, spans):
            if not np.isfinite(sp.score):
                continue
            mine = [c for c in cands if c.pi == p.row and c.start < max(sp.end, sp.start + 1) and sp.start < c.end]
            if not mine:
                near = min((c for c in cands if c.pi == p.row), key=lambda c: abs(c.start - sp.start), default=None)
                if near is None:
                    continue
                mine = [near]
            mine.sort(key=lambda c: c.start)
            if mine[0].row != cands[0].row and self._items(cands[0], mine[0]):
                # each item of a list, each command of a block says its own thing: a span the
                # model read in a neighbour of the best sentence speaks for the best sentence
                best_score = max(best_score, cands[0].score + self.config.w_span * float(np.exp(sp.score - top)))
                continue
            if code and self.index.paragraphs[p.row].kind != "code" and not any(
                    a < sp.end and sp.start < b for a, b in code_spans(self.index.paragraphs[p.row].text)):
                continue  # a how-to question: a span of prose that names no code answers nothing
            if typed and not any(c.type_fit >= cands[0].type_fit and (c.name_fit >= 0 or cands[0].name_fit < 0)
                                 for c in mine):
                continue  # nor one whose identifiers' names say less than nothing of what is asked,
                # nor prose naming a command in place of a command line
            score = mine[0].score + self.config.w_span * float(np.exp(sp.score - top))
            if score > best_score:  # its quote shows the best sentence score (as the lead)
                best = replace(mine[0], end=max(mine[-1].end, mine[0].end), score=max(mine[0].score, cands[0].score))
                best_score = score
        return best


_CALL = re.compile(r"[A-Za-z_][\w:.<>]*\([^()`]*\)")  # `HashMap::with_capacity(uint)`, `path.exists()`
_WHICH = re.compile(r"\s*(?:which|what)\b(?!\s+(?:is|are|was|were|does|do|did)\s+(?:an?|the)?\s*`)", re.I)
# a list item that opens with inline code, maybe bold or a link's label: "* [`Default`][default], to ..."
_ITEM_HEAD = re.compile(r"[ \t]*(?:[-*+•]|\d{1,3}[.)])\s+(?:\*\*|__|\[)?`(?P<code>[^`\n]+)`")


def span_features(spans: Sequence[Span], best: int, rules_confidence: float, off_topic: bool) -> dict[str, float]:
    """What the span model says, as features for the confidence model."""
    s = spans[best]
    margins = [x.margin if np.isfinite(x.score) else -20.0 for x in spans]
    rc = min(max(rules_confidence, 1e-4), 1 - 1e-4)
    return {
        "r_margin": float(s.margin) if np.isfinite(s.score) else -20.0,
        "r_prob": float(s.prob),
        "r_score": float(s.score) if np.isfinite(s.score) else 0.0,
        "r_null": float(s.null),
        "r_best_passage": float(best),
        "r_other_margin": float(max([m for i, m in enumerate(margins) if i != best], default=-20.0)),
        "rules_logit": float(np.log(rc / (1 - rc))),
        "off_topic": 1.0 if off_topic else 0.0,
    }
