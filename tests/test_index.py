"""qa.indexer: incremental indexing, interrupted updates, and the indexer lock."""
from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import PYTHON, SMALL_CORPUS, quiet, subprocess_env
from qa import store as st
from qa.config import Config
from qa.embed import Embedder
from qa.index import Index
from qa.indexer import Indexer
from qa.seen import SEEN, read_seen
from qa.store import generations

pytestmark = pytest.mark.usefixtures("qa_isolated", "embedder")


def rows_by_doc(data: st.StoreData) -> dict[str, tuple[bytes, bytes]]:
    """Each document's paragraph and sentence vectors, as raw bytes."""
    out, pr, sr = {}, 0, 0
    for d in data.documents:
        n_p = len(d["paragraphs"])
        n_s = sum(len(p["sentences"]) for p in d["paragraphs"])
        out[d["doc"]] = (np.asarray(data.vectors[pr:pr + n_p]).tobytes(),
                         np.asarray(data.sentence_vectors[sr:sr + n_s]).tobytes())
        pr += n_p
        sr += n_s
    assert pr == data.vectors.shape[0] and sr == data.sentence_vectors.shape[0]
    return out


def encoder_names() -> list[str]:
    """The Embedder methods that turn corpus text into vectors (indexing uses one of them)."""
    return [n for n in ("encode_documents", "encode_with_spans") if hasattr(Embedder, n)]


def patch_encoders(monkeypatch, make):
    """Replace every document encoder with make(original)."""
    for name in encoder_names():
        monkeypatch.setattr(Embedder, name, make(getattr(Embedder, name)))


def forbid_embedding(monkeypatch):
    """Make any use of the model fail loudly."""
    def boom(*a, **k):
        raise AssertionError("the model was used although nothing changed")
    patch_encoders(monkeypatch, lambda real: boom)
    monkeypatch.setattr(Embedder, "encode_query", boom)
    monkeypatch.setattr(Embedder, "dim", property(boom))


