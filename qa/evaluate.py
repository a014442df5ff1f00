"""`qa eval`: run a question set through the pipeline and score it with standard metrics.

No screen of its own: progress and notices go to the callbacks the caller passes (`qa eval`
passes qa/ui.py's bar and notice line); without them, notices go to the `qa.evaluate` logger.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from . import metrics as M
from .config import Config, cache_dir
from .errors import QAError
from .questions import Question, load_questions
from .types import Progress

RETRIEVE_K = 20
log = logging.getLogger(__name__)
Count = Callable[[int, int], None]  # progress(done, total) over the questions
# metric name -> (label, format); the order is the table's
METRICS = [
    ("questions", "questions", "{:.0f}"),
    ("recall@1", "Recall@1 (gold paragraph)", "{:.3f}"),
    ("recall@5", "Recall@5", "{:.3f}"),
    ("recall@20", "Recall@20", "{:.3f}"),
    ("mrr", "MRR@20", "{:.3f}"),
    ("hit@1", "snippet hit@1", "{:.3f}"),
    ("hit@3", "snippet hit@3", "{:.3f}"),
    ("answered_hit@1", "hit@1, not abstained", "{:.3f}"),
    ("em", "EM (all)", "{:.3f}"),
    ("f1", "F1 (all)", "{:.3f}"),
    ("has_answer_em", "EM has-answer", "{:.3f}"),
    ("has_answer_f1", "F1 has-answer", "{:.3f}"),
    ("short_rate", "short answer given", "{:.3f}"),
    ("short_em", "EM where short given", "{:.3f}"),
    ("no_answer_acc", "no-answer: abstained", "{:.3f}"),
    ("answered_rate", "has-answer: answered", "{:.3f}"),
    ("abstain_precision", "abstention precision", "{:.3f}"),
    ("abstain_recall", "abstention recall", "{:.3f}"),
    ("latency_p50_ms", "latency p50 (ms)", "{:.1f}"),
    ("latency_p95_ms", "latency p95 (ms)", "{:.1f}"),
    ("embed_p50_ms", "query embed p50 (ms)", "{:.1f}"),
    ("index_s", "index open/build (s)", "{:.1f}"),
]


def resolve_corpus(qpath: Path, files: dict[str, str] | None, corpus: str | None) -> Path:
    """--corpus, else a SQuAD file's own contexts, else `corpus/` beside the questions, else their folder."""
    if corpus:
        return Path(corpus)
    if files is not None:
        key = hashlib.sha1(json.dumps(files, sort_keys=True).encode()).hexdigest()[:12]
        root = cache_dir() / "squad-corpora" / f"{qpath.stem}-{key}"
        if not root.exists():
            tmp = root.with_name(root.name + f".tmp{os.getpid()}")
            tmp.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (tmp / name).write_text(text, encoding="utf-8")
            try:
                os.rename(tmp, root)
            except OSError:  # another run made it first
                import shutil
                shutil.rmtree(tmp, ignore_errors=True)
        return root
    beside = qpath.parent / "corpus"
    return beside if beside.is_dir() else qpath.parent


def score_question(q: Question, ans, retrieve_k: int = RETRIEVE_K) -> dict:
    """One per-question record: what qa said, where it looked, and its scores."""
    ranked = [(p.doc, p.paragraph) for p in ans.passages[:retrieve_k]]
    rec = {
        "id": q.id, "question": q.question, "answers": list(q.answers), "is_impossible": q.is_impossible,
        "gold": [q.gold_docs[0], q.paragraph] if q.gold_docs else None,
        "text": ans.text, "abstained": ans.abstained, "confidence": round(ans.confidence, 4),
        "short": ans.short_answer is not None,
        "snippets": [{"text": s.text, "doc": s.doc, "paragraph": s.paragraph} for s in ans.snippets[:3]],
        "looked_at": [list(k) for k in ranked[:5]],
        "latency_ms": ans.timings.get("total", 0.0) * 1000,
        "embed_ms": ans.timings.get("embed", 0.0) * 1000,
    }
    if q.gold_docs:
        if q.paragraph is not None and not q.docs:
            keys, golds = ranked, {(q.doc, q.paragraph)}
        else:  # documents: any of them counts
            keys, golds = list(dict.fromkeys(d for d, _ in ranked)), set(q.gold_docs)
        first = next((i for i, key in enumerate(keys) if key in golds), None)
        rec["rank"] = None if first is None else first + 1
        for k in (1, 5, 20):
            rec[f"recall@{k}"] = float(first is not None and first < k)
        rec["rr"] = 0.0 if first is None else 1.0 / (first + 1)
    pred = "" if ans.abstained else ans.text
    golds = list(q.answers)
    rec["em"] = M.exact_match(pred, golds)
    rec["f1"] = M.f1(pred, golds)
    snips = [s.text for s in ans.snippets]
    rec["hit@1"] = float(bool(golds) and bool(snips) and M.contains_answer(snips[0], golds))
    rec["answered_hit@1"] = rec["hit@1"] if not ans.abstained else 0.0
    rec["hit@3"] = float(bool(golds) and any(M.contains_answer(s, golds) for s in snips[:3]))
    return rec


