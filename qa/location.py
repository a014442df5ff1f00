"""Where a corpus' store lives, decided once: `parse_location` -> `StoreLocation`.

A store is a local folder (qa/store: given, or the corpus' default from `config.default_store_for`)
or a Milvus collection (qa/milvus.py: milvus://[user:password@]host:port/collection, or a
milvus-lite `.db` file), which keeps the corpus' default local store beside it as its cache.
`check_location` is the command line's check of a --store before anything loads.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import default_store_for
from .errors import QAError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


@dataclass(frozen=True)
class StoreLocation:
    """Where the store of `corpus` lives: `kind` "local" (the folder `path`) or "milvus" (the
    collection `uri`, as given, with its local cache in `path`)."""

    kind: str
    path: Path
    corpus: Path
    uri: str | None = None

    @property
    def key(self) -> str:
        """The same for two locations of the same store."""
        return self.uri if self.kind == "milvus" else str(self.path.resolve())


def is_milvus(store) -> bool:
    """True for a store string that names Milvus (a milvus:// URL or a milvus-lite .db file)."""
    if store is None:
        return False
    text = str(store)
    return text.startswith("milvus://") or text.endswith(".db")


def parse_location(store: str | os.PathLike | StoreLocation | None, corpus: str | os.PathLike) -> StoreLocation:
    """The location of the store of `corpus`: `store` names a Milvus collection (its URL checked:
    QAError in one line when malformed) or a local folder; None (or "") is the corpus' default
    folder. A StoreLocation is already parsed and comes back as it is."""
    if isinstance(store, StoreLocation):
        return store
    root = Path(corpus).expanduser()
    if is_milvus(store):
        parse_target(str(store))
        return StoreLocation("milvus", default_store_for(root), root, str(store))
    return StoreLocation("local", Path(store) if store else default_store_for(root), root)


def check_location(store: str | os.PathLike, corpus: str | os.PathLike | None = None) -> None:
    """QAError (one line) for a --store that cannot be a store: a malformed Milvus target, a
    URL of another kind (no other remote stores), an existing file, a path through a file, or a
    folder inside the corpus that the corpus reader would walk (a hidden folder there is fine:
    hidden folders are never read)."""
    text = os.fspath(store)
    if is_milvus(text):
        parse_target(text)
        return
    if re.match(r"^[A-Za-z][\w+.-]*://", text):
        scheme = text.split("://", 1)[0]
        raise QAError(f"--store {text}: {scheme}:// stores are not supported yet; give a local folder")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise QAError(f"--store {text} is a file, not a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise QAError(f"--store {text}: {parent} is a file, not a folder")
            break
    if corpus is not None:
        root = Path(corpus).expanduser().resolve()
        try:
            inside = path.resolve().relative_to(root)
        except ValueError:
            inside = None
        if inside is not None and not any(part.startswith(".") for part in inside.parts):
            raise QAError(f"--store {text} is inside the corpus folder {root}: use a folder outside "
                          f"it, or a hidden one such as {root / '.qa-store'}")


# -- Milvus targets --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    uri: str  # what MilvusClient takes: http://host:port, or the milvus-lite path
    collection: str
    token: str = field(default="", repr=False)
    lite: bool = False

    @property
    def shown(self) -> str:
        """The target for messages: never the password."""
        return f"{self.uri} collection {self.collection}"


def parse_target(store: str, token: str = "") -> Target:
    """A Target, or QAError (one line) for a malformed one. `token` ("user:password") comes from
    QA_MILVUS_TOKEN when the URL carries no credentials."""
    text = str(store)
    if not text.startswith("milvus://"):
        path = Path(text).expanduser()
        if path.exists() and not (path.is_dir() or path.is_file()):
            raise QAError(f"--store {text}: not a milvus-lite database")
        if not path.parent.is_dir():
            raise QAError(f"--store {text}: folder {path.parent} does not exist")
        return Target(str(path.resolve()), "qa", "", lite=True)
    parts = urlsplit(text)
    try:
        port = parts.port or 19530
    except ValueError:
        raise QAError(f"--store {hide_password(text)}: the port is not a number") from None
    host = parts.hostname
    collection = parts.path.strip("/")
    if not host:
        raise QAError(f"--store {hide_password(text)}: no host; use milvus://host:19530/collection")
    if not collection:
        raise QAError(f"--store {hide_password(text)}: no collection; use milvus://{host}:{port}/collection")
    if not _NAME.match(collection):
        raise QAError(f"--store {hide_password(text)}: collection names are letters, digits and _, "
                      f"not starting with a digit")
    if parts.username:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return Target(f"http://{host}:{port}", collection, token)


def hide_password(text: str) -> str:
    """A milvus:// URL with its password masked, for messages."""
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", text)
