"""qa.inline: prose read past its inline markup, mapped back to the source characters."""
import pytest

from qa.document import json_passage_spans, json_passage_texts
from qa.inline import marked_name, reading_view, view_spans, whole_links

pytestmark = pytest.mark.unit


def test_reading_view_reads_link_labels_and_maps_back_to_the_source():
    src = ('Inspired by the [Cargo](https://doc.rust-lang.org/cargo/(x).html "t") idea, see <kbd>Ctrl</kbd>, '
           '![a logo](logo.png) and [the guide][g].')
    view, where = reading_view(src)
    assert view == "Inspired by the Cargo idea, see  Ctrl , a logo and the guide."
    assert len(where) == len(view) + 1 and where[-1] == len(src)
    for word in ("Cargo", "Ctrl", "a logo", "the guide", "idea, see"):
        a = view.index(word)
        assert src[where[a]:where[a + len(word) - 1] + 1] == word  # a span read in the view cites the source
    plain_text = "No markup here: 3 < 4 and [brackets] alone."
    assert reading_view(plain_text) == (plain_text, list(range(len(plain_text) + 1)))


def test_whole_links_never_cut_a_link_in_two():
    t = "Astral has a [Discord server](https://discord.com/x), and <b>bold</b> text."
    a, b = whole_links(t, 0, t.index("server") + len("server"))
    assert t[a:b] == "Astral has a [Discord server](https://discord.com/x)"
    assert reading_view(t[a:b])[0] == "Astral has a Discord server"
    inside = (t.index("Discord"), t.index("server") + len("server"))
    assert whole_links(t, *inside) == inside  # a span inside the label is the label's own characters
    a, b = whole_links(t, t.index("<b>") + 1, t.index("bold") + 4)  # starts inside a tag
    assert t[a:b] == "<b>bold"
    assert whole_links("no markup", 0, 2) == (0, 2)


def test_the_reading_view_reads_inline_code_without_its_backticks_and_its_tags_as_code():
    t = "Run `uv lock --upgrade-package <package>` or see <b>this</b>."
    assert reading_view(t)[0] == "Run uv lock --upgrade-package <package> or see  this ."
    view, where = reading_view(t)
    assert t[where[view.index("uv")]:where[view.index("<package>") + 8] + 1] == "uv lock --upgrade-package <package>"


def test_view_spans_move_sentences_into_the_view():
    src = "Uv uses the [`dotenvy`](https://github.com/allan2/dotenvy) crate. It reads <b>.env</b> files."
    view, where = reading_view(src)
    spans = [(0, src.index(" It")), (src.index("It"), len(src))]
    assert [view[a:b] for a, b in view_spans(where, spans)] == ["Uv uses the dotenvy crate.",
                                                               "It reads  .env  files."]


def test_prose_is_embedded_as_it_reads_and_code_as_it_stands():
    prose = "Powered by the [`dotenvy`](https://github.com/allan2/dotenvy) crate. Run this:"
    code = "$ uv run --env-file .env -- [x](y)"
    j = {"title": "Files", "paragraphs": [
        {"text": prose, "kind": "body", "sentences": [[0, prose.index(" Run")], [prose.index("Run"), len(prose)]]},
        {"text": code, "kind": "code", "sentences": [[0, len(code)]]}]}
    (t0, s0), (t1, s1) = json_passage_spans(j, with_title=True)
    assert t0 == "Files\nPowered by the dotenvy crate. Run this:"
    assert [t0[a:b] for a, b in s0] == ["Powered by the dotenvy crate.", "Run this:"]
    assert t1 == "Files\nRun this:\n" + code  # code keeps its brackets; its introduction reads as prose
    assert [t1[a:b] for a, b in s1] == [code]
    assert json_passage_texts(j, with_title=False) == ["Powered by the dotenvy crate. Run this:",
                                                       "Run this:\n" + code]


def test_emphasis_and_quote_marks_are_read_past_and_names_are_not():
    src = ("> Modify the _Cargo.toml_ file, the [_TOML_][t] **format**,\n> not *this* or "
           "snake_case_name, _hello_cargo_, `_x_` or 2 * 3 * 4.")
    view, where = reading_view(src)
    assert view == (" Modify the Cargo.toml file, the TOML format,\n not this or "
                    "snake_case_name, hello_cargo, _x_ or 2 * 3 * 4.")
    for word in ("Cargo.toml", "TOML", "format", "hello_cargo", "_x_"):
        a = view.index(word)
        assert src[where[a]:where[a + len(word) - 1] + 1] == word
    a, b = whole_links(src, src.index("toml_"), src.index(" file"))  # starts inside the emphasis
    assert src[a:b] == "_Cargo.toml_"



def test_a_paragraph_is_embedded_under_its_title_and_its_section():
    j = {"title": "FAQ", "paragraphs": [
        {"text": "Set `QA_MODEL` to a folder.", "kind": "body", "section": "Can I use my own model?",
         "sentences": [[0, 27]]},
        {"text": "Intro.", "kind": "body", "section": "FAQ", "sentences": [[0, 6]]},
        {"text": "Plain.", "kind": "body", "sentences": [[0, 6]]}]}
    texts = [t for t, _ in json_passage_spans(j, with_title=True)]
    assert texts == ["FAQ - Can I use my own model?\nSet QA_MODEL to a folder.", "FAQ\nIntro.", "FAQ\nPlain."]
    assert [t for t, _ in json_passage_spans(j, with_title=False)][0] == "Set QA_MODEL to a folder."


@pytest.mark.parametrize("text, span, name", [
    ("add it to the `[dev-dependencies]` section. These", "[dev-dependencies]` section", "[dev-dependencies]"),
    ("the **curl** program, documented", "curl** program", "curl"),
    ("the [cargo-cache](https://crates.io/x) crate provides", "[cargo-cache](https://crates.io/x) crate", "cargo-cache"),
    ("the cargo-cache crate provides", "cargo-cache crate", "cargo-cache crate"),  # nothing marks it
    ("use the `x` flag and more", "`x` flag and", "`x` flag and"),  # more than the word it is called by
    ("the `x` flagship", "`x` flagship", "`x` flagship"),
])
def test_a_marked_name_and_the_word_it_is_called_by_answer_as_the_name(text, span, name):
    i = text.index(span)
    a, b = marked_name(text, i, i + len(span))
    assert text[a:b] == name
