"""A folder of Markdown documentation end to end: code answered with its introduction, markup
never quoted, short answers without markup, citations that slice the stored text."""
from __future__ import annotations

import textwrap

import pytest

from qa.config import Config
from qa.pipeline import QA
from qa.render import render_answer

pytestmark = pytest.mark.slow  # builds an index

DOCS = {
    "install.md": textwrap.dedent("""\
        # Installing Tern

        <!-- ANCHOR: install -->

        Tern is a command-line tool that keeps boats' logbooks in plain text files.

        To install Tern on Linux, run the following command:

        ```console
        $ curl -sSf https://tern.example/install.sh | sh
        ```

        [site]: https://tern.example
        """),
    "usage.md": textwrap.dedent("""\
        ## Writing an entry

        {{#include ../snippets/header.md}}

        Use the `--tide` flag to record the tide with an entry. Is `log?` a valid name? No, names
        may not hold question marks.

        <Listing number="2-1" caption="An entry">

        ```toml
        [entry]
        wind = "NW 4"
        ```

        </Listing>

        The logbook is stored in `~/.tern/log.toml` by default.
        """),
    "upgrade.md": textwrap.dedent("""        ## Upgrading

        Tern can replace itself with its newest release.

        ```console
        $ tern self-update
        ```
        """),
    "config.md": textwrap.dedent("""\
        ## Configuration

        Updating Tern rewrites your shell profile, adding its folder to the search path of every
        shell you use. To stop this, set `TERN_NO_PROFILE=1`.

        Tide tables come from the [Admiralty](https://admiralty.example/tides?port=42&year=2026) service.
        """),
    "plans.md": textwrap.dedent("""\
        ## Sailing plans

        Tern can sign sailing plans before a voyage. As with entries, it works on one file at a time:

        ```console
        $ tern plan sign harbour.toml
        ```
        """),
    "layout.md": textwrap.dedent("""\
        ## Layout

        A new logbook holds a `tide.lock` marker so that other tools leave it alone:

        ```console
        $ tree logbook
        logbook/
        └── tide.lock
        ```
        """),
    "wind.md": textwrap.dedent("""\
        ## Wind

        To record the wind with every entry, add this to your configuration:

        ```toml
        [entry]
        wind = "NW 4"
        ```
        """),
    "tides.md": textwrap.dedent("""\
        ## Tide tables

        Tern prints the tide table of a port for any day of the year.

        ```console
        $ # Print tomorrow's tides for Brest
        $ tern tides --port brest --day tomorrow
        High water 06:12
        ```
        """),
    "folders.md": textwrap.dedent("""\
        ## Folders

        Use the `TERN_INSTALL_DIR` environment variable to configure the folder Tern is installed
        into. Charts are cached as well: Tern looks for the chart cache folder in `TERN_CACHE_DIR`,
        then in `~/.cache/tern`.

        Logbooks are the default target for `tern new`, but can also be asked for with the
        `--logbook` flag. The `--fleet` flag creates a fleet register instead.
        """),
    "signals.md": textwrap.dedent("""\
        ## Signals

        When `tern watch` runs a command, Tern forwards every signal to the child process, with the
        exception of SIGKILL and SIGCHLD.
        """),
    "keywords.md": textwrap.dedent("""\
        ## Keywords

        In a tide script, you declare a constant using the `const` keyword instead of the `let`
        keyword.
        """),
    "glossary.md": textwrap.dedent("""\
        ## Glossary

        - **`tern moor`**: Note where the boat is moored.
        - **`tern weigh`**: Note when the anchor is weighed.
        - **`tern crew`**: List who is aboard.
        """),
    "entries.md": textwrap.dedent("""\
        ## Tide entries

        A tide entry is stored with its two fields, `height` and `time`, as follows:

        ```toml
        [tide]
        height = 4.2
        time = "06:12"
        ```
        """),
    "logs.md": textwrap.dedent("""\
        ## Logs

        Tern writes a deck log for every voyage. First, let's look at the logging rules:

        - Each entry has a time.
        - Entries are never deleted.
        - A voyage ends with a signature.

        _Seamanship_ is the art of handling a boat, and Tern logs it. Logbooks about seamanship
        are kept for years.
        """),
    "check.md": textwrap.dedent("""\
        ## Checking the logbook

        Before every `tern sync`, Tern checks that the logbook is well formed.

        To check the logbook by hand, run:

        ```console
        $ tern log --check
        ```
        """),
    "backups.md": textwrap.dedent("""\
        ## Backups

        Tern keeps `3` backups of every logbook; pass `--retain` to change the number. Each
        option is read once.

        The `TERN_LOG_<port>` environment variable sets the log level of one harbour.
        """),
    "charts.md": textwrap.dedent("""\
        ## Charts

        Tern also provides a command called `tern chart --preview`. This command quickly draws
        the chart of a port on the screen but does not save it to a file.
        """),
    "queries.md": textwrap.dedent("""\
        ## Queries

        Tern's query language has operators for ports and tides, and every operator can be
        combined with another operator. The `~` sign matches a port by the start of its name.
        """),
    "tables.md": textwrap.dedent("""\
        ## Tide table data

        Pin the tide table data in your configuration:

        ```toml
        [tides]
        data = "7.2.0"
        ```
        """),
    "almanac.md": textwrap.dedent("""\
        ## Almanac sync

        The almanac sync of Tern needs the chart pack to download the harbour almanac of every port.
        It works with version 2.4.1 of the pack or a newer one.
        """),
    "moorings.md": textwrap.dedent("""\
        ## Moorings

        A buoy that several boats take turns to use is a *swing mooring*. Tern logs it like any
        other berth.
        """),
    "drafts.md": textwrap.dedent("""\
        ## Drafts

        Entries can be kept as drafts until the voyage ends. To print only the drafts, use
        `tern log --drafts`.

        ```rust
        fn main() {
            let log = Log::open("boat");
        }
        ```
        """),
    "rounding.md": textwrap.dedent("""\
        ## Rounding

        ```rust
        fn main() {
            // Since Tern 2.6, tide heights are rounded to the nearest centimetre
            // when they are written to the logbook.
            let height = 4.237_f32;
        }
        ```
        """),
    "printing.md": textwrap.dedent("""\
        ## Printing entries

        Entries print themselves for debugging once their type derives the trait:

        ```rust
        #[derive(Debug)]
        struct Entry {
            printed_entry: bool,
        }
        ```
        """),
    "crews.md": textwrap.dedent("""\
        ## Crews

        A crew list names who sails and who stays ashore.

        ```rust
        fn main() {
            // every sailor gets a number in the crew list
            let crew_list = vec![1, 2, 3, 4];
        }
        ```

        Tern keeps a crew list for the number of voyages a season allows, twelve by default.
        """),
    "opening.md": textwrap.dedent("""\
        ## Opening logbooks

        In a tide script, a logbook already on disk is opened with `Log::open(path)`, and
        `Log::new()` makes an empty one in memory instead.
        """),
    "anchoring.md": textwrap.dedent("""\
        ## Anchoring

        Anchoring in a crowded harbour takes care and a long chain.

        To log an anchoring, run:

        ```console
        $ tern anchor --log
        ```
        """),
    "scaffold.md": textwrap.dedent("""\
        ## New logbooks

        ```console
        # A logbook for one boat
        tern new skiff

        # A register for a whole fleet
        tern new --fleet harbour
        ```
        """),
}


