"""Where the operator-edited data lives: inventory/, templates/, parsers/, tasks/ and state."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _find_root(start: Path) -> Path:
    """Walk up from ``start`` to the first folder holding ``inventory/hosts.yaml``."""
    for candidate in (start, *start.parents):
        if (candidate / "inventory" / "hosts.yaml").is_file():
            return candidate
    # Fall back to the checkout this package lives in (running from another cwd).
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ProjectPaths:
    """The folders of one project checkout (or of a copy an operator keeps elsewhere).

    Attributes:
        root: the project root; ``FABRIC_ROOT`` overrides discovery from the cwd.
        inventory: Nornir SimpleInventory folder (hosts.yaml, groups.yaml, defaults.yaml).
        templates: Jinja2 templates (``calico/``, ``arista_eos/``).
        parsers: TTP templates (``<platform>/<command>.ttp``).
        tasks: run definitions (``NAME.yaml``).
        state: runtime state (snapshots DB, lab directory, locks); never committed.
    """

    root: Path
    inventory: Path
    templates: Path
    parsers: Path
    tasks: Path
    state: Path

    @classmethod
    def discover(cls, root: Path | None = None, inventory: Path | None = None) -> ProjectPaths:
        """Build the paths from an explicit root, ``FABRIC_ROOT``, or the current directory."""
        if root is None:
            env = os.environ.get("FABRIC_ROOT")
            root = Path(env) if env else _find_root(Path.cwd())
        root = root.resolve()
        return cls(
            root=root,
            inventory=(inventory or root / "inventory").resolve(),
            templates=root / "templates",
            parsers=root / "parsers",
            tasks=root / "tasks",
            state=Path(os.environ.get("FABRIC_STATE_DIR", root / ".fabric")).resolve(),
        )

    def rel(self, path: Path) -> str:
        """``path`` relative to the root when inside it (for messages), else absolute."""
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)
