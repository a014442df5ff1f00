"""Answer types: what kind of phrase a question asks for, and where such phrases stand in a sentence.

Regular expressions rather than a tagger: spaCy would cost ~3.4 s to load and ~6.5 ms a
sentence, several times the whole answer budget; these cost microseconds.
"""
from __future__ import annotations

import re

from .text import CODE_SPAN, stem_all, terms

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           "Jan\\.?|Feb\\.?|Mar\\.?|Apr\\.?|Jun\\.?|Jul\\.?|Aug\\.?|Sept?\\.?|Oct\\.?|Nov\\.?|Dec\\.?")
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_ORD = r"(?:st|nd|rd|th)?"
DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}}{_ORD},?\s+\d{{4}}|\d{{1,2}}{_ORD}\s+(?:of\s+)?(?:{_MONTHS}),?\s+\d{{4}}|"
    rf"(?:{_MONTHS})\s+\d{{4}}|(?:{_MONTHS})\s+\d{{1,2}}{_ORD}\b|(?:early |late |mid-?)?(?:1\d|20)\d\d(?:s|\s?(?:BC|AD|BCE|CE))?|"
    rf"(?:{_DAYS})|(?:\d{{1,2}}(?:st|nd|rd|th)|[a-z]+(?:teenth|tieth))\s+century|\d{{1,2}}(?::\d\d)?\s?(?:a\.m\.|p\.m\.|am|pm))\b")
_NUMWORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
             "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
             "hundred|hundreds|thousand|thousands|million|millions|billion|dozen|dozens|half|several")
NUMBER = re.compile(
    rf"(?:[$£€]\s?)?\b\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|hundred))?"
    rf"(?:\s(?:km|kilometres|kilometers|miles|metres|meters|feet|kg|tons|tonnes|years|days|hours|minutes|people))?"
    rf"|\b(?:{_NUMWORDS})(?:[- ](?:{_NUMWORDS}))*\b", re.I)
# a dotted version ("2.22.0", "3.11", "v1.2") or a "v"-numbered one ("v13"), not a sentence's full stop
VERSION = re.compile(r"(?<![\w.])(?:v?\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.]*[0-9A-Za-z])?|v\d+)(?![\w]|\.\d)")
_CAP = r"[A-Z][\w'’.\-]*"
NAME = re.compile(rf"\b{_CAP}(?:\s+(?:(?:of|the|de|del|la|von|van|der|al|bin|and|&|for)\s+)*{_CAP})*")
_NOT_NAMES = frozenset("The A An In On At For But And Or If When While After Before During This That These Those "
                       "It He She They We I His Her Its Their Our As By From To With Also However Although "
                       "Since Because Despite Some Many Most All Both Each Other Such There Here Then Thus".split())

