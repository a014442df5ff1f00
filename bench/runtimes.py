"""The question path on onnxruntime against torch: the same vectors, the same answers?

    python bench/runtimes.py [--limit N] [--data ../shared/eval/squad-v1.1]

Asks every question twice over the same index: once with the question encoder and the reader
as exported graphs on onnxruntime (qa's default once the graphs exist), once with torch. Prints
the largest difference between the two question vectors, and how often the short answer, the
first quote and the abstention agree, as a table.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.pipeline import QA  # noqa: E402
from qa.questions import load_questions  # noqa: E402
from qa.reader import ModelReader  # noqa: E402
from qa.spans import SpanModel  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "eval" / "squad-v1.1"))
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    qs, _ = load_questions(Path(args.data) / "questions.jsonl")
    qs = qs[:args.limit] if args.limit else qs
    qa = QA(Path(args.data) / "corpus", notice=lambda m: None)
    emb = qa.index.embedder
    graph = emb.query_graph
    emb.model  # noqa: B018 - torch, for the comparison
    emb.prepare_question_path()
    torch_reader = ModelReader(qa.index, spans=SpanModel(runtime="torch"))
    graph_reader = ModelReader(qa.index, spans=SpanModel(runtime="auto"))
    out = {"vector": [], "short": 0, "quote": 0, "abstain": 0, "t_graph": [], "t_torch": []}
    for q in qs:
        v_graph = graph.encode(q.question)
        emb._query = False  # the torch path, for this question only
        v_torch = emb.encode_query(q.question)
        emb._query = graph
        out["vector"].append(float(np.abs(v_graph - v_torch).max()))
        answers = []
        for reader, key in ((graph_reader, "t_graph"), (torch_reader, "t_torch")):
            qa.reader = reader
            t = time.perf_counter()
            answers.append(qa.ask(q.question))
            out[key].append(time.perf_counter() - t)
        a, b = answers
        out["short"] += (a.short_answer == b.short_answer)
        out["quote"] += (bool(a.snippets) and bool(b.snippets) and a.snippets[0].citation == b.snippets[0].citation) \
            or (not a.snippets and not b.snippets)
        out["abstain"] += a.abstained == b.abstained
    n = len(qs)
    print(f"onnxruntime against torch, {n} questions of {Path(args.data).name}")
    print("| measure | value |\n|---|---|")
    print(f"| question vectors: largest difference | {max(out['vector']):.2e} |")
    print(f"| same short answer | {out['short'] / n:.4f} |")
    print(f"| same first quote | {out['quote'] / n:.4f} |")
    print(f"| same abstention | {out['abstain'] / n:.4f} |")
    print(f"| answer p50, graphs / torch (ms) | {np.median(out['t_graph']) * 1e3:.0f} / "
          f"{np.median(out['t_torch']) * 1e3:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
