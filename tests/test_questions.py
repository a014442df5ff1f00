"""Loading question sets: our JSONL, SQuAD v1.1 / v2.0 JSON, and the one-line errors."""
import json
from pathlib import Path

import pytest

from qa.corpus import parse_text
from qa.errors import QAError
from qa.questions import Question, load_questions

REAL_QUESTIONS = Path(__file__).resolve().parents[2] / "shared/eval/squad-v1.1/questions.jsonl"


def write(tmp_path: Path, text: str, name: str = "questions.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- JSONL -------------------------------------------------------------------------------------

def test_jsonl(tmp_path):
    path = write(tmp_path, "\n".join([
        '{"id": "q1", "question": "  Who wrote it? ", "answers": ["Ann", "Bob", "Ann"],'
        ' "doc": "a.txt", "paragraph": 2}',
        "",
        '{"question": "When?", "answers": ["1990"]}',
        "   ",
        '{"id": 7, "question": "Why?", "answers": [], "is_impossible": true}',
        "",
    ]))
    questions, files = load_questions(path)
    assert files is None
    assert questions == [
        Question("q1", "Who wrote it?", ("Ann", "Bob"), "a.txt", 2, False),
        Question("line-3", "When?", ("1990",)),
        Question("7", "Why?", (), is_impossible=True),
    ]


def test_jsonl_single_line_is_not_taken_for_squad(tmp_path):
    path = write(tmp_path, '{"question": "Q?", "answers": ["A"]}')
    questions, files = load_questions(path)
    assert files is None and questions == [Question("line-1", "Q?", ("A",))]


def test_jsonl_crlf_and_bom(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_bytes('\ufeff{"question": "Q?", "answers": ["A"]}\r\n\r\n{"question": "R?", "answers": ["B"]}\r\n'
                     .encode("utf-8"))
    questions, _ = load_questions(path)
    assert [q.id for q in questions] == ["line-1", "line-3"]


def test_jsonl_line_separator_inside_a_string(tmp_path):
    # U+2028 is legal raw inside a JSON string; it must not split the line.
    path = write(tmp_path, '{"question": "Q\u2028?", "answers": ["A"]}\n')
    questions, _ = load_questions(path)
    assert questions[0].question == "Q\u2028?"


GOOD = '{"question": "Q?", "answers": ["A"]}'


@pytest.mark.parametrize("bad, message", [
    ('{"question": "Q?", "answers": ["A"]', "line 3: bad JSON"),
    ('["Q?", ["A"]]', "line 3: bad JSON"),
    ('{"answers": ["A"]}', 'line 3: missing "question"'),
    ('{"question": "   ", "answers": ["A"]}', 'line 3: missing "question"'),
    ('{"question": "Q?"}', 'line 3: "answers" not a list of strings'),
    ('{"question": "Q?", "answers": "A"}', 'line 3: "answers" not a list of strings'),
    ('{"question": "Q?", "answers": ["A", 1]}', 'line 3: "answers" not a list of strings'),
    ('{"question": "Q?", "answers": ["A"], "paragraph": "2"}', 'line 3: "paragraph" not an int'),
    ('{"question": "Q?", "answers": ["A"], "paragraph": 1.5}', 'line 3: "paragraph" not an int'),
    ('{"question": "Q?", "answers": ["A"], "paragraph": true}', 'line 3: "paragraph" not an int'),
    ('{"question": "Q?", "answers": ["A"], "doc": 3}', 'line 3: "doc" not a string'),
    ('{"question": "Q?", "answers": [], "is_impossible": "yes"}', 'line 3: "is_impossible"'),
])
def test_jsonl_malformed_line(tmp_path, bad, message):
    path = write(tmp_path, f"{GOOD}\n\n{bad}\n{GOOD}\n")   # blank line 2 still counts
    with pytest.raises(QAError) as info:
        load_questions(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(QAError, match="not found"):
        load_questions(tmp_path / "nope.jsonl")


def test_not_utf8(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_bytes(b'{"question": "caf\xe9?", "answers": ["A"]}\n')
    with pytest.raises(QAError, match="not UTF-8"):
        load_questions(path)


@pytest.mark.parametrize("text", ["", "\n  \n\n", '{"version": "1.1", "data": []}'])
def test_no_questions(tmp_path, text):
    with pytest.raises(QAError, match="no questions"):
        load_questions(write(tmp_path, text))


# --- SQuAD JSON --------------------------------------------------------------------------------

SQUAD_V11 = {
    "version": "1.1",
    "data": [
        {"title": "Beyoncé_Knowles",
         "paragraphs": [
             {"context": "  Beyoncé was born in 1981 in Houston.\n",
              "qas": [{"id": "b1", "question": "When was Beyoncé born? ",
                       "answers": [{"text": "1981", "answer_start": 24},
                                   {"text": "1981", "answer_start": 24},
                                   {"text": "in 1981", "answer_start": 21}]}]},
             {"context": "She sang.\n\n  \nShe danced in Paris.",
              "qas": [{"id": "b2", "question": "Where did she dance?",
                       "answers": [{"text": "Paris", "answer_start": 24}]}]},
             {"context": "Her label is Columbia.",
              "qas": [{"id": "b3", "question": "What is her label?",
                       "answers": [{"text": "Columbia", "answer_start": 13}]}]},
         ]},
        {"title": "Warsaw",
         "paragraphs": [
             {"context": "Warsaw is the capital of Poland.",
              "qas": [{"id": "w1", "question": "Capital of what?",
                       "answers": [{"text": "Poland", "answer_start": 25}]}]},
         ]},
    ],
}

SQUAD_V20 = {
    "version": "v2.0",
    "data": [
        {"title": "Normans",
         "paragraphs": [
             {"context": "The Normans gave their name to Normandy, a region in France.",
              "qas": [{"id": "n1", "question": "In what country is Normandy?", "is_impossible": False,
                       "answers": [{"text": "France", "answer_start": 53}]},
                      {"id": "n2", "question": "Who gave their name to Rome?", "is_impossible": True,
                       "answers": [],
                       "plausible_answers": [{"text": "The Normans", "answer_start": 0}]}]},
         ]},
    ],
}


def test_squad_v11(tmp_path):
    path = write(tmp_path, json.dumps(SQUAD_V11, ensure_ascii=False, indent=2), "dev-v1.1.json")
    questions, files = load_questions(path)
    assert files == {
        "Beyonc__Knowles.txt": "title Beyoncé Knowles\n\n"
                               "Beyoncé was born in 1981 in Houston.\n\n"
                               "She sang.\nShe danced in Paris.\n\n"
                               "Her label is Columbia.\n",
        "Warsaw.txt": "title Warsaw\n\nWarsaw is the capital of Poland.\n",
    }
    assert questions == [
        Question("b1", "When was Beyoncé born?", ("1981", "in 1981"), "Beyonc__Knowles.txt", 0),
        Question("b2", "Where did she dance?", ("Paris",), "Beyonc__Knowles.txt", 1),
        Question("b3", "What is her label?", ("Columbia",), "Beyonc__Knowles.txt", 2),
        Question("w1", "Capital of what?", ("Poland",), "Warsaw.txt", 0),
    ]


def test_squad_files_number_paragraphs_like_the_corpus_reader(tmp_path):
    questions, files = load_questions(write(tmp_path, json.dumps(SQUAD_V11), "dev.json"))
    docs = {name: parse_text(name, text) for name, text in files.items()}
    assert docs["Beyonc__Knowles.txt"].title == "Beyoncé Knowles"
    assert len(docs["Beyonc__Knowles.txt"].paragraphs) == 3
    for q in questions:
        assert q.answers[0] in docs[q.doc].paragraphs[q.paragraph].text


def test_squad_v20_impossible(tmp_path):
    questions, files = load_questions(write(tmp_path, json.dumps(SQUAD_V20), "dev-v2.0.json"))
    assert list(files) == ["Normans.txt"]
    assert questions == [
        Question("n1", "In what country is Normandy?", ("France",), "Normans.txt", 0, False),
        Question("n2", "Who gave their name to Rome?", (), "Normans.txt", 0, True),
    ]


def test_squad_malformed(tmp_path):
    broken = {"data": [{"title": "X", "paragraphs": [{"qas": []}]}]}
    with pytest.raises(QAError, match="not a SQuAD file"):
        load_questions(write(tmp_path, json.dumps(broken), "bad.json"))


# --- the real evaluation set -------------------------------------------------------------------

@pytest.mark.skipif(not REAL_QUESTIONS.exists(), reason="shared SQuAD v1.1 question set not present")
def test_real_squad_v11_questions():
    questions, files = load_questions(REAL_QUESTIONS)
    assert files is None
    assert len(questions) == 3735
    assert all(q.doc and isinstance(q.paragraph, int) and q.paragraph >= 0 for q in questions)
    assert all(q.answers and not q.is_impossible for q in questions)
    assert len({q.id for q in questions}) == 3735


@pytest.mark.unit
def test_docs_lists_gold_documents_and_unknown_keys_are_named(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Who?", "answers": ["A"], "docs": ["a.md", "b.md"]}\n'
                    '{"question": "When?", "answers": [], "doc": "c.md", "docs": ["d.md"], "paragraf": 3}\n'
                    '{"question": "Where?", "answers": [], "paragraf": 4, "gold": "x"}\n')
    notes = []
    qs, files = load_questions(path, notes.append)
    assert files is None and qs[0].gold_docs == ("a.md", "b.md") and qs[1].gold_docs == ("c.md", "d.md")
    assert len(notes) == 2 and "'paragraf'" in notes[0] and "line 2" in notes[0] and "'gold'" in notes[1]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Who?", "answers": [], "docs": "a.md"}\n')
    with pytest.raises(QAError, match='"docs" not a list'):
        load_questions(bad)
