"""Question sets for `qa eval`: our JSONL format or an official SQuAD v1.1/v2.0 JSON file.

JSONL, one object a line (blank lines ignored):
    {"id": "q1", "question": "...", "answers": ["..."], "doc": "a.txt", "paragraph": 0,
     "is_impossible": false}
Only `question` and `answers` are required; `id` defaults to "line-N".

A SQuAD file also brings its corpus: `load_questions` returns the text files to write so
that each question's (`doc`, `paragraph`) points at the context it was asked about.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import QAError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_BLANK_LINE = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Question:
    """One evaluation question; `answers` is empty for an unanswerable one."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc: str | None = None
    paragraph: int | None = None
    is_impossible: bool = False
    docs: tuple[str, ...] = ()  # other gold documents: any of them (or `doc`) counts for Recall@k

    @property
    def gold_docs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(([self.doc] if self.doc is not None else []) + list(self.docs)))


def load_questions(path: str | os.PathLike, notice: Callable[[str], None] | None = None
                   ) -> tuple[list[Question], dict[str, str] | None]:
    """Read a question file; the format is detected from the content, not the name.

    Returns (questions, corpus files) where corpus files is {file name: text} for a
    SQuAD JSON file and None for JSONL. Raises QAError with a one-line reason. A JSONL key
    that means nothing here is named once through `notice` (a typo would silently drop it).
    """
    path = Path(path)
    text = _read_text(path)
    data = _whole_json(text)
    if isinstance(data, dict) and "data" in data and "question" not in data:
        questions, files = _from_squad(data)
    else:
        unknown: dict[str, int] = {}
        questions, files = _from_jsonl(text, unknown), None
        for key, line in unknown.items():
            (notice or (lambda m: None))(f"{path.name}: unknown key {key!r} (first on line {line}) ignored; "
                                         f"known: {', '.join(JSONL_KEYS)}")
    if not questions:
        raise QAError(f"no questions in {path}")
    return questions, files


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise QAError(f"question file not found: {path}") from None
    except OSError as e:
        raise QAError(f"cannot read question file {path}: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise QAError(f"question file {path} is not UTF-8 (bad byte at offset {e.start})") from None


def _whole_json(text: str) -> Any:
    """The file parsed as one JSON value if it looks like a JSON object, else None."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None  # several objects, one a line: JSONL


def _dedup(answers: list[str]) -> tuple[str, ...]:
    """Answers stripped, duplicates dropped, first occurrence order kept."""
    return tuple(dict.fromkeys(a.strip() for a in answers))


# --- JSONL -------------------------------------------------------------------------------------

JSONL_KEYS = ("id", "question", "answers", "doc", "docs", "paragraph", "is_impossible")


def _from_jsonl(text: str, unknown: dict[str, int]) -> list[Question]:
    out = []
    # split("\n"), not splitlines(): JSON strings may hold a raw U+2028 or U+0085.
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                out.append(_jsonl_question(n, line, unknown))
            except QAError as e:
                raise QAError(f"line {n}: {e}") from None
    return out


def _jsonl_question(n: int, line: str, unknown: dict[str, int]) -> Question:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise QAError(f"bad JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise QAError("bad JSON (expected an object)")
    for key in obj:
        if key not in JSONL_KEYS:
            unknown.setdefault(key, n)
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QAError('missing "question" (a non-empty string)')
    answers = obj.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise QAError('"answers" not a list of strings')
    doc = obj.get("doc")
    if doc is not None and not isinstance(doc, str):
        raise QAError('"doc" not a string')
    paragraph = obj.get("paragraph")
    if paragraph is not None and (not isinstance(paragraph, int) or isinstance(paragraph, bool)):
        raise QAError('"paragraph" not an int')
    impossible = obj.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise QAError('"is_impossible" not true/false')
    docs = obj.get("docs", [])
    if not isinstance(docs, list) or not all(isinstance(d, str) for d in docs):
        raise QAError('"docs" not a list of strings')
    qid = obj.get("id")
    return Question(f"line-{n}" if qid is None else str(qid), question.strip(), _dedup(answers),
                    doc, paragraph, impossible, tuple(docs))


# --- SQuAD JSON ----------------------------------------------------------------------------------

def _safe_name(title: str) -> str:
    """Title as a file name; never empty or hidden (the corpus reader skips dot files)."""
    safe = _UNSAFE.sub("_", title)
    return "_" + safe if not safe or safe.startswith(".") else safe


def _clean_context(context: str) -> str:
    """Context as one corpus paragraph.

    The corpus reader splits paragraphs at blank lines, so a blank line inside a context
    would shift the numbering of every later paragraph; collapse it to a single newline.
    """
    context = context.replace("\r\n", "\n").replace("\r", "\n").strip()
    return _BLANK_LINE.sub("\n", context)


def _from_squad(data: dict) -> tuple[list[Question], dict[str, str]]:
    articles = data["data"]
    if not isinstance(articles, list):
        raise QAError('not a SQuAD file: "data" is not a list')
    questions: list[Question] = []
    files: dict[str, str] = {}
    for i, article in enumerate(articles):
        try:
            name, body, qs = _squad_article(article)
        except (KeyError, TypeError, AttributeError) as e:
            raise QAError(f"not a SQuAD file: article {i} is malformed ({type(e).__name__}: {e})") from None
        if name in files:
            raise QAError(f"SQuAD file has two articles named {name!r}")
        files[name] = body
        questions.extend(qs)
    return questions, files


def _squad_article(article: dict) -> tuple[str, str, list[Question]]:
    title = str(article["title"])
    name = _safe_name(title) + ".txt"
    contexts: list[str] = []
    questions: list[Question] = []
    for p_index, para in enumerate(article["paragraphs"]):
        context = _clean_context(para["context"])
        if not context:
            raise QAError(f"SQuAD article {title!r} has an empty context (paragraph {p_index})")
        contexts.append(context)
        for qa in para["qas"]:
            questions.append(_squad_question(qa, name, p_index))
    heading = " ".join(title.replace("_", " ").split())
    return name, "\n\n".join([f"title {heading}"] + contexts) + "\n", questions


def _squad_question(qa: dict, doc: str, paragraph: int) -> Question:
    impossible = bool(qa.get("is_impossible", False))
    answers = [] if impossible else [a["text"] for a in qa["answers"]]
    if not all(isinstance(a, str) for a in answers):
        raise TypeError("answer text is not a string")
    return Question(str(qa["id"]), str(qa["question"]).strip(), _dedup(answers), doc, paragraph,
                    impossible)
