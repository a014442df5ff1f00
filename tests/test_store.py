"""qa.store: the on-disk generations, damage detection, rebuilds, and NumpyStore.search."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import quiet
from qa import store as st
from qa.config import Config
from qa.location import check_location, parse_location
from qa.indexer import Indexer

pytestmark = pytest.mark.usefixtures("qa_isolated")

DIM = 8


def _unit(rng, n, dim=DIM):
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_data(seed: int = 0) -> st.StoreData:
    """A hand-made store: 2 documents, 3 paragraphs, 4 sentences, random unit vectors."""
    rng = np.random.default_rng(seed)
    documents = [
        {"doc": "a.txt", "title": "A", "date": "2023-07-26", "author": None, "outlet": None,
         "sha256": "a" * 64,
         "paragraphs": [
             {"text": "One sentence. Two sentences.", "kind": "body", "skip": [],
              "sentences": [[0, 13], [14, 28]]},
             {"text": "© 2023 Someone. All rights reserved.", "kind": "copyright", "skip": [[0, 36]],
              "sentences": []},
         ]},
        {"doc": "b.txt", "title": "B — ünïcode", "date": None, "author": "X", "outlet": "Y",
         "sha256": "b" * 64,
         "paragraphs": [
             {"text": "Third paragraph here. And more.", "kind": "body", "skip": [],
              "sentences": [[0, 21], [22, 31]]},
         ]},
    ]
    manifest = {"format": st.FORMAT, "parser": 0, "model": "test-model", "dim": DIM,
                "title_in_text": True, "files": {"a.txt": "a" * 64, "b.txt": "b" * 64},
                "documents": 2, "paragraphs": 3, "sentences": 4}
    return st.StoreData(manifest, documents, _unit(rng, 3), _unit(rng, 4))


def generations(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.name.startswith("g-"))


def leftovers(root: Path) -> list[str]:
    """Temp folders or half-written pointers a save may leave behind."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-") or p.name.startswith(".CURRENT"))


# -- round trip -----------------------------------------------------------------------------------

def _seg(root: Path) -> Path:
    """The (first) segment folder the live generation uses."""
    m = json.loads((_gen(root) / "manifest.json").read_text())
    return root / "segments" / m["segments"][0]["name"]


def test_save_load_round_trip(tmp_path):
    data = make_data()
    gen = st.save(tmp_path / "s", data)
    assert gen.is_dir() and gen.name.startswith("g-")
    got = st.load(tmp_path / "s")
    assert got is not None
    assert {k: v for k, v in got.manifest.items() if k not in ("segments", "format")} == \
        {k: v for k, v in data.manifest.items() if k != "format"}
    assert len(got.segments) == 1 and got.manifest["segments"][0]["dead"] == []
    assert set(got.segments[0].info["checksums"]) == set(st.SEGMENT_FILES)
    assert got.documents == data.documents
    # float16 on disk: within half a unit in the last place of float16 of the float32 vectors
    np.testing.assert_allclose(got.vectors, data.vectors, atol=1e-3)
    np.testing.assert_allclose(got.sentence_vectors, data.sentence_vectors, atol=1e-3)
    assert got.segments[0].vectors.dtype == np.float16


def test_load_of_missing_store_is_none(tmp_path):
    assert st.load(tmp_path / "nothing-here") is None
    assert not st.exists(tmp_path / "nothing-here")


def test_vectors_texts_and_postings_are_memory_mapped(tmp_path):
    st.save(tmp_path, make_data())
    seg = st.load(tmp_path).segments[0]
    for arr in (seg.vectors, seg.sentence_vectors, seg.texts, seg.meta, seg.postings.rows, seg.par_info):
        assert _mapped(arr)


def _mapped(arr) -> bool:
    """A memory map, or a plain view of one (the postings are viewed as ndarrays)."""
    import mmap
    while arr is not None:
        if isinstance(arr, (np.memmap, mmap.mmap)):
            return True
        arr = getattr(arr, "base", None)
    return False


def test_no_pickle_anywhere(tmp_path):
    gen = st.save(tmp_path, make_data())
    assert sorted(p.name for p in gen.iterdir()) == ["manifest.json"]
    seg = _seg(tmp_path)
    assert sorted(p.name for p in seg.iterdir()) == sorted(st.SEGMENT_FILES + ("segment.json",))
    for p in seg.glob("*.npy"):
        np.load(p, allow_pickle=False)  # raises if an object array was pickled
    for p in (gen / "manifest.json", seg / "segment.json"):
        json.loads(p.read_text(encoding="utf-8"))


