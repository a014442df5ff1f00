"""Question -> Answer: validate the question, read it in the light of the conversation,
embed it once, retrieve, answer. `QA` holds one open index; `answer()` keeps one per corpus.
"""
from __future__ import annotations

import re
import threading
import time
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, NamedTuple, Sequence

from .config import ANSWERERS, SEEDS_DIR, Config
from .errors import QAError
from .index import Index
from .location import StoreLocation, parse_location
from .inline import view_of
from .text import one_line, terms
from .types import Answer, Progress, Reader, Retriever, Turn

if TYPE_CHECKING:
    from .milvus import Remote

MAX_QUESTION_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Terminal escape sequences: CSI ("\x1b[31m", also 8-bit "\x9b31m"), OSC ("\x1b]0;title\x07"),
# and two-character escapes. Removed whole, so no "[31m" is left behind for retrieval.
_ESCAPE = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[@-Z\\-_]?")
# Words that make no question on their own: function words, greetings, acknowledgements.
# Wh-words are not here: "Why?" after an answer is a follow-up.
_FILLER = frozenset("""a an the of to in on at by for with from and or but not no yes is are was were be been
am do does did it its this that these those there here me my i you your we our us so as if then just
hello hi hey hiya howdy yo greetings thanks thank thx ok okay yep yeah nope please sorry bye goodbye
help test testing hmm hm lol""".split())
_HELP_WORDS = frozenset({"help", "?", "??"})
_EXAMPLE = 'e.g. "Who wrote the report?"'


def _decoration(ch: str) -> bool:
    """A character that carries no words at the edge of a question: emoji and their joiners,
    variation selectors, skin tones, keycaps, format characters."""
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Me", "Co", "Cn", "Zs") or "\ufe00" <= ch <= "\ufe0f" or "\u20d0" <= ch <= "\u20ff":
        return True
    return cat in ("So", "Sk") and ord(ch) >= 0x2000  # arrows, dingbats, emoji; not ° © ®


def clean_question(question: str) -> str:
    """Validate and tidy a question; raises QAError with one line for unusable input.

    Terminal escape sequences and control characters are removed, emoji and other decoration
    at either end stripped, white space collapsed. Input with no words, or only greetings and
    function words ("the", "hello", "help"), gets a one-line hint instead of an answer.
    """
    if not isinstance(question, str):
        raise QAError("the question must be text")
    if len(question) > MAX_QUESTION_CHARS:
        raise QAError(f"question too long ({len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,})")
    q = _ESCAPE.sub(" ", unicodedata.normalize("NFC", question))
    q = _CONTROL.sub(" ", q)
    q = " ".join(q.split())
    if not q:
        raise QAError("empty question: type a question about the documents")
    a, b = 0, len(q)
    while a < b and _decoration(q[a]):
        a += 1
    while b > a and _decoration(q[b - 1]):
        b -= 1
    q = " ".join(q[a:b].split())
    words = [w.lower() for w in re.findall(r"\w+", q)]
    if not words:
        raise QAError(f"no words in the question: type a question about the documents, {_EXAMPLE}")
    if all(w in _FILLER for w in words):
        if any(w in _HELP_WORDS for w in words):
            raise QAError(f"type a question about the documents, {_EXAMPLE} "
                          "(qa --help lists the commands; :help in the chat)")
        raise QAError(f"{q[:40]!r} is not a question about the documents: ask one, {_EXAMPLE}")
    return q


@dataclass(frozen=True)
class FollowUp:
    """A question read in the light of the conversation."""

    answer_query: str  # the question, its pronoun replaced by what the last answer named
    search_query: str  # that, plus the previous question, to find the passages


_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers|they|them|their|theirs|it|its)\b", re.I)
_POSSESSIVES = frozenset({"his", "her", "hers", "its", "their", "theirs"})


def resolve_follow_up(question: str, history: "Sequence[Answer | Turn] | None") -> FollowUp:
    """'What is his job?' after an answer naming Kang Sun-nam -> 'What is Kang Sun-nam's job?'.

    A question with no pronoun and more than two content words stands alone. Without a
    named previous answer, the previous question only widens the search. `history` holds
    earlier `Answer`s, or `Turn`s from a client that keeps no Answer objects.
    """
    plain = FollowUp(question, question)
    if not history:
        return plain
    pronoun = _PRONOUN.search(question)
    if pronoun is None and len(terms(question)) > 2:
        return plain
    prev_q, entity = history[-1].question, history[-1].named
    answer_q = question
    if entity and pronoun is not None:
        word = pronoun.group(0).lower()
        sub = f"{entity}'s" if word in _POSSESSIVES else entity
        answer_q = question[:pronoun.start()] + sub + question[pronoun.end():]
    elif entity:
        answer_q = f"{question} {entity}"
    return FollowUp(answer_q, f"{answer_q} {prev_q}".strip())


def _reader_for(name: str) -> Callable:
    from .rules import BaselineReader, RulesReader
    if name == "baseline":
        return BaselineReader
    if name == "rules":
        return RulesReader
    if name == "reader":
        from .reader import ModelReader, available
        return ModelReader if available() else RulesReader  # a checkout without the adapter
    raise QAError(f"unknown answerer {name!r} (choose from {', '.join(ANSWERERS)})")