@pytest.fixture(scope="module")
def tern(tmp_path_factory):
    root = tmp_path_factory.mktemp("tern")
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return QA(root, tmp_path_factory.mktemp("store"), Config(), notice=lambda m: None)


def test_markup_is_never_retrieved(tern):
    idx = tern.index
    texts = [idx.paragraphs[r].text for r in range(len(idx.paragraphs)) if idx.answerable[r]]
    prose = [idx.paragraphs[r].text for r in range(len(idx.paragraphs))
             if idx.answerable[r] and idx.paragraphs[r].kind != "code"]  # (a shell comment starts with #)
    assert not any(t.startswith(("#", "<", "{{", "[site]")) for t in prose)
    assert "$ curl -sSf https://tern.example/install.sh | sh" in texts  # code is


def test_a_how_question_is_answered_with_the_command_and_its_introduction(tern):
    ans = tern.ask("How do I install Tern on Linux?")
    first = ans.snippets[0]
    assert first.code and "curl -sSf https://tern.example/install.sh" in first.text
    assert first.intro is not None and first.intro.text == "To install Tern on Linux, run the following command:"
    assert tern.index.quoted(first.intro.citation) == first.intro.text  # the introduction is cited exactly
    assert tern.index.quoted(first.citation) == first.text
    shown = render_answer(ans, color=False)
    assert "“To install Tern on Linux, run the following command:”" in shown
    assert "    $ curl -sSf https://tern.example/install.sh | sh" in shown  # the code as it stands


