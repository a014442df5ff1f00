"""`qa serve`: one process opens the index once and answers many clients over HTTP, with a JSON
API (described at /openapi.json) and a web chat (the files in qa/web/, no CDN, no build step).

A front end like the chat and the CLI: only `qa serve` imports it, and FastAPI, uvicorn and
watchfiles (the `serve` extra) are imported by nothing else. Safe by default: it binds the
loopback interface and answers only requests addressed to it (DNS rebinding); any other host
needs a token that every request carries; documents are looked up by their name in the index,
never opened from a path a request names; the page builds every document text as text
(textContent) under a Content-Security-Policy that runs no inline script.
"""
# No `from __future__ import annotations`: FastAPI reads the request models' annotations.
import asyncio
import hmac
import ipaddress
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Callable, List, Optional

from . import __version__
from .config import MAX_TOP_K, Config
from .errors import QAError
from .location import parse_location
from .pipeline import MAX_QUESTION_CHARS, QA
from .render import error_line
from .types import Turn

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from pydantic import BaseModel, Field
    from starlette.exceptions import HTTPException
except ImportError:  # pragma: no cover - exercised by the hint test through a missing import
    raise QAError("qa serve needs the serve extra: pip install -c constraints.txt -e '.[serve]'") from None

MAX_BODY = 64 * 1024  # bytes of a request body; a question is at most 2,000 characters
MAX_HISTORY = 10  # earlier turns a client may send (the pipeline uses the last ones)
MAX_LIST = 10_000  # documents per page of GET /api/documents
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "qa_token"
WEB_FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
             "app.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
# The page loads its own script and style only; nothing inline runs, nothing else is fetched.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class NotReady(Exception):
    """No index yet: the first one is being built, or building it failed."""


# -- the open index, kept up to date -----------------------------------------------------------------
class Service:
    """The open `QA` of one corpus: opened in the background (requests get 503 until then),
    opened again when the corpus changes, and swapped whole. A request keeps the QA it started
    with, so none fails or sees half an index; the previous one serves until the new one is
    complete, and stays when building the new one fails.

    `open_qa(progress, notice)` builds a warmed-up QA (tests inject their own)."""

    def __init__(self, corpus: str | Path, store=None, config: Config | None = None, *, watch: bool = True,
                 open_qa: Callable | None = None, workers: int | None = None):
        self.corpus = Path(corpus)
        self.location = parse_location(store, self.corpus)
        self.config = config or Config.from_env()
        self.watch = watch
        self._open_qa = open_qa or self._open
        self.qa: QA | None = None
        self.error: str | None = None
        self.status = "starting"
        self.indexing = False
        self.generation = 0  # index generations swapped in since the start
        self.checks = 0  # times the folder was read against the store (each start and change)
        self.updated: float | None = None
        self.notices: list[str] = []
        # questions run here, not on the event loop: the page stays responsive while one is read
        self.pool = ThreadPoolExecutor(max_workers=workers or max(1, os.cpu_count() or 1), thread_name_prefix="qa-ask")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._threads: list[threading.Thread] = []

    def _open(self, progress, notice) -> QA:
        qa = QA(self.corpus, self.location, self.config, progress=progress, notice=notice)
        qa.warm_up()
        return qa

    # lifecycle
    def start(self) -> "Service":
        self._wake.set()
        self._spawn(self._run, "qa-indexer")
        if self.watch and self.corpus.is_dir():
            self._spawn(self._watch, "qa-watch")
        return self

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once a first index is open (or opening it failed: see `error`)."""
        return self._ready.wait(timeout)

    def refresh(self) -> None:
        """Bring the index up to date with the corpus soon (in the background)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wake.wait(0.5):
                continue
            self._wake.clear()
            if not self._stop.is_set():
                self._load()

    def _load(self) -> None:
        self.indexing = True
        self.status = "reading the corpus…"
        try:
            qa = self._open_qa(_Progress(self), self._notice)
        except Exception as e:  # noqa: BLE001 - kept for /api/status; the previous index stays
            self.error = error_line(e)
            self._notice(f"indexing failed: {self.error}")
        else:
            s = getattr(qa.index, "stats", None)
            changed = self.qa is None or s is None or bool(s.embedded_files or s.removed_files or s.resumed_files
                                                             or s.rebuilt_reason)
            if changed:
                self.qa, self.generation, self.updated = qa, self.generation + 1, time.time()
            self.error = None
        finally:
            self.indexing = False
            self.status = "ready" if self.qa is not None else "no index"
            self.checks += 1
            self._ready.set()

    def _watch(self) -> None:
        try:
            import watchfiles
        except ImportError:
            self._notice("watchfiles is not installed: the folder is checked every 10 s instead "
                         "(pip install -c constraints.txt -e '.[serve]')")
            return self._poll()
        store = self.location.path.resolve() if self.location.path is not None else None

        def relevant(_change, path: str) -> bool:  # the store may live inside the corpus
            return store is None or not Path(path).resolve().is_relative_to(store)

        try:
            for _ in watchfiles.watch(self.corpus, watch_filter=relevant, stop_event=self._stop,
                                      raise_interrupt=False, debounce=800, step=100):
                self.refresh()
        except Exception as e:  # noqa: BLE001 - a folder that vanished, too many watches: say so, poll
            self._notice(f"watching {self.corpus} stopped ({error_line(e)}); checking every 10 s")
            self._poll()

    def _poll(self, every: float = 10.0) -> None:
        """Without file events: bring the index up to date every `every` seconds until stopped."""
        while not self._stop.wait(every):
            self.refresh()

    def _notice(self, text: str) -> None:
        self.notices = (self.notices + [" ".join(str(text).split())])[-5:]

    # what the API reads
    def current(self) -> QA:
        qa = self.qa
        if qa is None:
            raise NotReady(f"the index is not ready: {self.error}" if self.error and not self.indexing
                           else f"the index is being built ({self.status}); try again shortly")
        return qa

    def ask(self, question: str, history: list[Turn], top_k: int | None) -> dict:
        return self.current().ask(question, top_k=top_k, history=history).to_dict()

    def documents(self, offset: int, limit: int) -> dict:
        index = self.current().index
        n = len(index.documents)
        rows = [_doc_summary(index.documents[i]) for i in range(min(offset, n), min(offset + limit, n))]
        return {"total": n, "offset": offset, "documents": rows}

    def document(self, name: str) -> dict | None:
        doc = self.current().index.document(name)
        if doc is None:
            return None
        return {**_doc_summary(doc), "author": doc.author,
                "paragraphs": [{"paragraph": p.paragraph, "text": p.text, "kind": p.kind,
                                "answerable": p.answerable, "page": p.page, "section": p.section}
                               for p in doc.paragraphs]}

    def state(self) -> dict:
        qa = self.qa
        out = {"corpus": self.corpus.name or str(self.corpus), "ready": qa is not None, "indexing": self.indexing,
               "status": self.status, "error": self.error, "generation": self.generation,
               "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.updated)) if self.updated else None,
               "notices": list(self.notices), "version": __version__, "model": self.config.model,
               "answerer": self.config.answerer, "documents": None, "paragraphs": None}
        if qa is not None:
            out.update(documents=len(qa.index.documents), paragraphs=len(qa.index.paragraphs),
                       reader=type(getattr(qa.reader, "inner", qa.reader)).__name__)
        return out


