"""Fit the readers' confidence models on SQuAD v2.0 and write them to qa/models/weights.json.

    python bench/fit_confidence.py [--answerer reader|rules] [--data ../shared/eval/squad-v2.0]
                                   [--answered 0.85] [--write]

Two stages, both logistic over the features the reader reports (`Reading.features`). The
first orders questions by whether they can be answered at all (label: SQuAD's answerable flag),
which is what abstention needs; the second rescales that score so that confidence = P(the
first snippet holds a gold answer). The rescaling is monotone, so the order, and with it the
abstention trade-off, is the first stage's; the product stays one logistic model.

Fitted on the even-numbered articles only, reported on the odd-numbered ones (held out),
on all, and article by article out of fold (each article scored by a model fitted on the
13 others). For the rules reader: with the spaCy entity features (the `ner` extra and
QA_NER=1) and without. The trained reader's model is fitted on the path it runs on: run it
once as it is (`reader_confidence_plain`) and once with QA_NER=1 (`reader_confidence`). For
the trained reader: several feature sets (the reader's own scores alone, with the rules
reader's confidence, with all its features), so that each rules feature has to earn its place
out of article; `--write` keeps the one with the fewest features that abstains within one
standard error of the best out of article.
The abstention threshold is the confidence below which the fitting half's answerable
questions fall `--answered` of the time.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa import ner, weights  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.scoring import FEATURES, NER_FEATURES  # noqa: E402
from qa.metrics import contains_answer  # noqa: E402
from qa.pipeline import QA  # noqa: E402
from qa.questions import load_questions  # noqa: E402
from qa.reader import READER_FEATURES  # noqa: E402

HERE = Path(__file__).resolve().parent
READER_OWN = [k for k in READER_FEATURES if k != "rules_logit"]


def collect(data: Path, top_k: int, answerer: str, every: int = 1):
    reader = answerer
    if answerer == "reader":  # read with a blank confidence model: its features are what is fitted
        from qa.reader import ModelReader
        blank = {"features": [], "coef": {}, "bias": 0.0, "abstain_below": 0.0}
        reader = lambda index, config: ModelReader(index, config, model=blank)  # noqa: E731
    qa = QA(data / "corpus", reader=reader)
    questions, _ = load_questions(data / "questions.jsonl")
    questions = questions[::every]
    vecs = qa.index.embedder.model.encode([q.question for q in questions], batch_size=64,
                                          normalize_embeddings=True, show_progress_bar=False)
    rows, labels, impossible, docs = [], [], [], []
    t0 = time.perf_counter()
    for n, (q, v) in enumerate(zip(questions, vecs)):
        passages = qa.retriever.retrieve(q.question, 2 * top_k, qvec=v)
        reading = qa.reader.read(q.question, passages[:top_k], v, more=passages[top_k:])
        rows.append(dict(reading.features))
        labels.append(bool(reading.snippets) and contains_answer(reading.snippets[0].text, q.answers))
        impossible.append(q.is_impossible)
        docs.append(q.doc)
        if n % 500 == 499:
            print(f"  {n + 1}/{len(questions)} questions read ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
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
           answered: float, verbose: bool = True) -> dict:
    """Fit on the even articles, print the figures, and return the model with its figures."""
    half = art % 2 == 0
    w, b = fit_confidence(X[half], (~imp[half]).astype(float), y[half])
    p = _sig(X @ w + b)
    t = float(np.percentile(p[half & ~imp], 100 * (1 - answered)))
    oof = np.zeros(len(y))
    for a in np.unique(art):
        wa, ba = fit_confidence(X[art != a], (~imp[art != a]).astype(float), y[art != a])
        oof[art == a] = _sig(X[art == a] @ wa + ba)
    to = np.percentile(oof[~imp], 100 * (1 - answered))
    print(f"\n== {name} ({len(keys)} features) ==")
    print(f"{'split':16} {'questions':>9} {'answered (has-ans)':>19} {'abstained (no-ans)':>19} "
          f"{'right | answered':>17}")
    figures = {}
    for split, m, q, thr in (("fit half", half, p, t), ("held out", ~half, p, t), ("all", np.ones_like(half), p, t),
                             ("out of article", np.ones_like(half), oof, to)):
        ans = q[m] >= thr
        figures[split] = {"answered": round(float(ans[~imp[m]].mean()), 4),
                          "abstained": round(float((~ans)[imp[m]].mean()), 4)}
        print(f"{split:16} {m.sum():9d} {ans[~imp[m]].mean():19.3f} {(~ans)[imp[m]].mean():19.3f} "
              f"{y[m][ans].mean():17.3f}")
    if verbose:
        print("(out of article: each article scored by the model fitted on the others; one threshold at the "
              f"{100 * (1 - answered):.0f}th percentile of the answerable questions' scores)")
        print("\nthreshold trade-off on all questions (QA_ABSTAIN_BELOW)")
        for thr in sorted({0.2, round(t, 3), 0.3, 0.35, 0.4, 0.45, 0.5}):
            ans = p >= thr
            print(f"  {thr:5.3f}: answers {ans[~imp].mean():.3f} of answerable, abstains on {(~ans)[imp].mean():.3f} "
                  f"of unanswerable")
        print("\ncalibration on the held-out half (confidence bin: share right)")
        for lo in np.arange(0, 1, 0.2):
            m = ~half & (p >= lo) & (p < lo + 0.2)
            if m.sum():
                print(f"  [{lo:.1f}, {lo + 0.2:.1f}): n={m.sum():5d}  right {y[m].mean():.3f}")
    return {"features": list(keys), "bias": round(float(b), 4),
            "coef": {k: round(float(v), 4) for k, v in zip(keys, w)}, "abstain_below": round(t, 4),
            "figures": figures}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared/eval/squad-v2.0"))
    ap.add_argument("--answerer", choices=("reader", "rules"), default="reader")
    ap.add_argument("--answered", type=float, default=0.85)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--every", type=int, default=1, help="read every N-th question only (faster)")
    ap.add_argument("--write", action="store_true", help="write the fitted model(s) to qa/models/weights.json")
    args = ap.parse_args()
    entities = Config.from_env().ner and ner.available()
    if args.answerer == "rules" and not ner.available():
        print("note: spaCy or its model is not installed; the entity features are left out", file=sys.stderr)
    if args.answerer == "reader":
        print(f"fitting reader_confidence{'' if entities else '_plain'} "
              f"({'with' if entities else 'without'} spaCy's entity features; QA_NER=1 for the other)", file=sys.stderr)
    rows, y, imp, docs = collect(Path(args.data), args.top_k, args.answerer, args.every)
    order = sorted(set(docs))
    art = np.array([order.index(d) for d in docs])
    fitted_on = (f"{Path(args.data).name} dev, even-numbered articles of {len(order)}"
                 f"{f', every {args.every}th question' if args.every > 1 else ''} "
                 f"(bench/fit_confidence.py, {time.strftime('%Y-%m-%d')})")

    def matrix(ks):
        return np.array([[r.get(k, 0.0) for k in ks] for r in rows], float)

    models = {}
    if args.answerer == "rules":
        variants = [("rules_confidence", list(FEATURES + NER_FEATURES))] if entities else []
        variants.append(("rules_confidence_plain", list(FEATURES)))
        for name, ks in variants:
            models[name] = report(name, ks, matrix(ks), y, imp, art, args.answered)
    else:
        rules = [k for k in FEATURES + NER_FEATURES if k in rows[0]]
        variants = [("reader scores alone", list(READER_OWN)),
                    ("reader + rules confidence", list(READER_OWN) + ["rules_logit"]),
                    ("reader + rules features", list(READER_OWN) + rules),
                    ("reader + rules confidence and features", list(READER_OWN) + ["rules_logit"] + rules)]
        fits = {name: report(name, ks, matrix(ks), y, imp, art, args.answered, verbose=False)
                for name, ks in variants}
        # the fewest features within one standard error of the best out of article: SQuAD v2.0's
        # unanswerable questions were written to overlap their paragraph, and a model of many
        # sentence features learns that (a question whose words all stand in one sentence
        # abstained on), which a real question does not share
        score = {n: fits[n]["figures"]["out of article"]["abstained"] for n in fits}
        top = max(score.values())
        se = float(np.sqrt(top * (1 - top) / max(int(imp.sum()), 1)))
        best = min((n for n in fits if score[n] >= top - se), key=lambda n: len(fits[n]["features"]))
        print(f"\nkept: {best} (the fewest features within one standard error, {se:.3f}, of the best "
              f"out of article, {top:.3f})")
        ks = fits[best]["features"]
        # the reader's confidence is fitted on the path it will run on: with spaCy (QA_NER=1 and
        # the `ner` extra) it is `reader_confidence`, without it `reader_confidence_plain`
        name = "reader_confidence" if entities else "reader_confidence_plain"
        models[name] = report(best, ks, matrix(ks), y, imp, art, args.answered)
        models[name]["variant"] = best
    for m in models.values():
        m["fitted_on"] = fitted_on
    if args.write:
        weights.save(models)
        print(f"\nwrote {', '.join(models)} to {weights.WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