def test_a_how_question_gets_the_code_after_a_sentence_without_a_colon(tern):
    """A how-to question wants something to run: the sentence that explains it introduces the
    code block after it; another question about the same sentence gets the sentence."""
    first = tern.ask("How do I upgrade Tern to its newest release?").snippets[0]
    assert first.code and first.text == "$ tern self-update"
    assert first.intro is not None and first.intro.text == "Tern can replace itself with its newest release."
    assert first.short is not None and tern.index.quoted(first.short) == "tern self-update"  # no prompt
    plain = tern.ask("Can Tern replace itself with its newest release?").snippets[0]
    assert not plain.code and plain.text == "Tern can replace itself with its newest release."


def test_a_command_asked_for_is_a_command_line_of_a_code_block(tern):
    """"Which command ...?" is answered by a line to run, read with the sentence that says what
    it is for, rather than by a command named in passing in prose."""
    ans = tern.ask("Which command checks the logbook?")
    first = ans.snippets[0]
    assert first.code and first.text == "$ tern log --check"
    assert first.short is not None and tern.index.quoted(first.short) == "tern log --check"


def test_configuration_a_how_question_gets_is_quoted_whole_and_answered_by_its_line(tern):
    ans = tern.ask("How do I record the wind with every entry?")
    first = ans.snippets[0]
    assert first.code and first.text.startswith("[entry]")  # the table it stands in is shown
    assert ans.text == 'wind = "NW 4"' and tern.index.quoted(ans.short_answer) == 'wind = "NW 4"'  # not "[entry]"


def test_a_comment_in_a_shell_session_is_quoted_with_the_command_it_describes(tern):
    ans = tern.ask("How do I print tomorrow's tides for Brest?")
    first = ans.snippets[0]
    assert first.code and first.text == "$ # Print tomorrow's tides for Brest\n$ tern tides --port brest --day tomorrow\nHigh water 06:12"
    assert ans.text == "tern tides --port brest --day tomorrow"  # the command, not its comment
    assert tern.index.quoted(ans.short_answer) == ans.text


def test_a_how_question_gets_the_code_its_paragraph_leads_to(tern):
    """The sentence that answers a how-to question need not be the one before the code: a
    paragraph that ends with a colon leads to the code block after it."""
    first = tern.ask("How can I sign a sailing plan?").snippets[0]
    assert first.code and first.text == "$ tern plan sign harbour.toml"
    assert first.intro is not None and first.intro.text == "As with entries, it works on one file at a time:"


def test_a_sentence_that_holds_the_identifier_asked_for_is_quoted_not_the_code_after_it(tern):
    ans = tern.ask("What marker file does a new logbook hold?")
    first = ans.snippets[0]
    assert not first.code and first.text.startswith("A new logbook holds a `tide.lock` marker")
    assert ans.short_answer is not None and ans.text == "tide.lock"


def test_short_answers_carry_no_markup_and_cite_their_source(tern):
    shorts = []
    for q in ("Which flag records the tide with an entry?", "Where is the logbook stored by default?",
              "What keeps boats' logbooks in plain text files?"):
        ans = tern.ask(q)
        if ans.short_answer is not None and not ans.abstained:
            shorts.append(ans)
    assert shorts
    for ans in shorts:
        assert "`" not in ans.text and not ans.text.startswith(("$ ", "_", "*"))
        assert ans.text == " ".join(tern.index.quoted(ans.short_answer).split())


def test_inline_code_with_a_question_mark_stays_in_its_sentence(tern):
    idx = tern.index
    row = next(r for r in range(len(idx.paragraphs)) if "`log?`" in idx.paragraphs[r].text)
    sents = [idx.paragraphs[row].text[int(idx.sentence_spans[s][1]):int(idx.sentence_spans[s][2])]
             for s in idx.sentence_rows(row)]
    assert "Is `log?` a valid name?" in sents


