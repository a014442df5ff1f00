"""What the command line shows besides answers: one-line notices and progress bars on stderr.

Front ends (`qa/cli.py`, `qa/chat.py`) own the screen. The library (index, pipeline, evaluate)
never imports this module: it takes `notice(msg)` and `progress(done, total)` callbacks, and a
front end passes these.
"""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

__all__ = ["notice", "progress_bar"]

MIN_TOTAL = 50  # smaller jobs finish before a bar is worth drawing


def notice(msg: str, stream: TextIO | None = None) -> None:
    """`qa: msg` on stderr."""
    print(f"qa: {msg}", file=stream if stream is not None else sys.stderr)


def progress_bar(label: str, stream: TextIO | None = None) -> Callable[[int, int], None]:
    """A `progress(done, total)` callback drawing a one-line bar on stderr, shown only when
    that is a terminal and the job is not tiny; redrawn at most ten times a second."""
    out = stream if stream is not None else sys.stderr
    try:
        tty = out.isatty()
    except (AttributeError, ValueError, OSError):  # closed or fake streams
        tty = False
    t0 = time.monotonic()
    state = {"last": 0.0}

    def update(done: int, total: int) -> None:
        if not tty or total < MIN_TOTAL:
            return
        now = time.monotonic()
        if done < total and now - state["last"] < 0.1:
            return
        state["last"] = now
        width = 30
        frac = done / total if total else 1.0
        rate = done / max(now - t0, 1e-9)
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        out.write(f"\r{label} [{bar}] {done}/{total} ({rate:.0f}/s)")
        if done >= total:
            out.write("\n")
        out.flush()
    return update