def open_in_thread(corpus, store, config, timeout=120, **kw):
    """Indexer.open with a time limit, so a lock that is never released fails instead of hanging."""
    box = {}

    def run():
        try:
            box["idx"] = Indexer(config, **kw).open(corpus, store)
        except BaseException as e:  # noqa: BLE001
            box["err"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "Indexer.open hung (lock left held?)"
    if "err" in box:
        raise box["err"]
    return box["idx"]


@pytest.fixture
def built(tmp_path, small_corpus):
    """The small corpus indexed once: (corpus, store, index)."""
    store = tmp_path / "store"
    idx = Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert idx.stats.embedded_files == 3
    assert idx.stats.reused_files == 0 and idx.stats.removed_files == 0
    return small_corpus, store, idx


def test_first_build_counts(built):
    corpus, store, idx = built
    assert [d.doc for d in idx.documents] == ["alpha.txt", "beta.txt", "gamma.txt"]
    n_par = sum(len(d.paragraphs) for d in idx.documents)
    assert idx.stats.embedded_paragraphs == n_par == len(idx.paragraphs) == 9
    assert idx.stats.embedded_sentences == len(idx.sentence_spans) > n_par
    # sentence spans index their paragraph's text
    for pi, a, b in idx.sentence_spans:
        text = idx.paragraphs[pi].text
        assert 0 <= a < b <= len(text) and text[a:b].strip() == text[a:b]


def test_reopen_unchanged_embeds_nothing_and_needs_no_model(built, monkeypatch):
    corpus, store, idx = built
    before = rows_by_doc(st.load(store))
    gen_before = (store / "CURRENT").read_text()
    forbid_embedding(monkeypatch)
    again = Indexer(Config(), notice=quiet).open(corpus, store)
    s = again.stats
    assert (s.embedded_files, s.embedded_paragraphs, s.embedded_sentences) == (0, 0, 0)
    assert s.removed_files == 0 and s.rebuilt_reason is None
    assert (store / "CURRENT").read_text() == gen_before  # nothing rewritten
    assert rows_by_doc(st.load(store)) == before
    assert len(again.paragraphs) == len(idx.paragraphs)


def test_reopen_unchanged_counts_reused_files(built):
    corpus, store, idx = built
    again = Indexer(Config(), notice=quiet).open(corpus, store)
    assert again.stats.embedded_files == 0
    assert again.stats.reused_files == 3


def test_modified_file_is_the_only_one_embedded(built):
    corpus, store, idx = built
    before = rows_by_doc(st.load(store))
    (corpus / "beta.txt").write_text(SMALL_CORPUS["beta.txt"] + "\nPrices fell by a third at the market.\n\n"
                                     "Exports to the north doubled.\n", encoding="utf-8")
    new = Indexer(Config(), notice=quiet).open(corpus, store)
    beta = next(d for d in new.documents if d.doc == "beta.txt")
    assert new.stats.embedded_files == 1
    assert new.stats.reused_files == 2 and new.stats.removed_files == 0
    # only the two new paragraphs are embedded; the file's two unchanged ones keep their vectors
    assert len(beta.paragraphs) == 4
    assert new.stats.embedded_paragraphs == 2 and new.stats.reused_paragraphs == 2
    old_data, new_data = idx.store, st.load(store)
    for k in (0, 1):
        o, n = idx.row("beta.txt", k), new.row("beta.txt", k)
        assert np.array_equal(np.asarray(idx.vectors.get(np.array([o]))), np.asarray(new.vectors.get(np.array([n]))))
        assert np.array_equal(np.asarray(idx.sentence_vectors.get(np.arange(*idx.par_sentences[o]))),
                              np.asarray(new.sentence_vectors.get(np.arange(*new.par_sentences[n]))))
    row = new.row("beta.txt", 3)
    want = new.embedder.encode_documents([new.text_for_retrieval(row)])[0]
    assert np.abs(np.asarray(new.vectors.get(np.array([row])))[0] - want).max() < 2e-3  # float16 in the store
    assert old_data is not new_data
    after = rows_by_doc(st.load(store))
    assert after["alpha.txt"] == before["alpha.txt"]
    assert after["gamma.txt"] == before["gamma.txt"]
    assert after["beta.txt"] != before["beta.txt"]
    assert any("Exports to the north" in p.text for p in new.paragraphs)
    # the new paragraph is searchable through the open index
    row = new.find("beta.txt", 3)
    assert row is not None and new.paragraphs[row].text == "Exports to the north doubled."
    assert st.load(store).manifest["files"]["beta.txt"] == beta.sha256


def test_deleted_file_is_removed(built):
    corpus, store, idx = built
    before = rows_by_doc(st.load(store))
    (corpus / "gamma.txt").unlink()
    new = Indexer(Config(), notice=quiet).open(corpus, store)
    assert new.stats.removed_files == 1
    assert new.stats.embedded_files == 0 and new.stats.reused_files == 2
    assert all(p.doc != "gamma.txt" for p in new.paragraphs)
    assert not any("comet" in p.text for p in new.paragraphs)
    data = st.load(store)
    assert "gamma.txt" not in data.manifest["files"]
    assert all(d["doc"] != "gamma.txt" for d in data.documents)
    after = rows_by_doc(data)
    assert after == {k: before[k] for k in ("alpha.txt", "beta.txt")}
    assert data.vectors.shape[0] == len(new.paragraphs) == 5


def test_added_file_is_the_only_one_embedded(built):
    corpus, store, idx = built
    before = rows_by_doc(st.load(store))
    (corpus / "delta.txt").write_text("title Ferry strike ends\n\nThe ferry crews ended their strike on "
                                      "Sunday.\n\nServices resume at dawn.\n", encoding="utf-8")
    new = Indexer(Config(), notice=quiet).open(corpus, store)
    assert new.stats.embedded_files == 1 and new.stats.reused_files == 3
    assert new.stats.embedded_paragraphs == 2
    after = rows_by_doc(st.load(store))
    for doc in ("alpha.txt", "beta.txt", "gamma.txt"):
        assert after[doc] == before[doc]
    # the new file is appended as a segment of its own; the old one is not rewritten
    assert [d.doc for d in new.documents] == ["alpha.txt", "beta.txt", "gamma.txt", "delta.txt"]
    data = st.load(store)
    assert [len(s.docs) for s in data.segments] == [3, 1]
    assert data.segments[0].name == idx.store.segments[0].name
    assert new.paragraphs[new.row("delta.txt", 1)].text == "Services resume at dawn."


def test_incremental_vectors_match_a_fresh_build(built, tmp_path):
    """Reused rows land in the right place: an updated store equals one built from scratch."""
    corpus, store, idx = built
    (corpus / "alpha.txt").write_text(SMALL_CORPUS["alpha.txt"].replace("Tuesday", "Thursday"),
                                      encoding="utf-8")
    (corpus / "beta.txt").unlink()
    updated = Indexer(Config(), notice=quiet).open(corpus, store)
    fresh = Indexer(Config(), notice=quiet).open(corpus, tmp_path / "fresh")
    keys = sorted((p.doc, p.paragraph) for p in fresh.paragraphs)
    assert sorted((p.doc, p.paragraph) for p in updated.paragraphs) == keys
    for doc, n in keys:
        u, f = updated.row(doc, n), fresh.row(doc, n)
        assert updated.paragraphs[u] == fresh.paragraphs[f]
        np.testing.assert_allclose(updated.vectors.get([u]), fresh.vectors.get([f]), atol=1e-3)
        us, fs = updated.sentence_rows(u), fresh.sentence_rows(f)
        assert len(us) == len(fs)
        np.testing.assert_allclose(updated.sentence_vectors.get(list(us)), fresh.sentence_vectors.get(list(fs)),
                                   atol=1e-3)
        assert [tuple(updated.sentence_spans[r][1:]) for r in us] == \
            [tuple(fresh.sentence_spans[r][1:]) for r in fs]
        assert all(updated.sentence_spans[r][0] == u for r in us)


# -- interruption ---------------------------------------------------------------------------------

def _assert_previous_generation_intact(store: Path, gen_name: str, rows: dict, files: dict):
    assert (store / "CURRENT").read_text().strip() == gen_name
    data = st.load(store)
    assert data.manifest["files"] == files
    assert rows_by_doc(data) == rows
    assert not [p.name for p in store.iterdir() if p.name.startswith(".tmp-")]


def test_interrupt_while_embedding_leaves_old_store(built, monkeypatch):
    corpus, store, idx = built
    gen = (store / "CURRENT").read_text().strip()
    rows, files = rows_by_doc(st.load(store)), dict(st.load(store).manifest["files"])
    (corpus / "alpha.txt").write_text(SMALL_CORPUS["alpha.txt"] + "\nA late paragraph.\n", encoding="utf-8")

    calls = []

    def interrupted(real):
        def run(self, *a, **k):
            calls.append(1)
            raise KeyboardInterrupt
        return run
    patch_encoders(monkeypatch, interrupted)
    with pytest.raises(KeyboardInterrupt):
        Indexer(Config(), notice=quiet).open(corpus, store)
    assert calls, "the update never reached the embedder"
    _assert_previous_generation_intact(store, gen, rows, files)
    monkeypatch.undo()
    new = open_in_thread(corpus, store, Config(), notice=quiet)
    assert new.stats.embedded_files == 1 and new.stats.reused_files == 2
    assert any(p.text == "A late paragraph." for p in new.paragraphs)


def test_interrupt_while_writing_leaves_old_store(built, monkeypatch):
    corpus, store, idx = built
    gen = (store / "CURRENT").read_text().strip()
    rows, files = rows_by_doc(st.load(store)), dict(st.load(store).manifest["files"])
    (corpus / "gamma.txt").write_text(SMALL_CORPUS["gamma.txt"].replace("March", "April"), encoding="utf-8")
    real = generations.write_json
    seen = []

    def write_json(path, obj):
        seen.append(Path(path).name)
        if Path(path).name == "manifest.json":  # the new segment is already on disk
            assert list((store / "segments").glob("s-*/vectors.npy"))
            raise KeyboardInterrupt
        real(path, obj)
    monkeypatch.setattr(generations, "write_json", write_json)
    with pytest.raises(KeyboardInterrupt):
        Indexer(Config(), notice=quiet).open(corpus, store)
    assert "manifest.json" in seen
    _assert_previous_generation_intact(store, gen, rows, files)
    assert [p.name for p in store.iterdir() if p.name.startswith("g-")] == [gen]
    monkeypatch.undo()
    new = open_in_thread(corpus, store, Config(), notice=quiet)
    # the segment finished before the interruption is taken up, not embedded again
    assert new.stats.embedded_files == 0 and new.stats.resumed_files == 1
    assert any("April" in p.text for p in new.paragraphs)
    assert [p.name for p in store.iterdir() if p.name.startswith("g-")] != [gen]


_KILLED_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from qa.embed import Embedder
    from qa.indexer import Indexer
    from qa.store import generations

    # No model in the child: random unit vectors of the real dimension.
    rng = np.random.default_rng(0)
    def unit(n):
        v = rng.standard_normal((n, 384)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    def fake_encode(self, texts, progress=None):
        return unit(len(texts))
    def fake_with_spans(self, texts, spans, progress=None):
        return unit(len(texts)), [unit(len(s)) for s in spans]
    Embedder.encode_documents = fake_encode
    Embedder.encode_with_spans = fake_with_spans
    Embedder.dim = property(lambda self: 384)

    real = generations.write_json
    def slow_write(path, obj):
        if path.name == "manifest.json":
            print("WRITING", path.parent.name, flush=True)
            time.sleep(120)
        real(path, obj)
    generations.write_json = slow_write
    Indexer(notice=lambda m: None).open(sys.argv[1], sys.argv[2])
    print("FINISHED", flush=True)
""")


def test_sigkill_mid_write_leaves_old_store(built, tmp_path):
    corpus, store, idx = built
    gen = (store / "CURRENT").read_text().strip()
    rows, files = rows_by_doc(st.load(store)), dict(st.load(store).manifest["files"])
    (corpus / "beta.txt").write_text(SMALL_CORPUS["beta.txt"] + "\nA new closing paragraph.\n", encoding="utf-8")
    proc = subprocess.Popen([PYTHON, "-c", _KILLED_CHILD, str(corpus), str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=subprocess_env(tmp_path))
    watchdog = threading.Timer(90, proc.kill)  # never hang the suite on a stuck child
    watchdog.start()
    try:
        line = proc.stdout.readline()  # blocks until the child is mid-write (or dies)
        assert line.startswith("WRITING .tmp-g-"), (line, proc.stderr.read() if proc.poll() is not None else "")
        tmp_dirs = [p.name for p in store.iterdir() if p.name.startswith(".tmp-")]
        assert tmp_dirs, "the child should be in the middle of writing a temp generation"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the half-written generation is never what CURRENT points at
    assert (store / "CURRENT").read_text().strip() == gen
    data = st.load(store)
    assert data.manifest["files"] == files and rows_by_doc(data) == rows
    # the kernel released the dead child's lock: the next open completes from the segment the
    # child finished (its vectors, not embedded again) and cleans up
    new = open_in_thread(corpus, store, Config(), notice=quiet)
    assert new.stats.embedded_files == 0 and new.stats.resumed_files == 1
    assert new.stats.reused_files == 2
    assert any(p.text == "A new closing paragraph." for p in new.paragraphs)
    assert not [p.name for p in store.iterdir() if p.name.startswith(".tmp-")]
    assert len([p for p in store.iterdir() if p.name.startswith("g-")]) == 1


# -- lock -----------------------------------------------------------------------------------------

def test_second_indexer_waits_and_reuses_the_first_ones_work(tmp_path, small_corpus, monkeypatch):
    store = tmp_path / "store"
    first_embedding = threading.Event()
    second_waiting = threading.Event()

    def slow(real):
        def run(self, *a, **k):
            first_embedding.set()
            second_waiting.wait(30)  # hold the lock until the other indexer is known to wait
            return real(self, *a, **k)
        return run
    patch_encoders(monkeypatch, slow)

    results, errors = {}, []
    notices_b: list[str] = []

    def run(name, notice):
        try:
            results[name] = Indexer(Config(), notice=notice).open(small_corpus, store)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def notice_b(msg):
        notices_b.append(msg)
        if "waiting" in msg:
            second_waiting.set()

    a = threading.Thread(target=run, args=("a", quiet), daemon=True)
    a.start()
    assert first_embedding.wait(60)
    b = threading.Thread(target=run, args=("b", notice_b), daemon=True)
    b.start()
    a.join(120)
    b.join(120)
    assert not a.is_alive() and not b.is_alive()
    assert not errors, errors
    assert second_waiting.is_set(), f"the second indexer did not wait: {notices_b}"
    assert [m for m in notices_b if "waiting" in m][0].count("\n") == 0
    assert results["a"].stats.embedded_files == 3
    assert results["b"].stats.embedded_files == 0  # it found the first one's generation
    assert results["b"].manifest == results["a"].manifest
    assert [p.text for p in results["b"].paragraphs] == [p.text for p in results["a"].paragraphs]
    assert len([p for p in store.iterdir() if p.name.startswith("g-")]) == 1


def test_open_waits_for_a_held_lock(tmp_path, small_corpus):
    store = tmp_path / "store"
    waiting = threading.Event()
    done = {}

    def notice(msg):
        if "waiting" in msg:
            waiting.set()

    def run():
        done["idx"] = Indexer(Config(), notice=notice).open(small_corpus, store)

    with st.locked(store):
        t = threading.Thread(target=run, daemon=True)
        t.start()
        assert waiting.wait(30), "Indexer.open did not report that it waits for the lock"
        time.sleep(0.2)
        assert t.is_alive() and "idx" not in done
        assert not st.exists(store)  # nothing written while the lock is held
    t.join(120)
    assert not t.is_alive()
    assert done["idx"].stats.embedded_files == 3
    assert st.load(store).manifest["files"].keys() == {"alpha.txt", "beta.txt", "gamma.txt"}


# -- segments ------------------------------------------------------------------------------------

def test_killed_build_resumes_from_its_finished_segments(tmp_path, small_corpus, monkeypatch):
    """Segments of SEGMENT_ROWS paragraphs are written as they finish: after an interruption the
    next run embeds only the files no finished segment holds."""
    import qa.indexer as qi
    monkeypatch.setattr(qi, "SEGMENT_ROWS", 1)  # one file per segment
    monkeypatch.setattr(qi, "SPLIT_AHEAD", 1)  # one file a piece
    store = tmp_path / "store"
    calls = []

    def third_fails(real):
        def run(self, *a, **k):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return real(self, *a, **k)
        return run
    patch_encoders(monkeypatch, third_fails)
    with pytest.raises(KeyboardInterrupt):
        Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert not st.exists(store)  # no generation yet
    assert len(list((store / "segments").glob("s-*"))) == 2
    idx = open_in_thread(small_corpus, store, Config(), notice=quiet)
    assert idx.stats.resumed_files == 2 and idx.stats.embedded_files == 1
    assert sorted(d.doc for d in idx.documents) == ["alpha.txt", "beta.txt", "gamma.txt"]
    assert len(list((store / "segments").iterdir())) == len(st.load(store).segments) == 3


def test_an_interrupted_build_keeps_the_segments_each_minute_finished(tmp_path, small_corpus, monkeypatch):
    """Segments are written by time too (SEGMENT_SECONDS), not only every SEGMENT_ROWS
    paragraphs: Ctrl-C after a few minutes keeps the minutes done."""
    import qa.indexer as qi
    monkeypatch.setattr(qi, "SPLIT_AHEAD", 1)  # one file a piece
    now = [0.0]
    monkeypatch.setattr(qi, "clock", lambda: now[0])
    store = tmp_path / "store"
    calls = []

    def slow_then_killed(real):
        def run(self, *a, **k):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            now[0] += 40.0  # each file takes 40 s to embed: a segment after the second
            return real(self, *a, **k)
        return run
    patch_encoders(monkeypatch, slow_then_killed)
    with pytest.raises(KeyboardInterrupt):
        Indexer(Config(), notice=quiet).open(small_corpus, store)
    segs = list((store / "segments").glob("s-*"))
    assert len(segs) == 1  # alpha and beta: 80 s of work, committed past the 60 s mark
    idx = open_in_thread(small_corpus, store, Config(), notice=quiet)
    assert idx.stats.resumed_files == 2 and idx.stats.embedded_files == 1
    assert sorted(d.doc for d in idx.documents) == ["alpha.txt", "beta.txt", "gamma.txt"]


def test_many_updates_are_merged(built, monkeypatch):
    """Past MAX_SEGMENTS the small segments are merged into one; the rows stay the same."""
    import qa.indexer as qi
    monkeypatch.setattr(qi, "MAX_SEGMENTS", 2)
    corpus, store, idx = built
    first, = (s.name for s in st.load(store).segments)
    for i in range(3):
        (corpus / f"extra{i}.txt").write_text(f"title Extra {i}\n\nExtra paragraph number {i}.\n",
                                              encoding="utf-8")
        new = Indexer(Config(), notice=quiet).open(corpus, store)
        assert new.stats.embedded_files == 1
        assert len(st.load(store).segments) <= 2
    assert len(list((store / "segments").iterdir())) == len(st.load(store).segments)
    assert new.paragraphs[new.row("extra2.txt", 0)].text == "Extra paragraph number 2."
    assert len(new.paragraphs) == 9 + 3
    ids, _ = new.bm25.search("extra paragraph number", 5)
    assert {new.paragraphs[int(i)].doc for i in ids} >= {"extra0.txt", "extra1.txt", "extra2.txt"}
    # size-tiered: the first build's segment (9 rows) outweighs the edits and was never rewritten
    assert any(s.name == first for s in st.load(store).segments)


def test_open_from_store_without_corpus(built, monkeypatch):
    corpus, store, idx = built
    forbid_embedding(monkeypatch)
    again = Index.from_store(store, Config())
    assert [p.text for p in again.paragraphs] == [p.text for p in idx.paragraphs]
    assert again.find("beta.txt", 0) == idx.find("beta.txt", 0)
    assert again.find("beta.txt", 99) is None and again.find("nope.txt", 0) is None


# --- re-opening without reading: the stat cache ---------------------------------------------------

def test_reopen_unchanged_reads_no_file(tmp_path, small_corpus, monkeypatch):
    import qa.corpus as corpus
    monkeypatch.setattr(corpus, "RACY_NS", 0)  # the fixture's files are seconds old: trust their stat
    store = tmp_path / "store"
    Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert set(read_seen(store)) == {"alpha.txt", "beta.txt", "gamma.txt"}
    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real(self))
    forbid_embedding(monkeypatch)
    again = Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert [r for r in reads if r.endswith(".txt")] == []
    assert again.stats.reused_files == 3 and again.stats.embedded_files == 0
    assert len(again.paragraphs) == 9 and "comet" in " ".join(p.text for p in again.paragraphs)


def test_an_edit_after_the_cached_scan_is_indexed(tmp_path, small_corpus, monkeypatch):
    import qa.corpus as corpus
    monkeypatch.setattr(corpus, "RACY_NS", 0)
    store = tmp_path / "store"
    Indexer(Config(), notice=quiet).open(small_corpus, store)
    (small_corpus / "beta.txt").write_text(SMALL_CORPUS["beta.txt"] + "\nExports to the north doubled.\n",
                                           encoding="utf-8")
    new = Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert new.stats.embedded_files == 1 and new.stats.reused_files == 2
    assert any(p.text == "Exports to the north doubled." for p in new.paragraphs)


def test_a_damaged_stat_cache_only_costs_reading(tmp_path, small_corpus, monkeypatch):
    import qa.corpus as corpus
    monkeypatch.setattr(corpus, "RACY_NS", 0)
    store = tmp_path / "store"
    Indexer(Config(), notice=quiet).open(small_corpus, store)
    (store / SEEN).write_text('{"format": 1, "files": {"alpha.txt": [1, 2]}', encoding="utf-8")
    forbid_embedding(monkeypatch)
    again = Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert again.stats.reused_files == 3 and len(again.paragraphs) == 9
    assert set(read_seen(store)) == {"alpha.txt", "beta.txt", "gamma.txt"}  # written again


def test_stubs_are_read_again_when_the_store_changed_since_the_scan(tmp_path, small_corpus):
    """Scan against one generation, another indexer commits a newer one before the lock: the
    scan's stubs stood for the old generation, so the files are read again, not indexed empty."""
    from qa.corpus import read_corpus
    from qa.index import IndexStats
    store = tmp_path / "store"
    Indexer(Config(), notice=quiet).open(small_corpus, store)
    known = dict(st.load(store).manifest["files"])
    parsed = read_corpus(small_corpus, known=known)
    assert parsed.unchanged == {"alpha.txt", "beta.txt", "gamma.txt"}
    original = (small_corpus / "beta.txt").read_text(encoding="utf-8")
    (small_corpus / "beta.txt").write_text(original + "\nExports to the north doubled.\n", encoding="utf-8")
    Indexer(Config(), notice=quiet).open(small_corpus, store)  # the other indexer
    (small_corpus / "beta.txt").write_text(original, encoding="utf-8")  # back to what the scan saw
    ix = Indexer(Config(), notice=quiet)
    idx = ix._open(small_corpus, parsed, store, st.load(store), IndexStats(), known)
    beta = [p.text for p in idx.paragraphs if p.doc == "beta.txt"]
    assert len(beta) == 2 and "Exports to the north doubled." not in beta
    assert len(idx.paragraphs) == 9


def test_splitting_sentences_ahead_in_pieces_builds_the_same_store(tmp_path, small_corpus, monkeypatch):
    """Sentences are split one piece ahead of the encoder; pieces of one paragraph give the same
    rows, spans and (up to batch-shape rounding) vectors as one piece for everything."""
    import qa.indexer as index_mod
    whole = Indexer(Config(), notice=quiet).open(small_corpus, tmp_path / "whole")
    monkeypatch.setattr(index_mod, "SPLIT_AHEAD", 1)
    seen_threads = []
    real_split = index_mod.split_sentences
    monkeypatch.setattr(index_mod, "split_sentences",
                        lambda *a: seen_threads.append(threading.current_thread().name) or real_split(*a))
    pieces = Indexer(Config(), notice=quiet).open(small_corpus, tmp_path / "pieces")
    assert seen_threads and all(n.startswith("qa-split") for n in seen_threads)
    assert [p.text for p in pieces.paragraphs] == [p.text for p in whole.paragraphs]
    assert [tuple(s) for s in pieces.sentence_spans] == [tuple(s) for s in whole.sentence_spans]
    a, b = st.load(tmp_path / "whole"), st.load(tmp_path / "pieces")
    assert np.allclose(np.asarray(a.vectors, np.float32), np.asarray(b.vectors, np.float32), atol=2e-3)
    assert np.allclose(np.asarray(a.sentence_vectors, np.float32), np.asarray(b.sentence_vectors, np.float32),
                       atol=2e-3)


def test_a_small_change_is_embedded_without_loading_the_model(tmp_path, small_corpus, embedder):
    """A few changed paragraphs go through the question graph (no torch): the vectors are the
    model's (within 1e-5 before the store's float16), so old and new rows live in one store."""
    from qa.embed import Embedder
    store = tmp_path / "store"
    Indexer(Config(), embedder=embedder, notice=quiet).open(small_corpus, store)
    embedder.prepare_question_path()
    (small_corpus / "delta.txt").write_text("title Delta\n\nThe ferry to Vell island now runs twice a day.\n",
                                            encoding="utf-8")
    fresh = Embedder()
    idx = Indexer(Config(), embedder=fresh, notice=quiet).open(small_corpus, store)
    assert idx.stats.embedded_paragraphs == 1 and not fresh.loaded
    row = idx.row("delta.txt", 0)
    want = embedder.encode_documents([idx.text_for_retrieval(row)])[0]
    assert np.abs(np.asarray(idx.vectors.get(np.array([row])))[0] - want).max() < 1e-4  # stored as float16
    # an edited file embeds only its new paragraph: its unchanged ones are copied
    with open(small_corpus / "alpha.txt", "a", encoding="utf-8") as f:
        f.write("\nThe bridge toll stays at two euros.\n")
    fresh = Embedder()
    idx = Indexer(Config(), embedder=fresh, notice=quiet).open(small_corpus, store)
    assert idx.stats.embedded_files == 1 and idx.stats.embedded_paragraphs == 1
    assert idx.stats.reused_paragraphs == 3 and not fresh.loaded


def test_separate_sentence_vectors_are_copied_and_embedded_alike(tmp_path, small_corpus, embedder):
    """With `sentence_vectors="separate"` an edited file also copies its unchanged paragraphs'
    vectors, and the new paragraph's sentences are embedded on their own."""
    cfg = Config(sentence_vectors="separate")
    store = tmp_path / "store"
    Indexer(cfg, embedder=embedder, notice=quiet).open(small_corpus, store)
    with open(small_corpus / "gamma.txt", "a", encoding="utf-8") as f:
        f.write("\nThe observatory opens to visitors. Tickets cost five euros.\n")
    idx = Indexer(cfg, embedder=embedder, notice=quiet).open(small_corpus, store)
    assert idx.stats.embedded_paragraphs == 1 and idx.stats.embedded_sentences == 2
    assert idx.stats.reused_paragraphs == 4
    row = idx.row("gamma.txt", 4)
    rows = np.arange(*idx.par_sentences[row])
    text = idx.paragraphs[row].text
    want = embedder.encode_documents([text[int(a):int(b)] for _, a, b in (idx.sentence_spans[r] for r in rows)])
    assert np.abs(np.asarray(idx.sentence_vectors.get(rows), np.float32) - want).max() < 2e-3