def test_a_question_for_an_identifier_gets_the_code_span_of_that_shape(tern):
    flag = tern.ask("Which flag records the tide with an entry?")
    assert flag.short_answer is not None and flag.text == "--tide"
    env = tern.ask("Which environment variable stops Tern from rewriting your shell profile?")
    assert any("`TERN_NO_PROFILE=1`" in s.text for s in env.snippets)
    if env.short_answer is not None:  # never a prose word for an environment variable
        assert env.text == "TERN_NO_PROFILE=1"


def test_the_identifier_whose_name_says_what_is_asked_answers(tern):
    """`extract.name_fit`: an identifier is named for what it does, and a name that says the
    opposite of what is asked ("a fleet rather than a logbook": `--logbook`) never answers."""
    cache = tern.ask("Which environment variable sets where Tern caches its charts?")
    assert cache.text == "TERN_CACHE_DIR"
    fleet = tern.ask("What flag do I give tern new to make a fleet register rather than a logbook?")
    assert fleet.text == "--fleet" and "`--fleet`" in fleet.snippets[0].text


def test_a_span_in_prose_never_displaces_the_identifier_asked_for(tern):
    """The span model reads prose: however strongly it backs a sentence without an environment
    variable, the sentence holding the one asked for stays first."""
    from dataclasses import replace
    import numpy as np
    from qa.reader import ModelReader
    from qa.spans import Span

    class Spans:  # backs "Updating Tern" wherever it is read, nothing else
        def read(self, question, texts):
            return [Span(t.index("Updating"), t.index("Updating") + 13, 9.0, 0.0, 0.99) if "Updating" in t
                    else Span(0, 0, -np.inf, 0.0, 0.0) for t in texts]
    q = "Which environment variable stops Tern from rewriting your shell profile?"
    reader = ModelReader(tern.index, replace(tern.config, w_span=1e6), spans=Spans())
    v = tern.index.embedder.encode_query(q)
    reading = reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v)
    assert "`TERN_NO_PROFILE=1`" in reading.snippets[0].text
    assert reading.short is not None and tern.index.quoted(reading.short) == "TERN_NO_PROFILE=1"


def test_the_reader_reads_links_as_their_labels_and_cites_the_source(tern):
    from qa.reader import ModelReader, Piece
    from qa.spans import Span
    idx = tern.index
    row = next(r for r in range(len(idx.paragraphs)) if "[Admiralty]" in idx.paragraphs[r].text)
    text = idx.paragraphs[row].text
    seen = []

    class Spans:  # reports where "Admiralty" stands in what it was given to read
        def read(self, question, texts):
            seen.extend(texts)
            return [Span(t.index("Admiralty"), t.index("Admiralty") + 9, 1.0, 0.0, 0.9) for t in texts]
    reader = ModelReader(idx, spans=Spans())
    a = text.index("Tide")
    (sp,) = reader.spans_of("Where do tide tables come from?", [Piece(row, a, len(text))])
    assert seen == ["Tide tables come from the Admiralty service."]
    assert text[sp.start:sp.end] == "Admiralty"


def off_topic(tern, question: str) -> float:
    v = tern.index.embedder.encode_query(question)
    return tern.reader.read(question, tern.retriever.retrieve(question, 5, qvec=v), v).features["off_topic"]


def test_a_name_the_documents_never_use_makes_the_question_off_topic(tern):
    """Yes/no questions have no wh-word to find a focus after: a capitalised name the corpus
    never uses, nor spells alike, is one."""
    assert off_topic(tern, "Is there an official way to install Tern on FreeBSD?") == 1.0
    assert tern.ask("Is there an official way to install Tern on FreeBSD?").abstained
    assert off_topic(tern, "Can I install Tern on Linux?") == 0.0
    assert off_topic(tern, "Can I install Tern on Linnux?") == 0.0  # a misspelt name the corpus uses
    # "happens" asks what follows; it is no focus the documents must use
    assert off_topic(tern, "What happens when Tern updates itself?") == 0.0


def test_a_hyphenated_tool_name_the_documents_never_use_makes_the_question_off_topic(tern):
    assert off_topic(tern, "How do I check my logbook with tern-zxqlint?") == 1.0
    assert off_topic(tern, "How do I check my logbook with tern-log?") == 0.0  # words the documents use


