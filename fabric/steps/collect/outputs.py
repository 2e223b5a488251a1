"""Raw outputs: which commands are read, how they are named on disk, how they are parsed.

Shared by every collector (online) and by the offline loader, so a saved folder reads back
exactly as it was collected. Layout (documented in ``docs/compliance.md``)::

    DIR/<switch>/show_ip_bgp_summary.txt
    DIR/<switch>/show_ip_route.txt
    DIR/<switch>/show_running-config.txt
    DIR/<node>/calicoctl_node_status.txt
    DIR/<cluster>/bgpconfigurations.json   (and bgppeers, blockaffinities, calico_nodes,
                                            nodes, pods, services; .yaml also read)
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from fabric.models.observed import DEFAULT_NODE_COMMAND, ObservedNode, ObservedSwitch
from fabric.models.parsed import BgpSummary, CalicoNodeStatus, RouteTable, RunningConfigBgp
from fabric.parsing import parse

#: The switch commands compliance reads, in the order they are run.
SWITCH_COMMANDS: tuple[str, ...] = ("show ip bgp summary", "show ip route", "show running-config")
#: The switch commands the deploy gate reads (sessions and routes; not the configuration).
GATE_SWITCH_COMMANDS: tuple[str, ...] = SWITCH_COMMANDS[:2]
#: File name (without .txt) of the node status output, whatever command produced it.
NODE_STATUS_FILE = "calicoctl_node_status"
#: Saved ``kubectl get pods -o wide -A`` / ``kubectl get svc -o wide -A`` text (file stems).
PODS_TEXT = "kubectl_get_pods_-o_wide_-A"
SERVICES_TEXT = "kubectl_get_svc_-o_wide_-A"


def raw_name(command: str) -> str:
    """File stem of a command's raw output: its words joined by ``_``.

    >>> raw_name("show ip bgp summary")
    'show_ip_bgp_summary'
    """
    return "_".join(command.split())


def write_raw(folder: Path | None, host: str, name: str, text: str) -> None:
    """Keep ``text`` as ``folder/<host>/<name>`` (nothing when ``folder`` is None)."""
    if folder is None:
        return
    d = folder / host
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


def parse_switch_outputs(host: str, outputs: dict[str, str]) -> ObservedSwitch:
    """Parse the raw text of switch commands (keys: commands of :data:`SWITCH_COMMANDS`).

    Raises:
        ParseError: an output is not what its command prints.
    """
    state = ObservedSwitch(host=host)
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


def parse_node_output(host: str, text: str, command: str = DEFAULT_NODE_COMMAND) -> ObservedNode:
    """Parse a node's ``calicoctl node status`` text.

    Raises:
        ParseError: the text is not ``calicoctl node status`` output.
    """
    status = cast("CalicoNodeStatus", parse("calico", "calicoctl node status", text))
    return ObservedNode(host=host, status=status, command=command)