class _Progress:
    """The indexer's progress, as the service's status line."""

    def __init__(self, service: Service):
        self.service = service

    def __call__(self, done: int, total: int) -> None:
        self.service.status = f"indexing {done}/{total} ({100 * done // max(total, 1)}%)"

    def phase(self, text: str) -> None:
        self.service.status = f"{text}…"


def _doc_summary(doc) -> dict:
    suffix = Path(doc.doc).suffix.lower().lstrip(".")
    return {"doc": doc.doc, "title": doc.title, "date": doc.date, "outlet": doc.outlet,
            "format": suffix or "text", "paragraphs": len(doc.paragraphs)}


# -- the API -------------------------------------------------------------------------------------------
class TurnIn(BaseModel):
    """An earlier turn as the page keeps it: its question and what its answer named."""
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    named: str = Field("", max_length=500)


class AskIn(BaseModel):
    question: str = Field(description=f"at most {MAX_QUESTION_CHARS} characters")
    history: List[TurnIn] = Field(default_factory=list, max_length=MAX_HISTORY,
                                  description="earlier turns, oldest first, for follow-up questions")
    top_k: Optional[int] = Field(None, ge=1, le=MAX_TOP_K, description="paragraphs to read")


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _web_files() -> dict[str, bytes]:
    """The page's files, read once from the package: requests name a key of this dict, never a path."""
    root = resources.files("qa") / "web"
    return {name: (root / name).read_bytes() for name in WEB_FILES}


