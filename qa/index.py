"""Corpus -> store: `Indexer` builds and updates a store incrementally (under its lock);
`Index` is the open, read-only view of one generation that the retriever and readers use.

Only new or changed files are embedded; unchanged ones reuse their vectors; an unchanged
corpus re-opens without loading the model at all.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import store as st
from .config import Config, default_store_for
from .corpus import Corpus, Document, Paragraph, read_corpus
from .embed import Embedder, get_embedder
from .lexical import BM25Index
from .sentences import split as split_sentences

log = logging.getLogger("qa")

# bump when corpus parsing or sentence splitting changes: stores rebuild. A converter's own
# change bumps its version in qa/convert.FORMATS instead: only the files it read re-index.
PARSER_VERSION = 5


@dataclass
class IndexStats:
    embedded_files: int = 0
    reused_files: int = 0
    removed_files: int = 0
    embedded_paragraphs: int = 0
    embedded_sentences: int = 0
    seconds: float = 0.0
    rebuilt_reason: str | None = None
    notices: list[str] = field(default_factory=list)


def _doc_to_json(d: Document, sentences: list[list[tuple[int, int]]]) -> dict:
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


def _doc_from_json(j: dict) -> tuple[Document, list[list[tuple[int, int]]]]:
    paras = tuple(Paragraph(j["doc"], i, p["text"], p["kind"], tuple(tuple(r) for r in p["skip"]),
                            p.get("page"), p.get("section"), tuple(p.get("page_breaks", ())))
                  for i, p in enumerate(j["paragraphs"]))
    doc = Document(j["doc"], j["title"], j.get("date"), j.get("author"), j.get("outlet"), paras,
                   j.get("sha256", ""))
    return doc, [[tuple(s) for s in p["sentences"]] for p in j["paragraphs"]]


def _rows_by_doc(documents: list[dict], vectors: np.ndarray, sentence_vectors: np.ndarray
                 ) -> dict[str, tuple[dict, np.ndarray, np.ndarray]]:
    """Each document's JSON with its slices of the flat paragraph and sentence arrays."""
    out, pr, sr = {}, 0, 0
    for j in documents:
        n_p = len(j["paragraphs"])
        n_s = sum(len(p["sentences"]) for p in j["paragraphs"])
        out[j["doc"]] = (j, vectors[pr:pr + n_p], sentence_vectors[sr:sr + n_s])
        pr, sr = pr + n_p, sr + n_s
    return out


def passage_text(doc: Document, p: Paragraph, with_title: bool) -> str:
    """What gets embedded and BM25-indexed for a paragraph: the title gives it context."""
    return f"{doc.title}\n{p.text}" if with_title and doc.title else p.text


