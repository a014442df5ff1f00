"""Shared fixtures for the store / index / retrieval / answerer / CLI / eval tests.

The embedding model is loaded once per process (`qa.embed.get_embedder` caches it) and the
seeds are indexed once per session into a temp store, so the repo's `embeddings/` is never
written. Fixture names here are prefixed so they cannot shadow the ones other test modules
define for themselves (`seeds_store`, `seeds`, `isolated_env`, `tmux`).
"""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

# Never reach for the network, whatever the test does.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Settings come from the defaults only: every QA_* variable qa reads (declared once, in
# qa.config.ENV) is cleared for the whole session, and again by qa_isolated / subprocess_env.
from qa.config import ENV_VARS  # noqa: E402

for _var in ENV_VARS:
    os.environ.pop(_var, None)

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_PATH = REPO_ROOT / "seeds"
SEED_QUESTIONS = SEEDS_PATH / "questions.jsonl"
AFP = "000_2b8aa97b18c902d0.txt"  # the seed article from AFP
FOX = "002_d9e682c2d0300160.txt"  # the seed article from Fox News

# A small hand-made corpus: three short files, a handful of paragraphs each (cheap to embed).
SMALL_CORPUS = {
    "alpha.txt": textwrap.dedent("""\
        title Harbour bridge reopens after repairs

        The old harbour bridge in Marlow reopened on Tuesday after eight months of repairs.

        Engineers replaced forty steel cables and repainted the northern arch. The work cost
        twelve million euros.

        Mayor Ines Kovacs said traffic would return to normal by the end of the month.
        """),
    "beta.txt": textwrap.dedent("""\
        title Orchard harvest breaks records

        Apple growers in the Vell valley picked a record 30,000 tonnes of fruit this autumn.

        The cooperative credits a mild spring and a new irrigation canal fed by the Vell river.
        """),
    "gamma.txt": textwrap.dedent("""\
        title Observatory spots a new comet

        Astronomers at the Kestrel Ridge observatory discovered a comet on Friday night.

        The comet, named C/2031 K1, will pass closest to the Sun in March.

        It should be visible with binoculars from the southern hemisphere.

        Director Amara Osei thanked the volunteers who run the night shifts.
        """),
}


# Whole test modules that need neither the model nor an index but carry no `unit` marker of
# their own; `python -m pytest -m unit` runs them with the marked tests of the other modules.
MODEL_FREE_MODULES = frozenset({"test_corpus.py", "test_metrics.py", "test_questions.py"})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in MODEL_FREE_MODULES:
            item.add_marker(pytest.mark.unit)


def write_corpus(root: Path, files: dict[str, str] | None = None) -> Path:
    """Write `files` (default: SMALL_CORPUS) into `root` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in (SMALL_CORPUS if files is None else files).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def quiet(_msg: str) -> None:
    """A notice callback that swallows notices."""


def share_graphs(xdg_cache: Path) -> None:
    """Let an isolated cache see the question graphs this session made (qa/backend.py): they
    are keyed by the weights they came from, and exporting them again costs seconds a test."""
    from qa.config import cache_dir
    mine = cache_dir() / "onnx"
    mine.mkdir(parents=True, exist_ok=True)
    (xdg_cache / "qa").mkdir(parents=True, exist_ok=True)
    link = xdg_cache / "qa" / "onnx"
    if not link.exists():
        link.symlink_to(mine, target_is_directory=True)


@pytest.fixture
def qa_isolated(tmp_path, monkeypatch):
    """Caches, state and history in tmp; no colour; offline. Use with `pytestmark`."""
    share_graphs(tmp_path / "xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """Three short files in a fresh folder."""
    return write_corpus(tmp_path / "corpus")


@pytest.fixture(scope="session")
def embedder():
    """The process-wide embedder, loaded once (offline)."""
    from qa.config import Config
    from qa.embed import get_embedder
    cfg = Config()
    emb = get_embedder(cfg.model, cfg.threads, cfg.batch_size)
    emb.model  # noqa: B018 - load now, once
    return emb


@pytest.fixture(scope="session")
def seeds_store_dir(tmp_path_factory, embedder) -> Path:
    """A temp folder holding the seeds' index (built once per session)."""
    from qa.config import Config
    from qa.indexer import Indexer
    store = tmp_path_factory.mktemp("seeds-store")
    Indexer(Config(), notice=quiet).open(SEEDS_PATH, store)
    return store


@pytest.fixture(scope="session")
def seeds_qa(seeds_store_dir):
    """A QA over the seeds, opened from the session's temp store."""
    from qa.pipeline import QA
    from qa.config import Config
    return QA(SEEDS_PATH, store=seeds_store_dir, config=Config(), notice=quiet)


@pytest.fixture(scope="session")
def seed_questions():
    from qa.questions import load_questions
    questions, files = load_questions(SEED_QUESTIONS)
    assert files is None
    return questions


def subprocess_env(tmp_path: Path) -> dict:
    """Environment for a `python -m qa` child: repo importable, caches in tmp, offline."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    share_graphs(tmp_path / "xdg-cache")
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    env["XDG_STATE_HOME"] = str(tmp_path / "xdg-state")
    env["HF_HUB_OFFLINE"] = "1"
    env["TRANSFORMERS_OFFLINE"] = "1"
    env["NO_COLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    for var in ENV_VARS:
        env.pop(var, None)
    return env


PYTHON = sys.executable
