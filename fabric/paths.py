"""Where the operator-edited data lives: inventory/, templates/, parsers/, tasks/ and state.

A project is a folder holding ``inventory/`` (and, optionally, its own ``tasks/``,
``templates/`` and ``parsers/``). The shipped run definitions, templates and parsers are the
defaults: the installed package carries them (``fabric/_defaults/`` in a wheel; a checkout's
own top-level folders otherwise). A file the project holds overrides the default of the same
name, file by file (``templates/arista_eos/bgp.j2`` alone replaces just that template).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fabric.errors import UsageError
from fabric.userfiles import describe_os_error

DataKind = Literal["tasks", "templates", "parsers"]

_PACKAGE = Path(__file__).resolve().parent


def packaged_defaults() -> Path:
    """The folder holding the shipped ``tasks/``, ``templates/`` and ``parsers/``.

    In an installed wheel: ``fabric/_defaults/``. From a checkout (an editable install or the
    source tree): the checkout itself.
    """
    installed = _PACKAGE / "_defaults"
    return installed if installed.is_dir() else _PACKAGE.parent


def _checkout() -> Path | None:
    """The checkout this package runs from, if it does (not an installed wheel)."""
    root = _PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "fabric").is_dir() else None


def env_value(name: str) -> str | None:
    """The environment variable ``name``; unset or empty (``NAME=``) means None.

    Every variable this project reads goes through here or :func:`env_path`: an empty value
    is how shells and CI systems spell "unset", never a value to act on.
    """
    value = os.environ.get(name)
    return value if value else None


def env_path(name: str) -> Path | None:
    """A path from the environment variable ``name``; unset or empty means None."""
    value = env_value(name)
    return Path(value) if value else None


def _resolved(path: Path, what: str) -> Path:
    """``path`` made absolute, symlinks resolved.

    Raises:
        UsageError: a symlink loop, a name too long ... (naming the path and ``what``).
    """
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise UsageError(f"{path}: {describe_os_error(exc)}; expected {what}") from None


def _find_root(start: Path) -> Path:
    """Walk up from ``start`` to the first folder holding ``inventory/hosts.yaml``.

    Without one: this checkout (running its own lab and tests from another folder), else
    ``start`` itself (an installed package used in a new project folder).
    """
    for candidate in (start, *start.parents):
        if (candidate / "inventory" / "hosts.yaml").is_file():
            return candidate
    return _checkout() or start


@dataclass(frozen=True)
class ProjectPaths:
    """The folders of one project (a checkout, or a folder of the operator's own).

    Attributes:
        root: the project root; ``FABRIC_ROOT`` overrides discovery from the cwd.
        inventory: Nornir SimpleInventory folder (hosts.yaml, groups.yaml, defaults.yaml).
        templates: the project's Jinja2 templates (``calico/``, ``arista_eos/``), if any.
        parsers: the project's TTP templates (``<platform>/<command>.ttp``), if any.
        tasks: the project's run definitions (``NAME.yaml``), if any.
        state: runtime state (snapshots DB, lab directory, locks); never committed.
        defaults: the shipped defaults (:func:`packaged_defaults`).
    """

    root: Path
    inventory: Path
    templates: Path
    parsers: Path
    tasks: Path
    state: Path
    defaults: Path = field(default_factory=packaged_defaults)

    @classmethod
    def discover(cls, root: Path | None = None, inventory: Path | None = None) -> ProjectPaths:
        """Build the paths from an explicit root, ``FABRIC_ROOT``, or the current directory."""
        if root is None:
            root = env_path("FABRIC_ROOT") or _find_root(Path.cwd())
        root = _resolved(root, "the project folder")
        return cls(
            root=root,
            inventory=_resolved(inventory or root / "inventory", "the inventory folder"),
            templates=root / "templates",
            parsers=root / "parsers",
            tasks=root / "tasks",
            state=_resolved(env_path("FABRIC_STATE_DIR") or root / ".fabric", "the state folder"),
        )

    def search(self, kind: DataKind) -> tuple[Path, ...]:
        """Where ``kind`` files are looked for, in order: the project's folder, the defaults."""
        own = getattr(self, kind)
        shipped = self.defaults / kind
        return (own,) if own.resolve() == shipped.resolve() else (own, shipped)

    def find(self, kind: DataKind, name: str) -> Path:
        """The file ``name`` of ``kind`` (``arista_eos/bgp.j2`` ...): the project's, else shipped.

        Raises:
            UsageError: neither has it (the message names the file and both folders).
        """
        places = self.search(kind)
        for folder in places:
            candidate = folder / name
            try:
                if candidate.is_file():
                    return candidate
            except (OSError, ValueError) as exc:  # a name too long, a NUL byte ...
                raise UsageError(f"{kind[:-1]} {name}: {describe_os_error(exc)}") from None
        where = " or ".join(str(p) for p in places)
        raise UsageError(f"{kind[:-1]} {name} not found (looked in {where})")

    def names(self, kind: DataKind, pattern: str) -> list[str]:
        """Every file name matching ``pattern`` in the project's folder and the defaults."""
        found = {f.name for folder in self.search(kind) for f in folder.glob(pattern)}
        return sorted(found)

    def rel(self, path: Path) -> str:
        """``path`` relative to the root when inside it (for messages), else absolute."""
        try:
            return str(path.resolve().relative_to(self.root))
        except (ValueError, OSError, RuntimeError):
            return str(path)
