"""The package's shape: no import cycle between its folders or its modules, and importing any module has no side
effect (no file or folder created, no environment read that could fail, no app built).

How the graph is drawn: every ``import``/``from`` statement of every module under ``streams/`` (module level and
inside functions alike: a lazy import is still an arrow), resolved to the project module it names. A folder's
node is the folder (``streams.rules`` for ``streams/rules/flows/base.py`` too: ``flows`` lives in ``rules``); the
top-level modules (``settings``, ``errors``, ``cli``, ``summary``) are nodes of their own.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import streams

PACKAGE = Path(streams.__file__).resolve().parent
ROOT = PACKAGE.parent


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = dict(_modules())


def _imports(name: str, path: Path) -> set[str]:
    """Project modules ``name`` imports (``from a import b`` counts as ``a.b`` when that is a module)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[:len(package.split(".")) - node.level + 1], base]).strip(".")
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _folder(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle's nodes, found by depth-first search (one path per back edge)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycle_between_folders() -> None:
    folders: dict[str, set[str]] = {}
    for module, imported in GRAPH.items():
        here = _folder(module)
        folders.setdefault(here, set()).update(_folder(m) for m in imported if _folder(m) != here)
    folders.pop("streams", None)  # the root package: its version constants import nothing
    assert _cycles(folders) == []


def test_no_import_cycle_between_modules() -> None:
    without_packages = {m: {i for i in deps if MODULES[i].name != "__init__.py"} for m, deps in GRAPH.items()}
    assert _cycles(without_packages) == []


def test_go_semantics_sit_under_everything() -> None:
    """``gocompat`` imports nothing of the project's, and the functional core never imports the shell."""
    for module, imported in GRAPH.items():
        if module.startswith("streams.gocompat"):
            assert {m for m in imported if not m.startswith("streams.gocompat")} == set(), module
        if module.startswith(("streams.rules", "streams.doj", "streams.gocompat")):
            shell = {m for m in imported if m.startswith(("streams.worker", "streams.tools", "streams.kafka",
                                                           "streams.offline", "streams.cli", "streams.settings"))}
            assert shell == set(), module


def test_the_graph_sees_imports() -> None:
    assert "streams.rules.flows.base" in GRAPH["streams.rules.flows.registry"]
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]


def test_importing_any_module_creates_nothing(tmp_path: Path) -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    if name != 'streams.__main__':\n"
        "        importlib.import_module(name)\n"
        "import streams.worker.app as app_module\n"
        "assert '_built' in vars(app_module) and not app_module._built, 'the faust app was built at import'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARANCE_")}
    env["PYTHONPATH"] = str(ROOT)
    env["CLEARANCE_PARTITIONS"] = "not a number"  # read at import time, this would fail
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True)
    assert list(tmp_path.iterdir()) == []
