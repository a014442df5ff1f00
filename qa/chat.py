"""The chat: a prompt_toolkit REPL over one corpus, and a line-by-line mode for pipes.

The prompt appears at once: the index and the model load in a background thread and only
the first question waits for them. Each answer runs in a worker thread that the REPL
waits for, so Ctrl-C abandons an answer without killing anything. No input ends the
session except Ctrl-D and `:quit`: every error is printed as one line.

Piped mode (`echo "Who did Shoigu meet?" | qa`): each non-empty line is a question or a
`:command`; answers go to stdout separated by blank lines, errors and notes to stderr.
Its exit code is 0 when at least one question was answered or abstained, else 1.
"""
from __future__ import annotations

import difflib
import json
import re
import sys
import threading
from pathlib import Path
from typing import Callable, TextIO

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import ANSI
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from .citations import citations
from .config import MAX_TOP_K, SEEDS_DIR, Config, state_dir
from .conversation import TURNS, Conversation
from .errors import QAError
from .render import (dim, error_line, render_answer, render_context, render_sources, sanitize, terminal_width,
                     use_color, warn, wrap)

__all__ = ["run_chat", "run_piped", "Chat", "CommandCompleter", "COMMANDS"]

MAX_HISTORY_LINE = 4000  # longer lines (pastes) are not written to the history file
PROMPT = "qa> "

COMMANDS: dict[str, tuple[str, str]] = {
    ":help": ("", "show this help"),
    ":sources": ("", "the full paragraphs behind the last answer, quotes highlighted"),
    ":open": ("N", "source [N] of the last answer with the paragraphs around it"),
    ":k": ("N", "read the N best paragraphs per question"),
    ":json": ("", "toggle answers as JSON"),
    ":corpus": ("DIR", "switch to another folder of documents (indexes it if needed)"),
    ":reindex": ("", "re-read the corpus, embedding only what changed"),
    ":new": ("", "new conversation: follow-ups forget the previous answers"),
    ":quit": ("", "leave (Ctrl-D works too)"),
}
ALIASES = {":q": ":quit", ":exit": ":quit", ":h": ":help", ":?": ":help"}


# -- loading ---------------------------------------------------------------------------------------
def _open_qa(corpus: Path, store, progress, notice):
    """Open (building if needed) the QA for `corpus` and warm it up. Tests replace this."""
    from .pipeline import QA
    qa = QA(corpus, store, progress=progress, notice=notice)
    qa.warm_up()  # load the models now rather than at the first question
    return qa


BACKGROUND_THREADS = ("qa-loader", "qa-answer")  # what cli.cmd_chat checks before the process ends


class Cancelled(Exception):
    """Raised inside the loader's progress callback when the chat ends while it indexes; the
    index under construction is dropped (the previous one stays), the lock is released."""


class _Steps:
    """progress(done, total) with the `phase(text)` the indexer also reports to."""

    def __init__(self, progress: Callable[[int, int], None], phase: Callable[[str], None]):
        self._progress, self.phase = progress, phase

    def __call__(self, done: int, total: int) -> None:
        self._progress(done, total)


class Loader:
    """Opens a QA in a daemon thread so the prompt is usable while the model and index load."""

    def __init__(self, corpus: Path, store, notice: Callable[[str], None]):
        self.corpus = corpus
        self.store = store
        self.status = "loading model and index…"
        self.qa = None
        self.error: str | None = None
        self._notice = notice
        self._done = threading.Event()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qa-loader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.qa = _open_qa(self.corpus, self.store, _Steps(self._progress, self._phase), self._notice)
        except BaseException as e:  # noqa: BLE001 - reported at the next question, never raised here
            self.error = error_line(e)
        finally:
            self._done.set()

    def _progress(self, done: int, total: int) -> None:
        self._stop_if_cancelled()
        self.status = f"indexing {done}/{total} ({100 * done // max(total, 1)}%)"

    def _phase(self, text: str) -> None:
        self._stop_if_cancelled()
        self.status = f"{text}…"

    def _stop_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("indexing stopped: the chat ended")

    def cancel(self, wait: float = 0.0) -> bool:
        """Stop indexing at its next progress step; True once the loader thread has ended (it
        cannot be stopped while the model itself loads: the caller decides how long to wait)."""
        self._cancel.set()
        self._thread.join(wait)
        return not self._thread.is_alive()

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self):
        """The open QA; polls so that Ctrl-C can abandon the wait (loading goes on)."""
        while not self._done.wait(0.05):
            pass
        if self.qa is None:
            raise QAError(f"no index: {self.error}")
        return self.qa


