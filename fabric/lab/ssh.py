"""A Calico node over SSH: ``calicoctl node status`` and ``birdcl show protocols``, as printed.

:class:`NodeSshServer` is a real SSH server (asyncssh) on one loopback address: password and
public-key authentication, exec requests (``ssh host CMD``, paramiko's ``exec_command``) and an
interactive shell with a prompt (netmiko's ``linux`` driver). The text renderers are pure
functions of a :class:`~fabric.lab.model.NodeBgpView`, so tests can check them without a socket.
"""

from __future__ import annotations

import hmac
import logging
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncssh

from fabric.lab.model import NodeBgpView, NodePeerView

logging.getLogger("asyncssh").setLevel(logging.WARNING)

BIRD_BANNER = "BIRD v0.3.3+birdv1.6.8 ready."
BIRD_SOCKET = "/var/run/calico/bird.ctl"
#: BIRD prints HH:MM:SS for changes younger than this, else the date (default ``timeformat``).
_BIRD_RECENT = 20 * 3600

SUPPORTED = (
    "calicoctl node status",
    "kubectl calico node status",
    "birdcl [-s SOCKET] show protocols",
)


# --------------------------------------------------------------------------- renderers


def bird_time(since: float, now: float) -> str:
    """BIRD's protocol time: ``HH:MM:SS`` today-ish, ``YYYY-MM-DD`` when older than 20 hours."""
    fmt = "%H:%M:%S" if now - since < _BIRD_RECENT else "%Y-%m-%d"
    return time.strftime(fmt, time.localtime(since))


def _pad_center(text: str, width: int) -> str:
    # olekukonko/tablewriter Pad(): gap split with the smaller half on the left.
    gap = width - len(text)
    left = gap // 2
    return " " * left + text + " " * (gap - left)


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table as calicoctl's tablewriter prints it: centred upper-case headers, left rows."""
    head = [h.upper() for h in header]
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [
        line,
        "|" + "|".join(f" {_pad_center(h, w)} " for h, w in zip(head, widths, strict=True)) + "|",
        line,
    ]
    for r in rows:
        out.append("|" + "|".join(f" {c.ljust(w)} " for c, w in zip(r, widths, strict=True)) + "|")
    out.append(line)
    return "\n".join(out) + "\n"


def _peer_rows(peers: Sequence[NodePeerView], now: float) -> list[list[str]]:
    return [[p.peer_address, p.peer_type, p.state, bird_time(p.since, now), p.info] for p in peers]


def render_calicoctl_node_status(view: NodeBgpView, now: float) -> tuple[str, int]:
    """``calicoctl node status`` (Calico 3.26): output and exit status."""
    if not view.bird_running:
        return "Calico process is not running.\n", 1
    parts = ["Calico process is running.\n"]
    for version, peers in (("4", view.ipv4_peers), ("6", view.ipv6_peers)):
        parts.append(f"\nIPv{version} BGP status\n")
        if peers:
            parts.append(
                render_table(
                    ["Peer address", "Peer type", "State", "Since", "Info"],
                    _peer_rows(peers, now),
                )
            )
        else:
            parts.append(f"No IPv{version} peers found.\n")
    parts.append("\n")
    return "".join(parts), 0


def protocol_name(peer: NodePeerView) -> str:
    """The BIRD protocol name calico's confd gives a peer (``Mesh_172_21_0_18`` ...)."""
    prefix = {"node-to-node mesh": "Mesh_", "global": "Global_", "node specific": "Node_"}
    return prefix[peer.peer_type] + peer.peer_address.replace(".", "_").replace(":", "_")


def _bird_line(name: str, proto: str, state: str, since: str, info: str) -> str:
    # BIRD 1.6 proto.c: "%-8s %-8s %-8s %-5s  %-10s  %s"
    return f"{name:<8} {proto:<8} {'master':<8} {state:<5}  {since:<10}  {info}".rstrip()


def _bird_info(peer: NodePeerView) -> str:
    # BIRD 1.6 bgp.c bgp_get_status(): "%-14s%s%s" (state, error class, error text).
    if peer.info == "Established" or " " not in peer.info:
        return peer.info
    state, _, err = peer.info.partition(" ")
    return f"{state:<14}{err}"


def render_birdcl_protocols(view: NodeBgpView, now: float, bird_since: float) -> tuple[str, int]:
    """``birdcl show protocols`` (BIRD 1.6 as shipped in calico-node): output and exit status."""
    if not view.bird_running:
        return (
            f"Unable to connect to server control socket ({BIRD_SOCKET}): "
            "No such file or directory\n",
            1,
        )
    start = bird_time(bird_since, now)
    lines = [BIRD_BANNER, "name     proto    table    state  since       info"]
    for name, proto in (
        ("static1", "Static"),
        ("kernel1", "Kernel"),
        ("device1", "Device"),
        ("direct1", "Direct"),
    ):
        lines.append(_bird_line(name, proto, "up", start, ""))
    for peer in view.ipv4_peers:
        lines.append(
            _bird_line(
                protocol_name(peer), "BGP", peer.state, bird_time(peer.since, now), _bird_info(peer)
            )
        )
    return "\n".join(lines) + "\n", 0


# --------------------------------------------------------------------------- shell


