"""The `qa` command: ask, chat, index, eval. Heavy imports happen inside the commands.

Exit codes: 0 answered / ok, 1 abstained (or a metric under --fail-under), 2 bad input,
130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import ui
from .config import MAX_TOP_K
from .errors import QAError


def _check_store(args) -> None:
    """A --store that cannot be a store fails in one line before anything loads."""
    if args.store:
        from .location import check_location
        check_location(args.store, getattr(args, "corpus", None))


def _location(args):
    """Where the store of --corpus lives (--store, or the corpus' default)."""
    from .location import parse_location
    return parse_location(args.store, args.corpus)


def _open(args):
    from .pipeline import QA
    from .config import Config
    return QA(args.corpus, _location(args), Config.from_env(), progress=ui.progress_bar("indexing"),
              notice=ui.notice)


def cmd_ask(args) -> int:
    from .pipeline import clean_question
    from .render import render_answer, terminal_width, use_color, wrap
    clean_question(args.question)  # bad input fails before the model loads
    _check_store(args)
    qa = _open(args)
    status = ui.progress_bar("qa")
    status.phase("loading the models and reading")
    try:
        ans = qa.ask(args.question, top_k=args.top_k)
    finally:
        status.clear()
    if args.json:
        print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(wrap(render_answer(ans, color=use_color(sys.stdout)), terminal_width(sys.stdout)))
    return 1 if ans.abstained else 0


def cmd_index(args) -> int:
    from .config import Config
    from .pipeline import open_index
    _check_store(args)
    idx, remote = open_index(_location(args), Config.from_env(), ui.progress_bar("indexing"), ui.notice)
    ui.clear_line()  # "writing the store…" does not run into the summary
    s = idx.stats
    print(f"{idx.name}: {len(idx.documents)} documents, {len(idx.paragraphs)} paragraphs, "
          f"{idx.manifest.get('sentences', len(idx.sentence_spans))} sentences in {idx.store_dir}")
    print(f"embedded {s.embedded_files} files ({s.embedded_paragraphs} paragraphs, {s.embedded_sentences} "
          f"sentences" + (f"; {s.reused_paragraphs} unchanged paragraphs copied" if s.reused_paragraphs else "")
          + f"), reused {s.reused_files}, removed {s.removed_files}"
          + (f", resumed {s.resumed_files} from an interrupted run" if s.resumed_files else "")
          + f", {s.seconds:.1f} s")
    if remote is not None:
        m = remote.stats
        print(f"milvus {remote.collection.target.shown}: upserted {m.upserted_files} files "
              f"({m.upserted_rows} paragraphs), deleted {m.deleted_files}, lexical search "
              f"{'in Milvus (BM25)' if m.lexical else 'local (BM25)'}, {m.seconds:.1f} s")
    return 0


def cmd_chat(args) -> int:
    from .chat import run_chat, run_piped
    _check_store(args)
    if sys.stdin.isatty():
        code = run_chat(args.corpus, args.store, args.top_k)
    else:
        code = run_piped(args.corpus, args.store, args.top_k, sys.stdin, sys.stdout)
    _exit_if_busy(code)
    return code


def cmd_serve(args) -> int:
    _check_store(args)
    try:
        from .serve import serve
    except ImportError as e:  # fastapi present but broken, or the like
        raise QAError(f"qa serve needs the serve extra ({e}): pip install -c constraints.txt -e '.[serve]'") from None
    return serve(args.corpus, args.store, host=args.host, port=args.port, token=args.token,
                 watch=not args.no_watch, cors_origins=tuple(args.cors_origin))


def _port(v: str) -> int:
    n = _positive(v)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {n}")
    return n


def _exit_if_busy(code: int) -> None:
    """Leave at once when a chat thread is still inside torch (the model still loading, an
    abandoned answer): letting the interpreter finalise under it aborts the process ("terminate
    called without an active exception", exit 134). Nothing is lost: a store is only ever
    replaced whole, and the chat history is written line by line."""
    import os
    import threading
    from .chat import BACKGROUND_THREADS
    if any(t.is_alive() and t.name in BACKGROUND_THREADS for t in threading.enumerate()):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def _check_output(path: str) -> None:
    """--json OUT must be writable before an evaluation that may take minutes starts."""
    import os
    from pathlib import Path
    out = Path(path).expanduser()
    parent = out.parent
    if out.is_dir():
        raise QAError(f"--json {path} is a folder, not a file")
    if not parent.is_dir():
        raise QAError(f"--json {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise QAError(f"--json {path}: not writable")


def cmd_eval(args) -> int:
    from .evaluate import main as eval_main
    _check_store(args)
    if args.json_out:
        _check_output(args.json_out)
    return eval_main(args.questions, corpus=args.corpus, store=args.store, top_k=args.top_k,
                     limit=args.limit, mode=args.mode, answerer=args.answerer, json_out=args.json_out,
                     fail_under=args.fail_under, compare_runs=args.compare, worst=args.worst,
                     progress=ui.progress_bar, notice=ui.notice)


def _positive(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {v!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {n}")
    return n


def _top_k(v: str) -> int:
    n = _positive(v)
    if n > MAX_TOP_K:
        raise argparse.ArgumentTypeError(f"at most {MAX_TOP_K}: {n}")
    return n


ASK_EPILOG = ("exit status: 0 answered, 1 not in the documents (abstained), 2 bad input or setup "
              "(one line on stderr), 130 interrupted")


def build_parser() -> argparse.ArgumentParser:
    from .config import ANSWERERS, SEEDS_DIR, Config
    from .evaluate import METRICS
    top_k = Config.top_k  # defaults live in Config only: an option left out (None) means Config's
    p = argparse.ArgumentParser(prog="qa", description="Answer questions about a folder of documents "
                                "with quoted, cited snippets. With no command: the chat over the seeds.")
    sub = p.add_subparsers(dest="command")

    def corpus_opts(sp):
        sp.add_argument("--corpus", default=str(SEEDS_DIR), help="folder of text files: .txt, .md, "
                        ".markdown, .rst, extension-less text such as README (default: seeds/)")
        sp.add_argument("--store", default=None, help="where the index lives (default: embeddings/ for "
                        "the seeds, the user cache for other corpora); milvus://[user:password@]host:port/"
                        "collection or a milvus-lite file.db for Milvus")

    k_help = f"paragraphs to read, 1 to {MAX_TOP_K} (default {top_k})"
    a = sub.add_parser("ask", help="answer one question", epilog=ASK_EPILOG)
    a.add_argument("question", help='the question, in quotes: qa ask "Who did Shoigu meet?"')
    corpus_opts(a)
    a.add_argument("--top-k", type=_top_k, default=None, help=k_help)
    a.add_argument("--json", action="store_true", help="print the answer as JSON")
    a.set_defaults(func=cmd_ask)

    c = sub.add_parser("chat", help="interactive chat (reads questions line by line when piped)")
    corpus_opts(c)
    c.add_argument("--top-k", type=_top_k, default=None, help=k_help + "; :k N changes it in the chat")
    c.set_defaults(func=cmd_chat)

    i = sub.add_parser("index", help="build or update the index of a corpus")
    corpus_opts(i)
    i.set_defaults(func=cmd_index)

    s = sub.add_parser("serve", help="HTTP API and web chat on http://127.0.0.1:8000/ (the serve extra)")
    corpus_opts(s)
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1, this machine "
                   "only; any other needs --token)")
    s.add_argument("--port", type=_port, default=8000, help="default 8000")
    s.add_argument("--token", default=None, help="a secret every request must carry (or QA_SERVE_TOKEN); "
                   "required off loopback; the page takes it once as ?token=")
    s.add_argument("--no-watch", action="store_true", help="do not index the folder's changes while serving")
    s.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="let pages from ORIGIN call the API (repeatable; none by default)")
    s.set_defaults(func=cmd_serve)

    e = sub.add_parser("eval", help="score qa on a question set (JSONL or SQuAD JSON)")
    e.add_argument("questions", nargs="?", help="questions file")
    e.add_argument("--corpus", default=None, help="corpus folder (default: next to the questions, or "
                   "built from SQuAD contexts)")
    e.add_argument("--store", default=None, help="where the index lives (default: the user cache, or "
                   "embeddings/ for the seeds)")
    e.add_argument("--top-k", type=_top_k, default=None, help=k_help)
    e.add_argument("--limit", type=_positive, default=None, help="only the first N questions")
    e.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid", help="retriever")
    e.add_argument("--answerer", choices=ANSWERERS, default=None,
                   help="reader: the trained span reader (default); rules: hand-made sentence scoring "
                        "and typed phrases; baseline: best sentence by cosine in the top paragraph")
    e.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="write per-question records")
    e.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when METRIC is below VALUE (repeatable); METRIC is one of: "
                        + ", ".join(k for k, _, _ in METRICS))
    e.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two --json runs")
    e.add_argument("--worst", type=int, default=5, help="how many worst misses to show")
    e.set_defaults(func=cmd_eval)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv:
        argv = ["chat"]
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except QAError as e:
        ui.clear_line()
        print(f"qa: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        # on a line of its own: in place of a bar, else after the terminal's "^C"
        fresh = ui.clear_line() or not sys.stderr.isatty()
        print(("" if fresh else "\n") + "qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
