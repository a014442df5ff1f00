"""qa.extract: the question-word table, answer types and typed phrases (no model needed)."""
from __future__ import annotations

import re

import pytest

from qa import extract, ner
from qa.extract import ANSWER_TYPES, KINDS, answer_type, candidates, code_answer_line, is_organisation
from qa.text import terms

pytestmark = pytest.mark.unit

SENTENCE = ("Russian Defense Minister Sergei Shoigu met Kang Sun-nam in Pyongyang on July 26, 2023, "
            "and 3,000 people watched.")


def phrases(sentence: str, kind: str) -> list[str]:
    return [sentence[a:b] for a, b in candidates(sentence, kind)]


# -- the one table -----------------------------------------------------------------------------------
def test_table_rows_are_well_formed():
    for phrase, kind, labels in ANSWER_TYPES:
        assert kind in KINDS
        re.compile(phrase)
        assert phrase == phrase.lower()  # answer_type lower-cases the question
        assert labels is None or (labels and all(label.isupper() for label in labels))
    assert {kind for _, kind, _ in ANSWER_TYPES} == set(KINDS)


def test_ner_reads_its_labels_from_the_same_table():
    assert ner.WANTED == tuple((p, labels) for p, _, labels in ANSWER_TYPES if labels)
    for phrase, kind, labels in ANSWER_TYPES:
        if labels:  # a labelled wh-phrase alone: both readings come from its row
            assert ner.wanted(f"{phrase} was it?") == labels
            assert answer_type(f"{phrase} was it?") == kind


@pytest.mark.parametrize("question, kind", [
    ("How many projects does the Centre realise a year?", "number"),
    ("How much did it cost?", "number"),
    ("What percentage of voters stayed home?", "number"),
    ("How long did the siege last?", "number"),
    ("How long ago was it built?", "number"),  # "how long" is a number before it is a date
    ("How tall is the tower?", "number"),
    ("When did Shoigu arrive?", "date"),
    ("In what year did the war end?", "date"),
    ("Which century saw the first printing press?", "date"),
    ("Who did Shoigu meet?", "name"),
    ("Whose idea was it?", "name"),
    ("Which newspaper reported it?", "name"),
    ("What was the name of the ship?", "name"),
    ("Where did Shoigu meet Kang?", "place"),
    ("Which city hosted the parade?", "place"),
    ("In what region is the valley?", "place"),
    ("WHO LED THE DELEGATION?", "name"),
    ("Who was in the city when it fell?", "name"),  # "when" after the wh-word opens a clause
    ("How do I enable it where I declare the dependency?", None),  # so does "where" after "how"
    ("What is the southern region where protestants live?", "place"),  # not after "what"
    ("Where and when did it begin?", "date"), ("When did it fall?", "date"),
    ("What minimum Docker Compose version is needed?", "version"),
    ("What's the newest Python version PyPy supports?", "version"),
    ("How many versions are there?", "number"), ("Which company released version 3?", "name"),
    ("Why is the sky blue?", None),
    ("What did the minister say about the treaty?", None),
    ("Somewhere, somehow?", None),  # whole words only
])
def test_answer_type(question, kind):
    assert answer_type(question) == kind


def test_ner_takes_the_first_labelled_row_found():
    # "where" stands before "who" in the table, so a question with both asks for a place's labels
    assert ner.wanted("Who lived where the river bends?") == dict(ner.WANTED)["where"]
    assert answer_type("Who lived where the river bends?") == "name"  # kinds go by KINDS order
    assert ner.wanted("Which country?") is None and answer_type("Which country?") == "place"


# -- typed phrases -----------------------------------------------------------------------------------
def test_date_candidates():
    assert phrases(SENTENCE, "date") == ["July 26, 2023"]
    s = "It was rebuilt in the 1990s, reopened on Monday and dates from the 19th century."
    assert phrases(s, "date") == ["1990s", "Monday", "19th century"]


def test_number_candidates_leave_dates_out():
    assert phrases(SENTENCE, "number") == ["3,000 people"]
    s = "He paid $5 million for 12 km of road and forty-two lamps in March 2020."
    assert phrases(s, "number") == ["$5 million", "12 km", "forty-two"]


def test_name_candidates():
    names = phrases(SENTENCE, "name")
    assert "Kang Sun-nam" in names and "Pyongyang" in names
    assert "Russian Defense Minister Sergei Shoigu" in names


def test_name_candidates_drop_leading_function_words_and_adjectives():
    s = "The Korean friends and Russian and Chinese delegations came to The Kremlin."
    assert phrases(s, "name") == ["Kremlin"]


