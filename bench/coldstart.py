"""Cold start: how long a fresh `qa ask` takes over an indexed corpus, next to `import torch`.

    python bench/coldstart.py [--runs 5] [--question "Who did Shoigu meet in Pyongyang?"]

Prints a table (min / median / max wall seconds over --runs fresh processes, the two commands
interleaved so that a busy machine slows both alike), which heavy modules a fresh answer
imports, and `python -X importtime`'s ten slowest imports of one `qa ask`. The seeds are
indexed first (not timed), so every timed run only opens the store and answers.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers", "transformers", "spacy", "sklearn", "pandas", "onnxruntime",
         "tokenizers")


def timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--question", default="Who did Shoigu meet in Pyongyang?")
    args = ap.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    ask = [sys.executable, "-m", "qa", "ask", args.question]
    subprocess.run(ask, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    commands = {"qa ask (fresh process)": ask, "python -c 'import torch'": [sys.executable, "-c", "import torch"]}
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(timed(cmd, env))
    print(f"Cold start, {args.runs} runs each, interleaved (load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'command':32s} {'min':>7s} {'median':>7s} {'max':>7s}")
    for name, ts in times.items():
        print(f"{name:32s} {min(ts):7.2f} {statistics.median(ts):7.2f} {max(ts):7.2f}")
    probe = ("import sys, qa; qa.answer(%r); print(','.join(m for m in %r if m in sys.modules))"
             % (args.question, HEAVY))
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    print(f"\nheavy modules a fresh qa.answer() imports: {out.stdout.strip().splitlines()[-1:] or ['?']}")
    trace = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "ask", args.question], cwd=ROOT,
                           env=env, capture_output=True, text=True).stderr
    rows = []
    for line in trace.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    print("\nslowest imports of one qa ask (cumulative, top level first):")
    for cum, depth, name in sorted((r for r in rows if r[1] <= 3), reverse=True)[:10]:
        print(f"  {cum / 1e6:6.2f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
