"""`qa serve` latency: a question through HTTP against the same question asked in-process.

    python bench/serve.py [--rounds 3] [--clients 1,2,4]

Serves the seeds (their store in a temp folder, built first) with the real app under uvicorn on
a free loopback port, then asks the 50 seed questions `--rounds` times: in-process
(`QA.ask`), over HTTP one at a time, and over HTTP from several clients at once. Prints p50 /
p95 per question and questions per second.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.config import SEEDS_DIR, Config  # noqa: E402
from qa.serve import Service, create_app  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", default="1,2,4")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = [json.loads(line)["question"] for line in open(ROOT / "seeds" / "questions.jsonl", encoding="utf-8")]
    store = Path(tempfile.mkdtemp(prefix="qa-serve-bench-"))
    service = Service(SEEDS_DIR, store, Config(), watch=False).start()
    service.wait_ready()
    qa = service.current()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/api/ask"
    for q in questions[:5]:  # warm both paths
        qa.ask(q)
        httpx.post(url, json={"question": q}, timeout=60)

    rows = []
    t = []
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        for q in questions:
            a = time.perf_counter()
            qa.ask(q)
            t.append(time.perf_counter() - a)
    rows.append(("in-process QA.ask", 1, t, len(t) / (time.perf_counter() - t0)))

    for n in (int(x) for x in args.clients.split(",")):
        times: list[float] = []
        lock = threading.Lock()

        def one(q: str, client: httpx.Client) -> None:
            a = time.perf_counter()
            r = client.post(url, json={"question": q}, timeout=60)
            r.raise_for_status()
            with lock:
                times.append(time.perf_counter() - a)

        clients = [httpx.Client() for _ in range(n)]
        work = [q for _ in range(args.rounds) for q in questions]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda iq: one(iq[1], clients[iq[0] % n]), enumerate(work)))
        rows.append((f"HTTP POST /api/ask, {n} client{'s' if n > 1 else ''}", n, times,
                     len(times) / (time.perf_counter() - t0)))
        for c in clients:
            c.close()
    server.should_exit = True
    service.stop()
    print(f"qa serve over the seeds, {len(questions)} questions x {args.rounds} rounds "
          f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'path':34s} {'p50 ms':>8s} {'p95 ms':>8s} {'questions/s':>12s}")
    for name, _, ts, qps in rows:
        print(f"{name:34s} {1000 * statistics.median(ts):8.1f} {1000 * pct(ts, 0.95):8.1f} {qps:12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
