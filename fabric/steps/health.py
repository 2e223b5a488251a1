"""The deploy health gate: are the expected sessions up on both sides, and the routes in?

What is expected comes from the intent and the cluster (:func:`expected_state`):

* each switch: every neighbor of the intent (its nodes' BGP IPs) ``Established``; each of its
  nodes' pod blocks (Calico ``BlockAffinity``) routed via that node; every service cluster CIDR
  present (via any of its nodes).
* each node: a peer at its switch's SVI address ``Established`` (calicoctl's INFO column).

What is observed is collected with :mod:`fabric.steps.collect` (NAPALM text of ``show ip bgp
summary``/``show ip route`` in one eAPI request, ``calicoctl node status`` over SSH) and parsed
by :mod:`fabric.parsing`. The judging functions work on the parsers' contract JSON
(``model_dump(mode="json")``), are pure, and return the problems in words (empty: healthy).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nornir.core.task import Result

from fabric.models.intent import Intent

if TYPE_CHECKING:
    from nornir.core.task import Task

GATE_SWITCH_COMMANDS = ("show ip bgp summary", "show ip route")


@dataclass
class SwitchExpectation:
    """What one switch must show for the gate to pass."""

    neighbors: set[str] = field(default_factory=set)
    #: prefix -> next hop it must be routed via (None: any next hop)
    routes: dict[str, str | None] = field(default_factory=dict)


@dataclass
class GateExpectation:
    """Everything the gate waits for."""

    switches: dict[str, SwitchExpectation] = field(default_factory=dict)
    #: node -> peer addresses that must be Established
    nodes: dict[str, set[str]] = field(default_factory=dict)


def expected_state(
    intent: Intent,
    blocks: dict[str, list[str]],
    *,
    switches: set[str],
    nodes: set[str],
) -> GateExpectation:
    """The sessions and routes the gate waits for, for the hosts in scope.

    Args:
        intent: the deployed intent.
        blocks: node name -> its IPAM block CIDRs (from the cluster's BlockAffinity objects).
        switches: switch names in scope.
        nodes: node names in scope.
    """
    exp = GateExpectation()
    services = [str(c) for c in intent.cluster.calico.service_cluster_cidrs]
    for sw in intent.switches:
        if sw.name not in switches:
            continue
        se = SwitchExpectation(neighbors={str(n.address) for n in sw.neighbors})
        for n in sw.neighbors:
            for cidr in blocks.get(n.node, []):
                se.routes[str(ipaddress.ip_network(cidr, strict=False))] = str(n.address)
        if sw.neighbors:
            for cidr in services:
                se.routes.setdefault(cidr, None)
        exp.switches[sw.name] = se
    for node in intent.nodes:
        if node.name in nodes:
            exp.nodes[node.name] = {str(intent.switch(node.tor).data.svi.ip)}
    return exp


def judge_switch(
    host: str, exp: SwitchExpectation, summary: dict[str, Any], routes: dict[str, Any]
) -> list[str]:
    """Problems on one switch (contract JSON of ``show ip bgp summary`` and ``show ip route``)."""
    problems: list[str] = []
    peers = {
        p["neighbor"]: p
        for p in ((summary.get("vrfs") or {}).get("default") or {}).get("peers") or []
    }
    for nb in sorted(exp.neighbors, key=ipaddress.ip_address):
        p = peers.get(nb)
        if p is None:
            problems.append(f"{host}: neighbor {nb} not configured")
        elif not p.get("established"):
            problems.append(f"{host}: neighbor {nb} is {p.get('state')}, not Established")
    table: dict[str, set[str | None]] = {}
    for r in ((routes.get("vrfs") or {}).get("default") or {}).get("routes") or []:
        table[r["prefix"]] = {h.get("address") for h in r.get("next_hops") or []}
    for prefix, via in sorted(exp.routes.items()):
        hops = table.get(prefix)
        if hops is None:
            problems.append(f"{host}: no route to {prefix}")
        elif via is not None and via not in hops:
            shown = ", ".join(sorted(str(h) for h in hops)) or "none"
            problems.append(f"{host}: route {prefix} via {shown}, expected via {via}")
    return problems


def judge_node(host: str, expected_peers: set[str], status: dict[str, Any]) -> list[str]:
    """Problems on one node (contract JSON of ``calicoctl node status``)."""
    if not status.get("calico_running"):
        return [f"{host}: Calico process is not running"]
    section = status.get("ipv4") or {}
    if section.get("error"):
        return [f"{host}: {section['error']}"]
    peers = {p["peer_address"]: p for p in section.get("peers") or []}
    problems: list[str] = []
    for addr in sorted(expected_peers):
        p = peers.get(addr)
        if p is None:
            problems.append(f"{host}: no BGP peer {addr}")
        elif not str(p.get("info", "")).startswith("Established"):
            problems.append(f"{host}: peer {addr} is {p.get('state')} ({p.get('info')})")
    return problems


def _dump(model: Any) -> dict[str, Any]:
    if model is None:
        return {}
    if hasattr(model, "model_dump"):
        out: dict[str, Any] = model.model_dump(mode="json")
        return out
    return dict(model)


def check_switch_health(task: Task, expectation: SwitchExpectation) -> Result:
    """Collect and judge one switch; ``result``: the list of problems (empty: healthy)."""
    from fabric.steps.collect import parse_switch_outputs

    device = task.host.get_connection("napalm", task.nornir.config)
    # one eAPI request for both commands (napalm's cli() sends one per command)
    replies = device._run_commands(list(GATE_SWITCH_COMMANDS), encoding="text")
    outputs = {c: str(r["output"]) for c, r in zip(GATE_SWITCH_COMMANDS, replies, strict=True)}
    state = parse_switch_outputs(task.host.name, outputs)
    problems = judge_switch(
        task.host.name, expectation, _dump(state.bgp_summary), _dump(state.routes)
    )
    return Result(host=task.host, result=problems)


def check_node_health(task: Task, expected_peers: set[str]) -> Result:
    """Collect and judge one node over SSH; ``result``: the list of problems."""
    from fabric.steps.collect import collect_node_state

    state = collect_node_state(task).result
    problems = judge_node(task.host.name, expected_peers, _dump(state.status))
    return Result(host=task.host, result=problems)