def call_interruptibly(fn: Callable[[], object]):
    """Run `fn` in a daemon thread and wait for it; Ctrl-C abandons it (its result is dropped)."""
    box: dict = {}
    done = threading.Event()

    def work():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=work, name="qa-answer", daemon=True).start()
    while not done.wait(0.05):
        pass
    if "error" in box:
        raise box["error"]
    return box["value"]


_C1 = re.compile(r"[\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def answer_json(answer) -> str:
    """The answer as indented JSON; C1 controls escaped so the text stays safe for a terminal."""
    text = json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# -- state and commands ----------------------------------------------------------------------------
class Chat:
    """REPL state shared by the interactive and piped modes: the loader, the conversation, settings.

    Output goes through callbacks so the same commands work on a terminal and in a pipe:
    `show` (answers, sources), `note` (status, hints) and `error` (one-line problems), and
    `show_raw` for what must reach the screen as it is (JSON: a line break inside a string
    would make what a person copies no JSON); `show` when not given.
    """

    def __init__(self, corpus, store, top_k: int | None = None, *, show: Callable[[str], None],
                 note: Callable[[str], None], error: Callable[[str], None], color: bool,
                 background_note: Callable[[str], None] | None = None, announce_wait: bool = True,
                 show_raw: Callable[[str], None] | None = None):
        self.corpus = Path(corpus).expanduser()
        self.store = store
        self._home = (self.corpus, store)  # a --store given on the command line belongs to this corpus
        self.top_k = Config.from_env().top_k if top_k is None else top_k
        self.as_json = False
        self.conversation: Conversation | None = None  # with the open QA, made at the first question
        self.last = None  # (answer, index) of the last answer, for :sources and :open
        self.answered = 0
        self.show, self.note, self.error, self.color = show, note, error, color
        self.show_raw = show_raw or show
        self._background_note = background_note or note
        self._announce_wait = announce_wait
        self.loader = Loader(self.corpus, store, self._background_note)

    # -- lines -------------------------------------------------------------------------------------
    def run_line(self, line: str) -> bool:
        """Handle one line without ever raising; False when the user asked to leave."""
        try:
            return self.handle(line)
        except KeyboardInterrupt:
            self.note("cancelled")
        except Exception as e:  # noqa: BLE001 - the REPL must survive any input
            self.error(error_line(e))
        return True

    def handle(self, line: str) -> bool:
        # line breaks only: str.splitlines() would also split at form feeds, file separators, ...
        lines = [ln.strip() for ln in _LINE_BREAK.split(line) if ln.strip()]
        if len(lines) > 1:  # a multi-line paste: each line on its own, as piped input is read
            self.note(f"{len(lines)} lines pasted: each is handled on its own")
            for ln in lines:
                if not self.run_line(ln):
                    return False
            return True
        line = lines[0] if lines else ""
        if not line:
            return True
        if line.startswith(":"):
            return self.command(line)
        self.ask(line)
        return True

    def close(self, wait: float = 2.0) -> bool:
        """At the end of the session: stop background indexing; True when nothing is left running."""
        return self.loader.cancel(wait)

    def ask(self, question: str) -> None:
        from .pipeline import clean_question
        clean_question(question)  # bad input fails before waiting for the model
        if self._announce_wait and not self.loader.ready:
            self.note(f"{self.loader.status} (Ctrl-C to cancel)")
        qa = self.loader.wait()
        talk, k = self._conversation_with(qa), self.top_k
        # remembered only once shown: an answer abandoned with Ctrl-C is no turn of the conversation
        answer = call_interruptibly(lambda: talk.ask(question, k, remember=False))
        talk.remember(answer)
        self.last = (answer, qa.index)
        self.answered += 1
        if self.as_json:
            self.show_raw(answer_json(answer))
        else:
            self.show(render_answer(answer, color=self.color))

    @property
    def history(self) -> list:
        """The answers follow-up questions are read against, oldest first."""
        return self.conversation.history if self.conversation is not None else []

    def _conversation_with(self, qa) -> Conversation:
        if self.conversation is None or self.conversation.qa is not qa:
            self.conversation = Conversation(qa, turns=TURNS)
        return self.conversation

    def status_line(self) -> str:
        """The bottom toolbar: corpus, size and model once loaded, else what is loading."""
        ld = self.loader
        name = ld.corpus.name or str(ld.corpus)
        if not ld.ready:
            return sanitize(f" {name} │ {ld.status}")
        if ld.qa is None:
            return sanitize(f" {name} │ not loaded: {ld.error}")
        idx = ld.qa.index
        parts = [idx.name, f"{len(idx.documents)} documents", f"{len(idx.paragraphs)} paragraphs",
                 str(idx.manifest.get("model", "?")), f"k={self.top_k}"]
        if self.as_json:
            parts.append("json")
        return sanitize(" " + " │ ".join(parts) + " │ :help")

    # -- commands ----------------------------------------------------------------------------------
    def command(self, line: str) -> bool:
        parts = line.split(None, 1)
        name = ALIASES.get(parts[0].lower(), parts[0].lower())
        arg = parts[1].strip() if len(parts) > 1 else ""
        if name not in COMMANDS:
            self.error(self._unknown(name))
            return True
        if arg and not COMMANDS[name][0]:
            self.error(f"{name} takes no argument")
            return True
        return getattr(self, "cmd_" + name[1:])(arg) is not False

    @staticmethod
    def _unknown(name: str) -> str:
        if name == ":":
            return "a command follows the colon, e.g. :help"
        close = difflib.get_close_matches(name, [*COMMANDS, *ALIASES], n=1, cutoff=0.7)
        hint = f"; did you mean {ALIASES.get(close[0], close[0])}?" if close else "; :help lists them"
        return f"unknown command {name[:40]}{hint}"

    def cmd_help(self, _arg: str = "") -> None:
        lines = ["Ask a question in plain words; follow-ups (\"What is his job?\") use the previous answers."]
        for name, (arg, text) in COMMANDS.items():
            lines.append(f"  {(name + ' ' + arg).strip():<14}{text}")
        lines.append("Tab completes commands; Up/Down and Ctrl-R search the history; "
                     "Ctrl-C cancels; Ctrl-D leaves.")
        self.show("\n".join(lines))

    def cmd_sources(self, _arg: str = "") -> None:
        if self._need_answer():
            answer, index = self.last
            self.show(render_sources(answer, index, color=self.color))

    def cmd_open(self, arg: str) -> None:
        if not self._need_answer():
            return
        answer, index = self.last
        cites = citations(answer)
        n = _int(arg)
        if not cites:
            self.error("the last answer cites nothing to open")
        elif n is None or not 1 <= n <= len(cites):
            self.error(f"usage: :open N, with N from 1 to {len(cites)} (the [N] markers of the last answer)")
        else:
            c = cites[n - 1]
            self.show(render_context(index, c.doc, c.paragraph, color=self.color, at=c.start))

    def cmd_k(self, arg: str) -> None:
        if not arg:
            self.note(f"k = {self.top_k}")
            return
        n = _int(arg)
        if n is None or not 1 <= n <= MAX_TOP_K:
            self.error(f"usage: :k N, with N from 1 to {MAX_TOP_K} (now {self.top_k})")
            return
        self.top_k = n
        self.note(f"k = {n}: questions read the {n} best paragraphs")

    def cmd_json(self, _arg: str = "") -> None:
        self.as_json = not self.as_json
        self.note("answers as JSON" if self.as_json else "answers as text")

    def cmd_corpus(self, arg: str) -> None:
        if not arg:
            self.note(f"corpus: {self.corpus}  (:corpus DIR switches)")
            return
        path = Path(arg).expanduser()
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):  # e.g. a NUL byte in the name
            is_dir = False
        if not is_dir:
            self.error(f"not a folder: {arg[:200]}")
            return
        home, home_store = self._home
        store = home_store if path.resolve() == home.resolve() else None
        self._switch(path, store)

    def cmd_reindex(self, _arg: str = "") -> None:
        self._switch(self.corpus, self.store)

    def cmd_new(self, _arg: str = "") -> None:
        if self.conversation is not None:
            self.conversation.reset()
        self.note("new conversation")

    def cmd_quit(self, _arg: str = "") -> bool:
        return False

    def _switch(self, corpus: Path, store) -> None:
        """Open `corpus` in the background; questions wait for it, the old answers stay viewable."""
        if not self.loader.ready:
            self.loader.cancel()  # the corpus it was opening is no longer wanted
        self.corpus, self.store = corpus, store
        self.conversation = None  # the next question starts one with the new QA
        self.loader = Loader(corpus, store, self._background_note)
        self.note(f"opening {corpus} in the background (new conversation)")

    def _need_answer(self) -> bool:
        if self.last is None:
            self.note("no answer yet: ask a question first")
            return False
        return True


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


