"""Shared lexical tools: one tokenizer for BM25 and for the answerer's term overlap."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TOKEN = re.compile(r"\w+", re.UNICODE)

STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can cannot could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself let me more most my myself
no nor not of off on once only or other ought our ours ourselves out over own same she should so some such
than that the their theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why with would you your yours yourself yourselves
s t d ll m re ve also said says say according many much one ones did done
""".split())

QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer  # PyStemmer: Snowball in C, ~1 µs a word
    except ImportError:  # pragma: no cover - optional speed-up
        return None
    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """Fold accents and case so 'Pokémon' matches 'pokemon'."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    return _TOKEN.findall(normalize(text))


def stem_all(tokens: list[str]) -> list[str]:
    st = _stemmer()
    return st.stemWords(tokens) if st else tokens


def terms(text: str) -> list[str]:
    """Content terms: lower-cased, stop words dropped, stemmed."""
    return stem_all([w for w in words(text) if w not in STOPWORDS and w not in QUESTION_WORDS])


_EMPHASIS = "*_~"
_DUNDER = re.compile(r"__[A-Za-z0-9]\w*__")  # `_word_` outside code is emphasis
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">", "“": "”", '"': '"', "'": "'"}


# an inline code span (`x`, ``a ` b``): atomic for sentences and short answers
CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_PROMPT_MARK = r"(?:\$|>>>|PS>|%|>)"  # a shell's or a REPL's prompt
_PROMPT = re.compile(rf"[ \t]*{_PROMPT_MARK}[ \t]+(?=\S)")
_CLAUSE_END = re.compile(r"[.:;!?](?:\s|$)|\s[—–]\s")
_TRAILING_COMMENT = re.compile(r"[ \t]+(?:#|//)[ \t]")  # a comment after code on its line
_COMMENT = re.compile(rf"[ \t]*(?:{_PROMPT_MARK}[ \t]+)?#(?:[ \t]|$)")  # "# ...", "$ # ...", not "#!" or "#include"


def trim_answer(text: str, start: int, end: int) -> tuple[int, int]:
    """A short answer's span without what no reader wants at its edges: whitespace, a shell
    prompt, backticks (an inline code span gives its content), emphasis marks and unpaired
    brackets or quotes. Inside inline code nothing else is touched (`__init__`, `a*`). An
    answer never splits an inline code span: one that starts inside it is that code (also when
    it runs on past the end of a clause), one that ends inside it runs to its end."""
    s, e = start, end
    if "`" in text:
        for m in CODE_SPAN.finditer(text):
            a, b = m.span()
            if (a < s < b and e <= b) or (s == a and e < b):
                s, e = m.start(2), m.end(2)
                break
            if a < s < b and _CLAUSE_END.search(text[b:e]):  # "101`: Cargo failed": the code
                s, e = m.start(2), m.end(2)
                break
            if a < s < b:  # starts inside and runs on: from the code's opening backtick
                s = a
            if s <= a < e < b:
                e = b
    for _ in range(8):
        before = (s, e)
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        m = _PROMPT.match(text, s, e)
        if m and m.end() < e and text[m.end()].isalpha():  # "$ uv sync", not "$ 5 million"
            s = m.end()
            continue
        if s < e and (text[s] == "`" or text[e - 1] == "`"):
            found = list(CODE_SPAN.finditer(text[s:e]))
            inner = [c.span() for c in found]
            if inner == [(0, e - s)]:  # one code span: its content
                return _trim_space(text, s + found[0].start(2), s + found[0].end(2), start, end)
            # a backtick that opens or closes a code span inside the answer stays ("`height`
            # and `time`" reads "height and time"); a lone one at an edge goes
            if not any(a == 0 for a, _ in inner):
                while s < e and text[s] == "`":
                    s += 1
            if not any(b == e - s for _, b in inner):
                while e > s and text[e - 1] == "`":
                    e -= 1
            if (s, e) == before:
                break
            continue
        if not _DUNDER.fullmatch(text, s, e):  # __init__ is a name, not bold "init"
            for n in (2, 1):  # a pair around the whole answer: **Cargo.toml**, _dependencies_
                mark = text[s:s + n]
                if e - s > 2 * n and mark[:1] in _EMPHASIS and mark == mark[0] * n \
                        and text[e - n:e] == mark and mark[0] not in text[s + n:e - n]:
                    s, e = s + n, e - n
            # a lone mark at an edge goes; one that pairs with a mark inside the answer stays:
            # "_Cargo.toml_ file" reads as "Cargo.toml file" (`inline.reading_view`)
            while s < e and text[s] in _EMPHASIS and text[s] not in text[s + 1:e]:
                s += 1
            while e > s and text[e - 1] in _EMPHASIS and text[e - 1] not in text[s:e - 1]:
                e -= 1
        if s < e and text[s] in _PAIRS and _PAIRS[text[s]] not in text[s + 1:e]:
            s += 1
        if s < e and text[e - 1] in _PAIRS.values():
            opener = next(k for k, v in _PAIRS.items() if v == text[e - 1])
            if opener not in text[s:e - 1]:
                e -= 1
        if (s, e) == before:
            break
    return _trim_space(text, s, e, start, end)


def _trim_space(text: str, s: int, e: int, start: int, end: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if e > s and any(c.isalnum() for c in text[s:e]) else (start, end)


def one_line(text: str) -> str:
    """Whitespace runs (a line break inside a two-word name) read as one space, and so does a
    shell command's line continuation (a backslash at a line's end)."""
    return " ".join(_CONTINUED.sub(" ", text).split())


def comment_only(unit: str) -> bool:
    """Is this unit of a code block only comments ("$ # Use a specific Python version")?"""
    lines = [line for line in unit.split("\n") if line.strip()]
    return bool(lines) and all(_COMMENT.match(line) for line in lines)


_COMMENT_MARK = re.compile(r"[ \t]*(?://[/!]?|#)(?=[ \t]|$)[ \t]*")  # a line that is a comment: its marker


def in_comment(text: str, start: int, end: int) -> bool:
    """Does the span [start, end) of a code block stand in comments, past their markers, on every
    line it touches ("// Since Rust 1.45, ...", "let x = 3; // would warn")? Such a span is
    prose: the answer is the span, not its line."""
    a = text.rfind("\n", 0, start) + 1
    while a < max(end, start + 1):
        b = text.find("\n", a)
        b = len(text) if b < 0 else b
        m = _COMMENT_MARK.match(text, a, b)
        if m is not None:
            mark = m.end()
        elif a <= start:  # the first line: a comment after code (outside quotes) may hold it
            mark = next((c.end() for c in _TRAILING_COMMENT.finditer(text, a, b)
                         if text.count('"', a, c.start()) % 2 == 0), b + 1)
        else:
            return False
        if a <= start < mark:
            return False
        a = b + 1
    return True


_CONTINUED = re.compile(r"[ \t]*\\\n[ \t]*")


def code_line(text: str, start: int, end: int, within: int | None = None) -> tuple[int, int]:
    """A short answer inside a code block widened to the whole line it starts on (and the lines
    it continues on, after a backslash), without the prompt ("$ ", ">>> ") and a comment after
    it (outside quotes): a command is given whole or not at all. A blank line or a comment
    ("$ # Use a specific Python version") gives way to the next line that starts before
    `within` (default `end`): the comment describes that line, which is the answer."""
    limit = end if within is None else within
    a = text.rfind("\n", 0, start) + 1
    while (nl := text.find("\n", a)) >= 0:  # a span starting on a blank line or a comment: the next
        line = text[a:nl]
        if not ((line.strip() == "" and a < limit) or (_COMMENT.match(line) and nl + 1 < limit)):
            break
        a = nl + 1
    b = text.find("\n", a)
    b = len(text) if b < 0 else b
    while b < len(text) and text[a:b].rstrip().endswith("\\"):  # a command continued on the next line
        nxt = text.find("\n", b + 1)
        b = len(text) if nxt < 0 else nxt
    m = _PROMPT.match(text, a, b)
    a = m.end() if m else a
    for c in _TRAILING_COMMENT.finditer(text, a, b):  # "cargo update regex   # updates just regex"
        if text.count('"', a, c.start()) % 2 == 0 and text.count("'", a, c.start()) % 2 == 0:
            b = c.start()  # (outside quotes) the comment is no part of it
            break
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if b > a else (start, end)