def test_without_in_a_how_to_question_is_a_constraint_not_a_negation(tern):
    def neg(q):
        v = tern.index.embedder.encode_query(q)
        return tern.reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v).features["neg_mismatch"]
    assert neg("How do I install Tern on Linux without a package manager?") == 0.0
    assert neg("Which logbooks are not kept in plain text files?") == 1.0


def test_a_negation_in_a_condition_or_met_by_an_exception_is_no_mismatch(tern):
    """ "when I haven't set it" asks for a default, not a negated fact; "with the exception of"
    states what a negated question asks for."""
    def neg(q):
        v = tern.index.embedder.encode_query(q)
        return tern.reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v).features["neg_mismatch"]
    assert neg("Where is the logbook stored when I haven't configured it?") == 0.0
    assert neg("Where is the logbook not stored?") == 1.0
    assert neg("Which signals does Tern not forward to the child process?") == 0.0


def test_a_specific_term_the_documents_never_use_makes_a_yes_no_or_how_to_question_off_topic(tern):
    """A yes/no question has no focus word, a how-to's first word after "how" is often a light
    verb: a specific term (not a common English word) the corpus never uses is what it is about."""
    assert off_topic(tern, "Does Tern collect telemetry?") == 1.0
    assert tern.ask("Does Tern collect telemetry, and how do I opt out?").abstained
    assert off_topic(tern, "How do I make nox record the tide?") == 1.0
    assert off_topic(tern, "Is the logbook tied to one boat?") == 0.0  # "tied": a common word, maybe a paraphrase
    assert off_topic(tern, "Does Tern keep logbooks in plain text files?") == 0.0


def test_a_plural_question_gets_the_whole_list_an_item_read_stands_in(tern):
    import numpy as np
    from qa.reader import ModelReader
    from qa.spans import Span

    class Spans:  # reads one item of the list, "SIGCHLD"
        def read(self, question, texts):
            return [Span(t.index("SIGCHLD"), t.index("SIGCHLD") + 7, 9.0, 0.0, 0.99) if "SIGCHLD" in t
                    else Span(0, 0, -np.inf, 0.0, 0.0) for t in texts]
    reader = ModelReader(tern.index, tern.config, spans=Spans())
    for q, short in (("Which signals does Tern not forward to the child process?", "SIGKILL and SIGCHLD"),
                     ("What is the last signal Tern does not forward to the child process?", "SIGCHLD")):
        v = tern.index.embedder.encode_query(q)
        reading = reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v)
        assert reading.short is not None and tern.index.quoted(reading.short) == short


def test_an_identifier_whose_name_says_what_is_asked_answers_before_the_one_the_span_touches(tern):
    import numpy as np
    from qa.reader import ModelReader
    from qa.spans import Span

    class Spans:  # the span model, trained on prose, backs `let` (read without backticks)
        def read(self, question, texts):
            return [Span(t.index(" let") + 1, t.index(" let") + 4, 9.0, 0.0, 0.99) if " let" in t
                    else Span(0, 0, -np.inf, 0.0, 0.0) for t in texts]
    q = "Which keyword declares a constant in a tide script?"
    reader = ModelReader(tern.index, tern.config, spans=Spans())
    v = tern.index.embedder.encode_query(q)
    reading = reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v)
    assert reading.short is not None and tern.index.quoted(reading.short) == "const"


def test_a_short_list_item_is_quoted_alone_not_with_the_next_item(tern):
    a = tern.ask("What does tern weigh note?")
    assert a.snippets[0].text == "- **`tern weigh`**: Note when the anchor is weighed."


def test_a_sentence_the_reader_is_sure_answers_is_quoted_not_the_code_it_introduces(tern):
    import numpy as np
    from qa.reader import ModelReader
    from qa.spans import Span

    def reader(prob):
        class Spans:  # reads "height and time" in the sentence (its view has no backticks)
            def read(self, question, texts):
                return [Span(t.index("height and"), t.index("and time") + 8, 9.0, 0.0, prob)
                        if "height and time" in t else Span(0, 0, -np.inf, 0.0, 0.0) for t in texts]
        return ModelReader(tern.index, tern.config, spans=Spans())
    q = "What is a tide entry stored with?"
    v = tern.index.embedder.encode_query(q)
    passages = tern.retriever.retrieve(q, 5, qvec=v)
    sure = reader(0.99).read(q, passages, v)
    assert sure.snippets[0].text.startswith("A tide entry is stored") and not sure.snippets[0].code
    assert tern.index.quoted(sure.short) == "`height` and `time`"
    unsure = reader(0.5).read(q, passages, v)  # the code the sentence introduces, as before
    assert unsure.snippets[0].code and unsure.snippets[0].text.startswith("[tide]")



