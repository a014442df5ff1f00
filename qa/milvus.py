"""Milvus as the paragraph store: `--store milvus://[user:password@]host:port/collection`, or a
local `.db` path for milvus-lite (parsed in qa/location.py).

The corpus is still read, split and embedded locally into the corpus' ordinary local store (the
"local cache": documents, sentence spans and vectors, BM25 for the readers), exactly as without
Milvus; then the collection is brought in line with it by stable ids: a file whose content hash
differs from the one stored with its rows is deleted and upserted again, a file no longer in the
corpus is deleted, an unchanged one is not touched. Paragraph vectors, text, title and the
citation (doc, paragraph) live in the collection; the retriever's dense search (and, where the
server has full-text BM25, its lexical search) goes to Milvus through `MilvusStore` /
`MilvusLexical`, the `types.DenseStore` / `types.LexicalIndex` of the open index's rows.

pymilvus is imported lazily (the `milvus` extra); nothing here runs unless a Milvus store is named.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from .errors import QAError
from .location import StoreLocation, Target, parse_target

log = logging.getLogger("qa")

SCHEMA = 1  # bump when the collection's fields change
INSTALL_HINT = "Milvus stores need pymilvus: pip install -c constraints.txt -e '.[milvus]'"
_TEXT_BYTES = 60000  # VARCHAR limit is 65,535 bytes
_BATCH = 256
_META = "qa.meta"  # the collection property holding what it was built with
_BM25 = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s' defaults (method "lucene"), as the local BM25


# The questions' reads see this client's own writes (the sync just before) without waiting for
# the server's next time tick, as the collection's "Strong" level does: ~200 ms a call on the
# 2.3.5 server, i.e. most of a question's latency (bench/milvus.py).
READS = "Session"


def _client_module():
    try:
        import pymilvus
    except ImportError:
        raise QAError(INSTALL_HINT) from None
    return pymilvus


def _pk(doc: str, paragraph: int) -> int:
    """Stable primary key of (doc, paragraph): 63 bits of blake2b."""
    h = hashlib.blake2b(f"{doc}\x00{paragraph}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") & ((1 << 63) - 1)


def _clip(text: str, limit: int) -> str:
    b = text.encode("utf-8")
    return text if len(b) <= limit else b[:limit].decode("utf-8", "ignore")


def _quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a Milvus string literal: "..." with \" and \\


def _error(target: Target, e: Exception, doing: str) -> QAError:
    msg = getattr(e, "message", None) or str(e) or type(e).__name__
    return QAError(f"Milvus ({target.shown}) failed {doing}: {msg.splitlines()[0][:200]}")


@dataclass
class SyncStats:
    upserted_files: int = 0
    deleted_files: int = 0
    upserted_rows: int = 0
    seconds: float = 0.0
    lexical: bool = False


class Collection:
    """One qa collection: connect, check what it was built with, bring it in line with an index."""

    def __init__(self, target: Target, model: str, timeout: float = 10.0):
        pymilvus = _client_module()
        # pymilvus logs every failed call with a traceback; each failure here becomes one QAError
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        self.target, self.model = target, model
        self._pymilvus = pymilvus
        if not target.lite:
            _reachable(target, timeout)
        try:
            self.client = pymilvus.MilvusClient(target.uri, token=target.token, timeout=timeout)
            self.version = str(self.client.get_server_version())
            exists = self.client.has_collection(target.collection)
        except Exception as e:  # noqa: BLE001 - pymilvus raises MilvusException and grpc errors alike
            if not target.lite:
                raise QAError(f"Milvus at {target.uri} refused the connection (wrong user or password? "
                              f"give milvus://user:password@host:port/collection or QA_MILVUS_TOKEN; "
                              f"or that port is not Milvus)") from None
            raise _error(target, e, "to open") from None
        self.meta = self._check() if exists else None
        if exists:
            try:  # a collection is released after a restart (milvus-lite: after every close)
                self.client.load_collection(target.collection)
            except Exception as e:  # noqa: BLE001
                raise _error(target, e, f"to load {target.collection}") from None

    @property
    def lexical(self) -> bool:
        """Whether the collection has the BM25 function (Milvus 2.5+, milvus-lite 3.x)."""
        return bool(self.meta and self.meta.get("lexical"))

    def server_has_bm25(self) -> bool:
        v = self.version.lower()
        m = re.search(r"(\d+)\.(\d+)", v)
        if not m:
            return False
        major, minor = int(m.group(1)), int(m.group(2))
        return major >= 3 if "lite" in v and not v.startswith("v") else (major, minor) >= (2, 5)

    def _check(self) -> dict:
        """The collection's qa description; QAError when it is not qa's or holds another model."""
        name = self.target.collection
        try:
            desc = self.client.describe_collection(name)
        except Exception as e:  # noqa: BLE001
            raise _error(self.target, e, f"to describe {name}") from None
        try:  # milvus-lite keeps the properties, not the description, across restarts
            meta = json.loads((desc.get("properties") or {}).get(_META) or desc.get("description") or "")
        except (ValueError, AttributeError):
            meta = None
        if not isinstance(meta, dict) or meta.get("qa") != SCHEMA:
            raise QAError(f"Milvus collection {name} at {self.target.uri} was not made by this qa "
                          f"(schema {SCHEMA}): name another collection")
        if meta.get("model") != self.model:
            raise QAError(f"Milvus collection {name} holds vectors of model {meta.get('model')!r} "
                          f"(dim {meta.get('dim')}), this index uses {self.model!r}: name another "
                          f"collection, or drop that one")
        return meta

    def check_dim(self, dim: int) -> None:
        if self.meta is not None and int(self.meta.get("dim", -1)) != dim:
            raise QAError(f"Milvus collection {self.target.collection} holds {self.meta.get('dim')}-"
                          f"dimensional vectors, this index's model gives {dim}: name another collection")

    def create(self, dim: int) -> None:
        pm = self._pymilvus
        DataType = pm.DataType
        lexical = self.server_has_bm25()
        meta = {"qa": SCHEMA, "model": self.model, "dim": dim, "lexical": lexical}
        schema = pm.MilvusClient.create_schema(auto_id=False, description=json.dumps(meta))
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("doc", DataType.VARCHAR, max_length=2048)
        schema.add_field("paragraph", DataType.INT64)
        schema.add_field("key", DataType.VARCHAR, max_length=128)  # file sha256 / parser: what sync compares
        schema.add_field("title", DataType.VARCHAR, max_length=2048)
        schema.add_field("text", DataType.VARCHAR, max_length=65535)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        index = self.client.prepare_index_params()
        if self.target.lite:
            index.add_index("vector", index_type="FLAT", metric_type="IP")
        else:
            index.add_index("vector", index_type="HNSW", metric_type="IP",
                            params={"M": 16, "efConstruction": 200})
        if lexical:  # the project's stemmed terms, so Milvus' BM25 sees what the local one sees
            schema.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(pm.Function(name="bm25", function_type=pm.FunctionType.BM25,
                                            input_field_names=["terms"], output_field_names=["sparse"]))
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=_BM25)
        try:
            self.client.create_collection(self.target.collection, schema=schema, index_params=index,
                                          consistency_level="Strong")
            self.client.alter_collection_properties(self.target.collection, properties={_META: json.dumps(meta)})
        except Exception as e:  # noqa: BLE001
            raise _error(self.target, e, f"to create {self.target.collection}") from None
        self.meta = meta

    def stored_keys(self) -> dict[str, str]:
        """{doc: key} from each stored document's paragraph-0 row (written last, so a file whose
        upsert was cut short is seen as missing and sent again)."""
        out: dict[str, str] = {}
        try:
            it = self.client.query_iterator(self.target.collection, batch_size=1000, filter="paragraph == 0",
                                            output_fields=["doc", "key"])
            while True:
                page = it.next()
                if not page:
                    break
                out.update((r["doc"], r["key"]) for r in page)
            it.close()
        except Exception as e:  # noqa: BLE001
            raise _error(self.target, e, "to list the stored documents") from None
        return out

    def sync(self, index) -> SyncStats:
        """Upsert the files whose key changed, delete the files gone; leave the rest alone."""
        from .text import terms
        t0 = time.perf_counter()
        dim = _dim(index)
        self.check_dim(dim)
        if self.meta is None:
            self.create(dim)
        stats = SyncStats(lexical=self.lexical)
        parser = f"{index.manifest.get('parser')}/{int(bool(index.manifest.get('title_in_text')))}"
        # from the manifest, not by decoding every document of the index
        want = {doc: f"{sha}/{parser}" for doc, sha in index.manifest["files"].items()}
        have = self.stored_keys()
        stale = [d for d, k in have.items() if want.get(d) != k]
        fresh = [d for d, k in want.items() if have.get(d) != k]
        name = self.target.collection
        try:
            for i in range(0, len(stale), 100):
                docs = ", ".join(_quote(d) for d in stale[i:i + 100])
                self.client.delete(name, filter=f"doc in [{docs}]")
            rows_first, rows_last = [], []
            for doc in fresh:  # only the changed files' rows are read, not every paragraph's
                rows = self._rows(index, _doc_rows(index, doc), want[doc], terms)
                rows_first.extend(r for r in rows if r["paragraph"] != 0)
                rows_last.extend(r for r in rows if r["paragraph"] == 0)
            for batch in (rows_first, rows_last):
                for i in range(0, len(batch), _BATCH):
                    self.client.upsert(name, batch[i:i + _BATCH])
            if stale or fresh:
                self.client.flush(name)
        except QAError:
            raise
        except Exception as e:  # noqa: BLE001
            raise _error(self.target, e, "to update the collection") from None
        stats.deleted_files = sum(1 for d in stale if d not in want)
        stats.upserted_files = len(fresh)
        stats.upserted_rows = len(rows_first) + len(rows_last)
        stats.seconds = time.perf_counter() - t0
        return stats

    def _rows(self, index, rows: list[int], key: str, terms) -> list[dict]:
        vecs = np.asarray(index.vectors.get(np.asarray(rows, dtype=np.int64)), dtype=np.float32)
        out = []
        for r, v in zip(rows, vecs):
            p, d = index.paragraphs[r], index.doc_of(r)
            row = {"id": _pk(p.doc, p.paragraph), "doc": p.doc, "paragraph": p.paragraph, "key": key,
                   "title": _clip(d.title or "", 2000), "text": _clip(p.text, _TEXT_BYTES),
                   "vector": v.tolist()}
            if self.lexical:
                row["terms"] = _clip(" ".join(terms(index.text_for_retrieval(r))), _TEXT_BYTES)
            out.append(row)
        return out

    def count(self) -> int:
        try:
            res = self.client.query(self.target.collection, filter="", output_fields=["count(*)"])
            return int(res[0]["count(*)"])
        except Exception as e:  # noqa: BLE001
            raise _error(self.target, e, "to count rows") from None


def _doc_rows(index, doc: str) -> list[int]:
    rows, n = [], 0
    while (r := index.find(doc, n)) is not None:
        rows.append(r)
        n += 1
    return rows


def _dim(index) -> int:
    dim = index.manifest.get("dim") if isinstance(getattr(index, "manifest", None), dict) else None
    if dim is None and len(index.paragraphs):
        dim = np.asarray(index.vectors.get(np.array([0]))).shape[1]
    return int(dim or 0)


def _reachable(target: Target, timeout: float) -> None:
    """A refused or silent port is 'server down', told apart from refused credentials."""
    parts = urlsplit(target.uri)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=min(timeout, 5.0)).close()
    except OSError as e:
        raise QAError(f"cannot reach the Milvus server at {target.uri}: {e.strerror or e}; is it "
                      f"running?") from None


class LastQuestion:
    """Scores by row for the last question only: a hybrid retrieval scores the same candidates
    twice (search, then fusion), and each fetch from the collection is a round trip."""

    def __init__(self):
        self._key: object = None
        self._rows: dict[int, float] = {}

    def rows(self, key) -> dict[int, float]:
        if key != self._key:
            self._key, self._rows = key, {}
        return self._rows


class MilvusStore:
    """The collection's paragraph vectors as a `types.DenseStore` over the open index's rows."""

    def __init__(self, collection: Collection, index):
        self.c = collection
        self.index = index
        self._memo = LastQuestion()  # cosines by row

    def __len__(self) -> int:
        return len(self.index.paragraphs)

    def _rows_of(self, hits) -> tuple[np.ndarray, list[int]]:
        rows, keep = [], []
        for n, h in enumerate(hits):
            e = h.get("entity", h)
            r = self.index.find(e["doc"], int(e["paragraph"]))
            if r is not None:
                rows.append(r)
                keep.append(n)
        return np.asarray(rows, dtype=np.int64), keep

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k <= 0 or not len(self):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        k = min(k, 16384)
        params = {"metric_type": "IP", "params": {"ef": max(128, k)}}
        try:
            res = self.c.client.search(self.c.target.collection, [np.asarray(query, np.float32).tolist()],
                                       anns_field="vector", limit=k, output_fields=["doc", "paragraph"],
                                       search_params=params, consistency_level=READS)
        except Exception as e:  # noqa: BLE001
            raise _error(self.c.target, e, "to search") from None
        hits = list(res[0]) if res else []
        rows, keep = self._rows_of(hits)
        scores = np.asarray([hits[n]["distance"] for n in keep], dtype=np.float32)
        self._memo.rows(np.asarray(query, np.float32).tobytes()).update(zip(rows.tolist(), scores.tolist()))
        return rows, scores

    def get(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return np.zeros((0, _dim(self.index)), np.float32)
        pks = [_pk(self.index.paragraphs[i].doc, self.index.paragraphs[i].paragraph) for i in ids]
        try:
            res = self.c.client.get(self.c.target.collection, ids=list(dict.fromkeys(pks)),
                                    output_fields=["vector"], consistency_level=READS)
        except Exception as e:  # noqa: BLE001
            raise _error(self.c.target, e, "to fetch vectors") from None
        by_pk = {int(r["id"]): r["vector"] for r in res}
        missing = [pk for pk in pks if pk not in by_pk]
        if missing:
            raise QAError(f"Milvus collection {self.c.target.collection} lacks {len(missing)} of the "
                          f"index's paragraphs: run qa index with the same --store")
        return np.asarray([by_pk[pk] for pk in pks], dtype=np.float32)

    def score(self, query: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
        ids = np.arange(len(self)) if ids is None else np.asarray(ids, dtype=np.int64).reshape(-1)
        q = np.asarray(query, np.float32).reshape(-1)
        memo = self._memo.rows(q.tobytes())
        need = np.asarray([i for i in dict.fromkeys(ids.tolist()) if i not in memo], dtype=np.int64)
        if len(need):
            memo.update(zip(need.tolist(), (self.get(need) @ q).tolist()))
        return np.asarray([memo[i] for i in ids.tolist()], dtype=np.float32)


class MilvusLexical:
    """The collection's BM25 (Milvus 2.5+ / milvus-lite 3.x) as a `types.LexicalIndex`; the idf of a
    term (read by the readers) stays the local BM25's."""

    def __init__(self, collection: Collection, index):
        self.c = collection
        self.index = index
        self._rows = MilvusStore(collection, index)._rows_of
        self._memo = LastQuestion()  # BM25 scores by row

    def _search(self, query: str, k: int, filt: str = "") -> tuple[np.ndarray, np.ndarray]:
        from .text import terms
        q = " ".join(terms(query))
        if not q or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        try:
            res = self.c.client.search(self.c.target.collection, [q], anns_field="sparse", limit=min(k, 16384),
                                       filter=filt, output_fields=["doc", "paragraph"],
                                       search_params={"metric_type": "BM25"}, consistency_level=READS)
        except Exception as e:  # noqa: BLE001
            raise _error(self.c.target, e, "to search terms") from None
        hits = list(res[0]) if res else []
        rows, keep = self._rows(hits)
        # milvus-lite reports BM25 as a negated distance, the server as a score
        scores = np.asarray([abs(hits[n]["distance"]) for n in keep], dtype=np.float32)
        return rows, scores

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        ids, s = self._search(query, k)
        self._memo.rows(query).update(zip(ids.tolist(), s.tolist()))
        return ids[s > 0], s[s > 0]

    def score(self, query: str, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros(0, np.float32)
        memo = self._memo.rows(query)
        need = [i for i in dict.fromkeys(ids.tolist()) if i not in memo]
        if need:
            pks = list(dict.fromkeys(_pk(self.index.paragraphs[i].doc, self.index.paragraphs[i].paragraph)
                                     for i in need))
            rows, s = self._search(query, len(pks), f"id in [{', '.join(map(str, pks))}]")
            got = {int(r): float(v) for r, v in zip(rows, s)}
            memo.update((i, got.get(i, 0.0)) for i in need)
        return np.asarray([memo[i] for i in ids.tolist()], dtype=np.float32)

    def idf_of(self, term: str) -> float:
        return self.index.bm25.idf_of(term)


@dataclass
class Remote:
    """What `open_index` gives beside the index: the stores to inject into the retriever."""

    collection: Collection
    dense: MilvusStore
    lexical: MilvusLexical | None
    stats: SyncStats

    def retriever(self, cls):
        """A retriever class (`retrieve.RETRIEVERS`) bound to the Milvus stores."""
        return lambda index: cls(index, dense=self.dense, lexical=self.lexical)


def open_index(location: StoreLocation, config, progress=None, notice=None):
    """(Index, Remote): the local index of the corpus (in its usual local store, the cache)
    brought up to date, then the Milvus collection brought in line with it. Connection,
    credentials and the collection's model are checked before anything is embedded."""
    from .indexer import Indexer
    target = parse_target(location.uri, config.milvus_token)
    collection = Collection(target, config.model)
    idx = Indexer(config, progress=progress, notice=notice).open(location.corpus, location.path)
    stats = collection.sync(idx)
    dense = MilvusStore(collection, idx)
    lexical = MilvusLexical(collection, idx) if collection.lexical else None
    return idx, Remote(collection, dense, lexical, stats)
