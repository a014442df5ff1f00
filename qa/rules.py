"""The hand-made readers: the rules reader (the best sentence by `SentenceScorer`, and a short
answer pinned down by answer type) and the baseline (the best cosine sentence of the top
paragraph), kept to measure the trained reader against.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

import numpy as np

from .config import Config
from .extract import command_unit, is_organisation
from .index import Index
from .scoring import Candidate, SentenceScorer, typed_phrases
from .text import code_line, stem_all
from .types import Citation, Passage, Reading, Snippet

_WHO = re.compile(r"\s*(who|whom)\b", re.I)


class RulesReader:
    """Hand-made reading: quotes the best-scored sentences and pins a short answer down by
    answer type (a `types.Reader`)."""

    def __init__(self, index: Index, config: Config | None = None, scorer: SentenceScorer | None = None):
        self.index = index
        self.config = config or index.config
        self.scorer = scorer or SentenceScorer(index, self.config)

    @property
    def abstain_below(self) -> float:
        return self.scorer.abstain_below

    def warm_up(self) -> None:
        """Nothing to load: the sentence scorer reads the open index."""

    def read(self, question: str, passages: Sequence[Passage], qvec: np.ndarray,
             more: Sequence[Passage] = ()) -> Reading:
        """Snippets, short answer, confidence and its features, from `passages`; `more`
        (the next passages down) are only searched for documents that corroborate."""
        an = self.scorer.analyse(question, passages, qvec)
        if an is None:
            return Reading()
        snippets = self.scorer.quotes(an.cands, more, code=an.wants_code, question=an.question)
        if not snippets:
            return Reading(confidence=an.confidence, features=an.features)
        short = self.short(an.cands[0], an.qtype, an.qterms, question)
        first = snippets[0].citation
        if short is not None and ((short.doc, short.paragraph) != (first.doc, first.paragraph)
                                  or not first.start <= short.start <= short.end <= first.end):
            short = None  # the first quote is the code block the best sentence introduces
        snippets[0] = replace(snippets[0], short=short)
        return Reading(tuple(snippets), short, an.confidence, an.features)

    def short(self, c: Candidate, qtype: str | None, qterms: frozenset[str], question: str) -> Citation | None:
        """The typed phrase nearest the question's words in the best sentence, if there is one."""
        if not qtype:
            return None
        par = self.index.paragraphs[c.pi]
        if qtype == "code:command" and par.kind == "code":  # the command line, without its prompt
            if not command_unit(par.text[c.start:c.end]):
                return None
            return self.index.cite(c.pi, *code_line(par.text, c.start, c.start))
        sent = par.text[c.start:c.end]
        found = typed_phrases(sent, qtype, qterms, strict=qtype in ("name", "place"), question=question)
        if not found:
            return None
        anchors = [m.start() for m in re.finditer(r"\w+", sent)
                   if stem_all([m.group().lower()])[0] in qterms]

        def dist(span):
            return min((min(abs(a - span[0]), abs(a - span[1])) for a in anchors), default=0)
        person = qtype == "name" and bool(_WHO.match(question))
        # nearest to the question's words; for "who", people before organisations
        found.sort(key=lambda sp: (person and is_organisation(sent[sp[0]:sp[1]]), dist(sp)))
        s, e = found[0]
        return self.index.cite(c.pi, c.start + s, c.start + e)


class BaselineReader:
    """The plain baseline for comparison: best sentence by cosine in the top paragraph, never abstains."""

    abstain_below = 0.0

    def __init__(self, index: Index, config: Config | None = None):
        self.index = index

    def warm_up(self) -> None:
        """Nothing to load."""

    def read(self, question, passages, qvec, more=()) -> Reading:
        idx = self.index
        for p in passages[:1]:
            rows = idx.sentence_rows(p.row)
            if rows:
                cos = idx.sentence_scores(qvec, rows)
                _, a, b = (int(x) for x in idx.sentence_spans[rows[int(np.argmax(cos))]])
                snip = Snippet(p.text[a:b], idx.cite(p.row, a, b), float(cos.max()), intro=idx.intro(p.row),
                               code=idx.paragraphs[p.row].kind == "code")
                return Reading((snip,), None, 1.0)
        return Reading()
