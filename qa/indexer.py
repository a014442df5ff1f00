"""Corpus -> store: `Indexer` builds and updates a store incrementally (under its lock) and opens
it as an `Index` (qa/index.py).

Only new or changed files are embedded; unchanged ones reuse their vectors; an unchanged
corpus re-opens without loading the model at all.
"""
from __future__ import annotations

import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from . import ann
from . import store as st
from .config import Config, default_store_for
from .corpus import Corpus, read_corpus
from .document import Document, json_passage_spans, json_passage_texts, to_json
from .embed import Embedder, get_embedder
from .index import Index, IndexStats
from .seen import read_seen, write_seen
from .sentences import split as split_sentences
from .types import Progress

log = logging.getLogger("qa")

# bump when corpus parsing or sentence splitting changes: stores rebuild, copying the vectors
# of the paragraphs that parse as before. A converter's own change bumps its version in
# qa/convert.FORMATS instead: only the files it read re-index.
PARSER_VERSION = 11
# bump when what is embedded for a parsed paragraph changes (`document.json_passage_spans`):
# a store built otherwise is rebuilt without copying a vector
PASSAGE_VERSION = 4

SEGMENT_ROWS = 20_000  # paragraphs per segment while indexing: what a killed run keeps
SEGMENT_SECONDS = 60.0  # and at least this often a segment is written (a minute of embedding)
SMALL_CHANGE = 256     # at most this many paragraphs to embed: on the question graph, without torch
MAX_SEGMENTS = 8       # more, and the small ones are merged into one
MAX_DEAD = 0.25        # a larger share of deleted rows, and everything is merged
clock = time.monotonic  # what SEGMENT_SECONDS is measured by (a test turns it)
SPLIT_AHEAD = 256      # paragraphs split into sentences while the previous ones are encoded


def build_keys(config: Config) -> dict:
    """What a store is built with: a store built otherwise is rebuilt (the manifest's keys, and
    each segment's "build")."""
    return {"model": config.model, "parser": PARSER_VERSION, "passage": PASSAGE_VERSION,
            "title_in_text": config.title_in_text,
            "sentence_vectors": config.sentence_vectors, "backend": config.backend}


def _embed_key(text: str, spans) -> bytes:
    """What a paragraph's vectors depend on: the text embedded (title and a code block's
    introduction included) and its sentences in it. The same key in the same store (the same
    build keys) gives the same vectors, so they are copied instead of embedded again."""
    return hashlib.sha1((text + "\x00" + ",".join(f"{a}:{b}" for a, b in spans)).encode("utf-8")).digest()


Reusable = dict[bytes, tuple[st.Segment, int]]  # where a paragraph's vectors are stored: segment, row


def _reusable(old: st.Store, names: set[str] | None, with_title: bool) -> tuple[Reusable, set[str]]:
    """Where the vectors of the paragraphs of the files about to be embedded again are stored
    (by `_embed_key`), and their texts: an edited file re-embeds only the paragraphs it changed.
    `names` None: every live file's (a store outdated only by the parser: its paragraphs whose
    text and sentences the new parser leaves as they were keep their vectors)."""
    out: Reusable = {}
    texts: set[str] = set()
    for si, seg in enumerate(old.segments):
        for d, (name, _) in enumerate(seg.docs):
            if (names is not None and name not in names) or d in old.dead[si]:
                continue
            j = seg.doc_json(d)
            first = int(seg.doc_paragraphs[d])
            for k, (p, (text, spans)) in enumerate(zip(j["paragraphs"], json_passage_spans(j, with_title))):
                out[_embed_key(text, spans)] = (seg, first + k)
                texts.add(p["text"])
    return out, texts


def _stored(where: tuple[st.Segment, int]) -> tuple[np.ndarray, np.ndarray]:
    """A paragraph's stored vector and its sentences' (read only when copied: a whole store's
    worth stays on disk)."""
    seg, row = where
    s0, s1 = (int(x) for x in seg.par_sentences[row])
    return np.asarray(seg.vectors[row], np.float32), np.asarray(seg.sentence_vectors[s0:s1], np.float32)