# -- the prompt_toolkit session --------------------------------------------------------------------
class CommandCompleter(Completer):
    """Tab-completes the `:` commands, and folder names after `:corpus `."""

    def __init__(self):
        self._paths = PathCompleter(only_directories=True, expanduser=True)

    def get_completions(self, document, complete_event):
        text = document.text_before_cursor.lstrip()
        if not text.startswith(":"):
            return
        if not any(ch.isspace() for ch in text):
            for name, (_arg, help_text) in COMMANDS.items():
                if name.startswith(text.lower()):
                    yield Completion(name, start_position=-len(text), display_meta=help_text)
            return
        head, _, rest = text.partition(" ")
        if head.lower() == ":corpus":
            rest = rest.lstrip()
            yield from self._paths.get_completions(Document(rest, len(rest)), complete_event)


class SafeFileHistory(FileHistory):
    """A FileHistory that never breaks the prompt: pastes are not kept, write errors are ignored."""

    def store_string(self, string: str) -> None:
        if len(string) > MAX_HISTORY_LINE:
            return
        try:
            super().store_string(string)
        except OSError:
            pass


def _history():
    """Up-arrow history in the XDG state dir; in memory when that folder cannot be written."""
    try:
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "chat_history"
        with open(path, "ab"):
            pass  # fail now, not at the first question, when it cannot be written
        return SafeFileHistory(str(path))
    except OSError:
        return InMemoryHistory()


