"""Redundancy: a dual-homed node is reachable through every ToR it is cabled to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fabric.checks.base import Check, CheckInput, HostFindings, Status, register
from fabric.checks.evidence import DEFAULT_VRF, Evidence

if TYPE_CHECKING:
    from fabric.models.intent import Node


class NodeRedundancyInput(CheckInput):
    """Inputs of :class:`VerifyNodeRedundancy`."""

    vrf: str = DEFAULT_VRF
    #: How many ToRs must route a node's blocks (None: every ToR it is cabled to).
    min_tors: int | None = None


@register
class VerifyNodeRedundancy(Check[NodeRedundancyInput]):
    """Every node is reachable through each ToR it is cabled to (both ToRs of a pair).

    A node is reachable through a ToR when that ToR routes every IPAM block the node owns
    (``show ip route``), whether it learned them from the node itself or through a route
    reflector. One finding per node, reported on the node, over the ToRs it is cabled to (its
    ``tors``, else its rack's switches; a single-homed node has one).
    Pass: every ToR (or ``min_tors`` of them) routes the node's blocks. Fail: a dual-homed node
    is reachable through one ToR only (the lost ToRs named), or a node through none. Skip: the
    node owns no block yet. Error: a ToR or the cluster was not collected.
    """

    name = "VerifyNodeRedundancy"
    description = "node: reachable through every ToR of its pair (its blocks routed on each)"
    Input = NodeRedundancyInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Count the ToRs that route each node's blocks."""
        self._tables: dict[str, set[str]] = {}
        blocks = state.blocks_by_node
        for node in state.judged_nodes:
            tors = [t for t in node.attached if state.is_settled(t)]
            if not tors:
                continue
            out.touch(node.name)
            if blocks is None:
                out.add(node.name, Status.ERROR, state.failure_message(state.intent.cluster.name))
                continue
            mine = [str(b) for b in blocks.get(node.name, [])]
            if not mine:
                out.add(node.name, Status.SKIP, "owns no IPAM block yet: nothing to route")
                continue
            self._judge_node(state, out, node, tors, mine)

    def _judge_node(
        self, state: Evidence, out: HostFindings, node: Node, tors: list[str], mine: list[str]
    ) -> None:
        through: list[str] = []
        lost: list[str] = []
        for tor in tors:
            table = self._tables.get(tor)
            if table is None:
                st = state.switches.get(tor)
                if st is None or st.routes is None:
                    out.add(node.name, Status.ERROR, state.failure_message(tor), subject=tor)
                    return
                vrf = st.routes.vrfs.get(self.inputs.vrf)
                table = self._tables[tor] = {r.prefix for r in vrf.routes} if vrf else set()
            missing = [b for b in mine if b not in table]
            (lost if missing else through).append(tor)
        want = len(tors) if self.inputs.min_tors is None else min(self.inputs.min_tors, len(tors))
        subject = f"{node.name} via {', '.join(tors)}"
        if len(through) >= want and not (self.inputs.min_tors is None and lost):
            out.add(
                node.name,
                Status.PASS,
                f"reachable through {len(through)} of {len(tors)} ToRs ({', '.join(through)})",
                subject=subject,
            )
        elif not through:
            out.add(
                node.name,
                Status.FAIL,
                f"reachable through no ToR: none of {', '.join(tors)} routes its blocks",
                subject=subject,
            )
        else:
            only = "only" if len(through) == 1 else f"only ({len(through)} of {len(tors)})"
            out.add(
                node.name,
                Status.FAIL,
                f"reachable through {', '.join(through)} {only}: lost redundancy, "
                f"{', '.join(lost)} does not route its blocks ({', '.join(mine[:4])})",
                subject=subject,
                fix=f"check the sessions of {', '.join(lost)} (VerifyBgpSessionEnds)",
            )