def test_a_plural_identifier_question_gets_every_identifier_of_the_list(tern):
    a = tern.ask("What are the two fields of a tide entry?")
    assert a.text == "height and time" and tern.index.quoted(a.short_answer) == "`height` and `time`"



def test_a_sentence_that_leads_to_a_list_is_answered_by_the_list(tern):
    a = tern.ask("What are the logging rules?")
    assert a.snippets[0].text == ("- Each entry has a time.\n- Entries are never deleted.\n"
                                  "- A voyage ends with a signature.")


def test_a_definition_question_is_answered_by_the_sentence_that_defines_the_term(tern):
    a = tern.ask("What is seamanship?")
    assert a.snippets[0].text == "_Seamanship_ is the art of handling a boat, and Tern logs it."



def test_a_span_never_runs_into_the_next_list_item(tern):
    import numpy as np
    from qa.reader import ModelReader
    from qa.spans import Span

    class Spans:  # reads from one item into the next
        def read(self, question, texts):
            return [Span(t.index("Note where"), t.index("Note when") + 9, 9.0, 0.0, 0.99) if "Note where" in t
                    and "Note when" in t else Span(0, 0, -np.inf, 0.0, 0.0) for t in texts]
    q = "What does tern moor note?"
    reader = ModelReader(tern.index, tern.config, spans=Spans())
    v = tern.index.embedder.encode_query(q)
    reading = reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v)
    assert reading.snippets[0].text == "- **`tern moor`**: Note where the boat is moored."
    assert tern.index.quoted(reading.short) == "Note where the boat is moored."


def test_a_version_asked_for_is_a_dotted_version_and_none_here_is_no_type(tern):
    from qa.scoring import SentenceScorer
    scorer = SentenceScorer(tern.index, tern.config)

    def analyse(q, drop=None):
        v = tern.index.embedder.encode_query(q)
        return scorer.analyse(q, [p for p in tern.retriever.retrieve(q, 10, qvec=v) if p.doc != drop], v)
    an = analyse("Which chart pack version does the almanac sync need?")
    best = an.cands[0]
    assert an.qtype == "version" and "2.4.1" in tern.index.paragraphs[best.pi].text[best.start:best.end]
    assert tern.ask("Which chart pack version does the almanac sync need?").text == "2.4.1"
    # "minimum" is no focus the documents must use: the question is not off topic
    assert off_topic(tern, "What minimum chart pack version does the almanac sync need?") == 0.0
    assert analyse("What version of the logbook format does Tern write?", drop="almanac.md").qtype is None


def test_an_option_asked_for_is_a_flag_where_there_is_one(tern):
    assert tern.ask("Which option changes the number of backups Tern keeps?").text == "--retain"


def test_a_placeholder_in_an_identifier_is_part_of_it_and_shown(tern):
    a = tern.ask("Which environment variable sets the log level of one harbour?")
    assert a.text == "TERN_LOG_<port>" and tern.index.quoted(a.short_answer) == "TERN_LOG_<port>"


def test_a_version_asked_for_in_a_configuration_line_is_the_version(tern):
    a = tern.ask("Which version of the tide table data should I pin?")
    assert a.snippets[0].code and a.text == "7.2.0"


def test_an_operator_the_question_names_is_found_where_it_is_written_as_code(tern):
    from qa.scoring import SentenceScorer
    q = "What does the ~ operator do?"
    v = tern.index.embedder.encode_query(q)
    best = SentenceScorer(tern.index, tern.config).analyse(q, tern.retriever.retrieve(q, 5, qvec=v), v).cands[0]
    assert tern.index.paragraphs[best.pi].text[best.start:best.end] == "The `~` sign matches a port by the start of its name."


