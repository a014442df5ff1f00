"""Sentence scoring, shared by the readers: which sentences of the retrieved paragraphs answer,
how sure that is, and the distinct quotes (with the documents that corroborate them).

Each candidate sentence is scored on four signals: its cosine to the question (sentence
vectors are stored at index time), the IDF-weighted share of question terms it (or its
document title) contains, its paragraph's retrieval score, and whether it holds a phrase of
the type the question asks for. Confidence is a logistic model over such features (plus
signs of a question written to look answerable: a negation, an opposite, a swapped name),
fitted on one half of SQuAD v2.0's articles (bench/fit_confidence.py), checked on the other.
The rules reader (qa/rules.py) and the trained reader (qa/reader.py) both use `SentenceScorer`;
neither reaches into the other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from . import ner, weights
from .config import Config
from .extract import (answer_type, candidates, code_kind, command_unit, defined_term, defines, name_fit,
                      named_as_asked, shaped)
from .index import Index
from .sentences import own_line_between
from .text import QUESTION_WORDS, STOPWORDS, comment_only, in_comment, normalize, stem_all, terms, words
from .types import Citation, Passage, Snippet

_ANAPHORA = re.compile(r"^(he|she|it|they|this|these|that|those|his|her|its|their|but|however|also|"
                       r"the (move|meeting|visit|statement|decision|country|group|ministry))\b", re.I)
_NEG = re.compile(r"\b(not|never|no|without|none|neither|nor)\b|n't\b", re.I)
# a sentence that states an exception answers a negated question ("not passed": "with the exception of")
_EXCEPTION = re.compile(r"\b(?:except|exception|excluding|unless)\b", re.I)
# a condition clause of a question, to its end or the next comma
# (or of purpose: "What prefix do I use so Cargo doesn't create ...?"; not "the so called ...")
_CONDITION = re.compile(r"(?<=\w)\s+(?:when|if|unless|once|so(?!\s+called\b)(?:\s+that)?)\s+[^,?]*", re.I)
# the end of a sentence told before the one that asks: a full stop after a word, then a capital
# that opens a sentence ending in the question mark ("Mr. Smith" and "St. Louis" are no ends)
_TOLD = re.compile(r"(\w+)[.!]\s+(?=[A-Z][^?]*\?\s*$)")
_SYMBOL = re.compile(r"(?<!\S)`?([^\w\s`'\"]{1,3})`?(?!\S)")
_ABBREVIATIONS = frozenset("Mr Mrs Ms Dr St Jr Sr Prof Gen Col Lt Sgt Capt Rev Mt Ft vs No".split())
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•]\s|\d{1,3}[.)]\s)")


def list_item(text: str, start: int) -> bool:
    """Does the sentence starting at `start` of `text` open a list item (a marker first on its line)?"""
    line = text.rfind("\n", 0, start) + 1
    m = _LIST_ITEM.match(text, line)
    return m is not None and text[m.end():start].strip() == ""
_LIST_QUOTE = 400  # a list a sentence leads to is quoted up to this many characters (whole items)
_CUE = re.compile(r"\b(not|never|no|unable|cannot|without|least|fail\w*|none|neither|nor|except|only|instead)\b|n't\b",
                  re.I)
_POSSESSIVE = re.compile(r"['’]s?$")
_GENERIC = frozenset("""name names kind type sort year years day days date week weekday month time
city country place town state region person people thing things many much long far number
job jobs role position title occupation profession happen happens happened occur occurs occurred
minimum maximum newest latest oldest earliest smallest largest highest lowest""".split())
# verbs that carry little of what a question is about ("How do I make nox use uv?")
_LIGHT = frozenset("make makes made use uses using used get gets got getting have has had let lets take takes want "
                   "need set put keep give go".split())
# the first word of a yes/no question
_AUXILIARY = frozenset("is are was were do does did can could will would should shall may might must has have had"
                       .split())
_NEG_PREFIX = ("non", "un", "in", "im", "dis", "ir", "il", "anti", "counter", "mis")
# units of time ("second" is left out: far more often "the second vessel" than a unit)
_UNIT = re.compile(r"\b(minute|hour|day|week|month|year|decade|centur(?:y|ies)|millenni(?:um|a))s?\b", re.I)
_WH = ("what", "who", "when", "where", "why", "how", "which")
_COMPOUND = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w-])")  # lower-case, hyphenated
_NAME_WORD = re.compile(r"(?<![.?!]\s)\b([A-Z][\w-]*[A-Za-z][\w-]*)")  # a capitalised word, not a sentence's first
# A question that asks for something to run ("How do I install it?", "Which command checks the
# lockfile?"): in technical documents its answer is the code block after the sentence that
# explains it, as often as the sentence itself (issue 21).
_WANTS_CODE = re.compile(
    r"(?:^|[.?!;]\s)\W*(?:how\s+(?:do|can|could|should|would|might)\s+(?:i|we|you|one)\b|how\s+to\b)"
    r"|\b(?:what|which)(?:'s|\s+is|\s+are)?\s+(?:the\s+)?(?:[\w-]+\s+){0,2}(?:command|commands|command\s+line|cli"
    r"|invocation|line|lines|snippet)\b|\bwhat\s+(?:do|should|can|must)\s+(?:i|we|you)\s+(?:run|type|enter|execute)\b", re.I)


def wants_code(question: str) -> bool:
    """Does the question ask how to do something, or for a command? ("I installed it with
    the script. How do I upgrade it?" does: any of its sentences may ask.)"""
    return bool(_WANTS_CODE.search(question))


# the confidence model's inputs (qa/models/weights.json is checked against them at load)
FEATURES = ("cos", "overlap", "type_fit", "margin", "passage_cover", "missing_max", "has_type", "unseen",
            "p_dense", "p_bm25", "p_margin", "cue", "neg_mismatch", "num_missing", "cap_missing",
            "sent_missing", "sbigram", "antonym", "unit_swap", *(f"wh_{w}" for w in _WH))
NER_FEATURES = ("ent_swap", "ner_wanted", "ner_found")  # with spaCy (the `ner` extra) only


@dataclass
class Candidate:
    """A sentence of a retrieved paragraph, with the signals it was scored on."""

    row: int          # sentence row in the index
    pi: int           # paragraph row
    start: int
    end: int
    cos: float
    overlap: float
    passage: float
    type_fit: float
    score: float = 0.0
    name_fit: float = 0.0  # for an identifier asked for: how well its name says what is asked
    defines: bool = False  # for "What is X?": the sentence opens by defining X


@dataclass
class _Pick:
    cand: Candidate
    start: int
    end: int
    also: list[Citation] = field(default_factory=list)


@dataclass
class Analysis:
    """Every sentence of the passages scored and ranked, and what the best one tells."""

    cands: list[Candidate]  # best first
    features: dict[str, float]
    confidence: float
    qtype: str | None
    qterms: frozenset[str]
    off_topic: bool  # the focus word is foreign to the corpus, or the question is not English
    wants_code: bool = False  # a how-to or which-command question (`wants_code`)
    question: str = ""
    idf: dict[str, float] = field(default_factory=dict)  # each of `qterms` with its idf


def typed_phrases(sentence: str, qtype: str, qterms: set[str] | frozenset[str],
                  strict: bool = False, question: str = "") -> list[tuple[int, int]]:
    """Phrases of the type the question asks for in `sentence` that the question does not
    already contain (`strict`: sharing no word with it, so "Sergei Shoigu" never answers "Who
    did Shoigu meet?"). An identifier (`code:*`) is left out only when the question writes it
    out: `--tide` answers "Which flag records the tide?", `uv sync` not "Which uv sync flag
    ...?"; unless the sentence calls it by the noun asked for ("the keyword `struct`")."""
    if qtype.startswith("code"):
        q = question.lower()
        return [(s, e) for s, e in candidates(sentence, qtype)  # `mut` is not written in "mutable"
                if not re.search(rf"(?<![\w-]){re.escape(sentence[s:e].lower())}(?![\w-])", q)
                or named_as_asked(sentence, s, e, question)]  # "the keyword `struct`" for "What keyword defines a struct?"
    out = []
    for s, e in candidates(sentence, qtype):
        t = set(stem_all([w for w in words(sentence[s:e]) if w not in STOPWORDS]))
        if not t or (not (t & qterms) if strict else not t <= qterms):
            m = _POSSESSIVE.search(sentence, s, e)
            out.append((s, m.start() if m and m.end() == e else e))
    return out


class SentenceScorer:
    """Scores the sentences of the retrieved passages, says how sure the best one is, and picks
    the distinct quotes."""

    def __init__(self, index: Index, config: Config | None = None):
        self.index = index
        self.config = config or index.config
        self._term_cache: dict[int, frozenset[str]] = {}
        self._par_cache: dict[int, frozenset[str]] = {}
        self._models = (weights.model("rules_confidence", FEATURES + NER_FEATURES),
                        weights.model("rules_confidence_plain", FEATURES))

    @property
    def abstain_below(self) -> float:
        return float(self._models[0 if self.uses_entities else 1]["abstain_below"])

    @property
    def uses_entities(self) -> bool:
        """spaCy's entities are features when the `ner` extra is installed and `Config.ner` is on."""
        return self.config.ner and ner.available()

    def warm_up(self) -> None:
        """Load what the first question would wait for: spaCy's model, when it is used."""
        _ = self.uses_entities

    # -- features ------------------------------------------------------------------------------
    def _sent_terms(self, row: int) -> frozenset[str]:
        t = self._term_cache.get(row)
        if t is None:
            pi, a, b = self.index.sentence_spans[row]
            t = frozenset(terms(self.index.paragraphs[pi].text[a:b]))
            self._term_cache[row] = t
        return t

    def _intro_row(self, pi: int) -> int | None:
        """The sentence row of a code paragraph's introduction (`Index.intro`), if it has one."""
        intro = self.index.intro(pi)
        if intro is None:
            return None
        r = self.index.row(intro.citation.doc, intro.citation.paragraph)
        rows = self.index.sentence_rows(r)
        return int(rows[-1]) if len(rows) else None

    def _title_terms(self, pi: int) -> frozenset[str]:
        key = -1 - self.index.par_doc[pi]
        t = self._term_cache.get(key)
        if t is None:
            t = frozenset(terms(self.index.doc_of(pi).title))
            self._term_cache[key] = t
        return t

    def features(self, question: str, qvec: np.ndarray, passages: Sequence[Passage],
                 qtype: str | None) -> tuple[list[Candidate], dict[str, float], float]:
        idx = self.index
        bm = idx.bm25
        qterms = list(dict.fromkeys(terms(question)))
        weights = {t: bm.idf_of(t) for t in qterms}
        total = sum(weights.values()) or 1.0
        top_score = passages[0].score if passages else 1.0
        code = wants_code(question) or qtype == "code:command"
        # an operator the question names ("What does the ? operator do?") counts as a word as rare
        # as its rarest, in a sentence that writes it as inline code (only where there is code)
        syms = symbols(question) if any("`" in p.text for p in passages) else []
        sym_w = max(weights.values(), default=1.0)
        ov_total = total + sym_w * len(syms)
        cands: list[Candidate] = []
        for p in passages:
            pi = p.row
            rows = idx.sentence_rows(pi)
            if not rows:
                continue
            cos = idx.sentence_scores(qvec, rows)
            title = self._title_terms(pi)
            intro = self._intro_row(pi) if code else None
            if intro is not None:  # code is about what its introduction says it is for
                title = title | self._sent_terms(intro)
                cos = np.maximum(cos, idx.sentence_scores(qvec, range(intro, intro + 1))[0])
            rel = p.score / top_score if top_score > 0 else 0.0
            spans = idx.sentence_spans[np.arange(rows.start, rows.stop)]
            for r, c, (_, a, b) in zip(rows, cos, spans):
                st = self._sent_terms(int(r)) | title
                ov = sum(w for t, w in weights.items() if t in st)
                if syms:
                    text = idx.paragraphs[pi].text[a:b]
                    ov += sym_w * sum(1 for s in syms if f"`{s}`" in text or f"`{s} " in text)
                ov /= ov_total
                cands.append(Candidate(int(r), pi, int(a), int(b), float(c), ov, rel, 0.5))
        self._fit(cands, question, qtype, weights)
        term = defined_term(question)
        if term is not None:
            for c in cands:
                c.defines = defines(idx.paragraphs[c.pi].text[c.start:c.end], term)
        return cands, weights, total

    def _fit(self, cands: list[Candidate], question: str, qtype: str | None, weights: dict[str, float]) -> None:
        """Each candidate's `type_fit`: 1 when it holds a phrase of the type asked for, 0 when
        it holds none, 0.5 when the question asks for no type; for a command, 1 for a command
        line of a code block and 0.75 for inline code in prose. For another identifier, its
        `name_fit` too: the best `extract.name_fit` of those it holds."""
        qterms = frozenset(weights)
        named = bool(qtype and qtype.startswith("code:") and qtype != "code:command")
        for c in cands:
            par = self.index.paragraphs[c.pi]
            text = par.text[c.start:c.end]
            c.name_fit = 0.0
            if qtype == "code:command" and par.kind == "code":  # a command line answers whole
                c.type_fit = 1.0 if command_unit(text) else 0.0
            elif not qtype:
                c.type_fit = 0.5
            elif found := [(a, b) for a, b in typed_phrases(text, qtype, qterms, question=question)
                           if par.kind != "code" or shaped(qtype) or in_comment(text, a, b)]:
                # (a number, a date or a name in source code is no answer in words; in its comments it is)
                # a command is shown as a line to run more often than named inline in prose
                c.type_fit = 0.75 if qtype == "code:command" else 1.0
                if named:
                    c.name_fit = max(name_fit(text[a:b], question, weights) for a, b in found)
            else:
                c.type_fit = 0.0

    def _score(self, c: Candidate) -> float:
        cfg = self.config
        return (cfg.w_sent_cos * c.cos + cfg.w_sent_overlap * c.overlap + cfg.w_passage * c.passage
                + cfg.w_type * c.type_fit - cfg.w_name * (c.name_fit <= -1.0) + cfg.w_define * c.defines)

    # -- the best sentences ------------------------------------------------------------------
    def analyse(self, question: str, passages: Sequence[Passage], qvec: np.ndarray) -> "Analysis | None":
        """Every sentence of `passages` scored and ranked, the best one's features, and the
        confidence they give; None when the passages hold no sentence."""
        original = question
        qtype = answer_type(original)
        code = code_kind(original)
        # the kinds to try, in order, until the passages hold a phrase of one: an identifier
        # ("What option do I pass ...?": a flag, else any code), then the question word's kind
        # (SQuAD's kinds are kept found or not; no numbered version here is no type:
        # "What version of Pink's 'Perfect' ...?"; a text that marks no term, as
        # SQuAD's never do, reads "What is X called?" as it would without the term kind)
        order = ({"code:option": ["code:flag", "code:code"]}.get(code, [code]) if code else []) + [qtype]
        if qtype == "version":
            order.append(None)
        elif qtype == "term":  # the kind the question asks for where no term is marked
            order.append(answer_type(original, term=False))
        cands, weights, total = self.features(question, qvec, passages, order[0])
        for n, qtype in enumerate(order):
            if n:
                self._fit(cands, original, qtype, weights)
            if not shaped(qtype) or any(c.type_fit > 0.5 for c in cands):
                break
        if not cands:
            return None
        for c in cands:
            c.score = self._score(c)
        cands.sort(key=lambda c: -c.score)
        if shaped(qtype) and not cands[0].type_fit:
            # an identifier or a version was asked for (each has a shape no other phrase has): a
            # sentence that holds one and is quoted anyway (within `snippet_window`) leads over
            # one that cannot answer
            fit = next((c for c in cands if c.type_fit), None)
            if fit is not None and fit.score >= cands[0].score - self.config.snippet_window:
                cands.remove(fit)
                cands.insert(0, fit)
        best = cands[0]
        # the margin as the confidence model was fitted on it: without the definition bonus
        bonus = self.config.w_define
        second = next((c.score - bonus * c.defines for c in cands[1:] if c.pi != best.pi),
                      best.score - bonus * best.defines - 1.0)
        # a version or an identifier asked for ranks sentences only: the confidence model was
        # fitted on SQuAD's kinds alone
        fitted = not shaped(qtype)
        feats = {
            "cos": best.cos, "overlap": best.overlap, "type_fit": best.type_fit if fitted else 0.5,
            "margin": best.score - bonus * best.defines - second,
            "passage_cover": self._cover(best.pi, weights, total),
            "missing_max": self._missing_max(best.pi, weights),
            "has_type": 1.0 if qtype and fitted else 0.0,
            "unseen": sum(w for t, w in weights.items() if t not in self.index.bm25.idf) / total,
            "p_dense": passages[0].dense,
            "p_bm25": passages[0].bm25 / total,
            "p_margin": passages[0].score - (passages[1].score if len(passages) > 1 else 0.0),
            **self._mismatch(original, question, best),
            **self._contrast(original, best),
        }
        confidence = self._confidence(feats)
        off_topic = self._focus_absent(original, best.pi) or _not_english(original)
        if off_topic:
            confidence *= self.config.focus_absent_factor
        return Analysis(cands, feats, confidence, qtype, frozenset(weights), off_topic, wants_code(original), original,
                        weights)

    def _mismatch(self, original: str, question: str, best: Candidate) -> dict[str, float]:
        """Signs that the question asks about something the best sentence does not state:
        a negation it lacks, a number or a name the paragraph never mentions, its words
        present but not in the question's order. These separate SQuAD v2.0's unanswerable
        questions (written to look answerable) better than overlap alone."""
        p = self.index.paragraphs[best.pi]
        sent = p.text[best.start:best.end]
        qt = terms(question)
        par = self._par_terms(best.pi)
        st = self._sent_terms(best.row) | self._title_terms(best.pi)
        caps = [w for i, w in enumerate(original.split()) if i > 0 and w[:1].isupper()]
        cap_terms = terms(" ".join(caps))
        nums = re.findall(r"\d+", original)
        sl = terms(sent)
        q_bigrams = list(zip(qt, qt[1:]))
        s_bigrams = set(zip(sl, sl[1:]))
        return {
            "cue": 1.0 if _CUE.search(asked(original)) else 0.0,
            "neg_mismatch": 1.0 if _negated(original) and not (_NEG.search(sent) or _EXCEPTION.search(sent)) else 0.0,
            "num_missing": 1.0 if any(n not in p.text for n in nums) else 0.0,
            "cap_missing": min(2, sum(1 for t in cap_terms if t not in par)) / 2,
            "sent_missing": sum(1 for t in qt if t not in st) / max(len(qt), 1),
            "sbigram": sum(1 for b in q_bigrams if b in s_bigrams) / len(q_bigrams) if q_bigrams else 0.5,
        }

    def _contrast(self, original: str, best: Candidate) -> dict[str, float]:
        """A word of the question turned into its opposite or its neighbour in the best snippet
        ("non-Muslims" / "Muslims", "a month" / "a year", Henry II / Henry III), and the
        question's form. With spaCy (the `ner` extra), entities compare by kind."""
        p = self.index.paragraphs[best.pi]
        start, end = self.widen(best)
        sent = p.text[start:end]
        q_words = words(original)
        qw, sw = set(q_words) - STOPWORDS, set(words(sent)) - STOPWORDS
        units_q, units_s = _units(original), _units(sent)
        first_wh = next((w for w in q_words if w in _WH), "")
        out = {
            "antonym": 1.0 if _prefix_antonym(qw, sw) or _prefix_antonym(sw, qw) else 0.0,
            "unit_swap": 1.0 if units_q and units_s and not units_q & units_s else 0.0,
            **{f"wh_{w}": 1.0 if first_wh == w else 0.0 for w in _WH},
        }
        if self.uses_entities:
            out.update(_entity_features(original, sent))
        return out

    def _par_terms(self, pi: int) -> frozenset[str]:
        """Terms of a paragraph's answerable sentences and its title (cached like sentences')."""
        t = self._par_cache.get(pi)
        if t is None:
            first, last = self.index.par_sentences[pi]
            t = self._par_cache[pi] = self._title_terms(pi).union(*(self._sent_terms(r) for r in range(first, last)))
        return t

    def _cover(self, pi: int, weights: dict[str, float], total: float) -> float:
        st = self._par_terms(pi)
        return sum(w for t, w in weights.items() if t in st) / total

    def _missing_max(self, pi: int, weights: dict[str, float]) -> float:
        """The rarest question term the paragraph lacks, relative to the rarest overall: a
        question about something specific the text never names is rarely answered by it."""
        if not weights:
            return 0.0
        st = self._par_terms(pi)
        missing = [w for t, w in weights.items() if t not in st]
        return max(missing) / max(weights.values()) if missing else 0.0

    def _focus_absent(self, question: str, pi: int) -> bool:
        """True when the question's focus never occurs in the corpus and the passage has no
        word close to it: the corpus does not talk about that. The focus is the first content
        word after the wh-word ("population" in "What is the population of Pyongyang?"), and
        where the corpus neither uses nor spells alike a word: any name the question
        capitalises after its first word ("FreeBSD" in "Is there a way to install uv on
        FreeBSD?"; not "Counil", a misspelt "Council"), and a specific term (not a common word,
        `common_word`) after a light verb ("nox" in "How do I make nox use uv?"), in a yes/no
        question ("telemetry" in "Does uv collect telemetry?") or in a hyphenated name
        ("nextest" in "cargo-nextest")."""
        ws = words(question)
        wh = next((i for i, w in enumerate(ws) if w in QUESTION_WORDS), None)
        bm25 = self.index.bm25

        def content(w: str) -> bool:
            return w not in STOPWORDS and w not in QUESTION_WORDS and w not in _GENERIC and not w.isdigit()
        def unknown(w: str) -> bool:  # a specific term the corpus neither uses nor spells alike
            st = stem_all([w])[0]
            return st not in bm25.idf and not bm25.spelled_like(st) and not self.index.embedder.common_word(w)
        after = [] if wh is None else [w for w in ws[wh + 1:] if content(w)]
        focus = [w for w in after[:1] if stem_all([w])[0] not in bm25.idf]
        if after and after[0] in _LIGHT:  # "How do I make nox use uv?": past the light verb
            focus += [w for w in [next((w for w in after if w not in _LIGHT), None)] if w is not None and unknown(w)]
        if ws and ws[0] in _AUXILIARY:  # a yes/no question: any of its words
            focus += [w for w in ws[1:] if content(w) and w not in focus and unknown(w)]
        for compound in _COMPOUND.findall(question):  # "cargo-nextest": a tool's name, as specific as a capital
            focus += [w for w in words(compound) if content(w) and w not in focus and unknown(w)]
        for name in _NAME_WORD.findall(question, 1):
            w = name.lower()
            st = stem_all([w])[0]
            if w not in STOPWORDS and w not in QUESTION_WORDS and st not in bm25.idf and w not in focus \
                    and not bm25.spelled_like(st):
                focus.append(w)
        if not focus:
            return False
        passage = list(dict.fromkeys(w for w in words(self.index.paragraphs[pi].text) if w not in STOPWORDS))
        return any(self.index.embedder.word_similarity(w, passage) < self.config.focus_similarity for w in focus)

    def _confidence(self, f: dict[str, float]) -> float:
        # the entity features are there only when spaCy is: each case has its own fitted weights
        return weights.probability(self._models[0 if "ent_swap" in f else 1], f)

    def widen(self, c: Candidate) -> tuple[int, int]:
        """Widen the best sentence to its neighbour when it leans on it (a pronoun, a "However";
        in code, a comment on the command under it)."""
        idx = self.index
        par = idx.paragraphs[c.pi]
        text = par.text
        start, end = c.start, c.end
        first, last = idx.par_sentences[c.pi]
        if par.kind == "code":  # a code block's units are whole already, but a comment alone
            if comment_only(text[start:end]) and c.row + 1 < last:  # goes with what it describes
                end = int(idx.sentence_spans[c.row + 1][2])
            elif c.row - 1 >= first and comment_only(text[int(idx.sentence_spans[c.row - 1][1]):start]):
                start = int(idx.sentence_spans[c.row - 1][1])  # and what it describes with it
            return start, end
        if _ANAPHORA.match(text[start:end]) and c.row - 1 >= first:
            start = int(idx.sentence_spans[c.row - 1][1])
        elif c.end - c.start < 60 and c.row + 1 < last:
            if not own_line_between(text, c.end, int(idx.sentence_spans[c.row + 1][1])):
                end = int(idx.sentence_spans[c.row + 1][2])  # (not the next item of a list or table)
        return start, end

    def introduced(self, c: Candidate, code: bool = False, question: str = "") -> Candidate | None:
        """What a sentence like "Run the following command:" introduces: the first unit of the
        code block right after it (quoted with it), when the sentence ends its paragraph with a
        colon, or, for a question that asks for code (`code`), ends its paragraph at all or
        stands in a paragraph that ends with a colon (the paragraph leads to the code); or the
        list after a paragraph that ends with a colon ("... the ownership rules:"), its first
        items up to `_LIST_QUOTE` characters. Not when the sentence holds the phrase asked for,
        unless it ends with a colon, nor, for a question that asks for code (`question`), when
        it names code the question does not ("... run them with `cargo test -- --ignored`"
        answers; the source code after it does not)."""
        idx = self.index
        p = idx.paragraphs[c.pi]
        last = int(idx.par_sentences[c.pi][1]) == c.row + 1
        colon = p.text.rstrip().endswith(":")
        # (a list is led to by the last sentence, or by one whose quote reaches the colon)
        reaches = last or (colon and self.widen(c)[1] >= len(p.text.rstrip()))
        if p.kind == "code" or not (reaches or code):
            return None
        if not (colon or code and last) or (not code and c.type_fit >= 1.0) or (not colon and c.type_fit > 0.5):
            return None  # (a sentence that holds the phrase asked for answers on its own)
        if not colon and question and typed_phrases(p.text[c.start:c.end], "code:code", frozenset(), question=question):
            return None  # nor one that names code the question does not (`HashMap::with_capacity(uint)`)
        block = idx.find(p.doc, p.paragraph + 1)
        if block is None or not len(idx.sentence_rows(block)):
            return None
        rows = idx.sentence_rows(block)
        _, a, b = idx.sentence_spans[rows[0]]
        following = idx.paragraphs[block]
        if following.kind == "code":
            return replace(c, row=int(rows[0]), pi=block, start=int(a), end=int(b)) if last or code else None
        if not (colon and reaches and following.kind == "body" and _LIST_ITEM.match(following.text)):
            return None
        # a list the sentence leads to ("... the ownership rules:"): its first items, as many as fit
        for r in rows[1:]:
            _, _, e = idx.sentence_spans[r]
            if int(e) - int(a) > _LIST_QUOTE:
                break
            b = e
        return replace(c, row=int(rows[0]), pi=block, start=int(a), end=int(b))

    def _same_statement(self, c: Candidate, pick: _Pick, vectors: dict[int, np.ndarray]) -> bool:
        def vec(row: int) -> np.ndarray:  # each sentence's vector read once per question
            v = vectors.get(row)
            if v is None:
                v = vectors[row] = self.index.sentence_vectors.get([row])[0]
            return v
        return (float(vec(c.row) @ vec(pick.cand.row)) >= 0.9
                or _jaccard(self._sent_terms(c.row), self._sent_terms(pick.cand.row)) >= 0.6)

    def quotes(self, cands: list[Candidate], more: Sequence[Passage] = (),
               lead: Candidate | None = None, code: bool = False,
               answered: frozenset[int] = frozenset(), question: str = "") -> list[Snippet]:
        """The best distinct statements: `lead` first when a reader chose one, then the
        candidates within `snippet_window` of the best score (`cands` ranked); the same
        statement in another document corroborates. `more` (the next passages down) are only
        searched for documents that corroborate; `code`: the question asks for code, so a
        sentence that ends its paragraph before a code block is quoted as that code's
        introduction (`introduced`), unless the sentence is one of `answered` (rows a reader
        found the answer in: "Result has two variants, `Ok` and `Err`, as follows:"). The
        readers add the short answer."""
        idx = self.index
        picks: list[_Pick] = []
        within = [c for c in cands if c.score >= cands[0].score - self.config.snippet_window]
        if lead is not None:
            within.insert(0, lead)
        extra = []
        for pi in (p.row for p in more):
            rows = idx.sentence_rows(pi)
            if len(rows):
                spans = idx.sentence_spans[np.arange(rows.start, rows.stop)]
                extra += [Candidate(r, pi, int(a), int(b), 0, 0, 0, 0) for r, (_, a, b) in zip(rows, spans)]
        ranked = list(dict.fromkeys(c.row for c in within))  # read in one call: most get compared
        vectors: dict[int, np.ndarray] = dict(zip(ranked, idx.sentence_vectors.get(ranked))) if ranked else {}
        for n, c in enumerate(within + extra):
            c = (None if c.row in answered else self.introduced(c, code, question if code else "")) or c
            start, end = self.widen(c)
            overlaps = [p for p in picks if p.cand.pi == c.pi and start < p.end and p.start < end]
            if overlaps:
                continue
            same = next((p for p in picks if self._same_statement(c, p, vectors)), None)
            if same is not None:
                if idx.par_doc[c.pi] != idx.par_doc[same.cand.pi] and \
                        all(x.doc != idx.paragraphs[c.pi].doc for x in same.also):
                    same.also.append(idx.cite(c.pi, start, end))
                continue
            if len(picks) < self.config.max_snippets and n < len(within):
                picks.append(_Pick(c, start, end))
        return [Snippet(idx.paragraphs[pk.cand.pi].text[pk.start:pk.end], idx.cite(pk.cand.pi, pk.start, pk.end),
                        float(pk.cand.score), tuple(pk.also), intro=idx.intro(pk.cand.pi),
                        code=idx.paragraphs[pk.cand.pi].kind == "code") for pk in picks]


# function words of German, French, Spanish, Italian and Portuguese that are not English words
_FOREIGN = frozenset("""der das und ist wer wen wie wo nicht mit von zu ein eine einen dem des hat wurde sind
qui est les du des il elle où avec pour dans une que quoi el los las del en con quién quien dónde donde se
es por para qué cuándo cuando chi ha di che della dove quando quem em com não uma do da onde""".split())


def symbols(question: str) -> list[str]:
    """Operators the question names, standing alone or in backticks: "?" in "What does the ?
    operator do?", "::" in "What does `::` mean?" (not the question's own final mark)."""
    return list(dict.fromkeys(_SYMBOL.findall(re.sub(r"\s*\?\s*$", "", question))))


def asked(question: str) -> str:
    """The sentence that asks, without the sentences before it that tell the situation
    ("cargo update didn't pick the newest version. How do I ...?"): their negations are
    the asker's, not a negation of what is asked."""
    for m in reversed(list(_TOLD.finditer(question))):
        if m.group(1) not in _ABBREVIATIONS:
            return question[m.end():]
    return question


def _negated(question: str) -> bool:
    """Does the question negate what it asks? In a how-to or a question for an identifier,
    "without" states a constraint ("How do I run it without installing it?"), not a negation;
    nor does a negation inside a "when"/"if" clause ("What is it set to when I haven't
    configured it?": a default) or a "so (that)" clause (a purpose), nor one in a sentence
    before the question (`asked`)."""
    question = asked(question)
    found = {m.group().lower() for m in _NEG.finditer(_CONDITION.sub(" ", question))}
    if found == {"without"} and (wants_code(question) or code_kind(question)):
        return False
    return bool(found)


def _not_english(question: str) -> bool:
    """Three words or more, and no English function word or at least as many of another
    language's: another language, which an English corpus can only match by its names
    ("¿Con quién se reunió Shoigu?", "Wen hat Schoigu in Pjöngjang getroffen?"). None of the
    8,508 SQuAD and seed questions trips it."""
    ws = words(question)
    english = sum(1 for w in ws if w in STOPWORDS or w in QUESTION_WORDS)
    foreign = sum(1 for w in ws if w in _FOREIGN)
    return len(ws) >= 3 and (english == 0 or english <= foreign)


def _prefix_antonym(a: set[str], b: set[str]) -> bool:
    """A word of `a` missing from `b` that is a word of `b` with a negating prefix
    ("non-muslims" tokenises to "non" + "muslims"; "unlikely" against "likely")."""
    if "non" in a and "non" not in b:
        return True
    for w in a - b:
        for pre in _NEG_PREFIX:
            if w.startswith(pre) and len(w) - len(pre) >= 4 and w[len(pre):] in b:
                return True
    return False


def _units(text: str) -> set[str]:
    """Units of time named in `text`, singular: {"year", "century"}."""
    plural = {"centuries": "century", "millennia": "millennium"}
    return {plural.get(u.lower(), u.lower()) for u in _UNIT.findall(text)}


def _entity_features(question: str, sent: str) -> dict[str, float]:
    """`ent_swap`: the question names an entity the sentence lacks while the sentence names
    another of the same kind; `ner_wanted`/`ner_found`: the question asks for a kind of entity
    (who, when, how many...) and the sentence has one the question does not already name."""
    qn, sn = normalize(question), normalize(sent)
    def key(e: ner.Entity) -> str:  # "Kang Sun-nam's" -> "kang sun-nam"
        return normalize(_POSSESSIVE.sub("", e.text))
    missing = {e.label for e in ner.entities(question) if key(e) not in sn}
    new_kinds = {e.label for e in ner.entities(sent) if key(e) not in qn}
    want = ner.wanted(question)
    return {
        "ent_swap": 1.0 if missing & new_kinds else 0.0,
        "ner_wanted": 1.0 if want else 0.0,
        "ner_found": 1.0 if want and want & new_kinds else 0.0,
    }


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
