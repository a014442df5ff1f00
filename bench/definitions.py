""""What is X?" led by the sentence that defines X (`Config.w_define`), measured where the rule
was not written: the "What is X?" questions (`extract.defined_term`) of SQuAD v1.1 train's
articles, indexed as a corpus of their own, each weight in turn.

    python bench/definitions.py [--articles 80] [--weights 0,0.5]

The articles with the most such questions are written once as `title ...` text files under the
user cache (`~/.cache/qa/bench/definitions/`, with their store). The reader saw these paragraphs
in training, so its spans read them better than unseen text; every weight reads them alike.
Prints one row per weight: first quote right, right and shown (not abstained), EM.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import json
import re
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import metrics as M  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.extract import defined_term  # noqa: E402
from qa.pipeline import QA  # noqa: E402

TRAIN = ROOT.parent / "shared" / "train" / "squad-v1.1-train.json.gz"
HOME = Path.home() / ".cache" / "qa" / "bench" / "definitions"


def build(articles: int) -> tuple[Path, list[dict]]:
    """The corpus of the `articles` train articles with the most "What is X?" questions, and those questions."""
    data = json.load(gzip.open(TRAIN))["data"]
    asked = collections.defaultdict(list)
    for art in data:
        for p in art["paragraphs"]:
            for q in p["qas"]:
                if defined_term(q["question"].strip()):
                    asked[art["title"]].append({"question": q["question"].strip(),
                                                "answers": [a["text"] for a in q["answers"]]})
    chosen = set(sorted(asked, key=lambda t: (-len(asked[t]), t))[:articles])
    corpus = HOME / f"corpus-{articles}"
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    for art in data:
        if art["title"] not in chosen:
            continue
        path = corpus / (re.sub(r"[^\w.-]", "_", art["title"]) + ".txt")
        if not path.exists():
            path.write_text("title " + art["title"].replace("_", " ") + "\n\n"
                            + "\n\n".join(p["context"].strip() for p in art["paragraphs"]) + "\n", encoding="utf-8")
        questions += asked[art["title"]]
    return corpus, questions


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=80)
    ap.add_argument("--weights", default="0,0.5")
    args = ap.parse_args()
    if not TRAIN.is_file():
        print(f"definitions: {TRAIN} is missing", file=sys.stderr)
        return 2
    corpus, questions = build(args.articles)
    print(f'{len(questions)} "What is X?" questions of {args.articles} SQuAD v1.1 train articles')
    print(f"{'w_define':>9}  {'first quote right':>18}  {'right and shown':>16}  {'EM':>6}")
    for w in (float(x) for x in args.weights.split(",")):
        qa = QA(corpus, corpus.with_name(corpus.name + "-store"), replace(Config.from_env(), w_define=w),
                notice=lambda m: None)
        hit = shown = em = 0.0
        for q in questions:
            a = qa.ask(q["question"])
            right = bool(a.snippets) and M.contains_answer(a.snippets[0].text, q["answers"])
            hit += right
            shown += right and not a.abstained
            em += 0.0 if a.abstained else M.exact_match(a.text, q["answers"])
        n = len(questions)
        print(f"{w:>9g}  {hit / n:>18.3f}  {shown / n:>16.3f}  {em / n:>6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
