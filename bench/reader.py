"""What the trained reader reads, and which quote it leads with: EM and milliseconds for 1, 2 or 3
whole passages against windows (a sentence and its neighbours) around the best sentences, and
the first quote for each weight of the span model against the sentence score (`w_span`).

    python bench/reader.py [--limit 500] [--reads p1,p2,p3,w2,w3,w4,w2@0.1] [--w-span 0,0.5,1,2,4,8,1000]

`pN`: N whole passages; `wN`: up to N windows; `wN@G`: the windows after the first only around
sentences scored within G of the best (`Config.reader_window_gap`; without @: no limit).

Over ../shared/eval/squad-v1.1, answerable questions, the pipeline's own retrieval (top 5).
Each question is retrieved and its sentences scored once; each way of reading runs the span
model once; each `w_span` only re-chooses the lead (no model pass). `w_span` is chosen on the
even-numbered articles ("fit") and reported on the others ("apart"); the whole set is shown too.
Prints one table per way of reading, and the read stage's p50 beside the question embedding's.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import metrics as M  # noqa: E402
from qa.pipeline import QA  # noqa: E402
from qa.questions import load_questions  # noqa: E402
from qa.reader import ModelReader  # noqa: E402

DATA = ROOT.parent / "shared" / "eval" / "squad-v1.1"


def ways(spec: str) -> list[tuple[str, dict]]:
    out = []
    for w in spec.split(","):  # p2: two passages; w2: two windows; w3@0.1: up to three, within 0.1
        n, _, gap = w[1:].partition("@")
        out.append((w, {"reader_passages": int(n), "reader_windows": 0} if w[0] == "p" else
                    {"reader_windows": int(n), "reader_window_gap": float(gap or "inf")}))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--reads", default="p1,p2,p3,w2,w3,w4")
    ap.add_argument("--w-span", default="0,0.5,1,2,4,8,1000")
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    qa = QA(DATA / "corpus", reader="rules", notice=lambda m: None)
    every = [q for q in load_questions(DATA / "questions.jsonl")[0] if q.answers]
    qs = every[::max(1, len(every) // args.limit)][:args.limit]  # spread over the articles
    docs = sorted({q.doc for q in qs})
    fit = {d for i, d in enumerate(docs) if i % 2 == 0}
    w_values = [float(x) for x in args.w_span.split(",")]
    base = ModelReader(qa.index, qa.config)
    readers = {name: ModelReader(qa.index, replace(qa.config, **kw), spans=base.spans, scorer=base.scorer)
               for name, kw in ways(args.reads)}
    base.warm_up()
    prepared, embed_ms = [], []
    for q in qs:
        t0 = time.perf_counter()
        v = qa.index.embedder.encode_query(q.question)
        embed_ms.append(1000 * (time.perf_counter() - t0))
        passages = qa.retriever.retrieve(q.question, 2 * args.top_k, qvec=v)
        an = base.scorer.analyse(q.question, passages[:args.top_k], v)
        prepared.append((q, passages, an))
    print(f"{len(qs)} answerable squad-v1.1 questions ({len(fit)} of {len(docs)} articles to fit w_span); "
          f"question embedding p50 {M.percentile(embed_ms, 50):.1f} ms\n")
    for name, reader in readers.items():
        rows = {w: {"fit": [], "apart": []} for w in w_values}
        by_w = {w: ModelReader(qa.index, replace(reader.config, w_span=w), spans=base.spans, scorer=base.scorer,
                               model=base.model) for w in w_values}
        ms = []
        for q, passages, an in prepared:
            if an is None:
                continue
            top = passages[:args.top_k]
            t0 = time.perf_counter()
            pieces = reader.pieces(an, top)
            spans = reader.spans_of(q.question, pieces)
            reader.reading(an, pieces, spans, passages[args.top_k:])
            ms.append(1000 * (time.perf_counter() - t0))
            part = "fit" if q.doc in fit else "apart"
            for w, r in by_w.items():
                reading = r.reading(an, pieces, spans, passages[args.top_k:])
                first = reading.snippets[0].text if reading.snippets else ""
                short = qa.index.quoted(reading.short) if reading.short else ""
                rows[w][part].append((float(M.contains_answer(first, q.answers)),
                                      M.exact_match(short, q.answers), float(bool(short))))
        best_w = max(w_values, key=lambda w: sum(h for h, _, _ in rows[w]["fit"]))
        print(f"reads {name}: read stage p50 {M.percentile(ms, 50):.1f} ms, p95 {M.percentile(ms, 95):.1f} ms; "
              f"w_span chosen on the fit articles: {best_w:g}")
        print(f"  {'w_span':>8} {'first quote right (fit / apart / all)':>40} {'short EM (all)':>16} {'short given':>12}")
        for w in w_values:
            f, a = rows[w]["fit"], rows[w]["apart"]
            al = f + a
            mean = lambda xs, k: sum(x[k] for x in xs) / max(len(xs), 1)  # noqa: E731
            mark = " <" if w == best_w else ""
            print(f"  {w:>8g} {mean(f, 0):>18.3f} / {mean(a, 0):.3f} / {mean(al, 0):.3f} "
                  f"{mean(al, 1):>16.3f} {mean(al, 2):>12.3f}{mark}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
