"""Faster CPU encoding: the packaged model exported to ONNX once (offline) and run by onnxruntime,
optionally with int8 weights.

Why not sentence-transformers' own `backend="onnx"`: it needs optimum, which here downgrades
transformers and sentence-transformers; exporting with torch.onnx and quantising with
onnxruntime's tools needs only the `onnx` extra (onnxruntime, onnx). The export is cached
under the user cache, keyed by the model folder and the library versions.

int8 uses per-channel weight scales: vectors stay at cosine 0.99 to the float32 ones (per-tensor
scales, like torch's dynamic quantisation, moved them to 0.95).
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .config import cache_dir
from .errors import QAError

_LOCK = threading.Lock()
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _require():
    try:
        import onnx  # noqa: F401 - export and quantisation
        import onnxruntime
    except ImportError:
        raise QAError("the onnx backends need onnxruntime and onnx: pip install 'qa[onnx]' "
                      "(or QA_BACKEND=torch)") from None
    return onnxruntime


def model_file(model_path: str, quantized: bool) -> Path:
    """The exported model for `model_path`, made on first use (a few seconds) and then reused."""
    ort = _require()
    import torch
    key = hashlib.sha1(f"{Path(model_path).resolve()}|{torch.__version__}|{ort.__version__}".encode()).hexdigest()[:12]
    folder = cache_dir() / "onnx" / key
    plain, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    with _LOCK:
        if not plain.exists():
            folder.mkdir(parents=True, exist_ok=True)
            _export(model_path, plain)
        if quantized and not int8.exists():
            from onnxruntime.quantization import QuantType, quantize_dynamic
            tmp = int8.with_suffix(f".tmp{os.getpid()}")
            quantize_dynamic(str(plain), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
            os.replace(tmp, int8)
    return int8 if quantized else plain


def _export(model_path: str, out: Path) -> None:
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(model_path).eval()
    _write_graph(backbone_module(bert), example_inputs(), list(INPUTS), "tokens", out)  # under model_file's lock


class OnnxEncoder:
    """Token embeddings from an exported model; one onnxruntime session per thread count."""

    def __init__(self, model_path: str, tokenizer, max_length: int, quantized: bool):
        self.path = model_file(model_path, quantized)
        self.tokenizer = tokenizer
        self.max_length = max_length
        self._sessions: dict[int, object] = {}

    def _session(self, threads: int):
        s = self._sessions.get(threads)
        if s is None:
            s = self._sessions[threads] = session(self.path, threads)
        return s

    def tokens(self, texts: Sequence[str], batch_size: int, threads: int) -> list[np.ndarray]:
        """Per text, its tokens' embeddings (padding removed), as sentence-transformers gives them."""
        out: list[np.ndarray] = []
        session = self._session(threads)
        for i in range(0, len(texts), batch_size):
            enc = self.tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="np")
            feed = {k: np.asarray(enc[k], dtype=np.int64) for k in INPUTS}
            hidden = session.run(None, feed)[0]
            for h, n in zip(hidden, enc["attention_mask"].sum(1)):
                out.append(np.asarray(h[:int(n)], dtype=np.float32))
        return out


# -- the question path without torch ----------------------------------------------------------------
# A question needs two small forward passes; importing torch and sentence-transformers for them
# costs 10+ s. The graphs are exported where torch is loaded anyway (indexing, or the first
# answer that finds none) and cached, keyed by the files they came from, so a new model or
# adapter never meets a stale graph. float32: the same vectors as torch's within 1e-5.
GRAPH_VERSION = 1


def _stamp(path: str | Path) -> str:
    st = os.stat(path)
    return f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}"


def graph_path(kind: str, *sources: str | Path) -> Path:
    """Where the float32 graph made from `sources` (weight files) is cached."""
    key = hashlib.sha1("|".join([kind, str(GRAPH_VERSION), *map(_stamp, sources)]).encode()).hexdigest()[:16]
    return cache_dir() / "onnx" / f"{kind}-{key}.onnx"


def backbone_weights(model_path: str | Path) -> Path:
    return Path(model_path) / "model.safetensors"


KEEP_GRAPHS = 4  # of each kind: graphs of weights that were replaced (90 MB each) go in time


def export_graph(module, inputs: tuple, input_names: list[str], output_name: str, out: Path) -> Path:
    """`module` (torch, in eval mode) as an ONNX graph at `out`, written atomically."""
    with _LOCK:
        _write_graph(module, inputs, input_names, output_name, out)
        prune_graphs(out)
    return out