# The one question-word -> answer-type table. Each row: a wh-phrase (a regular expression matched
# as whole words, case-insensitively), the kind of phrase that answers it (number, date, name,
# place), and the spaCy entity labels such an answer carries (qa/ner.py reads the rows that
# have labels, in this order, and takes the first that matches). A question that matches rows of
# several kinds gets the first kind of KINDS.
_PLACES = "country|city|state|place|region|town|continent|island|location|province|capital"
ANSWER_TYPES: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("how long", "number", frozenset({"DATE", "TIME", "QUANTITY"})),
    ("which year", "date", frozenset({"DATE"})),
    ("what year", "date", frozenset({"DATE"})),
    ("how much", "number", frozenset({"MONEY", "QUANTITY", "CARDINAL", "PERCENT"})),
    ("how many", "number", frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})),
    ("where", "place", frozenset({"GPE", "LOC", "FAC", "ORG"})),
    ("when", "date", frozenset({"DATE", "TIME"})),
    ("who", "name", frozenset({"PERSON", "ORG", "NORP", "GPE"})),
    ("what (percentage|percent|number|amount|proportion)", "number", None),
    ("how (far|old|tall|large|big|high|deep|fast)", "number", None),
    ("what (date|day|month|century|decade|time|period|era)", "date", None),
    ("which (date|day|month|century|decade)", "date", None),
    ("how long ago", "date", None),  # never decides: "how long" (number) is found first
    ("whom|whose", "name", None),
    ("which (person|people|man|woman|group|company|organi[sz]ation|team|party|leader|minister|official|"
     "agency|newspaper|outlet)", "name", None),
    ("what (person|company|organi[sz]ation|agency|group|team|party|newspaper|outlet)", "name", None),
    ("(what|which) (is|was|were|are) (the )?names?", "name", None),
    (f"what ({_PLACES})", "place", None),
    (f"which ({_PLACES})", "place", None),
    ("in what (country|city|state|place|region|area)", "place", None),
    # technical documents: "What minimum Docker Compose version ...?" asks for "2.22.0" (a
    # question whose passages hold no dotted version reads as untyped: `SentenceScorer.analyse`)
    (r"(what|which)('s)?( [\w-]+){0,4}? versions?", "version", None),
    # "What term does the book use for ...?", "What is this called?": the name a text gives a
    # concept, which Markdown marks where it defines it (`*toolchain multiplexer*`); passages
    # that mark none read the question as they would without this kind (`SentenceScorer.analyse`)
    (r"what (term|word|phrase|expression)s?|what('s| is| are| was| were)( [\w-]+){0,3}? called"
     r"|what('s| is| are| was| were) [^?]{1,120}? called(?=\s*\?\s*$)"
     r"|what('s| is| are| was| were) the (term|word|phrase|expression)s?"
     r"|what (do|does|did)( [\w-]+){1,3}? call|(called|known as|termed) what", "term", None),
)
FITTED_KINDS = ("number", "date", "name", "place")  # SQuAD's: the confidence models were fitted on them
KINDS = FITTED_KINDS + ("version", "term")


def shaped(kind: str | None) -> bool:
    """Is `kind` one whose phrases have a shape no other phrase has (an identifier `code:*`, a
    version, a term the text marks), rather than one of SQuAD's kinds the confidence models were
    fitted on?"""
    return kind is not None and kind not in FITTED_KINDS
# one expression per kind, the union of its rows, a term first ("What is the workaround called
# where ...?" asks for no place), then in KINDS order (questions are lower-cased)
_TYPE_RULES = [
    (re.compile(r"\b(" + "|".join(p for p, k, _ in ANSWER_TYPES if k == kind) + r")\b"), kind)
    for kind in ("term",) + tuple(k for k in KINDS if k != "term")
]


_EARLIER_WH = re.compile(r"\b(?:what|who|whom|whose|which|where|why|how)\b(?!\s+(?:and|or)\s+when\b)")


def answer_type(question: str, term: bool = True) -> str | None:
    """The kind of phrase `question` asks for (one of KINDS), or None. A "when" after another
    wh-word opens a clause ("Who was the leader when the Franks came?") and asks for no date;
    so does a "where" after "how" ("How do I enable it where I declare the dependency?"; after
    "what" it still asks for a place as often as not: "What is the southern region where ...?")."""
    q = question.lower()

    def clause(m: re.Match) -> bool:
        if m.group() == "when":
            return any(w.start() < m.start() for w in _EARLIER_WH.finditer(q))
        return m.group() == "where" and re.search(r"\bhow\b", q[:m.start()]) is not None
    for rx, kind in _TYPE_RULES:
        if (term or kind != "term") and any(not clause(m) for m in rx.finditer(q)):
            return kind
    return None


