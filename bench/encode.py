"""Indexing speed on CPU by backend, and what each does to retrieval: is a faster encoder worth it?

    python bench/encode.py [--paragraphs N] [--questions N] [--backends torch,onnx,onnx-int8]
    python bench/encode.py --build      # a fresh store, sentences split ahead of the encoder or not

Speed: paragraphs/s over squad-v1.1's paragraphs (title + text, as indexed) for plain
sentence-transformers `model.encode` (its defaults) and qa's Embedder on each backend, in
interleaved rounds (best of 2), with the cosine of each backend's vectors to plain's. Quality:
a fresh store per backend (paragraph + in-context sentence vectors) and hybrid retrieval on
squad-v1.1 (recall@1/5, MRR). The onnx backends need `pip install 'qa[onnx]'`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.config import Config  # noqa: E402
from qa.corpus import read_corpus  # noqa: E402
from qa.embed import Embedder, batch_threads  # noqa: E402
from qa.evaluate import run, summarize  # noqa: E402
from qa.document import passage_text  # noqa: E402
from qa.indexer import Indexer  # noqa: E402
from qa.pipeline import QA  # noqa: E402
from qa.questions import load_questions  # noqa: E402

V11 = ROOT.parent / "shared" / "eval" / "squad-v1.1"


def speed(texts: list[str], backends: list[str], rounds: int = 2) -> dict:
    import numpy as np
    embedders = {b: Embedder(backend=b) for b in backends}
    for e in embedders.values():
        e.encode_documents(texts[:8])  # load, export once, warm up
    plain_model = embedders[backends[0]].model
    times: dict[str, list[float]] = {}
    vecs = {}
    for _ in range(rounds):
        t0 = time.perf_counter()
        with batch_threads(0):
            vecs["plain"] = plain_model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        times.setdefault("plain", []).append(time.perf_counter() - t0)
        for b, e in embedders.items():
            t0 = time.perf_counter()
            vecs[b] = e.encode_documents(texts)
            times.setdefault(b, []).append(time.perf_counter() - t0)
    out = {}
    for name, ts in times.items():
        cos = (vecs[name] * vecs["plain"]).sum(1)
        out[name] = {"paragraphs/s": len(texts) / min(ts), "x plain": min(times["plain"]) / min(ts),
                     "cos mean": float(np.mean(cos)), "cos min": float(np.min(cos))}
    return out


def quality(backends: list[str], n_questions: int | None) -> dict:
    qs, _ = load_questions(V11 / "questions.jsonl")
    qs = qs[:n_questions] if n_questions else qs
    out = {}
    for b in backends:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Config.from_env(backend=b)
            t0 = time.perf_counter()
            idx = Indexer(cfg, notice=lambda m: None).open(V11 / "corpus", Path(tmp) / "store")
            build = time.perf_counter() - t0
            qa = QA(V11 / "corpus", Path(tmp) / "store", cfg, retriever="hybrid", reader="baseline",
                    notice=lambda m: None)
            s = summarize(run(qs, qa, 5))
            out[b] = {"build s": build, "build par/s": len(idx.paragraphs) / build,
                      "recall@1": s["recall@1"], "recall@5": s["recall@5"], "mrr": s["mrr"],
                      "questions": s["questions"]}
    return out


def build_speed(rounds: int = 2) -> dict:
    """A fresh store of squad-v1.1 (model loaded beforehand, so not timed), with sentence
    splitting one piece ahead of the encoder (qa.indexer.SPLIT_AHEAD) and without (one piece:
    split everything, then encode), in interleaved rounds, best of `rounds`."""
    import qa.indexer as index_mod
    cfg = Config.from_env()
    emb = Embedder(threads=cfg.threads, batch_size=cfg.batch_size, backend=cfg.backend)
    emb.encode_documents(["warm up"])
    ahead = index_mod.SPLIT_AHEAD
    times: dict[str, list[float]] = {}
    n = 0
    for _ in range(rounds):
        for name, piece in (("split ahead", ahead), ("split first", 10**9)):
            index_mod.SPLIT_AHEAD = piece
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                idx = index_mod.Indexer(cfg, embedder=emb, notice=lambda m: None).open(
                    V11 / "corpus", Path(tmp) / "store")
                times.setdefault(name, []).append(time.perf_counter() - t0)
                n = len(idx.paragraphs)
    index_mod.SPLIT_AHEAD = ahead
    return {name: {"build s": min(ts), "paragraphs/s": n / min(ts)} for name, ts in times.items()}


def table(rows: dict[str, dict], title: str) -> str:
    keys = list(next(iter(rows.values())))
    lines = [title, f"{'':12}" + "".join(f"{k:>14}" for k in keys)]
    for name, r in rows.items():
        lines.append(f"{name:12}" + "".join(f"{r[k]:>14.4g}" if isinstance(r[k], float) else f"{r[k]:>14}"
                                            for k in keys))
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paragraphs", type=int, default=400)
    ap.add_argument("--questions", type=int, default=None, help="squad-v1.1 questions (default all)")
    ap.add_argument("--backends", default="torch,onnx,onnx-int8")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--build", action="store_true", help="only the fresh-store build, splitting ahead or not")
    args = ap.parse_args()
    if args.build:
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
        print(table(build_speed(), "Fresh squad-v1.1 store (829 paragraphs), model loaded beforehand"))
        return 0
    backends = args.backends.split(",")
    docs = read_corpus(V11 / "corpus").documents
    texts = [passage_text(d.title, p.text, True) for d in docs for p in d.paragraphs][:args.paragraphs]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {len(texts)} squad-v1.1 paragraphs\n")
    print(table(speed(texts, backends), "Encoding speed (best of 2 rounds; cosine to plain model.encode)"))
    if not args.skip_quality:
        print(table(quality(backends, args.questions), "Fresh store per backend, hybrid retrieval on squad-v1.1"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
