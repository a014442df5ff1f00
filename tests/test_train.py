"""train/reader.py end to end on a tiny slice (CPU, seconds): data, negatives, training, the
adapter file and model card, and the shipped inference code reading what it wrote."""
from __future__ import annotations

import gzip
import importlib.util
import json
import random
import sys

import pytest

from conftest import REPO_ROOT

TRAIN = REPO_ROOT.parent / "shared" / "train" / "squad-v1.1-train.json.gz"
EVAL = REPO_ROOT.parent / "shared" / "eval" / "squad-v1.1" / "questions.jsonl"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not TRAIN.exists(), reason="../shared/train is not beside the checkout")]


def _script():
    pytest.importorskip("peft", reason="the `train` extra (peft) is not installed")
    spec = importlib.util.spec_from_file_location("train_reader", REPO_ROOT / "train" / "reader.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny_squad(tmp_path_factory):
    """Three articles of SQuAD train, four paragraphs each, in the official layout."""
    with gzip.open(TRAIN, "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    tiny = {"version": "1.1", "data": [{"title": a["title"], "paragraphs": a["paragraphs"][:4]} for a in data[:3]]}
    path = tmp_path_factory.mktemp("tiny") / "tiny.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(tiny, f)
    return path


def test_unanswerable_examples_are_made_and_deterministic(tiny_squad):
    mod = _script()
    paragraphs = mod.load_squad(tiny_squad)
    gold = mod.gold_examples(paragraphs)
    assert gold and all(e.context[e.answer_start:e.answer_start + len(e.answer_text)] == e.answer_text for e in gold)
    negs = mod.bm25_negatives(paragraphs, gold, random.Random(1), 0.5)
    assert negs and all(n.answer_start == -1 and n.kind == "bm25" for n in negs)
    by_q = {e.qid: e for e in gold}
    for n in negs:  # another article's paragraph that does not hold the answer
        g = by_q[n.qid.removesuffix("-bm25")]
        assert n.context != g.context and g.answer_text.lower() not in n.context.lower()
    edits = mod.perturbed(gold, random.Random(1), 1.0)
    assert {e.kind for e in edits} <= {"swap", "negation"} and len(edits) > len(gold) // 2
    for e in edits:
        g = by_q[e.qid.rsplit("-", 1)[0]]
        assert e.question != g.question and e.context == g.context and e.answer_start == -1
    again = mod.perturbed(gold, random.Random(1), 1.0)
    assert [e.question for e in again] == [e.question for e in edits]


def test_training_writes_an_adapter_the_reader_loads(tiny_squad, tmp_path):
    mod = _script()
    out = tmp_path / "reader"
    rc = mod.main(["--train", str(tiny_squad), "--limit", "24", "--epochs", "1", "--batch-size", "8",
                   "--max-len", "160", "--stride", "64", "--eval", str(EVAL), "--eval-limit", "4",
                   "--run", str(tmp_path / "run"), "--out", str(out), "--threads", "2"])
    assert rc == 0
    weights, card_path = out.with_suffix(".safetensors"), out.with_suffix(".json")
    card = json.loads(card_path.read_text())
    assert card["format"] == "qa-reader-lora-1" and card["windows"] == {"max_len": 160, "stride": 64,
                                                                          "no_answer": "[CLS]",
                                                                          "contexts": "paragraphs"}
    assert card["data"]["questions"] == 24 and card["data"]["examples"]["bm25"] > 0
    assert card["training"]["complete"] and card["training"]["questions_seen"] == 24
    assert card["recipe"]["limit"] == 24 and len(card["curve"]) == 1
    assert "CC BY-SA 4.0" in card["data"]["license"] and card["commit"]
    assert card["metrics"]["squad-v1.1 dev, gold paragraph"]["questions"] == 4
    from safetensors import safe_open
    with safe_open(str(weights), "pt") as f:
        keys = set(f.keys())
    assert {"head.weight", "head.bias"} <= keys
    assert "encoder.layer.0.attention.self.query.lora_A" in keys
    assert not any("word_embeddings" in k for k in keys)  # never the backbone
    assert weights.stat().st_size < 5e6
    from qa.spans import SpanModel
    passage = "The harbour bridge in Marlow reopened on Tuesday after eight months of repairs."
    span, = SpanModel(weights).read("When did the bridge reopen?", [passage])
    assert 0 <= span.start <= span.end <= len(passage) and 0.0 <= span.prob <= 1.0


TINY = ["--limit", "24", "--batch-size", "4", "--max-len", "160", "--stride", "64", "--eval-limit", "0",
        "--threads", "1"]


def _weights(path):
    from safetensors.torch import load_file
    return load_file(str(path))


@pytest.mark.parametrize("recipe", [[], ["--rank", "0", "--train-layers", "2", "--lr", "2e-4"]],
                         ids=["lora", "top-layers"])
def test_a_stopped_run_resumes_to_the_same_weights(tiny_squad, tmp_path, recipe):
    """Stopped at step 3 (as by a kill after a checkpoint) and continued, the run ends with the
    weights of a run that never stopped: optimizer, schedule, data position and RNG resume."""
    mod = _script()
    base = ["--train", str(tiny_squad), *TINY, *recipe]
    assert mod.main([*base, "--run", str(tmp_path / "a"), "--out", str(tmp_path / "a" / "r")]) == 0
    assert mod.main([*base, "--run", str(tmp_path / "b"), "--out", str(tmp_path / "b" / "r"),
                     "--stop-after-steps", "3"]) == 0
    card = json.loads((tmp_path / "b" / "r.json").read_text())
    assert card["training"]["step"] == 3 and not card["training"]["complete"]
    # the same command continues; the recipe comes from the run folder
    assert mod.main(["--run", str(tmp_path / "b"), "--out", str(tmp_path / "b" / "r"), *TINY[-4:]]) == 0
    card = json.loads((tmp_path / "b" / "r.json").read_text())
    assert card["training"]["complete"] and card["training"]["invocations"] == 2
    a, b = _weights(tmp_path / "a" / "r.safetensors"), _weights(tmp_path / "b" / "r.safetensors")
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_a_shipped_adapter_is_a_resume_point(tiny_squad, tmp_path):
    """With the checkpoint lost, the adapter and its card carry the recipe and the position."""
    mod = _script()
    base = ["--train", str(tiny_squad), *TINY]
    assert mod.main([*base, "--run", str(tmp_path / "a"), "--out", str(tmp_path / "ship"),
                     "--stop-after-steps", "2"]) == 0
    assert mod.main(["--run", str(tmp_path / "new"), "--from-adapter", str(tmp_path / "ship"),
                     "--out", str(tmp_path / "ship2"), *TINY[-4:]]) == 0
    card = json.loads((tmp_path / "ship2.json").read_text())
    assert card["recipe"]["limit"] == 24 and card["training"]["complete"]
    assert card["training"]["step"] == card["training"]["planned_steps"] > 2


def test_a_continued_run_refuses_another_recipe(tiny_squad, tmp_path):
    mod = _script()
    base = ["--train", str(tiny_squad), *TINY, "--run", str(tmp_path / "a"), "--out", str(tmp_path / "r")]
    assert mod.main([*base, "--stop-after-steps", "1"]) == 0
    with pytest.raises(SystemExit, match="--lr"):
        mod.main([*base, "--lr", "1e-3"])


def test_sentence_contexts_keep_the_answer_exact_and_add_window_negatives(tiny_squad):
    """--contexts sentences: each answer still slices its (shorter) context exactly; the other
    windows of a paragraph become 'no answer' examples that never hold the answer text."""
    mod = _script()
    gold = mod.gold_examples(mod.load_squad(tiny_squad))
    out = mod.sentence_contexts(gold, random.Random(1), 1.0)
    kept = [e for e in out if e.kind == "gold"]
    assert len(kept) == len(gold)
    for e, g in zip(kept, gold):
        assert e.context[e.answer_start:e.answer_start + len(e.answer_text)] == e.answer_text
        assert e.context in g.context and len(e.context) <= len(g.context)
    assert sum(len(e.context) for e in kept) < 0.8 * sum(len(g.context) for g in gold)  # less to read
    windows = [e for e in out if e.kind == "window"]
    assert windows and all(e.answer_start == -1 for e in windows)
    by_q = {g.qid: g for g in gold}
    assert all(by_q[w.qid.removesuffix("-window")].answer_text not in w.context for w in windows)


def test_a_continued_run_finds_its_data_where_this_machine_keeps_it(tiny_squad, tmp_path):
    """The card records the data path of the machine that trained; another machine passes its own."""
    mod = _script()
    base = ["--train", str(tiny_squad), *TINY]
    assert mod.main([*base, "--run", str(tmp_path / "a"), "--out", str(tmp_path / "ship"),
                     "--stop-after-steps", "1"]) == 0
    card_path = tmp_path / "ship.json"
    card = json.loads(card_path.read_text())
    card["recipe"]["train"] = "/elsewhere/squad.json.gz"
    card_path.write_text(json.dumps(card))
    assert mod.main(["--run", str(tmp_path / "b"), "--from-adapter", str(tmp_path / "ship"), "--train",
                     str(tiny_squad), "--out", str(tmp_path / "ship2"), "--stop-after-steps", "2", *TINY[-4:]]) == 0
    assert json.loads((tmp_path / "ship2.json").read_text())["training"]["step"] == 2


def test_a_finished_run_can_be_extended_to_more_epochs(tiny_squad, tmp_path):
    """--epochs larger than the run's own continues it (its optimizer and position kept) to the
    longer plan; fewer epochs is another recipe, refused."""
    mod = _script()
    base = ["--train", str(tiny_squad), *TINY, "--run", str(tmp_path / "a"), "--out", str(tmp_path / "r")]
    assert mod.main(base) == 0
    one = json.loads((tmp_path / "r.json").read_text())["training"]
    assert one["complete"] and one["step"] == one["steps_per_epoch"]
    assert mod.main([*base, "--epochs", "2"]) == 0
    two = json.loads((tmp_path / "r.json").read_text())
    assert two["training"]["complete"] and two["training"]["step"] == 2 * one["steps_per_epoch"]
    assert two["training"]["invocations"] == 2 and two["recipe"]["epochs"] == 2.0
    with pytest.raises(SystemExit, match="--epochs"):
        mod.main([*base, "--epochs", "0.5"])