# Technical identifiers (issue 21): "Which environment variable ...?", "What flag ...?", "Which
# file ...?" ask for something written as code. The noun asked for gives the shape; any other
# identifier noun takes any inline code span.
_CODE_NOUNS = (
    ("env", r"environment\s+variables?|env\s+vars?"),
    ("flag", r"flags?|switch(?:es)?|command[- ]line\s+(?:options?|arguments?)|cli\s+(?:options?|arguments?)"),
    ("path", r"files?|file\s?names?|director(?:y|ies)|folders?|paths?"),
    ("command", r"(?:sub-?)?commands?(?!\s*-?\s*line)|command\s+lines?|invocations?"),
    # a command's option is a flag, a setting's any code: `SentenceScorer.analyse` tries a flag first
    ("option", r"options?"),
    # any code, and in a code block the line that is one (`#[derive(Debug)]`, `@dataclass`)
    ("attribute", r"attributes?|annotations?|decorators?"),
    ("code", r"settings?|keys?|fields?|arguments?|parameters?|variables?|packages?|librar(?:y|ies)|crates?|"
             r"modules?|functions?|methods?|class(?:es)?|actions?|plugins?|backends?|extensions?|"
             r"classifiers?|values?|urls?|tools?|identifiers?|types?|macros?|keywords?|traits?|operators?|"
             r"structs?|enums?|interfaces?|constants?|propert(?:y|ies)|headers?|endpoints?"),
)
# (a noun with a possessive is not what is asked for: "which tool's workspaces ...?"; nor a word
# of a dotted or hyphenated name: "what date has crates.io ...?")
# (nor one after an auxiliary: "What does the `dyn` keyword do?" asks what it does)
_CODE_QUESTION = [(shape, re.compile(r"\b(?:what|which)\b(?:'s|\s+(?:is|are|was|were))?\s+(?:the\s+|an?\s+)?"
                                     r"(?:(?!(?:does|do|did|can|could|should|will|would)\b)[\w.-]+\s+){0,3}?"
                                     rf"(?P<noun>{nouns})\b(?!['’]s\b)(?![.-]\w)", re.I))
                  for shape, nouns in _CODE_NOUNS]
_SHAPES = {
    "env": re.compile(r"[A-Z][A-Z0-9]*(?:_(?:[A-Z0-9]+|<[\w-]+>))+(?:=\S*)?"),  # CARGO_BIN_EXE_<name> too
    "flag": re.compile(r"--?[A-Za-z][\w-]*(?:[ =]\S+)?"),
    "path": re.compile(r"(?=\S*[A-Za-z/~])\S*[./~]\S*"),  # not a version number (`0.8`)
    "command": re.compile(r".+", re.S),  # inline; a code block's command lines: `command_unit`
    "code": re.compile(r".+", re.S),
    "attribute": re.compile(r".+", re.S),
}
# bare identifiers outside backticks that cannot be prose: UV_CACHE_DIR, --no-project
_BARE = {"env": re.compile(r"(?<![\w`$])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![\w`])"),
         "flag": re.compile(r"(?<![\S`])--[a-z][\w-]*(?![\w`-])"),
         # a line of its own that is an attribute or a decorator, as code blocks write them
         "attribute": re.compile(r"^[ \t]*(#!?\[[^\n]*\]|@[A-Za-z][\w.]*(?:\([^\n]*\))?)[ \t]*$", re.M)}
# a file name or path set in emphasis, as some books write them (`_Cargo.lock_`, `*src/main.rs*`)
_EMPHASIS_PATH = re.compile(r"(?<![\w*])[_*]((?=[^\s_*]*[A-Za-z])[\w~-]*(?:[./][\w~-]+)+/?)[_*](?![\w*])")
# the same inside a longer inline command: `UV_NO_CACHE=1 uv sync --no-install-project`
_INSIDE = {"env": re.compile(r"(?<![\w$])[A-Z][A-Z0-9]*(?:_(?:[A-Z0-9]+|<[\w-]+>))+(?:=\S*)?(?!\w)"),
           "flag": re.compile(r"(?<!\S)--?[A-Za-z][\w-]*(?:=\S+)?(?![\w-])")}


_WHAT = re.compile(r"\b(?:what|which)\b", re.I)


