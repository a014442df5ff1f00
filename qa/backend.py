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
    import warnings

    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(model_path).eval()

    class Tokens(torch.nn.Module):
        def __init__(self, b):
            super().__init__()
            self.b = b

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.b(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((2, 8), dtype=torch.long)
    dyn = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "tokens")}
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(Tokens(bert), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(tmp),
                          input_names=list(INPUTS), output_names=["tokens"], dynamic_axes=dyn,
                          opset_version=17, dynamo=False)
    os.replace(tmp, out)


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
            ort = _require()
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            s = self._sessions[threads] = ort.InferenceSession(str(self.path), opts,
                                                               providers=["CPUExecutionProvider"])
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
