"""qa.evaluate: per-question scoring and summaries on hand-made answers, and `qa eval` end to end."""
from __future__ import annotations

import json

import pytest

from conftest import SEED_QUESTIONS
from qa.cli import main
from qa.errors import QAError
from qa import evaluate
from qa.config import Config
from qa.evaluate import METRICS, compare, parse_fail_under, score_question, summarize
from qa.questions import Question
from qa.types import Answer, Citation, Passage, Snippet

pytestmark = pytest.mark.usefixtures("qa_isolated")


def passage(doc: str, paragraph: int, score: float = 1.0) -> Passage:
    return Passage(doc, paragraph, score, f"text of {doc} {paragraph}", doc.upper(), None)


def snippet(text: str, doc: str = "a.txt", paragraph: int = 0) -> Snippet:
    return Snippet(text, Citation(doc, paragraph, 0, len(text)), 1.0)


def answer(question: str, text: str, snippets, passages, *, abstained=False, short=False,
           confidence=0.9, total=0.1, embed=0.02) -> Answer:
    sa = Citation(snippets[0].doc, snippets[0].paragraph, 0, len(text)) if short else None
    return Answer(question, "" if abstained else text, abstained, confidence, list(snippets), list(passages),
                  None if abstained else sa, {"total": total, "embed": embed})


# -- score_question -----------------------------------------------------------------------------------

@pytest.mark.unit
def test_gold_paragraph_at_rank_two():
    q = Question("q1", "What is the capital of France?", ("Paris",), "a.txt", 3)
    ans = answer(q.question, "Paris", [snippet("The capital of France is Paris.", "a.txt", 3)],
                 [passage("a.txt", 1), passage("a.txt", 3), passage("b.txt", 0)], short=True)
    r = score_question(q, ans)
    assert r["rank"] == 2
    assert (r["recall@1"], r["recall@5"], r["recall@20"]) == (0.0, 1.0, 1.0)
    assert r["rr"] == 0.5
    assert r["em"] == 1.0 and r["f1"] == 1.0
    assert r["hit@1"] == 1.0 and r["hit@3"] == 1.0
    assert r["gold"] == ["a.txt", 3] and r["short"] is True
    assert r["looked_at"] == [["a.txt", 1], ["a.txt", 3], ["b.txt", 0]]
    assert r["latency_ms"] == pytest.approx(100.0) and r["embed_ms"] == pytest.approx(20.0)
    json.dumps(r)


@pytest.mark.unit
def test_hit_at_1_versus_hit_at_3():
    q = Question("q2", "Who painted the ceiling?", ("Michelangelo",), "a.txt", 0)
    snips = [snippet("The chapel was built in 1481."), snippet("The ceiling was painted by Michelangelo."),
             snippet("Another sentence.")]
    ans = answer(q.question, snips[0].text, snips, [passage("a.txt", 0)])
    r = score_question(q, ans)
    assert r["hit@1"] == 0.0 and r["hit@3"] == 1.0
    assert r["rank"] == 1 and r["rr"] == 1.0 and r["recall@1"] == 1.0
    assert r["em"] == 0.0 and 0.0 <= r["f1"] < 1.0
    # the gold only in the 4th snippet: no hit@3
    late = answer(q.question, "x", [snippet("a"), snippet("b"), snippet("c"), snippet("Michelangelo")],
                  [passage("a.txt", 0)])
    assert score_question(q, late)["hit@3"] == 0.0
    # gold missing from the retrieved passages: rank None, recall 0
    miss = answer(q.question, "x", [snippet("x")], [passage("b.txt", 2)])
    r = score_question(q, miss)
    assert r["rank"] is None and r["recall@20"] == 0.0 and r["rr"] == 0.0