def test_current_points_at_complete_generation_and_old_ones_are_removed(tmp_path):
    first = st.save(tmp_path, make_data(1))
    first_seg = _seg(tmp_path)
    assert (tmp_path / "CURRENT").read_text().strip() == first.name
    second = st.save(tmp_path, make_data(2))
    assert second.name != first.name
    assert (tmp_path / "CURRENT").read_text().strip() == second.name
    assert generations(tmp_path) == [second]
    assert not first.exists() and not first_seg.exists()
    assert [p.name for p in (tmp_path / "segments").iterdir()] == [_seg(tmp_path).name]
    assert leftovers(tmp_path) == []
    got = st.load(tmp_path)
    np.testing.assert_allclose(got.vectors, make_data(2).vectors, atol=1e-3)


def test_save_removes_stale_temp_generations(tmp_path):
    st.save(tmp_path, make_data(1))
    stale = tmp_path / ".tmp-g-20000101000000-deadbeef"
    stale.mkdir()
    (stale / "vectors.npy").write_bytes(b"half")
    stale_seg = tmp_path / "segments" / ".tmp-s-20000101000000-deadbeef"
    stale_seg.mkdir()
    st.save(tmp_path, make_data(2))
    assert not stale.exists() and not stale_seg.exists()


def test_tombstones_hide_deleted_documents(tmp_path):
    data = make_data()
    st.save(tmp_path, data)
    store = st.load(tmp_path)
    name = store.segments[0].name
    st.commit(tmp_path, dict(data.manifest, paragraphs=1), [{"name": name, "dead": [0]}])
    got = st.load(tmp_path)
    assert [d["doc"] for d in got.documents] == ["b.txt"]
    np.testing.assert_allclose(got.vectors, data.vectors[2:], atol=1e-3)
    np.testing.assert_allclose(got.sentence_vectors, data.sentence_vectors[2:], atol=1e-3)
    # the counts in the manifest must agree with the tombstones
    st.commit(tmp_path, dict(data.manifest, paragraphs=3), [{"name": name, "dead": [0]}])
    with pytest.raises(st.StoreError):
        st.load(tmp_path)


def test_sampled_checksum_catches_garbage_in_a_large_file(tmp_path):
    """Above 1 MiB only sampled blocks are hashed: garbled bytes behind the header are still seen."""
    rng = np.random.default_rng(5)
    big = st.StoreData(make_data().manifest, make_data().documents, _unit(rng, 3), _unit(rng, 4))
    docs = [{"doc": f"d{i}.txt", "title": "T", "sha256": "", "paragraphs": [
        {"text": "word " * 20, "kind": "body", "skip": [], "sentences": [[0, 99]]}]} for i in range(3000)]
    big = st.StoreData(dict(big.manifest, dim=256, paragraphs=3000), docs, _unit(rng, 3000, 256),
                       _unit(rng, 3000, 256))
    st.save(tmp_path, big)
    p = _seg(tmp_path) / "vectors.npy"
    assert p.stat().st_size > 1 << 20
    raw = bytearray(p.read_bytes())
    start = len(raw) // 2
    raw[start:start + 200_000] = rng.bytes(200_000)
    p.write_bytes(bytes(raw))
    with pytest.raises(st.StoreError, match="checksum"):
        st.load(tmp_path)


def test_real_index_manifest_fields(tmp_path, small_corpus, embedder):
    store = tmp_path / "store"
    idx = Indexer(Config(), notice=quiet).open(small_corpus, store)
    data = st.load(store)
    m = data.manifest
    assert m["format"] == st.FORMAT
    assert m["model"] == Config().model
    assert m["dim"] == embedder.dim == data.vectors.shape[1]
    assert m["title_in_text"] is True
    want = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in small_corpus.iterdir()}
    assert m["files"] == want
    assert m["paragraphs"] == data.vectors.shape[0] == len(idx.paragraphs)
    assert m["sentences"] == data.sentence_vectors.shape[0] == len(idx.sentence_spans)
    # stored vectors are unit length (cosine = dot product)
    norms = np.linalg.norm(np.asarray(data.vectors), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-4)


# -- damage -----------------------------------------------------------------------------------------

def _gen(root: Path) -> Path:
    return root / (root / "CURRENT").read_text().strip()


def _truncate_vectors(root):
    p = _seg(root) / "vectors.npy"
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) - 37])


