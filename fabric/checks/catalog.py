"""The check catalog: which checks run, with which inputs (ANTA's catalog, typed).

A catalog is a list; each item names one registered check and its inputs::

    - VerifySwitchBgpNeighbors: {check_prefixes: true}
    - VerifySwitchRoutes:               # no inputs: the defaults
    - VerifyIntentLint:
        overrides: {asn-reserved: ignore}

An unknown check or input is a :class:`~fabric.errors.UsageError` naming the file, the entry
and the field. So is an empty list: a catalog that runs nothing would pass every time, and a
CI gate built on it could never fail (leave ``checks`` out to run every check).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from fabric.checks.base import REGISTRY, Check
from fabric.errors import UsageError


def load_catalog(entries: Any, source: str = "catalog") -> list[Check[Any]]:
    """Instantiate the checks of a catalog.

    Args:
        entries: the parsed YAML list (None: every registered check with default inputs).
        source: where the catalog comes from, for messages (e.g. ``tasks/compliance.yaml``).

    Raises:
        UsageError: the list is empty, an entry is malformed, names an unknown check, or
            has invalid inputs.
    """
    if entries is None:
        return [cls() for cls in REGISTRY.values()]
    if not isinstance(entries, list):
        raise UsageError(f"{source}: field checks: must be a list of {{CheckName: inputs}}")
    if not entries:
        raise UsageError(
            f"{source}: field checks: an empty catalog runs nothing, so it could never fail: "
            "list at least one check (or leave checks out to run every check)"
        )
    out: list[Check[Any]] = []
    for n, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {entry: None}
        if not isinstance(entry, dict) or len(entry) != 1:
            raise UsageError(f"{source}: field checks.{n}: must be one {{CheckName: inputs}}")
        ((name, inputs),) = entry.items()
        cls = REGISTRY.get(str(name))
        if cls is None:
            known = ", ".join(sorted(REGISTRY))
            raise UsageError(f"{source}: field checks.{n}: unknown check {name!r} (known: {known})")
        try:
            out.append(cls(cls.Input.model_validate(inputs or {})))
        except PydanticValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            msg = "unknown input" if err["type"] == "extra_forbidden" else err["msg"]
            raise UsageError(f"{source}: field checks.{n}.{name}.{loc}: {msg}") from exc
    return out
