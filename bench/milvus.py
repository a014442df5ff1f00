"""squad-v1.1 retrieval through Milvus against the local store, as one table.

    python bench/milvus.py [--quick] [--server milvus://root:Milvus@127.0.0.1:19530] [--stores local,server,lite]

For each store: open (the local store of the squad-v1.1 corpus is the cache every Milvus store
syncs from: built once by bench/run.py or here, never re-embedded for Milvus), then `qa eval`'s
runner with the hybrid retriever and the baseline reader (retrieval metrics only need passages),
and retrieval latency (top-20, question embedding excluded, 300 questions). `server`: the real Milvus 2.3.5
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
from qa.evaluate import format_table, run, summarize  # noqa: E402
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
    from qa.milvus import parse_target
    from pymilvus import MilvusClient
    t = parse_target(store)
    c = MilvusClient(t.uri, token=t.token)
    if c.has_collection(t.collection):
        c.drop_collection(t.collection)
    c.close()


def measure(store: str | None, questions) -> dict:
    t0 = time.perf_counter()
    qa = QA(V11 / "corpus", store, Config(), retriever="hybrid", reader="baseline", notice=lambda m: None)
    opened = time.perf_counter() - t0
    out = summarize(run(questions, qa, 5))
    lat = []
    for q in questions[:300]:
        qvec = qa.index.embedder.encode_query(q.question)
        t1 = time.perf_counter()  # the question embedding is left out: the same for every store
        qa.retriever.retrieve(q.question, 20, qvec=qvec)
        lat.append(time.perf_counter() - t1)
    out["open_s"] = opened
    out["retrieve_p50_ms"] = 1000 * percentile(lat, 50)
    out["retrieve_p95_ms"] = 1000 * percentile(lat, 95)
    if qa.remote is not None:
        out["lexical"] = "Milvus BM25" if qa.remote.lexical is not None else "local BM25"
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
    cols: dict[str, dict] = {}
    helper, data, started = _helper(), None, None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if "local" in wanted:
                cols["local store"] = measure(None, qs)
            if "server" in wanted:
                base = args.server
                if base is None:
                    data = Path(tmp) / "server"
                    started = helper.start(data, helper.free_port())
                    base = started["url"].rsplit("/", 1)[0]
                    print(f"Milvus 2.3.5 server ready in {started['start_s']} s")
                store = f"{base.rstrip('/')}/bench_squad11"
                _drop(store)
                cols["Milvus 2.3.5 server"] = measure(store, qs)
            if "lite" in wanted:
                cols["milvus-lite 3.x"] = measure(str(Path(tmp) / "squad.db"), qs)
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
