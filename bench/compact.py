"""float16 against float32 vectors, and sentence search on or off, on SQuAD v1.1 retrieval.

    python bench/compact.py STORE [--f32 OLD_STORE] [--limit N]

STORE is a format-4 store of ../shared/eval/squad-v1.1/corpus (e.g. built by `qa eval
... --store STORE`); OLD_STORE a format-3 store of the same corpus (float32 .npy files), whose
vectors replace the float16 ones row for row (same documents in the same order, checked), so
that only the precision differs. Prints Recall@1/5/20 and MRR@20 of the hybrid and dense
retrievers for each variant.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = ROOT.parent / "shared" / "eval" / "squad-v1.1" / "questions.jsonl"


def recall(idx, retriever, qs, qvecs) -> dict:
    ranks = []
    for q, v in zip(qs, qvecs):
        got = [(p.doc, p.paragraph) for p in retriever.retrieve(q["question"], 20, v)]
        gold = (q["doc"], q["paragraph"])
        ranks.append(got.index(gold) + 1 if gold in got else None)
    n = len(ranks)
    r = lambda k: sum(1 for x in ranks if x is not None and x <= k) / n  # noqa: E731
    return {"R@1": r(1), "R@5": r(5), "R@20": r(20), "MRR": sum(1 / x for x in ranks if x) / n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--f32")
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    from qa import store as st
    from qa.config import Config
    from qa.index import Index
    from qa.retrieve import DenseRetriever, HybridRetriever
    idx = Index.from_store(a.store, Config())
    qs = [json.loads(x) for x in QUESTIONS.read_text().splitlines()]
    if a.limit:
        qs = qs[:a.limit]
    qvecs = [idx.embedder.encode_query(q["question"]) for q in qs]
    variants = {"float16 (stored)": idx.vectors}
    rows = {}
    if a.f32:
        old = Path(a.f32)
        gen = old / (old / "CURRENT").read_text().strip()
        docs = json.loads((gen / "documents.json").read_text())
        assert [d["doc"] for d in docs] == [d.doc for d in idx.documents], "other documents or order"
        v32 = np.load(gen / "vectors.npy")
        s32 = np.load(gen / "sentences.npy")
        assert v32.shape == (len(idx.paragraphs), idx.vectors.get([0]).shape[1])
        assert len(s32) == len(idx.sentence_spans)
        print(f"max |float16 - float32| per component: paragraphs "
              f"{np.abs(idx.vectors.vectors - v32).max():.2e}, sentences "
              f"{np.abs(idx.sentence_vectors.vectors - s32).max():.2e}")
        f16 = (idx.vectors, idx.sentence_vectors)
        f32 = (st.SegmentedVectors([(v32, None)]), st.SegmentedVectors([(s32, None)]))
        for name, (pv, sv) in (("float32", f32), ("float16", f16)):
            idx.vectors, idx.sentence_vectors = pv, sv
            for search in (True, False):
                idx.sentence_search = search
                for rname, cls in (("hybrid", HybridRetriever), ("dense", DenseRetriever)):
                    rows[(name, search, rname)] = recall(idx, cls(idx), qs, qvecs)
    else:
        for search in (True, False):
            idx.sentence_search = search
            for rname, cls in (("hybrid", HybridRetriever), ("dense", DenseRetriever)):
                rows[("float16", search, rname)] = recall(idx, cls(idx), qs, qvecs)
    print(f"{len(qs)} questions, {len(idx.paragraphs)} paragraphs")
    print("| vectors | sentence search | retriever | R@1 | R@5 | R@20 | MRR@20 |")
    print("|---|---|---|---|---|---|---|")
    for (name, search, rname), m in rows.items():
        print(f"| {name} | {'on' if search else 'off'} | {rname} | {m['R@1']:.3f} | {m['R@5']:.3f} "
              f"| {m['R@20']:.3f} | {m['MRR']:.3f} |")


if __name__ == "__main__":
    main()
