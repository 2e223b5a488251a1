"""Calico nodes over SSH (asyncssh): ``calicoctl node status``, parsed (a Nornir task).

Every node's session of a run runs on one shared asyncio loop (:func:`ssh_client_loop`): Nornir's
worker threads hand it coroutines and wait, so all SSH work happens on one thread instead of a
transport thread per connection contending for the GIL. A loop opened with
``keep_connections=True`` (the deploy gate, which polls the same nodes again) keeps each node's
authenticated connection for the next command instead of connecting again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncssh
from nornir.core.task import Result

from fabric.errors import UnreachableError
from fabric.models.observed import DEFAULT_NODE_COMMAND
from fabric.steps.collect.outputs import NODE_STATUS_FILE, parse_node_output, write_raw

if TYPE_CHECKING:
    from nornir.core.inventory import Host
    from nornir.core.task import Task

#: Client algorithm preferences, put before asyncssh's defaults (which stay as fallbacks for
#: servers that lack them): X25519 key exchange and AES-GCM run in C (``cryptography``); the
#: defaults (ML-KEM hybrid key exchange, chacha20-poly1305 composed per packet in Python)
#: cost ~0.5 ms more CPU per connection on each side for a few hundred bytes of output.
SSH_KEX_ALGS = ("curve25519-sha256", "curve25519-sha256@libssh.org")
SSH_ENCRYPTION_ALGS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")

T = TypeVar("T")
_ConnKey = tuple[str, int, str | None]


class SshClientLoop:
    """One asyncio event loop in its own thread, running asyncssh for every Nornir worker.

    Use it through :func:`ssh_client_loop`.

    Args:
        keep_connections: keep each host's connection open for later commands (closed with
            the loop) instead of one connection per command.
    """

    def __init__(self, *, keep_connections: bool = False) -> None:
        self.keep_connections = keep_connections
        self._conns: dict[_ConnKey, asyncssh.SSHClientConnection] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="fabric-ssh", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def cached(self, key: _ConnKey) -> asyncssh.SSHClientConnection | None:
        """A kept connection for ``key`` (loop thread only)."""
        return self._conns.get(key)

    def keep(self, key: _ConnKey, conn: asyncssh.SSHClientConnection) -> None:
        """Keep ``conn`` for later commands to the same host (loop thread only)."""
        old = self._conns.get(key)
        if old is not None and old is not conn:
            old.close()
        self._conns[key] = conn

    def forget(self, key: _ConnKey) -> None:
        """Drop (and close) the kept connection of ``key`` (loop thread only)."""
        conn = self._conns.pop(key, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close kept connections, cancel what still runs, stop the loop and join its thread."""
        if self._loop.is_closed():
            return

        async def _drain() -> None:
            for conn in self._conns.values():
                conn.close()
            await asyncio.gather(
                *(c.wait_closed() for c in self._conns.values()), return_exceptions=True
            )
            self._conns.clear()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._loop.shutdown_asyncgens()
            await self._loop.shutdown_default_executor()

        asyncio.run_coroutine_threadsafe(_drain(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


_SHARED: SshClientLoop | None = None
_SHARED_USERS = 0
_SHARED_LOCK = threading.Lock()


@contextlib.contextmanager
def ssh_client_loop(*, keep_connections: bool = False) -> Iterator[SshClientLoop]:
    """Share one :class:`SshClientLoop` with every :func:`run_ssh_command` until the block ends.

    Nestable (the loop closes when the outermost block ends; the outermost block decides
    ``keep_connections``). Outside such a block, :func:`run_ssh_command` runs its own
    short-lived loop in the calling thread.
    """
    global _SHARED, _SHARED_USERS
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = SshClientLoop(keep_connections=keep_connections)
        _SHARED_USERS += 1
        loop = _SHARED
    try:
        yield loop
    finally:
        with _SHARED_LOCK:
            _SHARED_USERS -= 1
            last = _SHARED_USERS == 0
            if last:
                _SHARED = None
        if last:
            loop.close()


@functools.lru_cache(maxsize=64)
def _load_key(path: str, mtime_ns: int) -> asyncssh.SSHKey:
    """A private key, loaded once per file version."""
    return asyncssh.read_private_key(path)


@functools.lru_cache(maxsize=64)
def _load_known_hosts(files: tuple[tuple[str, int], ...]) -> asyncssh.SSHKnownHosts:
    """known_hosts files (path, mtime) as one set of trusted keys, parsed once per version."""
    if not files:
        return asyncssh.import_known_hosts("")
    return asyncssh.read_known_hosts([path for path, _ in files])


@functools.cache
def _algorithms() -> dict[str, list[str]]:
    """Our preferences followed by asyncssh's defaults, as explicit lists.

    Passed as lists, asyncssh takes them as they are; a ``^pattern`` string is expanded with
    wildcard matching on every connection (~0.1 ms each).
    """
    opts = asyncssh.SSHClientConnectionOptions(
        kex_algs="^" + ",".join(SSH_KEX_ALGS),
        encryption_algs="^" + ",".join(SSH_ENCRYPTION_ALGS),
        client_keys=None,
        known_hosts=None,
        agent_path=None,
        config=None,
    )
    return {
        "kex_algs": [a.decode() for a in opts.kex_algs],
        "encryption_algs": [a.decode() for a in opts.encryption_algs],
    }


class _Output(asyncssh.SSHClientSession[str]):
    """An asyncssh client session that keeps what a command prints (no process/streams)."""

    def __init__(self) -> None:
        self.stdout: list[str] = []
        self.stderr: list[str] = []

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        err = datatype == asyncssh.EXTENDED_DATA_STDERR
        (self.stderr if err else self.stdout).append(data)


def _ssh_key_file(host: Host) -> str | None:
    lab = host.get("lab")
    if isinstance(lab, dict) and lab.get("key_file"):
        return str(lab["key_file"])
    key = host.get("ssh_key_file") or os.environ.get("FABRIC_SSH_KEY_FILE") or None
    return str(Path(str(key)).expanduser()) if key else None


def _known_hosts(host: Host) -> asyncssh.SSHKnownHosts | None:
    """Trusted host keys for ``host``; None accepts any key (lab, ``auto-add``)."""
    if host.get("lab") or host.get("ssh_host_key_policy") == "auto-add":
        return None
    paths = [Path("~/.ssh/known_hosts").expanduser()]
    files = [p for p in paths if p.is_file()]
    extra = host.get("ssh_known_hosts")
    if extra:
        files.append(Path(str(extra)).expanduser())  # must exist: a missing file is an error
    return _load_known_hosts(tuple((str(p), p.stat().st_mtime_ns) for p in files))


async def _connect(
    host: Host, key: asyncssh.SSHKey | None, known_hosts: asyncssh.SSHKnownHosts | None
) -> asyncssh.SSHClientConnection:
    lab = bool(host.get("lab"))
    return await asyncssh.connect(
        str(host.hostname),
        int(host.port or 22),
        username=host.username,
        password=host.password,
        client_keys=[key] if key is not None else None,  # None: no default key files
        known_hosts=known_hosts,
        agent_path=None,
        config=None,
        # The lab hands out both: a password is one round trip, a key two (query, then sign).
        preferred_auth="password,publickey" if lab else "publickey,keyboard-interactive,password",
        **_algorithms(),
    )


async def _run(conn: asyncssh.SSHClientConnection, command: str) -> tuple[int, str, str]:
    chan, session = await conn.create_session(_Output, command, encoding="utf-8", errors="replace")
    await chan.wait_closed()
    rc = chan.get_exit_status()
    out: Any = session  # an _Output (asyncssh types it as its base class)
    return (-1 if rc is None else rc), "".join(out.stdout), "".join(out.stderr)


async def _run_once(
    host: Host,
    command: str,
    key: asyncssh.SSHKey | None,
    known_hosts: asyncssh.SSHKnownHosts | None,
) -> tuple[int, str, str]:
    conn = await _connect(host, key, known_hosts)
    try:
        return await _run(conn, command)
    finally:
        conn.close()
        await conn.wait_closed()


async def _ssh_exec(
    host: Host,
    command: str,
    key: asyncssh.SSHKey | None,
    known_hosts: asyncssh.SSHKnownHosts | None,
    pool: SshClientLoop | None,
) -> tuple[int, str, str]:
    if pool is None or not pool.keep_connections:
        return await _run_once(host, command, key, known_hosts)
    ckey: _ConnKey = (str(host.hostname), int(host.port or 22), host.username)
    kept = pool.cached(ckey)
    if kept is not None:
        try:
            return await _run(kept, command)
        except (OSError, asyncssh.Error):
            pool.forget(ckey)  # dropped while idle: connect again below
    conn = await _connect(host, key, known_hosts)
    pool.keep(ckey, conn)
    return await _run(conn, command)


def run_ssh_command(host: Host, command: str, timeout: float = 30.0) -> tuple[int, str, str]:
    """Run ``command`` on ``host`` over SSH (asyncssh): its exit status, stdout and stderr.

    Inside :func:`ssh_client_loop` the connection runs on the shared loop; otherwise on a
    loop of its own in the calling thread. ``timeout`` bounds the whole exchange (connect,
    authenticate, run). Host keys: in lab mode (the host has ``lab`` data) any key is
    accepted; otherwise ``~/.ssh/known_hosts`` (plus ``ssh_known_hosts`` from the host data)
    must know it, unless the host sets ``ssh_host_key_policy: auto-add``.

    Raises:
        UnreachableError: the connection, host key check or authentication failed, or the
            exchange took longer than ``timeout`` (the library's exception is its cause).
    """
    # asyncssh logs every connection at INFO: thousands of lines per run, and CPU.
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    target = f"{host.name}: ssh {host.hostname}:{host.port}"
    try:
        key_file = _ssh_key_file(host)
        key = _load_key(key_file, os.stat(key_file).st_mtime_ns) if key_file else None
        known = _known_hosts(host)
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise UnreachableError(f"{target}: {exc}") from exc
    shared = _SHARED
    coro = asyncio.wait_for(_ssh_exec(host, command, key, known, shared), timeout)
    try:
        return shared.run(coro) if shared is not None else asyncio.run(coro)
    except TimeoutError as exc:
        raise UnreachableError(f"{target}: no answer within {timeout:g} s") from exc
    except (OSError, asyncssh.Error) as exc:
        raise UnreachableError(f"{target}: {exc}") from exc


def collect_node_state(
    task: Task, command: str | None = None, save_raw: Path | None = None
) -> Result:
    """Read a Calico node's BGP status over SSH and parse it.

    Args:
        task: the Nornir task (its host is a Calico node reachable over SSH).
        command: overrides the host's ``node_status_command`` (default
            ``calicoctl node status``), e.g. ``sudo calicoctl node status``.
        save_raw: a folder to keep the raw output in.

    Returns:
        A Result whose ``result`` is an :class:`~fabric.models.observed.ObservedNode`.

    Raises:
        UnreachableError: SSH failed, or the command failed without printing a status.
        ParseError: the output is not ``calicoctl node status``.
    """
    cmd = command or str(task.host.get("node_status_command") or DEFAULT_NODE_COMMAND)
    rc, text, err = run_ssh_command(task.host, cmd)
    if rc != 0 and not text.strip():
        first = (err.strip().splitlines() or [""])[0]
        raise UnreachableError(f"{task.host.name}: {cmd!r} exited with status {rc}: {first}")
    # calicoctl exits 1 with "Calico process is not running.": that is state, not an error.
    write_raw(save_raw, task.host.name, NODE_STATUS_FILE + ".txt", text)
    return Result(host=task.host, result=parse_node_output(task.host.name, text, cmd))