def create_app(service: Service, *, token: str = "", allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS,
               cors_origins: tuple[str, ...] = ()) -> FastAPI:
    """The ASGI app over `service`. `allowed_hosts`: the Host names requests may be addressed to
    (None: any, for a server behind a token); `token`: what every request must carry."""
    app = FastAPI(title="qa", version=__version__, docs_url=None, redoc_url=None,  # those pages use a CDN
                  description="Answers quoted from a folder of documents, with exact citations.")
    web = _web_files()
    token_bytes = token.encode("utf-8")
    hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    def authorised(request: Request) -> bool:
        given = ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        given = given or request.cookies.get(TOKEN_COOKIE, "") or request.query_params.get("token", "")
        return hmac.compare_digest(given.encode("utf-8"), token_bytes)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if hosts is not None:
            host = request.headers.get("host", "")
            name = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0] if ":" in host else host
            if name.lower() not in hosts:
                return _error(400, f"this server answers requests to {', '.join(sorted(hosts))} only")
        if token and not authorised(request):
            return _error(401, "this server needs its token: open the address with ?token=... or send "
                               "'Authorization: Bearer ...'", {"WWW-Authenticate": "Bearer"})
        if request.method in ("POST", "PUT", "PATCH"):
            length = request.headers.get("content-length")
            if length is None:
                return _error(411, "a request body needs a Content-Length")
            if not length.isdigit() or int(length) > MAX_BODY:
                return _error(413, f"request body too large (the limit is {MAX_BODY:,} bytes)")
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        if token and request.query_params.get("token") and request.url.path == "/":
            # the page's own requests then carry the token without the page's script holding it
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
        return response

    if cors_origins:
        from starlette.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body") or "body"
        return _error(400, f"{where}: {first.get('msg', 'invalid request')}".replace("\n", " "))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException):
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(QAError)
    async def qa_error(_request: Request, exc: QAError):
        return _error(400, error_line(exc))

    @app.exception_handler(NotReady)
    async def not_ready(_request: Request, exc: NotReady):
        return _error(503, str(exc), {"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def internal(_request: Request, exc: Exception):
        return _error(500, f"internal error: {error_line(exc)}")

    async def in_pool(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(service.pool, fn, *args)

    @app.post("/api/ask", summary="Answer a question", response_description="`qa ask --json`'s answer")
    async def ask(body: AskIn) -> dict:
        """The same JSON as `qa ask --json` (`Answer.to_dict()`), abstentions included
        (`abstained: true`, with the nearest `passages`). `named` is what a follow-up's pronoun
        may refer to: send it back in `history`."""
        turns = [Turn(t.question, t.named) for t in body.history]
        return await in_pool(service.ask, body.question, turns, body.top_k)

    @app.get("/api/documents", summary="The indexed documents")
    async def documents(offset: int = 0, limit: int = 1000) -> dict:
        if offset < 0 or not 1 <= limit <= MAX_LIST:
            raise QAError(f"offset must be at least 0 and limit 1 to {MAX_LIST:,}")
        return await in_pool(service.documents, offset, limit)

    @app.get("/api/documents/{doc:path}", summary="One document's paragraphs")
    async def document(doc: str) -> dict:
        """`doc` is a document's name as citations give it (its path in the corpus); the paragraphs
        come with their page or section, so a client can show a citation in place."""
        found = await in_pool(service.document, doc)
        if found is None:
            raise HTTPException(404, f"no document {doc[:200]!r} in the index")
        return found

    @app.get("/api/status", summary="What is served")
    async def status() -> dict:
        return service.state()

    def page(name: str) -> Response:
        return Response(web[name], media_type=WEB_FILES[name],
                        headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    async def index_page():
        return page("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        if name not in web or name == "index.html":
            raise HTTPException(404, "not found")
        return page(name)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return page("favicon.svg")

    return app


# -- `qa serve` ------------------------------------------------------------------------------------------
def serve(corpus: str | Path, store=None, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          watch: bool = True, cors_origins: tuple[str, ...] = (), config: Config | None = None,
          out=sys.stderr) -> int:
    """Run the server until Ctrl-C. Bad settings raise QAError (one line) before anything loads."""
    try:
        import uvicorn
    except ImportError:
        raise QAError("qa serve needs the serve extra: pip install -c constraints.txt -e '.[serve]'") from None
    config = config or Config.from_env()
    token = token if token is not None else config.serve_token
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise QAError(f"corpus folder not found: {corpus}")
    local = is_loopback(host)
    if not local and not token:
        raise QAError(f"--host {host} is reachable from other machines: give a --token "
                      "(or set QA_SERVE_TOKEN) that every request must carry")
    if token and len(token) < 16:
        raise QAError("the token is too short: use at least 16 characters (python -c \"import secrets; "
                      "print(secrets.token_urlsafe())\")")
    sock = _bind(host, port)
    service = Service(corpus, store, config, watch=watch).start()
    app = create_app(service, token=token or "", allowed_hosts=LOOPBACK_HOSTS if local else None,
                     cors_origins=cors_origins)
    shown = f"[{host}]" if ":" in host else host
    bound = sock.getsockname()[1]
    print(f"qa: serving {corpus} at http://{shown}:{bound}/" + ("?token=…" if token else "")
          + " (Ctrl-C to stop)", file=out, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        service.stop()
        sock.close()
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so that a busy port is one line, not a log."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise QAError(f"--host {host}: {e.strerror}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as e:
        sock.close()
        reason = "in use" if e.errno in (98, 48) else e.strerror
        raise QAError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
