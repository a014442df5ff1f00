"""Markdown's constructs, each read as the kind of block it is, at its exact offsets."""
import pytest

from qa.corpus import parse_text
from qa.markdown import blocks, front_matter, plain
from qa.sentences import split

pytestmark = pytest.mark.unit


def kinds(text: str) -> list[tuple[str, str]]:
    """(kind, the characters the block's offsets slice)."""
    return [(b.kind, text[b.start:b.end]) for b in blocks(text)]


def test_fenced_code_is_its_content_at_exact_offsets():
    text = "Run the following command:\n\n```console\n$ cargo new hello\n```\n\nDone.\n"
    assert kinds(text) == [("body", "Run the following command:"), ("code", "$ cargo new hello"),
                           ("body", "Done.")]
    code = blocks(text)[1]
    assert code.start == text.index("$ cargo") and code.end == text.index("\n```\n\nDone")


def test_an_unclosed_fence_runs_to_the_end():
    text = "Intro.\n\n~~~\nmake all\nmake test\n"
    assert kinds(text) == [("body", "Intro."), ("code", "make all\nmake test")]


def test_indented_code_keeps_its_indentation():
    text = "Example:\n\n    let x = 5;\n    let y = 6;\n\nAfter.\n"
    assert kinds(text) == [("body", "Example:"), ("code", "    let x = 5;\n    let y = 6;"), ("body", "After.")]


def test_headings_atx_and_setext_name_their_text_without_markup():
    text = "# The `?` Operator\n\nBody one.\n\nSecond *part*\n-------------\n\nBody two.\n"
    bs = blocks(text)
    assert [(b.kind, b.heading, b.level) for b in bs] == [
        ("heading", "The ? Operator", 1), ("body", "", 0), ("heading", "Second part", 2), ("body", "", 0)]
    assert text[bs[2].start:bs[2].end] == "Second *part*\n-------------"


def test_link_reference_definitions_are_dropped():
    text = "See [the book][book] for more.\n\n[book]: https://example.com/book\n[other]: https://x.org \"T\"\n"
    assert kinds(text) == [("body", "See [the book][book] for more.")]


def test_html_blocks_comments_and_component_tags_are_html():
    text = ('<Listing number="1-1" file-name="main.rs" caption="Hello">\n\n```rust\nfn main() {}\n```\n\n'
            "</Listing>\n\n<!-- ANCHOR: here -->\n\nProse.\n")
    assert kinds(text) == [("html", '<Listing number="1-1" file-name="main.rs" caption="Hello">'),
                           ("code", "fn main() {}"), ("html", "</Listing>"), ("html", "<!-- ANCHOR: here -->"),
                           ("body", "Prose.")]


def test_prose_written_as_an_html_block_is_prose_and_markup_stays_html():
    dl = ('<dt class="option-term"><a href="#x"><code>--allow-dirty</code></a></dt>\n'
          '<dd class="option-desc"><p>Allow working directories with uncommitted changes.</p>\n</dd>')
    text = (f"<dl>\n\n{dl}\n\n</dl>\n\n<script>\nvar a = 'one two three';\n</script>\n\n"
            '<p align="center"><img src="logo.png" alt="the logo of it"></p>\n\n<div>Filename: a.rs</div>\n')
    assert kinds(text) == [("html", "<dl>"), ("body", dl), ("html", "</dl>"),
                           ("html", "<script>\nvar a = 'one two three';\n</script>"),
                           ("html", '<p align="center"><img src="logo.png" alt="the logo of it"></p>'),
                           ("html", "<div>Filename: a.rs</div>")]


def test_a_paragraph_that_is_one_inline_element_is_html():
    text = ('<span class="filename">Filename: src/main.rs</span>\n\n```rust\nfn main() {}\n```\n\n'
            '<span class="caption">Listing 1-2: Contents of *Cargo.toml*</span>\n\n'
            "A <b>bold</b> word is prose.\n")
    assert kinds(text) == [("html", '<span class="filename">Filename: src/main.rs</span>'),
                           ("code", "fn main() {}"),
                           ("html", '<span class="caption">Listing 1-2: Contents of *Cargo.toml*</span>'),
                           ("body", "A <b>bold</b> word is prose.")]