def _session(chat: Chat, input=None, output=None) -> PromptSession:
    return PromptSession(
        PROMPT, history=_history(), auto_suggest=AutoSuggestFromHistory(), completer=CommandCompleter(),
        complete_while_typing=False,  # Tab completes; Up searches by prefix instead
        enable_history_search=True, bottom_toolbar=chat.status_line, refresh_interval=0.5,
        input=input, output=output)


class _Terminal:
    """Writes the chat's output between prompts with print_formatted_text, on the real stdout."""

    def __init__(self, stdout: TextIO, color: bool):
        self.stdout = stdout
        self.color = color

    def show(self, text: str) -> None:
        print_formatted_text(ANSI(wrap(text, terminal_width(self.stdout))), file=self.stdout, end="\n\n")

    def show_raw(self, text: str) -> None:
        print_formatted_text(ANSI(text), file=self.stdout, end="\n\n")

    def note(self, text: str) -> None:
        self.show(dim(text, self.color))

    def error(self, text: str) -> None:
        self.show(warn(text, self.color))

    def background(self, text: str) -> None:
        """From the loader thread: through sys.stdout, which patch_stdout prints above the prompt."""
        print(dim(f"qa: {text}", self.color), file=sys.stdout, flush=True)


def run_chat(corpus=SEEDS_DIR, store=None, top_k: int | None = None, *, input=None, output=None) -> int:
    """The interactive chat. `input`/`output` are prompt_toolkit ones (tests inject pipes); 0 on exit."""
    stdout = sys.stdout
    term = _Terminal(stdout, use_color(stdout))
    chat = Chat(corpus, store, top_k, show=term.show, show_raw=term.show_raw, note=term.note, error=term.error,
                color=term.color, background_note=term.background)
    session = _session(chat, input, output)
    term.note(f"qa: questions about {chat.corpus}. :help lists commands, Ctrl-D leaves.")
    with patch_stdout(raw=True):
        while True:
            try:
                line = session.prompt()
            except KeyboardInterrupt:  # Ctrl-C on the prompt: drop the line
                continue
            except EOFError:  # Ctrl-D
                break
            if not chat.run_line(line):
                break
    chat.close()
    return 0


# -- piped -----------------------------------------------------------------------------------------
def _lines(stdin: TextIO):
    """The lines of `stdin`; undecodable bytes become U+FFFD instead of ending the session."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:
        yield from stdin
        return
    encoding = getattr(stdin, "encoding", None) or "utf-8"
    for raw in buffer:
        yield raw.decode(encoding, errors="replace")


def run_piped(corpus=SEEDS_DIR, store=None, top_k: int | None = None, stdin: TextIO | None = None,
              stdout: TextIO | None = None) -> int:
    """Answer each non-empty line of `stdin` (questions or :commands) without the interactive UI.

    Answers go to `stdout` (plain unless it is a terminal), separated by a blank line; errors
    and notes go to stderr as one line each. Returns 0 when at least one question was answered
    or abstained, else 1.
    """
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    color = use_color(stdout)
    blocks = 0

    def show(text: str) -> None:
        nonlocal blocks
        stdout.write(("\n" if blocks else "") + text + "\n")
        stdout.flush()
        blocks += 1

    def note(text: str) -> None:
        print(f"qa: {sanitize(text)}", file=sys.stderr, flush=True)

    def error(text: str) -> None:
        print(f"qa: error: {sanitize(text)}", file=sys.stderr, flush=True)

    chat = Chat(corpus, store, top_k, show=show, note=note, error=error, color=color,
                announce_wait=False)
    for line in _lines(stdin):
        if not chat.run_line(line):
            break
    chat.close()
    return 0 if chat.answered else 1
