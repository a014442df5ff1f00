"""The `qa` command: in-process through qa.cli.main, and as a real `python -m qa` process."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import FOX, PYTHON, REPO_ROOT, SEEDS_PATH, subprocess_env
from qa.cli import build_parser, main

pytestmark = pytest.mark.usefixtures("qa_isolated")

SEED_Q = "Who will lead the Chinese delegation?"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("qa: error:"), err
    assert "Traceback" not in err


def test_ask_prints_quote_and_citation(capsys, seeds_store_dir):
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--store", str(seeds_store_dir))
    assert code == 0, err
    assert "Li Hongzhong" in out
    assert "“" in out and "”" in out  # a quote
    assert f"{FOX} ¶15" in out  # its citation
    assert "Sources" in out and "[1]" in out
    assert "\x1b[" not in out  # not a terminal: no colour
    assert "Traceback" not in err


def test_ask_json(capsys, seeds_store_dir):
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--store", str(seeds_store_dir), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["question"] == SEED_Q and d["abstained"] is False
    assert d["snippets"] and {"text", "doc", "paragraph", "start", "end"} <= set(d["snippets"][0])
    assert any("Li Hongzhong" in s["text"] for s in d["snippets"])
    assert 0.0 <= d["confidence"] <= 1.0


def test_ask_top_k_one(capsys, seeds_store_dir):
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--store", str(seeds_store_dir), "--json", "--top-k", "1")
    assert code == 0, err
    d = json.loads(out)
    assert {(s["doc"], s["paragraph"]) for s in d["snippets"]} == {(FOX, 15)}


def test_ask_unanswerable_exits_1(capsys, seeds_store_dir):
    code, out, err = run_cli(capsys, "ask", "What is the population of Pyongyang?", "--store",
                             str(seeds_store_dir))
    assert code == 1, f"exit {code}: {out.splitlines()[0] if out else err!r}"
    assert "Not in the documents" in out


@pytest.mark.parametrize("question", ["", "   ", "\x00\x1b"])
def test_ask_empty_question_exits_2(capsys, question, seeds_store_dir):
    code, out, err = run_cli(capsys, "ask", question, "--store", str(seeds_store_dir))
    assert code == 2
    assert out == ""
    assert_one_error_line(err)


def test_ask_huge_question_exits_2(capsys, seeds_store_dir):
    code, out, err = run_cli(capsys, "ask", "why " * 25_000, "--store", str(seeds_store_dir))
    assert code == 2
    assert_one_error_line(err)


def test_ask_missing_corpus_exits_2(capsys, tmp_path):
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--corpus", "/nonexistent/qa-corpus",
                             "--store", str(tmp_path / "store"))
    assert code == 2
    assert_one_error_line(err)
    assert "/nonexistent/qa-corpus" in err
    assert not (tmp_path / "store").exists()


def test_ask_corpus_is_a_file_exits_2(capsys, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("hello\n")
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--corpus", str(f), "--store", str(tmp_path / "s"))
    assert code == 2
    assert_one_error_line(err)


def test_ask_empty_corpus_exits_2(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.pdf").write_bytes(b"%PDF-1.4")
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--corpus", str(empty), "--store", str(tmp_path / "s"))
    assert code == 2
    assert_one_error_line(err)
    assert str(empty) in err


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_ask_bad_top_k_is_an_argparse_error(capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["ask", SEED_Q, "--top-k", value])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--top-k" in err and "Traceback" not in err


def test_index_command(capsys, tmp_path, small_corpus):
    store = tmp_path / "store"
    code, out, err = run_cli(capsys, "index", "--corpus", str(small_corpus), "--store", str(store))
    assert code == 0, err
    assert "3 documents" in out and "embedded 3 files" in out
    code, out, err = run_cli(capsys, "index", "--corpus", str(small_corpus), "--store", str(store))
    assert code == 0 and "embedded 0 files" in out and "3 documents" in out


def test_ask_reports_skipped_files(capsys, tmp_path, small_corpus):
    (small_corpus / "broken.txt").write_bytes(b"\xff\xfe not utf-8 \xff")
    code, out, err = run_cli(capsys, "ask", "When will the comet pass closest to the Sun?", "--corpus",
                             str(small_corpus), "--store", str(tmp_path / "store"))
    assert code in (0, 1)
    assert "broken.txt" in err and "UTF-8" in err
    assert "Traceback" not in err


def test_parser_has_the_commands():
    p = build_parser()
    args = p.parse_args(["ask", "q", "--json", "--top-k", "3"])
    assert (args.command, args.question, args.json, args.top_k) == ("ask", "q", True, 3)
    assert args.corpus == str(SEEDS_PATH)
    args = p.parse_args(["eval", "x.jsonl", "--fail-under", "hit@3=0.5", "--fail-under", "mrr=0.1"])
    assert args.fail_under == ["hit@3=0.5", "mrr=0.1"]


# -- real processes ---------------------------------------------------------------------------------

def test_subprocess_ask(tmp_path, seeds_store_dir):
    r = subprocess.run([PYTHON, "-m", "qa", "ask", SEED_Q, "--store", str(seeds_store_dir)],
                       cwd=REPO_ROOT, env=subprocess_env(tmp_path), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Li Hongzhong" in r.stdout and f"{FOX} ¶15" in r.stdout
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "xdg-cache" / "qa").exists()  # the given store was used, nothing cached


def test_subprocess_empty_question_fails_fast(tmp_path):
    t0 = time.perf_counter()
    r = subprocess.run([PYTHON, "-X", "importtime", "-m", "qa", "ask", "  "], cwd=REPO_ROOT,
                       env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - t0
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("import time:")]
    assert lines and len(lines) == 1 and lines[0].startswith("qa: error:"), r.stderr[-2000:]
    assert "sentence_transformers" not in r.stderr  # bad input fails before the model loads
    assert elapsed < 5


def test_help_is_fast_and_does_not_import_the_model(tmp_path):
    env = subprocess_env(tmp_path)
    subprocess.run([PYTHON, "-m", "qa", "--help"], cwd=REPO_ROOT, env=env, capture_output=True,
                   timeout=60)  # warm the bytecode cache
    t0 = time.perf_counter()
    r = subprocess.run([PYTHON, "-X", "importtime", "-m", "qa", "--help"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr[-2000:]
    assert "usage: qa" in r.stdout and "ask" in r.stdout and "eval" in r.stdout
    imported = {ln.split("|")[-1].strip() for ln in r.stderr.splitlines() if ln.startswith("import time:")}
    assert imported, "no -X importtime output"
    assert "sentence_transformers" not in imported
    assert not {m for m in imported if m == "torch" or m.startswith("torch.")}
    assert not {m for m in imported if m.startswith("transformers")}
    assert elapsed < 2.0, f"qa --help took {elapsed:.2f} s"
