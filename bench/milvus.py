"""squad-v1.1 retrieval through Milvus against the local store, as one table.

    python bench/milvus.py [--quick] [--server milvus://root:Milvus@127.0.0.1:19530] [--stores local,server,lite]

The questions are cleaned and embedded once; then for each store: open (the local store of the
squad-v1.1 corpus is the cache every Milvus store syncs from: built once by bench/run.py or here,
never re-embedded for Milvus), and for every question the hybrid retriever's top 20 for the same
vector, scored like `qa eval` scores retrieval (Recall@k and MRR of the gold paragraph), timed
with the question embedding excluded. `server`: the real Milvus 2.3.5
standalone (no BM25: dense in Milvus, lexical local), started here on loopback by
bench/milvus_server.py and stopped at the end unless --server names a running one. `lite`:
milvus-lite 3.x in a temporary .db (dense and BM25 in Milvus). Each Milvus collection is
created fresh, so its open time is the full upsert of the 829 paragraphs.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.config import Config  # noqa: E402
from qa.evaluate import format_table  # noqa: E402
from qa.location import hide_password  # noqa: E402
from qa.metrics import percentile  # noqa: E402
from qa.pipeline import QA  # noqa: E402
from qa.questions import load_questions  # noqa: E402

V11 = ROOT.parent / "shared" / "eval" / "squad-v1.1"


def _helper():
    spec = importlib.util.spec_from_file_location("milvus_server", ROOT / "bench" / "milvus_server.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _drop(store: str) -> None:
    from qa.location import parse_target
    from pymilvus import MilvusClient
    t = parse_target(store)
    c = MilvusClient(t.uri, token=t.token)
    if c.has_collection(t.collection):
        c.drop_collection(t.collection)
    c.close()


def question_vectors(questions) -> dict[str, object]:
    """Each question cleaned and embedded once: the same vectors go to every store."""
    from qa.embed import get_embedder
    from qa.errors import QAError
    from qa.pipeline import clean_question
    cfg = Config()
    emb = get_embedder(cfg.model, cfg.threads, cfg.batch_size)
    out = {}
    for q in questions:
        try:
            text = clean_question(q.question)
        except QAError:
            continue  # qa eval scores these as misses too
        out[q.id] = (text, emb.encode_query(text))
    return out


def measure(store: str | None, questions, qvecs) -> dict:
    """Recall@k and MRR of the gold paragraph as `qa eval` computes them (the hybrid retriever's
    top RETRIEVE_K passages for the cleaned question), and retrieval latency, embedding excluded."""
    from qa import metrics as M
    from qa.evaluate import RETRIEVE_K
    t0 = time.perf_counter()
    qa = QA(V11 / "corpus", store, Config(), retriever="hybrid", reader="baseline", notice=lambda m: None)
    opened = time.perf_counter() - t0
    recs, lat = [], []
    for q in questions:
        if q.doc is None or q.paragraph is None:
            continue
        keys = []
        if q.id in qvecs:
            text, qvec = qvecs[q.id]
            t1 = time.perf_counter()
            keys = [(p.doc, p.paragraph) for p in qa.retriever.retrieve(text, RETRIEVE_K, qvec=qvec)]
            lat.append(time.perf_counter() - t1)
        gold = (q.doc, q.paragraph)
        recs.append({f"recall@{k}": M.recall_at_k(keys, gold, k) for k in (1, 5, 20)}
                    | {"rr": M.reciprocal_rank(keys, gold)})
    n = len(recs)
    out = {"questions": n, **{f"recall@{k}": sum(r[f"recall@{k}"] for r in recs) / n for k in (1, 5, 20)},
           "mrr": sum(r["rr"] for r in recs) / n, "open_s": opened,
           "retrieve_p50_ms": 1000 * percentile(lat, 50), "retrieve_p95_ms": 1000 * percentile(lat, 95)}
    if qa.remote is not None:
        out["lexical"] = "Milvus BM25" if qa.remote.lexical is not None else "local BM25"
    print(f"{hide_password(store) if store else 'local store'}: R@1 {out['recall@1']:.3f}, open {opened:.1f} s", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="500 questions")
    ap.add_argument("--server", default=None, help="a running server (milvus://user:password@host:port)")
    ap.add_argument("--stores", default="local,server,lite")
    args = ap.parse_args()
    qs, _ = load_questions(V11 / "questions.jsonl")
    qs = qs[:500] if args.quick else qs
    wanted = args.stores.split(",")
    t0 = time.perf_counter()
    qvecs = question_vectors(qs)
    print(f"{len(qvecs)} questions embedded in {time.perf_counter() - t0:.0f} s", flush=True)
    cols: dict[str, dict] = {}
    helper, data, started = _helper(), None, None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if "local" in wanted:
                cols["local store"] = measure(None, qs, qvecs)
            if "server" in wanted:
                base = args.server
                if base is None:
                    data = Path(tmp) / "server"
                    started = helper.start(data, helper.free_port())
                    base = started["url"].rsplit("/", 1)[0]
                    print(f"Milvus 2.3.5 server ready in {started['start_s']} s")
                store = f"{base.rstrip('/')}/bench_squad11"
                _drop(store)
                cols["Milvus 2.3.5 server"] = measure(store, qs, qvecs)
            if "lite" in wanted:
                cols["milvus-lite 3.x"] = measure(str(Path(tmp) / "squad.db"), qs, qvecs)
        finally:
            if started is not None:
                helper.stop(data)
    print(format_table({k: {m: v.get(m) for m in ("questions", "recall@1", "recall@5", "recall@20", "mrr")}
                        for k, v in cols.items()},
                       f"Hybrid retrieval, squad-v1.1 ({len(qs)} questions): local store vs Milvus"))
    for label, key, fmt in (("open (sync included), s", "open_s", "{:.1f}"),
                            ("retrieve top-20 p50, ms", "retrieve_p50_ms", "{:.1f}"),
                            ("retrieve top-20 p95, ms", "retrieve_p95_ms", "{:.1f}"),
                            ("lexical search", "lexical", "{}")):
        print(f"  {label:26s}" + "".join(f"{fmt.format(v[key]) if v.get(key) is not None else 'local BM25':>22s}"
                                        for v in cols.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
