"""The `qa` command: in-process through qa.cli.main, and as a real `python -m qa` process."""
from __future__ import annotations

import io
import json
import subprocess
import time

import pytest

from conftest import FOX, PYTHON, REPO_ROOT, SEEDS_PATH, subprocess_env
from qa import ui
from qa.cli import build_parser, main
from qa.config import Config

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


@pytest.mark.unit
@pytest.mark.parametrize("question", ["", "   ", "\x00\x1b", "?", "???", "the", "\U0001f642", "hello",
                                      "help", "\x1b[31m\x1b[0m"])
def test_ask_empty_question_exits_2(capsys, question, tmp_path):
    code, out, err = run_cli(capsys, "ask", question, "--store", str(tmp_path / "store"))
    assert code == 2
    assert out == ""
    assert_one_error_line(err)
    assert not (tmp_path / "store").exists()  # bad input fails before the index is touched


@pytest.mark.unit
def test_ask_huge_question_exits_2(capsys, tmp_path):
    code, out, err = run_cli(capsys, "ask", "why " * 25_000, "--store", str(tmp_path / "store"))
    assert code == 2
    assert_one_error_line(err)


@pytest.mark.unit
@pytest.mark.parametrize("var, value", [("QA_THREADS", "abc"), ("QA_ABSTAIN_BELOW", "high"),
                                        ("QA_NER", "maybe"), ("QA_ANSWERER", "gpt")])
def test_a_bad_qa_variable_is_one_error_line(capsys, monkeypatch, tmp_path, var, value):
    monkeypatch.setenv(var, value)
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--store", str(tmp_path / "store"))
    assert code == 2 and out == ""
    assert_one_error_line(err)
    assert f"{var}=" in err
    code, out, err = run_cli(capsys, "index", "--store", str(tmp_path / "store"))
    assert code == 2
    assert_one_error_line(err)
    assert not (tmp_path / "store").exists()


@pytest.mark.unit
def test_ask_missing_corpus_exits_2(capsys, tmp_path):
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--corpus", "/nonexistent/qa-corpus",
                             "--store", str(tmp_path / "store"))
    assert code == 2
    assert_one_error_line(err)
    assert "/nonexistent/qa-corpus" in err
    assert not (tmp_path / "store").exists()


