"""The open, read-only view of one generation of a store (`Index`) that the retriever and readers
use. qa/indexer.py builds and updates stores and opens them as an Index; `Index.from_store`
opens one as it is, without a corpus.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import ann
from . import store as st
from .config import Config
from .document import Document, Paragraph, from_json, intro_of, passage_text, with_intro
from .embed import Embedder, get_embedder
from .inline import view_of
from .lexical import BM25Index
from .types import Citation, Passage, Quote


@dataclass
class IndexStats:
    """What opening an index did: files embedded, reused, removed; why it was rebuilt."""
    embedded_files: int = 0
    resumed_files: int = 0  # finished by a run that was killed: reused
    reused_files: int = 0
    removed_files: int = 0
    embedded_paragraphs: int = 0
    embedded_sentences: int = 0
    reused_paragraphs: int = 0  # paragraphs of edited files whose vectors were copied, not embedded
    seconds: float = 0.0
    rebuilt_reason: str | None = None


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
        if isinstance(rows, (int, np.integer)):  # one row: the scorer asks for many, one at a time
            s = int(np.searchsorted(idx._s0, rows, side="right")) - 1
            one = np.array(idx.store.segments[s].spans[int(rows) - int(idx._s0[s])], dtype=np.int64)
            one[0] += idx._p0[s]
            if idx._live is not None:
                one[0] = idx._live[one[0]]
            return one
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
        """Load what a question needs (the question encoder) and the BM25 postings now rather
        than at the first question."""
        self.embedder.warm_up_question()
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
            doc, _ = from_json(self.store.segments[s].doc_json(local))
            if len(self._doc_cache) >= 4096:
                self._doc_cache.clear()
            self._doc_cache[di] = doc
        return doc

    def _paragraph(self, pi: int) -> Paragraph:
        return self._document(int(self.par_doc[pi])).paragraphs[int(self._info[pi, 1])]

    # -- lookups ---------------------------------------------------------------------------------
    def doc_of(self, pi: int) -> Document:
        return self._document(int(self.par_doc[pi]))

    def _doc_number(self, doc: str) -> int | None:
        if self._by_doc is None:
            names = [n for seg in self.store.segments for n, _ in seg.docs]
            rows = range(len(names)) if self._doc_rows is None else self._doc_rows
            self._by_doc = {names[int(c)]: live for live, c in enumerate(rows)}
        return self._by_doc.get(doc)

    def document(self, doc: str) -> Document | None:
        """The live document named `doc` (its path in the corpus), None when this generation has
        none: a name is looked up, never opened, so it can come from anyone (qa serve)."""
        di = self._doc_number(doc) if isinstance(doc, str) else None
        return None if di is None else self._document(di)

    def find(self, doc: str, paragraph: int) -> int | None:
        di = self._doc_number(doc)
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

    def intro(self, pi: int) -> Quote | None:
        """For a code paragraph row, the sentence that introduces it (document.intro_of), cited."""
        p = self.paragraphs[pi]
        if p.kind != "code" or p.paragraph == 0:
            return None
        r = self.find(p.doc, p.paragraph - 1)
        if r is None:
            return None
        rows = self.sentence_rows(r)
        last = [(int(self.sentence_spans[rows[-1]][1]), int(self.sentence_spans[rows[-1]][2]))] if len(rows) else []
        span = intro_of([self.paragraphs[r].kind, p.kind], [last, []], 1)
        return None if span is None else Quote(self.paragraphs[r].text[span[0]:span[1]], self.cite(r, *span))

    def text_for_retrieval(self, pi: int) -> str:
        """What the indexer embedded and BM25-indexed for row `pi` (`document.json_passage_texts`)."""
        p = self.paragraphs[pi]
        intro = self.intro(pi)
        body = view_of(p.text, p.kind == "code")[0]
        return passage_text(self.doc_of(pi).title, with_intro(None if intro is None else intro.text, body),
                            self.config.title_in_text, p.section)

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
    def from_store(cls, store_dir: str | Path, config: Config | None = None,
                   embedder: Embedder | None = None) -> "Index":
        """Open an existing store as it is, without reading a corpus (StoreError if damaged;
        the model loads only when a question needs embedding)."""
        store = st.load(Path(store_dir))
        if store is None:
            raise st.StoreError(f"no store in {store_dir}")
        return cls(None, Path(store_dir), config or Config.from_env(), store, IndexStats(), embedder)
