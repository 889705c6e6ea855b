"""The layering rules of docs/architecture.md, read from the source with `ast`.

Every import counts: module level, inside functions and under ``TYPE_CHECKING``, so a
cycle can't hide behind a deferred import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("metrics", "vision", "models", "backcheck")
# What each layer may not import (first-party packages and heavy third-party ones).
FORBIDDEN = {
    "metrics": {"vision", "models", "backcheck", "cv2", "av", "mediapipe", "streamlit"},
    "models": {"vision", "backcheck", "cv2", "av", "streamlit"},
    "vision": {"backcheck", "streamlit"},
}


def _modules() -> dict[str, Path]:
    """Dotted name → file for every first-party module (and app.py)."""
    found = {"app": REPO / "app.py"}
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported dotted name, line) for every import statement anywhere in the file."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"  # `from pkg import module`
                out.append((full if full in MODULES else module, node.lineno))
    return out


def _first_party(imported: str) -> str | None:
    """The first-party module an import resolves to (the longest known prefix)."""
    while imported and imported not in MODULES:
        imported = imported.rpartition(".")[0]
    return imported or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps = {_first_party(m) for m, _ in _imports(name, path)}
        graph[name] = {d for d in deps if d is not None and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_import_graph_has_no_cycles() -> None:
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_it_must_not(layer: str) -> None:
    bad = []
    for name, path in MODULES.items():
        if name.split(".")[0] != layer:
            continue
        for imported, line in _imports(name, path):
            if imported.split(".")[0] in FORBIDDEN[layer]:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {imported}")
    assert bad == []


def test_the_checks_see_a_cycle_and_every_kind_of_import(tmp_path: Path) -> None:
    """The test's own reading: imports in functions and under TYPE_CHECKING count, and a
    cycle of three modules is found."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from metrics.analysis import TrackAnalysis\n"
        "def f():\n"
        "    import vision.video\n"
        "    from . import cues\n",
        encoding="utf-8",
    )
    found = {m for m, _ in _imports("metrics.probe", source)}
    assert {"metrics.analysis", "vision.video", "metrics.cues"} <= found
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
