"""Corpus -> store: `Indexer` builds and updates a store incrementally (under its lock);
`Index` is the open, read-only view of one generation that the retriever and readers use.

Only new or changed files are embedded; unchanged ones reuse their vectors; an unchanged
corpus re-opens without loading the model at all.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import ann
from . import store as st
from .config import Config, default_store_for
from .corpus import Corpus, Document, Paragraph, read_corpus
from .embed import Embedder, get_embedder
from .lexical import BM25Index
from .sentences import split as split_sentences
from .types import Citation, Passage

log = logging.getLogger("qa")

# bump when corpus parsing or sentence splitting changes: stores rebuild. A converter's own
# change bumps its version in qa/convert.FORMATS instead: only the files it read re-index.
PARSER_VERSION = 5


@dataclass
class IndexStats:
    embedded_files: int = 0
    resumed_files: int = 0  # finished by a run that was killed: reused
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


def passage_text(doc: Document, p: Paragraph, with_title: bool) -> str:
    """What gets embedded and BM25-indexed for a paragraph: the title gives it context."""
    return f"{doc.title}\n{p.text}" if with_title and doc.title else p.text


def _json_passage_text(j: dict, p: dict, with_title: bool) -> str:
    return f"{j['title']}\n{p['text']}" if with_title and j.get("title") else p["text"]


SEGMENT_ROWS = 20_000  # paragraphs per segment while indexing: what a killed run keeps
MAX_SEGMENTS = 8       # more, and the small ones are merged into one
MAX_DEAD = 0.25        # a larger share of deleted rows, and everything is merged
SPLIT_AHEAD = 256      # paragraphs split into sentences while the previous ones are encoded


def _chunks(docs: list[Document], rows: int) -> list[list[Document]]:
    """Whole documents in order, grouped until each group holds `rows` paragraphs or more."""
    out: list[list[Document]] = [[]]
    n = 0
    for d in docs:
        out[-1].append(d)
        n += len(d.paragraphs)
        if n >= rows:
            out.append([])
            n = 0
    return [c for c in out if c]


class _Decoded:
    """`index.paragraphs` / `index.documents`: a sequence whose items are decoded on access."""

    def __init__(self, count: Callable[[], int], item: Callable[[int], object]):
        self._count, self._item = count, item

    def __len__(self) -> int:
        return self._count()

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._item(i)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


class _Spans:
    """`index.sentence_spans[row]` -> (paragraph row, start, end), over all sentence rows."""

    def __init__(self, index: "Index"):
        self._index = index

    def __len__(self) -> int:
        return int(self._index._s0[-1])

    def __getitem__(self, rows):
        if isinstance(rows, tuple):  # spans[rows, column]
            return self[rows[0]][(..., *rows[1:])]
        idx = self._index
        r = np.asarray(rows, dtype=np.int64)
        flat = r.reshape(-1)
        seg = np.searchsorted(idx._s0, flat, side="right") - 1
        out = np.empty((len(flat), 3), np.int64)
        for s in np.unique(seg):
            m = seg == s
            out[m] = idx.store.segments[s].spans[flat[m] - idx._s0[s]]
            out[m, 0] += idx._p0[s]
        if idx._live is not None:
            out[:, 0] = idx._live[out[:, 0]]
        return out[0] if r.ndim == 0 else out.reshape(r.shape + (3,))

    def __iter__(self):
        n = len(self)
        for a in range(0, n, 65536):
            yield from self[np.arange(a, min(n, a + 65536))]

    def __array__(self, dtype=None, copy=None):
        arr = self[np.arange(len(self))].reshape(-1, 3)
        return arr if dtype is None else arr.astype(dtype)


class Index:
    """An open index over one generation of the store: rows, vectors, BM25, all memory-mapped;
    texts and document metadata are decoded when a row is read. Rows are this generation's live
    paragraphs; what leaves the index is named by (doc, paragraph)."""

    def __init__(self, corpus_root: Path | None, store_dir: Path, config: Config, store: st.Store,
                 stats: IndexStats, embedder: Embedder | None, skipped=()):
        self.corpus_root = Path(corpus_root) if corpus_root is not None else Path(store_dir)
        self.store_dir = store_dir
        self.config = config
        self.stats = stats
        self._embedder = embedder
        self.skipped = tuple(skipped)
        self.store = store
        self.manifest = store.manifest
        segs = store.segments
        self._p0 = np.concatenate([[0], np.cumsum([s.n_paragraphs for s in segs])]).astype(np.int64)
        self._s0 = np.concatenate([[0], np.cumsum([s.n_sentences for s in segs])]).astype(np.int64)
        self._d0 = np.concatenate([[0], np.cumsum([len(s.docs) for s in segs])]).astype(np.int64)
        n_cat = int(self._p0[-1])
        if len(segs) == 1:
            info = np.asarray(segs[0].par_info)
            par_sent = np.asarray(segs[0].par_sentences)
        else:
            info = np.concatenate([np.asarray(s.par_info) for s in segs]) if segs else np.zeros((0, 3), np.int32)
            par_sent = np.concatenate([np.asarray(s.par_sentences) + self._s0[i] for i, s in enumerate(segs)]) \
                if segs else np.zeros((0, 2), np.int64)
        cat_doc = info[:, 0].astype(np.int64) + np.repeat(self._d0[:-1], [s.n_paragraphs for s in segs])
        doc_live = np.ones(int(self._d0[-1]), bool)
        for i, dead in enumerate(store.dead):
            if dead:
                doc_live[self._d0[i] + np.fromiter(dead, np.int64)] = False
        if doc_live.all():
            self._rows = self._live = self._doc_rows = None
            self.par_doc = cat_doc
            self.n_documents = len(doc_live)
        else:
            self._doc_rows = np.flatnonzero(doc_live)
            doc_map = np.full(len(doc_live), -1, np.int64)
            doc_map[self._doc_rows] = np.arange(len(self._doc_rows))
            self._rows = np.flatnonzero(doc_live[cat_doc])
            self._live = np.full(n_cat, -1, np.int64)
            self._live[self._rows] = np.arange(len(self._rows))
            self.par_doc = doc_map[cat_doc[self._rows]]
            info, par_sent = info[self._rows], par_sent[self._rows]
            self.n_documents = len(self._doc_rows)
        self.n_paragraphs = len(info)
        self._info = info
        self.answerable = info[:, 2].astype(bool)
        self.par_sentences = par_sent
        self.sentence_spans = _Spans(self)
        self.paragraphs = _Decoded(lambda: self.n_paragraphs, self._paragraph)
        self.documents = _Decoded(lambda: self.n_documents, self._document)
        self.vectors = st.SegmentedVectors([(s.vectors, s.ann) for s in segs], self._live, self._rows)
        self.sentence_vectors = st.SegmentedVectors([(s.sentence_vectors, None) for s in segs])
        # Sentence vectors (5x the paragraphs) are searched exactly only while the paragraphs
        # are (below the ANN threshold); above it they only rescore the paragraph candidates:
        # no 5x larger graph, and nothing scans millions of rows (measured: bench/scale.py).
        self.sentence_search = config.sentence_search and self.n_paragraphs < ann.ANN_THRESHOLD
        self._bm25 = None
        self._by_doc: dict[str, int] | None = None
        self._doc_cache: dict[int, Document] = {}

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.config.model, self.config.threads, self.config.batch_size,
                                          self.config.backend, self.config.device)
        return self._embedder

    @embedder.setter
    def embedder(self, value: Embedder) -> None:
        self._embedder = value

    def warm_up(self) -> None:
        """Load the embedding model and the BM25 postings now rather than at the first question."""
        _ = self.embedder.model
        _ = self.bm25

    # -- decoding ---------------------------------------------------------------------------------
    def _doc_place(self, di: int) -> tuple[int, int]:
        """(segment, document within it) of live document `di`."""
        cat = int(self._doc_rows[di]) if self._doc_rows is not None else di
        s = int(np.searchsorted(self._d0, cat, side="right") - 1)
        return s, cat - int(self._d0[s])

    def _document(self, di: int) -> Document:
        doc = self._doc_cache.get(di)
        if doc is None:
            s, local = self._doc_place(di)
            doc, _ = _doc_from_json(self.store.segments[s].doc_json(local))
            if len(self._doc_cache) >= 4096:
                self._doc_cache.clear()
            self._doc_cache[di] = doc
        return doc

    def _paragraph(self, pi: int) -> Paragraph:
        return self._document(int(self.par_doc[pi])).paragraphs[int(self._info[pi, 1])]

    # -- lookups ---------------------------------------------------------------------------------
    def doc_of(self, pi: int) -> Document:
        return self._document(int(self.par_doc[pi]))

    def find(self, doc: str, paragraph: int) -> int | None:
        if self._by_doc is None:
            names = [n for seg in self.store.segments for n, _ in seg.docs]
            rows = range(len(names)) if self._doc_rows is None else self._doc_rows
            self._by_doc = {names[int(c)]: live for live, c in enumerate(rows)}
        di = self._by_doc.get(doc)
        if di is None or paragraph < 0:
            return None
        s, local = self._doc_place(di)
        seg = self.store.segments[s]
        first, last = int(seg.doc_paragraphs[local]), int(seg.doc_paragraphs[local + 1])
        if paragraph >= last - first:
            return None
        row = int(self._p0[s]) + first + paragraph
        return row if self._live is None else int(self._live[row])

    def row(self, doc: str, paragraph: int) -> int:
        """The row of a passage or citation in this generation (KeyError if it is not here)."""
        r = self.find(doc, paragraph)
        if r is None:
            raise KeyError((doc, paragraph))
        return r

    def cite(self, pi: int, start: int, end: int) -> Citation:
        """A complete citation of characters [start:end) of paragraph row `pi`: document, title,
        date, and the page or section of the original where the quote starts."""
        p, doc = self.paragraphs[pi], self.doc_of(pi)
        return Citation(p.doc, p.paragraph, int(start), int(end), doc.title, doc.date, p.page_at(start), p.section)

    def quoted(self, c: Citation) -> str:
        """The characters a citation of this index points at."""
        return self.paragraphs[self.row(c.doc, c.paragraph)].text[c.start:c.end]

    def passage(self, pi: int, score: float, bm25: float = 0.0, dense: float = 0.0) -> Passage:
        """Paragraph row `pi` as a retrieved passage (it keeps the row for the readers)."""
        p, doc = self.paragraphs[pi], self.doc_of(pi)
        return Passage(p.doc, p.paragraph, float(score), p.text, doc.title, doc.date, float(bm25), float(dense),
                       p.page, p.section, int(pi))

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
    def bm25(self) -> BM25Index:
        """The segments' persisted postings, scored with this generation's statistics."""
        if self._bm25 is None:
            parts = []
            for i, s in enumerate(self.store.segments):
                a, b = int(self._p0[i]), int(self._p0[i + 1])
                parts.append((s.postings, a, None if self._live is None else self._live[a:b]))
            self._bm25 = BM25Index(segments=parts, n_rows=self.n_paragraphs)
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

    @classmethod
    def from_store(cls, store_dir: str | Path, config: Config | None = None,
                   embedder: Embedder | None = None) -> "Index":
        """Open an existing store as it is, without reading a corpus (StoreError if damaged;
        the model loads only when a question needs embedding)."""
        store = st.load(Path(store_dir))
        if store is None:
            raise st.StoreError(f"no store in {store_dir}")
        return cls(None, Path(store_dir), config or Config.from_env(), store, IndexStats(), embedder)


class Indexer:
    """Brings a store up to date with its corpus (one indexer at a time, by the store's lock)
    and opens it. A new generation replaces the old only once complete."""

    def __init__(self, config: Config | None = None, embedder: Embedder | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 notice: Callable[[str], None] | None = None):
        self.config = config or Config.from_env()
        self.embedder = embedder or get_embedder(self.config.model, self.config.threads, self.config.batch_size,
                                                 self.config.backend, self.config.device)
        self.progress = progress
        self.notice = notice or log.warning

    def open(self, corpus: str | Path, store_dir: str | Path | None = None) -> Index:
        """Scan the corpus against the store: files the store already holds (by identity; by
        stat while the stat cache matches) are neither parsed nor, mostly, read."""
        root = Path(corpus).expanduser()
        store_dir = Path(store_dir) if store_dir else default_store_for(root)
        stats = IndexStats()
        data = self._load_valid(store_dir, self.config, stats)
        known = data.manifest.get("files", {}) if data is not None else {}
        before = st.read_seen(store_dir) if data is not None else {}
        parsed = read_corpus(root, max_file_mb=self.config.max_file_mb, known=known, seen=before)
        index = self._open(root, parsed, store_dir, data, stats, known)
        if parsed.seen != before and st.exists(store_dir):
            st.write_seen(store_dir, dict(parsed.seen))
        return index

    def open_parsed(self, root: Path, parsed: Corpus, store_dir: Path) -> Index:
        """`open` for a corpus already read (bench/scale.py hands one over without files)."""
        stats = IndexStats()
        return self._open(root, parsed, store_dir, self._load_valid(store_dir, self.config, stats), stats,
                          None)

    def _open(self, root: Path, parsed: Corpus, store_dir: Path, data: st.Store | None, stats: IndexStats,
              known: dict | None) -> Index:
        config, notice = self.config, self.notice
        t0 = time.perf_counter()
        for s in parsed.skipped:
            stats.notices.append(f"skipped {s.path}: {s.reason}")
        if data is None or self._changed(data, parsed):
            with st.locked(store_dir, notice):
                data = self._load_valid(store_dir, config, stats)  # another indexer may have finished
                if parsed.unchanged and known is not None and (data.manifest.get("files") if data else {}) != known:
                    # the store changed since the scan: its stubs may not stand for what it holds now
                    parsed = read_corpus(root, max_file_mb=config.max_file_mb)
                if data is None or self._changed(data, parsed):
                    if stats.rebuilt_reason:
                        notice(f"rebuilding the index: {stats.rebuilt_reason}")
                    data = self._update(store_dir, parsed, data, config, self.embedder, stats, self.progress)
        if not (stats.embedded_files or stats.removed_files or stats.resumed_files):
            stats.reused_files = len(parsed.documents)
        stats.seconds = time.perf_counter() - t0
        return Index(root, store_dir, config, data, stats, self.embedder, parsed.skipped)

    @staticmethod
    def _build_keys(config: Config) -> dict:
        return {"model": config.model, "parser": PARSER_VERSION, "title_in_text": config.title_in_text,
                "sentence_vectors": config.sentence_vectors, "backend": config.backend}

    @classmethod
    def _load_valid(cls, store_dir: Path, config: Config, stats: IndexStats) -> st.Store | None:
        try:
            data = st.load(store_dir)
        except st.StoreError as e:
            stats.rebuilt_reason = f"store in {store_dir} is damaged ({e})"
            return None
        if data is None:
            return None
        m = data.manifest
        for key, value in cls._build_keys(config).items():
            if m.get(key) != value:
                stats.rebuilt_reason = f"it was built with {key}={m.get(key)!r}, now {value!r}"
                return None
        return data

    @staticmethod
    def _changed(data: st.Store, parsed: Corpus) -> bool:
        return data.manifest.get("files") != {d.doc: d.sha256 for d in parsed.documents}

    @classmethod
    def _update(cls, store_dir: Path, parsed: Corpus, old: st.Store | None, config: Config,
                embedder: Embedder, stats: IndexStats, progress) -> st.Store:
        """Tombstone the rows of changed and deleted files, reuse the segments a killed run
        finished, embed the rest into new segments of SEGMENT_ROWS paragraphs, merge if the
        store has grown ragged, and commit a generation."""
        current = {d.doc: d.sha256 for d in parsed.documents}
        keys = cls._build_keys(config)
        entries: list[dict] = []
        kept: set[str] = set()
        if old is not None:
            for si, seg in enumerate(old.segments):
                dead = set(old.dead[si])
                for d, (name, sha) in enumerate(seg.docs):
                    if d in dead:
                        continue
                    if current.get(name) == sha and name not in kept:
                        kept.add(name)
                    else:
                        dead.add(d)
                        stats.removed_files += name not in current
                entries.append({"name": seg.name, "dead": dead, "seg": seg})
        stats.reused_files = len(kept)
        wanted = {d.doc: d.sha256 for d in parsed.documents if d.doc not in kept}
        if stats.rebuilt_reason is None:  # a damaged or outdated store is rebuilt from scratch
            for seg in st.finished_segments(store_dir):
                if seg.docs and seg.info.get("build") == keys and \
                        all(wanted.get(n) == s for n, s in seg.docs):
                    entries.append({"name": seg.name, "dead": set(), "seg": seg})
                    for n, _ in seg.docs:
                        wanted.pop(n)
                    stats.resumed_files += len(seg.docs)
        todo = [d for d in parsed.documents if d.doc in wanted]
        if any(d.doc in parsed.unchanged for d in todo):  # a stub would be indexed as an empty file
            raise RuntimeError("the corpus scan's stubs do not match the store it updates")
        total = sum(len(d.paragraphs) for d in todo)
        done = 0

        def tick(n):
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        phase = getattr(progress, "phase", None)  # a front end's display may show the uncounted steps
        if todo and phase and not embedder.loaded:
            phase(f"loading the embedding model to embed {total} paragraphs")
        if todo:
            tick(0)
        for batch in _chunks(todo, SEGMENT_ROWS):
            seg = cls._embed_segment(store_dir, batch, config, embedder, stats, tick, keys)
            entries.append({"name": seg.name, "dead": set(), "seg": seg})
        stats.embedded_files = len(todo)
        dims = {int(e["seg"].info["dim"]) for e in entries if e["seg"].n_paragraphs}
        dim = dims.pop() if len(dims) == 1 else (int(old.manifest["dim"]) if old is not None and not todo
                                                 else embedder.dim)
        entries = cls._maybe_merge(store_dir, entries, config, keys)
        live_p = live_s = live_d = 0
        for e in entries:
            seg = e["seg"]
            for d in range(len(seg.docs)):
                if d not in e["dead"]:
                    a, b = int(seg.doc_paragraphs[d]), int(seg.doc_paragraphs[d + 1])
                    live_d += 1
                    live_p += b - a
                    if b > a:
                        live_s += int(seg.par_sentences[b - 1, 1] - seg.par_sentences[a, 0])
        manifest = dict(keys, format=st.FORMAT, dim=dim, files=current, documents=live_d,
                        paragraphs=live_p, sentences=live_s,
                        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        if phase and todo:
            phase("writing the store")
        st.commit(store_dir, manifest, [{"name": e["name"], "dead": e["dead"]} for e in entries])
        return st.load(store_dir)

    @staticmethod
    def _embed_segment(store_dir: Path, docs: list[Document], config: Config, embedder: Embedder,
                       stats: IndexStats, tick, keys: dict) -> st.Segment:
        """Sentence splitting (pysbd, ~5 ms a paragraph: an eighth of CPU encoding, ten times a
        GPU's) runs one piece ahead in a thread while the model encodes the piece before."""
        pieces = _chunks(docs, SPLIT_AHEAD)

        def split(part: list[Document]):
            return [(d, [split_sentences(p.text, p.skip) if p.answerable else [] for p in d.paragraphs])
                    for d in part]

        todo, par_texts, pars, sents = [], [], [], []
        n_sentences = 0
        dim = embedder.dim
        pool = ThreadPoolExecutor(1, thread_name_prefix="qa-split")
        try:
            ahead = pool.submit(split, pieces[0]) if pieces else None
            for i in range(len(pieces)):
                part = ahead.result()
                ahead = pool.submit(split, pieces[i + 1]) if i + 1 < len(pieces) else None
                texts, part_spans = [], []
                for d, ss in part:
                    for p, sentences in zip(d.paragraphs, ss):
                        text = passage_text(d, p, config.title_in_text)
                        shift = len(text) - len(p.text)  # the title prefix
                        texts.append(text)
                        part_spans.append([(a + shift, b + shift) for a, b in sentences])
                if config.sentence_vectors == "separate":
                    pars.append(embedder.encode_documents(texts, tick))
                    sents.append(embedder.encode_documents(
                        [t[a:b] for t, sp in zip(texts, part_spans) for a, b in sp]).reshape(-1, dim))
                else:
                    pv, per_text = embedder.encode_with_spans(texts, part_spans, tick)
                    pars.append(pv)
                    sents.extend(per_text)
                todo.extend(part)
                par_texts.extend(texts)
                n_sentences += sum(len(sp) for sp in part_spans)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # on a cancel, leave the last piece behind
        new_par = np.concatenate(pars) if pars else np.zeros((0, dim), np.float32)
        new_sent = np.concatenate(sents) if sents else np.zeros((0, dim), np.float32)
        stats.embedded_paragraphs += len(par_texts)
        stats.embedded_sentences += n_sentences
        name = st.write_segment(store_dir, [_doc_to_json(d, ss) for d, ss in todo],
                                np.asarray(new_par, np.float32).reshape(-1, dim),
                                np.asarray(new_sent, np.float32).reshape(-1, dim), par_texts, build=keys)
        return st.open_segment(store_dir, name)

    @staticmethod
    def _maybe_merge(store_dir: Path, entries: list[dict], config: Config, keys: dict) -> list[dict]:
        """Merge everything when over MAX_DEAD of the rows are deleted; else, past MAX_SEGMENTS,
        merge the segments below the ANN threshold (cheap: the large ones keep their graphs)."""
        rows = sum(e["seg"].n_paragraphs for e in entries)
        dead = sum(int(e["seg"].doc_paragraphs[d + 1] - e["seg"].doc_paragraphs[d])
                   for e in entries for d in e["dead"])
        if rows and dead > MAX_DEAD * rows:
            pick = list(range(len(entries)))
        elif len(entries) > MAX_SEGMENTS:
            pick = [i for i, e in enumerate(entries) if e["seg"].n_paragraphs < ann.ANN_THRESHOLD]
        else:
            return entries
        if len(pick) < 2 and not (pick and entries[pick[0]]["dead"]):
            return entries
        return merge(store_dir, entries, pick, config.title_in_text, keys)


def merge(store_dir: Path, entries: list[dict], pick: list[int], with_title: bool, keys: dict) -> list[dict]:
    """Rewrite the live documents of entries[pick] as one segment (BM25 postings and, when large
    enough, the HNSW graph rebuilt), placed where the first picked one was."""
    docs, pv, sv, texts = [], [], [], []
    for i in pick:
        seg, dead = entries[i]["seg"], entries[i]["dead"]
        for d in range(len(seg.docs)):
            if d in dead:
                continue
            j = seg.doc_json(d)
            a, b = int(seg.doc_paragraphs[d]), int(seg.doc_paragraphs[d + 1])
            docs.append(j)
            pv.append(np.asarray(seg.vectors[a:b], np.float32))
            if b > a:
                sv.append(np.asarray(seg.sentence_vectors[int(seg.par_sentences[a, 0]):
                                                          int(seg.par_sentences[b - 1, 1])], np.float32))
            texts.extend(_json_passage_text(j, p, with_title) for p in j["paragraphs"])
    dim = int(entries[pick[0]]["seg"].info["dim"])
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)  # noqa: E731
    name = st.write_segment(store_dir, docs, cat(pv), cat(sv), texts, build=keys)
    merged = {"name": name, "dead": set(), "seg": st.open_segment(store_dir, name)}
    out = [e for i, e in enumerate(entries) if i not in set(pick)]
    out.insert(min(pick), merged)
    return out
