"""``python -m fabric init DIR``: a new project folder to edit.

It holds an inventory skeleton with comments (one rack: a ToR, two nodes, the cluster) and a
copy of the shipped run definitions (``tasks/``), the files an operator edits first.
Templates and parsers are not copied: the shipped ones are used until the project holds its
own file of the same name (see docs/architecture.md, "Project folders and defaults").
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fabric.errors import UsageError
from fabric.paths import packaged_defaults

_SKELETON = Path(__file__).resolve().parent
INVENTORY_FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")


def init_project(dest: Path) -> list[Path]:
    """Write a new project into ``dest`` (created if missing); the files written.

    Raises:
        UsageError: ``dest`` is a file, or already holds an inventory or run definitions
            (nothing is overwritten).
    """
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest}: not a folder")
    tasks = sorted((packaged_defaults() / "tasks").glob("*.yaml"))
    planned = [dest / "inventory" / f for f in INVENTORY_FILES]
    planned += [dest / "tasks" / t.name for t in tasks]
    taken = [p for p in planned if p.exists()]
    if taken:
        raise UsageError(f"{taken[0]}: already exists (init never overwrites; pick a new folder)")
    written: list[Path] = []
    for name in INVENTORY_FILES:
        target = dest / "inventory" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_SKELETON / name, target)
        written.append(target)
    for t in tasks:
        target = dest / "tasks" / t.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(t, target)
        written.append(target)
    return written
