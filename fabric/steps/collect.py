"""Collect the state of every host, parsed: Nornir task functions, one per kind of host.

* :func:`collect_switch_state`: NAPALM (text, one eAPI request) ``show ip bgp summary``,
  ``show ip route`` and ``show running-config``, parsed with :func:`fabric.parsing.parse`.
* :func:`collect_node_state`: SSH (asyncssh) to a Calico node, runs the host's
  ``node_status_command`` (default ``calicoctl node status``), parsed.
* :func:`collect_cluster_state`: the ``kubernetes`` client with the cluster host's kubeconfig and
  context: Calico BGPConfiguration, BGPPeer, BlockAffinity, Node; core Nodes, Pods, Services.
* :func:`collect_host_state`: picks one of the three by the host's role.

Each task returns a :class:`~nornir.core.task.Result` whose ``result`` is a
:class:`SwitchState`, :class:`NodeState` or :class:`ClusterState`. Anything that goes wrong
raises, and Nornir turns it into that host's failed result: a connection problem is an
:class:`~fabric.errors.UnreachableError` (or the library's own exception), output that cannot
be parsed a :class:`~fabric.errors.ParseError`. Use :func:`failure_kind` to tell them apart.

Raw outputs (``save_raw``) land in one file per host and command, the layout that
:func:`load_saved_state` reads back (documented in ``docs/compliance.md``)::

    DIR/<switch>/show_ip_bgp_summary.txt
    DIR/<switch>/show_ip_route.txt
    DIR/<switch>/show_running-config.txt
    DIR/<node>/calicoctl_node_status.txt
    DIR/<cluster>/bgpconfigurations.json   (and bgppeers, blockaffinities, calico_nodes,
                                            nodes, pods, services; .yaml also read)

Pods and services may instead be saved as ``kubectl get pods -o wide -A`` /
``kubectl get svc -o wide -A`` text (``kubectl_get_pods_-o_wide_-A.txt``,
``kubectl_get_svc_-o_wide_-A.txt``), as an operator can copy them from a terminal.
Only the fields compliance reads are kept from core objects (never a pod's environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import logging
import os
import threading
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import yaml

from fabric.errors import ParseError, UnreachableError

if TYPE_CHECKING:
    import asyncssh
    from nornir.core.inventory import Host
    from nornir.core.task import Result, Task

    from fabric.models.parsed import (
        BgpSummary,
        CalicoNodeStatus,
        PodList,
        RouteTable,
        RunningConfigBgp,
        ServiceList,
    )

#: The switch commands compliance reads, in the order they are run.
SWITCH_COMMANDS: tuple[str, ...] = ("show ip bgp summary", "show ip route", "show running-config")
#: The node command when the host sets no ``node_status_command``.
DEFAULT_NODE_COMMAND = "calicoctl node status"
#: File name (without .txt) of the node status output, whatever command produced it.
NODE_STATUS_FILE = "calicoctl_node_status"

CALICO_GROUP = "projectcalico.org"
CALICO_VERSION = "v3"
#: Calico resources read from the cluster: file stem -> plural.
CALICO_RESOURCES: dict[str, str] = {
    "bgpconfigurations": "bgpconfigurations",
    "bgppeers": "bgppeers",
    "blockaffinities": "blockaffinities",
    "calico_nodes": "nodes",
}
#: Core (v1) resources read from the cluster, by file stem.
CORE_RESOURCES: tuple[str, ...] = ("nodes", "pods", "services")
PODS_TEXT = "kubectl_get_pods_-o_wide_-A"
SERVICES_TEXT = "kubectl_get_svc_-o_wide_-A"

Role = Literal["switch", "calico_node", "cluster"]


def raw_name(command: str) -> str:
    """File stem of a command's raw output: its words joined by ``_``.

    >>> raw_name("show ip bgp summary")
    'show_ip_bgp_summary'
    """
    return "_".join(command.split())


# --------------------------------------------------------------------------- state


@dataclass
class SwitchState:
    """What one switch shows, parsed. A field is None when its command was not collected."""

    host: str
    bgp_summary: BgpSummary | None = None
    routes: RouteTable | None = None
    running_config: RunningConfigBgp | None = None
    running_config_text: str | None = None


@dataclass
class NodeState:
    """What one Calico node shows, parsed (``calicoctl node status``)."""

    host: str
    status: CalicoNodeStatus
    command: str = DEFAULT_NODE_COMMAND


@dataclass(frozen=True)
class PodInfo:
    """The part of a pod compliance reads."""

    namespace: str | None
    name: str
    ip: str | None
    node: str | None
    host_network: bool = False
    owner: str | None = None


@dataclass(frozen=True)
class ServiceInfo:
    """The part of a service compliance reads."""

    namespace: str | None
    name: str
    type: str
    cluster_ip: str | None


@dataclass(frozen=True)
class BlockAffinityInfo:
    """An IPAM block a node owns (Calico ``BlockAffinity``)."""

    node: str
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network
    state: str = "confirmed"
    deleted: bool = False


@dataclass
class ClusterState:
    """What the cluster holds. A list is None when the API does not serve that resource.

    Calico objects are kept as the API returns them (plain dicts, server fields included);
    pods, services, nodes and block affinities as the small records above.
    """

    host: str
    bgp_configurations: list[dict[str, Any]] | None = None
    bgp_peers: list[dict[str, Any]] | None = None
    calico_nodes: list[dict[str, Any]] | None = None
    block_affinities: list[BlockAffinityInfo] | None = None
    nodes: list[dict[str, Any]] | None = None
    pods: list[PodInfo] | None = None
    services: list[ServiceInfo] | None = None
    raw: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict, repr=False)

    def blocks_of(self, node: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The IPAM blocks affine to ``node`` (confirmed, not deleted)."""
        return [
            b.cidr
            for b in self.block_affinities or []
            if b.node == node and not b.deleted and b.state == "confirmed"
        ]


