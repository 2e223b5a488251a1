"""Collect the state of every host, parsed: Nornir task functions, one module per transport.

* :mod:`~fabric.steps.collect.eapi`: switches (``show ip bgp summary``, ``show ip route``,
  ``show running-config`` in one eAPI request);
* :mod:`~fabric.steps.collect.ssh`: Calico nodes (``calicoctl node status`` over asyncssh);
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

from fabric.errors import UnreachableError
from fabric.models.observed import Role
from fabric.steps.collect.outputs import SWITCH_COMMANDS

if TYPE_CHECKING:
    from nornir.core.inventory import Host
    from nornir.core.task import Result, Task


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
    # Each transport's module (and its library) is imported when a host needs it.
    role = host_role(task.host)
    if role == "switch":
        from fabric.steps.collect.eapi import collect_switch_state

        return collect_switch_state(task, commands=switch_commands, save_raw=save_raw)
    if role == "calico_node":
        from fabric.steps.collect.ssh import collect_node_state

        return collect_node_state(task, command=node_command, save_raw=save_raw)
    if role == "cluster":
        from fabric.steps.collect.kube import collect_cluster_state

        return collect_cluster_state(task, save_raw=save_raw)
    raise UnreachableError(f"{task.host.name}: unknown role, nothing to collect")


__all__ = ["collect_host_state", "host_role"]
