"""One deploy or rollback at a time per inventory.

The lock is an OS file lock (:mod:`filelock`, ``flock`` on POSIX) on
``<state>/locks/deploy-<hash of the inventory path>.lock``: the kernel releases it when the
holder exits, even on SIGKILL, so a crashed deploy never leaves the inventory locked. Next to
it, ``<...>.holder.json`` says who holds it (pid, user, host, run id, since); a second deploy
fails at once with :class:`~fabric.errors.LockHeldError` naming that holder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from fabric.errors import LockHeldError
from fabric.state_db import current_user, utcnow


@dataclass(frozen=True)
class LockHolder:
    """Who holds the inventory lock."""

    pid: int
    user: str
    host: str
    run_id: str
    action: str
    since: str

    def describe(self) -> str:
        """One line for an error message."""
        return (
            f"{self.action} run {self.run_id} by {self.user}@{self.host} "
            f"(pid {self.pid}) since {self.since}"
        )


def lock_path(state: Path, inventory: Path) -> Path:
    """The lock file of ``inventory`` under ``state``."""
    digest = hashlib.sha256(str(inventory.resolve()).encode()).hexdigest()[:12]
    return state / "locks" / f"deploy-{digest}.lock"


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded next to lock file ``path`` (None if unknown or unreadable)."""
    try:
        data = json.loads(path.with_suffix(".holder.json").read_text(encoding="utf-8"))
        return LockHolder(**data)
    except (OSError, ValueError, TypeError):
        return None


@contextlib.contextmanager
def inventory_lock(
    state: Path, inventory: Path, *, run_id: str, action: str = "deploy"
) -> Iterator[LockHolder]:
    """Hold the inventory's deploy lock for the duration of the ``with`` block.

    Args:
        state: the state folder (``ProjectPaths.state``).
        inventory: the inventory folder the lock protects.
        run_id: the run taking the lock (recorded for whoever is refused).
        action: ``deploy`` or ``rollback``.

    Raises:
        LockHeldError: another process (or another run in this one) holds it; names the holder.
    """
    path = lock_path(state, inventory)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        holder = read_holder(path)
        who = holder.describe() if holder else "an unknown process"
        raise LockHeldError(
            f"inventory {inventory} is locked by {who}; wait for it to finish (lock file {path})"
        ) from None
    me = LockHolder(
        pid=os.getpid(),
        user=current_user(),
        host=socket.gethostname(),
        run_id=run_id,
        action=action,
        since=utcnow(),
    )
    holder_file = path.with_suffix(".holder.json")
    try:
        tmp = holder_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(me)), encoding="utf-8")
        tmp.replace(holder_file)
        yield me
    finally:
        with contextlib.suppress(OSError):
            holder_file.unlink()
        lock.release()