def test_the_confidence_model_reads_an_identifier_question_as_it_was_fitted_untyped(tern):
    q = "Which flag records the tide with an entry?"
    v = tern.index.embedder.encode_query(q)
    r = tern.reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v)
    assert tern.index.quoted(r.short) == "--tide"  # the identifier still leads and answers
    assert r.features["has_type"] == 0.0 and r.features["type_fit"] == 0.5  # SQuAD's kinds only


def test_a_how_question_quoted_with_prose_is_answered_by_the_command_it_names(tern):
    a = tern.ask("How do I draw the chart of a port on the screen?")
    assert a.text == "tern chart --preview" and tern.index.quoted(a.short_answer) == "tern chart --preview"


def test_a_span_in_a_sentence_without_a_version_never_takes_the_lead_from_one_with_it(tern):
    import numpy as np
    from qa.reader import ModelReader
    from qa.spans import Span

    class Spans:  # sure of a span in the sentence that holds no version
        def read(self, question, texts):
            return [Span(t.index("harbour almanac"), t.index("harbour almanac") + 15, 9.0, 0.0, 0.99)
                    if "harbour almanac" in t else Span(0, 0, -np.inf, 0.0, 0.0) for t in texts]
    q = "Which chart pack version does the almanac sync need?"
    reader = ModelReader(tern.index, tern.config, spans=Spans())
    v = tern.index.embedder.encode_query(q)
    reading = reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v)
    assert "2.4.1" in reading.snippets[0].text


def _read(tern, q, spans):
    from qa.reader import ModelReader
    reader = ModelReader(tern.index, tern.config, spans=spans)
    v = tern.index.embedder.encode_query(q)
    return reader.read(q, tern.retriever.retrieve(q, 5, qvec=v), v)


class _SpansOn:
    """A span model sure of `words` wherever it reads them, and of nothing elsewhere."""
    def __init__(self, words: str | None):
        self.words = words

    def read(self, question, texts):
        import numpy as np
        from qa.spans import Span
        return [Span(t.index(self.words), t.index(self.words) + len(self.words), 9.0, 0.0, 0.99)
                if self.words and self.words in t else Span(0, 0, -np.inf, 0.0, 0.0) for t in texts]


def test_a_term_asked_for_is_the_one_the_text_marks(tern):
    from qa.extract import answer_type, candidates
    assert answer_type("What term does Tern use for a shared buoy?") == "term"
    assert answer_type("What is the workaround called where you release twice?") == "term"  # not a place
    assert answer_type("What is the workaround called where you release twice?", term=False) == "place"
    text = "A *swing mooring*, a **[berth][b]** or _ours_; 2 * 3 * 4"
    assert [text[a:b] for a, b in candidates(text, "term")] == ["swing mooring", "berth", "ours"]
    a = tern.ask("What is a buoy that several boats take turns to use called?")
    assert a.text == "swing mooring" and tern.index.quoted(a.short_answer) == "swing mooring"
    reading = _read(tern, "What is a buoy that several boats take turns to use called?", _SpansOn("several boats"))
    assert tern.index.quoted(reading.short) == "swing mooring"  # the marked term, not the span's words


def test_a_sentence_that_names_code_the_question_does_not_is_quoted_not_the_code_after_it(tern):
    a = tern.ask("How do I print only the draft entries?")
    assert a.snippets[0].text == "To print only the drafts, use\n`tern log --drafts`."
    assert a.text == "tern log --drafts"


def test_a_question_in_words_answered_in_a_code_comment_gets_the_span_not_the_line(tern):
    a = tern.ask("Since which Tern release are tide heights rounded?")
    assert a.snippets[0].code and "// Since Tern 2.6" in a.snippets[0].text
    assert a.text == "Tern 2.6"


def test_a_command_under_a_comment_is_a_command_and_its_neighbour_in_the_block_takes_no_lead(tern):
    a = tern.ask("What command creates a register for a whole fleet?")
    assert a.text == "tern new --fleet harbour"


def test_which_asked_of_a_list_item_that_opens_with_code_is_answered_by_that_code(tern):
    a = tern.ask("Which glossary entry notes where the boat is moored?")
    assert a.snippets[0].text == "- **`tern moor`**: Note where the boat is moored." and a.text == "tern moor"
    reading = _read(tern, "Which glossary entry notes where the boat is moored?", _SpansOn(None))
    assert reading.snippets[0].text.startswith("- **`tern moor`**") and tern.index.quoted(reading.short) == "tern moor"


