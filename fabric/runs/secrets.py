"""Secret references (``env:VAR``, ``file:PATH``), resolved only when a run needs the value."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from fabric.errors import UsageError

if TYPE_CHECKING:
    from fabric.models.intent import Intent
    from fabric.steps.render import CalicoObject


def resolve_secret(ref: str) -> str:
    """The value of a secret reference (``env:VAR`` or ``file:PATH``).

    An environment variable set to the empty string counts as unset.

    Raises:
        UsageError: the variable is unset or the file unreadable (the message names the
            reference, never a value).
    """
    kind, _, where = ref.partition(":")
    if kind == "env":
        value = os.environ.get(where)
        if not value:
            raise UsageError(f"secret {ref}: environment variable {where} is not set")
        return value
    if kind == "file":
        try:
            return Path(where).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise UsageError(f"secret {ref}: cannot read the file: {why}") from exc
    raise UsageError(f"secret {ref}: unknown reference kind (env:VAR or file:PATH)")


def password_secret(intent: Intent, objects: list[CalicoObject]) -> CalicoObject | None:
    """The BGP password Secret the selected ``BGPPeer`` objects need, or None.

    One key per peer of the whole intent that has a ``password_ref`` (the Secret is one
    object: a ``--limit`` run must not drop the keys of peers it does not select), value
    resolved now. None when no selected peer references a password.

    Raises:
        UsageError: a reference cannot be resolved.
    """
    from fabric.steps.calico import secret_object

    peers = list(intent.cluster.calico.peers) + [p for n in intent.nodes for p in n.peers]
    refs = {p.name: p.password_ref for p in peers if p.password_ref}
    if not any(o.kind == "BGPPeer" and o.name in refs for o in objects):
        return None
    values = {name: resolve_secret(ref) for name, ref in refs.items()}
    return secret_object(intent.cluster.name, values)