class Index:
    """An open index: documents, paragraph and sentence vectors, BM25, all in memory (vectors
    mmapped). Rows are this generation's; what leaves the index is named by (doc, paragraph)."""

    def __init__(self, corpus_root: Path, store_dir: Path, config: Config, data: st.StoreData,
                 stats: IndexStats, embedder: Embedder, skipped=()):
        self.corpus_root = corpus_root
        self.store_dir = store_dir
        self.config = config
        self.stats = stats
        self.embedder = embedder
        self.skipped = tuple(skipped)
        self.manifest = data.manifest
        self.documents: list[Document] = []
        self.paragraphs: list[Paragraph] = []
        self.par_doc: list[int] = []
        spans, par_sent = [], []
        for j in data.documents:
            doc, sents = _doc_from_json(j)
            di = len(self.documents)
            self.documents.append(doc)
            for p, ss in zip(doc.paragraphs, sents):
                pi = len(self.paragraphs)
                self.paragraphs.append(p)
                self.par_doc.append(di)
                first = len(spans)
                spans.extend((pi, a, b) for a, b in ss)
                par_sent.append((first, len(spans)))
        self.sentence_spans = np.asarray(spans, dtype=np.int64).reshape(-1, 3)
        self.par_sentences = np.asarray(par_sent, dtype=np.int64).reshape(-1, 2)
        self.vectors = st.NumpyStore(data.vectors)
        self.sentence_vectors = st.NumpyStore(np.asarray(data.sentence_vectors))
        self.answerable = np.array([p.answerable for p in self.paragraphs], dtype=bool)
        self._bm25 = None
        self._by_key = {(p.doc, p.paragraph): i for i, p in enumerate(self.paragraphs)}

    # -- lookups ---------------------------------------------------------------------------------
    def doc_of(self, pi: int) -> Document:
        return self.documents[self.par_doc[pi]]

    def find(self, doc: str, paragraph: int) -> int | None:
        return self._by_key.get((doc, paragraph))

    def row(self, doc: str, paragraph: int) -> int:
        """The row of a passage or citation in this generation (KeyError if it is not here)."""
        return self._by_key[(doc, paragraph)]

    def sentence_rows(self, pi: int) -> range:
        first, last = self.par_sentences[pi]
        return range(int(first), int(last))

    def sentence_scores(self, qvec: np.ndarray, rows) -> np.ndarray:
        """Cosine of the question to the given sentence rows."""
        return self.sentence_vectors.score(qvec, np.asarray(rows, dtype=np.int64))

    def dense_scores(self, qvec: np.ndarray, ids: np.ndarray, store=None) -> np.ndarray:
        """Per paragraph row, the better of its own cosine (from `store`, default this index's
        paragraph vectors) and its best sentence's."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.asarray((store or self.vectors).score(qvec, ids), dtype=np.float32).copy()
        first, last = self.par_sentences[ids, 0], self.par_sentences[ids, 1]
        has = last > first
        if has.any():
            rows = np.concatenate([np.arange(a, b) for a, b in zip(first[has], last[has])])
            sims = np.asarray(self.sentence_vectors.score(qvec, rows), dtype=np.float32)
            starts = np.concatenate([[0], np.cumsum((last - first)[has])[:-1]])
            out[has] = np.maximum(out[has], np.maximum.reduceat(sims, starts))
        return out

    def sentence_similarity(self, a: int, b: int) -> float:
        va, vb = self.sentence_vectors.get(np.array([a, b]))
        return float(va @ vb)

    def text_for_retrieval(self, pi: int) -> str:
        return passage_text(self.doc_of(pi), self.paragraphs[pi], self.config.title_in_text)

    @property
    def bm25(self):
        if self._bm25 is None:
            self._bm25 = BM25Index([self.text_for_retrieval(i) for i in range(len(self.paragraphs))])
        return self._bm25

    @property
    def name(self) -> str:
        return self.corpus_root.name

    @classmethod
    def open(cls, corpus: str | Path, store_dir: str | Path | None = None, config: Config | None = None,
             progress: Callable[[int, int], None] | None = None,
             notice: Callable[[str], None] | None = None) -> "Index":
        """Open the store for `corpus`, embedding only what changed since it was written."""
        return Indexer(config, progress=progress, notice=notice).open(corpus, store_dir)


class Indexer:
    """Brings a store up to date with its corpus (one indexer at a time, by the store's lock)
    and opens it. A new generation replaces the old only once complete."""

    def __init__(self, config: Config | None = None, embedder: Embedder | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 notice: Callable[[str], None] | None = None):
        self.config = config or Config.from_env()
        self.embedder = embedder or get_embedder(self.config.model, self.config.threads, self.config.batch_size,
                                                 self.config.backend)
        self.progress = progress
        self.notice = notice or log.warning

    def open(self, corpus: str | Path, store_dir: str | Path | None = None) -> Index:
        config, notice = self.config, self.notice
        t0 = time.perf_counter()
        root = Path(corpus).expanduser()
        parsed = read_corpus(root, max_file_mb=config.max_file_mb)
        store_dir = Path(store_dir) if store_dir else default_store_for(root)
        stats = IndexStats()
        for s in parsed.skipped:
            stats.notices.append(f"skipped {s.path}: {s.reason}")
        data = self._load_valid(store_dir, config, stats)
        if data is None or self._changed(data, parsed):
            with st.locked(store_dir, notice):
                data = self._load_valid(store_dir, config, stats)  # another indexer may have finished
                if data is None or self._changed(data, parsed):
                    if stats.rebuilt_reason:
                        notice(f"rebuilding the index: {stats.rebuilt_reason}")
                    data = self._update(store_dir, parsed, data, config, self.embedder, stats, self.progress)
        if not (stats.embedded_files or stats.removed_files):
            stats.reused_files = len(parsed.documents)
        stats.seconds = time.perf_counter() - t0
        return Index(root, store_dir, config, data, stats, self.embedder, parsed.skipped)

    @staticmethod
    def _load_valid(store_dir: Path, config: Config, stats: IndexStats) -> st.StoreData | None:
        try:
            data = st.load(store_dir)
        except st.StoreError as e:
            stats.rebuilt_reason = f"store in {store_dir} is damaged ({e})"
            return None
        if data is None:
            return None
        m = data.manifest
        want = {"model": config.model, "parser": PARSER_VERSION, "title_in_text": config.title_in_text,
                "sentence_vectors": config.sentence_vectors, "backend": config.backend}
        for key, value in want.items():
            if m.get(key, "torch" if key == "backend" else None) != value:  # older stores: torch
                stats.rebuilt_reason = f"it was built with {key}={m.get(key)!r}, now {value!r}"
                return None
        return data

    @staticmethod
    def _changed(data: st.StoreData, parsed: Corpus) -> bool:
        return data.manifest.get("files") != {d.doc: d.sha256 for d in parsed.documents}

    @staticmethod
    def _update(store_dir: Path, parsed: Corpus, old: st.StoreData | None, config: Config,
                embedder: Embedder, stats: IndexStats, progress) -> st.StoreData:
        old_rows = _rows_by_doc(old.documents, old.vectors, old.sentence_vectors) if old is not None else {}
        current = {d.doc for d in parsed.documents}
        stats.removed_files = sum(1 for k in old_rows if k not in current)
        todo: list[tuple[Document, list[list[tuple[int, int]]]]] = []
        for d in parsed.documents:
            prev = old_rows.get(d.doc)
            if prev and prev[0].get("sha256") == d.sha256:
                stats.reused_files += 1
            else:
                sents = [split_sentences(p.text, p.skip) if p.answerable else [] for p in d.paragraphs]
                todo.append((d, sents))
        par_texts, spans = [], []
        for d, ss in todo:
            for p, sents in zip(d.paragraphs, ss):
                text = passage_text(d, p, config.title_in_text)
                shift = len(text) - len(p.text)  # the title prefix
                par_texts.append(text)
                spans.append([(a + shift, b + shift) for a, b in sents])
        n_sent = sum(len(s) for s in spans)
        total = len(par_texts) + (n_sent if config.sentence_vectors == "separate" else 0)
        done = 0

        def tick(n):
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        phase = getattr(progress, "phase", None)  # a front end's display may show the uncounted steps
        if todo and phase and not embedder.loaded:
            phase(f"loading the embedding model to embed {len(par_texts)} paragraphs")
        dim = int(old.manifest["dim"]) if old is not None and not todo else embedder.dim
        new_par = new_sent = np.zeros((0, dim), np.float32)
        if todo:
            tick(0)
            if config.sentence_vectors == "separate":
                new_par = embedder.encode_documents(par_texts, tick)
                new_sent = embedder.encode_documents(
                    [t[a:b] for t, sp in zip(par_texts, spans) for a, b in sp], tick)
            else:
                new_par, per_text = embedder.encode_with_spans(par_texts, spans, tick)
                new_sent = np.concatenate(per_text) if per_text else np.zeros((0, dim), np.float32)
        stats.embedded_files = len(todo)
        stats.embedded_paragraphs = len(par_texts)
        stats.embedded_sentences = n_sent
        fresh = _rows_by_doc([_doc_to_json(d, ss) for d, ss in todo], new_par, new_sent)
        docs_json, par_parts, sent_parts = [], [], []
        for d in parsed.documents:
            j, pv, sv = fresh.get(d.doc) or old_rows[d.doc]
            docs_json.append(j)
            par_parts.append(np.asarray(pv))
            sent_parts.append(np.asarray(sv))
        vectors = np.concatenate(par_parts) if par_parts else np.zeros((0, dim), np.float32)
        sentence_vectors = np.concatenate(sent_parts) if sent_parts else np.zeros((0, dim), np.float32)
        manifest = {
            "format": st.FORMAT, "parser": PARSER_VERSION, "model": config.model, "dim": dim,
            "title_in_text": config.title_in_text, "sentence_vectors": config.sentence_vectors,
            "backend": config.backend, "files": {d.doc: d.sha256 for d in parsed.documents},
            "documents": len(docs_json), "paragraphs": int(vectors.shape[0]),
            "sentences": int(sentence_vectors.shape[0]),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        data = st.StoreData(manifest, docs_json, vectors.astype(np.float32), sentence_vectors.astype(np.float32))
        if phase and todo:
            phase("writing the store")
        st.save(store_dir, data)
        return st.load(store_dir)
