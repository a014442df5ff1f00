"""qa.embed with the real packaged model (all-MiniLM-L6-v2 from its wheel, offline, loaded once)."""
from __future__ import annotations

import os
import random

import numpy as np
import pytest

from qa.config import DEFAULT_MODEL
from qa.embed import get_embedder, resolve_model

TEXTS = [
    "Astronomers at the Kestrel Ridge observatory discovered a comet on Friday night.",
    "Apple growers in the Vell valley picked a record 30,000 tonnes of fruit this autumn.",
    "The old harbour bridge reopened.",
    "Engineers replaced forty steel cables and repainted the northern arch; the work cost twelve "
    "million euros and took eight months, longer than the city had planned.",
    "Hi.",
]


def cos(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.unit
def test_resolve_model():
    path = resolve_model(DEFAULT_MODEL)
    assert os.path.isdir(path) and os.listdir(path)
    assert resolve_model("all-MiniLM-L6-v2") == resolve_model("sentence-transformers/all-MiniLM-L6-v2") == path
    assert resolve_model("/some/other/model") == "/some/other/model"


@pytest.mark.unit
def test_one_embedder_per_model_and_threads():
    assert get_embedder(DEFAULT_MODEL, 0) is get_embedder(DEFAULT_MODEL, 0)
    assert get_embedder(DEFAULT_MODEL, 0) is not get_embedder(DEFAULT_MODEL, 1)


def test_encode_query_is_a_unit_float32_vector(embedder):
    v = embedder.encode_query("Who did Shoigu meet in Pyongyang?")
    assert v.shape == (embedder.dim,) == (384,) and v.dtype == np.float32
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(v, embedder.encode_query("Who did Shoigu meet in Pyongyang?"))


def test_encode_documents_keeps_the_order(embedder):
    vecs = embedder.encode_documents(TEXTS)
    assert vecs.shape == (len(TEXTS), 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # row i is text i: the same as encoding it alone, and as a query
    for text, row in zip(TEXTS, vecs):
        assert cos(row, embedder.encode_documents([text])[0]) > 0.999
        assert cos(row, embedder.encode_query(text)) > 0.999
    order = list(range(len(TEXTS)))
    random.Random(3).shuffle(order)
    shuffled = embedder.encode_documents([TEXTS[i] for i in order])
    assert np.allclose(shuffled, vecs[order], atol=1e-4)
    assert embedder.encode_documents([]).shape == (0, 384)


def test_encode_documents_reports_progress(embedder):
    seen = []
    embedder.encode_documents(TEXTS * 10, progress=seen.append)
    assert sum(seen) == len(TEXTS) * 10


def spans_of(sentences: list[str]) -> tuple[str, list[tuple[int, int]]]:
    text, spans = "", []
    for s in sentences:
        start = len(text) + (1 if text else 0)
        text = f"{text} {s}" if text else s
        spans.append((start, start + len(s)))
    return text, spans


def test_encode_with_spans_is_consistent(embedder):
    paragraphs = [spans_of(TEXTS[:2]), spans_of(TEXTS[2:4]), spans_of([TEXTS[4]])]
    texts = [t for t, _ in paragraphs]
    par, sent = embedder.encode_with_spans(texts, [s for _, s in paragraphs])
    assert par.shape == (3, 384) and [s.shape for s in sent] == [(2, 384), (2, 384), (1, 384)]
    assert np.allclose(np.linalg.norm(par, axis=1), 1.0, atol=1e-5)
    assert all(np.allclose(np.linalg.norm(s, axis=1), 1.0, atol=1e-5) for s in sent)
    # the paragraph vector is the model's own mean pooling of the same pass
    docs = embedder.encode_documents(texts)
    for p, d in zip(par, docs):
        assert cos(p, d) > 0.999
    # a sentence pooled in its paragraph's context is near the sentence encoded alone,
    # and nearer its own text than the other sentence's
    alone = embedder.encode_documents(TEXTS[:2])
    assert cos(sent[0][0], alone[0]) > 0.6 and cos(sent[0][1], alone[1]) > 0.6
    assert cos(sent[0][0], alone[0]) > cos(sent[0][0], alone[1])
    assert cos(sent[0][1], alone[1]) > cos(sent[0][1], alone[0])


def test_encode_with_spans_past_the_window_encodes_the_span_alone(embedder):
    filler = " ".join(f"word{i}" for i in range(400))  # far more than 256 tokens
    tail = "The comet passes closest to the Sun in March."
    text = f"{filler} {tail}"
    start = text.index(tail)
    par, sent = embedder.encode_with_spans([text], [[(start, len(text))]])
    assert cos(sent[0][0], embedder.encode_documents([tail])[0]) > 0.999


def test_progress_reaches_the_total_only_after_the_spans_past_the_window(embedder, monkeypatch):
    filler = " ".join(f"word{i}" for i in range(400))
    texts = [f"{filler} The comet passes closest to the Sun in March.", "A short one. Two sentences."]
    spans = [[(len(filler) + 1, len(texts[0]))], [(0, 12), (13, 27)]]
    events = []
    encode = embedder.encode_documents
    monkeypatch.setattr(embedder, "encode_documents", lambda t, *a: events.append("alone") or encode(t, *a))
    embedder.encode_with_spans(texts, spans, progress=lambda n: events.append(n))
    assert events == ["alone", 2]  # the over-long span is encoded before the step that completes


def test_encode_with_spans_of_nothing(embedder):
    par, sent = embedder.encode_with_spans([], [])
    assert par.shape == (0, 384) and sent == []
    seen = []
    par, sent = embedder.encode_with_spans(["No spans here."], [[]], progress=seen.append)
    assert par.shape == (1, 384) and sent[0].shape == (0, 384) and seen == [1]


def test_word_similarity(embedder):
    assert embedder.word_similarity("population", ["population"]) == pytest.approx(1.0, abs=1e-5)
    assert embedder.word_similarity("population", []) == 0.0
    assert embedder.word_similarity("minister", ["ministers", "apple"]) > \
        embedder.word_similarity("minister", ["apple"])


def test_auto_threads_one_per_question_all_cores_while_indexing(monkeypatch):
    import torch
    from qa.embed import _TORCH_DEFAULT_THREADS, Embedder
    emb = Embedder(threads=0)
    emb.model  # noqa: B018 - loading sets the per-question count
    assert torch.get_num_threads() == 1
    seen = []
    emb.encode_documents(["one text", "another text"], progress=lambda n: seen.append(torch.get_num_threads()))
    assert seen and set(seen) == {_TORCH_DEFAULT_THREADS[0]}
    assert torch.get_num_threads() == 1  # back to one for the next question
    fixed = Embedder(threads=2)
    fixed.model  # noqa: B018
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)


@pytest.mark.unit
def test_the_device_is_the_gpu_when_torch_sees_one_else_the_cpu(monkeypatch):
    """auto: CUDA in float16 with GPU batches when present, else the CPU; cpu stays cpu; cuda
    without a GPU is one line; the onnx backends always run on the CPU."""
    import sentence_transformers
    import torch

    from qa.embed import GPU_BATCH, Embedder
    from qa.errors import QAError
    made = []

    class FakeModel:
        def __init__(self, path, device):
            self.device, self.halved = device, False
            made.append(self)

        def half(self):
            self.halved = True
            return self

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", FakeModel)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    gpu = Embedder(device="auto")
    assert gpu.model.device == "cuda" and gpu.model.halved and gpu.batch_size == GPU_BATCH
    cpu = Embedder(device="cpu")
    assert cpu.model.device == "cpu" and not cpu.model.halved and cpu.batch_size == 8
    assert Embedder(device="cuda")._pick_device(torch) == "cuda"
    assert Embedder(device="auto", backend="onnx")._pick_device(torch) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert Embedder(device="auto")._pick_device(torch) == "cpu"
    with pytest.raises(QAError, match="sees no CUDA device"):
        Embedder(device="cuda").model  # noqa: B018


@pytest.mark.unit
def test_qa_device_is_read_from_the_environment(monkeypatch):
    from qa.config import Config
    from qa.errors import QAError
    monkeypatch.setenv("QA_DEVICE", "cpu")
    assert Config.from_env().device == "cpu"
    monkeypatch.setenv("QA_DEVICE", "tpu")
    with pytest.raises(QAError):
        Config.from_env()


def test_the_question_graph_gives_the_torch_vector(embedder):
    """A question is embedded without torch once the graph is exported: the same vector within 1e-5."""
    import torch
    embedder.prepare_question_path()
    g = embedder.query_graph
    assert g is not None and g.available
    qs = ["Who did Shoigu meet in Pyongyang?", "How do I install uv?", "word " * 400]  # the last: truncated
    with torch.inference_mode():
        ref = embedder.model.encode(qs, batch_size=1, normalize_embeddings=True, convert_to_numpy=True)
    for q, r in zip(qs, ref):
        assert np.abs(g.encode(q) - r).max() < 1e-5
        assert np.abs(embedder.encode_query(q) - r).max() < 1e-5


def test_word_similarity_reads_the_same_table_without_torch(embedder):
    table, tok = embedder.query_graph.word_table()
    emb = embedder.model[0].auto_model.get_input_embeddings().weight.detach().numpy()
    assert np.allclose(table, emb / np.linalg.norm(emb, axis=1, keepdims=True), atol=1e-6)
    assert tok.encode("Pyongyang", add_special_tokens=False).ids == \
        embedder.model.tokenizer("Pyongyang", add_special_tokens=False)["input_ids"]
