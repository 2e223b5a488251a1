"""The lab runtime: every simulated device of an inventory on one asyncio loop, on loopback.

One :class:`LabRuntime` runs a background thread with its own event loop. On it live:

* one :class:`~fabric.lab.eos.EosSwitch` per switch (eAPI over HTTPS and HTTP, and its CLI
  over SSH: :class:`~fabric.lab.eos.ssh.EosSshServer`),
* one :class:`~fabric.lab.ssh.NodeSshServer` per Calico node,
* one Kubernetes API (:class:`~fabric.lab.k8s.KubeApiServer`) for the cluster host,
* the control API (status, faults, shutdown) for ``python -m fabric lab ...``,

each host on its own loopback address ``127.B.x.y`` (so ports are the same for every host) and
nothing on any other address. The BGP simulation (:func:`fabric.lab.sim.compute`) is recomputed
lazily, the first time a view is asked for after a switch's running-config or a cluster object
changed. ``endpoints.json`` (docs/architecture.md) is written once every endpoint answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import ipaddress
import json
import os
import random
import secrets
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncssh
from aiohttp import web

from fabric.errors import FabricError, UsageError
from fabric.intent import load_intent
from fabric.lab import seed, sim
from fabric.lab.control import control_app
from fabric.lab.k8s import resources
from fabric.lab.k8s.calico_nodes import (
    IPV4_ANNOTATION,
    CalicoNodes,
    NodeHost,
    PodBackendAdapter,
    annotated_calico_nodes,
)
from fabric.lab.k8s.resources import CALICO_API_MODES
from fabric.lab.model import NodeBgpView, SwitchBgpView
from fabric.lab.pki import ensure_ca, server_context
from fabric.lab.ssh import NodeShell, NodeSshServer, render_calicoctl_node_status
from fabric.models.intent import Intent
from fabric.paths import ProjectPaths

T = TypeVar("T")

EAPI_HTTPS_PORT = 8443
EAPI_HTTP_PORT = 8080
SSH_PORT = 2222
KUBE_PORT = 6443
EOS_USERNAME = "admin"
SSH_USERNAME = "fabric"
CONTEXT = "fabric-lab"

FAULT_KINDS = (
    "link-down",
    "latency",
    "eapi-fail",
    "refuse",
    "k8s-fail",
    "bird-down",
    "withhold-route",
)

#: Kinds whose objects the simulation reads.
_SIM_KINDS = (
    (sim.CALICO, "BGPConfiguration"),
    (sim.CALICO, "BGPPeer"),
    (sim.CALICO, "Node"),
    (sim.CALICO, "IPPool"),
    (sim.CALICO, "BlockAffinity"),
    (sim.CALICO, "BGPFilter"),
    ("v1", "Node"),
    ("v1", "Pod"),
    ("v1", "Secret"),
)
_CALICO_KINDS = {k for a, k in _SIM_KINDS if a == sim.CALICO}
_BATCH_KINDS = {"Job", "CronJob"}
#: What the lab's controllers (ReplicaSets, scheduling, workload status, endpoints) watch.
_CONTROLLED = {
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "Node"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("operator.tigera.io/v1", "Installation"),  # calico-node re-detects its address
}


def _default_api_version(kind: str) -> str:
    """The apiVersion a bare kind means: Calico's, ``batch/v1`` for jobs, else core ``v1``."""
    if kind in _CALICO_KINDS:
        return sim.CALICO
    return "batch/v1" if kind in _BATCH_KINDS else "v1"


class LabError(FabricError):
    """The lab could not start or a lab operation failed."""


@dataclass
class LabCredentials:
    """Per-lab-directory credentials (lab only; stored 0600 in the lab directory)."""

    eos_username: str
    eos_password: str
    ssh_username: str
    ssh_password: str
    kube_token: str

    @classmethod
    def load_or_create(cls, lab_dir: Path) -> LabCredentials:
        """Read ``credentials.json`` or create it with fresh random secrets."""
        path = lab_dir / "credentials.json"
        if path.exists():
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        creds = cls(
            eos_username=EOS_USERNAME,
            eos_password=secrets.token_urlsafe(18),
            ssh_username=SSH_USERNAME,
            ssh_password=secrets.token_urlsafe(18),
            kube_token=secrets.token_urlsafe(32),
        )
        write_private(path, json.dumps(creds.__dict__, indent=2) + "\n")
        return creds


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 (atomically)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _ssh_keys(lab_dir: Path) -> tuple[asyncssh.SSHKey, asyncssh.SSHKey, Path]:
    """The nodes' host key and the client key (``id_ed25519``, for key authentication)."""
    host_path = lab_dir / "ssh_host_ed25519_key"
    client_path = lab_dir / "id_ed25519"
    keys: list[asyncssh.SSHKey] = []
    for path in (host_path, client_path):
        if path.exists():
            keys.append(asyncssh.read_private_key(str(path)))
            continue
        key = asyncssh.generate_private_key("ssh-ed25519")
        write_private(path, key.export_private_key().decode())
        path.with_name(path.name + ".pub").write_text(
            key.export_public_key().decode(), encoding="utf-8"
        )
        keys.append(key)
    return keys[0], keys[1], client_path


@dataclass
class _HostFaults:
    link_down: bool = False
    bird_down: bool = False
    refused: bool = False
    withheld: set[ipaddress.IPv4Network] = field(default_factory=set)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Switch:
    name: str
    address: str
    device: Any  # fabric.lab.eos.EosSwitch
    context: ssl.SSLContext
    runner: web.AppRunner | None = None
    sites: list[web.TCPSite] = field(default_factory=list)
    ssh: Any = None  # fabric.lab.eos.ssh.EosSshServer


@dataclass
class _Cluster:
    name: str
    address: str
    context: ssl.SSLContext
    app: web.Application
    runner: web.AppRunner | None = None
    site: web.TCPSite | None = None


