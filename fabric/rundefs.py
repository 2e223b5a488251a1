"""Run definitions: ``tasks/NAME.yaml`` names a workflow and its default options.

Example (``tasks/deploy.yaml``)::

    description: Push the intent to switches and the cluster, gated by health checks.
    workflow: deploy
    options:
      commit: false
      revert_in: 300
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from fabric import safeyaml, userfiles
from fabric.errors import UsageError
from fabric.paths import ProjectPaths


class RunDefinition(BaseModel):
    """One run definition."""

    model_config = ConfigDict(extra="forbid")

    workflow: str
    description: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    file: str = ""


def list_run_definitions(paths: ProjectPaths | None = None) -> list[str]:
    """Names of every ``tasks/*.yaml``: the project's and the shipped ones."""
    return [
        n.removesuffix(".yaml") for n in (paths or ProjectPaths.discover()).names("tasks", "*.yaml")
    ]


#: Longest file name most file systems accept (bytes), ``.yaml`` included.
_NAME_MAX = 255


def _check_name(name: str) -> None:
    """Refuse a run name no file in ``tasks/`` can have (before the file system does).

    Raises:
        UsageError: a NUL byte, or a part longer than a file name may be.
    """
    shown = name if len(name) <= 60 else name[:60] + "..."
    if "\x00" in name:
        raise UsageError(f"run {shown!r}: not a run definition name (it holds a NUL byte)")
    if any(len(part.encode("utf-8", "replace")) + 5 > _NAME_MAX for part in name.split("/")):
        raise UsageError(
            f"run {shown!r}: the name is too long for a file in tasks/ "
            f"(at most {_NAME_MAX - 5} bytes)"
        )


def load_run_definition(name: str, paths: ProjectPaths | None = None) -> RunDefinition:
    """Load ``tasks/NAME.yaml``.

    Raises:
        UsageError: the file does not exist or is malformed (naming the file and field).
    """
    paths = paths or ProjectPaths.discover()
    _check_name(name)
    try:
        f: Path = paths.find("tasks", f"{name}.yaml")
    except UsageError:
        known = ", ".join(list_run_definitions(paths)) or "none"
        rel = paths.rel(paths.tasks / f"{name}.yaml")
        raise UsageError(f"{rel}: no such run definition (known: {known})") from None
    rel = paths.rel(f)
    data = safeyaml.load(userfiles.read_text(f, "a run definition (YAML)", label=rel), rel) or {}
    if not isinstance(data, dict):
        raise UsageError(f"{rel}: expected a mapping (workflow, description, options)")
    try:
        return RunDefinition.model_validate({**data, "file": rel})
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise UsageError(f"{rel}: field {loc}: {err['msg']}") from exc