def _encode(embedder: Embedder, texts: list[str], spans: list[list[tuple[int, int]]], sentence_vectors: str,
            reuse: Reusable, tick) -> tuple[np.ndarray, list[np.ndarray], int, int]:
    """The paragraph vectors and each paragraph's sentence vectors of `texts`: copied from
    `reuse` where it holds them, embedded otherwise; with how many paragraphs and sentences
    were copied."""
    dim = embedder.dim
    pv = np.zeros((len(texts), dim), np.float32)
    per_text: list = [None] * len(texts)
    need, copied_sentences = [], 0
    for j, (t, sp) in enumerate(zip(texts, spans)):
        where = reuse.get(_embed_key(t, sp)) if reuse else None
        if where is None:
            need.append(j)
        else:
            pv[j], per_text[j] = _stored(where)
            copied_sentences += len(per_text[j])
    if len(need) < len(texts):
        tick(len(texts) - len(need))
    if need:
        some_texts, some_spans = [texts[j] for j in need], [spans[j] for j in need]
        if sentence_vectors == "separate":
            got_p = embedder.encode_documents(some_texts, tick)
            flat = embedder.encode_documents([t[a:b] for t, sp in zip(some_texts, some_spans)
                                              for a, b in sp]).reshape(-1, dim)
            cuts = np.cumsum([0] + [len(sp) for sp in some_spans])
            got_s = [flat[cuts[k]:cuts[k + 1]] for k in range(len(need))]
        else:
            got_p, got_s = embedder.encode_with_spans(some_texts, some_spans, tick)
        for k, j in enumerate(need):
            pv[j], per_text[j] = got_p[k], np.asarray(got_s[k], np.float32).reshape(-1, dim)
    return pv, per_text, len(texts) - len(need), copied_sentences


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


