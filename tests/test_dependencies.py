"""pyproject.toml declares exactly what the code imports: the core, and what the lab adds.

Reads every module's imports with :mod:`ast` and maps each top-level module to the
distribution that provides it (``importlib.metadata.packages_distributions``, in this venv).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

#: Declared but not imported by name, and why.
NOT_IMPORTED = {"nornir-napalm": "Nornir loads it as the 'napalm' connection plugin"}
#: Lab modules that belong to the tests, not to the lab extra.
TEST_ONLY = {"fabric/lab/pytest_plugin.py"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {
        _canonical(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0])
        for r in requirements
        if not r.startswith("fabric-netops")
    }


def _imported(files: list[Path]) -> dict[str, set[str]]:
    """Distribution -> the files importing it (third-party imports only)."""
    providers = packages_distributions()
    out: dict[str, set[str]] = {}
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("fabric", "__future__"):
                    continue
                for dist in providers.get(top, [f"<no distribution provides {top}>"]):
                    out.setdefault(_canonical(dist), set()).add(str(f.relative_to(ROOT)))
    return out


def _files(lab: bool) -> list[Path]:
    out = []
    for f in sorted((ROOT / "fabric").rglob("*.py")):
        rel = f.relative_to(ROOT).as_posix()
        in_lab = rel.startswith("fabric/lab/") or rel == "fabric/cli/lab.py"
        if in_lab == lab and rel not in TEST_ONLY:
            out.append(f)
    return out


def test_core_dependencies_are_exactly_what_the_core_imports() -> None:
    declared = _declared(PYPROJECT["project"]["dependencies"])
    imported = _imported(_files(lab=False))
    undeclared = {d: sorted(f)[:3] for d, f in imported.items() if d not in declared}
    assert undeclared == {}, f"imported but not declared: {undeclared}"
    unused = declared - set(imported) - set(NOT_IMPORTED)
    assert unused == set(), f"declared but never imported: {unused}"


def test_the_lab_extra_is_exactly_what_the_lab_adds() -> None:
    core = _declared(PYPROJECT["project"]["dependencies"])
    lab = _declared(PYPROJECT["project"]["optional-dependencies"]["lab"])
    added = {d for d in _imported(_files(lab=True)) if d not in core}
    assert added == lab


def test_lab_extra_check_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from fabric.cli import lab
    from fabric.errors import UsageError

    lab.require_lab_extra()  # installed here: no error
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "aiohttp" else 1)
    with pytest.raises(UsageError, match=r"needs aiohttp.*pip install 'fabric-netops\[lab\]'"):
        lab.require_lab_extra()