def test_place_candidates_need_a_locative_word_before_them():
    assert phrases(SENTENCE, "place") == ["Pyongyang"]
    assert phrases("Pyongyang welcomed him.", "place") == []


def test_spans_index_the_sentence_and_unknown_kinds_give_nothing():
    for kind in KINDS:
        for a, b in candidates(SENTENCE, kind):
            assert 0 <= a < b <= len(SENTENCE)
    assert candidates(SENTENCE, "colour") == [] and candidates("", "name") == []


def test_version_candidates_are_dotted_or_v_numbered_and_end_before_a_full_stop():
    s = "Compose 2.22.0 ships with Docker Desktop 4.24, up to 3.11. Buckets went v12 to v13; 1.70.0-beta.1 too."
    assert phrases(s, "version") == ["2.22.0", "4.24", "3.11", "v12", "v13", "1.70.0-beta.1"]
    assert phrases("In 2021 there were 3 editions, vol. 2.", "version") == []


def test_is_organisation():
    assert is_organisation("Russian Defence Ministry")
    assert is_organisation("the Central Military Commission of the Communist Party")
    assert not is_organisation("Sergei Shoigu")


def test_dates_match_whole_phrases():
    assert extract.DATE.fullmatch("26 July 2023") and extract.DATE.fullmatch("Sept. 3")
    assert extract.DATE.fullmatch("1066 AD") and not extract.DATE.fullmatch("3000")


# -- identifiers written as code (issue 21) ----------------------------------------------------------
@pytest.mark.parametrize("question, kind", [
    ("Which environment variable keeps the installer from editing my shell profile?", "code:env"),
    ("Which env var holds the token?", "code:env"),
    ("For Docker layer caching, which uv sync flag installs only the dependencies?", "code:flag"),
    ("What is the command-line option for quiet output?", "code:flag"),
    ("Which file records the default Python version?", "code:path"),
    ("What directory does the image use for tools?", "code:path"),
    ("Which GitHub Action sets up the tool?", "code:code"),
    ("What setting turns the cache off?", "code:code"),
    ("Which command verifies the lockfile is current?", "code:command"),
    ("What subcommand scaffolds a project?", "code:command"),
    ("What field of computer science studies algorithms?", "code:code"),  # prose falls back in the scorer
    ("Who did Shoigu meet?", None),
    ("How do I install it?", None),
    ("Which other tool's workspaces inspired these?", None),  # the workspaces', not the tool's name
    ("What does the dyn keyword do?", None),  # what it does, not an identifier
    ("What is a crate?", None),  # a definition
    ("What attribute restricts a function to Linux?", "code:attribute"),  # the attribute, not the function
    ("Which decorator caches a property?", "code:attribute"),
    ("What is the ..other syntax, which fills the remaining fields, called?", None),  # a clause's "which"
    ("What's the name of the syntax used to tell parse which type to produce?", None),
])
def test_code_kind(question, kind):
    assert extract.code_kind(question) == kind


@pytest.mark.parametrize("unit, command", [
    ("$ uv lock --check", True), ("uv run --with jupyter jupyter lab", True), ("ls", True),
    ("echo 'eval' >> ~/.zshrc", True), ('name = "albatross"', False), ("repos:\n  - repo: x", False),
    ("[project]\nname = 1", False), ("COPY --from=uv /uv /bin/", False), ("example-lib/\n├── README.md", False),
    ("fn main() {", False), ("let x = 5;", False), ("$ cargo run", True), ("cargo build --release", True),
    ("# A library\ncargo new --lib bar", True), ("// caption\n\nlet x = 5;", False), ("# only a comment", False),
])
def test_command_unit_tells_a_command_line_from_configuration(unit, command):
    assert extract.command_unit(unit) is command


def test_a_flag_or_variable_inside_an_inline_command_is_a_candidate_and_never_cut():
    s = "`UV_X=1 uv sync --no-install-project` installs; pass --no-dev-deps or `uv run`."
    assert phrases(s, "code:flag") == ["--no-install-project", "--no-dev-deps"]
    assert phrases(s, "code:env") == ["UV_X=1"]


def test_named_as_asked_finds_the_identifier_the_sentence_calls_by_the_noun_asked_for():
    s = "Use the `--system` flag on all `uv` calls or set the `UV_SYSTEM_PYTHON` variable."
    at = {t: (s.index(t), s.index(t) + len(t)) for t in ("--system", "uv", "UV_SYSTEM_PYTHON")}
    q = "Which variable lets uv install into the system interpreter?"
    assert [t for t, (a, b) in at.items() if extract.named_as_asked(s, a, b, q)] == ["UV_SYSTEM_PYTHON"]
    assert [t for t, (a, b) in at.items() if extract.named_as_asked(s, a, b, "What flag makes it global?")] \
        == ["--system"]
    assert not extract.named_as_asked(s, *at["--system"], "Who wrote it?")