def _drop_connections(runner: web.AppRunner | None) -> None:
    """Close the connections a stopped site still serves.

    Stopping a site only closes its listener; an agent that really goes away (the ``refuse``
    fault) also drops the keep-alive connections clients hold, so they see the failure too.
    """
    if runner is not None and runner.server is not None:
        for handler in list(runner.server.connections):
            transport = handler.transport
            handler.force_close()
            # abort(), not close(): a TLS close waits for the client's close_notify and would
            # leave the socket open (and leaked) if the lab's loop stops first.
            if transport is not None:
                transport.abort()


def _addresses(base: int, count: int) -> list[str]:
    out = []
    for i in range(count):
        out.append(f"127.{base}.{i // 250}.{i % 250 + 1}")
    return out


def default_address_base(lab_dir: Path) -> int:
    """A stable second octet for a lab directory (``lab up`` keeps its addresses)."""
    import zlib

    return 100 + zlib.crc32(str(lab_dir.resolve()).encode()) % 100


class LabRuntime:
    """The simulated network of one inventory (see docs/lab.md and docs/architecture.md).

    Args:
        paths: the project (its inventory decides which hosts exist).
        lab_dir: where state, credentials, certificates and ``endpoints.json`` live.
        fresh: start with empty switches and cluster (drop the saved state).
        address_base: the second octet B of the hosts' ``127.B.x.y`` addresses; None picks a
            free one.
        seeded: load the write-up's switch config and Calico objects (the rendered intent for
            hosts that are not the write-up's).
        allow_base_fallback: with an explicit ``address_base`` that is busy, pick another.
        calico_api: ``v3`` (the Calico API server's ``projectcalico.org/v3`` is served) or
            ``crd`` (no Calico API server: Calico's objects are ``crd.projectcalico.org/v1``
            custom resources); see docs/lab.md.
        calico_namespace: where calico-node runs: ``calico-system`` (a Tigera operator
            install, with an ``Installation``) or ``kube-system`` (a manifest install, none).
        autodetection: the Installation's ``nodeAddressAutodetectionV4`` (default
            ``{"firstFound": True}``, the operator's default).
        calico_version: the Calico release the cluster runs (``ClusterInformation``,
            ``Installation`` status, images); default ``v<calico.version>.0`` of the intent.
    """

    def __init__(
        self,
        paths: ProjectPaths,
        lab_dir: Path,
        *,
        fresh: bool = True,
        address_base: int | None = None,
        seeded: bool = False,
        allow_base_fallback: bool = False,
        calico_api: str = "v3",
        calico_namespace: str = "calico-system",
        autodetection: dict[str, Any] | None = None,
        calico_version: str | None = None,
    ) -> None:
        if calico_api not in CALICO_API_MODES:
            raise UsageError(
                f"calico_api is one of {', '.join(CALICO_API_MODES)}, not {calico_api!r}"
            )
        if calico_namespace not in ("calico-system", "kube-system"):
            raise UsageError(
                "calico_namespace is calico-system (operator) or kube-system (manifest)"
            )
        self.calico_api = calico_api
        self.calico_namespace = calico_namespace
        self.autodetection = autodetection
        self.calico_version = calico_version
        self.paths = paths
        self.lab_dir = Path(lab_dir).resolve()
        self.fresh = fresh
        self.seeded = seeded
        self._base_request = address_base
        self._allow_fallback = allow_base_fallback
        self.address_base: int | None = None
        self.endpoints: dict[str, Any] = {}
        self.stop_requested = threading.Event()
        self.intent: Intent | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._switches: dict[str, _Switch] = {}
        self._nodes: dict[str, NodeSshServer] = {}
        self._cluster: _Cluster | None = None
        self._store: Any = None  # fabric.lab.k8s.KubeStore
        self._control: web.AppRunner | None = None
        self._control_url = ""
        self._control_token = ""
        self._faults: dict[str, _HostFaults] = {}
        self._dirty = True
        self._result: sim.SimResult | None = None
        self._since: sim.SinceMap = {}
        self._objects: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._derived_version: int | None = None
        self._facts: list[sim.NodeFacts] = []
        self._deleted_pods: list[dict[str, Any]] = []
        self._reconcile_pending = False
        self._workloads_changed = True  # the first pass runs whatever the store starts with
        self._creds: LabCredentials | None = None
        self._pods = PodBackendAdapter()
        self._calico: CalicoNodes | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 120.0) -> None:
        """Start every device, wait until each answers, write ``endpoints.json``.

        Raises:
            ValidationError: the inventory is invalid.
            LabError: an endpoint could not be bound or did not answer in time.
        """
        report = load_intent(self.paths)
        assert report.intent is not None
        self.intent = report.intent
        self._facts = seed.node_facts(self.intent)
        self.lab_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.lab_dir, 0o700)
        if self.fresh:
            shutil.rmtree(self.lab_dir / "state", ignore_errors=True)
        self._check_mode(self.lab_dir / "state")
        (self.lab_dir / "endpoints.json").unlink(missing_ok=True)
        self._creds = LabCredentials.load_or_create(self.lab_dir)
        ensure_ca(self.lab_dir)
        self._control_token = secrets.token_urlsafe(24)
        write_private(self.lab_dir / "control.token", self._control_token + "\n")

        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop, ready), name="fabric-lab", daemon=True
        )
        self._thread.start()
        ready.wait()
        try:
            self._call(self._astart(), timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def _run_loop(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        if self._loop is None or not self._loop.is_running():
            coro.close()
            raise LabError("the lab is not running")
        if threading.current_thread() is self._thread:
            coro.close()
            raise LabError("LabRuntime's blocking API called from the lab's own loop")
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return fut.result(timeout)

    def stop(self) -> None:
        """Stop every endpoint, remove ``endpoints.json`` and end the loop thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None:
            return
        if loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._astop(), loop).result(60)
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(30)
        self._loop = None
        self._thread = None
        (self.lab_dir / "endpoints.json").unlink(missing_ok=True)
        (self.lab_dir / "control.token").unlink(missing_ok=True)

    def __enter__(self) -> LabRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ start-up (on the loop)

    async def _astart(self) -> None:
        from fabric.lab.eos import EosSwitch
        from fabric.lab.k8s import KubeApiServer, KubeStore, write_kubeconfig
        from fabric.lab.k8s.kubeconfig import write_kubeconfig_exec

        intent, creds = self.intent, self._creds
        assert intent is not None and creds is not None
        state = self.lab_dir / "state"
        self._store = KubeStore(state / "cluster", on_change=self._changed)
        self._store.add_watcher(self._on_store_event)
        host_key, client_key, client_key_path = _ssh_keys(self.lab_dir)

        names = [s.name for s in intent.switches] + [n.name for n in intent.nodes]
        names.append(intent.cluster.name)
        bases = self._candidate_bases()
        last_error: OSError | None = None
        for base in bases:
            addrs = dict(zip(names, _addresses(base, len(names)), strict=True))
            try:
                await self._bind_all(intent, addrs, EosSwitch, KubeApiServer, host_key, client_key)
            except OSError as exc:
                last_error = exc
                await self._close_listeners()
                if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                    raise
                continue
            self.address_base = base
            break
        else:
            raise LabError(f"no free loopback address block for the lab: {last_error}")

        self._seed_content(intent, creds)
        await self._start_control()
        await self._wait_answering()
        self._sim()  # the first simulation step: calico-node's log starts with BIRD's start-up

        cluster = self._cluster
        assert cluster is not None
        kubeconfig = self.lab_dir / "kubeconfig"
        write_kubeconfig(
            kubeconfig,
            server=f"https://{cluster.address}:{KUBE_PORT}",
            ca_file=self.lab_dir / "ca.pem",
            token=creds.kube_token,
            context=CONTEXT,
        )
        os.chmod(kubeconfig, 0o600)
        write_kubeconfig_exec(
            self.lab_dir / "kubeconfig-exec",
            server=f"https://{cluster.address}:{KUBE_PORT}",
            ca_file=self.lab_dir / "ca.pem",
            lab_dir=self.lab_dir,
            context=CONTEXT,
        )
        hosts: dict[str, Any] = {}
        for s in intent.switches:
            sw = self._switches[s.name]
            hosts[s.name] = {
                "kind": "switch",
                "hostname": sw.address,
                "port": EAPI_HTTPS_PORT,
                "transport": "https",
                "http_port": EAPI_HTTP_PORT,
                "ssh_port": SSH_PORT,
                "username": creds.eos_username,
                "password": creds.eos_password,
                "eos_version": s.eos_version or "4.30.3M",
            }
        for n in intent.nodes:
            hosts[n.name] = {
                "kind": "node",
                "hostname": self._nodes[n.name].host,
                "port": SSH_PORT,
                "username": creds.ssh_username,
                "password": creds.ssh_password,
                "key_file": str(client_key_path),
            }
        hosts[cluster.name] = {
            "kind": "cluster",
            "hostname": cluster.address,
            "port": KUBE_PORT,
            "kubeconfig": str(kubeconfig),
            "context": CONTEXT,
            "kubeconfig_exec": str(self.lab_dir / "kubeconfig-exec"),
            "calico_api": self.calico_api,
        }
        self.endpoints = {
            "pid": os.getpid(),
            "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "control_url": self._control_url,
            "ca_file": str(self.lab_dir / "ca.pem"),
            "hosts": hosts,
        }
        write_private(self.lab_dir / "endpoints.json", json.dumps(self.endpoints, indent=2) + "\n")

    def _candidate_bases(self) -> list[int]:
        if self._base_request is not None:
            rest = [b for b in range(2, 255) if b != self._base_request]
            random.shuffle(rest)
            return [self._base_request, *(rest[:20] if self._allow_fallback else [])]
        pool = list(range(2, 255))
        random.shuffle(pool)
        return pool[:25]

    async def _bind_all(
        self,
        intent: Intent,
        addrs: dict[str, str],
        eos_cls: Any,
        api_cls: Any,
        host_key: asyncssh.SSHKey,
        client_key: asyncssh.SSHKey,
    ) -> None:
        from fabric.lab.eos.ssh import EosSshServer

        creds = self._creds
        assert creds is not None
        state = self.lab_dir / "state"
        for s in intent.switches:
            addr = addrs[s.name]
            device = self._switches[s.name].device if s.name in self._switches else None
            if device is None:
                device = eos_cls(
                    s.name,
                    eos_version=s.eos_version or "4.30.3M",
                    hostname=s.name,
                    state_dir=state / "switches" / s.name,
                    username=creds.eos_username,
                    password=creds.eos_password,
                    on_change=self._switch_changed,
                )
                device.bgp_view = self._bgp_view_for(s.name)
            ctx = server_context(self.lab_dir, f"{s.name}@{addr}", [addr, "localhost"])
            sw = _Switch(s.name, addr, device, ctx)
            sw.ssh = EosSshServer(
                device,
                host=addr,
                port=SSH_PORT,
                username=creds.eos_username,
                password=creds.eos_password,
                host_key=host_key,
                client_keys=[client_key],
            )
            self._switches[s.name] = sw
            await self._open_switch(sw)
        for n in intent.nodes:
            shell = NodeShell(n.name, self._node_view_for(n.name), self._bird_since_for(n.name))
            server = NodeSshServer(
                shell,
                host=addrs[n.name],
                port=SSH_PORT,
                username=creds.ssh_username,
                password=creds.ssh_password,
                host_key=host_key,
                client_keys=[client_key],
            )
            self._nodes[n.name] = server
            await server.start()
        caddr = addrs[intent.cluster.name]
        api = api_cls(
            self._store, token=creds.kube_token, calico_api=self.calico_api, pods=self._pods
        )
        cluster = _Cluster(
            intent.cluster.name,
            caddr,
            server_context(self.lab_dir, f"{intent.cluster.name}@{caddr}", [caddr, "localhost"]),
            api.app(),
        )
        self._cluster = cluster
        await self._open_cluster(cluster)

    async def _open_switch(self, sw: _Switch) -> None:
        if sw.runner is None:
            sw.runner = web.AppRunner(sw.device.app(), access_log=None, handle_signals=False)
            await sw.runner.setup()
        if sw.sites:
            return
        sites = [
            web.TCPSite(
                sw.runner, sw.address, EAPI_HTTPS_PORT, ssl_context=sw.context, reuse_address=True
            ),
            web.TCPSite(sw.runner, sw.address, EAPI_HTTP_PORT, reuse_address=True),
        ]
        for site in sites:
            await site.start()
            sw.sites.append(site)
        if sw.ssh is not None:
            await sw.ssh.start()

    async def _close_switch_sites(self, sw: _Switch) -> None:
        sites, sw.sites = sw.sites, []
        for site in sites:
            await site.stop()
        _drop_connections(sw.runner)
        if sw.ssh is not None:
            await sw.ssh.close()

    async def _open_cluster(self, cluster: _Cluster) -> None:
        if cluster.runner is None:
            cluster.runner = web.AppRunner(cluster.app, access_log=None, handle_signals=False)
            await cluster.runner.setup()
        if cluster.site is None:
            site = web.TCPSite(
                cluster.runner,
                cluster.address,
                KUBE_PORT,
                ssl_context=cluster.context,
                reuse_address=True,
            )
            await site.start()
            cluster.site = site

    async def _close_listeners(self) -> None:
        for sw in self._switches.values():
            await self._close_switch_sites(sw)
            if sw.runner is not None:
                await sw.runner.cleanup()
                sw.runner = None
        for server in self._nodes.values():
            await server.close()
        self._nodes.clear()
        if self._cluster is not None:
            if self._cluster.runner is not None:
                await self._cluster.runner.cleanup()
            self._cluster = None

    async def _astop(self) -> None:
        await self._close_listeners()
        for sw in self._switches.values():
            with contextlib.suppress(Exception):
                sw.device.close()
        if self._control is not None:
            await self._control.cleanup()
            self._control = None

    def _seed_content(self, intent: Intent, creds: LabCredentials) -> None:
        store = self._store
        for s in intent.switches:
            device = self._switches[s.name].device
            if self.seeded:
                device.load_config(
                    seed.seeded_switch_config(
                        s.name, intent, self.paths.templates, device.running_config
                    )
                )
        calico = self._calico_nodes(intent)
        if not store.list("v1", "Node"):
            for obj in self._install_objects(intent):
                store.put(obj)
            calico.reconcile()  # detect with the seeded Installation, before the Nodes exist
            calico_pods = seed.calico_node_pods(
                intent, namespace=self.calico_namespace, version=self._version(intent)
            )
            objects = seed.base_cluster_objects(intent, calico_pods)
            for obj in objects:
                if obj["kind"] == "Node" and obj["apiVersion"] == "v1":
                    address = calico.detections[obj["metadata"]["name"]].address
                    if address is not None:
                        annotations = obj["metadata"].setdefault("annotations", {})
                        annotations[IPV4_ANNOTATION] = address.with_prefixlen
                if (
                    obj["kind"] != "Namespace"
                    or store.get("v1", "Namespace", obj["metadata"]["name"]) is None
                ):
                    store.put(seed.for_calico_api(obj, self.calico_api))
            if self.calico_api == "crd":
                # No Calico API server: no calico-apiserver namespace (its pods, its service).
                store.delete("v1", "Namespace", "calico-apiserver")
        calico.reconcile()
        self._facts = seed.node_facts(intent, calico.detected())
        world = self._world()
        for obj in sim.plan_block_affinities(world, seed.SEED_BLOCKS):
            store.put(seed.for_calico_api(obj, self.calico_api))
        if self.seeded:
            for obj in seed.seeded_calico_objects(intent, self.paths.templates):
                store.put(seed.for_calico_api(obj, self.calico_api))
        self._dirty = True

    # ------------------------------------------------------------------ Calico as installed

    def _version(self, intent: Intent) -> str:
        return self.calico_version or seed.calico_version(intent)

    def _install_objects(self, intent: Intent) -> list[dict[str, Any]]:
        """CustomResourceDefinitions, the operator's objects, ``ClusterInformation``."""
        version = self._version(intent)
        operator = self.calico_namespace == "calico-system"
        objs: list[dict[str, Any]] = [dict(crd) for crd in resources.custom_resource_definitions()]
        if operator:
            objs.append(
                seed.installation(intent, version=version, autodetection=self.autodetection)
            )
            if self.calico_api == "v3":
                objs.append(seed.api_server())
        api = sim.CALICO if self.calico_api == "v3" else resources.CRD_API_VERSION
        objs.append(
            seed.cluster_information(intent, api_version=api, version=version, operator=operator)
        )
        return objs

    def _calico_nodes(self, intent: Intent) -> CalicoNodes:
        hosts = {}
        for node in intent.nodes:
            interfaces, default = seed.node_interfaces(intent, node)
            internal = str(node.mgmt_ip or node.bgp_ip)
            hosts[node.name] = NodeHost(tuple(interfaces), default, internal)

        def view(name: str) -> tuple[NodeBgpView, float]:
            result = self._sim()
            return result.node_view(name), result.nodes[name].bird_since

        calico = CalicoNodes(self._store, hosts, version=self._version(intent), view=view)
        self._calico = calico
        self._pods.nodes = calico
        return calico

    def _check_mode(self, state: Path) -> None:
        """Refuse to reuse a lab state made in the other Calico API mode (objects differ)."""
        marker = state / "calico_api"
        if marker.exists():
            made = marker.read_text(encoding="utf-8").strip()
            if made != self.calico_api:
                raise UsageError(
                    f"the lab state in {state} was made with --calico-api {made}; start it "
                    f"with --calico-api {made}, or with --fresh to switch to {self.calico_api}"
                )
            return
        if (state / "cluster").exists():
            made = "v3"  # labs made before the option existed served v3
            if made != self.calico_api:
                raise UsageError(
                    f"the lab state in {state} was made with --calico-api v3; use --fresh to "
                    f"switch to {self.calico_api}"
                )
        state.mkdir(parents=True, exist_ok=True)
        marker.write_text(self.calico_api + "\n", encoding="utf-8")

    async def _wait_answering(self, deadline_s: float = 60.0) -> None:
        targets: list[tuple[str, int]] = []
        for sw in self._switches.values():
            targets += [(sw.address, p) for p in (EAPI_HTTPS_PORT, EAPI_HTTP_PORT, SSH_PORT)]
        targets += [(n.host, SSH_PORT) for n in self._nodes.values()]
        if self._cluster is not None:
            targets.append((self._cluster.address, KUBE_PORT))
        sem = asyncio.Semaphore(256)

        async def probe(host: str, port: int) -> None:
            end = time.monotonic() + deadline_s
            async with sem:
                while True:
                    try:
                        _reader, writer = await asyncio.open_connection(host, port)
                    except OSError:
                        if time.monotonic() > end:
                            raise LabError(f"lab endpoint {host}:{port} does not answer") from None
                        await asyncio.sleep(0.05)
                        continue
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                    return

        await asyncio.gather(*(probe(h, p) for h, p in targets))

    # ------------------------------------------------------------------ control API

    async def _start_control(self) -> None:
        runner = web.AppRunner(
            control_app(self, self._control_token), access_log=None, handle_signals=False
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # aiohttp keeps the asyncio server here
        assert isinstance(server, asyncio.base_events.Server)
        port = server.sockets[0].getsockname()[1]
        self._control = runner
        self._control_url = f"http://127.0.0.1:{port}"

    # ------------------------------------------------------------------ simulation

    def _switch_changed(self) -> None:
        # A switch's config changes only the sessions: the cluster needs no reconciling.
        self._dirty = True

    def _changed(self) -> None:
        self._dirty = True
        loop = self._loop
        if not self._workloads_changed:
            return  # a Calico object or a switch: nothing for the controllers to do
        if loop is not None and not self._reconcile_pending and self._store is not None:
            self._reconcile_pending = True
            if threading.current_thread() is self._thread:
                loop.call_soon(self._reconcile)
            else:
                loop.call_soon_threadsafe(self._reconcile)

    def _world(self, *, reuse: bool = False) -> sim.World:
        """The simulation's input; ``reuse`` keeps the cluster part while the store is unchanged."""
        intent = self.intent
        assert intent is not None
        version = self._store.resource_version
        derived = None
        if reuse and self._result is not None and version == self._derived_version:
            objects = self._objects
            derived = self._result.derived
        else:
            objects = self._sim_objects()
            self._objects = objects
            self._derived_version = version
        not_running = self._calico.not_running() if self._calico is not None else frozenset()
        return sim.World(
            nodes=self._facts,
            switches={name: sw.device.snapshot() for name, sw in self._switches.items()},
            objects=objects,
            link_down=frozenset(h for h, f in self._faults.items() if f.link_down),
            bird_down=frozenset(h for h, f in self._faults.items() if f.bird_down) | not_running,
            withheld={h: frozenset(f.withheld) for h, f in self._faults.items() if f.withheld},
            pod_cidr=intent.cluster.calico.pod_cidr,
            block_size=intent.cluster.calico.block_size,
            previous=self._since,
            derived=derived,
        )

    def _sim_objects(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The objects the simulation reads, keyed as ``projectcalico.org/v3`` whatever the mode.

        In ``crd`` mode Calico's kinds are read from their ``crd.projectcalico.org/v1`` custom
        resources (same spec). Calico ``Node`` objects are derived from the core Nodes'
        ``projectcalico.org/*`` annotations, where a Kubernetes-datastore cluster keeps them;
        in ``v3`` mode the lab's stored ``projectcalico.org/v3`` Nodes take precedence.
        """
        store = self._store
        calico_source = resources.CRD_API_VERSION if self.calico_api == "crd" else sim.CALICO
        out: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for api, kind in _SIM_KINDS:
            if (api, kind) != (sim.CALICO, "Node"):
                out[(api, kind)] = store.list(calico_source if api == sim.CALICO else api, kind)
        nodes = {
            o["metadata"]["name"]: o
            for o in annotated_calico_nodes(out[("v1", "Node")], sim.CALICO)
        }
        if self.calico_api == "v3":
            nodes.update({o["metadata"]["name"]: o for o in store.list(sim.CALICO, "Node")})
        out[(sim.CALICO, "Node")] = [nodes[name] for name in sorted(nodes)]
        return out

    def _sim(self) -> sim.SimResult:
        if self._dirty or self._result is None:
            self._dirty = False
            result = sim.compute(self._world(reuse=True), time.time())
            self._since = result.since
            self._result = result
            if self._calico is not None:
                # calico-node's log records every change the simulation shows
                self._calico.observe(
                    {
                        name: (result.node_view(name), st.bird_since)
                        for name, st in result.nodes.items()
                    }
                )
        return self._result

    def _bgp_view_for(self, name: str) -> Callable[[], SwitchBgpView]:
        def view() -> SwitchBgpView:
            base = self._sim().switches.get(name)
            if base is None:
                return SwitchBgpView(router_id=None, local_as=None)
            return _with_counters(base, time.time())

        return view

    def _node_view_for(self, name: str) -> Callable[[], NodeBgpView]:
        return lambda: self._sim().node_view(name)

    def _bird_since_for(self, name: str) -> Callable[[], float]:
        return lambda: self._sim().nodes[name].bird_since

    # ------------------------------------------------------------------ pods (IPAM, ReplicaSets)

    def _on_store_event(self, event: str, obj: dict[str, Any]) -> None:
        """Store watcher (runs under the store lock): deleted pods, and work for the controllers.

        The controllers run only after a change to what they watch: a deploy writing 1,000
        Calico objects must not run them 1,000 times.
        """
        if (obj.get("apiVersion"), obj.get("kind")) in _CONTROLLED:
            self._workloads_changed = True
        if event == "DELETED" and obj.get("apiVersion") == "v1" and obj.get("kind") == "Pod":
            self._deleted_pods.append(obj)

    def _record(self, objs: list[dict[str, Any]]) -> None:
        for obj in objs:
            self._store.put(obj)

    def _reconcile(self) -> None:
        """Run the cluster's controllers once (see :mod:`fabric.lab.k8s.controllers`).

        Events for deleted pods (the kubelet's ``Killing``); each ReplicaSet recreates its
        missing pods (``SuccessfulCreate``) on the node with the fewest of its pods; a pod without
        an IP is scheduled and addressed from its node's block (``Scheduled``, ``Pulled``,
        ``Created``, ``Started``); workload statuses follow their pods; every service's Endpoints
        and EndpointSlice follow its ready pods.
        """
        from fabric.lab.k8s import controllers

        self._reconcile_pending = False
        self._workloads_changed = False
        store = self._store
        if store is None or self.intent is None:
            return
        if self._calico is not None and self._calico.reconcile():
            # the operator rolled calico-node out with a new autodetection or BGP setting
            self._facts = seed.node_facts(self.intent, self._calico.detected())
            self._derived_version = None
            self._dirty = True
        now = time.time()
        deleted, self._deleted_pods = self._deleted_pods, []
        for i, pod in enumerate(deleted):
            if (pod.get("spec") or {}).get("nodeName"):
                self._record(controllers.killing_events(pod, now, seq=100 * i))
        pods = store.list("v1", "Pod")
        seq = 10_000
        for rs in store.list("apps/v1", "ReplicaSet"):
            mine = controllers.owned_by(pods, rs)
            want = int((rs.get("spec") or {}).get("replicas", 1))
            for _ in range(want - len(mine)):
                new = controllers.pod_from_replica_set(rs, seed.pod_suffix())
                created = self._start_pod(new, self._least_loaded(mine, pods), now, seq)
                self._record(
                    controllers.events(
                        rs,
                        "SuccessfulCreate",
                        f"Created pod: {created['metadata']['name']}",
                        component="replicaset-controller",
                        now=now,
                        seq=seq + 99,
                    )
                )
                seq += 100
                mine.append(created)
                pods.append(created)
        for pod in pods:
            status = pod.get("status") or {}
            spec = pod.get("spec") or {}
            if status.get("podIP") or spec.get("hostNetwork"):
                continue
            node = spec.get("nodeName") or self._schedule(pod, pods)
            if node is None:
                continue
            self._start_pod(json.loads(json.dumps(pod)), node, now, seq)
            seq += 100
        self._sync_controllers(store.list("v1", "Pod"))

    def _least_loaded(self, mine: list[dict[str, Any]], pods: list[dict[str, Any]]) -> str:
        """The node with the fewest of a ReplicaSet's pods (then the fewest pods overall)."""
        assert self.intent is not None
        nodes = [n.name for n in self.intent.nodes]
        per_node = {n: 0 for n in nodes}
        total = {n: 0 for n in nodes}
        for p in pods:
            node = (p.get("spec") or {}).get("nodeName")
            if node in total:
                total[node] += 1
        for p in mine:
            node = (p.get("spec") or {}).get("nodeName")
            if node in per_node:
                per_node[node] += 1
        return min(nodes, key=lambda n: (per_node[n], total[n], n))

    def _start_pod(self, pod: dict[str, Any], node: str, now: float, seq: int) -> dict[str, Any]:
        """Bind ``pod`` to ``node``, address it, store it, and record what the node reports."""
        from fabric.lab.k8s import controllers

        pod.setdefault("spec", {})["nodeName"] = node
        self._assign_ip(pod, node)
        created = dict(self._store.put(pod))
        self._record(controllers.container_events(created, node, now, seq=seq))
        return created

    def _sync_controllers(self, pods: list[dict[str, Any]]) -> None:
        """Workload statuses and service endpoints as the controllers keep them."""
        from fabric.lab.k8s import controllers

        store = self._store
        replica_sets = store.list("apps/v1", "ReplicaSet")
        for rs in replica_sets:
            self._put_status(rs, controllers.replica_set_status(rs, pods))
        for dep in store.list("apps/v1", "Deployment"):
            self._put_status(dep, controllers.deployment_status(dep, replica_sets, pods))
        for ds in store.list("apps/v1", "DaemonSet"):
            self._put_status(ds, controllers.daemon_set_status(ds, pods))
        apiservers = [
            a["address"]
            for n in store.list("v1", "Node")
            if "node-role.kubernetes.io/control-plane" in (n["metadata"].get("labels") or {})
            for a in (n.get("status") or {}).get("addresses") or []
            if a.get("type") == "InternalIP"
        ]
        wanted: set[tuple[str, str, str]] = set()
        for svc in store.list("v1", "Service"):
            pair = controllers.service_endpoints(svc, pods, apiservers)
            if pair is None:
                continue
            for obj in pair:
                meta = obj["metadata"]
                wanted.add((obj["kind"], meta["namespace"], meta["name"]))
                old = store.get(obj["apiVersion"], obj["kind"], meta["name"], meta["namespace"])
                if old is None or {k: v for k, v in old.items() if k != "metadata"} != {
                    k: v for k, v in obj.items() if k != "metadata"
                }:
                    store.put(obj)
        # the garbage collector: endpoints of services that are gone
        for api, kind in (("v1", "Endpoints"), ("discovery.k8s.io/v1", "EndpointSlice")):
            for obj in store.list(api, kind):
                meta = obj["metadata"]
                managed = kind == "Endpoints" or (meta.get("labels") or {}).get(
                    "kubernetes.io/service-name"
                )
                if managed and (kind, meta["namespace"], meta["name"]) not in wanted:
                    store.delete(api, kind, meta["name"], meta["namespace"])

    def _put_status(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        if obj.get("status") != status:
            self._store.put({**obj, "status": status})

    def _schedule(self, pod: dict[str, Any], pods: list[dict[str, Any]]) -> str | None:
        assert self.intent is not None
        nodes = [n.name for n in self.intent.nodes]
        spec = pod.get("spec") or {}
        wanted: set[str] | None = None
        sel = spec.get("nodeSelector") or {}
        if "kubernetes.io/hostname" in sel:
            wanted = {str(sel["kubernetes.io/hostname"])}
        affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        ) or {}
        for term in affinity.get("nodeSelectorTerms") or []:
            for expr in term.get("matchExpressions") or []:
                if expr.get("key") == "kubernetes.io/hostname" and expr.get("operator") == "In":
                    wanted = set(expr.get("values") or [])
        candidates = [n for n in nodes if wanted is None or n in wanted]
        if not candidates:
            return None
        count = {n: 0 for n in candidates}
        for p in pods:
            node = (p.get("spec") or {}).get("nodeName")
            if node in count:
                count[node] += 1
        return min(candidates, key=lambda n: (count[n], n))

    def _assign_ip(self, pod: dict[str, Any], node: str) -> None:
        ip = sim.next_pod_ip(self._world(), node)
        assert self.intent is not None
        host = self.intent.node(node)
        host_ip = str(host.mgmt_ip or host.bgp_ip)
        containers = list((pod.get("spec") or {}).get("containers") or [])
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pod["status"] = {
            "phase": "Running",
            "hostIP": host_ip,
            "podIP": str(ip) if ip else None,
            "podIPs": [{"ip": str(ip)}] if ip else [],
            "startTime": now,
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                seed.container_status(c.get("name", "c"), str(c.get("image", "busybox")), 0, now)
                for c in containers
            ],
        }

    # ------------------------------------------------------------------ faults

    def fault(self, host: str, kind: str, **params: Any) -> None:
        """Inject a fault (see docs/lab.md).

        Kinds: ``link-down`` (node or switch), ``latency`` (switch; ``ms``), ``eapi-fail``
        (switch; ``count``, ``status`` = ``http500``/``eapi``, ``match``), ``refuse`` (any host:
        its listener closes), ``k8s-fail`` (cluster; ``count``, ``status`` = 409/500),
        ``bird-down`` (node), ``withhold-route`` (node; ``prefix``: the node stops advertising
        that prefix, its sessions stay up; repeat for more prefixes).

        Raises:
            UsageError: unknown host or kind, a kind that does not apply to the host, or a
                bad parameter.
        """
        self._call(self.afault(host, kind, params))

    def clear_faults(self, host: str | None = None) -> None:
        """Remove every fault (of one host, or of all)."""
        self._call(self.aclear(host))

    def faults(self) -> dict[str, dict[str, Any]]:
        """The active faults by host."""
        out: dict[str, dict[str, Any]] = {}
        for host, f in self._faults.items():
            active = dict(f.params)
            if f.link_down:
                active["link-down"] = {}
            if f.bird_down:
                active["bird-down"] = {}
            if f.refused:
                active["refuse"] = {}
            if active:
                out[host] = active
        return out

    def _host_kind(self, host: str) -> str:
        if host in self._switches:
            return "switch"
        if host in self._nodes:
            return "node"
        if self._cluster is not None and host == self._cluster.name:
            return "cluster"
        raise UsageError(f"unknown lab host {host!r}")

    async def afault(self, host: str, kind: str, params: dict[str, Any]) -> None:
        """Inject a fault (on the lab's loop); see :meth:`fault`."""
        hkind = self._host_kind(host)
        if kind not in FAULT_KINDS:
            raise UsageError(f"unknown fault {kind!r} (one of {', '.join(FAULT_KINDS)})")
        allowed = {
            "link-down": ("switch", "node"),
            "latency": ("switch",),
            "eapi-fail": ("switch",),
            "refuse": ("switch", "node", "cluster"),
            "k8s-fail": ("cluster",),
            "bird-down": ("node",),
            "withhold-route": ("node",),
        }[kind]
        if hkind not in allowed:
            raise UsageError(f"fault {kind} applies to {' or '.join(allowed)} hosts, not {host}")
        f = self._faults.setdefault(host, _HostFaults())
        if kind == "link-down":
            f.link_down = True
            self._dirty = True
            if host in self._switches:  # its ports and SVIs show the link down too
                self._switches[host].device.faults.link_down = True
        elif kind == "bird-down":
            f.bird_down = True
            self._dirty = True
        elif kind == "withhold-route":
            text = str(params.get("prefix") or "")
            try:
                prefix = ipaddress.IPv4Network(text)
            except ValueError as exc:
                raise UsageError(f"withhold-route needs an IPv4 prefix, not {text!r}") from exc
            f.withheld.add(prefix)
            f.params["withhold-route"] = {"prefixes": sorted(str(n) for n in f.withheld)}
            self._dirty = True
        elif kind == "latency":
            ms = float(params.get("ms", 0))
            self._switches[host].device.faults.latency_s = ms / 1000.0
            f.params["latency"] = {"ms": ms}
        elif kind == "eapi-fail":
            count = int(params.get("count", 1))
            status = str(params.get("status", "eapi"))
            if status not in ("http500", "eapi"):
                raise UsageError("eapi-fail --status is http500 or eapi")
            faults = self._switches[host].device.faults
            faults.fail_on_call = count
            faults.fail_kind = status
            faults.fail_match = params.get("match") or None
            f.params["eapi-fail"] = {"count": count, "status": status, "match": faults.fail_match}
        elif kind == "k8s-fail":
            count = int(params.get("count", 1))
            code = int(params.get("status", 500))
            if code not in (409, 500):
                raise UsageError("k8s-fail --status is 409 or 500")
            self._store.faults.fail_on_write = count
            self._store.faults.status = code
            f.params["k8s-fail"] = {"count": count, "status": code}
        elif kind == "refuse":
            f.refused = True
            await self._set_listening(host, False)
        self._sim()  # the change shows in calico-node's log when it happens, not when read

    async def aclear(self, host: str | None) -> None:
        """Clear faults (on the lab's loop); see :meth:`clear_faults`."""
        hosts = [host] if host else list(self._faults)
        for h in hosts:
            self._host_kind(h)
            f = self._faults.pop(h, None)
            if f is None:
                continue
            if f.link_down or f.bird_down or f.withheld:
                self._dirty = True
            if f.refused:
                await self._set_listening(h, True)
            if h in self._switches:
                faults = self._switches[h].device.faults
                faults.latency_s = 0.0
                faults.fail_on_call = None
                faults.fail_match = None
                faults.link_down = False
            if self._cluster is not None and h == self._cluster.name:
                self._store.faults.fail_on_write = None
        self._sim()

    async def _set_listening(self, host: str, on: bool) -> None:
        if host in self._switches:
            sw = self._switches[host]
            await (self._open_switch(sw) if on else self._close_switch_sites(sw))
        elif host in self._nodes:
            await (self._nodes[host].start() if on else self._nodes[host].close())
        elif self._cluster is not None and host == self._cluster.name:
            cluster = self._cluster
            if on:
                await self._open_cluster(cluster)
            elif cluster.site is not None:
                site, cluster.site = cluster.site, None
                await site.stop()
                _drop_connections(cluster.runner)

    # ------------------------------------------------------------------ inspection helpers

    def switch_running_config(self, name: str) -> str:
        """The running-config text of a switch."""
        return str(self._on_loop(lambda: self._switches[name].device.running_config))

    def switch_startup_config(self, name: str) -> str:
        """The startup-config text of a switch."""
        return str(self._on_loop(lambda: self._switches[name].device.startup_config))

    def load_switch_config(self, name: str, text: str) -> None:
        """Replace a switch's running and startup config (tests, seeding)."""
        self._on_loop(lambda: self._switches[name].device.load_config(text))

    def _api_version_of(self, kind: str) -> str:
        api = _default_api_version(kind)
        if api == sim.CALICO and self.calico_api == "crd":
            return resources.CRD_API_VERSION
        return api

    def cluster_objects(self, kind: str, api_version: str | None = None) -> list[dict[str, Any]]:
        """Objects of one kind (apiVersion by default: Calico's, ``batch/v1`` or ``v1``).

        Calico's apiVersion is the mode's: ``projectcalico.org/v3``, or in ``crd`` mode
        ``crd.projectcalico.org/v1``.
        """
        api = api_version or self._api_version_of(kind)
        return list(self._on_loop(lambda: self._store.list(api, kind)))

    def put_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a cluster object directly in the store (no API validation)."""
        return dict(self._on_loop(lambda: self._store.put(obj)))

    def delete_object(
        self, kind: str, name: str, namespace: str | None = None, api_version: str | None = None
    ) -> bool:
        """Delete a cluster object directly from the store."""
        api = api_version or self._api_version_of(kind)
        return bool(self._on_loop(lambda: self._store.delete(api, kind, name, namespace)))

    def switch_bgp_view(self, name: str) -> SwitchBgpView:
        """The simulated BGP view of a switch (what ``show ip bgp summary`` prints)."""
        return self._on_loop(lambda: _with_counters(self._sim().switches[name], time.time()))

    def node_bgp_view(self, name: str) -> NodeBgpView:
        """The simulated BGP view of a node (what ``calicoctl node status`` prints)."""
        return self._on_loop(lambda: self._sim().node_view(name))

    def node_status_text(self, name: str) -> str:
        """``calicoctl node status`` of a node, as its SSH server prints it."""
        return self._on_loop(
            lambda: render_calicoctl_node_status(self._sim().node_view(name), time.time())[0]
        )

    def sim_result(self) -> sim.SimResult:
        """The current simulation result (recomputed if anything changed)."""
        return self._on_loop(self._sim)

    def listening_sockets(self) -> list[tuple[str, int]]:
        """Every ``(address, port)`` the lab listens on."""

        def collect() -> list[tuple[str, int]]:
            out: list[tuple[str, int]] = []
            servers: list[Any] = []
            for sw in self._switches.values():
                servers += [site._server for site in sw.sites]
            if self._cluster is not None and self._cluster.site is not None:
                servers.append(self._cluster.site._server)
            if self._control is not None:
                servers += [site._server for site in self._control.sites]
            for server in servers:
                for sock in getattr(server, "sockets", None) or []:
                    out.append(sock.getsockname()[:2])
            ssh_servers = [sw.ssh for sw in self._switches.values() if sw.ssh is not None]
            for node in [*ssh_servers, *self._nodes.values()]:
                acceptor = node.acceptor
                if acceptor is not None:
                    for sock in acceptor.sockets:
                        out.append(sock.getsockname()[:2])
            return out

        return self._on_loop(collect)

    def _on_loop(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return self._call(run())


def _with_counters(view: SwitchBgpView, now: float) -> SwitchBgpView:
    """Message counters that grow with session uptime (keepalives every 60 s)."""
    from dataclasses import replace

    peers = []
    for p in view.peers:
        if p.state == "Established":
            keepalives = int(max(0.0, now - p.since) // 60)
            peers.append(
                replace(
                    p,
                    msg_rcvd=3 + keepalives + p.prefixes_received,
                    msg_sent=3 + keepalives,
                )
            )
        else:
            peers.append(p)
    return replace(view, peers=peers)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (for tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
