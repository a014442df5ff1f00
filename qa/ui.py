"""What the command line shows besides answers: one-line notices and progress bars on stderr.

Front ends (`qa/cli.py`, `qa/chat.py`) own the screen. The library (index, pipeline, evaluate)
never imports this module: it takes `notice(msg)` and `progress(done, total)` callbacks, and a
front end passes these.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

__all__ = ["notice", "progress_bar", "Progress"]

MIN_TOTAL = 50  # smaller jobs finish before a bar is worth drawing


def notice(msg: str, stream: TextIO | None = None) -> None:
    """`qa: msg` on stderr."""
    print(f"qa: {msg}", file=stream if stream is not None else sys.stderr)


class Progress:
    """A `progress(done, total)` callback for stderr, with `phase(text)` for the steps that show
    no count (loading the model, writing the store).

    On a terminal: a one-line bar with the rate and the time left, redrawn at most ten times a
    second, for jobs of at least MIN_TOTAL; phases as a transient line the bar replaces. Not on a
    terminal (a log, CI): one line when a big job ends, with its size, time and rate.
    """

    def __init__(self, label: str, stream: TextIO | None = None):
        self.label = label
        self.out = stream if stream is not None else sys.stderr
        try:
            self.tty = self.out.isatty()
        except (AttributeError, ValueError, OSError):  # closed or fake streams
            self.tty = False
        self.t0: float | None = None
        self.last = 0.0
        self.transient = False

    def phase(self, text: str) -> None:
        if self.tty:
            self.out.write(f"\r\x1b[K{self.label}: {text}…")
            self.out.flush()
            self.transient = True

    def clear(self) -> None:
        """Remove a transient phase line (before an answer is printed)."""
        if self.transient:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.transient = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.t0 is None or done == 0:
            self.t0 = now
        if total < MIN_TOTAL:
            self.clear()
            return
        if not self.tty:
            if done >= total:
                secs = now - self.t0
                self.out.write(f"qa: {self.label}: {total} done in {secs:.1f} s "
                               f"({total / max(secs, 1e-9):.0f}/s)\n")
                self.out.flush()
            return
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        frac = done / total if total else 1.0
        elapsed = now - self.t0
        rate = done / max(elapsed, 1e-9)
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        if done >= total:
            tail = f"{rate:.0f}/s, {elapsed:.0f} s"
        elif done and elapsed > 0.5:
            tail = f"{rate:.0f}/s, {_duration((total - done) / rate)} left"
        else:
            tail = "starting"
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
