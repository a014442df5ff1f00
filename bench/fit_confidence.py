"""Fit the answerer's confidence model on SQuAD v2.0 and print it for qa/config.py.

    python bench/fit_confidence.py [--data ../shared/eval/squad-v2.0] [--answered 0.85]

Two stages, both logistic over the features Answerer.answer() reports. The first orders
questions by whether they can be answered at all (label: SQuAD's answerable flag), which is
what abstention needs; the second rescales that score so that confidence = P(the first
snippet holds a gold answer). The rescaling is monotone, so the order, and with it the
abstention trade-off, is the first stage's; the product stays one logistic model.

Fitted on the even-numbered articles only, reported on the odd-numbered ones (held out),
on all, and article by article out of fold (each article scored by a model fitted on the
13 others). Printed twice: with the spaCy entity features (the `ner` extra) and without.
The abstention threshold is the confidence below which the fitting half's answerable
questions fall `--answered` of the time.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa import ner  # noqa: E402
from qa.pipeline import QA  # noqa: E402
from qa.metrics import contains_answer  # noqa: E402
from qa.questions import load_questions  # noqa: E402

ENTITY_FEATURES = ("ent_swap", "ner_wanted", "ner_found")

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


def fit_confidence(X: np.ndarray, answerable: np.ndarray, right: np.ndarray):
    """Order by answerability, then calibrate that score to P(right): one (coef, bias)."""
    w, b = fit_logistic(X, answerable)
    z = X @ w + b
    a, c = fit_logistic(z[:, None], right)
    return w * a[0], b * a[0] + c


def _sig(z):
    return 1 / (1 + np.exp(-z))


def report(name: str, keys: list[str], X: np.ndarray, y: np.ndarray, imp: np.ndarray, art: np.ndarray,
           answered: float) -> None:
    half = art % 2 == 0
    w, b = fit_confidence(X[half], (~imp[half]).astype(float), y[half])
    p = _sig(X @ w + b)
    t = float(np.percentile(p[half & ~imp], 100 * (1 - answered)))
    coef = {"bias": round(float(b), 3), **{k: round(float(v), 3) for k, v in zip(keys, w)}}
    print(f"\n== {name} ==")
    print(f"{'confidence_coef' if name == 'with entities' else 'confidence_coef_plain'} =", coef)
    print(f"abstain_below = {t:.3f}")
    oof = np.zeros(len(y))
    for a in np.unique(art):
        wa, ba = fit_confidence(X[art != a], (~imp[art != a]).astype(float), y[art != a])
        oof[art == a] = _sig(X[art == a] @ wa + ba)
    to = np.percentile(oof[~imp], 100 * (1 - answered))
    print(f"\n{'split':16} {'questions':>9} {'answered (has-ans)':>19} {'abstained (no-ans)':>19} "
          f"{'right | answered':>17}")
    for split, m, q, thr in (("fit half", half, p, t), ("held out", ~half, p, t), ("all", np.ones_like(half), p, t),
                             ("out of article", np.ones_like(half), oof, to)):
        ans = q[m] >= thr
        print(f"{split:16} {m.sum():9d} {ans[~imp[m]].mean():19.3f} {(~ans)[imp[m]].mean():19.3f} "
              f"{y[m][ans].mean():17.3f}")
    print("(out of article: each article scored by the model fitted on the others; one threshold at the "
          f"{100 * (1 - answered):.0f}th percentile of the answerable questions' scores)")
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared/eval/squad-v2.0"))
    ap.add_argument("--answered", type=float, default=0.85)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    if not ner.available():
        print("note: spaCy or its model is not installed; only the plain model is fitted", file=sys.stderr)
    rows, y, imp, docs = collect(Path(args.data), args.top_k)
    order = sorted(set(docs))
    art = np.array([order.index(d) for d in docs])
    keys = list(dict.fromkeys(k for r in rows for k in r))
    variants = [("with entities", keys)] if ner.available() else []
    variants.append(("without entities", [k for k in keys if k not in ENTITY_FEATURES]))
    for name, ks in variants:
        X = np.array([[r.get(k, 0.0) for k in ks] for r in rows], float)
        report(name, ks, X, y, imp, art, args.answered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
