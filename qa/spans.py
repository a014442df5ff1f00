"""The span model: which span of a text answers the question, and how sure.

A span head and either a LoRA adapter or trained top layers, made by `train/reader.py`, sit on
the MiniLM backbone that the embedding package already installs; only they ship
(`qa/models/reader.safetensors`, with its card). At load the LoRA products are merged into a
private copy of the backbone's weights (or the trained layers replace the backbone's), so
inference is a plain BERT pass and peft is not needed at run time. Loaded lazily, once per
process. The reader stage that uses it is `qa.reader.ModelReader`.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from .config import DEFAULT_MODEL
from .errors import QAError

MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_WEIGHTS = MODELS_DIR / "reader.safetensors"
# "lora": LoRA matrices merged into the backbone at load; "layers": trained layers that replace
# the backbone's own (the embeddings and untouched layers still come from the backbone package)
FORMATS = ("qa-reader-lora-1", "qa-reader-layers-1")

_LOCK = threading.Lock()
_MODELS: dict[str, "SpanModel"] = {}


class Span(NamedTuple):
    """The best span of one text: character offsets into that text, its score (start + end
    logit) and the no-answer score ([CLS] start + end logit) of the same text."""

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


class SpanModel:
    """Reads (question, text) pairs in windows of `max_len` tokens with `stride` overlap."""

    def __init__(self, weights: str | Path = DEFAULT_WEIGHTS, max_answer_tokens: int = 30,
                 threads: int = 0, backbone: str = DEFAULT_MODEL, runtime: str = "auto"):
        self.weights = Path(weights)
        self.backbone = backbone
        self.max_answer_tokens = max_answer_tokens
        self.threads = threads
        # "auto": onnxruntime over the graph exported from these weights (made with torch the
        # first time, then torch is never imported to read); "torch": always torch
        self.runtime = runtime
        self._model = None
        self._tokenizer = None
        self._session = None
        card_path = self.weights.with_suffix(".json")
        try:
            self.card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise QAError(f"reader model card {card_path} is unreadable ({e})") from None
        if self.card.get("format") not in FORMATS:
            raise QAError(f"reader weights {self.weights} have format {self.card.get('format')!r}, "
                          f"expected one of {', '.join(FORMATS)}")
        self.max_len = int(self.card["windows"]["max_len"])
        self.stride = int(self.card["windows"]["stride"])

    # -- loading ---------------------------------------------------------------------------------
    def graph(self) -> Path:
        """Where the float32 graph of these weights on this backbone is cached."""
        from .backend import backbone_weights, graph_path
        from .embed import resolve_model
        return graph_path("reader", self.weights, backbone_weights(resolve_model(self.backbone)))

    def _load(self):
        if self.runtime == "auto":
            try:
                graph = self.graph()
            except OSError:
                graph = None
            if graph is not None and not graph.is_file():
                self._export(*self._load_torch(), graph)
            if graph is not None and graph.is_file():
                from .backend import session, word_pieces
                from .embed import resolve_model
                tok = word_pieces(resolve_model(self.backbone))
                tok.enable_truncation(max_length=self.max_len, stride=self.stride, strategy="only_second")
                tok.no_padding()
                self._tokenizer = tok
                self._session = session(graph, self.threads or 1)
                return self._session
        return self._load_torch()

    @staticmethod
    def _export(bert, head, graph: Path) -> None:
        import torch

        from .backend import example_inputs, export_graph

        class Logits(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.bert, self.head = bert, head

            def forward(self, input_ids, attention_mask, token_type_ids):
                h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
                return self.head(h)
        try:
            export_graph(Logits().eval(), example_inputs(), ["input_ids", "attention_mask", "token_type_ids"],
                         "logits", graph)
        except Exception as e:  # noqa: BLE001 - torch still reads; say why once
            import logging
            logging.getLogger("qa").warning("no reader graph: %s", e)

    def _load_torch(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        from .embed import question_threads, resolve_model
        try:  # "Loading weights" bars are noise in a CLI
            from transformers.utils import logging as hf_logging
            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover
            pass
        path = resolve_model(self.backbone)
        question_threads(self.threads)
        try:
            state = load_file(str(self.weights))
            bert = AutoModel.from_pretrained(path, add_pooling_layer=False)
            tokenizer = AutoTokenizer.from_pretrained(path)
        except Exception as e:  # noqa: BLE001 - any load failure becomes one line
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise QAError(f"cannot load the reader offline: {msg}") from None
        modules = dict(bert.named_modules())
        params = dict(bert.named_parameters())
        with torch.no_grad():
            for key in [k for k in state if k.endswith(".lora_A")]:
                scale = float(self.card["adapter"]["alpha"]) / float(self.card["adapter"]["rank"])
                name = key[:-len(".lora_A")]
                a, b = state[key].float(), state[name + ".lora_B"].float()
                modules[name].weight += (b @ a) * scale
            for key in [k for k in state if k.endswith(".delta_int8")]:  # trained layers: W + int8 delta
                name = key[:-len(".delta_int8")]
                params[name] += state[key].float() * state[name + ".delta_scale"].float()
            for key in [k for k in state if k in params]:  # their biases and layer norms
                params[key].copy_(state[key].float())
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
    def _windows(self, question: str, passages: Sequence[str]):
        """(logits, offsets, owner, sequence ids) of every window of every passage."""
        model = self.model
        if self._session is not None:  # onnxruntime over the tokenizer.json pieces
            encs = self._tokenizer.encode_batch([(question, p) for p in passages])
            wins, owner = [], []
            for i, e in enumerate(encs):
                for w in [e, *e.overflowing]:  # the order transformers gives them
                    wins.append(w)
                    owner.append(i)
            n = max(len(w.ids) for w in wins)
            feed = {k: np.zeros((len(wins), n), np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
            offsets = np.zeros((len(wins), n, 2), np.int64)
            seqs = []
            for j, w in enumerate(wins):
                m = len(w.ids)
                feed["input_ids"][j, :m] = w.ids
                feed["attention_mask"][j, :m] = w.attention_mask
                feed["token_type_ids"][j, :m] = w.type_ids
                offsets[j, :m] = w.offsets
                seqs.append(list(w.sequence_ids) + [None] * (n - m))
            logits = model.run(None, feed)[0]
            return logits, offsets, np.asarray(owner), seqs
        import torch
        bert, head = model
        enc = self._tokenizer([question] * len(passages), list(passages), truncation="only_second",
                              max_length=self.max_len, stride=self.stride, return_overflowing_tokens=True,
                              return_offsets_mapping=True, padding=True, return_tensors="pt")
        with torch.inference_mode():
            h = bert(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                     token_type_ids=enc["token_type_ids"]).last_hidden_state
            logits = head(h).float().numpy()
        owner = enc["overflow_to_sample_mapping"].numpy()
        return logits, enc["offset_mapping"].numpy(), owner, [enc.sequence_ids(w) for w in range(len(owner))]

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """The best span of each text (one forward pass over all their windows)."""
        if not passages:
            return []
        logits, offsets, owner, seqs = self._windows(question, passages)
        starts, ends = logits[..., 0], logits[..., 1]
        best: list[Span | None] = [None] * len(passages)
        nulls = [-np.inf] * len(passages)
        for w in range(len(owner)):
            p = int(owner[w])
            seq = np.array([s if s is not None else -1 for s in seqs[w]])
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


def get_span_model(weights: str | Path = DEFAULT_WEIGHTS, threads: int = 0, runtime: str = "auto") -> SpanModel:
    """One SpanModel per weights file and runtime for the whole process."""
    key = f"{Path(weights).resolve()}|{runtime}"
    with _LOCK:
        m = _MODELS.get(key)
        if m is None:
            m = _MODELS[key] = SpanModel(weights, threads=threads, runtime=runtime)
    return m
