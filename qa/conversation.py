"""A conversation over one open `QA`: follow-up questions read in the light of earlier answers.

Any front end gets follow-ups by holding a `Conversation` instead of calling `QA.ask` itself:

    talk = Conversation(QA("path/to/corpus"))
    talk.ask("Who did Shoigu meet in Pyongyang?")
    talk.ask("What is his job?")        # "his": the previous answer's name
    talk.reset()                        # a new conversation

The pipeline (`qa.pipeline.resolve_follow_up`) decides how earlier answers are used; this class
only keeps the last `turns` of them.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pipeline import QA
    from .types import Answer

__all__ = ["Conversation", "TURNS"]

TURNS = 3  # previous answers passed to `QA.ask` for follow-up questions


class Conversation:
    """The last `turns` answers of one conversation with `qa` (a `qa.pipeline.QA`, or anything
    with its `ask(question, *, top_k=None, history=None)`)."""

    def __init__(self, qa: "QA", turns: int = TURNS):
        if turns < 0:
            raise ValueError("turns must be at least 0")
        self.qa = qa
        self.turns = turns
        self._answers: deque = deque(maxlen=turns)
        self._lock = threading.Lock()

    @property
    def history(self) -> list["Answer"]:
        """The answers that count for the next follow-up, oldest first (a copy)."""
        with self._lock:
            return list(self._answers)

    @property
    def last(self) -> "Answer | None":
        with self._lock:
            return self._answers[-1] if self._answers else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)

    def ask(self, question: str, top_k: int | None = None, *, remember: bool = True) -> "Answer":
        """Answer `question` given the conversation so far, and remember the answer.

        `remember=False` leaves the conversation as it was: a front end that may abandon a
        running answer (the chat's Ctrl-C) calls `remember(answer)` once it shows it.
        """
        answer = self.qa.ask(question, top_k=top_k, history=self.history)
        if remember:
            self.remember(answer)
        return answer

    def remember(self, answer: "Answer") -> None:
        """Count `answer` as the latest turn."""
        with self._lock:
            self._answers.append(answer)

    def reset(self) -> None:
        """Forget every turn: the next question stands alone."""
        with self._lock:
            self._answers.clear()
