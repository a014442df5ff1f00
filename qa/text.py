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
