"""What the command line shows besides answers: one-line notices and progress bars on stderr.

Front ends (`qa/cli.py`, `qa/chat.py`) own the screen. The library (index, pipeline, evaluate)
never imports this module: it takes `notice(msg)` and `progress(done, total)` callbacks, and a
front end passes these.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

__all__ = ["notice", "progress_bar", "Progress", "clear_line"]

MIN_TOTAL = 50  # smaller jobs finish before a bar is worth drawing


EVERY = 30.0  # seconds between progress lines when not on a terminal
_shown: list["Progress"] = []  # the progress displays whose line may be on the screen


def clear_line() -> bool:
    """End any transient bar or phase line, so what is printed next starts a line of its own;
    True when there was one."""
    cleared = False
    for p in _shown:
        cleared = p.clear() or cleared
    return cleared


def notice(msg: str, stream: TextIO | None = None) -> None:
    """`qa: msg` on stderr, on a line of its own."""
    clear_line()
    print(f"qa: {msg}", file=stream if stream is not None else sys.stderr)


class Progress:
    """A `progress(done, total)` callback for stderr, with `phase(text)` for the steps that show
    no count (loading the model, writing the store).

    On a terminal: a one-line bar with the rate and the time left, redrawn at most ten times a
    second, for jobs of at least MIN_TOTAL; phases as a transient line the bar replaces. Not on a
    terminal (a log, CI): a line every EVERY seconds while a big job runs, and one when it ends.
    The rate counts from the first step done, so loading a model does not inflate the time left.
    """

    def __init__(self, label: str, stream: TextIO | None = None, every: float = EVERY):
        self.label = label
        self.out = stream if stream is not None else sys.stderr
        try:
            self.tty = self.out.isatty()
        except (AttributeError, ValueError, OSError):  # closed or fake streams
            self.tty = False
        self.every = every
        self.t0: float | None = None
        self.first: tuple[float, int] | None = None  # (time, done) of the first step done
        self.last = 0.0
        self.transient = False
        _shown.append(self)
        del _shown[:-8]

    def phase(self, text: str) -> None:
        if self.tty:
            self.out.write(f"\r\x1b[K{self.label}: {text}…")
            self.out.flush()
            self.transient = True

    def clear(self) -> bool:
        """Remove a transient line (before anything else is printed); True when there was one."""
        if not self.transient:
            return False
        self.out.write("\r\x1b[K")
        self.out.flush()
        self.transient = False
        return True

    def _left(self, now: float, done: int, total: int) -> str:
        """"28/s, 1 min 05 s left" from the steps after the first, or "starting"."""
        if self.first is None or done <= self.first[1] or now - self.first[0] < 0.5:
            return "starting"
        rate = (done - self.first[1]) / (now - self.first[0])
        return f"{rate:.0f}/s, {_duration((total - done) / rate)} left"

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.t0 is None or done == 0:
            self.t0, self.first, self.last = now, None, now
        elif self.first is None:
            self.first = (now, done)
        if total < MIN_TOTAL:
            self.clear()
            return
        elapsed = now - self.t0
        if not self.tty:
            if done >= total:
                self.out.write(f"qa: {self.label}: {total} done in {elapsed:.1f} s "
                               f"({total / max(elapsed, 1e-9):.0f}/s)\n")
                self.out.flush()
            elif now - self.last >= self.every:
                self.last = now
                self.out.write(f"qa: {self.label}: {done}/{total} ({100 * done / total:.0f}%, "
                               f"{self._left(now, done, total)})\n")
                self.out.flush()
            return
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        frac = done / total if total else 1.0
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        if done >= total:
            tail = f"{done / max(elapsed, 1e-9):.0f}/s, {elapsed:.0f} s"
        else:
            tail = self._left(now, done, total)
        self.out.write(f"\r\x1b[K{self.label} [{bar}] {done}/{total} ({tail})")
        self.transient = done < total
        if done >= total:
            self.out.write("\n")
        self.out.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_bar(label: str, stream: TextIO | None = None) -> Progress:
    """The progress display for a job called `label` ("indexing", "questions")."""
    return Progress(label, stream)
