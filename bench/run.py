"""The benchmark: retrieval, indexing speed and answer quality in one run, printed as tables.

    python bench/run.py [--quick] [--skip-indexing] [--answerers reader,rules,baseline]

Uses `qa eval`'s own runner (qa.evaluate) over ../shared/eval/squad-v1.1, squad-v2.0,
seeds/questions.jsonl and the five technical sets, bench/tech (uv's docs), bench/cargo (the
Cargo book), bench/rustup (the rustup book), bench/rbe (Rust by Example) and bench/clibook
(Command Line Applications in Rust). Stores live in the user cache (built on first run); the indexing
figures come from a fresh build in a temporary folder. --quick: 500 questions a set.

The confidence models are fitted on the even-numbered SQuAD v2.0 articles
(bench/fit_confidence.py); squad-v1.1 is also reported on the articles kept apart from that
fit ("v1.1 apart"), which is where abstention is measured honestly.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.pipeline import QA  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.corpus import read_corpus  # noqa: E402
from qa.evaluate import format_table, run, summarize  # noqa: E402
from qa.document import passage_text  # noqa: E402
from qa.indexer import Indexer  # noqa: E402
from qa.metrics import percentile  # noqa: E402
from qa.questions import load_questions  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"


def fitting_articles() -> set[str]:
    """The v2.0 articles the confidence models were fitted on (even positions, sorted by name)."""
    docs = sorted(p.name for p in (EVAL / "squad-v2.0" / "corpus").glob("*.txt"))
    return {d for i, d in enumerate(docs) if i % 2 == 0}


def machine() -> str:
    import torch
    return (f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
            f"Python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads)")


def indexing(corpus: Path) -> dict:
    """Paragraphs/s: plain `model.encode` (defaults) vs our batching, and a full fresh index build."""
    cfg = Config()
    docs = read_corpus(corpus).documents
    texts = [passage_text(d.title, p.text, cfg.title_in_text) for d in docs for p in d.paragraphs]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        idx = Indexer(cfg, notice=lambda m: None).open(corpus, Path(tmp) / "store")
        build = time.perf_counter() - t0
    model = idx.embedder.model
    t0 = time.perf_counter()
    model.encode(texts, show_progress_bar=False)
    plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx.embedder.encode_documents(texts)
    ours = time.perf_counter() - t0
    return {
        "paragraphs": len(texts), "sentences": idx.stats.embedded_sentences,
        "plain_pps": len(texts) / plain, "ours_pps": len(texts) / ours,
        "build_s": build, "build_pps": len(texts) / build,
    }


def retrieval_latency(qa: QA, questions, n: int = 300) -> dict:
    lat, emb = [], []
    for q in questions[:n]:
        t0 = time.perf_counter()
        v = qa.index.embedder.encode_query(q.question)
        t1 = time.perf_counter()
        qa.retriever.retrieve(q.question, 20, qvec=v)
        lat.append(time.perf_counter() - t0)
        emb.append(t1 - t0)
    return {"p50": 1000 * percentile(lat, 50), "p95": 1000 * percentile(lat, 95),
            "embed_p50": 1000 * percentile(emb, 50)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="500 questions a set")
    ap.add_argument("--skip-indexing", action="store_true", help="leave out the indexing table")
    ap.add_argument("--answerers", default="baseline,rules,reader")
    ap.add_argument("--sets", default="squad-v1.1,squad-v2.0,seeds,tech,cargo,rustup,rbe,clibook")
    args = ap.parse_args()
    answerers = args.answerers.split(",")
    limit = 500 if args.quick else None
    print(f"machine: {machine()}\n")

    v11 = EVAL / "squad-v1.1"
    q11, _ = load_questions(v11 / "questions.jsonl")
    q11 = q11[:limit] if limit else q11

    index_and_retrieval(v11, q11, not args.skip_indexing)
    answers(limit, answerers, args.sets.split(","))
    return 0


def index_and_retrieval(v11: Path, q11, with_indexing: bool = True) -> None:
    if with_indexing:
        indexing_table(v11)
    retrieval_table(v11, q11)


def indexing_table(v11: Path) -> None:
    # 1. indexing speed
    ix = indexing(v11 / "corpus")
    print("Indexing squad-v1.1 (829 paragraphs of ~150 words)")
    print(f"  plain model.encode (batch 32)       {ix['plain_pps']:6.1f} paragraphs/s")
    print(f"  qa Embedder.encode_documents        {ix['ours_pps']:6.1f} paragraphs/s")
    print(f"  full fresh index (paragraphs + {ix['sentences']} sentences, BM25 lazily): "
          f"{ix['build_s']:.1f} s = {ix['build_pps']:.1f} paragraphs/s")
    print()


def retrieval_table(v11: Path, q11) -> None:
    # 2. retrieval: three retrievers, one run
    cols, lat = {}, {}
    for mode in ("bm25", "dense", "hybrid"):
        qa = QA(v11 / "corpus", retriever=mode, reader="baseline", notice=lambda m: None)
        recs = run(q11, qa, 5)
        cols[mode] = summarize(recs)
        lat[mode] = retrieval_latency(qa, q11)
    print(format_table({m: {k: cols[m][k] for k in ("questions", "recall@1", "recall@5", "recall@20", "mrr")}
                        for m in cols}, f"Retrieval, squad-v1.1 ({len(q11)} questions)"))
    for m, v in lat.items():
        print(f"  {m:7s} query latency (embed + retrieve top-20): p50 {v['p50']:.1f} ms, p95 {v['p95']:.1f} ms"
              f" (embed alone p50 {v['embed_p50']:.1f} ms)")
    print()


def answers(limit: int | None, answerers: list[str], only: list[str]) -> None:
    """3. answers: the trained reader, the rules reader and the baseline, on each set."""
    apart = fitting_articles()
    sets = [("squad-v1.1", EVAL / "squad-v1.1" / "questions.jsonl"),
            ("squad-v2.0", EVAL / "squad-v2.0" / "questions.jsonl"),
            ("seeds", ROOT / "seeds" / "questions.jsonl"),
            ("tech", ROOT / "bench" / "tech" / "questions.jsonl"),  # uv's docs: code, Markdown
            ("cargo", ROOT / "bench" / "cargo" / "questions.jsonl"),  # the Cargo book (mdBook), written blind
            ("rustup", ROOT / "bench" / "rustup" / "questions.jsonl"),  # the rustup book, written blind
            ("rbe", ROOT / "bench" / "rbe" / "questions.jsonl"),  # Rust by Example, written blind
            ("clibook", ROOT / "bench" / "clibook" / "questions.jsonl")]  # the Rust CLI book: no rule read it
    sets = [s for s in sets if s[0] in only]
    keys = ["questions", "hit@1", "hit@3", "answered_hit@1", "em", "f1", "has_answer_em", "has_answer_f1",
            "short_rate", "short_em", "no_answer_acc", "answered_rate", "abstain_precision", "latency_p50_ms",
            "latency_p95_ms", "embed_p50_ms"]
    for name, path in sets:
        qs, _ = load_questions(path)
        qs = qs[:limit] if limit else qs
        corpus = path.parent / "corpus" if (path.parent / "corpus").is_dir() else path.parent
        table, runs = {}, {}
        for answerer in answerers:
            qa = QA(corpus, reader=answerer, notice=lambda m: None)
            recs = run(qs, qa, 5)
            runs[answerer] = recs
            table[answerer] = summarize(recs)
            if name == "squad-v1.1":
                table[f"{answerer} (apart)"] = summarize([r for r in recs if r["gold"][0] not in apart])
        print(format_table({a: {k: v.get(k) for k in keys} for a, v in table.items()},
                           f"Answers, {name} ({len(qs)} questions): baseline = best sentence by cosine "
                           f"in the top paragraph; (apart) = articles kept apart from the confidence fit"))
        for a in answerers:
            s = table[a]
            print(f"  {a}: p50 answer latency / p50 query-embed time = "
                  f"{s['latency_p50_ms'] / s['embed_p50_ms']:.2f}x")
            print(f"  {a}: {calibration(runs[a])}")
        print()


def calibration(recs: list[dict]) -> str:
    """Confidence against how often the first quote is right (an unanswerable question: never),
    in five bins, and the expected calibration error over them."""
    bins = [[] for _ in range(5)]
    for r in recs:
        right = 0.0 if r["is_impossible"] else float(r["hit@1"])
        bins[min(int(r["confidence"] * 5), 4)].append((r["confidence"], right))
    parts, ece = [], 0.0
    for i, b in enumerate(bins):
        if b:
            conf, acc = sum(c for c, _ in b) / len(b), sum(a for _, a in b) / len(b)
            ece += len(b) / len(recs) * abs(conf - acc)
            parts.append(f"{i / 5:.1f}-{(i + 1) / 5:.1f}: n={len(b)} right {acc:.2f}")
    return f"calibration ECE {ece:.3f} ({'; '.join(parts)})"


if __name__ == "__main__":
    sys.exit(main())