def _code_question(question: str) -> tuple[str, str] | None:
    """(shape, noun) of the first identifier noun the question asks for: after its first "what"
    or "which" (a later one is a clause's: "What is the syntax, which fills the fields, called?")."""
    wh = _WHAT.search(question)
    if wh is None:
        return None
    found = [(m.start(), i, m) for i, (_, rx) in enumerate(_CODE_QUESTION)
             for m in [rx.match(question, wh.start())] if m]
    if not found:
        return None
    _, i, m = min(found, key=lambda f: f[:2])
    return _CODE_QUESTION[i][0], m.group("noun").lower()


def code_kind(question: str) -> str | None:
    """`code:env`, `code:flag`, `code:path`, `code:command`, `code:option` (a flag, else any
    code) or `code:code` when the question asks for an identifier written as code; None
    otherwise. The first noun asked for decides; "What is a crate?" asks for a definition
    (`defined_term`), not for one."""
    if defined_term(question) is not None:
        return None
    found = _code_question(question)
    return f"code:{found[0]}" if found else None


def named_as_asked(sentence: str, start: int, end: int, question: str) -> bool:
    """Does the sentence call the identifier at [start:end) by the noun the question asks for
    ("set the `UV_SYSTEM_PYTHON` variable" for "Which variable ...?")? The word right after
    it or right before it (past an article) is that noun."""
    found = _code_question(question)
    if found is None:
        return False
    noun = stem_all([found[1].split()[-1]])[0]
    after = re.match(r"[`'\"]*\s+(\w+)", sentence[end:])
    before = re.search(r"(\w+)\s+(?:(?:the|a|an)\s+)?[`'\"]*$", sentence[:start])
    return any(m is not None and stem_all([m.group(1).lower()])[0] == noun for m in (after, before))


# Identifiers are named for what they do (`UV_CACHE_DIR`, `--lib`); a name's words, split at
# `_`, `-`, `.`, `/` and case changes
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# what a question sets aside: "a library rather than an app"
_SET_ASIDE = re.compile(r"\b(?:rather\s+than|instead\s+of|other\s+than|as\s+opposed\s+to)\s+"
                        r"(?:(?:an?|the)\s+)?([\w-]+(?:\s+[\w-]+)?)", re.I)
# nouns for things with proper names rather than descriptive ones
_PROPER = re.compile(r"(?:librar(?:y|ies)|crates?|packages?|modules?|tools?|backends?|plugins?|extensions?|"
                     r"class(?:es)?|functions?|methods?|types?|traits?|macros?|structs?|enums?|interfaces?|"
                     r"decorators?|classifiers?|urls?|actions?)")
# a name that turns off what it names (`--no-env-file`, `UV_NO_CACHE`, `--disable-pip-version-check`)
_OFF_WORDS = frozenset("no not disable without skip".split())
_OFF_QUESTION = re.compile(r"\b(?:not|no|never|without|except|disabl\w*|stop\w*|prevent\w*|avoid\w*|skip\w*|"
                           r"keep(?:s|ing)?\s+(?:[\w'-]+\s+){0,5}?from|"
                           r"turn(?:s|ed|ing)?\s+off|opt(?:s|ing)?\s+out)\b|n't\b", re.I)


def _alike(a: str, b: str) -> bool:
    """Stems that name the same thing: equal, or one a 3+ letter beginning of the other (lib/librari)."""
    short, long_ = sorted((a, b), key=len)
    return short == long_ or (len(short) >= 3 and long_.startswith(short))


