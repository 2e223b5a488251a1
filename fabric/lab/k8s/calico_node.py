"""The ``calico-node`` container of the lab: node address autodetection, commands, BIRD's log.

Pure pieces the runtime wires to its simulation (sources in docs/lab.md):

* :func:`detect_ipv4` -- Calico's IPv4 autodetection (``node/pkg/lifecycle/startup/autodetection``
  of Calico 3.26) over a node's interfaces, for the methods of the Tigera operator's
  ``Installation.spec.calicoNetwork.nodeAddressAutodetectionV4``: ``firstFound``, ``interface``,
  ``skipInterface``, ``cidrs``, ``canReach`` and ``kubernetes: NodeInternalIP``; with the
  ``[INFO]``/``[WARNING]`` lines calico-node logs.
* :class:`CalicoNodeContainer` -- what ``kubectl exec`` runs in the container: ``birdcl -s
  /var/run/calico/bird.ctl show protocols`` (BIRD 1.6 output, as the node's SSH shell prints it),
  the ``bird6.ctl`` socket (missing: the lab models no IPv6), ``calico-node -bird-ready``,
  ``-bird6-ready``, ``-felix-ready``, ``-felix-live``, ``-bird-live``, ``-v``, ``hostname``, and
  ``sh -c`` / ``bash -c`` around one simple command. Anything else fails as containerd fails
  for a binary missing from the image.
* :class:`BirdLog` -- the container's output: BIRD's ``bird: NAME: State changed to up`` lines
  (``-d`` logs to stderr with the ``bird: `` prefix; ``debug { states }`` is what Calico's
  ``bird.cfg`` template sets) for every state change the simulation shows, and calico-node's own
  lines in its logrus format (``2024-03-15 00:47:35.583 [INFO][66] startup/... 103: ...``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fabric.lab.k8s.podexec import ExecResult, LogLine, oci_not_found
from fabric.lab.model import NodeBgpView, NodePeerView
from fabric.lab.ssh import protocol_name, render_birdcl_protocols

CONTAINER = "calico-node"
BIRD_SOCKET = "/var/run/calico/bird.ctl"
BIRD6_SOCKET = "/var/run/calico/bird6.ctl"
#: ``calico-node -bird-ready``'s default ``-threshold-time``.
READY_THRESHOLD_S = 30.0
#: ``DEFAULT_INTERFACES_TO_EXCLUDE`` of Calico 3.26 (``autodetection_linux.go``).
EXCLUDED_INTERFACES = (
    "^docker.*", "^cbr.*", "^dummy.*", "^podman.*", "^virbr.*", "^lxcbr.*", "^veth.*", "^lo",
    "^br-.*", "^cali.*", "^tunl.*", "^flannel.*", "^kube-ipvs.*", "^cni.*", "^vxlan\\.calico.*",
    "^vxlan-v6\\.calico.*", "^wireguard\\.cali.*", "^wg-v6\\.cali.*", "^nodelocaldns.*",
)  # fmt: skip
_METHOD_KEYS = ("firstFound", "kubernetes", "interface", "skipInterface", "canReach", "cidrs")
#: Binaries of the calico-node image (``/bin`` is ``/usr/bin`` in the UBI base image).
_PATH_DIRS = ("", "/bin/", "/usr/bin/")
_SHELL_META = re.compile(r"[|&;<>()$`\\\n]")


# --------------------------------------------------------------------------- autodetection


@dataclass(frozen=True)
class HostInterface:
    """One interface of a node and its IPv4 address (with the subnet's prefix length)."""

    name: str
    address: ipaddress.IPv4Interface


@dataclass(frozen=True)
class LogRecord:
    """A calico-node log entry (logrus ``Formatter`` of libcalico-go ``logutils``)."""

    level: str
    file: str
    line: int
    message: str


@dataclass(frozen=True)
class Detection:
    """The outcome of an autodetection: the address (None: calico-node cannot start) and logs."""

    method: str
    address: ipaddress.IPv4Interface | None
    interface: str | None
    records: tuple[LogRecord, ...]


_FILE = "autodetection_methods.go"


def method_of(spec: Mapping[str, Any] | None) -> tuple[str, Any]:
    """The autodetection method an ``Installation``'s ``nodeAddressAutodetectionV4`` selects.

    A missing or empty one is ``firstFound``: the operator fills that default in when the
    cluster has an IPv4 pool.
    """
    for key in _METHOD_KEYS:
        if spec and spec.get(key) not in (None, "", [], False):
            return key, spec[key]
    return "firstFound", True


def _matching(regexes: Sequence[str], name: str) -> bool:
    # Go's regexp.MatchString is unanchored, like re.search.
    return any(re.search(r, name) for r in regexes)


def _first(
    interfaces: Sequence[HostInterface],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    cidrs: Sequence[ipaddress.IPv4Network] = (),
) -> HostInterface | None:
    for iface in interfaces:
        if include and not _matching(include, iface.name):
            continue
        if exclude and _matching(exclude, iface.name):
            continue
        if cidrs and not any(iface.address.ip in c for c in cidrs):
            continue
        return iface
    return None


def detect_ipv4(
    spec: Mapping[str, Any] | None,
    interfaces: Sequence[HostInterface],
    *,
    internal_ip: str | None,
    default_interface: str | None,
) -> Detection:
    """Calico's IPv4 autodetection on a node (messages as ``autodetection_methods.go`` logs).

    Args:
        spec: ``nodeAddressAutodetectionV4`` of the Installation (None: the default).
        interfaces: the node's interfaces in kernel order.
        internal_ip: the core Node's ``InternalIP`` (for ``kubernetes: NodeInternalIP``).
        default_interface: the interface of the node's default route (for ``canReach`` of an
            address in no connected subnet).
    """
    method, arg = method_of(spec)
    no_address = "no valid IPv4 addresses found on the host interfaces"
    found: HostInterface | None
    if method == "firstFound":
        found = _first(interfaces, exclude=EXCLUDED_INTERFACES)
        ok = (103, "Using autodetected IPv4 address on interface {name}: {cidr}")
        bad = (99, f"Unable to auto-detect an IPv4 address: {no_address}")
    elif method == "interface":
        regexes = re.split(r"\s*,\s*", str(arg))
        found = _first(interfaces, include=regexes)
        ok = (117, "Using autodetected IPv4 address {cidr} on matching interface {name}")
        bad = (
            113,
            f"Unable to auto-detect an IPv4 address using interface regexes "
            f"[{' '.join(regexes)}]: {no_address}",
        )
    elif method == "skipInterface":
        regexes = re.split(r"\s*,\s*", str(arg))
        found = _first(interfaces, exclude=(*EXCLUDED_INTERFACES, *regexes))
        ok = (
            161,
            "Using autodetected IPv4 address on interface {name}: {cidr} while skipping "
            "matching interfaces",
        )
        bad = (
            157,
            f"Unable to auto-detect an IPv4 address while excluding [{' '.join(regexes)}]: "
            f"{no_address}",
        )
    elif method == "cidrs":
        nets = [ipaddress.IPv4Network(str(c), strict=False) for c in arg]
        shown = "[" + " ".join(str(n) for n in nets) + "]"
        found = _first(interfaces, cidrs=nets)
        ok = (131, "Using autodetected IPv4 address {cidr} on interface {name} matching cidrs "
              + shown)  # fmt: skip
        bad = (127, f"Unable to auto-detect an IPv4 address using interface cidr {shown}: "
               f"{no_address}")  # fmt: skip
    elif method == "canReach":
        found = _reach(str(arg), interfaces, default_interface)
        ok = (143, "Using autodetected IPv4 address {cidr}, detected by connecting to " + str(arg))
        bad = (
            140,
            f"Unable to auto-detect IPv4 address by connecting to {arg}: "
            f"no address detected by connecting to {arg}",
        )
    else:  # kubernetes: NodeInternalIP
        found = next((i for i in interfaces if str(i.address.ip) == internal_ip), None)
        ok = (229, 'Including CIDR information from host interface. CIDR="{cidr}"')
        bad = (236, f"Unable to find matching host interface for IP {internal_ip}")
    if found is None:
        records = (
            LogRecord("WARNING", _FILE, bad[0], bad[1]),
            LogRecord(
                "WARNING",
                "startup.go",
                510,
                "Couldn't autodetect an IPv4 address. If auto-detecting, choose a different "
                "autodetection method. Otherwise provide an explicit address.",
            ),
            LogRecord("WARNING", "utils.go", 48, "Terminating"),
        )
        return Detection(method, None, None, records)
    text = ok[1].format(name=found.name, cidr=found.address.with_prefixlen)
    return Detection(method, found.address, found.name, (LogRecord("INFO", _FILE, ok[0], text),))


def _reach(
    dest: str, interfaces: Sequence[HostInterface], default_interface: str | None
) -> HostInterface | None:
    """The interface whose address the kernel picks to reach ``dest`` (connected, else default)."""
    try:
        target = ipaddress.IPv4Address(dest.split(":", 1)[0])
    except ValueError:
        return None  # a name: the lab resolves nothing
    for iface in interfaces:
        if target in iface.address.network:
            return iface
    return next((i for i in interfaces if i.name == default_interface), None)


# --------------------------------------------------------------------------- calico-node logs


def format_record(record: LogRecord, when: float, pid: int, component: str) -> str:
    """One calico-node log line: ``2006-01-02 15:04:05.000 [INFO][PID] component/file N: msg``."""
    moment = dt.datetime.fromtimestamp(when, dt.UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return (
        f"{stamp} [{record.level}][{pid}] {component}/{record.file} {record.line}: {record.message}"
    )


def _protocols(view: NodeBgpView) -> dict[str, tuple[str, str]]:
    return {protocol_name(p): (p.state, p.info) for p in view.ipv4_peers}


@dataclass
class BirdLog:
    """What the calico-node container has printed: BIRD's state changes and calico-node lines.

    :meth:`observe` compares the node's view with the last one it saw and appends the lines
    BIRD logs for each change (``nest/proto.c`` ``proto_log_state_change``: ``State changed to
    start|feed|up|stop|down``; ``conf/conf.c``: ``Reconfiguring``; ``sysdep/unix/main.c``:
    ``Started``; ``proto/bgp/packets.c`` ``bgp_log_error``: ``NAME: Error: Hold timer expired``).
    """

    pid: int
    lines: list[LogLine] = field(default_factory=list)
    _seen: dict[str, tuple[str, str]] | None = None
    _running: bool = False
    _restarting: bool = False

    def note(self, when: float, record: LogRecord, component: str = "startup") -> None:
        """Append one calico-node (logrus) line."""
        self.lines.append(LogLine(when, format_record(record, when, self.pid, component)))

    def _bird(self, when: float, text: str) -> None:
        self.lines.append(LogLine(when, f"bird: {text}"))

    def observe(self, view: NodeBgpView, bird_since: float, now: float) -> None:
        """Log what changed since the last observation (BIRD start and stop included)."""
        if not view.bird_running:
            self._running = False
            self._seen = None
            return
        current = _protocols(view)
        if not self._running:
            self._running = True
            self._start(current, bird_since)
            self._seen = {name: ("start", "") for name in current}
        seen = self._seen or {}
        added = [n for n in current if n not in seen]
        removed = [n for n in seen if n not in current]
        if added or removed:
            self._bird(now, "Reconfiguring")
            for name in removed:
                self._bird(now, f"{name}: Shutting down")
                self._bird(now, f"{name}: State changed to stop")
                self._bird(now, f"{name}: State changed to down")
            for name in added:
                self._bird(now, f"{name}: Initializing")
                self._bird(now, f"{name}: Starting")
                self._bird(now, f"{name}: State changed to start")
            self._bird(now, "Reconfigured")
        for peer in view.ipv4_peers:
            name = protocol_name(peer)
            before = seen.get(name, ("start", ""))
            self._transition(name, before, (peer.state, peer.info), max(peer.since, bird_since))
        self._seen = current

    def _start(self, protocols: Mapping[str, tuple[str, str]], when: float) -> None:
        for name in ("device1", "direct1", *protocols):
            self._bird(when, f"{name}: Initializing")
        for name in ("device1", "direct1"):
            self._bird(when, f"{name}: Starting")
            self._bird(when, f"{name}: Connected to table master")
            self._bird(when, f"{name}: State changed to feed")
        for name in protocols:
            self._bird(when, f"{name}: Starting")
            self._bird(when, f"{name}: State changed to start")
        self._bird(when, "Graceful restart started")
        self._restarting = True
        self._bird(when, "Started")
        for name in ("device1", "direct1"):
            self._bird(when, f"{name}: State changed to up")

    def _transition(
        self, name: str, before: tuple[str, str], after: tuple[str, str], when: float
    ) -> None:
        was_up, is_up = before[0] == "up", after[0] == "up"
        if is_up and not was_up:
            self._bird(when, f"{name}: Connected to table master")
            self._bird(when, f"{name}: State changed to feed")
            self._bird(when, f"{name}: State changed to up")
            if self._restarting:  # BIRD was started with -R (graceful restart recovery)
                self._restarting = False
                self._bird(when, "Graceful restart done")
        elif was_up and not is_up:
            error = _bird_error(after[1])
            if error:
                self._bird(when, f"{name}: {error}")
            for state in ("stop", "down"):
                self._bird(when, f"{name}: State changed to {state}")
            self._bird(when, f"{name}: Starting")
            self._bird(when, f"{name}: State changed to start")


def _bird_error(info: str) -> str | None:
    """The error BIRD logs when an Established session ends with ``info``."""
    if info.startswith("Connect") or info.startswith("Active Socket"):
        return "Error: Hold timer expired"
    for prefix, logged in (("Active Received: ", "Received: "), ("Active BGP Error: ", "Error: ")):
        if info.startswith(prefix):
            return logged + info[len(prefix) :]
    return None


# --------------------------------------------------------------------------- the container


@dataclass(frozen=True)
class NodeRuntime:
    """What the container sees of its node at one moment."""

    name: str
    view: NodeBgpView
    bird_since: float
    version: str
    calico_running: bool = True


class CalicoNodeContainer:
    """The commands ``kubectl exec`` runs in one node's ``calico-node`` container.

    Args:
        state: the node as the simulation has it now.
        clock: the wall clock (BIRD's ``since`` columns, readiness thresholds).
    """

    def __init__(
        self, state: Callable[[], NodeRuntime], clock: Callable[[], float] = time.time
    ) -> None:
        self.state = state
        self.clock = clock

    def run(self, argv: Sequence[str]) -> ExecResult:
        """Run ``argv`` as the container runtime would start it (no shell)."""
        if not argv:
            return ExecResult(runtime_error=oci_not_found(""))
        program = argv[0]
        handler = self._handlers().get(_binary(program))
        if handler is None or not _on_path(program):
            return ExecResult(runtime_error=_missing(program))
        return handler(list(argv[1:]))

    def _handlers(self) -> dict[str, Callable[[list[str]], ExecResult]]:
        return {
            "birdcl": self._birdcl,
            "calico-node": self._calico_node,
            "hostname": lambda _args: ExecResult(stdout=self.state().name + "\n"),
            "sh": self._shell,
            "bash": self._shell,
            "true": lambda _args: ExecResult(),
            "false": lambda _args: ExecResult(exit_code=1),
        }

    # ------------------------------------------------------------------ birdcl

    def _birdcl(self, args: list[str]) -> ExecResult:
        socket = BIRD_SOCKET
        while args and args[0].startswith("-"):
            flag = args.pop(0)
            if flag == "-s" and args:
                socket = args.pop(0)
            elif flag.startswith("-s") and len(flag) > 2:
                socket = flag[2:]
        state = self.state()
        now = self.clock()
        if socket == BIRD_SOCKET and state.view.bird_running:
            if args != ["show", "protocols"]:
                # As the node's SSH shell answers (fabric.lab.ssh.NodeShell).
                return ExecResult(stderr="syntax error, unexpected CF_SYM_UNDEFINED\n", exit_code=1)
            out, status = render_birdcl_protocols(state.view, now, state.bird_since)
            return ExecResult(stdout=out, exit_code=status)
        # bird6 never runs in the lab (no IPv6): its socket is as missing as a stopped BIRD's.
        return ExecResult(
            stderr=f"Unable to connect to server control socket ({socket}): "
            "No such file or directory\n",
            exit_code=1,
        )

    # ------------------------------------------------------------------ calico-node

    def _calico_node(self, args: list[str]) -> ExecResult:
        state = self.state()
        flags = [a.lstrip("-").split("=", 1)[0] for a in args]
        if flags == ["v"]:
            return ExecResult(stdout=state.version + "\n")
        checks = {"bird-ready", "bird6-ready", "felix-ready", "felix-live", "bird-live"}
        unknown = [f for f in flags if f not in checks and f != "threshold-time"]
        if unknown or not flags:
            # Flags calico-node defines that the lab does not model fail honestly.
            return ExecResult(
                stderr=f"fabric lab: calico-node {' '.join(args)} is not modelled\n",
                exit_code=1,
            )
        errors: list[str] = []
        if "felix-live" in flags and not state.calico_running:
            errors.append(
                "calico/node is not ready: Felix is not live: Get "
                '"http://localhost:9099/liveness": dial tcp [::1]:9099: connect: connection '
                "refused"
            )
        if "bird-live" in flags and not state.view.bird_running:
            errors.append(
                "calico/node is not ready: bird/confd is not live: Service bird is not running. "
                "Output << down: /etc/service/enabled/bird: 1s, normally up >>"
            )
        if "felix-ready" in flags and not state.calico_running:
            errors.append(
                "calico/node is not ready: felix is not ready: Get "
                '"http://localhost:9099/readiness": dial tcp [::1]:9099: connect: connection '
                "refused"
            )
        if "bird-ready" in flags:
            problem = self._bird_ready(state)
            if problem:
                errors.append(f"calico/node is not ready: BIRD is not ready: {problem}")
        if "bird6-ready" in flags:
            errors.append(
                "calico/node is not ready: BIRD6 is not ready: Error querying BIRD: unable to "
                f"connect to BIRDv6 socket: dial unix {BIRD6_SOCKET}: connect: no such file or "
                "directory"
            )
        if errors:
            # health.Run prints the first failing check's error (errgroup) and exits 1.
            return ExecResult(stdout=errors[0] + "\n", exit_code=1)
        return ExecResult()

    def _bird_ready(self, state: NodeRuntime) -> str | None:
        """``checkBIRDReady("4", 30s)`` of ``node/pkg/health/health.go``."""
        if not state.view.bird_running:
            return (
                "Error querying BIRD: unable to connect to BIRDv4 socket: dial unix "
                f"{BIRD_SOCKET}: connect: no such file or directory"
            )
        peers: list[NodePeerView] = list(state.view.ipv4_peers)
        down = [p.peer_address for p in peers if p.info != "Established"]
        established = len(peers) - len(down)
        young = self.clock() - state.bird_since < READY_THRESHOLD_S
        if peers and ((young and down) or (not young and established == 0)):
            return f"BGP not established with {','.join(down)}"
        return None

    # ------------------------------------------------------------------ sh -c

    def _shell(self, args: list[str]) -> ExecResult:
        if len(args) < 2 or args[0] != "-c":
            return ExecResult(
                stderr="fabric lab: only `sh -c COMMAND` is modelled in calico-node\n",
                exit_code=2,
            )
        script = args[1]
        if _SHELL_META.search(script):
            return ExecResult(
                stderr="fabric lab: the calico-node shell runs one simple command (no pipes, "
                "lists or redirections)\n",
                exit_code=2,
            )
        try:
            words = shlex.split(script)
        except ValueError as exc:
            return ExecResult(stderr=f"sh: -c: line 0: {exc}\n", exit_code=2)
        if not words:
            return ExecResult()
        result = self.run(words)
        if result.runtime_error is not None:
            # bash 4.4 (the UBI 8 image's /bin/sh) for a command it cannot find
            return ExecResult(stderr=f"sh: {words[0]}: command not found\n", exit_code=127)
        return result


def _binary(program: str) -> str:
    return program.rsplit("/", 1)[-1]


def _on_path(program: str) -> bool:
    head = program[: len(program) - len(_binary(program))]
    return head in _PATH_DIRS


def _missing(program: str) -> str:
    if "/" not in program:
        return oci_not_found(program)
    # runc stats an absolute path instead of searching $PATH
    return oci_not_found(program).replace(
        "executable file not found in $PATH", f"stat {program}: no such file or directory"
    )
