"""qa.conversation: the turns a follow-up question is read against, on a fake QA and the seeds."""
from __future__ import annotations

import re

import pytest

from qa.conversation import TURNS, Conversation
from qa.types import Answer


class FakeQA:
    """Records what the conversation passes to `ask`."""

    def __init__(self):
        self.calls = []

    def ask(self, question, *, top_k=None, history=None):
        self.calls.append((question, top_k, history))
        return Answer(question, f"answer to {question}", False, 0.9)


@pytest.mark.unit
def test_each_question_sees_the_answers_before_it():
    qa = FakeQA()
    talk = Conversation(qa)
    first = talk.ask("one")
    second = talk.ask("two", top_k=3)
    assert qa.calls[0] == ("one", None, [])
    assert qa.calls[1] == ("two", 3, [first])
    assert talk.history == [first, second] and talk.last is second and len(talk) == 2


@pytest.mark.unit
def test_only_the_last_turns_count():
    qa = FakeQA()
    talk = Conversation(qa, turns=2)
    answers = [talk.ask(q) for q in ("a", "b", "c")]
    assert talk.history == answers[1:]
    talk.ask("d")
    assert qa.calls[-1][2] == answers[1:]
    assert Conversation(FakeQA()).turns == TURNS
    none = Conversation(qa, turns=0)
    none.ask("x")
    none.ask("y")
    assert qa.calls[-1][2] == [] and none.last is None
    with pytest.raises(ValueError):
        Conversation(qa, turns=-1)


@pytest.mark.unit
def test_reset_starts_a_new_conversation():
    qa = FakeQA()
    talk = Conversation(qa)
    talk.ask("one")
    talk.reset()
    assert talk.history == [] and talk.last is None and len(talk) == 0
    talk.ask("two")
    assert qa.calls[-1][2] == []


@pytest.mark.unit
def test_history_is_a_copy():
    talk = Conversation(FakeQA())
    talk.ask("one")
    talk.history.clear()
    assert len(talk) == 1


@pytest.mark.unit
def test_an_answer_not_remembered_is_no_turn_until_remembered():
    qa = FakeQA()
    talk = Conversation(qa)
    kept = talk.ask("shown")
    dropped = talk.ask("abandoned", remember=False)
    assert talk.history == [kept]
    talk.ask("next")
    assert qa.calls[-1][2] == [kept]
    talk.remember(dropped)
    assert talk.history[-1] is dropped


@pytest.mark.unit
def test_errors_leave_the_conversation_as_it_was():
    class Failing(FakeQA):
        def ask(self, question, *, top_k=None, history=None):
            raise RuntimeError("boom")

    talk = Conversation(Failing())
    with pytest.raises(RuntimeError):
        talk.ask("anything")
    assert talk.history == []


@pytest.mark.usefixtures("qa_isolated")
def test_a_follow_up_on_the_seeds(seeds_qa):
    talk = Conversation(seeds_qa)
    first = talk.ask("Who did Shoigu meet in Pyongyang?")
    assert not first.abstained and "Kang" in first.text
    follow = talk.ask("What is his job?")  # "his": Kang Sun-nam
    assert not follow.abstained and "Kang" in follow.snippets[0].text
    assert re.search(r"defen[cs]e minister", follow.text, re.I), follow.text  # his job, not a name
    talk.reset()
    alone = talk.ask("What is his job?")
    assert alone.abstained or alone.snippets[0].text != follow.snippets[0].text
