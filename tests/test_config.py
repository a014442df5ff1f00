"""qa.config: every QA_* variable declared once, read through one table, bad values as one line."""
from __future__ import annotations

import ast
import dataclasses
import os
import re
from pathlib import Path

import pytest

from qa import config as C
from qa.config import ENV, ENV_VARS, Config, env_overrides, env_value
from qa.errors import QAError

pytestmark = pytest.mark.unit

FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def test_every_variable_is_declared_once_and_sets_a_config_field():
    assert len(set(ENV_VARS)) == len(ENV_VARS) == len(ENV)
    assert len({v.field for v in ENV}) == len(ENV)
    assert {"QA_MODEL", "QA_THREADS", "QA_BATCH_SIZE", "QA_ABSTAIN_BELOW", "QA_NER", "QA_ANSWERER"} <= set(ENV_VARS)
    for var in ENV:
        assert re.fullmatch(r"QA_[A-Z_]+", var.name)
        assert var.field in FIELDS, var
        assert var.help


def test_no_other_module_names_a_qa_variable():
    """A QA_* name in code outside config.py would be a second, undeclared source of settings."""
    pkg = Path(C.__file__).parent
    found = []
    for path in sorted(pkg.glob("*.py")):
        if path.name == "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"QA_[A-Z_]+", node.value):
                found.append(f"{path.name}: {node.value}")
    assert not found


def test_the_tests_run_without_any_qa_variable():
    assert not [v for v in ENV_VARS if v in os.environ]


@pytest.mark.parametrize("name, text, field, value", [
    ("QA_MODEL", "/models/other", "model", "/models/other"),
    ("QA_THREADS", "3", "threads", 3),
    ("QA_THREADS", "0", "threads", 0),
    ("QA_BATCH_SIZE", "16", "batch_size", 16),
    ("QA_ABSTAIN_BELOW", "0.01", "abstain_below", 0.01),
    ("QA_ABSTAIN_BELOW", "0", "abstain_below", 0.0),
    ("QA_NER", "0", "ner", False),
    ("QA_NER", "off", "ner", False),
    ("QA_NER", "False", "ner", False),
    ("QA_NER", "no", "ner", False),
    ("QA_NER", "1", "ner", True),
    ("QA_NER", "ON", "ner", True),
    ("QA_ANSWERER", "rules", "answerer", "rules"),
    ("QA_ANSWERER", "baseline", "answerer", "baseline"),
    ("QA_MILVUS_TOKEN", "reader:pw", "milvus_token", "reader:pw"),
    ("QA_SERVE_TOKEN", "a-long-random-token", "serve_token", "a-long-random-token"),
])
def test_a_variable_overrides_its_field(name, text, field, value):
    cfg = Config.from_env({name: text})
    assert getattr(cfg, field) == value
    assert type(getattr(cfg, field)) is type(value)
    # nothing else moves
    others = {f: getattr(Config(), f) for f in FIELDS if f != field}
    assert {f: getattr(cfg, f) for f in others} == others


def test_parsed_values_have_the_fields_type():
    samples = {"QA_MODEL": "m", "QA_THREADS": "2", "QA_BATCH_SIZE": "4", "QA_ABSTAIN_BELOW": "0.5",
               "QA_NER": "0", "QA_ANSWERER": "rules", "QA_BACKEND": "onnx-int8",
               "QA_MILVUS_TOKEN": "user:password", "QA_DEVICE": "cpu",
               "QA_SERVE_TOKEN": "t" * 20}
    assert set(samples) == set(ENV_VARS), "a new variable needs a sample here"
    cfg, default = Config.from_env(samples), Config()
    for var in ENV:
        d = getattr(default, var.field)
        if d is not None:
            assert type(getattr(cfg, var.field)) is type(d), var.name


def test_os_environ_is_read_and_empty_means_unset(monkeypatch):
    monkeypatch.setenv("QA_BATCH_SIZE", "12")
    monkeypatch.setenv("QA_THREADS", "")
    cfg = Config.from_env()
    assert cfg.batch_size == 12 and cfg.threads == Config().threads
    assert Config.from_env({}) == Config()


def test_overrides_beat_the_environment_and_none_is_no_override():
    env = {"QA_BATCH_SIZE": "12", "QA_MODEL": "x"}
    cfg = Config.from_env(env, batch_size=2, model=None, top_k=7)
    assert (cfg.batch_size, cfg.model, cfg.top_k) == (2, "x", 7)


@pytest.mark.parametrize("name, text, needle", [
    ("QA_THREADS", "abc", "not a whole number"),
    ("QA_THREADS", "2.5", "not a whole number"),
    ("QA_THREADS", "-1", "at least 0"),
    ("QA_BATCH_SIZE", "0", "at least 1"),
    ("QA_ABSTAIN_BELOW", "high", "not a number"),
    ("QA_ABSTAIN_BELOW", "nan", "finite"),
    ("QA_NER", "maybe", "on/off"),
    ("QA_ANSWERER", "gpt", "reader, rules, baseline"),
])
def test_a_bad_value_is_one_line_naming_the_variable(name, text, needle):
    with pytest.raises(QAError) as e:
        Config.from_env({name: text})
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{name}=") and needle in msg
    assert e.value.__cause__ is None and e.value.__suppress_context__  # no chained traceback


def test_a_huge_bad_value_is_cut_short():
    with pytest.raises(QAError) as e:
        Config.from_env({"QA_THREADS": "x" * 10_000})
    assert len(str(e.value)) < 200


def test_env_value_reads_one_variable():
    assert env_value("ner", {}) is False
    assert env_value("ner", {"QA_NER": "1", "QA_THREADS": "abc"}) is True  # only its own variable
    assert env_value("threads", {"QA_THREADS": "4"}) == 4
    with pytest.raises(KeyError):
        env_value("top_k", {})
    assert env_overrides({"QA_MODEL": "m", "UNRELATED": "1"}) == {"model": "m"}


def test_store_locations(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert C.state_dir() == tmp_path / "state" / "qa"
    assert C.default_store_for(C.SEEDS_DIR) == C.SEEDS_STORE
    a, b = C.default_store_for(tmp_path / "news"), C.default_store_for(tmp_path / "other" / "news")
    assert a != b and a.parent == b.parent == tmp_path / "cache" / "qa" / "stores"
    assert a.name.startswith("news-")
