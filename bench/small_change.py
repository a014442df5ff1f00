"""A small change to a large folder: how long `qa index` takes after one file gains a paragraph,
next to `import torch` (issue 22), and after no change at all.

    python bench/small_change.py [--runs 3] [--folder ~/.cache/qa/bench/squad-train]

The folder is SQuAD v1.1 train written as one text file per article (442 files, 18,896
paragraphs; `../shared/train`, CC BY-SA 4.0), indexed once first (not timed here: about 15
minutes on 2 cores; it is reused by later runs). Each timed run appends a new paragraph to one
file, then runs a fresh `python -m qa index` over the folder; the three commands are
interleaved so that a busy machine slows them alike. Prints min / median / max wall seconds and
what `qa index` said it did.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "train" / "squad-v1.1-train.json.gz"


def write_folder(folder: Path) -> int:
    data = json.load(gzip.open(TRAIN, "rt", encoding="utf-8"))["data"]
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for i, art in enumerate(data):
        title = art["title"].replace("_", " ")
        paras = [" ".join(p["context"].split()) for p in art["paragraphs"]]
        n += len(paras)
        name = f"{i:03d}_{re.sub(r'[^A-Za-z0-9]+', '_', title)[:40]}.txt"
        (folder / name).write_text(f"title {title}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")
    return n


def run(cmd: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - t, (p.stdout + p.stderr).strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--folder", type=Path, default=Path.home() / ".cache" / "qa" / "bench" / "squad-train")
    args = ap.parse_args()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    folder = args.folder.expanduser()
    if not any(folder.glob("*.txt")):
        print(f"writing {write_folder(folder):,} paragraphs to {folder}", flush=True)
    index = [sys.executable, "-m", "qa", "index", "--corpus", str(folder)]
    t, out = run(index, env)  # the first index, or bringing it up to date: not timed
    print(f"first `qa index` (build or update, not in the table): {t:.0f} s\n  {out.splitlines()[-2:]}", flush=True)
    target = sorted(folder.glob("*.txt"))[7]
    commands = {
        "qa index, one file gained a paragraph": index,
        "qa index, nothing changed": index,
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    said: list[str] = []
    for r in range(args.runs):
        for name, cmd in commands.items():
            if name.startswith("qa index, one file"):
                with open(target, "a", encoding="utf-8") as f:
                    f.write(f"\nA paragraph added for run {r} at {time.time():.0f}: the keeper of the archive "
                            "moved the records to the new hall.\n")
            t, out = run(cmd, env)
            times[name].append(t)
            if name.startswith("qa index, one file"):
                said.append(next((line for line in out.splitlines() if line.startswith("embedded")), out[-200:]))
    print(f"\n{args.runs} runs each, interleaved (load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'command':40s} {'min':>7s} {'median':>7s} {'max':>7s}")
    for name, ts in times.items():
        print(f"{name:40s} {min(ts):7.2f} {statistics.median(ts):7.2f} {max(ts):7.2f}")
    print("\nwhat qa index said after the change:", *sorted(set(said)), sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