@pytest.mark.unit
def test_abstention_on_impossible_question():
    q = Question("q3", "What is the population of Atlantis?", (), None, None, True)
    ans = answer(q.question, "", [snippet("Atlantis is a legend.")], [passage("a.txt", 0)],
                 abstained=True, confidence=0.1)
    r = score_question(q, ans)
    assert r["abstained"] is True and r["text"] == ""
    assert r["em"] == 1.0 and r["f1"] == 1.0  # SQuAD v2: abstaining on no-answer is exact
    assert r["hit@1"] == 0.0 and r["hit@3"] == 0.0
    assert "rank" not in r and r["gold"] is None
    # answering it is wrong
    said = answer(q.question, "Atlantis is a legend.", [snippet("Atlantis is a legend.")], [passage("a.txt", 0)])
    r2 = score_question(q, said)
    assert r2["em"] == 0.0 and r2["f1"] == 0.0


@pytest.mark.unit
def test_abstaining_on_answerable_question_scores_zero():
    q = Question("q4", "Who?", ("Ada",), "a.txt", 0)
    ans = answer(q.question, "", [snippet("Ada wrote it.")], [passage("a.txt", 0)], abstained=True)
    r = score_question(q, ans)
    assert r["em"] == 0.0 and r["f1"] == 0.0
    assert r["hit@1"] == 1.0  # the quote still held the answer
    assert r["answered_hit@1"] == 0.0  # but it was withheld


@pytest.mark.unit
def test_document_level_gold():
    q = Question("q5", "Which file?", ("x",), "b.txt", None)
    ans = answer(q.question, "x", [snippet("x")],
                 [passage("a.txt", 0), passage("a.txt", 1), passage("b.txt", 4), passage("b.txt", 5)])
    r = score_question(q, ans)
    assert r["rank"] == 2  # documents de-duplicated: a.txt, b.txt
    assert r["recall@1"] == 0.0 and r["recall@5"] == 1.0


# -- summarize ------------------------------------------------------------------------------------------

def _records():
    q1 = Question("q1", "capital?", ("Paris",), "a.txt", 3)
    a1 = answer(q1.question, "Paris", [snippet("Paris it is.", "a.txt", 3)],
                [passage("a.txt", 1), passage("a.txt", 3)], short=True, total=0.1)
    q2 = Question("q2", "painter?", ("Michelangelo",), "a.txt", 0)
    a2 = answer(q2.question, "The chapel.", [snippet("The chapel."), snippet("By Michelangelo.")],
                [passage("a.txt", 0)], total=0.3)
    q3 = Question("q3", "atlantis?", (), None, None, True)
    a3 = answer(q3.question, "", [snippet("Legend.")], [passage("a.txt", 0)], abstained=True, total=0.2)
    q4 = Question("q4", "el dorado?", (), None, None, True)
    a4 = answer(q4.question, "Gold.", [snippet("Gold.")], [passage("a.txt", 0)], total=0.4)
    return [score_question(q, a) for q, a in ((q1, a1), (q2, a2), (q3, a3), (q4, a4))]


@pytest.mark.unit
def test_summarize_hand_made_records():
    s = summarize(_records(), index_s=1.5)
    assert (s["questions"], s["has_answer"], s["no_answer"]) == (4, 2, 2)
    assert s["recall@1"] == 0.5 and s["recall@5"] == 1.0
    assert s["mrr"] == pytest.approx(0.75)
    assert s["hit@1"] == 0.5 and s["hit@3"] == 1.0
    assert s["answered_hit@1"] == 0.5  # both answerable questions were answered
    assert s["em"] == pytest.approx(0.5)  # q1 exact, q3 abstained correctly
    assert s["has_answer_em"] == pytest.approx(0.5)
    assert s["short_rate"] == 0.5 and s["short_em"] == 1.0
    assert s["no_answer_acc"] == 0.5 and s["answered_rate"] == 1.0
    assert s["abstain_precision"] == 1.0 and s["abstain_recall"] == 0.5
    assert s["latency_p50_ms"] == pytest.approx(250.0)
    assert s["index_s"] == 1.5
    json.dumps(s)


