"""qa.text: the shared tokenizer's neighbours, and what a short answer shows."""
import pytest

from qa.text import one_line, trim_answer

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, want", [
    ("`cargo new hello`", "cargo new hello"),       # an inline code span gives its content
    ("`uv add requests", "uv add requests"),         # a lone backtick at an edge
    ("$ uv sync --locked", "uv sync --locked"),      # a shell prompt
    ("  strict_", "strict"),                         # an emphasis underscore left by the span
    ("**Cargo.toml**", "Cargo.toml"),
    ("`__init__`", "__init__"),                      # inside code nothing else is touched
    ("__init__", "__init__"),                        # a dunder name is not bold "init"
    ("[the label", "the label"),                     # an unpaired bracket
    ("(see above)", "(see above)"),                  # a paired one stays
    ("$ 5 million", "$ 5 million"),                  # money, not a prompt
    ("Mao\nNing", "Mao\nNing"),                      # inner whitespace is the source's: offsets exact
    ("``", "``"),                                    # nothing left: the span as it was
])
def test_trim_answer(text, want):
    s, e = trim_answer("x " + text + " y", 2, 2 + len(text))
    assert ("x " + text + " y")[s:e] == want


def test_one_line():
    assert one_line("Mao\n  Ning") == "Mao Ning"