def summarize(records: list[dict], index_s: float = 0.0) -> dict:
    def mean(xs):
        xs = list(xs)
        return sum(xs) / len(xs) if xs else 0.0
    has = [r for r in records if r["answers"]]
    no = [r for r in records if not r["answers"]]
    with_gold = [r for r in records if "rank" in r]
    ab = M.abstention_stats([r["abstained"] for r in records], [not r["answers"] for r in records])
    shorts = [r for r in has if r["short"] and not r["abstained"]]
    out = {
        "questions": len(records),
        "has_answer": len(has), "no_answer": len(no),
        "recall@1": mean(r["recall@1"] for r in with_gold),
        "recall@5": mean(r["recall@5"] for r in with_gold),
        "recall@20": mean(r["recall@20"] for r in with_gold),
        "mrr": mean(r["rr"] for r in with_gold),
        "hit@1": mean(r["hit@1"] for r in has),
        "hit@3": mean(r["hit@3"] for r in has),
        "answered_hit@1": mean(r.get("answered_hit@1", r["hit@1"] * (not r["abstained"])) for r in has),
        "em": mean(r["em"] for r in records),
        "f1": mean(r["f1"] for r in records),
        "has_answer_em": mean(r["em"] for r in has),
        "has_answer_f1": mean(r["f1"] for r in has),
        "short_rate": len(shorts) / len(has) if has else 0.0,
        "short_em": mean(r["em"] for r in shorts),
        "no_answer_acc": mean(float(r["abstained"]) for r in no),
        "answered_rate": mean(float(not r["abstained"]) for r in has),
        "abstain_precision": ab["precision"],
        "abstain_recall": ab["recall"],
        "latency_p50_ms": M.percentile([r["latency_ms"] for r in records], 50),
        "latency_p95_ms": M.percentile([r["latency_ms"] for r in records], 95),
        "embed_p50_ms": M.percentile([r["embed_ms"] for r in records], 50),
        "index_s": index_s,
    }
    if not with_gold:
        for k in ("recall@1", "recall@5", "recall@20", "mrr"):
            out[k] = None
    if not no:
        for k in ("no_answer_acc", "abstain_precision", "abstain_recall"):
            out[k] = None
    return out


def format_table(columns: dict[str, dict], title: str = "") -> str:
    """Metrics as rows, runs as columns; metrics no run has are left out."""
    names = list(columns)
    w0 = max(len(label) for _, label, _ in METRICS) + 2
    widths = [max(10, len(n) + 2) for n in names]
    lines = [title] if title else []
    lines.append("metric".ljust(w0) + "".join(n.rjust(w) for n, w in zip(names, widths)))
    lines.append("-" * (w0 + sum(widths)))
    for key, label, fmt in METRICS:
        vals = [columns[n].get(key) for n in names]
        if all(v is None for v in vals):
            continue
        cells = [("-" if v is None else fmt.format(v)).rjust(w) for v, w in zip(vals, widths)]
        lines.append(label.ljust(w0) + "".join(cells))
    return "\n".join(lines)


def worst_misses(records: list[dict], n: int) -> str:
    """Confident answers that missed: the most instructive failures first."""
    missed = [r for r in records if (r["answers"] and not r["hit@3"]) or (not r["answers"] and not r["abstained"])]
    missed.sort(key=lambda r: -r["confidence"])
    out = []
    for r in missed[:n]:
        said = "(abstained)" if r["abstained"] else r["text"]
        gold = " | ".join(r["answers"]) or "(no answer in the text)"
        where = ", ".join(f"{d}¶{p}" for d, p in r["looked_at"][:3])
        gp = f" (gold {r['gold'][0]}¶{r['gold'][1]})" if r.get("gold") and r["gold"][1] is not None else ""
        out.append(f"- {r['question']}\n    gold: {gold}\n    qa:   {said[:160]} "
                   f"[conf {r['confidence']:.2f}]\n    looked at: {where}{gp}")
    return "\n".join(out)


