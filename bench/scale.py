"""Stores of 10k, 100k and 1M paragraphs: open time, memory, disk, retrieval latency, ANN recall,
one-file update. Prints one table.

    nice -n 10 python bench/scale.py                      # 10k, 100k, 1M (the 1M build: ~1 h here)
    python bench/scale.py --sizes 10000,100000 --queries 200

What is real and what is not: the paragraph **texts** are SQuAD v1.1 train paragraphs
(../shared/train, 18,891, cycled: BM25 indexes and scores real text); the **questions** are
SQuAD v1.1 dev questions (../shared/eval), embedded with the packaged model. The **vectors** are
real MiniLM vectors of the first `--real` train paragraphs and their sentences (embedded once and
cached under the work folder), cycled with small Gaussian noise (sigma 0.01 per component, cosine
~0.98 to the original) so that a million rows are a million distinct points: enough for timing,
memory and ANN recall, not for retrieval quality (that is bench/run.py on SQuAD dev). Each
document holds 10 paragraphs. Sentence spans come from a plain regex split (pysbd on a million
paragraphs would dominate the build; spans only set how many sentence rows there are).

Each size is measured in a fresh process: store open (`Index.from_store`: manifest, checksums,
maps; no corpus scan); the open from the corpus folder that `qa ask` does (`Indexer.open`: the
scan of the 1,000-files-a-folder corpus against the store, once without the stat cache, every
file read and hashed but none parsed, then with it, one stat per file; page cache warm);
resident memory after open and after the queries (the model loaded for the questions included;
"anonymous" leaves out mapped file pages, which the kernel can drop), disk size, hybrid retrieval p50/p95 with the question vector given (the
question embedding is timed apart), ANN recall@10 of the paragraph search against an exact scan
of the same float16 vectors, and the update after one file of the folder is edited, through the
same open from the folder (the stat scan, 10 paragraphs embedded with the real model, a new
segment, a tombstone, a new generation; the file is put back afterwards).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRAIN = ROOT.parent / "shared" / "train" / "squad-v1.1-train.json.gz"
QUESTIONS = ROOT.parent / "shared" / "eval" / "squad-v1.1" / "questions.jsonl"
PER_DOC = 10
NOISE = 0.01


def train_paragraphs() -> list[tuple[str, str]]:
    raw = json.load(gzip.open(TRAIN))
    return [(a["title"].replace("_", " "), p["context"]) for a in raw["data"] for p in a["paragraphs"]]


def regex_spans(text: str) -> list[list[int]]:
    out, start = [], 0
    for m in re.finditer(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", text):
        if m.start() > start:
            out.append([start, m.start()])
        start = m.end()
    if start < len(text):
        out.append([start, len(text.rstrip())])
    return [s for s in out if s[1] > s[0]]


def real_vectors(work: Path, paras, n_real: int):
    """Paragraph and sentence vectors of the first n_real train paragraphs (cached)."""
    cache = work / f"real-{n_real}.npz"
    if cache.exists():
        z = np.load(cache)
        return z["par"], z["sent"]
    from qa.embed import get_embedder
    emb = get_embedder(threads=int(os.environ.get("QA_THREADS", "0")))
    texts, spans = [], []
    for title, text in paras[:n_real]:
        texts.append(f"{title}\n{text}")
        spans.append([(a + len(title) + 1, b + len(title) + 1) for a, b in regex_spans(text)])
    pv, sv = emb.encode_with_spans(texts, spans)
    sent = np.concatenate(sv).astype(np.float16)
    np.savez(cache, par=pv.astype(np.float16), sent=sent)
    return pv.astype(np.float16), sent


def noisy(pool: np.ndarray, start: int, n: int, rng) -> np.ndarray:
    idx = (start + np.arange(n)) % len(pool)
    v = pool[idx].astype(np.float32) + rng.normal(0, NOISE, (n, pool.shape[1])).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.astype(np.float16)


def build(store: Path, corpus: Path, n: int, paras, par_pool, sent_pool, work: Path) -> float:
    """A store of n paragraphs written through the store's own segment writer, and the corpus
    folder it stands for (real files whose sha256 the manifest holds, so `Indexer.open` of the
    folder finds everything indexed)."""
    from qa import store as st
    from qa.config import Config
    from qa.indexer import PARSER_VERSION, build_keys
    t0 = time.perf_counter()
    rng = np.random.default_rng(n)
    docs, bm25_texts, files = [], [], {}
    n_sent = 0
    for d0 in range(0, n, PER_DOC):
        ps = []
        for i in range(d0, min(n, d0 + PER_DOC)):
            title, text = paras[i % len(paras)]
            sp = regex_spans(text)
            n_sent += len(sp)
            ps.append({"text": text, "kind": "body", "skip": [], "sentences": sp})
            bm25_texts.append(f"{title}\n{text}")
        name = f"d{d0 // PER_DOC:07d}.txt"
        raw = (f"title {paras[d0 % len(paras)][0]}\n\n" + "\n\n".join(p["text"] for p in ps) + "\n").encode()
        path = corpus / name[:5] / name  # 1,000 files a folder
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        sha = hashlib.sha256(raw).hexdigest()
        files[f"{name[:5]}/{name}"] = sha
        docs.append({"doc": f"{name[:5]}/{name}", "title": paras[d0 % len(paras)][0], "date": None, "author": None,
                     "outlet": None, "sha256": sha, "paragraphs": ps})
    dim = par_pool.shape[1]
    pv = np.lib.format.open_memmap(work / "tmp-par.npy", "w+", np.float16, (n, dim))
    sv = np.lib.format.open_memmap(work / "tmp-sent.npy", "w+", np.float16, (n_sent, dim))
    for a in range(0, n, 65536):
        pv[a:a + 65536] = noisy(par_pool, a, min(65536, n - a), rng)
    for a in range(0, n_sent, 65536):
        sv[a:a + 65536] = noisy(sent_pool, a, min(65536, n_sent - a), rng)
    cfg = Config()
    keys = build_keys(cfg)
    name = st.write_segment(store, docs, pv, sv, bm25_texts, build=keys)
    manifest = dict(keys, dim=dim, files=files, documents=len(docs), paragraphs=n, sentences=n_sent,
                    created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    assert manifest["parser"] == PARSER_VERSION
    st.commit(store, manifest, [{"name": name}])
    del pv, sv
    (work / "tmp-par.npy").unlink()
    (work / "tmp-sent.npy").unlink()
    return time.perf_counter() - t0


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory; "RssAnon" leaves out mapped file pages (the page cache's, reclaimable)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(store: Path, corpus_dir: Path, n_queries: int, n_recall: int) -> dict:
    """Measured in a fresh process: open, memory, latency, recall, one-file update."""
    from qa import store as st
    from qa.config import Config
    from qa.index import Index
    from qa.indexer import Indexer
    from qa.retrieve import HybridRetriever
    from qa.seen import SEEN
    out = {}
    t0, c0 = time.perf_counter(), time.process_time()
    idx = Index.from_store(store, Config())
    out["open_s"] = time.perf_counter() - t0
    out["open_cpu_s"] = time.process_time() - c0
    out["rss_open_mb"] = rss_mb()
    # what `qa ask` does: open from the corpus folder, which scans it against the store. The first
    # time without the stat cache (every file read and hashed, none parsed), then with it (stat only).
    Indexer(Config(), notice=lambda m: None).open(corpus_dir, store)  # in line with the folder (a rerun)
    (store / SEEN).unlink(missing_ok=True)
    for key in ("corpus_open_hash_s", "corpus_open_stat_s"):
        t = time.perf_counter()
        again = Indexer(Config(), notice=lambda m: None).open(corpus_dir, store)
        out[key] = time.perf_counter() - t
        assert again.stats.embedded_files == 0 and again.stats.reused_files == idx.n_documents, again.stats
    del again
    qs = [json.loads(x)["question"] for x in QUESTIONS.read_text().splitlines()[:n_queries]]
    emb = idx.embedder
    emb.encode_query("warm up")
    qvecs, t_embed, c_embed = [], [], []
    for q in qs:
        t, c = time.perf_counter(), time.process_time()
        qvecs.append(emb.encode_query(q))
        t_embed.append(time.perf_counter() - t)
        c_embed.append(time.process_time() - c)
    ret = HybridRetriever(idx)
    ret.retrieve(qs[0], 20, qvecs[0])
    t_ret, c_ret = [], []
    for q, v in zip(qs, qvecs):
        t, c = time.perf_counter(), time.process_time()
        ps = ret.retrieve(q, 20, v)
        for p in ps[:3]:
            _ = idx.paragraphs[idx.row(p.doc, p.paragraph)].text  # what a reader then reads
        t_ret.append(time.perf_counter() - t)
        c_ret.append(time.process_time() - c)
    out["embed_cpu_p50_ms"] = 1000 * float(np.percentile(c_embed, 50))
    out["ret_cpu_p50_ms"] = 1000 * float(np.percentile(c_ret, 50))
    out["ret_cpu_p95_ms"] = 1000 * float(np.percentile(c_ret, 95))
    out["embed_p50_ms"] = 1000 * float(np.percentile(t_embed, 50))
    out["ret_p50_ms"] = 1000 * float(np.percentile(t_ret, 50))
    out["ret_p95_ms"] = 1000 * float(np.percentile(t_ret, 95))
    out["rss_query_mb"] = rss_mb()
    out["rss_anon_mb"] = rss_mb("RssAnon")
    seg = idx.store.segments[0]
    if seg.ann is None:
        out["recall10"] = None
    else:
        exact = st.NumpyStore(seg.vectors)
        hits = 0
        for v in qvecs[:n_recall]:
            got, _ = idx.vectors.search(v, 10)
            want, _ = exact.search(v, 10)
            hits += len(set(got.tolist()) & set(want.tolist()))
        out["recall10"] = hits / (10 * min(n_recall, len(qvecs)))
    out["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # one changed file, as a user makes it: a file of the folder edited, then `qa ask` (the
    # open from the folder: the stat scan finds it, its 10 paragraphs are embedded with the real
    # model into a new segment, its old rows become a tombstone, a new generation is written)
    indexer = Indexer(Config(), embedder=emb, notice=lambda m: None)
    first = idx.documents[0]
    path = corpus_dir / first.doc
    original = path.read_bytes()
    path.write_bytes(original.rstrip(b"\n") + b" Edited.\n")
    try:
        t, c = time.perf_counter(), time.process_time()
        new = indexer.open(corpus_dir, store)
        out["update_s"] = time.perf_counter() - t
        out["update_cpu_s"] = time.process_time() - c
        assert new.stats.embedded_files == 1, new.stats
        last = new.row(first.doc, len(first.paragraphs) - 1)
        assert new.paragraphs[last].text.endswith(" Edited."), new.paragraphs[last].text
    finally:
        path.write_bytes(original)  # and the store back in line with it, for the next run
        indexer.open(corpus_dir, store)
    out["segments_after_update"] = len(new.store.segments)
    return out


def real_recall(par_pool, sent_pool, n_queries: int) -> float:
    """HNSW recall@10 against exact search on the real MiniLM vectors alone (no noise): the
    graph qa writes (float16 codes) and, for comparison, the float32 one it wrote before."""
    import tempfile

    import faiss

    from qa import ann
    from qa import store as st
    from qa.embed import get_embedder
    real = np.concatenate([par_pool, sent_pool]).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    qs = [json.loads(x)["question"] for x in QUESTIONS.read_text().splitlines()[:n_queries]]
    emb = get_embedder(threads=1)
    qvecs = [emb.encode_query(q) for q in qs]
    exact = st.NumpyStore(real)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        ann.build(real, Path(tmp) / "a.faiss")
        flat = faiss.IndexHNSWFlat(real.shape[1], ann.HNSW_M, faiss.METRIC_INNER_PRODUCT)
        flat.hnsw.efConstruction = ann.EF_CONSTRUCTION
        flat.add(real)
        faiss.write_index(flat, str(Path(tmp) / "f.faiss"))
        for name, file in (("float16 codes (qa's)", "a.faiss"), ("float32 (IndexHNSWFlat)", "f.faiss")):
            graph = ann.HNSW(Path(tmp) / file)
            hits = sum(len(set(graph.search(v, 10)[0].tolist()) & set(exact.search(v, 10)[0].tolist()))
                       for v in qvecs)
            out[name] = hits / (10 * len(qs))
            size = (Path(tmp) / file).stat().st_size / 2**20
            print(f"HNSW recall@10 on {len(real):,} real MiniLM vectors (paragraphs and sentences), "
                  f"{len(qs)} questions, {name}: {out[name]:.3f} ({size:.1f} MiB)", flush=True)
    return out["float16 codes (qa's)"]


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--recall-queries", type=int, default=100)
    ap.add_argument("--real", type=int, default=3000, help="train paragraphs embedded for real")
    ap.add_argument("--work", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "qa-scale"))
    ap.add_argument("--rebuild", action="store_true", help="build the stores again")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(Path(a.child), Path(a.corpus), a.queries, a.recall_queries)))
        return
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    paras = train_paragraphs()
    par_pool, sent_pool = real_vectors(work, paras, a.real)
    real_recall(par_pool, sent_pool, a.queries)
    rows = []
    for n in [int(x) for x in a.sizes.split(",") if x]:
        store, corpus = work / f"store-{n}", work / f"corpus-{n}"
        built = None
        if a.rebuild or not (store / "CURRENT").exists() or not corpus.is_dir():
            import shutil
            shutil.rmtree(store, ignore_errors=True)
            shutil.rmtree(corpus, ignore_errors=True)
            built = build(store, corpus, n, paras, par_pool, sent_pool, work)
        disk = disk_mb(store)
        res = subprocess.run([sys.executable, __file__, "--child", str(store), "--corpus", str(corpus), "--queries", str(a.queries),
                              "--recall-queries", str(a.recall_queries)],
                             capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1", QA_THREADS="1",
                                                                      OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1"))
        if res.returncode:
            sys.exit(f"size {n}: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        r.update(n=n, disk_mb=disk, build_s=built)
        rows.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; wall (CPU) times, "
          "one thread: CPU time is what an idle core would take")
    print("| paragraphs | build s | store open s | open from the folder s: hashing / stat cache "
          "| RSS open / after queries (of it anonymous) MB | disk MB | hybrid p50 / p95 ms "
          "| question embedding p50 ms | ANN recall@10 | one-file update s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        rec = "exact" if r["recall10"] is None else f"{r['recall10']:.3f}"
        b = "-" if r["build_s"] is None else f"{r['build_s']:.0f}"
        print(f"| {r['n']:,} | {b} | {r['open_s']:.2f} ({r['open_cpu_s']:.2f}) "
              f"| {r['corpus_open_hash_s']:.2f} / {r['corpus_open_stat_s']:.2f} "
              f"| {r['rss_open_mb']:.0f} / {r['rss_query_mb']:.0f} ({r['rss_anon_mb']:.0f}) | {r['disk_mb']:,.0f} "
              f"| {r['ret_p50_ms']:.1f} / {r['ret_p95_ms']:.1f} ({r['ret_cpu_p50_ms']:.1f} / {r['ret_cpu_p95_ms']:.1f}) "
              f"| {r['embed_p50_ms']:.1f} ({r['embed_cpu_p50_ms']:.1f}) | {rec} "
              f"| {r['update_s']:.2f} ({r['update_cpu_s']:.2f}) |")


if __name__ == "__main__":
    main()