@pytest.mark.unit
def test_summarize_without_gold_or_impossible():
    recs = [r for r in _records() if r["answers"]]
    for r in recs:
        for k in ("rank", "recall@1", "recall@5", "recall@20", "rr"):
            r.pop(k)
    s = summarize(recs)
    assert s["recall@1"] is None and s["mrr"] is None
    assert s["no_answer_acc"] is None and s["abstain_precision"] is None
    assert s["hit@3"] == 1.0
    assert summarize([])["questions"] == 0


# -- --fail-under ---------------------------------------------------------------------------------------

@pytest.mark.unit
def test_parse_fail_under():
    assert parse_fail_under([]) == {}
    assert parse_fail_under(["hit@3=0.8", "mrr=.5", "recall@5=1"]) == {"hit@3": 0.8, "mrr": 0.5, "recall@5": 1.0}
    assert set(k for k, _, _ in METRICS) >= {"hit@1", "hit@3", "em", "f1", "no_answer_acc"}


@pytest.mark.unit
@pytest.mark.parametrize("item, needle", [
    ("bogus=0.5", "unknown metric"),
    ("hit@3", "METRIC=VALUE"),
    ("hit@3:0.5", "METRIC=VALUE"),
    ("hit@3=high", "not a number"),
    ("hit@3=", "not a number"),
    ("=0.5", "unknown metric"),
])
def test_parse_fail_under_errors(item, needle):
    with pytest.raises(QAError) as e:
        parse_fail_under([item])
    assert needle in str(e.value) and "\n" not in str(e.value)


# -- qa eval ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def eval_runs(tmp_path_factory, seeds_store_dir):
    """Two `qa eval` runs on the first seed questions, written as --json (shared by the tests)."""
    d = tmp_path_factory.mktemp("eval")
    out = d / "out.json"
    code = main(["eval", str(SEED_QUESTIONS), "--store", str(seeds_store_dir), "--limit", "10",
                 "--json", str(out), "--fail-under", "hit@3=0.0"])
    return code, out, d


def test_eval_cli_writes_json(eval_runs):
    code, out, _ = eval_runs
    assert code == 0
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert {"summary", "records"} <= set(payload)
    assert payload["summary"]["questions"] == 10 == len(payload["records"])
    assert [r["id"] for r in payload["records"]] == [f"seed-{i:02d}" for i in range(1, 11)]
    assert payload["summary"]["recall@1"] is not None and 0.0 <= payload["summary"]["hit@3"] <= 1.0
    assert payload["summary"]["hit@3"] >= 0.8  # the first ten seed questions are easy ones
    assert not list(out.parent.glob("*.tmp"))


