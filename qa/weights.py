"""The one file of fitted weights (`qa/models/weights.json`): confidence models and their
abstention thresholds, written by `bench/fit_confidence.py`, read once per process.

Each model names the features it was fitted on; the reader that uses it checks that list
against the features it computes, so a refit and a code change cannot drift apart silently.
"""
from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Iterable

from .errors import QAError

WEIGHTS_FILE = Path(__file__).resolve().parent / "models" / "weights.json"
FORMAT = 1

_LOCK = threading.Lock()
_CACHE: dict[str, dict] = {}


def fitted(path: str | Path = WEIGHTS_FILE) -> dict:
    key = str(path)
    with _LOCK:
        w = _CACHE.get(key)
        if w is None:
            try:
                w = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise QAError(f"fitted weights {path} are unreadable ({e})") from None
            if w.get("format") != FORMAT:
                raise QAError(f"fitted weights {path} have format {w.get('format')!r}, expected {FORMAT}")
            _CACHE[key] = w
    return w


def model(name: str, features: Iterable[str], path: str | Path = WEIGHTS_FILE, subset: bool = False) -> dict:
    """The fitted model `name`, after checking it was fitted on exactly `features` (`subset`:
    on some of them, for a model whose features were chosen by measurement)."""
    try:
        m = fitted(path)[name]
    except KeyError:
        raise QAError(f"fitted weights {path} have no model {name!r}: run bench/fit_confidence.py") from None
    want, have = set(features), set(m["features"])
    if set(m["coef"]) != have or (have - want if subset else have ^ want):
        diff = sorted((have - want) if subset else (have ^ want)) or sorted(set(m["coef"]) ^ have)
        raise QAError(f"fitted model {name!r} does not match the code's features ({', '.join(diff)}): "
                      "run bench/fit_confidence.py")
    return m


def probability(m: dict, feats: dict[str, float]) -> float:
    """The logistic model `m` (as `model` returns it) applied to `feats`; absent features are 0."""
    z = m["bias"] + sum(c * feats.get(k, 0.0) for k, c in m["coef"].items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def save(models: dict[str, dict], path: str | Path = WEIGHTS_FILE) -> None:
    """Replace the named models in the weights file, keeping the others."""
    path = Path(path)
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = {"format": FORMAT}
    current.update(models)
    current["format"] = FORMAT
    path.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
    with _LOCK:
        _CACHE.pop(str(path), None)
