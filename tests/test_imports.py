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