def _built(stage, method: str, *args):
    """A stage instance as it is; a class or factory called with the open index."""
    return stage(*args) if isinstance(stage, type) or not hasattr(stage, method) else stage


class OpenIndex(NamedTuple):
    """An index brought up to date with its corpus and, with a Milvus store, the stores to give the
    retriever (None for a local store)."""

    index: Index
    remote: Remote | None


def open_index(location: StoreLocation, config: Config, progress: Progress | None = None,
               notice: Callable[[str], None] | None = None) -> OpenIndex:
    """The index of the corpus at `location` (qa/location.py `parse_location`): in a local store
    folder, or in a Milvus collection kept in line with the local cache."""
    if location.kind == "milvus":
        from .milvus import open_index as open_milvus
        return OpenIndex(*open_milvus(location, config, progress, notice))
    from .indexer import Indexer
    return OpenIndex(Indexer(config, progress=progress, notice=notice).open(location.corpus, location.path), None)


class QA:
    """An open index with its retriever and reader: build once, ask many times.

    `retriever` and `reader` are stages (instances, or factories called with the open index);
    by name, `retriever` is one of retrieve.RETRIEVERS and `reader` one of ANSWERERS.
    """

    def __init__(self, corpus: str | Path = SEEDS_DIR, store: str | Path | StoreLocation | None = None,
                 config: Config | None = None, progress: Progress | None = None,
                 notice: Callable[[str], None] | None = None, *,
                 retriever: "Retriever | Callable | str" = "hybrid", reader: "Reader | Callable | str | None" = None):
        from .retrieve import RETRIEVERS
        self.config = config or Config.from_env()
        # with a Milvus store (qa/milvus.py), `remote` holds its stores for the retriever
        self.index, self.remote = open_index(parse_location(store, corpus), self.config, progress, notice)
        if isinstance(retriever, str):
            if retriever not in RETRIEVERS:
                raise QAError(f"unknown retriever {retriever!r} (choose from {', '.join(RETRIEVERS)})")
            retriever = RETRIEVERS[retriever]
            if self.remote is not None:
                retriever = self.remote.retriever(retriever)
        self.retriever = _built(retriever, "retrieve", self.index)
        reader = self.config.answerer if reader is None else reader
        name = reader if isinstance(reader, str) else None
        self.reader = _built(_reader_for(name) if name else reader, "read", self.index, self.config)
        if name in ("reader", "rules"):  # the named answering readers also answer "who wrote it"
            from .byline import BylineReader
            self.reader = BylineReader(self.index, self.reader)

    @property
    def abstain_below(self) -> float:
        """The threshold fitted with the reader's confidence model, unless configured."""
        if self.config.abstain_below is not None:
            return self.config.abstain_below
        return float(self.reader.abstain_below)

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the embedding model, the
        BM25 postings and the reader's models."""
        self.index.warm_up()
        self.reader.warm_up()

    def ask(self, question: str, *, top_k: int | None = None, history: Sequence | None = None,
            retrieve_k: int | None = None) -> Answer:
        """Answer from the `top_k` best paragraphs; `retrieve_k` (eval) lists more passages in the Answer."""
        t0 = time.perf_counter()
        original = clean_question(question)
        top_k = self.config.top_k if top_k is None else int(top_k)
        if top_k < 1:
            raise QAError("top_k must be at least 1")
        fu = resolve_follow_up(original, history)
        t1 = time.perf_counter()
        qvec = self.index.embedder.encode_query(fu.answer_query)
        t2 = time.perf_counter()
        passages = self.retriever.retrieve(fu.search_query, max(2 * top_k, retrieve_k or 0), qvec=qvec)
        t3 = time.perf_counter()
        reading = self.reader.read(fu.answer_query, passages[:top_k], qvec, more=passages[top_k:2 * top_k])
        t4 = time.perf_counter()
        abstain = bool(not reading.snippets or reading.confidence < self.abstain_below)
        short = None if abstain else reading.short
        if abstain:
            text = ""
        elif short is not None:
            # in prose, links read as their labels (read in the paragraph: `<name>` in inline
            # code is no tag); the citation still points at the source
            par = self.index.paragraphs[self.index.row(short.doc, short.paragraph)]
            view, where = view_of(par.text, par.kind == "code")
            text = one_line(view[bisect_left(where, short.start):bisect_left(where, short.end)])
        else:
            text = reading.snippets[0].text
        timings = {"embed": t2 - t1, "retrieve": t3 - t2, "answer": t4 - t3, "total": t4 - t0}
        return Answer(original, text, abstain, float(reading.confidence), list(reading.snippets),
                      passages[:max(top_k, retrieve_k or 0)], short, timings,
                      fu.answer_query if fu.answer_query != original else "")


_OPEN: dict[tuple[str, str], QA] = {}
_OPEN_LOCK = threading.Lock()


def answer(question: str, *, corpus: str | Path = SEEDS_DIR, store: str | Path | None = None,
           top_k: int | None = None, history: Sequence | None = None) -> Answer:
    """Answer from `corpus`; its index is opened (or built) once and kept open in this process."""
    location = parse_location(store, corpus)
    key = (str(location.corpus.resolve()), location.key)
    with _OPEN_LOCK:
        qa = _OPEN.get(key)
        if qa is None:
            qa = _OPEN[key] = QA(corpus, location)
    return qa.ask(question, top_k=top_k, history=history)
