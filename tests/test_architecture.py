"""The house reads top to bottom: import direction, no circles, no hidden late imports.

Reads the imports of every module under ``fabric/`` with :mod:`ast` (no project code runs), at
module and function level alike (``TYPE_CHECKING`` blocks excepted: they never execute), and
fails on:

* an import circle between modules (a package re-exporting its own submodules excepted);
* an import against the layering ``cli -> scheduling -> workflows -> runs/checks -> steps ->
  parsing -> models`` (docs/architecture.md);
* the core importing the lab (only ``fabric/cli/lab.py`` and the lab itself may);
* ``importlib.import_module``/``__import__`` outside the CLI's lazy command registry.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "fabric"

#: Layers, top to bottom. A module may import its own package or any layer below it, never a
#: layer above, nor a sibling package of its own layer (checks never import steps: checks
#: judge evidence, steps talk to devices). Modules not listed (errors, paths, inventory,
#: safety, state_db ...) are the base: anyone may import them, and they import only models
#: and each other.
LAYERS: list[tuple[str, ...]] = [
    ("fabric.__main__",),
    ("fabric.cli",),
    ("fabric.scheduling",),
    ("fabric.workflows",),
    ("fabric.runs", "fabric.reports", "fabric.exports"),
    ("fabric.checks", "fabric.steps"),
    ("fabric.parsing",),
    ("fabric.adapters",),
    ("fabric.models",),
]
BASE = ("fabric.errors", "fabric.paths", "fabric.safety", "fabric.process", "fabric.models")


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        mods[".".join(parts)] = p
    return mods


MODULES = _modules()


def _owner(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_pkg:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _imports(module: str, path: Path) -> tuple[set[str], list[str]]:
    """The fabric modules ``module`` imports, and its late imports (import_module calls)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    out: set[str] = set()
    late: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path.name == "__init__.py", node)
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Call):
            fn = ast.unparse(node.func)
            if fn.endswith("import_module") or fn == "__import__":
                late.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        for t in targets:
            owner = _owner(t)
            if owner and owner != module:
                out.add(owner)
    return out, late


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _place(module: str) -> tuple[int, str] | None:
    """The module's layer and its package in that layer (None: a base module)."""
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                return i, p
    return None


def _allowed(src: str, dst: str) -> bool:
    """Whether ``src`` may import ``dst`` (both placed in layers)."""
    s, d = _place(src), _place(dst)
    assert s is not None and d is not None
    return d[0] > s[0] or d[1] == s[1]


def _is_lab(module: str) -> bool:
    return module == "fabric.lab" or module.startswith("fabric.lab.")


def test_no_import_circles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH[v][0]:
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
                circles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    # a package __init__ re-exporting its own submodules is not a circle
    real = [c for c in circles if not all(x == c[0] or x.startswith(c[0] + ".") for x in c)]
    assert real == [], real


def test_imports_go_down_the_layers() -> None:
    wrong = []
    for module, (deps, _late) in GRAPH.items():
        for dep in deps:
            if _is_lab(dep) or _is_lab(module):
                continue
            if _place(module) is None:
                # a base module: only other base modules and models below it
                if _place(dep) is not None and not dep.startswith(BASE):
                    wrong.append(f"{module} (base) imports {dep}")
            elif _place(dep) is not None and not _allowed(module, dep):
                wrong.append(f"{module} imports {dep}, above it or beside it")
    assert wrong == [], "\n".join(sorted(wrong))


def test_the_core_never_imports_the_lab() -> None:
    allowed = {"fabric.cli.lab"}
    wrong = [
        f"{m} imports {d}"
        for m, (deps, _late) in GRAPH.items()
        if not _is_lab(m) and m not in allowed
        for d in deps
        if _is_lab(d)
    ]
    assert wrong == [], wrong


def test_no_late_imports_outside_the_cli_registry() -> None:
    late = [where for m, (_deps, calls) in GRAPH.items() if m != "fabric.cli" for where in calls]
    assert late == [], late


@pytest.mark.parametrize(
    ("src", "dst", "ok"),
    [
        ("fabric.workflows.deploy", "fabric.runs.restore", True),
        ("fabric.runs.restore", "fabric.workflows.deploy", False),
        ("fabric.checks.bgp", "fabric.steps.collect", False),
        ("fabric.cli.deploy", "fabric.scheduling", True),
        ("fabric.workflows.deploy", "fabric.scheduling", False),
        ("fabric.models.observed", "fabric.parsing", False),
        ("fabric.steps.collect.ssh", "fabric.checks.evidence", False),
        ("fabric.runs.collection", "fabric.checks.evidence", True),
        ("fabric.parsing.engine", "fabric.adapters.ttp", True),
    ],
)
def test_the_layer_table_itself(src: str, dst: str, ok: bool) -> None:
    # The rule the test applies, on known pairs: the test cannot pass by judging nothing.
    assert _allowed(src, dst) is ok
