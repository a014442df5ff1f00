#!/usr/bin/env python3
"""Check a technical question set (bench/tech, cargo, rustup, rbe, clibook): its questions.jsonl
against its corpus/ (stdlib only).

Verifies that:
  * every line is a JSON object with a unique id and only the keys qa's JSONL
    loader knows (id, question, answers, doc, docs, paragraph, is_impossible);
  * answerable items have a non-empty list of answer strings, a `doc` that
    exists under corpus/, and every answer occurs verbatim in that doc after
    collapsing whitespace runs to one space (extra gold `docs` must exist and
    contain at least one of the answers);
  * unanswerable items have `answers == []` and `is_impossible: true`;
  * meta.jsonl (the sidecar: per id a `type` - command / inline / prose /
    unanswerable - and, for unanswerable ones, `absent_terms`) covers exactly
    the question ids, and no `absent_terms` entry occurs anywhere in the
    corpus (case-insensitive substring).
Warns (does not fail) when a question shares a run of 6+ words with its doc,
or when answers are not ordered shortest first.

Usage: python bench/check_set.py SET_FOLDER   (e.g. bench/tech: questions.jsonl, meta.jsonl, corpus/)
Exit status 0 when all checks pass, 1 otherwise.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

WS = re.compile(r"\s+")
WORD = re.compile(r"[a-z0-9]+")
KEYS = {"id", "question", "answers", "doc", "docs", "paragraph", "is_impossible"}
TYPES = {"command", "inline", "prose"}


def collapse(text):
    return WS.sub(" ", text).strip()


def ngrams(words, n):
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def main():
    if len(sys.argv) != 2 or not Path(sys.argv[1], "questions.jsonl").is_file():
        print("usage: python bench/check_set.py SET_FOLDER (holding questions.jsonl, meta.jsonl, corpus/)",
              file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    qpath, mpath, CORPUS = folder / "questions.jsonl", folder / "meta.jsonl", folder / "corpus"
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    texts = {p.relative_to(CORPUS).as_posix(): p.read_text(encoding="utf-8") for p in files}
    flat = {k: collapse(v) for k, v in texts.items()}
    corpus_lower = "\n".join(texts.values()).lower()

    errors, warnings = [], []
    ids = Counter()
    kinds = Counter()
    per_doc = Counter()
    n_ans = n_unans = 0
    meta = {}
    if mpath.exists():
        with open(mpath, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    m = json.loads(line)
                    if m.get("id") in meta:
                        errors.append(f"meta line {lineno}: duplicate id {m.get('id')!r}")
                    meta[m.get("id")] = m
    else:
        errors.append(f"no sidecar {mpath}")

    with open(qpath, encoding="utf-8") as f:
        lines = [(i, l) for i, l in enumerate(f, 1) if l.strip()]
    for lineno, line in lines:
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {lineno}: bad JSON: {e}")
            continue
        qid = q.get("id")
        where = f"line {lineno} ({qid})"
        if not isinstance(qid, str) or not qid:
            errors.append(f"{where}: missing id")
        ids[qid] += 1
        extra_keys = sorted(set(q) - KEYS)
        if extra_keys:
            errors.append(f"{where}: keys qa does not know: {extra_keys}")
        m = meta.get(qid, {})
        if qid not in meta:
            errors.append(f"{where}: id missing from meta.jsonl")
        if not isinstance(q.get("question"), str) or not q["question"].strip():
            errors.append(f"{where}: missing question")
            continue
        answers = q.get("answers")
        if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
            errors.append(f"{where}: answers must be a list of non-empty strings")
            continue

        if q.get("is_impossible"):
            n_unans += 1
            if answers:
                errors.append(f"{where}: unanswerable item has answers")
            if "doc" in q:
                errors.append(f"{where}: unanswerable item has a doc")
            if m and m.get("type") != "unanswerable":
                errors.append(f"{where}: meta type should be 'unanswerable'")
            if m and not m.get("absent_terms"):
                errors.append(f"{where}: meta has no absent_terms")
            for term in m.get("absent_terms", []):
                if term.lower() in corpus_lower:
                    errors.append(f"{where}: absent term {term!r} occurs in the corpus")
            continue

        n_ans += 1
        kinds[m.get("type", "untyped")] += 1
        if m and m.get("type") not in TYPES:
            errors.append(f"{where}: meta type {m.get('type')!r} not one of {sorted(TYPES)}")
        doc = q.get("doc")
        if doc not in flat:
            errors.append(f"{where}: doc {doc!r} not found under {CORPUS}")
            continue
        per_doc[doc] += 1
        if not answers:
            errors.append(f"{where}: answerable item has no answers")
        for a in answers:
            if collapse(a) not in flat[doc]:
                errors.append(f"{where}: answer {a!r} not found in {doc}")
        if [len(a) for a in answers] != sorted(len(a) for a in answers):
            warnings.append(f"{where}: answers not ordered shortest first")
        for extra in q.get("docs", []):
            if extra not in flat:
                errors.append(f"{where}: extra doc {extra!r} not found")
            elif not any(collapse(a) in flat[extra] for a in answers):
                errors.append(f"{where}: no answer occurs in extra doc {extra}")
        qwords = WORD.findall(q["question"].lower())
        dwords = WORD.findall(flat[doc].lower())
        if ngrams(qwords, 6) & ngrams(dwords, 6):
            warnings.append(f"{where}: question shares 6+ consecutive words with {doc}")

    for qid, c in ids.items():
        if c > 1:
            errors.append(f"duplicate id {qid!r} ({c} times)")
    for qid in meta:
        if qid not in ids:
            errors.append(f"meta.jsonl id {qid!r} has no question")

    size = sum(len(t.encode("utf-8")) for t in texts.values())
    md = [k for k in texts if k.endswith(".md")]
    print(f"corpus: {len(md)} markdown files, {size} bytes ({size / 1024:.0f} KiB)")
    print(f"questions: {n_ans + n_unans} total, {n_ans} answerable, {n_unans} unanswerable")
    print("answerable by type: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    print(f"docs with questions: {len(per_doc)} of {len(md)}")
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"FAILED ({len(errors)} errors)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