class Indexer:
    """Brings a store up to date with its corpus (one indexer at a time, by the store's lock)
    and opens it. A new generation replaces the old only once complete."""

    def __init__(self, config: Config | None = None, embedder: Embedder | None = None,
                 progress: Progress | None = None, notice: Callable[[str], None] | None = None):
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
        before = read_seen(store_dir) if data is not None else {}
        parsed = read_corpus(root, max_file_mb=self.config.max_file_mb, known=known, seen=before)
        index = self._open(root, parsed, store_dir, data, stats, known)
        if parsed.seen != before and st.exists(store_dir):
            write_seen(store_dir, dict(parsed.seen))
        return index

    def _open(self, root: Path, parsed: Corpus, store_dir: Path, data: st.Store | None, stats: IndexStats,
              known: dict) -> Index:
        config, notice = self.config, self.notice
        t0 = time.perf_counter()
        for s in parsed.skipped:
            notice(f"skipped {s.path}: {s.reason}")
        if data is None or self._changed(data, parsed):
            with st.locked(store_dir, notice):
                data = self._load_valid(store_dir, config, stats)  # another indexer may have finished
                if parsed.unchanged and (data.manifest.get("files") if data else {}) != known:
                    # the store changed since the scan: its stubs may not stand for what it holds now
                    parsed = read_corpus(root, max_file_mb=config.max_file_mb)
                if data is None or self._changed(data, parsed):
                    if stats.rebuilt_reason:
                        notice(f"rebuilding the index: {stats.rebuilt_reason}")
                    data = self._update(store_dir, parsed, data, config, self.embedder, stats, self.progress)
        if self.embedder.loaded:  # torch is in: the next process answers without it
            self.embedder.prepare_question_path()
        if not (stats.embedded_files or stats.removed_files or stats.resumed_files):
            stats.reused_files = len(parsed.documents)
        stats.seconds = time.perf_counter() - t0
        return Index(root, store_dir, config, data, stats, self.embedder, parsed.skipped)

    @staticmethod
    def _load_valid(store_dir: Path, config: Config, stats: IndexStats) -> st.Store | None:
        try:
            data = st.load(store_dir)
        except st.StoreError as e:
            stats.rebuilt_reason = f"store in {store_dir} is damaged ({e})"
            return None
        if data is None:
            return None
        m = data.manifest
        for key, value in build_keys(config).items():
            if m.get(key) != value:
                stats.rebuilt_reason = f"it was built with {key}={m.get(key)!r}, now {value!r}"
                return None
        return data

    @staticmethod
    def _donor(store_dir: Path, config: Config) -> st.Store | None:
        """The current store when only the parser has changed since it was built: its vectors
        stay right for every paragraph the new parser reads as before (same text, same
        sentences, embedded the same way: `PASSAGE_VERSION`), so a rebuild after an upgrade
        embeds only what the parser changed."""
        try:
            data = st.load(store_dir)
        except st.StoreError:
            return None
        if data is None:
            return None
        keys, m = build_keys(config), data.manifest
        if m.get("parser") == keys["parser"] or any(m.get(k) != v for k, v in keys.items() if k != "parser"):
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
        keys = build_keys(config)
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
        donor = cls._donor(store_dir, config) if old is None and todo else None
        if donor is not None:
            reuse, old_texts = _reusable(donor, None, config.title_in_text)
        elif old is not None and todo and stats.rebuilt_reason is None:
            reuse, old_texts = _reusable(old, {d.doc for d in todo}, config.title_in_text)
        else:
            reuse, old_texts = {}, set()
        fresh = sum(1 for d in todo for p in d.paragraphs if p.text not in old_texts)  # about to be embedded
        done = 0

        def tick(n):
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        # a small change is embedded on the question graph: no torch, no model load (the same
        # vectors within 1e-5, so the store stays one)
        light = embedder.light = bool(todo) and fresh <= SMALL_CHANGE and embedder.can_embed_light()
        if todo and progress:  # the steps the count does not show
            progress.phase(f"embedding {fresh} paragraphs without loading torch" if light else
                           f"loading the embedding model to embed {fresh} paragraphs" if not embedder.loaded
                           else f"embedding {fresh} paragraphs")
        if todo:
            tick(0)
        try:
            for seg in cls._embed_segments(store_dir, todo, config, embedder, stats, tick, keys, reuse):
                entries.append({"name": seg.name, "dead": set(), "seg": seg})
        finally:
            embedder.light = False
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
        if progress and todo:
            progress.phase("writing the store")
        st.commit(store_dir, manifest, [{"name": e["name"], "dead": e["dead"]} for e in entries])
        return st.load(store_dir)

    @staticmethod
    def _embed_segments(store_dir: Path, docs: list[Document], config: Config, embedder: Embedder,
                        stats: IndexStats, tick, keys: dict, reuse: Reusable | None = None) -> Iterator[st.Segment]:
        """Embed `docs` into segments, each written as soon as it holds SEGMENT_ROWS paragraphs or
        SEGMENT_SECONDS of embedding: a killed run loses at most that much work. A paragraph
        whose vectors `reuse` holds (an edited file's unchanged paragraph) is not embedded again.

        Sentence splitting (pysbd, ~5 ms a paragraph: an eighth of CPU encoding, ten times a
        GPU's) runs one piece ahead in a thread while the model encodes the piece before."""
        pieces = _chunks(docs, SPLIT_AHEAD)

        def split(part: list[Document]):
            return [(d, [split_sentences(p.text, p.skip, p.kind == "code") if p.answerable else []
                         for p in d.paragraphs])
                    for d in part]

        dim = embedder.dim
        reuse = reuse or {}
        todo, par_texts, pars, sents, n_sentences = [], [], [], [], 0
        started = clock()

        def write() -> st.Segment:
            nonlocal todo, par_texts, pars, sents, n_sentences, started
            new_par = np.concatenate(pars) if pars else np.zeros((0, dim), np.float32)
            new_sent = np.concatenate(sents) if sents else np.zeros((0, dim), np.float32)
            stats.embedded_paragraphs += len(par_texts) - copied[0]
            stats.embedded_sentences += n_sentences - copied[1]
            stats.reused_paragraphs += copied[0]
            copied[:] = [0, 0]
            name = st.write_segment(store_dir, [to_json(d, ss) for d, ss in todo],
                                    np.asarray(new_par, np.float32).reshape(-1, dim),
                                    np.asarray(new_sent, np.float32).reshape(-1, dim), par_texts, build=keys)
            todo, par_texts, pars, sents, n_sentences = [], [], [], [], 0
            started = clock()
            return st.open_segment(store_dir, name)

        copied = [0, 0]  # paragraphs and sentences of the segment being filled, copied from `reuse`

        pool = ThreadPoolExecutor(1, thread_name_prefix="qa-split")
        try:
            ahead = pool.submit(split, pieces[0]) if pieces else None
            for i in range(len(pieces)):
                part = ahead.result()
                ahead = pool.submit(split, pieces[i + 1]) if i + 1 < len(pieces) else None
                texts, part_spans = [], []
                for d, ss in part:
                    for text, spans in json_passage_spans(to_json(d, ss), config.title_in_text):
                        texts.append(text)
                        part_spans.append(spans)
                pv, per_text, n_par, n_sent = _encode(embedder, texts, part_spans, config.sentence_vectors,
                                                      reuse, tick)
                copied[0] += n_par
                copied[1] += n_sent
                pars.append(pv)
                sents.extend(per_text)
                todo.extend(part)
                par_texts.extend(texts)
                n_sentences += sum(len(sp) for sp in part_spans)
                if i + 1 < len(pieces) and (len(par_texts) >= SEGMENT_ROWS
                                            or clock() - started >= SEGMENT_SECONDS):
                    yield write()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # on a cancel, leave the last piece behind
        if todo:
            yield write()

    @staticmethod
    def _maybe_merge(store_dir: Path, entries: list[dict], config: Config, keys: dict) -> list[dict]:
        """Merge everything when over MAX_DEAD of the rows are deleted; else, past MAX_SEGMENTS,
        merge the segments below the ANN threshold (cheap: the large ones keep their graphs),
        but for the largest of them when it holds more rows than the others together."""
        rows = sum(e["seg"].n_paragraphs for e in entries)
        dead = sum(int(e["seg"].doc_paragraphs[d + 1] - e["seg"].doc_paragraphs[d])
                   for e in entries for d in e["dead"])
        if rows and dead > MAX_DEAD * rows:
            pick = list(range(len(entries)))
        elif len(entries) > MAX_SEGMENTS:
            pick = [i for i, e in enumerate(entries) if e["seg"].n_paragraphs < ann.ANN_THRESHOLD]
            # size-tiered: the largest of them stays while it outweighs the rest together, so a
            # run of small edits merges among itself instead of rewriting the bulk every time
            if len(pick) > 2:
                big = max(pick, key=lambda i: entries[i]["seg"].n_paragraphs)
                if 2 * entries[big]["seg"].n_paragraphs > sum(entries[i]["seg"].n_paragraphs for i in pick):
                    pick.remove(big)
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
            texts.extend(json_passage_texts(j, with_title))
    dim = int(entries[pick[0]]["seg"].info["dim"])
    cat = lambda parts: np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)  # noqa: E731
    name = st.write_segment(store_dir, docs, cat(pv), cat(sv), texts, build=keys)
    merged = {"name": name, "dead": set(), "seg": st.open_segment(store_dir, name)}
    out = [e for i, e in enumerate(entries) if i not in set(pick)]
    out.insert(min(pick), merged)
    return out
