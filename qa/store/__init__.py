"""The on-disk store: immutable segments, generations that list them, and the dense search.

Layout of a store folder:
    CURRENT                  name of the live generation (replaced atomically by rename)
    .lock                    flock held by the one indexer at work
    seen.json                the last corpus scan's stat cache (qa/seen.py); only a cache: when
                             it is missing or damaged, files are hashed again
    g-<id>/manifest.json     format, model, dim, sha256 per corpus file, the segments in row
                             order with their deleted documents (tombstones), and the checksum
                             of each segment's segment.json
    segments/s-<id>/         one immutable segment (written under .tmp-s-<id>, renamed when done):
        segment.json         its documents (name, sha256), counts, and a checksum per file below
        vectors.npy          float16 (paragraphs, dim); sentences.npy float16 (sentences, dim)
        texts.bin            paragraph texts, utf-8, back to back; text_offsets.npy (P + 1)
        meta.bin             one JSON object per document (qa/document.py: title, date, per-paragraph
                             kind, chrome ranges and any further keys), back to back; doc_offsets.npy
        doc_paragraphs.npy   first row of each document (D + 1)
        par_info.npy         int32 (P, 3): document, paragraph number, answerable
        par_sentences.npy    int64 (P, 2): each paragraph's sentence rows [first, last)
        spans.npy            int32 (S, 3): sentence -> (paragraph row, start, end)
        terms.npy ... doclen.npy   the BM25 postings (qa/lexical.py)
        ann.faiss            HNSW graph, for segments of ANN_THRESHOLD rows or more (qa/ann.py)

Opening maps the arrays (nothing per paragraph is parsed: texts and document metadata are
decoded when a row is read), so a million-paragraph store opens in well under 2 s. New or
changed files go to a new segment; a changed or deleted file's old rows become a tombstone in
the next generation's manifest; `qa.indexer.merge` compacts segments. Each finished segment is
kept until a generation is complete, so a killed indexer resumes from the segments it finished.
No pickle: JSON and .npy (allow_pickle=False).

The modules, by job: `format` (file names, the format number, checksums, StoreError, the
writers), `segments` (one segment: write, open), `generations` (the live generation: load,
commit, the lock; `StoreData` / `save` for tests and tools), `vectors` (dense search).
"""
from .format import FORMAT, SEGMENT_FILES, VECTOR_DTYPE, StoreError
from .generations import Store, StoreData, commit, current, exists, finished_segments, load, locked, save
from .segments import Segment, open_segment, write_segment
from .vectors import NumpyStore, SegmentedVectors

__all__ = ["FORMAT", "SEGMENT_FILES", "VECTOR_DTYPE", "StoreError", "Store", "StoreData", "commit", "current",
           "exists", "finished_segments", "load", "locked", "save", "Segment", "open_segment",
           "write_segment", "NumpyStore", "SegmentedVectors"]
