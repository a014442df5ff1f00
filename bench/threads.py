"""Per-question latency by torch thread count, quiet or under load: what QA_THREADS should default to.

    python bench/threads.py [--load N] [--questions 40]

Each thread count runs in its own process over the seeds (store built on first use): p50/p95 of
the question embedding alone and of a whole answer (retrieval + the default reader). --load N
starts N busy-looping processes for the duration (the "any other CPU load" a user's machine has);
the machine's own load average is printed too.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from qa.pipeline import QA
from qa.questions import load_questions
from qa.metrics import percentile
qs = [q.question for q in load_questions(sys.argv[2])[0]][:int(sys.argv[3])]
qa = QA()
emb = qa.index.embedder
qa.ask(qs[0]); emb.encode_query(qs[0])  # warm: models loaded, caches filled
e, a = [], []
for q in qs:
    t0 = time.perf_counter(); emb.encode_query(q); e.append(1000 * (time.perf_counter() - t0))
    t0 = time.perf_counter(); qa.ask(q); a.append(1000 * (time.perf_counter() - t0))
import torch
print(json.dumps({"threads": torch.get_num_threads(), "embed": [percentile(e, 50), percentile(e, 95)],
                  "answer": [percentile(a, 50), percentile(a, 95)]}))
"""


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--load", type=int, default=0, help="busy processes running meanwhile")
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument("--threads", default="1,2", help="thread counts to compare (0: torch's default)")
    args = ap.parse_args()
    stop = mp.Event()
    spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.load)]
    for p in spinners:
        p.start()
    rows = []
    try:
        for n in [int(x) for x in args.threads.split(",")]:
            env = {**os.environ, "QA_THREADS": str(n), "HF_HUB_OFFLINE": "1"}
            out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(ROOT / "seeds" / "questions.jsonl"),
                                  str(args.questions)], env=env, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((n, r))
    finally:
        stop.set()
        for p in spinners:
            p.join()
    print(f"{os.cpu_count()} cores, {args.load} busy processes added, load average {os.getloadavg()[0]:.1f}, "
          f"{args.questions} seed questions")
    print(f"{'QA_THREADS':>10} {'torch threads':>13} {'embed p50':>10} {'embed p95':>10} {'answer p50':>11} {'answer p95':>11}")
    for n, r in rows:
        print(f"{n:>10} {r['threads']:>13} {r['embed'][0]:>8.1f}ms {r['embed'][1]:>8.1f}ms "
              f"{r['answer'][0]:>9.0f}ms {r['answer'][1]:>9.0f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
