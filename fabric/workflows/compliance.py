"""Compliance workflow: collect (or load) every host's state, run the catalog, build the report.

Online, every host is read in one Nornir run (switches through NAPALM, nodes over SSH, the
cluster through the ``kubernetes`` client; :mod:`fabric.steps.collect`). Offline
(``from_dir``), the same state is read from saved outputs and nothing is contacted. Either
way the checks are pure functions of :class:`~fabric.checks.evidence.Evidence`.

A host that cannot be reached or parsed is a :class:`~fabric.reports.model.HostProblem`
(exit code 5), never a pass.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fabric.checks import load_catalog
from fabric.checks.base import Check, Status, Verdict, worst
from fabric.checks.evidence import Evidence, node_state_text, switch_state_text
from fabric.errors import UnreachableError
from fabric.intent import load_intent
from fabric.models.intent import Intent, Node, Switch
from fabric.models.observed import Role
from fabric.paths import ProjectPaths
from fabric.reports.model import (
    ComplianceReport,
    HostProblem,
    Topology,
    TopoNode,
    TopoSession,
    TopoSwitch,
)
from fabric.rundefs import load_run_definition
from fabric.runs.collection import collect_into, failure_of, node_pods_for
from fabric.runs.connect import CountFn, ResultsFn, open_nornir
from fabric.runs.report import ProgressFn
from fabric.steps.calicoclient import describe_api
from fabric.steps.collect.offline import load_saved_host
from fabric.steps.render import render_calico_objects, render_switch_config

TASK_NAME = "compliance"


@dataclass
class ComplianceOptions:
    """How to run compliance.

    Attributes:
        lab: read the running lab (its loopback endpoints) instead of the inventory addresses.
        from_dir: judge saved outputs in this folder; contact nothing.
        save_raw: keep every raw output online, in the ``from_dir`` layout.
        workers: Nornir threads.
        checks: the catalog entries (None: ``options.checks`` of ``tasks/compliance.yaml``).
        catalog_source: where ``checks`` came from, for messages.
        node_command: overrides each node's ``node_status_command``.
        insecure: do not verify the switches' TLS certificates.
        ca_file: CA bundle for the switches (else the inventory's / the lab's, else the
            system store).
        on_results: called with the collection's per-host Nornir results.
        count: called as hosts are collected (``stage, done, total``), for a progress bar.
        progress: called with events (which Calico API was read ...).
        calico_api: ``auto`` (discovery), ``v3`` or ``crd`` (else each cluster host's data).
        node_access: ``ssh`` or ``exec`` for every node (None: each node's ``node_access``
            data, else ssh).
    """

    lab: bool = False
    from_dir: Path | None = None
    save_raw: Path | None = None
    workers: int = 20
    checks: list[Any] | None = None
    catalog_source: str = "tasks/compliance.yaml"
    node_command: str | None = None
    insecure: bool = False
    ca_file: str | None = None
    on_results: ResultsFn | None = None
    count: CountFn | None = None
    progress: ProgressFn | None = None
    calico_api: str = "auto"
    node_access: str | None = None


def intent_hosts(intent: Intent) -> dict[str, Role]:
    """Every host of the intent with its role, in report order (cluster, switches, nodes)."""
    out: dict[str, Role] = {intent.cluster.name: "cluster"}
    out.update({s.name: "switch" for s in intent.switches})
    out.update({n.name: "calico_node" for n in intent.nodes})
    return out


def default_checks(paths: ProjectPaths) -> tuple[list[Any] | None, str]:
    """The catalog of ``tasks/compliance.yaml`` (``options.checks``) and its file name."""
    try:
        rundef = load_run_definition(TASK_NAME, paths)
    except Exception:  # no run definition: every registered check with default inputs
        return None, "default catalog"
    return rundef.options.get("checks"), rundef.file


def load_offline(state: Evidence, directory: Path) -> None:
    """Fill ``state`` from saved outputs (layout: :mod:`fabric.steps.collect.outputs`)."""
    for host, role in intent_hosts(state.intent).items():
        try:
            state.observe(host, load_saved_host(host, role, directory))
        except (UnreachableError, OSError, UnicodeDecodeError) as exc:
            state.failures[host] = failure_of(host, role, exc)


def collect_online(state: Evidence, paths: ProjectPaths, options: ComplianceOptions) -> None:
    """Fill ``state`` by reading every host in one Nornir run."""
    from fabric.steps.collect.ssh import ssh_client_loop

    roles = intent_hosts(state.intent)
    # Verified TLS (pyeapi without a context silently skips verification) and a kept-alive
    # connection: one TLS handshake per switch instead of one per request.
    nr, _policy = open_nornir(
        paths,
        lab=options.lab,
        workers=options.workers,
        dry_run=True,
        insecure=options.insecure,
        ca_file=options.ca_file,
        switches=[h for h, r in roles.items() if r == "switch"],
    )
    try:
        nodes = [h for h, r in roles.items() if r == "calico_node"]
        pods = node_pods_for(
            nr,
            state.intent.cluster.name,
            nodes,
            node_access=options.node_access,
            insecure=options.insecure,
        )
        # Every node's SSH session runs on one shared asyncssh loop (the workers wait on it).
        with ssh_client_loop():
            collect_into(
                state,
                nr,
                roles,
                save_raw=options.save_raw,
                node_command=options.node_command,
                on_results=options.on_results,
                count=options.count,
                calico_api=options.calico_api,
                node_access=options.node_access,
                node_pods=pods,
            )
    finally:
        nr.close_connections(on_good=True, on_failed=True)
    if state.cluster is not None and state.cluster.calico_api and options.progress is not None:
        api = state.cluster.calico_api
        options.progress("collect", state.cluster.host, describe_api(api, options.calico_api))


def build_topology(state: Evidence, verdicts_status: dict[str, Status]) -> Topology:
    """The picture: every switch and node, and each node-switch session from both ends."""
    topo = Topology(cluster=state.intent.cluster.name)
    for sw in state.intent.switches:
        topo.switches.append(
            TopoSwitch(
                name=sw.name,
                asn=sw.data.asn,
                svi=str(sw.data.svi),
                status=verdicts_status.get(sw.name, Status.SKIP),
                rack=sw.data.rack,
            )
        )
    for node in state.intent.nodes:
        topo.nodes.append(
            TopoNode(
                name=node.name,
                bgp_ip=str(node.bgp_ip),
                tor=node.tor,
                tors=list(node.tors),
                rack=node.rack,
                status=verdicts_status.get(node.name, Status.SKIP),
            )
        )
        for tor in node.tors:
            topo.sessions.append(_topo_session(state, node, state.switch_by_name[tor]))
    return topo


def _topo_session(state: Evidence, node: Node, sw: Switch) -> TopoSession:
    """One node-switch session as both ends show it."""
    sw_peers = state.switch_peers(sw.name)
    nd_peers = state.node_peers(node.name)
    sw_peer = None if sw_peers is None else sw_peers.get(str(node.bgp_ip))
    nd_peer = None if nd_peers is None else nd_peers.get(str(sw.data.svi.ip))
    sw_text = "not collected" if sw_peers is None else switch_state_text(sw_peer)
    nd_text = "not collected" if nd_peers is None else node_state_text(nd_peer)
    if sw_peers is None or nd_peers is None:
        status = Status.ERROR
    elif sw_peer is not None and sw_peer.established and nd_text == "Established":
        status = Status.PASS
    else:
        status = Status.FAIL
    return TopoSession(
        switch=sw.name, node=node.name, switch_state=sw_text, node_state=nd_text, status=status
    )


def judge(state: Evidence, checks: list[Check[Any]]) -> list[Verdict]:
    """Run every check on ``state`` (pure), in catalog order."""
    return [c.test(state) for c in checks]


def prepare_state(paths: ProjectPaths) -> Evidence:
    """The intent and what it renders, with no device state yet.

    Raises:
        ValidationError: the intent is invalid.
    """
    report = load_intent(paths)
    intent = report.intent
    assert intent is not None  # load_intent raises otherwise
    templates = paths.search("templates")
    return Evidence(
        intent=intent,
        issues=list(report.issues),
        switch_configs={s.name: render_switch_config(s, templates) for s in intent.switches},
        calico_objects=render_calico_objects(intent, templates),
    )


def run_compliance(paths: ProjectPaths, options: ComplianceOptions) -> ComplianceReport:
    """Collect (or load) state, run the catalog and return the report.

    Raises:
        ValidationError: the intent is invalid (nothing is contacted).
        UsageError: the catalog is malformed; ``from_dir`` is not a folder.
    """
    from fabric.errors import UsageError

    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    entries: list[Any] | None = options.checks
    source = options.catalog_source
    if entries is None:
        entries, source = default_checks(paths)
    checks = load_catalog(entries, source)
    if options.from_dir is not None and not options.from_dir.is_dir():
        raise UsageError(f"--from {options.from_dir}: no such folder")

    state = prepare_state(paths)
    if options.from_dir is not None:
        load_offline(state, options.from_dir)
        mode: Literal["online", "offline"] = "offline"
        where = str(options.from_dir)
    else:
        collect_online(state, paths, options)
        mode, where = "online", "lab" if options.lab else paths.rel(paths.inventory)

    return report_from_state(state, checks, mode=mode, source=where, started=started, t0=t0)


def report_from_state(
    state: Evidence,
    checks: list[Check[Any]],
    *,
    mode: Literal["online", "offline"] = "offline",
    source: str = "",
    started: str | None = None,
    t0: float | None = None,
) -> ComplianceReport:
    """Run ``checks`` on ``state`` and assemble the report (pure apart from the clock)."""
    t0 = time.perf_counter() if t0 is None else t0
    started = started or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    verdicts = judge(state, checks)
    per_host: dict[str, list[Status]] = {}
    for v in verdicts:
        for h in v.hosts:
            per_host.setdefault(h.host, []).append(h.status)
    for host in state.failures:
        per_host.setdefault(host, []).append(Status.ERROR)
    host_status = {h: worst(s) for h, s in per_host.items()}
    return ComplianceReport(
        mode=mode,
        source=source,
        started=started,
        duration_s=round(time.perf_counter() - t0, 3),
        verdicts=verdicts,
        problems=[
            HostProblem(host=f.host, role=f.role, kind=f.kind, message=f.message)
            for f in state.failures.values()
        ],
        topology=build_topology(state, host_status),
    )
