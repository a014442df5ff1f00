"""Fit the answerer's confidence model on SQuAD v2.0 and print it for qa/config.py.

    python bench/fit_confidence.py [--data ../shared/eval/squad-v2.0] [--answered 0.85]

Confidence = P(the first snippet holds a gold answer), a logistic model over the features
Answerer.answer() reports. It is fitted on the even-numbered articles only and reported on
the odd-numbered ones (held out) and on all, so the figures are not fitted to themselves.
The abstention threshold is the confidence below which the fitting half's answerable
questions fall `--answered` of the time.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.answerer import QA  # noqa: E402
from qa.metrics import contains_answer  # noqa: E402
from qa.questions import load_questions  # noqa: E402

HERE = Path(__file__).resolve().parent


def collect(data: Path, top_k: int):
    qa = QA(data / "corpus")
    questions, _ = load_questions(data / "questions.jsonl")
    vecs = qa.index.embedder.model.encode([q.question for q in questions], batch_size=64,
                                          normalize_embeddings=True, show_progress_bar=False)
    rows, labels, impossible, docs = [], [], [], []
    for q, v in zip(questions, vecs):
        passages = qa.retriever.retrieve(q.question, top_k, qvec=v)
        snippets, _, _, feats = qa.answerer.answer(q.question, passages, v)
        rows.append(feats)
        labels.append(bool(snippets) and contains_answer(snippets[0].text, q.answers))
        impossible.append(q.is_impossible)
        docs.append(q.doc)
    return rows, np.array(labels, float), np.array(impossible), docs


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 4000, lr: float = 0.5):
    """Plain gradient descent on standardised features; returns raw-scale (coef, bias)."""
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = (X - mu) / sd
    w, b = np.zeros(Z.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        g = p - y
        w -= lr * (Z.T @ g / len(y) + l2 * w)
        b -= lr * g.mean()
    return w / sd, b - float((w * mu / sd).sum())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared/eval/squad-v2.0"))
    ap.add_argument("--answered", type=float, default=0.85)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    rows, y, imp, docs = collect(Path(args.data), args.top_k)
    keys = list(rows[0])
    X = np.array([[r[k] for k in keys] for r in rows], float)
    order = sorted(set(docs))
    half = np.array([order.index(d) % 2 == 0 for d in docs])
    w, b = fit_logistic(X[half], y[half])
    p = 1 / (1 + np.exp(-(X @ w + b)))
    t = float(np.percentile(p[half & ~imp], 100 * (1 - args.answered)))
    coef = {"bias": round(float(b), 3), **{k: round(float(v), 3) for k, v in zip(keys, w)}}
    print("confidence_coef =", coef)
    print(f"abstain_below = {t:.3f}")
    print(f"\n{'split':10} {'questions':>9} {'answered (has-ans)':>19} {'abstained (no-ans)':>19} "
          f"{'right | answered':>17}")
    for name, m in (("fit half", half), ("held out", ~half), ("all", np.ones_like(half))):
        ans = p[m] >= t
        print(f"{name:10} {m.sum():9d} {ans[~imp[m]].mean():19.3f} {(~ans)[imp[m]].mean():19.3f} "
              f"{y[m][ans].mean():17.3f}")
    print("\nthreshold trade-off on all questions (QA_ABSTAIN_BELOW)")
    for thr in (0.2, round(t, 3), 0.3, 0.35, 0.4, 0.45):
        ans = p >= thr
        print(f"  {thr:5.3f}: answers {ans[~imp].mean():.3f} of answerable, abstains on {(~ans)[imp].mean():.3f} "
              f"of unanswerable")
    print("\ncalibration on the held-out half (confidence bin: share right)")
    for lo in np.arange(0, 1, 0.2):
        m = ~half & (p >= lo) & (p < lo + 0.2)
        if m.sum():
            print(f"  [{lo:.1f}, {lo + 0.2:.1f}): n={m.sum():5d}  right {y[m].mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
