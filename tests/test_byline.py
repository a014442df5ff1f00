"""qa.byline: who wrote a document, answered from its byline and cited to it."""
from __future__ import annotations

import pytest

from conftest import FOX, SEEDS_PATH
from qa.byline import is_byline_question


@pytest.mark.unit
@pytest.mark.parametrize("question, byline", [
    ("Who wrote the Fox News report?", True),
    ("Who is the author of the article?", True),
    ("Which reporter is behind the Fox News story?", True),
    ("who was the writer", True),
    ("Who did Shoigu meet in Pyongyang?", False),
    ("Who wrote the letter to Kim Jong Un?", True),   # matched; then no byline names that, see below
    ("Which news agency reported Shoigu's statement?", False),
])
def test_byline_questions_are_recognised(question, byline):
    assert is_byline_question(question) is byline


@pytest.fixture(scope="module")
def rules_qa(seeds_store_dir):
    from qa.config import Config
    from qa.pipeline import QA
    return QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), reader="rules", notice=lambda m: None)


@pytest.mark.parametrize("question", ["Who wrote the Fox News report?", "Who is the author of the article?"])
def test_byline_answer_is_the_author_cited_to_the_byline(rules_qa, question):
    ans = rules_qa.ask(question)
    assert not ans.abstained and ans.text == "Timothy H.J. Nerozzi"
    s = ans.snippets[0]
    par = rules_qa.index.paragraphs[rules_qa.index.row(s.doc, s.paragraph)].text
    assert s.doc == FOX and s.text == par[s.start:s.end] == "By Timothy H.J. Nerozzi | Fox News"
    sa = ans.short_answer
    assert par[sa.start:sa.end] == ans.text and s.start <= sa.start < sa.end <= s.end


@pytest.mark.parametrize("question", ["Who wrote the AFP story?", "Who wrote the letter to Kim Jong Un?"])
def test_byline_question_naming_another_source_goes_to_the_reader(rules_qa, question):
    ans = rules_qa.ask(question)
    assert "Nerozzi" not in ans.text
    assert all("By Timothy" not in s.text for s in ans.snippets)