@dataclass
class CommandResult:
    """What one command line prints and returns."""

    stdout: str
    stderr: str
    status: int


class NodeShell:
    """The commands a lab node answers (``sudo`` is accepted and ignored)."""

    def __init__(
        self,
        name: str,
        view: Callable[[], NodeBgpView],
        bird_since: Callable[[], float],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.view = view
        self.bird_since = bird_since
        self.clock = clock

    def run(self, line: str) -> CommandResult:
        """Run one command line."""
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return CommandResult("", f"bash: syntax error: {exc}\n", 2)
        while words and words[0] in ("sudo", "-E", "-n"):
            words = words[1:]
        if not words:
            return CommandResult("", "", 0)
        now = self.clock()
        if words in (
            ["calicoctl", "node", "status"],
            ["kubectl", "calico", "node", "status"],
            ["kubectl-calico", "node", "status"],
        ):
            out, status = render_calicoctl_node_status(self.view(), now)
            return CommandResult(out, "", status)
        if words[0] == "birdcl":
            args = words[1:]
            if len(args) >= 2 and args[0] == "-s":
                args = args[2:]
            if args == ["show", "protocols"]:
                out, status = render_birdcl_protocols(self.view(), now, self.bird_since())
                if status:
                    return CommandResult("", out, status)
                return CommandResult(out, "", 0)
            return CommandResult("", "syntax error, unexpected CF_SYM_UNDEFINED\n", 1)
        if words == ["hostname"]:
            return CommandResult(self.name + "\n", "", 0)
        return CommandResult(
            "",
            f"bash: {words[0]}: command not found "
            f"(fabric lab node answers: {'; '.join(SUPPORTED)})\n",
            127,
        )


class _Auth(asyncssh.SSHServer):
    def __init__(
        self, username: str, password: str, connections: set[asyncssh.SSHServerConnection]
    ) -> None:
        self._username = username
        self._password = password
        self._connections = connections
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == self._username and hmac.compare_digest(
            password.encode(), self._password.encode()
        )


class SshServer:
    """An SSH endpoint on one loopback address; subclasses answer the sessions.

    Args:
        host: the loopback address to bind.
        port: the TCP port.
        username: the only user allowed in.
        password: its password.
        host_key: the server's host key.
        client_keys: public keys accepted for ``username``.
        server_version: the software version in the SSH identification string.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        host_key: asyncssh.SSHKey,
        client_keys: Sequence[asyncssh.SSHKey] = (),
        server_version: str = "OpenSSH_8.9p1",
    ) -> None:
        self.host = host
        self.port = port
        self._username = username
        self._password = password
        self._host_key = host_key
        self._server_version = server_version
        self._auth_keys = (
            asyncssh.import_authorized_keys(
                "".join(k.export_public_key().decode() for k in client_keys)
            )
            if client_keys
            else None
        )
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()

    @property
    def listening(self) -> bool:
        """Whether the listener is open."""
        return self._acceptor is not None

    @property
    def acceptor(self) -> asyncssh.SSHAcceptor | None:
        """The open listener (its sockets), or None."""
        return self._acceptor

    async def start(self) -> None:
        """Open the listener (idempotent)."""
        if self._acceptor is not None:
            return
        self._acceptor = await asyncssh.create_server(
            lambda: _Auth(self._username, self._password, self._connections),
            self.host,
            self.port,
            server_host_keys=[self._host_key],
            authorized_client_keys=self._auth_keys,
            process_factory=self._handle,
            reuse_address=True,
            server_version=self._server_version,
        )

    async def close(self) -> None:
        """Close the listener and every open session (new connections are refused)."""
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            acceptor.close()
            await acceptor.wait_closed()
        conns, self._connections = list(self._connections), set()
        for conn in conns:
            conn.close()
        for conn in conns:
            await conn.wait_closed()

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        raise NotImplementedError


class NodeSshServer(SshServer):
    """One node's SSH endpoint on a loopback address.

    Args:
        shell: the node's command set.
        host: the loopback address to bind.
        port: the TCP port.
        username: the only user allowed in.
        password: its password.
        host_key: the server's host key.
        client_keys: public keys accepted for ``username``.
    """

    def __init__(
        self,
        shell: NodeShell,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        host_key: asyncssh.SSHKey,
        client_keys: Sequence[asyncssh.SSHKey] = (),
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            username=username,
            password=password,
            host_key=host_key,
            client_keys=client_keys,
        )
        self.shell = shell

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        if process.command is not None:
            res = self.shell.run(process.command)
            process.stdout.write(res.stdout)
            process.stderr.write(res.stderr)
            process.exit(res.status)
            return
        prompt = f"{self._username}@{self.shell.name}:~$ "
        process.stdout.write(prompt)
        while True:
            try:
                line = await process.stdin.readline()
            except (asyncssh.BreakReceived, asyncssh.SignalReceived, asyncssh.TerminalSizeChanged):
                continue
            except (asyncssh.ConnectionLost, BrokenPipeError):
                return
            if not line:
                break
            cmd = line.strip()
            if cmd in ("exit", "logout"):
                break
            if cmd:
                res = self.shell.run(cmd)
                # A terminal shows stderr inline with stdout.
                process.stdout.write(res.stdout + res.stderr)
            process.stdout.write(prompt)
        process.exit(0)