def name_fit(identifier: str, question: str, weights: dict[str, float]) -> float:
    """How well an identifier's name says what the question asks, in [-1, 1]: the weight
    (`weights`: the question's terms and their idf) of the question's terms its name shares,
    less that of its name's words the question lacks, over the question's (`UV_CACHE_DIR`
    against `UV_INSTALL_DIR` for "where uv puts its cache directory"); 0 when the question asks
    for something with a proper name (a library, a tool, a function); -1 for a name that says
    the opposite, a word the question sets aside ("a library rather than an app": `--app`) or a
    word that turns off what it names (`--no-env-file`) when the question asks for nothing off."""
    name = stem_all([w.lower() for w in _NAME_WORD.findall(identifier)])
    if not name or not weights:
        return 0.0
    aside = {t for m in _SET_ASIDE.finditer(question) for t in terms(m.group(1))}
    if any(_alike(w, t) for w in name for t in aside):
        return -1.0
    if any(w in _OFF_WORDS for w in name) and not _OFF_QUESTION.search(question):
        return -1.0
    found = _code_question(question)
    if found is None or _PROPER.fullmatch(found[1]):
        return 0.0  # a library, a tool, a function: named, not described
    shared = sum(wt for t, wt in weights.items() if t not in aside and any(_alike(w, t) for w in name))
    mean = sum(weights.values()) / len(weights)  # the weight of a name word the question lacks
    unshared = mean * sum(1 for w in set(name) if not any(_alike(w, t) for t in weights))
    return max(-0.9, (shared - unshared) / max(sum(weights.values()), 1e-9))  # -1: the opposite only


# "Which Python implementations can ...?", "What signals are ...?": the answer may be a list
_PLURAL_ASKED = re.compile(r"\b(?:which|what)\s+(?:[\w-]+\s+){0,3}?[a-z]{2,}[^s'u\W]s\s+(?:are|were|do|did|can|could|"
                           r"have|has|had|does|will|would|should)\b"
                           r"|\b(?:which|what)\s+(?:are|were)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?[a-z]{2,}[^s'u\W]s\b", re.I)
# an item of an enumeration, of one kind: an inline code span, a number, capitalised words
# (at most `{k}` after the first)
_ITEMS = {"code": r"`[^`\n]+`", "number": r"\d+(?:\.\d+)*",
          "name": r"[A-Z][\w.+-]*(?:[ \t]+[A-Z][\w.+-]*){{0,{k}}}"}
_SEP = r"(?P<sep>,\s+(?:(?:and|or)\s+)?|\s+(?:and|or)\s+)"


def asks_plural(question: str) -> bool:
    return bool(_PLURAL_ASKED.search(question))


