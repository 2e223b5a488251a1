"""Collect the state of every host, parsed: Nornir task functions, one module per transport.

* :mod:`~fabric.steps.collect.eapi`: switches (``show ip bgp summary``, ``show ip route``,
  ``show running-config`` in one eAPI request);
* :mod:`~fabric.steps.collect.ssh`: Calico nodes (``calicoctl node status`` over asyncssh);
* :mod:`~fabric.steps.collect.kexec`: Calico nodes without SSH (``birdcl`` in the calico-node
  pod, through the Kubernetes exec API);
* :mod:`~fabric.steps.collect.kube`: the cluster (Calico and core objects, Kubernetes API);
* :mod:`~fabric.steps.collect.offline`: the same state read back from saved outputs;
* :mod:`~fabric.steps.collect.outputs`: command lists, file layout and parsing they share.

Each task returns a :class:`~nornir.core.task.Result` whose ``result`` is the host's
:mod:`observed state <fabric.models.observed>`. Anything that goes wrong raises, and Nornir
turns it into that host's failed result; :func:`fabric.runs.classify` says what kind of
failure it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fabric.errors import UnreachableError, UsageError
from fabric.models.observed import Role
from fabric.steps.collect.outputs import SWITCH_COMMANDS

if TYPE_CHECKING:
    from nornir.core.inventory import Host
    from nornir.core.task import Result, Task

    from fabric.steps.collect.kexec import CalicoNodePods


def host_role(host: Host) -> Role | None:
    """The host's role: its ``role`` data, else derived from its platform."""
    role = host.get("role")
    if role in ("switch", "calico_node", "cluster"):
        return role  # type: ignore[no-any-return]
    return {"eos": "switch", "kubernetes": "cluster"}.get(str(host.platform))  # type: ignore[return-value]


NODE_ACCESS = ("ssh", "exec")


def node_access_of(host: Host, override: str | None = None) -> str:
    """How a node is read: ``override``, else its ``node_access`` data, else ``ssh``.

    Raises:
        UsageError: not ``ssh`` or ``exec`` (naming the host and where it was set).
    """
    access = override or str(host.get("node_access") or "ssh")
    if access not in NODE_ACCESS:
        where = "--node-access" if override else "data.node_access"
        raise UsageError(f"{host.name}: {where} {access!r}: must be ssh or exec")
    return access


def collect_host_state(
    task: Task,
    save_raw: Path | None = None,
    node_command: str | None = None,
    switch_commands: Sequence[str] = SWITCH_COMMANDS,
    calico_api: str = "auto",
    node_access: str | None = None,
    node_pods: CalicoNodePods | None = None,
) -> Result:
    """Collect whatever the host is: a switch, a Calico node or the cluster.

    A node is read over SSH, or with ``exec`` through its calico-node pod (``node_pods``):
    ``node_access`` when given, else the host's ``node_access`` data, else ``ssh``.

    Raises:
        UnreachableError: the host has no known role.
        UsageError: an unknown node access, or ``exec`` without ``node_pods``.
    """
    # Each transport's module (and its library) is imported when a host needs it.
    role = host_role(task.host)
    if role == "switch":
        from fabric.steps.collect.eapi import collect_switch_state

        return collect_switch_state(task, commands=switch_commands, save_raw=save_raw)
    if role == "calico_node":
        access = node_access_of(task.host, node_access)
        if access == "exec":
            from fabric.steps.collect.kexec import collect_node_state_exec

            if node_pods is None:
                raise UsageError(f"{task.host.name}: node access exec needs the cluster's API")
            return collect_node_state_exec(task, node_pods, save_raw=save_raw)
        from fabric.steps.collect.ssh import collect_node_state

        return collect_node_state(task, command=node_command, save_raw=save_raw)
    if role == "cluster":
        from fabric.steps.collect.kube import collect_cluster_state

        return collect_cluster_state(task, save_raw=save_raw, calico_api=calico_api)
    raise UnreachableError(f"{task.host.name}: unknown role, nothing to collect")


__all__ = ["NODE_ACCESS", "collect_host_state", "host_role", "node_access_of"]