def _truncate_vectors_header(root):
    p = _seg(root) / "vectors.npy"
    p.write_bytes(p.read_bytes()[:20])


def _garbage_manifest(root):
    (_gen(root) / "manifest.json").write_bytes(b"\x00\xffnot json{{{")


def _manifest_not_object(root):
    (_gen(root) / "manifest.json").write_text("[1, 2, 3]")


def _manifest_wrong_format(root):
    p = _gen(root) / "manifest.json"
    m = json.loads(p.read_text())
    m["format"] = st.FORMAT + 97
    p.write_text(json.dumps(m))


def _missing_manifest(root):
    (_gen(root) / "manifest.json").unlink()


def _truncated_texts(root):
    p = _seg(root) / "texts.bin"
    p.write_bytes(p.read_bytes()[:-10])


def _garbled_texts(root):
    p = _seg(root) / "texts.bin"
    raw = p.read_bytes()
    p.write_bytes(raw[:5] + b"X" * 5 + raw[10:])


def _garbage_segment_json(root):
    (_seg(root) / "segment.json").write_bytes(b"\x00\xffnot json{{{")


def _segment_missing(root):
    import shutil
    shutil.rmtree(_seg(root))


def _segment_name_escapes(root):
    p = _gen(root) / "manifest.json"
    m = json.loads(p.read_text())
    m["segments"][0]["name"] = "../../etc"
    p.write_text(json.dumps(m))


def _segments_not_a_list(root):
    p = _gen(root) / "manifest.json"
    m = json.loads(p.read_text())
    m["segments"] = "s-1"
    p.write_text(json.dumps(m))


def _segment_entry_without_sha(root):
    p = _gen(root) / "manifest.json"
    m = json.loads(p.read_text())
    del m["segments"][0]["sha256"]
    p.write_text(json.dumps(m))


def _postings_garbled(root):
    p = _seg(root) / "rows.npy"
    raw = p.read_bytes()
    p.write_bytes(raw[:-4] + b"\xff\xff\xff\x7f")


def _current_to_missing_dir(root):
    (root / "CURRENT").write_text("g-19990101000000-00000000\n")


def _current_corrupt(root):
    (root / "CURRENT").write_text("../../etc\n")


def _current_empty(root):
    (root / "CURRENT").write_text("")


def _vectors_wrong_rows(root):
    p = _seg(root) / "vectors.npy"
    v = np.load(p)
    np.save(p, v[:-1])


def _vectors_wrong_dim(root):
    p = _seg(root) / "vectors.npy"
    v = np.load(p)
    np.save(p, v[:, :-1])


def _vectors_wrong_dtype(root):
    p = _seg(root) / "vectors.npy"
    np.save(p, np.load(p).astype(np.float64))


def _sentences_wrong_rows(root):
    p = _seg(root) / "sentences.npy"
    v = np.load(p)
    np.save(p, np.concatenate([v, v[:1]]))


def _vectors_1d(root):
    p = _seg(root) / "vectors.npy"
    np.save(p, np.load(p).ravel())


def _empty_vectors(root):
    (_seg(root) / "vectors.npy").write_bytes(b"")


def _empty_sentences(root):
    (_seg(root) / "sentences.npy").write_bytes(b"")


def _garbage_behind_header(root):
    """Random bytes in place of the vectors, the .npy header intact: shapes all still agree."""
    p = _seg(root) / "sentences.npy"
    raw = p.read_bytes()
    body = len(raw) - (raw.index(b"\n") + 1)
    p.write_bytes(raw[:len(raw) - body] + np.random.default_rng(3).bytes(body))


def _no_checksums(root):
    p = _seg(root) / "segment.json"
    m = json.loads(p.read_text())
    del m["checksums"]
    p.write_text(json.dumps(m))


