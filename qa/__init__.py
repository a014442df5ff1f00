"""qa: offline extractive question answering with quoted, cited snippets.

Heavy modules (sentence-transformers, torch) load only when an answer needs them.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["answer", "QA", "Answer", "Snippet", "Quote", "Citation", "Passage", "Reading", "Turn", "Config", "QAError"]


def __getattr__(name):
    if name in ("answer", "QA"):
        from . import pipeline as _pipeline
        return getattr(_pipeline, name)
    if name in ("Answer", "Snippet", "Quote", "Citation", "Passage", "Reading", "Turn"):
        from . import types
        return getattr(types, name)
    if name == "Config":
        from .config import Config
        return Config
    if name == "QAError":
        from .errors import QAError
        return QAError
    raise AttributeError(name)