def enumeration(text: str, start: int, end: int, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
    """The whole enumeration ("CPython, PyPy, Pyodide, and GraalPy") that the item at
    [start:end) belongs to, within [lo:hi); the item alone when it is in none that ends with
    "and" or "or". Items are of the item's kind (capitalised words, numbers, inline code); those
    after it no longer than the longest before (not "GraalPy Python" of "GraalPy Python
    implementations")."""
    hi = len(text) if hi is None else hi
    start0, end0 = start, end
    if 0 < start and end < len(text) and text[start - 1] == "`" and text[end] == "`":
        start, end = start - 1, end + 1  # code given without its backticks
    kind = next((k for k, rx in _ITEMS.items() if re.fullmatch(rx.format(k=2), text[start:end])), None)
    if kind is None:
        return start0, end0
    item = _ITEMS[kind]
    before = re.compile(rf"(?<![\w`])(?P<item>{item.format(k=2)}){_SEP}$")
    s, e, closed = start, end, False
    longest = len(text[start:end].split())
    while True:
        m = before.search(text, lo, s)
        if m is None:
            break
        closed = closed or bool(re.search(r"\b(?:and|or)\s+$", m.group("sep")))
        longest = max(longest, len(m.group("item").split()))
        s = m.start()
    after = re.compile(rf"{_SEP}{item.format(k=longest - 1)}(?![\w`])")
    while not closed:
        m = after.match(text, e, hi)
        if m is None:
            break
        closed = bool(re.search(r"\b(?:and|or)\s+$", m.group("sep")))
        e = m.end()
    if not closed or (s, e) == (start, end):
        return start0, end0
    return s, e


# "What is ownership?", "What are clades?": a definition is asked for
_DEFINITION_ASKED = re.compile(r"\s*what\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?"
                               r"(?P<term>[\w`.-]+(?:\s+[\w`.-]+){0,2})\s*\?\s*", re.I)
_NOT_A_TERM = re.compile(r"\b(?:of|in|for|on|at|to|by|with|from|about|called|named|used|known|made|"
                         r"considered|it|this|that|there|he|she|they)\b|['’]", re.I)
_MARKUP_LEAD = re.compile(r"[\s_*`\[(]*(?:(?:an?|the)\s+)?[_*`\[]*", re.I)
_THAT = re.compile(r"[^.;:]{0,40}?\bthat\s+", re.I)  # "Remember that a crate is ..."
# the copula of a definition: "is a / an / the / that / one of / Rust's ...", "are" and a noun
# phrase (not "are very rare", "is protected by"), "refers to", "means", "is called"
_DEFINES = re.compile(r"[_*`\]]*\s*(?:\([^)]{1,60}\)\s*)?,?\s*"
                      r"(?:(?:is|was|are|were)\s+(?:an?|the|that|this|one|any|some|[\w-]+['’]s?)\b"
                      r"|(?:are|were)\s+(?!(?:not|very|also|often|usually|rarely|more|most|less|much|so|too|only|"
                      r"never|always|sometimes|generally|typically|still|now|then|[\w-]+(?:ed|en|ing|ly)|rare|common|"
                      r"available|used|made|found|known|seen)\b)[\w-]+"
                      r"|refers?\s+to|means|is\s+(?:called|defined\s+as))", re.I)


def defined_term(question: str) -> str | None:
    """The term a "What is X?" question asks to define (X of at most three words), else None."""
    m = _DEFINITION_ASKED.fullmatch(question)
    if m is None or _NOT_A_TERM.search(m.group("term")):
        return None
    return m.group("term").replace("`", "")


def defines(sentence: str, term: str) -> bool:
    """Does the sentence open by defining `term` ("_Ownership_ is a set of rules ...", "A crate
    is ...", "Remember that a crate is ...")? The term's words in order (a plural or singular
    form alike), then "is", "are", "refers to" or "means"."""
    that = _THAT.match(sentence)
    return _defines_at(sentence, 0, term) or (that is not None and _defines_at(sentence, that.end(), term))


def _defines_at(sentence: str, pos: int, term: str) -> bool:
    pos = _MARKUP_LEAD.match(sentence, pos).end()
    for word in term.split():
        w = re.match(r"[^\W_]+(?:[.'-][^\W_]+)*", sentence[pos:])
        if w is None or stem_all([w.group().lower()])[0] != stem_all([word.lower()])[0]:
            return False
        pos += w.end()
        pos += len(sentence[pos:]) - len(sentence[pos:].lstrip(" \t\n_*`"))
    return bool(_DEFINES.match(sentence, pos))


_COMMAND_LINE = re.compile(r"[ \t]*(?:(?P<prompt>(?:\$|%|>|PS>)[ \t]+\S)|[a-z][\w.+-]*(?:[ \t]+(?![=:])\S|[ \t]*$))")


_CAPTION = re.compile(r"\A(?:[ \t]*(?:(?:#|//)(?:[ \t][^\n]*)?)?\n)+")


def command_unit(unit: str) -> bool:
    """Is this unit of a code block a command line: behind a shell prompt, or a lower-case
    program name and its arguments? Not `key = "value"` (TOML), `key:` (YAML), `[table]`,
    `COPY ...` (a Dockerfile), a tree listing, or a line of source code (`fn main() {`,
    `let x = 5;`: it ends with a bracket, a brace, a comma or a semicolon). Comment lines
    before it are the command's caption ("# A library" above `cargo new --lib bar`)."""
    unit = _CAPTION.sub("", unit)
    m = _COMMAND_LINE.match(unit)
    if m is None:
        return False
    return m.group("prompt") is not None or not unit.split("\n", 1)[0].rstrip().endswith(("{", "}", "(", ")", ";", ","))


# a line of configuration or source code that says nothing alone: a table header, a comment, an
# ellipsis, a bracket or a brace closing what another line opened
_NOT_A_LINE = re.compile(r"\s*(?:\[\[?[^\]]*\]\]?|(?:#|//|;|--)(?:\s.*)?|\.\.\.|…|[\]})(;,\s]*)\s*$")
_LINE_COMMENT = re.compile(r"\s*(?:(?:\$|%|>|PS>)[ \t]+)?(?:#|//)\s")
_PROMPTED = re.compile(r"^[ \t]*(?:\$|%|PS>)[ \t]+\S", re.M)


def code_answer_line(text: str, start: int, end: int, weights: dict[str, float]) -> tuple[int, int] | None:
    """The line of a code block [start:end) that answers: its only line that says something
    (`autobins = false` under `[package]`), else the one sharing the most of the question's
    weight (`weights`: idf by term), its comments (after it, or right above it) counting as
    its own words; None when no line is alone in front. In a shell session only the commands
    are lines. What asks for "the dependency line" or "what build.rs prints" gets that line,
    not the whole block; "only regex's entry" gets `cargo update regex  # updates just regex`."""
    lines, above = [], ""
    prompted = bool(_PROMPTED.search(text, start, end))  # a shell session: its commands, not their output
    a = start
    while a < end:
        b = text.find("\n", a, end)
        b = end if b < 0 else b
        line = text[a:b]
        if _LINE_COMMENT.match(line):
            above += " " + line
        elif line.strip() and not _NOT_A_LINE.fullmatch(line) and (not prompted or _PROMPTED.match(line)):
            said = set(terms(line + " " + line.replace("_", " ").replace("-", " ") + above))
            lines.append((sum(w for t, w in weights.items() if t in said), a, b))
            above = ""
        else:
            above = ""
        a = b + 1
    if not lines:
        return None
    lines.sort(key=lambda x: -x[0])
    if len(lines) > 1 and (lines[0][0] <= 0 or lines[0][0] == lines[1][0]):
        return None
    _, a, b = lines[0]
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


_HTML_CODE = re.compile(r"<(code)>([^<>`]+)</code>")  # inline code written in HTML: group 2 its content


def code_candidates(sentence: str, kind: str) -> list[tuple[int, int]]:
    """The contents of inline code spans (`` `x` ``, or `<code>x</code>` in HTML) of the shape
    `kind` asks for (an environment variable or a flag also inside a longer span), and bare
    environment variables and long flags (which no prose word looks like)."""
    shape = _SHAPES.get(kind.partition(":")[2] or "code", _SHAPES["code"])
    inside = _INSIDE.get(kind.partition(":")[2])
    out, spans = [], []
    found = sorted([*CODE_SPAN.finditer(sentence), *_HTML_CODE.finditer(sentence)], key=lambda m: m.start())
    for m in found:
        a, b = m.span(2)
        spans.append(m.span())
        while a < b and sentence[a] == " ":
            a += 1
        while b > a and sentence[b - 1] == " ":
            b -= 1
        if b > a and shape.fullmatch(sentence, a, b):
            out.append((a, b))
        elif b > a and inside is not None:
            out += [t.span() for t in inside.finditer(sentence, a, b)]
    bare = _BARE.get(kind.partition(":")[2])
    if bare is not None:
        out += [m.span(m.lastindex or 0) for m in bare.finditer(sentence)
                if not any(a <= m.start() < b for a, b in spans)]
    if kind == "code:path" and ("_" in sentence or "*" in sentence):  # a file name in emphasis: _Cargo.lock_
        out += [m.span(1) for m in _EMPHASIS_PATH.finditer(sentence) if not any(a <= m.start() < b for a, b in spans)]
    return sorted(out)


# a term as a Markdown text marks it where it names it: emphasised (`*x*`, `**x**`, `_x_`), a
# link's label standing for the link; a few words, never a sentence. Quotes mark too much else
# (on SQuAD a quoted title or nickname led over the sentence that answers "What is ... called?")
_TERM_BODY = (r"(?:\[(?P<{g}l>[^\]\n]{{1,60}})\](?:\([^)\n]*\)|\[[^\]\n]*\])?"
              r"|(?P<{g}>[^\s*_\[](?:[^*_\n]{{0,58}}[^\s*_])?))")
_MARKED_TERM = re.compile(
    r"(?<![\w*])\*{1,2}" + _TERM_BODY.format(g="a") + r"\*{1,2}(?![\w*])"
    r"|(?<![\w_])_{1,2}" + _TERM_BODY.format(g="b") + r"_{1,2}(?![\w_])")
_ORDINAL_MARKER = re.compile(r"(?<![^\n])\d{1,3}[.)](?=[ \t])")  # "4. Upload ...": a list item's number, no answer


def candidates(sentence: str, kind: str) -> list[tuple[int, int]]:
    """(start, end) of phrases of `kind` inside `sentence`."""
    if kind.startswith("code"):
        return code_candidates(sentence, kind)
    if kind == "date":
        return [m.span() for m in DATE.finditer(sentence)]
    if kind == "number":
        spans = []
        dates = [m.span() for m in DATE.finditer(sentence) if re.search(r"[A-Za-z]", m.group())]
        for m in NUMBER.finditer(sentence):
            if not any(a <= m.start() < b for a, b in dates) and not _ORDINAL_MARKER.match(sentence, m.start()):
                spans.append(m.span())
        return spans
    if kind == "version":
        return [m.span() for m in VERSION.finditer(sentence)]
    if kind == "term":
        return [m.span(m.lastindex) for m in _MARKED_TERM.finditer(sentence)]
    if kind in ("name", "place"):
        out = []
        for m in NAME.finditer(sentence):
            s, e = m.span()
            text = m.group()
            first, _, rest = text.partition(" ")
            if first in _NOT_NAMES:  # "The Kremlin" keeps "Kremlin"; a lone "The" is dropped
                if not rest:
                    continue
                s += len(first) + 1
            while e > s and sentence[e - 1] in ".’'-":
                e -= 1
            if e <= s or DATE.fullmatch(sentence[s:e]) or _is_adjective(sentence, s, e):
                continue
            if kind == "place" and not _LOCATIVE.search(sentence, 0, s):
                continue
            out.append((s, e))
        return out
    return []


_DEMONYM = re.compile(r"[A-Z][a-z]+(?:an|ean|ian|ese|ish|ic|i)$")
_CONNECTOR = frozenset("and & of the north south east west northern southern eastern western central".split())
_LOCATIVE = re.compile(r"\b(?:in|at|from|to|near|into|across|outside|inside|toward|towards|of|for)\s+(?:the\s+)?$", re.I)
_ORG = re.compile(r"\b(?:Committee|Ministry|Bureau|Council|Department|Agency|Command|Party|Office|Union|"
                  r"University|Company|Corporation|Inc|Ltd|Association|Organi[sz]ation|Government|Court|"
                  r"Army|Navy|Times|News|Network|Press|Parliament|Assembly|Senate|Congress)\b")


def _is_adjective(sentence: str, s: int, e: int) -> bool:
    """'Korean' in 'Korean friends', 'Russian and Chinese' in '... delegations': nationality
    adjectives before a noun are not names."""
    ws = [w for w in sentence[s:e].split() if w.lower() not in _CONNECTOR]
    if not ws or not all(_DEMONYM.match(w) for w in ws):
        return False
    after = sentence[e:e + 2]
    return len(after) == 2 and after[0] == " " and after[1].islower()


def is_organisation(phrase: str) -> bool:
    return bool(_ORG.search(phrase))