DAMAGE = {
    "vectors.npy 0 bytes": _empty_vectors,
    "sentences.npy 0 bytes": _empty_sentences,
    "garbage behind the .npy header": _garbage_behind_header,
    "manifest without checksums": _no_checksums,
    "truncated vectors.npy": _truncate_vectors,
    "vectors.npy header cut": _truncate_vectors_header,
    "garbage manifest.json": _garbage_manifest,
    "manifest.json not an object": _manifest_not_object,
    "manifest format": _manifest_wrong_format,
    "manifest.json missing": _missing_manifest,
    "truncated texts.bin": _truncated_texts,
    "garbled texts.bin": _garbled_texts,
    "garbage segment.json": _garbage_segment_json,
    "segment folder missing": _segment_missing,
    "segment name escapes": _segment_name_escapes,
    "garbled postings": _postings_garbled,
    "manifest segments not a list": _segments_not_a_list,
    "manifest segment without checksum": _segment_entry_without_sha,
    "CURRENT to a missing dir": _current_to_missing_dir,
    "CURRENT corrupt": _current_corrupt,
    "CURRENT empty": _current_empty,
    "vectors wrong rows": _vectors_wrong_rows,
    "vectors wrong dim": _vectors_wrong_dim,
    "vectors float64": _vectors_wrong_dtype,
    "vectors 1-d": _vectors_1d,
    "sentences wrong rows": _sentences_wrong_rows,
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damaged_store_raises_store_error(tmp_path, damage):
    st.save(tmp_path, make_data())
    DAMAGE[damage](tmp_path)
    with pytest.raises(st.StoreError) as e:
        st.load(tmp_path)
    assert "\n" not in str(e.value) and str(e.value)


# Damage kinds worth a real rebuild (each costs one small embedding run).
REBUILD_DAMAGE = ["vectors.npy 0 bytes", "garbage behind the .npy header",
                  "truncated vectors.npy", "garbage manifest.json", "CURRENT to a missing dir",
                  "vectors wrong rows", "sentences wrong rows", "truncated texts.bin", "segment folder missing"]


@pytest.mark.parametrize("damage", REBUILD_DAMAGE)
def test_index_open_rebuilds_damaged_store(tmp_path, small_corpus, embedder, damage):
    store = tmp_path / "store"
    first = Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert first.stats.embedded_files == 3
    DAMAGE[damage](store)
    notices: list[str] = []
    idx = Indexer(Config(), notice=notices.append).open(small_corpus, store)
    assert idx.stats.rebuilt_reason and "damaged" in idx.stats.rebuilt_reason
    assert idx.stats.embedded_files == 3 and idx.stats.reused_files == 0
    rebuild = [n for n in notices if "rebuild" in n]
    assert len(rebuild) == 1, notices
    assert "\n" not in rebuild[0]
    # the store is healthy again and the next open reuses it
    assert st.load(store).manifest["files"].keys() == {"alpha.txt", "beta.txt", "gamma.txt"}
    again = Indexer(Config(), notice=quiet).open(small_corpus, store)
    assert again.stats.embedded_files == 0 and again.stats.rebuilt_reason is None
    assert len(generations(store)) == 1 and leftovers(store) == []


def test_store_built_with_other_model_is_rebuilt(tmp_path, small_corpus, embedder):
    store = tmp_path / "store"
    Indexer(Config(), notice=quiet).open(small_corpus, store)
    mpath = _gen(store) / "manifest.json"
    m = json.loads(mpath.read_text())
    m["model"] = "some-other-model"
    mpath.write_text(json.dumps(m))
    notices: list[str] = []
    idx = Indexer(Config(), notice=notices.append).open(small_corpus, store)
    assert idx.stats.rebuilt_reason and "model" in idx.stats.rebuilt_reason
    assert idx.stats.embedded_files == 3
    assert len([n for n in notices if "rebuild" in n]) == 1
    assert st.load(store).manifest["model"] == Config().model


def test_a_new_parser_rebuilds_copying_the_vectors_of_paragraphs_it_reads_as_before(tmp_path, small_corpus,
                                                                                      embedder, monkeypatch):
    store = tmp_path / "store"
    first = Indexer(Config(), notice=quiet).open(small_corpus, store)
    before = np.array(first.vectors.vectors)
    n = first.stats.embedded_paragraphs

    def outdate():
        mpath = _gen(store) / "manifest.json"
        m = json.loads(mpath.read_text())
        m["parser"] -= 1
        mpath.write_text(json.dumps(m))

    outdate()
    notices: list[str] = []
    idx = Indexer(Config(), notice=notices.append).open(small_corpus, store)
    assert idx.stats.rebuilt_reason and "parser" in idx.stats.rebuilt_reason
    assert len([x for x in notices if "rebuild" in x]) == 1
    assert idx.stats.embedded_files == 3  # every file parsed again ...
    assert idx.stats.embedded_paragraphs == 0 and idx.stats.reused_paragraphs == n  # ... none embedded
    assert np.array_equal(before, np.asarray(idx.vectors.vectors))
    # a parser that splits sentences otherwise: those paragraphs are embedded again
    import qa.indexer
    whole = lambda text, skip=(), code=False: [(0, len(text))]  # noqa: E731
    monkeypatch.setattr(qa.indexer, "split_sentences", whole)
    outdate()
    idx = Indexer(Config(), notice=quiet).open(small_corpus, store)
    multi = sum(1 for pi in range(first.n_paragraphs) if len(first.sentence_rows(pi)) > 1)
    assert 0 < multi <= idx.stats.embedded_paragraphs < n
    assert idx.stats.embedded_paragraphs + idx.stats.reused_paragraphs == n
    # a store embedded with another model, or another text per paragraph, is no donor
    for key, other in (("model", "some-other-model"), ("passage", 1)):
        mpath = _gen(store) / "manifest.json"
        m = json.loads(mpath.read_text())
        m["parser"], m[key] = m["parser"] - 1, other
        mpath.write_text(json.dumps(m))
        idx = Indexer(Config(), notice=quiet).open(small_corpus, store)
        assert idx.stats.embedded_paragraphs == n and idx.stats.reused_paragraphs == 0, key


def test_store_built_with_other_title_in_text_is_rebuilt(tmp_path, small_corpus, embedder):
    store = tmp_path / "store"
    with_title = Indexer(Config(), notice=quiet).open(small_corpus, store)
    before = np.array(with_title.vectors.vectors)
    cfg = dataclasses.replace(Config(), title_in_text=False)
    notices: list[str] = []
    idx = Indexer(cfg, notice=notices.append).open(small_corpus, store)
    assert idx.stats.rebuilt_reason and "title_in_text" in idx.stats.rebuilt_reason
    assert idx.stats.embedded_files == 3
    assert len([n for n in notices if "rebuild" in n]) == 1
    assert st.load(store).manifest["title_in_text"] is False
    # the paragraph vectors really changed: the title is no longer part of the embedded text
    assert not np.allclose(before, np.asarray(idx.vectors.vectors))
    # same config again: nothing to do
    again = Indexer(cfg, notice=quiet).open(small_corpus, store)
    assert again.stats.embedded_files == 0 and again.stats.rebuilt_reason is None


# -- NumpyStore ---------------------------------------------------------------------------------------

def test_numpy_store_search_best_first_with_cosine_scores():
    rng = np.random.default_rng(7)
    vecs = _unit(rng, 50)
    s = st.NumpyStore(vecs)
    q = _unit(rng, 1)[0]
    ids, scores = s.search(q, 5)
    cos = vecs @ q
    assert list(ids) == list(np.argsort(-cos)[:5])
    np.testing.assert_allclose(scores, cos[ids], rtol=1e-6)
    assert all(a >= b for a, b in zip(scores, scores[1:]))
    # the query itself is found first with cosine 1
    ids, scores = s.search(vecs[17], 3)
    assert ids[0] == 17 and scores[0] == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(s.score(q), cos, rtol=1e-6)
    np.testing.assert_allclose(s.score(q, np.array([3, 1])), cos[[3, 1]], rtol=1e-6)


def test_numpy_store_k_larger_than_n_and_k_zero():
    rng = np.random.default_rng(3)
    vecs = _unit(rng, 4)
    s = st.NumpyStore(vecs)
    q = _unit(rng, 1)[0]
    ids, scores = s.search(q, 10)
    assert sorted(ids.tolist()) == [0, 1, 2, 3]
    assert list(ids) == list(np.argsort(-(vecs @ q)))
    ids, scores = s.search(q, 0)
    assert len(ids) == 0 and len(scores) == 0
    ids, scores = s.search(q, -3)
    assert len(ids) == 0
    empty = st.NumpyStore(np.zeros((0, DIM), np.float32))
    assert len(empty) == 0
    ids, scores = empty.search(q, 5)
    assert len(ids) == 0 and len(scores) == 0


# -- where a store may live ---------------------------------------------------------------------------
@pytest.mark.unit
def test_store_location_checks(tmp_path):
    from qa.errors import QAError
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    afile = tmp_path / "afile"
    afile.write_text("x")
    for bad, words in [("s3://bucket/qa", "not supported yet"), ("milvus://localhost:19530", "no collection"),
                       (str(afile), "is a file"), (str(afile / "sub"), "is a file"),
                       (str(corpus / "store"), "inside the corpus")]:
        with pytest.raises(QAError) as e:
            check_location(bad, corpus)
        assert words in str(e.value) and "\n" not in str(e.value)
    check_location(corpus / ".qa-store", corpus)  # hidden: never read
    check_location(tmp_path / "new" / "store", corpus)
    check_location("milvus://localhost:19530/qa", corpus)


@pytest.mark.unit
def test_a_store_location_is_parsed_once(tmp_path):
    from qa.config import default_store_for
    corpus = tmp_path / "corpus"
    here = parse_location(tmp_path / "s", corpus)
    assert (here.kind, here.path, here.corpus, here.uri) == ("local", tmp_path / "s", corpus, None)
    assert parse_location(None, corpus).path == default_store_for(corpus)
    there = parse_location("milvus://h:1/c", corpus)
    assert (there.kind, there.uri, there.path) == ("milvus", "milvus://h:1/c", default_store_for(corpus))
    assert parse_location(there, tmp_path) is there
    assert here.key == parse_location(str(tmp_path / "x" / ".." / "s"), corpus).key != there.key


@pytest.mark.unit
def test_a_store_that_cannot_be_written_is_one_qa_error(tmp_path):
    from qa.errors import QAError
    afile = tmp_path / "afile"
    afile.write_text("x")
    locked_dir = tmp_path / "ro"
    locked_dir.mkdir()
    locked_dir.chmod(0o500)
    try:
        # root writes anywhere: the permission case runs for other users only
        roots = [afile, afile / "sub"] + ([] if os.geteuid() == 0 else [locked_dir / "store"])
        for root in roots:
            with pytest.raises(QAError):
                st.save(root, make_data())
            with pytest.raises(QAError):
                with st.locked(root):
                    pass
    finally:
        locked_dir.chmod(0o700)


# -- segmented dense search, HNSW -----------------------------------------------------------------

def test_segmented_vectors_search_skips_deleted_rows_and_merges_segments():
    rng = np.random.default_rng(11)
    a, b = _unit(rng, 30), _unit(rng, 20)
    live = np.arange(50)
    live[[3, 7, 40]] = -1
    live[live >= 0] = np.arange(47)
    rows = np.flatnonzero(live >= 0)
    s = st.SegmentedVectors([(a.astype(np.float16), None), (b.astype(np.float16), None)], live, rows)
    assert len(s) == 47
    allv = np.concatenate([a, b])[rows]
    np.testing.assert_allclose(s.get(np.arange(47)), allv, atol=1e-3)
    for seed in range(5):
        q = _unit(np.random.default_rng(seed), 1)[0]
        ids, scores = s.search(q, 10)
        want = np.argsort(-(allv @ q))[:10]
        assert ids.tolist() == want.tolist()
        np.testing.assert_allclose(scores, allv[ids] @ q, atol=2e-3)
    # a deleted row is never found, even asked for exactly
    ids, _ = s.search(a[3], 5)
    assert 3 not in rows[ids]


def test_hnsw_segment_is_memory_mapped_and_close_to_exact(tmp_path):
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(2)
    n, dim = 3000, 32
    centers = _unit(rng, 40, dim)
    vecs = centers[rng.integers(0, 40, n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    docs = [{"doc": f"d{i}.txt", "title": "T", "sha256": "", "paragraphs": [
        {"text": f"paragraph {i}", "kind": "body", "skip": [], "sentences": []}]} for i in range(n)]
    name = st.write_segment(tmp_path, docs, vecs, np.zeros((0, dim), np.float32),
                            [f"paragraph {i}" for i in range(n)], ann_threshold=1000)
    seg = st.open_segment(tmp_path, name)
    assert seg.info["ann"] and (seg.folder / "ann.faiss").is_file()
    assert "ann.faiss" in seg.info["checksums"]
    assert seg.ann is not None and len(seg.ann) == n
    store = st.SegmentedVectors([(seg.vectors, seg.ann)])
    exact = st.NumpyStore(seg.vectors)
    hits = 0
    for qi in range(50):
        q = vecs[rng.integers(n)] + 0.1 * rng.standard_normal(dim).astype(np.float32)
        q /= np.linalg.norm(q)
        got, _ = store.search(q, 10)
        want, _ = exact.search(q, 10)
        hits += len(set(got.tolist()) & set(want.tolist()))
    assert hits / 500 >= 0.95
    # a damaged graph file is caught by the segment's checksum
    p = seg.folder / "ann.faiss"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(st.StoreError):
        st.open_segment(tmp_path, name)
    assert faiss.IO_FLAG_MMAP_IFC
