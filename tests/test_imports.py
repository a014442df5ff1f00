"""No import circles inside qa/: every module's imports of other qa modules form a DAG.

Imports anywhere in a module count: at module level, inside functions, and under
`if TYPE_CHECKING:` (a circle there still ties two stages together, even when Python
can load it). Read with `ast`, nothing is imported.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qa

pytestmark = pytest.mark.unit

PKG = Path(qa.__file__).resolve().parent
NAME = "qa"


def modules() -> dict[str, Path]:
    """Dotted name -> file for every module of the package (packages by their __init__)."""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        parts = [NAME, *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that `name` imports, wherever in the file the import stands."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()

    def add(target: str) -> None:
        # the longest known module that `target` names (qa.a.b.Class -> qa.a.b)
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == NAME or alias.name.startswith(NAME + "."):
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not (module == NAME or module.startswith(NAME + ".")):
                continue
            for alias in node.names:  # `from . import ner` imports the module qa.ner
                sub = f"{module}.{alias.name}"
                add(sub if sub in known else module)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_reader_of_imports_sees_every_kind_of_import():
    g = graph()
    assert "qa.config" in g["qa.embed"]  # module level, relative
    assert "qa.pipeline" in g["qa.cli"]  # inside a function
    assert "qa.ner" in g["qa.scoring"]  # `from . import ner`
    assert "qa.pipeline" in g["qa"]  # the package's lazy __getattr__
    assert "qa.index" in g["qa.render"]  # under TYPE_CHECKING
    assert {"qa.cli", "qa.evaluate", "qa.config"} <= set(g)


def test_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    found = cycles(graph())
    assert not found, "import circles in qa/: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_library_does_not_import_the_front_ends():
    """cli, chat and ui own the screen; nothing below them imports them."""
    g = graph()
    front = {"qa.cli", "qa.chat", "qa.ui", "qa.__main__"}
    for name, deps in g.items():
        if name not in front:
            assert not deps & front, f"{name} imports {sorted(deps & front)}"


# -- the layering: data flows one way ------------------------------------------------------------------
# Lowest first. A module may import modules of lower levels, and of its own level only within its
# own group: the parser, the store and the embedder know nothing of each other, and none of them
# knows an index, a reader or a front end. A new module must be placed here.
LAYERS: dict[str, tuple[int, str]] = {}
for level, groups in enumerate([
    {"base": ["errors", "types", "text", "inline", "metrics", "extract", "sentences", "document", "seen", "ann",
              "weights", "config", "questions", "citations", "ui"]},
    {"parse": ["convert", "convert_pdf", "convert_html", "convert_docx", "markdown", "corpus"],
     "store": ["lexical", "store", "store.format", "store.segments", "store.generations", "store.vectors"],
     "embed": ["backend", "embed"]},
    {"open": ["index", "location"]},
    {"build": ["indexer"]},
    {"retrieve": ["retrieve", "milvus"]},
    {"read": ["ner", "scoring", "spans", "rules", "reader", "byline"]},
    {"pipeline": ["pipeline"]},
    {"use": ["conversation", "evaluate"]},
    {"front": ["render", "chat", "serve", "cli", "__main__", ""]},
]):
    for group, names in groups.items():
        for n in names:
            LAYERS[f"{NAME}.{n}" if n else NAME] = (level, group)


def test_every_module_has_a_place_in_the_layers():
    missing = sorted(set(graph()) - set(LAYERS))
    assert not missing, f"place these modules in LAYERS (tests/test_imports.py): {missing}"


def test_imports_only_go_down_the_layers():
    bad = []
    for name, deps in graph().items():
        level, group = LAYERS[name]
        for d in deps:
            dl, dg = LAYERS[d]
            if dl > level or (dl == level and dg != group):
                bad.append(f"{name} ({group}) imports {d} ({dg})")
    assert not bad, "imports against the layering: " + "; ".join(sorted(bad))


def test_the_store_knows_nothing_of_the_parser():
    g = graph()
    store = [n for n in g if LAYERS[n][1] == "store"]
    for n in store:
        assert not g[n] & {f"{NAME}.corpus", f"{NAME}.convert"}, n


def _private_names(tree: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store):
            out.add(n.attr)
    return {x for x in out if x.startswith("_") and not x.startswith("__")}


def test_no_module_reaches_a_private_name_of_another():
    """`from .x import _y`, or `obj._y` where only another module of the package defines `_y`."""
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in modules().items()}
    own = {name: _private_names(t) for name, t in trees.items()}
    everywhere = set().union(*own.values())
    bad = []
    for name, tree in trees.items():
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom) and (n.level or (n.module or "").startswith(NAME)):
                bad += [f"{name}:{n.lineno} imports {a.name}" for a in n.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
            elif isinstance(n, ast.Attribute) and n.attr in everywhere and n.attr not in own[name]:
                bad.append(f"{name}:{n.lineno} uses {ast.unparse(n)}")
    assert not bad, "; ".join(bad)


def test_only_config_reads_the_qa_environment():
    """Settings come through `Config` (`Config.from_env`); no other module reads a QA_* variable."""
    bad = []
    for name, path in modules().items():
        if name == f"{NAME}.config":
            continue
        text = path.read_text(encoding="utf-8")
        if "env_value" in text or "env_overrides" in text:
            bad.append(f"{name} calls config's environment readers")
        for n in ast.walk(ast.parse(text)):
            if isinstance(n, ast.Call) and any(w in ast.unparse(n.func) for w in ("environ", "getenv")):
                args = n.args
            elif isinstance(n, ast.Subscript) and "environ" in ast.unparse(n.value):
                args = [n.slice]
            else:
                continue
            bad += [f"{name}:{n.lineno} reads {a.value}" for a in args
                    if isinstance(a, ast.Constant) and str(a.value).startswith("QA_")]
    assert not bad, "; ".join(bad)
