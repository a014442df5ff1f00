"""qa.pipeline: question validation, follow-ups, QA.ask and the module-level answer()."""
from __future__ import annotations

import json
import re

import pytest

import qa
import qa.pipeline as pipeline_mod
from conftest import FOX, SEEDS_PATH
from qa.errors import QAError
from qa.metrics import contains_answer
from qa.pipeline import QA, FollowUp, clean_question, resolve_follow_up
from qa.types import Answer, Citation, Snippet

pytestmark = pytest.mark.usefixtures("qa_isolated")


# -- bad input -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["", "   ", "\n\t  \n", "\x00\x1b\x07", 123, None])
def test_empty_or_non_text_question_raises_one_line(seeds_qa, question):
    with pytest.raises(QAError) as e:
        seeds_qa.ask(question)
    msg = str(e.value)
    assert msg and "\n" not in msg


def test_huge_question_raises_one_line(seeds_qa):
    with pytest.raises(QAError) as e:
        seeds_qa.ask("Who is Shoigu? " * 7000)  # ~100 KB
    assert "\n" not in str(e.value) and "long" in str(e.value)
    with pytest.raises(QAError):
        qa.answer("x" * 100_000, corpus=SEEDS_PATH, store=seeds_qa.index.store_dir)


def test_control_characters_are_cleaned(seeds_qa):
    assert clean_question("Who\x00 is\x1b[31m the\tminister?\x7f") == "Who is [31m the minister?"
    for q in ("Who\x00 is the\x1b[31m Russian defence minister?",
              "\x1b]0;pwned\x07Where did Shoigu meet Kang\x00 Sun Nam?"):
        ans = seeds_qa.ask(q)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", ans.question)
        assert isinstance(ans.abstained, bool) and 0.0 <= ans.confidence <= 1.0
        json.dumps(ans.to_dict())


@pytest.mark.parametrize("top_k", [0, -1])
def test_top_k_below_one_raises(seeds_qa, top_k):
    with pytest.raises(QAError):
        seeds_qa.ask("Who will lead the Chinese delegation?", top_k=top_k)


def test_top_k_one_reads_one_paragraph(seeds_qa):
    ans = seeds_qa.ask("Who will lead the Chinese delegation?", top_k=1)
    assert {(s.doc, s.paragraph) for s in ans.snippets} <= {(ans.passages[0].doc, ans.passages[0].paragraph)}


# -- history -------------------------------------------------------------------------------------------

FOLLOW_UP_ANSWER = re.compile(r"Kang|defen[cs]e minister", re.I)
Q_MEET, Q_JOB = "Who did Shoigu meet in Pyongyang?", "What is his job?"


def test_follow_up_query_carries_the_previous_turn():
    prev = Answer(Q_MEET, "Kang Sun-nam", False, 0.9,
                  [Snippet("Shoigu met Kang Sun-nam.", Citation(FOX, 4, 0, 24), 1.0)], [],
                  Citation(FOX, 4, 11, 23))
    fu = resolve_follow_up(Q_JOB, [prev])
    assert fu.answer_query == "What is Kang Sun-nam's job?"          # possessive pronoun resolved
    assert fu.search_query == f"What is Kang Sun-nam's job? {Q_MEET}"
    assert resolve_follow_up("Where did he say that?", [prev]).answer_query == "Where did Kang Sun-nam say that?"
    # a self-contained question is left alone
    alone = "Who will lead the Chinese delegation?"
    assert resolve_follow_up(alone, [prev]) == FollowUp(alone, alone)
    assert resolve_follow_up(Q_JOB, None) == FollowUp(Q_JOB, Q_JOB) == resolve_follow_up(Q_JOB, [])
    # an abstention names nothing: its question only widens the search
    abstained = Answer(Q_MEET, "", True, 0.1)
    assert resolve_follow_up(Q_JOB, [abstained]) == FollowUp(Q_JOB, f"{Q_JOB} {Q_MEET}")
    # dict history (as the chat keeps it) works too
    assert "Kang" in resolve_follow_up(Q_JOB, [{"question": "Who?", "answer": "Kang Sun-nam"}]).answer_query


def test_follow_up_with_history_answers_about_kang(seeds_qa):
    first = seeds_qa.ask(Q_MEET)
    second = seeds_qa.ask(Q_JOB, history=[first])
    assert second.question == Q_JOB
    assert not first.abstained and "Kang" in first.text + " " + first.snippets[0].text, \
        f"first answer {first.text!r} from {first.snippets[0].text!r}"
    assert not second.abstained, f"abstained (confidence {second.confidence:.3f}); quotes: " \
        f"{[s.text[:60] for s in second.snippets]}"
    assert FOLLOW_UP_ANSWER.search(second.text + " " + second.snippets[0].text)


# -- qa.answer() keeps one index open --------------------------------------------------------------------

def test_module_answer_keeps_the_index_open(seeds_store_dir, monkeypatch):
    monkeypatch.setattr(pipeline_mod, "_OPEN", {})
    a1 = qa.answer("Who will lead the Chinese delegation?", corpus=SEEDS_PATH, store=seeds_store_dir)
    assert len(pipeline_mod._OPEN) == 1
    (key, opened), = pipeline_mod._OPEN.items()
    assert isinstance(opened, QA)
    assert key == (str(SEEDS_PATH.resolve()), str(seeds_store_dir.resolve()))
    # same corpus and store, spelled differently: the same open QA is used
    a2 = qa.answer("Which ministry released footage of the meeting?", corpus=SEEDS_PATH / ".." / "seeds",
                   store=str(seeds_store_dir) + "/")
    assert len(pipeline_mod._OPEN) == 1 and pipeline_mod._OPEN[key] is opened
    assert opened.index.stats.embedded_files == 0  # opened from the existing store, not rebuilt
    assert any(contains_answer(s.text, ["Li Hongzhong"]) for s in a1.snippets)
    assert isinstance(a2, Answer) and a2.snippets
    with pytest.raises(QAError):
        qa.answer("Who?", corpus=SEEDS_PATH, store=seeds_store_dir, top_k=0)
    with pytest.raises(QAError):
        qa.answer("  ", corpus=SEEDS_PATH, store=seeds_store_dir)
    assert len(pipeline_mod._OPEN) == 1
