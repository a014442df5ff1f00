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
from qa.types import Answer, Citation, Snippet, Turn

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


@pytest.mark.unit
@pytest.mark.parametrize("question", ["?", "???", "the", "The?", "\U0001f642", "\U0001f914\u200d\ufe0f",
                                      "hello", "Hello!", "hi there", "help", "thanks", "\x1b[31m?\x1b[0m"])
def test_content_free_input_gets_a_one_line_hint(question):
    with pytest.raises(QAError) as e:
        clean_question(question)
    msg = str(e.value)
    assert "\n" not in msg and "question" in msg
    if question == "help":
        assert "--help" in msg


@pytest.mark.unit
def test_decoration_without_words_is_stripped():
    plain = "Who did Shoigu meet?"
    for q in ("\x1b[31mWho did Shoigu meet?\x1b[0m", "\U0001f914 Who did Shoigu meet? \U0001f64f\U0001f3fd",
              "\x1b]0;title\x07Who did Shoigu meet?", "\u2728\ufe0f Who did Shoigu meet?\u200b"):
        assert clean_question(q) == plain
    # what carries words stays: wh-word follow-ups, other scripts, symbols inside a question
    for q in ("Why?", "What is his job?", "中文字日本語?", "¿Dónde está?", "Is 30 °C hot?"):
        assert clean_question(q) == q


def test_control_characters_are_cleaned(seeds_qa):
    assert clean_question("Who\x00 is\x1b[31m the\tminister?\x7f") == "Who is the minister?"
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

# "his" is Kang Sun-nam: his job is the short answer, and the quote says it of him
JOB = re.compile(r"defen[cs]e minister", re.I)
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
    # a client that keeps no Answer objects sends Turns
    assert "Kang" in resolve_follow_up(Q_JOB, [Turn("Who?", "Kang Sun-nam")]).answer_query
    assert resolve_follow_up(Q_JOB, [Turn(Q_MEET)]) == FollowUp(Q_JOB, f"{Q_JOB} {Q_MEET}")


def test_follow_up_with_history_answers_about_kang(seeds_qa):
    first = seeds_qa.ask(Q_MEET)
    second = seeds_qa.ask(Q_JOB, history=[first])
    assert second.question == Q_JOB
    assert not first.abstained and "Kang" in first.text + " " + first.snippets[0].text, \
        f"first answer {first.text!r} from {first.snippets[0].text!r}"
    assert not second.abstained, f"abstained (confidence {second.confidence:.3f}); quotes: " \
        f"{[s.text[:60] for s in second.snippets]}"
    assert JOB.search(second.text), f"short answer {second.text!r} from {second.snippets[0].text!r}"
    assert "Kang" in second.snippets[0].text and second.text in second.snippets[0].text


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


# -- stages are injected: a new backend or reader is a new class ---------------------------------------

class _ListStore:
    """A dense store that is not numpy's: plain Python lists, exact search (a types.DenseStore)."""

    def __init__(self, vectors):
        self.rows = [list(map(float, v)) for v in vectors]
        self.searched = 0

    def __len__(self):
        return len(self.rows)

    def score(self, query, ids=None):
        import numpy as np
        ids = range(len(self.rows)) if ids is None else ids
        return np.array([sum(a * b for a, b in zip(self.rows[int(i)], query)) for i in ids], dtype=np.float32)

    def search(self, query, k):
        import numpy as np
        self.searched += 1
        s = self.score(query)
        top = sorted(range(len(s)), key=lambda i: -s[i])[:k]
        return np.array(top, dtype=np.int64), s[top]

    def get(self, ids):
        import numpy as np
        return np.array([self.rows[int(i)] for i in ids], dtype=np.float32)


class _FirstSentenceReader:
    """A reader that quotes the first 40 characters of the top passage (a types.Reader)."""

    abstain_below = 0.0

    def __init__(self):
        self.calls = []

    def warm_up(self):
        pass

    def read(self, question, passages, qvec, more=()):
        from qa.types import Reading
        self.calls.append((question, [p.id for p in passages]))
        p = passages[0]
        cit = Citation(p.doc, p.paragraph, 0, min(40, len(p.text)), p.title, p.date)
        return Reading((Snippet(p.text[:cit.end], cit, 1.0),), cit, 0.99, {"stub": 1.0})


def test_stub_dense_store_and_stub_reader_injected_end_to_end(seeds_store_dir):
    from qa.config import Config
    from qa.retrieve import HybridRetriever
    stores, reader = [], _FirstSentenceReader()

    def retriever(index):
        stores.append(_ListStore(index.vectors.get(range(len(index.vectors)))))
        return HybridRetriever(index, dense=stores[0])

    bot = QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), notice=lambda m: None,
             retriever=retriever, reader=reader)
    assert bot.reader is reader and bot.retriever.dense is stores[0]
    ans = bot.ask("Who will lead the Chinese delegation?")
    assert stores[0].searched == 1 and len(reader.calls) == 1
    question, read_ids = reader.calls[0]
    assert read_ids == [p.id for p in ans.passages[:len(read_ids)]]
    assert any("Li Hongzhong" in p.text for p in ans.passages[:3])  # the stub store still finds it
    top = ans.passages[0]
    assert not ans.abstained and ans.confidence == 0.99
    assert ans.text == top.text[:40] and ans.short_answer == Citation(top.doc, top.paragraph, 0, 40, top.title, top.date)


def test_unknown_stage_names_are_one_line_errors(seeds_store_dir):
    from qa.config import Config
    for kw in ({"retriever": "sparse"}, {"reader": "oracle"}):
        with pytest.raises(QAError, match="unknown"):
            QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), notice=lambda m: None, **kw)


@pytest.mark.slow
def test_a_fresh_process_answers_without_torch(seeds_store_dir, tmp_path):
    """Over an indexed corpus, once the graphs exist (indexing and the first answer make them),
    answering imports neither torch nor sentence-transformers (issue 22)."""
    import subprocess

    from conftest import PYTHON, REPO_ROOT, subprocess_env
    from qa.spans import get_span_model
    get_span_model().warm_up()  # the reader's graph, as a first answer would make it
    code = ("import sys, qa; from qa.pipeline import QA; "
            f"q = QA({str(REPO_ROOT / 'seeds')!r}, store={str(seeds_store_dir)!r}); "
            "a = q.ask('Who did Shoigu meet in Pyongyang?'); print(a.text); "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'sklearn', 'pandas') "
            "if m in sys.modules))")
    r = subprocess.run([PYTHON, "-c", code], env=subprocess_env(tmp_path), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Kang Sun-nam" in r.stdout and r.stdout.strip().endswith("[]")