def test_eval_cli_prints_table(capsys, seeds_store_dir):
    code = main(["eval", str(SEED_QUESTIONS), "--store", str(seeds_store_dir), "--limit", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "snippet hit@3" in out and "Recall@1" in out and "hybrid/reader" in out


def test_eval_cli_fail_under_exits_1(capsys, seeds_store_dir):
    code = main(["eval", str(SEED_QUESTIONS), "--store", str(seeds_store_dir), "--limit", "2",
                 "--fail-under", "hit@3=1.01"])
    err = capsys.readouterr().err
    assert code == 1
    assert "below the bar" in err and "hit@3" in err


def test_eval_cli_compare(capsys, eval_runs):
    _, out, d = eval_runs
    capsys.readouterr()
    assert main(["eval", "--compare", str(out), str(out)]) == 0
    text = capsys.readouterr().out
    assert "B - A" in text.splitlines()[0]
    assert "snippet hit@3" in text and "+0.000" in text
    assert compare(str(out), str(out)) in text


@pytest.mark.unit
def test_eval_cli_compare_bad_files(capsys, tmp_path):
    not_eval = tmp_path / "x.json"
    not_eval.write_text("{}")
    assert main(["eval", "--compare", str(not_eval), str(not_eval)]) == 2
    assert "not a `qa eval --json` file" in capsys.readouterr().err
    assert main(["eval", "--compare", str(tmp_path / "missing.json"), str(not_eval)]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.unit
def test_eval_cli_malformed_jsonl_exits_2(capsys, tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "Who?", "answers": ["x"]}\n{"question": "broken", \n', encoding="utf-8")
    code = main(["eval", str(f), "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:") and "line 2" in lines[0]
    assert not (tmp_path / "store").exists()


@pytest.mark.unit
def test_eval_cli_bad_fail_under_exits_2_before_work(capsys, tmp_path):
    code = main(["eval", str(SEED_QUESTIONS), "--store", str(tmp_path / "store"), "--fail-under", "speed=3"])
    assert code == 2
    assert "unknown metric" in capsys.readouterr().err
    assert not (tmp_path / "store").exists()
    assert main(["eval"]) == 2
    assert "questions file" in capsys.readouterr().err


# -- evaluate.main as a library call: plain parameters, callbacks instead of a screen ------------------

class FakeIndex:
    paragraphs = [object()] * 4


class FakeQA:
    """Stands in for qa.pipeline.QA: answers from a table, records how it was built and asked."""

    built: list = []

    def __init__(self, corpus, store=None, config=None, progress=None, notice=None, **stages):
        FakeQA.built.append({"corpus": corpus, "store": store, "progress": progress, "notice": notice,
                             **stages})
        self.config = Config()
        self.index = FakeIndex()
        self.asked = []

    def ask(self, question, *, top_k=None, history=None, retrieve_k=None):
        self.asked.append((question, top_k, retrieve_k))
        if "broken" in question:
            raise QAError("the question must be text")
        s = Snippet("Shoigu met Kang Sun-nam.", Citation("a.txt", 0, 0, 24), 1.0)
        return Answer(question, "Kang Sun-nam", False, 0.8, [s], [Passage("a.txt", 0, 1.0, s.text, "A", None)],
                      None, {"total": 0.01, "embed": 0.001})


@pytest.fixture
def fake_qa(monkeypatch):
    import qa.pipeline
    FakeQA.built = []
    monkeypatch.setattr(qa.pipeline, "QA", FakeQA)
    return FakeQA


def write_questions(path, questions):
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    return path


@pytest.mark.unit
def test_main_takes_plain_parameters_and_reports_through_callbacks(fake_qa, tmp_path, capsys):
    qfile = write_questions(tmp_path / "q.jsonl", [
        {"id": "one", "question": "Who did Shoigu meet?", "answers": ["Kang Sun-nam"]},
        {"id": "two", "question": "broken one", "answers": ["x"]},
        {"id": "three", "question": "Not asked?", "answers": ["y"]},
    ])
    labels, calls, notices = [], [], []

    def progress(label):
        labels.append(label)
        return lambda done, total: calls.append((label, done, total))

    out = tmp_path / "out.json"
    code = evaluate.main(qfile, corpus=tmp_path, store=tmp_path / "store", limit=2, json_out=out,
                         fail_under=["hit@1=0.4"], worst=0, progress=progress, notice=notices.append)
    assert code == 0
    assert labels == ["indexing", "questions"]
    assert calls == [("questions", 1, 2), ("questions", 2, 2)]
    assert notices == ["question two: the question must be text"]  # scored as an abstention
    built = fake_qa.built[0]
    assert built["corpus"] == tmp_path and built["notice"] == notices.append
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["top_k"] == Config().top_k  # not given: the configured one
    assert payload["summary"]["questions"] == 2 and payload["summary"]["hit@1"] == 0.5
    printed = capsys.readouterr()
    assert "snippet hit@1" in printed.out and "worst misses" not in printed.out
    assert printed.err == ""  # nothing but the callbacks speaks


@pytest.mark.unit
def test_main_without_callbacks_logs_notices(fake_qa, tmp_path, caplog):
    qfile = write_questions(tmp_path / "q.jsonl", [{"id": "b", "question": "broken", "answers": ["x"]}])
    with caplog.at_level("WARNING", logger="qa.evaluate"):
        code = evaluate.main(str(qfile), corpus=str(tmp_path), top_k=2, fail_under=["hit@3=0.5"])
    assert code == 1  # below the bar
    assert [r.getMessage() for r in caplog.records] == ["question b: the question must be text"]


@pytest.mark.unit
def test_main_compare_and_missing_questions(tmp_path, capsys):
    with pytest.raises(QAError, match="questions file"):
        evaluate.main()
    run = tmp_path / "run.json"
    run.write_text(json.dumps({"summary": {"questions": 3, "hit@1": 0.5}}), encoding="utf-8")
    assert evaluate.main(compare_runs=(run, run)) == 0
    assert "B - A" in capsys.readouterr().out


SQUAD = {
    "version": "v2.0",
    "data": [{
        "title": "Lighthouse_keepers",
        "paragraphs": [
            {"context": "The Skerry Point lighthouse was built in 1852 by the engineer Alan Stevenson. "
                        "Its lamp was first lit by keeper Thomas Rennie.",
             "qas": [
                 {"id": "sq1", "question": "Who built the Skerry Point lighthouse?",
                  "answers": [{"text": "Alan Stevenson", "answer_start": 62}], "is_impossible": False},
                 {"id": "sq3", "question": "How tall is the Skerry Point lighthouse?",
                  "answers": [], "plausible_answers": [{"text": "1852", "answer_start": 41}],
                  "is_impossible": True},
             ]},
            {"context": "Keepers lived on the rock for six weeks at a time. Supplies arrived by boat from "
                        "the harbour at Wick every Thursday.",
             "qas": [
                 {"id": "sq2", "question": "From which harbour did supply boats come?",
                  "answers": [{"text": "Wick", "answer_start": 101}], "is_impossible": False},
             ]},
        ],
    }],
}


def test_eval_cli_squad_json(capsys, tmp_path, embedder):
    f = tmp_path / "dev-tiny.json"
    f.write_text(json.dumps(SQUAD), encoding="utf-8")
    out = tmp_path / "squad-out.json"
    code = main(["eval", str(f), "--store", str(tmp_path / "store"), "--json", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    payload = json.loads(out.read_text(encoding="utf-8"))
    s = payload["summary"]
    assert s["questions"] == 3 and s["has_answer"] == 2 and s["no_answer"] == 1
    assert s["recall@1"] is not None and s["recall@5"] == 1.0
    recs = {r["id"]: r for r in payload["records"]}
    assert recs["sq1"]["gold"] == ["Lighthouse_keepers.txt", 0]
    assert recs["sq2"]["gold"] == ["Lighthouse_keepers.txt", 1]
    assert recs["sq3"]["answers"] == [] and recs["sq3"]["is_impossible"] is True
    assert recs["sq1"]["rank"] == 1 and recs["sq2"]["rank"] == 1
    # the corpus was materialised in the (temp) cache, not next to the questions
    corpora = list((tmp_path / "xdg-cache" / "qa" / "squad-corpora").iterdir())
    assert len(corpora) == 1 and (corpora[0] / "Lighthouse_keepers.txt").is_file()
    assert str(corpora[0]) == payload["corpus"]
    assert "Recall@1" in stdout


@pytest.mark.unit
def test_any_of_the_gold_documents_counts_for_recall():
    from qa.evaluate import score_question
    from qa.questions import Question
    from qa.types import Answer
    passages = [passage("x.md", 0), passage("b.md", 2), passage("b.md", 3), passage("a.md", 0)]
    ans = Answer("Who?", "", True, 0.0, [], passages)
    rec = score_question(Question("1", "Who?", ("A",), None, None, False, ("a.md", "b.md")), ans)
    assert rec["rank"] == 2 and rec["recall@1"] == 0.0 and rec["recall@5"] == 1.0 and rec["rr"] == 0.5
    assert rec["gold"] == ["a.md", None]
    none = score_question(Question("2", "Who?", ("A",), None, None, False, ("z.md",)), ans)
    assert none["rank"] is None and none["recall@20"] == 0.0 and none["rr"] == 0.0
