"""qa.text: the shared tokenizer's neighbours, and what a short answer shows."""
import pytest

from qa.text import code_line, comment_only, in_comment, one_line, trim_answer

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, want", [
    ("`cargo new hello`", "cargo new hello"),       # an inline code span gives its content
    ("`uv add requests", "uv add requests"),         # a lone backtick at an edge
    ("$ uv sync --locked", "uv sync --locked"),      # a shell prompt
    ("  strict_", "strict"),                         # an emphasis underscore left by the span
    ("**Cargo.toml**", "Cargo.toml"),
    ("`__init__`", "__init__"),                      # inside code nothing else is touched
    ("__init__", "__init__"),                        # a dunder name is not bold "init"
    ("_dependencies_", "dependencies"),              # but `_word_` is emphasis
    ("_Cargo.toml_ file", "_Cargo.toml_ file"),      # a pair inside stays whole (it reads "Cargo.toml file")
    ("**bold**", "bold"),
    ("[the label", "the label"),                     # an unpaired bracket
    ("(see above)", "(see above)"),                  # a paired one stays
    ("$ 5 million", "$ 5 million"),                  # money, not a prompt
    ("Mao\nNing", "Mao\nNing"),                      # inner whitespace is the source's: offsets exact
    ("``", "``"),                                    # nothing left: the span as it was
    ("101`: Cargo", "101"),                          # starts in code, runs past a clause's end: the code
    ("lab`. Creating a", "lab"),
])
def test_trim_answer(text, want):
    if text.count("`") == 1 and not text.startswith("`"):  # a span that starts inside inline code
        full = "x `" + text + " y"
        s, e = trim_answer(full, 3, 3 + len(text))
    else:
        full = "x " + text + " y"
        s, e = trim_answer(full, 2, 2 + len(text))
    assert full[s:e] == want


def test_one_line():
    assert one_line("Mao\n  Ning") == "Mao Ning"
    assert one_line("uv pip compile in.txt \\\n   --universal") == "uv pip compile in.txt --universal"


def test_a_command_continued_after_a_backslash_is_given_whole():
    from qa.text import code_line
    t = "$ uv pip compile requirements.in \\\n   --universal \\\n   --output-file out.txt\nResolved 43 packages"
    a, b = code_line(t, 3, 5)
    assert t[a:b] == "uv pip compile requirements.in \\\n   --universal \\\n   --output-file out.txt"


def test_a_code_line_is_given_without_the_comment_after_it():
    t = '$ cargo update regex   # updates just regex\nkey = "a # b"  # the key'
    assert t[slice(*code_line(t, 3, 5))] == "cargo update regex"
    assert t[slice(*code_line(t, 46, 48))] == 'key = "a # b"'  # a hash inside quotes is no comment


SESSION = "$ # Use a specific Python version\n$ uv run --python 3.10 example.py\n3.10.15"


@pytest.mark.unit
def test_a_code_answer_is_the_command_a_comment_describes():
    def line(start, end, within=None):
        return SESSION[slice(*code_line(SESSION, start, end, within))]
    assert line(4, 10) == "# Use a specific Python version"  # within the comment only: itself
    assert line(4, 10, within=len(SESSION)) == "uv run --python 3.10 example.py"
    assert line(40, 45) == "uv run --python 3.10 example.py"  # a command line: whole, no prompt
    blank = "\n\n$ uv sync"
    assert blank[slice(*code_line(blank, 0, 2))] == "uv sync"  # a span from a blank line: the next


@pytest.mark.unit
@pytest.mark.parametrize("unit, expected", [
    ("$ # Use a specific Python version", True), ("# one\n# two", True), ("#", True),
    ("$ uv run example.py", False), ("#!/bin/sh", False), ("#include <stdio.h>", False),
    ("$ # a comment\n$ uv sync", False), ("", False),
])
def test_comment_only(unit, expected):
    assert comment_only(unit) is expected


@pytest.mark.parametrize("words, inside", [
    ("1.45", True), ("keyword\n    // when", True), ("would warn", True), ("let x", False), ("main", False),
    ("casting\n    let", False), ("// Since", False), ("/// Docs", False), ("said", True),
])
def test_a_span_in_a_code_blocks_comments_is_in_comment_past_the_markers(words, inside):
    text = ('fn main() {\n    // Since Rust 1.45, the keyword\n    // when casting\n    let x = "a // b"; // would warn\n'
            '    /// Docs said so\n}')
    i = text.index(words)
    assert in_comment(text, i, i + len(words)) is inside