def parse_fail_under(items: list[str]) -> dict[str, float]:
    known = {k for k, _, _ in METRICS}
    bars = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise QAError(f"--fail-under wants METRIC=VALUE, got {item!r}")
        if name not in known:
            raise QAError(f"unknown metric {name!r} (one of: {', '.join(sorted(known))})")
        try:
            bars[name] = float(value)
        except ValueError:
            raise QAError(f"--fail-under {name}: not a number: {value!r}") from None
    return bars


def run(questions: list[Question], qa, top_k: int | None = None, progress: Count | None = None,
        notice: Callable[[str], None] | None = None) -> list[dict]:
    """Ask each question of `questions` (top_k None: the QA's configured one) and score it."""
    notice = notice or log.warning
    records = []
    for i, q in enumerate(questions):
        try:
            ans = qa.ask(q.question, top_k=top_k, retrieve_k=RETRIEVE_K)
        except QAError as e:  # an unusable question is scored as an abstention
            from .types import Answer
            ans = Answer(q.question, "", True, 0.0)
            notice(f"question {q.id}: {e}")
        records.append(score_question(q, ans))
        if progress:
            progress(i + 1, len(questions))
    return records


def _summary_of(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))["summary"]
    except FileNotFoundError:
        raise QAError(f"no such file: {path}") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise QAError(f"{path} is not a `qa eval --json` file") from None


def compare(a_path: str, b_path: str) -> str:
    """Two runs side by side, with B - A for every metric both have."""
    a, b = _summary_of(a_path), _summary_of(b_path)
    lines = format_table({f"A: {Path(a_path).name}": a, f"B: {Path(b_path).name}": b}).splitlines()
    keys = [k for k, _, _ in METRICS if not (a.get(k) is None and b.get(k) is None)]
    out = [lines[0] + "B - A".rjust(10), lines[1] + "-" * 10]
    for line, k in zip(lines[2:], keys):
        both = isinstance(a.get(k), (int, float)) and isinstance(b.get(k), (int, float))
        out.append(line + (f"{b[k] - a[k]:+10.3f}" if both else ""))
    return "\n".join(out)


def main(questions: str | os.PathLike | None = None, *, corpus: str | os.PathLike | None = None,
         store: str | os.PathLike | None = None, top_k: int | None = None, limit: int | None = None,
         mode: str = "hybrid", answerer: str | None = None, json_out: str | os.PathLike | None = None,
         fail_under: Sequence[str] = (), compare_runs: Sequence[str] | None = None, worst: int = 5,
         progress: Callable[[str], Progress | None] | None = None,
         notice: Callable[[str], None] | None = None) -> int:
    """`qa eval`: score `questions` (a JSONL or SQuAD JSON file) and print the table; 1 when a
    `fail_under` bar (METRIC=VALUE) is missed. `compare_runs` (A, B): two `json_out` files side
    by side instead. `progress(label)` makes the progress callback for "indexing" and "questions";
    `top_k` None means the configured one."""
    notice = notice or log.warning
    progress = progress or (lambda label: None)
    if compare_runs:
        print(compare(*compare_runs))
        return 0
    if not questions:
        raise QAError("give a questions file (JSONL or SQuAD JSON), or --compare A.json B.json")
    bars = parse_fail_under(fail_under)
    qpath = Path(questions)
    qs, files = load_questions(qpath, notice)
    if limit:
        qs = qs[:limit]
    corpus = resolve_corpus(qpath, files, corpus)
    from .pipeline import QA
    t0 = time.perf_counter()
    cfg = Config.from_env(answerer=answerer)
    answerer = cfg.answerer
    qa = QA(corpus, store, cfg, progress=progress("indexing"), notice=notice, retriever=mode, reader=answerer)
    index_s = time.perf_counter() - t0
    top_k = qa.config.top_k if top_k is None else top_k
    records = run(qs, qa, top_k, progress("questions"), notice)
    summary = summarize(records, index_s)
    name = f"{mode}/{answerer}"
    print(format_table({name: summary}, f"qa eval {qpath} — corpus {corpus} ({len(qa.index.paragraphs)} "
                                         f"paragraphs), top-k {top_k}"))
    if worst:
        misses = worst_misses(records, worst)
        if misses:
            print(f"\nworst misses (most confident first):\n{misses}")
    if json_out:
        payload = {"summary": summary, "questions_file": str(qpath), "corpus": str(corpus),
                   "mode": mode, "answerer": answerer, "top_k": top_k, "records": records}
        out = Path(json_out)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, out)
    failed = [f"{k} {summary.get(k) if summary.get(k) is not None else 'n/a'} < {v}"
              for k, v in bars.items() if summary.get(k) is None or summary[k] < v]
    if failed:
        print("qa: below the bar: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0