def test_include_directives_are_directives_in_prose_and_in_code():
    text = "{{#include ../listings/ch01/output.txt}}\n\n```rust\n{{#rustdoc_include ../src/main.rs:here}}\n```\n"
    assert [k for k, _ in kinds(text)] == ["directive", "directive"]


def test_a_tight_list_is_one_block_and_a_loose_one_one_per_item():
    tight = "- Install the tools.\n- Run the checks,\n  then deploy.\n"
    assert kinds(tight) == [("body", tight.rstrip("\n"))]
    loose = "1. First step.\n\n2. Second step.\n"
    assert kinds(loose) == [("body", "1. First step."), ("body", "2. Second step.")]


def test_code_inside_a_list_item_is_code():
    text = "1. Create it:\n\n   ```sh\n   cargo new app\n   ```\n2. Build it.\n"
    assert kinds(text) == [("body", "1. Create it:"), ("code", "   cargo new app"), ("body", "2. Build it.")]


def test_a_table_is_one_block_and_its_rows_are_sentences():
    text = "| Flag | Meaning |\n|------|---------|\n| `-q` | quiet |\n| `-v` | verbose |\n"
    assert kinds(text) == [("body", text.rstrip("\n"))]
    assert [text[a:b] for a, b in split(text)] == ["| Flag | Meaning |", "| `-q` | quiet |", "| `-v` | verbose |"]


def test_mkdocs_admonitions_and_tabs_hold_prose_not_code():
    text = ('!!! note "Heads up"\n\n    Set `UV_NO_MODIFY_PATH=1` to keep the profile.\n\n'
            '=== "Linux"\n\n    Use curl:\n\n    ```console\n    $ curl -LsSf https://a.sh | sh\n    ```\n')
    assert kinds(text) == [("body", "Set `UV_NO_MODIFY_PATH=1` to keep the profile."), ("body", "Use curl:"),
                           ("code", "    $ curl -LsSf https://a.sh | sh")]


def test_front_matter_gives_title_and_date_and_is_not_a_paragraph():
    text = "---\ntitle: 'Install guide'\ndate: 2024-05-01T10:00:00Z\ntags: [a]\n---\n\nBody text here.\n"
    fm = front_matter(text)
    assert fm.title == "Install guide" and fm.date == "2024-05-01" and text[fm.end:].strip() == "Body text here."
    doc = parse_text("guide.md", text)
    assert (doc.title, doc.date) == ("Install guide", "2024-05-01")
    assert [p.text for p in doc.paragraphs] == ["Body text here."]


def test_plain_drops_inline_markup():
    assert plain("Use [`cargo`](https://x.rs) and **bold** <b>tags</b>") == "Use cargo and bold tags"


def test_parse_text_kinds_answerable_and_sections():
    raw = ("# Guide\n\nInstall it first:\n\n```sh\npip install qa\n```\n\n<!-- note -->\n\n"
           "## Usage\n\n{{#include usage.md}}\n\nAsk a question.\n")
    doc = parse_text("guide.md", raw)
    got = [(p.text, p.kind, p.answerable, p.section) for p in doc.paragraphs]
    assert got == [("# Guide", "heading", False, "Guide"),
                   ("Install it first:", "body", True, "Guide"),
                   ("pip install qa", "code", True, "Guide"),
                   ("<!-- note -->", "html", False, "Guide"),
                   ("## Usage", "heading", False, "Usage"),
                   ("{{#include usage.md}}", "directive", False, "Usage"),
                   ("Ask a question.", "body", True, "Usage")]
    for p in doc.paragraphs:  # every paragraph is a slice of the file's text
        assert p.text in raw


def test_include_lines_inside_code_are_never_quoted():
    doc = parse_text("a.md", "Code:\n\n```rust\nfn main() {}\n{{#include tail.rs}}\n```\n")
    code = doc.paragraphs[1]
    assert code.kind == "code" and code.skip == ((13, 33),)
    assert code.text[13:33] == "{{#include tail.rs}}"
    assert [code.text[a:b] for a, b in split(code.text, code.skip, code=True)] == ["fn main() {}"]