def prune_graphs(newest: Path, keep: int = KEEP_GRAPHS) -> None:
    """Remove all but the `keep` most recently written graphs of `newest`'s kind: each new
    adapter or backbone leaves its predecessor's graph behind. A process still reading one
    keeps it open; the next process made with those weights exports it again."""
    def written(g: Path) -> float:
        try:
            return g.stat().st_mtime
        except OSError:  # another process pruned it first
            return 0.0
    kind = newest.name.split("-", 1)[0]
    graphs = sorted(newest.parent.glob(f"{kind}-*.onnx"), key=written, reverse=True)
    for g in graphs[keep:]:
        if g != newest:
            try:
                g.unlink()
            except OSError:
                pass


def _write_graph(module, inputs: tuple, input_names: list[str], output_name: str, out: Path) -> None:
    import warnings

    import torch
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    dyn = {name: {0: "batch", 1: "tokens"} for name in (*input_names, output_name)}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, inputs, str(tmp), input_names=input_names, output_names=[output_name],
                          dynamic_axes=dyn, opset_version=17, dynamo=False)
    os.replace(tmp, out)


def session(path: Path, threads: int):
    """An onnxruntime session on the CPU with `threads` threads (one for a question)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise QAError("onnxruntime is missing: pip install onnxruntime") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def word_pieces(model_path: str | Path):
    """The model's own fast tokenizer (tokenizer.json), without transformers."""
    from tokenizers import Tokenizer
    try:
        return Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    except Exception as e:  # noqa: BLE001 - one line whatever it is
        raise QAError(f"cannot read the tokenizer of {model_path} ({e})") from None


def backbone_module(bert):
    """A BERT as a module that takes the three inputs and returns its token embeddings."""
    import torch

    class Tokens(torch.nn.Module):
        def __init__(self, b):
            super().__init__()
            self.b = b

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.b(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state
    return Tokens(bert).eval()


def example_inputs() -> tuple:
    import torch
    ids = torch.ones((2, 8), dtype=torch.long)
    return ids, torch.ones_like(ids), torch.zeros_like(ids)


class QueryGraph:
    """The question's vector from the backbone's graph: mean of its token embeddings, unit length
    (what the model's Pooling and Normalize modules compute)."""

    def __init__(self, model_path: str | Path, max_length: int, threads: int = 1):
        self.model_path = Path(model_path)
        self.file = graph_path("backbone", backbone_weights(model_path))
        self.max_length = max_length
        self.threads = threads
        self._session = None
        self._tokenizer = None

    @property
    def available(self) -> bool:
        return self.file.is_file()

    def export(self, bert) -> None:
        """Write the graph from a loaded backbone (transformers' AutoModel) when it is missing."""
        if not self.available:
            export_graph(backbone_module(bert), example_inputs(), list(INPUTS), "tokens", self.file)

    def _load(self):
        if self._session is None:
            with _LOCK:
                if self._session is None:
                    tok = word_pieces(self.model_path)
                    tok.enable_truncation(max_length=self.max_length)
                    tok.no_padding()
                    self._tokenizer = tok
                    self._session = session(self.file, self.threads)
        return self._session

    def warm_up(self) -> None:
        self._load()

    def encode(self, text: str) -> np.ndarray:
        (hidden, _), = self.tokens([text], 1)
        v = hidden.mean(0)
        return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)

    @property
    def dim(self) -> int:
        import json
        return int(json.loads((self.model_path / "config.json").read_text(encoding="utf-8"))["hidden_size"])

    def tokens(self, texts: Sequence[str], batch_size: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, its tokens' embeddings and character offsets (padding removed), as the
        model and its tokenizer give them with torch."""
        s = self._load()
        out: list[tuple[np.ndarray, np.ndarray]] = []
        for i in range(0, len(texts), batch_size):
            encs = self._tokenizer.encode_batch(list(texts[i:i + batch_size]))
            n = max(len(e.ids) for e in encs)
            feed = {k: np.zeros((len(encs), n), np.int64) for k in INPUTS}
            for j, e in enumerate(encs):
                feed["input_ids"][j, :len(e.ids)] = e.ids
                feed["attention_mask"][j, :len(e.ids)] = e.attention_mask
                feed["token_type_ids"][j, :len(e.ids)] = e.type_ids
            hidden = s.run(None, feed)[0]
            out += [(np.asarray(h[:len(e.ids)], np.float32), np.asarray(e.offsets, np.int64))
                    for h, e in zip(hidden, encs)]
        return out

    def word_table(self) -> tuple[np.ndarray, object]:
        """The model's input word embeddings (unit rows) and a tokenizer without special tokens,
        read from the weights file with numpy."""
        from safetensors import safe_open
        with safe_open(str(backbone_weights(self.model_path)), "numpy") as f:
            emb = f.get_tensor("embeddings.word_embeddings.weight").astype(np.float32)
        tok = word_pieces(self.model_path)
        tok.no_truncation()
        tok.no_padding()
        return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9), tok
