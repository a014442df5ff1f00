"""qa.backend: the packaged model exported to onnxruntime (float32 and int8) agrees with torch."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from qa.embed import Embedder
from qa.errors import QAError

TEXTS = ["Shoigu met his counterpart Kang Sun-nam in Pyongyang on Wednesday.",
         "The comet passes closest to the Sun in March, astronomers said."]


@pytest.mark.unit
def test_a_missing_onnxruntime_is_one_line(monkeypatch):
    from qa import backend
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(QAError, match=r"pip install 'qa\[onnx\]'"):
        backend.model_file("/nowhere", quantized=True)


@pytest.mark.slow
def test_onnx_backends_agree_with_torch(qa_isolated, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    ref = Embedder(threads=1)
    spans = [[(0, 27), (28, len(TEXTS[0]))], [(0, 9)]]
    p_ref, s_ref = ref.encode_with_spans(TEXTS, spans)
    for backend, floor in (("onnx", 0.9999), ("onnx-int8", 0.97)):
        emb = Embedder(threads=1, backend=backend)
        p, s = emb.encode_with_spans(TEXTS, spans)
        assert np.all((p * p_ref).sum(1) > floor), backend
        assert all(float(a @ b) > floor for x, y in zip(s, s_ref) for a, b in zip(x, y)), backend
        assert np.allclose(np.linalg.norm(emb.encode_documents(TEXTS), axis=1), 1, atol=1e-5)
        assert float(emb.encode_query(TEXTS[0]) @ ref.encode_query(TEXTS[0])) > floor
    assert list((tmp_path / "xdg-cache" / "qa" / "onnx").glob("*/model-int8.onnx"))  # exported once, cached


@pytest.mark.unit
def test_old_graphs_of_a_kind_are_pruned_and_other_kinds_kept(tmp_path):
    import os

    from qa.backend import prune_graphs
    made = []
    for i in range(6):
        g = tmp_path / f"reader-{i:016x}.onnx"
        g.write_bytes(b"x")
        os.utime(g, (1000 + i, 1000 + i))
        made.append(g)
    other = tmp_path / "backbone-0000000000000000.onnx"
    other.write_bytes(b"x")
    os.utime(other, (1, 1))
    prune_graphs(made[-1], keep=4)
    assert sorted(tmp_path.glob("reader-*.onnx")) == made[2:]  # the four most recent
    assert other.exists()