def test_code_candidates_are_inline_code_of_the_shape_asked_for_without_backticks():
    s = "Run `uv sync` with `--no-install-project`, or set `UV_NO_MODIFY_PATH=1` in `.env` files."
    assert phrases(s, "code:flag") == ["--no-install-project"]
    assert phrases(s, "code:env") == ["UV_NO_MODIFY_PATH=1"]
    assert phrases(s, "code:path") == [".env"]
    assert phrases(s, "code:code") == ["uv sync", "--no-install-project", "UV_NO_MODIFY_PATH=1", ".env"]
    assert phrases("A ``code with ` tick`` span", "code:code") == ["code with ` tick"]


def test_bare_environment_variables_and_long_flags_count_but_prose_does_not():
    s = "Set UV_CACHE_DIR or pass --cache-dir; NASA and U.S. are no variables, and a -- dash no flag."
    assert phrases(s, "code:env") == ["UV_CACHE_DIR"]
    assert phrases(s, "code:flag") == ["--cache-dir"]
    assert phrases(s, "code:code") == []  # only inline code: prose has none


def test_name_fit_reads_what_an_identifiers_name_says():
    def fit(identifier, q):
        return extract.name_fit(identifier, q, {t: 1.0 for t in terms(q)})
    q = "Which environment variable controls where uv puts its cache directory?"
    assert fit("UV_CACHE_DIR", q) > fit("UV_INSTALL_DIR", q) > 0  # cache, dir(ectory); not install
    assert fit("UV_INSTALL_PATH", q) < 0
    q = "What flag do I give uv init to create a library rather than an app?"
    assert fit("--lib", q) > 0 and fit("--app", q) == -1.0  # set aside: the opposite
    q = "Which option loads a dotenv file?"
    assert fit("--no-env-file", q) == -1.0 and fit("--env-file", q) > -1.0
    # a name that turns something off answers a question that asks for it off
    assert fit("UV_NO_MODIFY_PATH", "Which variable keeps the installer from editing my profile?") > -1.0
    assert fit("--no-cache", "How do I avoid the cache?") == 0.0  # no identifier noun: no fit
    # things with proper names are not described by them
    assert fit("dotenvy", "What library does uv use to read dotenv files?") == 0.0


def test_a_version_number_is_no_path():
    assert phrases("Since `0.8` images set `UV_TOOL_BIN_DIR` to `/usr/local/bin`.", "code:path") == ["/usr/local/bin"]


@pytest.mark.parametrize("text, item, whole", [
    ("uv supports the CPython, PyPy, Pyodide, and GraalPy Python implementations.", "PyPy",
     "CPython, PyPy, Pyodide, and GraalPy"),  # not "GraalPy Python": no longer than those before
    ("Forwards all (with the exception of SIGKILL, SIGCHLD, SIGIO, and\nSIGPOLL) to it.", "SIGIO",
     "SIGKILL, SIGCHLD, SIGIO, and\nSIGPOLL"),
    ("The flags `--a`, `--b` or `--c` work.", "--b", "`--a`, `--b` or `--c`"),  # code without backticks
    ("It rained in 1990, 1991 and 1992.", "1991", "1990, 1991 and 1992"),
    ("In 2001, Smith and Jones won.", "Smith", "Smith and Jones"),  # items of one kind
    ("Paris, the capital, is big.", "Paris", "Paris"),  # no "and"/"or": no enumeration
    ("He met Kang Sun-nam in Pyongyang, and they talked.", "Kang Sun-nam", "Kang Sun-nam"),
])
def test_enumeration_is_the_whole_list_an_item_stands_in(text, item, whole):
    a = text.index(item)
    s, e = extract.enumeration(text, a, a + len(item))
    assert text[s:e] == whole


def test_asks_plural():
    assert extract.asks_plural("Which Python implementations can uv work with?")
    assert extract.asks_plural("Which signals are not passed through to the child?")
    assert not extract.asks_plural("What country is it in?")
    assert not extract.asks_plural("What process is called osmosis?")  # not a plural noun


def test_a_file_name_set_in_emphasis_is_a_path():
    s = "Cargo writes _Cargo.lock_ and builds into _target/debug_ from *src/main.rs*; _this_ is no path."
    assert phrases(s, "code:path") == ["Cargo.lock", "target/debug", "src/main.rs"]


