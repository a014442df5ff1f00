"""qa.sentences: sentence spans inside a paragraph (pysbd, no model)."""
from __future__ import annotations

import random

import pytest

from qa.sentences import CODE_LINES, _cut, _trim, split

pytestmark = pytest.mark.unit


def texts(text: str, skip=()) -> list[str]:
    return [text[a:b] for a, b in split(text, skip)]


def test_abbreviations_do_not_end_a_sentence():
    t = "The U.S. envoy met Mr. Smith at 3 p.m. on Friday. He left."
    assert texts(t) == ["The U.S. envoy met Mr. Smith at 3 p.m. on Friday.", "He left."]


FOOBAR = ("The new release of the Foobar server, which shipped on 4 June 2024,\n"
          "was written mainly by Alice Kowalski and adds support for IPv6 and\n"
          "automatic certificate renewal. It is free software and runs on Linux.")


def test_hard_wrapped_sentences_run_across_single_line_breaks():
    got = split(FOOBAR)
    assert texts(FOOBAR) == [FOOBAR[:FOOBAR.index(" It is")], "It is free software and runs on Linux."]
    a, b = got[0]
    assert a == 0 and FOOBAR[a:b].endswith("certificate renewal.")  # offsets index the text exactly


def test_lines_that_stand_alone_stay_apart():
    lst = ("Changes in this release are listed below:\n- IPv6 support for every listener and\n"
           "  every client.\n- Automatic certificate renewal\n1. First step. Second\n2. Third step")
    assert texts(lst) == ["Changes in this release are listed below:",
                          "- IPv6 support for every listener and\n  every client.",
                          "- Automatic certificate renewal", "1. First step.", "Second", "2. Third step"]
    head = "Team notes\nWe met on Monday and decided to ship the release on Friday after the tests."
    assert texts(head)[0] == "Team notes"
    assert texts("Roses are red\nViolets are blue") == ["Roses are red", "Violets are blue"]
    byline = "By Timothy H.J. Nerozzi | Fox News\nThe defense chiefs of Russia and North Korea met."
    assert texts(byline, ((0, 34),)) == ["The defense chiefs of Russia and North Korea met."]
    assert texts("## Install the server on a new machine\nRun the installer from the folder.") == [
        "## Install the server on a new machine", "Run the installer from the folder."]


def test_a_line_wrapped_early_before_a_long_word_still_joins():
    link = "[`python-build-standalone`](https://github.com/astral-sh/python-build-standalone)"
    t = ("As Python does not publish official distributable CPython binaries, uv instead uses pre-built\n"
         f"distributions from the Astral\n{link} project.\nIt is also used in many other Python projects.")
    assert texts(t) == [t[:t.index(" project.") + 9], "It is also used in many other Python projects."]
    # a short line whose next word would have fitted stays apart (a title above its text)
    assert texts("Team notes\nWe met on Monday and decided to ship the release on Friday after the tests.")[0] \
        == "Team notes"


def test_quotes_stay_with_their_sentence():
    t = "“Quote here,” he said. Then more."
    assert texts(t) == ["“Quote here,” he said.", "Then more."]


def test_chrome_ranges_are_cut_out():
    t = "Shoigu arrived on Tuesday. Photo: AP / Getty Images"
    i = t.index("Photo")
    assert texts(t, ((i, len(t)),)) == ["Shoigu arrived on Tuesday."]
    mid = "Kang met Shoigu (Handout via Getty Images) in Pyongyang."
    a, b = mid.index("(Handout"), mid.index(")") + 1
    assert texts(mid, ((a, b),)) == ["Kang met Shoigu", "in Pyongyang."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", "- ."])
def test_nothing_to_split(text):
    assert split(text) == []


def test_spans_are_trimmed_ordered_and_inside_the_text():
    rnd = random.Random(7)
    words = ["Shoigu", "met", "Kang.", "U.S.", "\n", "  ", "Dr.", "said:", "“Yes.”", "3.5", "ok?", "!"]
    for _ in range(50):
        t = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 30)))
        spans = split(t)
        assert spans == sorted(spans)
        for (a, b), nxt in zip(spans, spans[1:] + [(len(t), len(t))]):
            assert 0 <= a < b <= nxt[0] <= len(t)
            assert t[a:b] == t[a:b].strip()
            assert any(c.isalnum() for c in t[a:b])


def test_helpers():
    assert _cut(0, 10, ((2, 4), (6, 8))) == [(0, 2), (4, 6), (8, 10)]
    assert _cut(0, 10, ((0, 10),)) == [] and _cut(0, 10, ((20, 30),)) == [(0, 10)]
    assert _trim("  ab  ", 0, 6) == (2, 4) and _trim("   ", 0, 3) == (3, 3)


@pytest.mark.unit
def test_inline_code_is_atomic():
    text = "Use the `?` operator on a `Result`. Then call `v.len()!` once! Done."
    assert [text[a:b] for a, b in split(text)] == [
        "Use the `?` operator on a `Result`.", "Then call `v.len()!` once!", "Done."]


@pytest.mark.unit
def test_a_block_quotes_lines_join_as_its_text_does():
    text = ("> ### A heading\n>\n> In the struct we used the owned `String`\n> type, not a slice. It owns\n"
            "> its data.\n>\n> - one item\n> - two items")
    assert [text[a:b] for a, b in split(text)] == [
        "> ### A heading", "> In the struct we used the owned `String`\n> type, not a slice.",
        "It owns\n> its data.", "> - one item", "> - two items"]


@pytest.mark.unit
def test_inline_html_is_atomic():
    text = ("It is in [_TOML_][toml]<!-- ignore --> (_Obvious_) format. A <b>bold</b> word! "
            "An <img alt=\"a.b? c\"> icon.")
    assert [text[a:b] for a, b in split(text)] == [
        "It is in [_TOML_][toml]<!-- ignore --> (_Obvious_) format.", "A <b>bold</b> word!",
        "An <img alt=\"a.b? c\"> icon."]


@pytest.mark.unit
def test_code_blocks_are_quoted_in_runs_of_lines():
    text = "import os\n\nx = 1\nprint(x)\n\n" + "\n".join(f"line {i}" for i in range(14))
    spans = [text[a:b] for a, b in split(text, code=True)]
    assert spans[:2] == ["import os", "x = 1\nprint(x)"]
    assert spans[2].count("\n") == CODE_LINES - 1 and spans[3] == "line 12\nline 13"


@pytest.mark.unit
def test_a_shell_session_is_quoted_a_command_at_a_time():
    text = "$ uv run --python 3.10 example.py\n3.10.15\n$ # Note: flags go first\n$ uv run --no-project a.py"
    assert [text[a:b] for a, b in split(text, code=True)] == [
        "$ uv run --python 3.10 example.py\n3.10.15", "$ # Note: flags go first", "$ uv run --no-project a.py"]