def test_a_span_read_in_a_neighbouring_list_item_speaks_for_the_best_item(tern):
    # sure of a span in the item after the one the question describes
    reading = _read(tern, "Which glossary entry notes where the boat is moored?", _SpansOn("anchor"))
    assert reading.snippets[0].text == "- **`tern moor`**: Note where the boat is moored."


def test_an_attribute_asked_for_is_the_attribute_line_of_a_code_block(tern):
    reading = _read(tern, "What attribute lets an entry print itself for debugging?", _SpansOn(None))
    assert reading.snippets[0].code and reading.snippets[0].text.startswith("#[derive(Debug)]")
    assert tern.index.quoted(reading.short) == "#[derive(Debug)]"


def test_a_number_in_source_code_is_no_answer_in_words(tern):
    from qa.scoring import SentenceScorer
    q = "How many voyages does Tern keep a crew list for?"
    v = tern.index.embedder.encode_query(q)
    an = SentenceScorer(tern.index, tern.config).analyse(q, tern.retriever.retrieve(q, 5, qvec=v), v)
    fit = {tern.index.paragraphs[c.pi].text[c.start:c.end]: c.type_fit for c in an.cands}
    code = next(t for t in fit if "vec![1, 2, 3, 4]" in t)  # (its unit, with the comment over it)
    assert an.qtype == "number" and fit[code] == 0.0
    assert fit["Tern keeps a crew list for the number of voyages a season allows, twelve by default."] == 1.0


def test_a_how_question_quoted_with_prose_is_answered_by_the_call_it_names(tern):
    q = "How do I open a logbook that is already on disk in a tide script?"
    reading = _read(tern, q, _SpansOn("a logbook already on disk"))  # the span model reads the prose
    assert reading.snippets[0].citation.doc == "opening.md"
    assert tern.index.quoted(reading.short) == "Log::open(path)"  # the call the question's words name


def test_a_span_of_prose_that_names_no_code_takes_no_lead_for_a_how_question(tern):
    from qa.reader import ModelReader, Piece
    from qa.spans import Span
    q = "How do I log an anchoring in a crowded place?"
    reader = ModelReader(tern.index, tern.config, spans=_SpansOn(None))
    v = tern.index.embedder.encode_query(q)
    an = reader.scorer.analyse(q, tern.retriever.retrieve(q, 5, qvec=v), v)
    idx = tern.index
    prose = next(c for c in an.cands if idx.paragraphs[c.pi].text.startswith("Anchoring in a crowded"))
    text = idx.paragraphs[prose.pi].text
    at = text.index("a long chain")
    pieces, spans = [Piece(prose.pi, 0, len(text))], [Span(at, at + 12, 9.0, 0.0, 0.99)]  # sure of prose
    assert an.wants_code and an.cands[0].score - prose.score < tern.config.w_span
    assert reader.lead(an.cands, pieces, spans, False, code=True) is None
    lead = reader.lead(an.cands, pieces, spans, False, code=False)
    assert lead is not None and lead.pi == prose.pi  # (the rule, not the scores, keeps it out)


def test_passages_that_hold_code_are_read_in_more_windows_than_prose(tern):
    from dataclasses import replace
    from qa.reader import ModelReader
    q = "How do I log an anchoring in a crowded place?"
    v = tern.index.embedder.encode_query(q)
    passages = tern.retriever.retrieve(q, 5, qvec=v)
    assert any(tern.index.paragraphs[p.row].kind == "code" for p in passages)
    wide = replace(tern.config, reader_windows=1, reader_window_gap=0.0, code_reader_windows=3,
                   code_reader_window_gap=float("inf"))
    reader = ModelReader(tern.index, wide, spans=_SpansOn(None))
    an = reader.scorer.analyse(q, passages, v)
    assert len(reader.pieces(an, passages)) == 3  # the code settings, not the prose ones
    prose = [p for p in passages if tern.index.paragraphs[p.row].kind != "code" and "`" not in p.text]
    assert len(reader.pieces(reader.scorer.analyse(q, prose, v), prose)) == 1