# --------------------------------------------------------------------------- conversions


def _trim_pod(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    owners = [
        {"kind": o.get("kind"), "name": o.get("name")} for o in md.get("ownerReferences") or []
    ]
    return {
        "metadata": {
            "name": md.get("name"),
            "namespace": md.get("namespace"),
            "ownerReferences": owners,
        },
        "spec": {"nodeName": spec.get("nodeName"), "hostNetwork": bool(spec.get("hostNetwork"))},
        "status": {"podIP": status.get("podIP"), "phase": status.get("phase")},
    }


def _trim_node(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata") or {}
    status = obj.get("status") or {}
    return {
        "metadata": {"name": md.get("name"), "labels": md.get("labels") or {}},
        "status": {"addresses": status.get("addresses") or []},
    }


def _trim_service(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return {
        "metadata": {"name": md.get("name"), "namespace": md.get("namespace")},
        "spec": {"type": spec.get("type"), "clusterIP": spec.get("clusterIP")},
    }


def _trim_calico(obj: dict[str, Any]) -> dict[str, Any]:
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": md}


_TRIM = {"pods": _trim_pod, "nodes": _trim_node, "services": _trim_service}


def pod_from_api(obj: dict[str, Any]) -> PodInfo:
    """A :class:`PodInfo` from a Kubernetes Pod object."""
    md = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    owners = md.get("ownerReferences") or []
    return PodInfo(
        namespace=md.get("namespace"),
        name=str(md.get("name")),
        ip=(obj.get("status") or {}).get("podIP") or None,
        node=spec.get("nodeName"),
        host_network=bool(spec.get("hostNetwork")),
        owner=f"{owners[0].get('kind')}/{owners[0].get('name')}" if owners else None,
    )


def service_from_api(obj: dict[str, Any]) -> ServiceInfo:
    """A :class:`ServiceInfo` from a Kubernetes Service object."""
    md = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    ip = spec.get("clusterIP")
    return ServiceInfo(
        namespace=md.get("namespace"),
        name=str(md.get("name")),
        type=str(spec.get("type") or "ClusterIP"),
        cluster_ip=None if ip in (None, "", "None") else str(ip),
    )


def block_from_api(obj: dict[str, Any]) -> BlockAffinityInfo:
    """A :class:`BlockAffinityInfo` from a Calico BlockAffinity object."""
    spec = obj.get("spec") or {}
    deleted = spec.get("deleted", False)
    return BlockAffinityInfo(
        node=str(spec.get("node")),
        cidr=ipaddress.ip_network(str(spec.get("cidr")), strict=False),
        state=str(spec.get("state") or "confirmed"),
        deleted=deleted in (True, "true", "True"),
    )


def cluster_state_from_objects(
    host: str, objects: dict[str, list[dict[str, Any]] | None]
) -> ClusterState:
    """Build a :class:`ClusterState` from API object lists keyed by file stem.

    Keys are those of :data:`CALICO_RESOURCES` and :data:`CORE_RESOURCES`; a missing key or
    None means the resource was not read.
    """

    def get(key: str) -> list[dict[str, Any]] | None:
        return objects.get(key)

    pods = get("pods")
    services = get("services")
    blocks = get("blockaffinities")
    return ClusterState(
        host=host,
        bgp_configurations=get("bgpconfigurations"),
        bgp_peers=get("bgppeers"),
        calico_nodes=get("calico_nodes"),
        block_affinities=None if blocks is None else [block_from_api(b) for b in blocks],
        nodes=get("nodes"),
        pods=None if pods is None else [pod_from_api(p) for p in pods],
        services=None if services is None else [service_from_api(s) for s in services],
        raw=dict(objects),
    )


# --------------------------------------------------------------------------- raw outputs


def _write(save_raw: Path | None, host: str, name: str, text: str) -> None:
    if save_raw is None:
        return
    d = save_raw / host
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


def parse_switch_outputs(host: str, outputs: dict[str, str]) -> SwitchState:
    """Parse the raw text of switch commands (keys: commands of :data:`SWITCH_COMMANDS`).

    Raises:
        ParseError: an output is not what its command prints.
    """
    from fabric.parsing import parse

    state = SwitchState(host=host)
    if "show ip bgp summary" in outputs:
        text = outputs["show ip bgp summary"]
        state.bgp_summary = cast("BgpSummary", parse("arista_eos", "show ip bgp summary", text))
    if "show ip route" in outputs:
        state.routes = cast(
            "RouteTable", parse("arista_eos", "show ip route", outputs["show ip route"])
        )
    if "show running-config" in outputs:
        text = outputs["show running-config"]
        state.running_config = cast(
            "RunningConfigBgp", parse("arista_eos", "show running-config", text)
        )
        state.running_config_text = text
    return state


def parse_node_output(host: str, text: str, command: str = DEFAULT_NODE_COMMAND) -> NodeState:
    """Parse a node's ``calicoctl node status`` text.

    Raises:
        ParseError: the text is not ``calicoctl node status`` output.
    """
    from fabric.parsing import parse

    status = cast("CalicoNodeStatus", parse("calico", "calicoctl node status", text))
    return NodeState(host=host, status=status, command=command)


# --------------------------------------------------------------------------- tasks


def collect_switch_state(
    task: Task,
    commands: Sequence[str] = SWITCH_COMMANDS,
    save_raw: Path | None = None,
) -> Result:
    """Read a switch through NAPALM (text, every command in one eAPI request) and parse it.

    Args:
        task: the Nornir task (its host is an EOS switch with a ``napalm`` connection).
        commands: which of :data:`SWITCH_COMMANDS` to run (the deploy gate skips the config).
        save_raw: a folder to keep every raw output in (``<dir>/<host>/<command>.txt``).

    Returns:
        A Result whose ``result`` is a :class:`SwitchState`.

    Raises:
        ParseError: an output could not be parsed (the raw text is saved first).
    """
    from nornir.core.task import Result

    device = task.host.get_connection("napalm", task.nornir.config)
    # One eAPI request for every command (napalm's cli() sends one request per command: with
    # the `show version` of open() that was 4 round trips per switch, now 2).
    replies = device._run_commands(list(commands), encoding="text")
    outputs = {c: str(r["output"]) for c, r in zip(commands, replies, strict=True)}
    for cmd, text in outputs.items():
        _write(save_raw, task.host.name, raw_name(cmd) + ".txt", text)
    return Result(host=task.host, result=parse_switch_outputs(task.host.name, outputs))


#: Client algorithm preferences, put before asyncssh's defaults (which stay as fallbacks for
#: servers that lack them): X25519 key exchange and AES-GCM run in C (``cryptography``); the
#: defaults (ML-KEM hybrid key exchange, chacha20-poly1305 composed per packet in Python)
#: cost ~0.5 ms more CPU per connection on each side for a few hundred bytes of output.
SSH_KEX_ALGS = ("curve25519-sha256", "curve25519-sha256@libssh.org")
SSH_ENCRYPTION_ALGS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")

T = TypeVar("T")


class SshClientLoop:
    """One asyncio event loop in its own thread, running asyncssh for every Nornir worker.

    Worker threads hand it coroutines (:meth:`run`) and block on the answer, so all SSH work
    of a run happens on one thread instead of one paramiko transport thread per connection
    contending for the GIL. Use it through :func:`ssh_client_loop`.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="fabric-ssh", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        """Cancel what is still running, stop the loop, join its thread and close it."""
        if self._loop.is_closed():
            return

        async def _drain() -> None:
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
def ssh_client_loop() -> Iterator[SshClientLoop]:
    """Share one :class:`SshClientLoop` with every :func:`run_ssh_command` until the block ends.

    Nestable (the loop closes when the outermost block ends). Outside such a block,
    :func:`run_ssh_command` runs its own short-lived loop in the calling thread.
    """
    global _SHARED, _SHARED_USERS
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = SshClientLoop()
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
    import asyncssh

    return asyncssh.read_private_key(path)


@functools.lru_cache(maxsize=64)
def _load_known_hosts(files: tuple[tuple[str, int], ...]) -> asyncssh.SSHKnownHosts:
    """known_hosts files (path, mtime) as one set of trusted keys, parsed once per version."""
    import asyncssh

    if not files:
        return asyncssh.import_known_hosts("")
    return asyncssh.read_known_hosts([path for path, _ in files])


@functools.cache
def _algorithms() -> dict[str, list[str]]:
    """Our preferences followed by asyncssh's defaults, as explicit lists.

    Passed as lists, asyncssh takes them as they are; a ``^pattern`` string is expanded with
    wildcard matching on every connection (~0.1 ms each).
    """
    import asyncssh

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


@functools.cache
def _output_session() -> type[Any]:
    """An asyncssh client session that keeps what a command prints (no process/streams)."""
    import asyncssh

    class Output(asyncssh.SSHClientSession[str]):
        def __init__(self) -> None:
            self.stdout: list[str] = []
            self.stderr: list[str] = []

        def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
            err = datatype == asyncssh.EXTENDED_DATA_STDERR
            (self.stderr if err else self.stdout).append(data)

    return Output


def _ssh_key_file(host: Host) -> str | None:
    lab = host.get("lab")
    if isinstance(lab, dict) and lab.get("key_file"):
        return str(lab["key_file"])
    key = host.get("ssh_key_file") or os.environ.get("FABRIC_SSH_KEY_FILE")
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


async def _ssh_exec(
    host: Host,
    command: str,
    key: asyncssh.SSHKey | None,
    known_hosts: asyncssh.SSHKnownHosts | None,
) -> tuple[int, str, str]:
    import asyncssh

    lab = bool(host.get("lab"))
    async with asyncssh.connect(
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
    ) as conn:
        chan, session = await conn.create_session(
            _output_session(), command, encoding="utf-8", errors="replace"
        )
        await chan.wait_closed()
    out: Any = session
    rc = chan.get_exit_status()
    return (-1 if rc is None else rc), "".join(out.stdout), "".join(out.stderr)


def run_ssh_command(host: Host, command: str, timeout: float = 30.0) -> tuple[int, str, str]:
    """Run ``command`` on ``host`` over SSH (asyncssh): its exit status, stdout and stderr.

    Inside :func:`ssh_client_loop` the connection runs on the shared loop; otherwise on a
    loop of its own in the calling thread. ``timeout`` bounds the whole exchange (connect,
    authenticate, run). Host keys: in lab mode (the host has ``lab`` data) any key is
    accepted; otherwise ``~/.ssh/known_hosts`` (plus ``ssh_known_hosts`` from the host data)
    must know it, unless the host sets ``ssh_host_key_policy: auto-add``.

    Raises:
        UnreachableError: the connection, host key check or authentication failed, or the
            exchange took longer than ``timeout``.
    """
    import asyncssh

    # asyncssh logs every connection at INFO: thousands of lines per run, and CPU.
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    target = f"{host.name}: ssh {host.hostname}:{host.port}"
    try:
        key_file = _ssh_key_file(host)
        key = _load_key(key_file, os.stat(key_file).st_mtime_ns) if key_file else None
        known = _known_hosts(host)
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise UnreachableError(f"{target}: {exc}") from exc
    coro = asyncio.wait_for(_ssh_exec(host, command, key, known), timeout)
    try:
        shared = _SHARED
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
            :data:`DEFAULT_NODE_COMMAND`), e.g. ``sudo calicoctl node status``.
        save_raw: a folder to keep the raw output in.

    Returns:
        A Result whose ``result`` is a :class:`NodeState`.

    Raises:
        UnreachableError: SSH failed, or the command failed without printing a status.
        ParseError: the output is not ``calicoctl node status``.
    """
    from nornir.core.task import Result

    cmd = command or str(task.host.get("node_status_command") or DEFAULT_NODE_COMMAND)
    rc, text, err = run_ssh_command(task.host, cmd)
    if rc != 0 and not text.strip():
        first = (err.strip().splitlines() or [""])[0]
        raise UnreachableError(f"{task.host.name}: {cmd!r} exited with status {rc}: {first}")
    # calicoctl exits 1 with "Calico process is not running.": that is state, not an error.
    _write(save_raw, task.host.name, NODE_STATUS_FILE + ".txt", text)
    return Result(host=task.host, result=parse_node_output(task.host.name, text, cmd))


def _kube_list(what: str, call: Any, *args: Any) -> list[dict[str, Any]] | None:
    """Call a kubernetes-client list method for raw JSON; None on 404 (not served)."""
    from kubernetes.client.exceptions import ApiException

    try:
        resp = call(*args, _preload_content=False)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise UnreachableError(f"list {what}: HTTP {exc.status} {exc.reason}") from exc
    data = json.loads(resp.data)
    items: list[dict[str, Any]] = data.get("items") or []
    return items


def collect_cluster_state(task: Task, save_raw: Path | None = None) -> Result:
    """Read Calico and core objects through the ``kubernetes`` client.

    The kubeconfig is the host's ``kubeconfig`` data (``~`` expanded; default
    ``~/.kube/config``) and its ``context`` data (default: the kubeconfig's current context).

    Returns:
        A Result whose ``result`` is a :class:`ClusterState`.

    Raises:
        UnreachableError: the API could not be reached or refused a request.
    """
    from kubernetes import client
    from kubernetes import config as kube_config
    from nornir.core.task import Result

    kubeconfig = str(Path(str(task.host.get("kubeconfig") or "~/.kube/config")).expanduser())
    context = task.host.get("context")
    try:
        api = kube_config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, persist_config=False
        )
    except (kube_config.ConfigException, OSError) as exc:
        raise UnreachableError(f"{task.host.name}: kubeconfig {kubeconfig}: {exc}") from exc
    objects: dict[str, list[dict[str, Any]] | None] = {}
    try:
        custom = client.CustomObjectsApi(api)
        core = client.CoreV1Api(api)
        for stem, plural in CALICO_RESOURCES.items():
            items = _kube_list(
                plural, custom.list_cluster_custom_object, CALICO_GROUP, CALICO_VERSION, plural
            )
            objects[stem] = None if items is None else [_trim_calico(o) for o in items]
        core_calls = {
            "nodes": core.list_node,
            "pods": core.list_pod_for_all_namespaces,
            "services": core.list_service_for_all_namespaces,
        }
        for stem, call in core_calls.items():
            items = _kube_list(stem, call)
            objects[stem] = None if items is None else [_TRIM[stem](o) for o in items]
    except UnreachableError as exc:
        raise UnreachableError(f"{task.host.name}: {exc}") from exc
    except Exception as exc:  # urllib3 connection errors and friends
        raise UnreachableError(f"{task.host.name}: {type(exc).__name__}: {exc}") from exc
    finally:
        api.close()
    for stem, items in objects.items():
        if items is not None:
            _write(save_raw, task.host.name, f"{stem}.json", json.dumps(items, indent=1) + "\n")
    return Result(host=task.host, result=cluster_state_from_objects(task.host.name, objects))


def host_role(host: Host) -> Role | None:
    """The host's role: its ``role`` data, else derived from its platform."""
    role = host.get("role")
    if role in ("switch", "calico_node", "cluster"):
        return role  # type: ignore[no-any-return]
    return {"eos": "switch", "kubernetes": "cluster"}.get(str(host.platform))  # type: ignore[return-value]


def collect_host_state(
    task: Task,
    save_raw: Path | None = None,
    node_command: str | None = None,
    switch_commands: Sequence[str] = SWITCH_COMMANDS,
) -> Result:
    """Collect whatever the host is: a switch, a Calico node or the cluster.

    Raises:
        UnreachableError: the host has no known role.
    """
    role = host_role(task.host)
    if role == "switch":
        return collect_switch_state(task, commands=switch_commands, save_raw=save_raw)
    if role == "calico_node":
        return collect_node_state(task, command=node_command, save_raw=save_raw)
    if role == "cluster":
        return collect_cluster_state(task, save_raw=save_raw)
    raise UnreachableError(f"{task.host.name}: unknown role, nothing to collect")


def failure_kind(exc: BaseException | None) -> Literal["unparsable", "unreachable"]:
    """Classify a failed collection: a parse failure or anything else (unreachable)."""
    return "unparsable" if isinstance(exc, ParseError) else "unreachable"


# --------------------------------------------------------------------------- offline


def _read_objects(d: Path, stem: str) -> list[dict[str, Any]] | None:
    """Objects from ``<stem>.json`` (a list or a List object) or ``<stem>.yaml`` (documents)."""
    j = d / f"{stem}.json"
    y = d / f"{stem}.yaml"
    if j.is_file():
        data = json.loads(j.read_text(encoding="utf-8"))
        docs: Iterable[Any] = data.get("items", []) if isinstance(data, dict) else data
    elif y.is_file():
        docs = [doc for doc in yaml.safe_load_all(y.read_text(encoding="utf-8")) if doc is not None]
        flat: list[Any] = []
        for doc in docs:
            flat.extend(doc.get("items", []) if doc.get("kind", "").endswith("List") else [doc])
        docs = flat
    else:
        return None
    out = [o for o in docs if isinstance(o, dict)]
    return out


def load_saved_cluster(host: str, d: Path) -> ClusterState:
    """Read a cluster host's saved objects (layout in the module docstring).

    Raises:
        ParseError: a file is not valid JSON/YAML, or a pods/services text is unparsable.
    """
    objects: dict[str, list[dict[str, Any]] | None] = {}
    try:
        for stem in (*CALICO_RESOURCES, *CORE_RESOURCES):
            objects[stem] = _read_objects(d, stem)
    except (ValueError, yaml.YAMLError, AttributeError) as exc:
        raise ParseError(f"saved objects in {d}", None, str(exc)) from exc
    state = cluster_state_from_objects(host, objects)
    if state.pods is None and (d / f"{PODS_TEXT}.txt").is_file():
        from fabric.parsing import parse

        text = (d / f"{PODS_TEXT}.txt").read_text(encoding="utf-8")
        plist = cast("PodList", parse("kubernetes", "kubectl get pods -o wide -A", text))
        state.pods = [
            PodInfo(namespace=p.namespace, name=p.name, ip=p.ip, node=p.node) for p in plist.pods
        ]
    if state.services is None and (d / f"{SERVICES_TEXT}.txt").is_file():
        from fabric.parsing import parse

        text = (d / f"{SERVICES_TEXT}.txt").read_text(encoding="utf-8")
        slist = cast("ServiceList", parse("kubernetes", "kubectl get svc -o wide -A", text))
        state.services = [
            ServiceInfo(namespace=s.namespace, name=s.name, type=s.type, cluster_ip=s.cluster_ip)
            for s in slist.services
        ]
    return state


def load_saved_host(
    host: str, role: Role, directory: Path
) -> SwitchState | NodeState | ClusterState:
    """Read one host's saved outputs from ``directory/<host>/``.

    Raises:
        UnreachableError: nothing was saved for this host (it was not collected).
        ParseError: a saved output could not be parsed.
    """
    d = directory / host
    if not d.is_dir():
        raise UnreachableError(f"{host}: no saved outputs ({d} does not exist)")
    if role == "switch":
        outputs = {
            cmd: (d / f"{raw_name(cmd)}.txt").read_text(encoding="utf-8")
            for cmd in SWITCH_COMMANDS
            if (d / f"{raw_name(cmd)}.txt").is_file()
        }
        if not outputs:
            raise UnreachableError(f"{host}: no saved switch outputs in {d}")
        return parse_switch_outputs(host, outputs)
    if role == "calico_node":
        f = d / f"{NODE_STATUS_FILE}.txt"
        if not f.is_file():
            raise UnreachableError(f"{host}: {f} not found")
        return parse_node_output(host, f.read_text(encoding="utf-8"))
    return load_saved_cluster(host, d)