@pytest.mark.unit
def test_ask_corpus_is_a_file_exits_2(capsys, tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("hello\n")
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--corpus", str(f), "--store", str(tmp_path / "s"))
    assert code == 2
    assert_one_error_line(err)


@pytest.mark.unit
def test_ask_empty_corpus_exits_2(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.pdf").write_bytes(b"%PDF-1.4")
    code, out, err = run_cli(capsys, "ask", SEED_Q, "--corpus", str(empty), "--store", str(tmp_path / "s"))
    assert code == 2
    assert_one_error_line(err)
    assert str(empty) in err


@pytest.mark.unit
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
    for name in ("a.epub", "b.epub", "c.odt"):
        (small_corpus / name).write_bytes(b"<p>not read</p>")
    (small_corpus / "d.pdf").write_bytes(b"<p>not a PDF</p>")  # read as a PDF, and skipped with why
    code, out, err = run_cli(capsys, "ask", "When will the comet pass closest to the Sun?", "--corpus",
                             str(small_corpus), "--store", str(tmp_path / "store"))
    assert code in (0, 1)
    assert "broken.txt" in err and "UTF-8" in err
    assert "qa: skipped 3 files qa does not read: .epub x2, .odt x1" in err.splitlines()
    assert "qa: skipped d.pdf: not a readable PDF (corrupt or truncated)" in err.splitlines()
    assert "Traceback" not in err


@pytest.mark.unit
def test_parser_has_the_commands():
    p = build_parser()
    args = p.parse_args(["ask", "q", "--json", "--top-k", "3"])
    assert (args.command, args.question, args.json, args.top_k) == ("ask", "q", True, 3)
    assert args.corpus == str(SEEDS_PATH)
    args = p.parse_args(["eval", "x.jsonl", "--fail-under", "hit@3=0.5", "--fail-under", "mrr=0.1"])
    assert args.fail_under == ["hit@3=0.5", "mrr=0.1"]


@pytest.mark.unit
def test_defaults_live_in_config_not_in_the_parser(capsys):
    p = build_parser()
    for argv in (["ask", "q"], ["chat"], ["eval", "x.jsonl"]):
        assert p.parse_args(argv).top_k is None  # None: Config.top_k, applied by the library
    with pytest.raises(SystemExit):
        p.parse_args(["ask", "--help"])
    assert f"(default {Config().top_k})" in capsys.readouterr().out


@pytest.mark.unit
def test_eval_gets_plain_parameters(monkeypatch):
    import qa.evaluate
    seen = {}

    def fake_main(questions=None, **kw):
        seen.update(kw, questions=questions)
        return 0

    monkeypatch.setattr(qa.evaluate, "main", fake_main)
    assert main(["eval", "x.jsonl", "--limit", "3", "--fail-under", "hit@1=0.5", "--worst", "0"]) == 0
    assert seen == {"questions": "x.jsonl", "corpus": None, "store": None, "top_k": None, "limit": 3,
                    "mode": "hybrid", "answerer": None, "json_out": None, "fail_under": ["hit@1=0.5"],
                    "compare_runs": None, "worst": 0, "progress": ui.progress_bar, "notice": ui.notice}


# -- qa/ui.py: what the command line shows besides answers ------------------------------------------

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.unit
def test_notice_is_one_prefixed_line(capsys):
    ui.notice("skipped broken.txt")
    assert capsys.readouterr().err == "qa: skipped broken.txt\n"


@pytest.mark.unit
def test_progress_bar_on_a_terminal_for_big_jobs_and_one_line_otherwise(monkeypatch):
    quiet = io.StringIO()
    bar = ui.progress_bar("indexing", quiet)
    bar.phase("loading the embedding model")
    for i in range(0, 101):
        bar(i, 100)
    assert quiet.getvalue().startswith("qa: indexing: 100 done in ")  # not a terminal: one line
    assert quiet.getvalue().count("\n") == 1 and quiet.getvalue().endswith("/s)\n")
    tty = FakeTTY()
    small = ui.progress_bar("indexing", tty)
    small(1, 3)
    assert tty.getvalue() == ""
    now = [0.0]
    monkeypatch.setattr(ui.time, "monotonic", lambda: now[0])
    big = ui.progress_bar("questions", tty)
    big.phase("loading the models")
    assert tty.getvalue() == "\r\x1b[Kquestions: loading the models…"
    big(0, 200)
    now[0] = 60.0  # the first step waited a minute for the model
    big(10, 200)
    assert "] 10/200 (starting)" in tty.getvalue()
    now[0] = 61.0
    big(60, 200)  # 50 a second since the first step: the load does not count
    assert "] 60/200 (50/s, 3 s left)" in tty.getvalue()
    for i in range(61, 201):
        now[0] += 0.2
        big(i, 200)
    out = tty.getvalue()
    assert "] 200/200 (" in out and out.endswith(" s)\n") and out.count("\n") == 1


@pytest.mark.unit
def test_progress_off_a_terminal_prints_a_line_every_30_seconds(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(ui.time, "monotonic", lambda: now[0])
    log = io.StringIO()
    bar = ui.progress_bar("indexing", log)
    bar(0, 1000)
    for done in range(10, 1001, 10):  # 10 paragraphs a second: 100 s in all
        now[0] += 1.0
        bar(done, 1000)
    lines = log.getvalue().splitlines()
    assert lines[:3] == ["qa: indexing: 300/1000 (30%, 10/s, 1 min 10 s left)",
                         "qa: indexing: 600/1000 (60%, 10/s, 40 s left)",
                         "qa: indexing: 900/1000 (90%, 10/s, 10 s left)"]
    assert lines[3].startswith("qa: indexing: 1000 done in 100.0 s") and len(lines) == 4


@pytest.mark.unit
def test_a_notice_or_summary_does_not_run_into_a_bar_or_phase():
    tty = FakeTTY()
    bar = ui.progress_bar("indexing", tty)
    bar.phase("writing the store")
    assert ui.clear_line() is True and tty.getvalue().endswith("\r\x1b[K")
    assert ui.clear_line() is False  # nothing left to clear


# -- real processes ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_subprocess_ask(tmp_path, seeds_store_dir):
    r = subprocess.run([PYTHON, "-m", "qa", "ask", SEED_Q, "--store", str(seeds_store_dir)],
                       cwd=REPO_ROOT, env=subprocess_env(tmp_path), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Li Hongzhong" in r.stdout and f"{FOX} ¶15" in r.stdout
    assert "Traceback" not in r.stderr
    # the given store was used: nothing cached but the session's question graphs (conftest.share_graphs)
    assert sorted(p.name for p in (tmp_path / "xdg-cache" / "qa").iterdir()) == ["onnx"]


@pytest.mark.slow
def test_subprocess_index_not_on_a_terminal_prints_one_line(tmp_path):
    corpus = tmp_path / "notes"
    corpus.mkdir()
    for f in range(6):
        (corpus / f"note{f}.txt").write_text("\n\n".join(
            f"Note {f}.{p}: the meeting about budget item {10 * f + p} ended at {p} pm." for p in range(10)))
    r = subprocess.run([PYTHON, "-m", "qa", "index", "--corpus", str(corpus), "--store", str(tmp_path / "s")],
                       cwd=REPO_ROOT, env=subprocess_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: indexing: 60 done in "), r.stderr
    assert "\r" not in r.stderr and "\x1b" not in r.stderr


@pytest.mark.slow
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


@pytest.mark.slow
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


# -- --store that cannot be a store ------------------------------------------------------------------
@pytest.mark.unit
@pytest.mark.parametrize("command", ["ask", "index"])
def test_a_store_that_cannot_be_one_is_one_error_line(capsys, tmp_path, command):
    afile = tmp_path / "afile"
    afile.write_text("x")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Alpha beta gamma.\n")
    q = [SEED_Q] if command == "ask" else []
    for store, words in [(str(afile), "is a file"), (str(afile / "sub"), "is a file"),
                         ("http://localhost:19530/qa", "not supported yet"),
                         ("milvus://localhost:19530", "no collection"),
                         (str(corpus / "store"), "inside the corpus")]:
        code, out, err = run_cli(capsys, command, *q, "--corpus", str(corpus), "--store", store)
        assert code == 2 and out == "", err
        assert_one_error_line(err)
        assert words in err
    assert not (tmp_path / "http:").exists() and not (corpus / "store").exists()


def test_damaged_store_heals_with_one_notice(capsys, tmp_path, small_corpus):
    store = tmp_path / "store"
    code, out, err = run_cli(capsys, "index", "--corpus", str(small_corpus), "--store", str(store))
    assert code == 0, err
    (segment,) = (store / "segments").glob("s-*")  # the vectors live in the store's one segment
    (segment / "vectors.npy").write_bytes(b"")
    code, out, err = run_cli(capsys, "index", "--corpus", str(small_corpus), "--store", str(store))
    assert code == 0 and "Traceback" not in err
    assert len([ln for ln in err.splitlines() if "rebuilding the index" in ln]) == 1, err
    assert "embedded 3 files" in out


# -- eval output and --help ----------------------------------------------------------------------------
@pytest.mark.unit
def test_eval_json_to_a_missing_folder_fails_before_evaluating(capsys, monkeypatch, tmp_path):
    import qa.evaluate
    monkeypatch.setattr(qa.evaluate, "main", lambda *a, **k: pytest.fail("evaluation started"))
    for out_path, words in [("/nonexistent/dir/out.json", "does not exist"), (str(tmp_path), "is a folder")]:
        code, out, err = run_cli(capsys, "eval", str(SEEDS_PATH / "questions.jsonl"), "--json", out_path)
        assert code == 2 and out == ""
        assert_one_error_line(err)
        assert words in err


@pytest.mark.unit
def test_help_names_every_argument_metric_and_exit_code(capsys):
    from qa.evaluate import METRICS
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
    for name, sp in sub.choices.items():
        for action in sp._actions:
            assert action.help, f"qa {name} {action.dest} has no help"
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 answered, 1 not in the documents" in text and "2 bad input" in text
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(k in text for k, _, _ in METRICS)


@pytest.mark.unit
@pytest.mark.parametrize("command", ["ask", "chat", "eval"])
def test_top_k_is_capped_like_the_chat(capsys, command):
    argv = [command] + (["a question?"] if command == "ask" else []) + ["--top-k", "101"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert "at most 100" in capsys.readouterr().err
    assert build_parser().parse_args([command] + argv[1:-1] + ["100"]).top_k == 100


@pytest.mark.unit
def test_ctrl_c_during_a_bar_ends_on_a_line_of_its_own(monkeypatch, tmp_path):
    from qa import cli
    tty = FakeTTY()
    monkeypatch.setattr(cli.sys, "stderr", tty)

    now = [0.0]
    monkeypatch.setattr(ui.time, "monotonic", lambda: now[0])

    def interrupted(args):
        bar = ui.progress_bar("indexing", tty)
        bar(0, 500)
        now[0] = 1.0
        bar(200, 500)
        assert "] 200/500 (" in tty.getvalue()
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "cmd_index", interrupted)
    assert cli.main(["index", "--corpus", str(tmp_path)]) == 130
    out = tty.getvalue()
    assert out.endswith("\r\x1b[Kqa: interrupted\n")  # the bar is cleared, not run into
