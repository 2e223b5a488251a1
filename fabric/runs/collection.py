"""Collect hosts into the evidence: one Nornir run, each host's observed state or its failure.

Shared by compliance (every host once) and the deploy gate (the hosts it still waits for, at
every poll), so both judge state built the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fabric.checks.evidence import Evidence, HostFailure
from fabric.errors import UnreachableError
from fabric.models.observed import Role
from fabric.runs.connect import CountFn, ResultsFn, run_on
from fabric.runs.failures import classify
from fabric.steps.collect import collect_host_state
from fabric.steps.collect.outputs import SWITCH_COMMANDS

if TYPE_CHECKING:
    from nornir.core import Nornir

    from fabric.steps.collect.kexec import CalicoNodePods


def failure_of(host: str, role: str, exc: BaseException | None) -> HostFailure:
    """The evidence's record of a host that could not be collected (classified once)."""
    msg = str(exc) if exc is not None else "collection failed"
    if exc is not None and not isinstance(exc, UnreachableError):
        msg = f"{type(exc).__name__}: {msg}"
    if classify(exc) == "protocol":
        return HostFailure(host, role, "unparsable", msg)
    return HostFailure(host, role, "unreachable", msg)


def collect_into(
    evidence: Evidence,
    nr: Nornir,
    hosts: dict[str, Role],
    *,
    stage: str = "collect",
    save_raw: Path | None = None,
    node_command: str | None = None,
    switch_commands: Sequence[str] = SWITCH_COMMANDS,
    on_results: ResultsFn | None = None,
    count: CountFn | None = None,
    calico_api: str = "auto",
    node_access: str | None = None,
    node_pods: CalicoNodePods | None = None,
) -> None:
    """Read ``hosts`` (name -> role) in one Nornir run into ``evidence``.

    Each host read is recorded with :meth:`Evidence.observe` (an earlier failure forgotten); a
    host that fails, or is not in the inventory, gets a :class:`HostFailure`. Node SSH should
    run inside :func:`fabric.steps.collect.ssh.ssh_client_loop` (the caller chooses the loop).
    """
    if not hosts:
        return
    results = run_on(
        nr,
        hosts,
        collect_host_state,
        stage,
        on_results,
        count=count,
        save_raw=save_raw,
        node_command=node_command,
        switch_commands=switch_commands,
        calico_api=calico_api,
        node_access=node_access,
        node_pods=node_pods,
    )
    for host, role in hosts.items():
        multi = results.get(host)
        if multi is None:
            evidence.failures[host] = HostFailure(host, role, "unreachable", "not in the inventory")
            continue
        first = multi[0]
        if multi.failed or first.exception is not None:
            exc = first.exception or next((r.exception for r in multi if r.exception), None)
            evidence.failures[host] = failure_of(host, role, exc)
            continue
        evidence.observe(host, first.result)


def node_pods_for(
    nr: Nornir, cluster: str, nodes: list[str], *, node_access: str | None, insecure: bool
) -> CalicoNodePods | None:
    """The calico-node pods reader when any of ``nodes`` is read with ``exec`` (else None).

    Raises:
        UsageError: a node's access is neither ssh nor exec.
        UnreachableError: the cluster's kubeconfig cannot be loaded.
    """
    from fabric.steps.collect import node_access_of
    from fabric.steps.collect.kexec import CalicoNodePods

    hosts = nr.inventory.hosts
    if not any(node_access_of(hosts[n], node_access) == "exec" for n in nodes if n in hosts):
        return None
    host = hosts[cluster]
    return CalicoNodePods(host.get("kubeconfig"), host.get("context"), insecure=insecure)