def test_a_definition_question_and_the_sentences_that_define_its_term():
    assert extract.defined_term("What is ownership?") == "ownership"
    assert extract.defined_term("What are clades?") == "clades"
    assert extract.defined_term("What is structural geology?") == "structural geology"
    assert extract.defined_term("What is the capital of France?") is None
    assert extract.defined_term("What is Warsaw's symbol?") is None
    assert extract.defined_term("What is it?") is None
    assert extract.defines("_Ownership_ is a set of rules that govern memory.", "ownership")
    assert extract.defines("Remember that a crate is a collection of files.", "crate")
    assert extract.defines("Clades are genetic branches.", "clades")
    assert extract.defines("Petrology (from Greek) is the study of rocks.", "petrology")
    assert not extract.defines("Ownership rules are strict.", "ownership")
    assert not extract.defines("The crate that is used is small.", "crate")
    # a definition's copula leads to a noun phrase: not "are very common", "is published by"
    assert extract.defines("Cargo is Rust's build system.", "cargo")
    assert not extract.defines("Crates are very common.", "crates")
    assert not extract.defines("A crate is published by its author.", "crate")


def answer_line(block: str, question: str) -> str | None:
    from qa.text import terms
    found = code_answer_line(block, 0, len(block), {t: 1.0 for t in terms(question)})
    return None if found is None else block[found[0]:found[1]]


def test_the_line_of_a_configuration_or_source_block_that_answers():
    alias = '[alias]\nrr = "run --release"\nrecursive_example = "rr --example recursions"'
    assert answer_line(alias, "How do I make cargo rr run in release mode?") == 'rr = "run --release"'
    # the only line that says something, past the table header and an ellipsis comment
    assert answer_line("[package]\n# …\nautobins = false\n", "What turns off binary detection?") == "autobins = false"
    # a comment right above a line describes it
    build = ('fn main() {\n    // Rerun this script when the C file changes.\n    println!("x");\n'
             '    cc::Build::new().compile("hello");\n}')
    assert answer_line(build, "What tells Cargo to rerun when the C file changes?") == 'println!("x");'
    # in a shell session the commands are its lines, each with its comment
    session = "$ cargo update         # updates all dependencies\n$ cargo update regex   # updates just regex\nUpdating"
    assert answer_line(session, "How do I update just regex?") == "$ cargo update regex   # updates just regex"
    # no line in front: the block answers whole
    assert answer_line('[workspace]\nmembers = ["a"]\nresolver = "2"', "What does the table hold?") is None
    assert answer_line('[a]\nx = 1\n[b]\nx = 2', "What is x?") is None


def test_inline_code_written_in_html_is_an_identifier():
    s = '<dt id="option---allow-dirty"><a href="#x"><code>--allow-dirty</code></a></dt> use <code>CARGO_HOME</code>'
    assert phrases(s, "code:flag") == ["--allow-dirty"]
    assert phrases(s, "code:env") == ["CARGO_HOME"]


def test_the_number_of_an_ordered_list_item_is_no_number_answer():
    assert phrases("4. Upload the file.", "number") == []
    assert phrases("1) one item\n2) two items of 10 MB", "number") == ["one", "two", "10"]
    assert phrases("It was 1999. 3 people came.", "number") == ["1999", "3 people"]


def test_an_option_is_asked_for_as_a_flag_first():
    from qa.extract import code_kind
    assert code_kind("What option do I pass to skip that?") == "code:option"
    assert code_kind("Which uv run option loads a dotenv file?") == "code:option"
    assert code_kind("Which setting holds the cache directory?") == "code:code"


def test_an_attribute_is_any_inline_code_or_a_line_of_a_block_that_is_one():
    text = ('// only if not linux\n#[cfg(not(target_os = "linux"))]\nfn x() {}\n  @dataclass\nclass A: pass\n'
            'Use `#[derive(Debug)]` here, not # comments or an @mention.')
    found = [text[a:b] for a, b in extract.code_candidates(text, "code:attribute")]
    assert found == ['#[cfg(not(target_os = "linux"))]', "@dataclass", "#[derive(Debug)]"]


def test_except_in_the_question_asks_for_a_name_that_turns_off():
    w = {"linux": 1.0, "oper": 1.0, "system": 1.0}
    assert extract.name_fit("not(target_os", "Which attribute builds it on every system except Linux?", w) > -1.0
    assert extract.name_fit("not(target_os", "Which attribute builds it on Linux?", w) == -1.0
