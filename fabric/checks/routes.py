"""Routes on the switch: pod blocks via their node, service CIDRs, pods outside their blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fabric.checks.base import Check, CheckInput, HostFindings, Status, register
from fabric.checks.evidence import DEFAULT_VRF, Evidence, PodOutsideBlock

if TYPE_CHECKING:
    from fabric.models.observed import IPNetwork
    from fabric.models.parsed import Route


class SwitchRoutesInput(CheckInput):
    """Inputs of :class:`VerifySwitchRoutes`."""

    vrf: str = DEFAULT_VRF
    #: A service CIDR reachable through one node only (no maximum-paths) fails instead of warns.
    require_ecmp: bool = False
    #: Judge pods whose IP is outside their node's blocks.
    check_pods: bool = True


def _hops(route: Route) -> set[str]:
    return {h.address for h in route.next_hops if h.address}


@register
class VerifySwitchRoutes(Check[SwitchRoutesInput]):
    """The switch routes every pod block via its node and every service CIDR via its nodes.

    Pass: every IPAM block (BlockAffinity) the switch should learn is in ``show ip route``:
    via its node for a node that peers with the switch (a dual-homed node's blocks on both
    ToRs), else via a neighbor that relays it (a route reflector); each service CIDR is
    present, through every advertising neighbor (up to ``maximum-paths``: ECMP over the
    expected next hops) when the intent sets maximum-paths; no pod has an IP outside its
    node's blocks.
    Warn: a service CIDR through one node only because no maximum-paths is set (all service
    traffic then crosses one node; set ``maximum_paths`` in the switch intent).
    Fail: a block missing or via another next hop; a service CIDR missing or not spread over
    its nodes; a pod outside its node's blocks (named, with the fix: recreate the pod, as in
    the seed's coredns). Error: the switch or the cluster was not collected.
    """

    name = "VerifySwitchRoutes"
    description = "switch: pod blocks via their node, service CIDRs, pods inside their blocks"
    Input = SwitchRoutesInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Check each switch's routing table against the nodes peering with it."""
        blocks = state.blocks_by_node
        outside = state.pods_outside_blocks if self.inputs.check_pods else []
        outside_by_node: dict[str, list[PodOutsideBlock]] = {}
        for p in outside or []:
            outside_by_node.setdefault(p.node, []).append(p)
        for sw in state.judged_switches:
            if not state.is_settled(sw.name):
                continue
            out.touch(sw.name)
            st = state.switches.get(sw.name)
            if st is None or st.routes is None:
                out.add(sw.name, Status.ERROR, state.failure_message(sw.name))
                continue
            expected = state.expected_routes(sw)
            if blocks is None or expected is None:
                out.add(
                    sw.name,
                    Status.ERROR,
                    state.failure_message(state.intent.cluster.name)
                    if state.cluster is None
                    else "the cluster's BlockAffinity objects were not readable",
                )
                continue
            vrf = st.routes.vrfs.get(self.inputs.vrf)
            table: dict[str, Route] = {r.prefix: r for r in vrf.routes} if vrf else {}
            self._blocks(state, out, sw.name, table, blocks, expected)
            self._services(state, out, sw.name, table, expected)
            if outside is None:
                out.add(sw.name, Status.ERROR, "the cluster's pods were not readable")
                continue
            for node in state.nodes_by_switch.get(sw.name, []):
                for p in outside_by_node.get(node.name, []):
                    pod = p.pod
                    where = ", ".join(str(b) for b in p.blocks) or "no block"
                    routed = f"{pod.ip}/32" in table
                    out.add(
                        sw.name,
                        Status.FAIL,
                        f"pod {pod.namespace}/{pod.name} on {node.name} has IP {pod.ip}, outside "
                        f"its node's blocks ({where})" + ("; routed as a /32" if routed else ""),
                        subject=f"pod {pod.namespace}/{pod.name}",
                        fix=p.fix,
                    )

    def _blocks(
        self,
        state: Evidence,
        out: HostFindings,
        sw: str,
        table: dict[str, Route],
        blocks: dict[str, list[IPNetwork]],
        expected: dict[str, dict[str, bool]],
    ) -> None:
        """Every block the switch should learn: via its node (or a tied relay), else a relay."""
        direct = {n.name: str(n.bgp_ip) for n in state.nodes_by_switch.get(sw, [])}
        owner = state.block_owner
        for prefix, senders in expected.items():
            node = owner.get(prefix)
            if node is None or not senders:
                continue  # a service CIDR, a pod's /32
            hops = set(senders)
            if node in direct:
                hops = {direct[node]} | {a for a, tie in senders.items() if tie}
            self._expect_via(out, sw, table, prefix, node, hops)

    @staticmethod
    def _expect_via(
        out: HostFindings,
        sw: str,
        table: dict[str, Route],
        prefix: str,
        node: str,
        hops: set[str],
    ) -> None:
        route = table.get(prefix)
        subject = f"{prefix} ({node})"
        want = " or ".join(sorted(hops))
        if route is None:
            out.add(sw, Status.FAIL, f"block {prefix} of {node} missing", subject=subject)
        elif not hops & _hops(route):
            got = ", ".join(sorted(_hops(route))) or "no next hop"
            out.add(
                sw,
                Status.FAIL,
                f"block {prefix} of {node} via {got}, expected via {want}",
                subject=subject,
            )
        else:
            via = ", ".join(sorted(hops & _hops(route)))
            out.add(sw, Status.PASS, f"block {prefix} of {node} via {via}", subject=subject)

    def _services(
        self,
        state: Evidence,
        out: HostFindings,
        sw: str,
        table: dict[str, Route],
        expected: dict[str, dict[str, bool]],
    ) -> None:
        max_paths = state.switch_by_name[sw].data.maximum_paths
        for cidr in state.service_cidrs:
            prefix = str(cidr)
            advertisers = set(expected.get(prefix, {}))
            if not advertisers:
                continue
            subject = f"service {prefix}"
            route = table.get(prefix)
            if route is None:
                out.add(sw, Status.FAIL, f"service CIDR {prefix} missing", subject=subject)
                continue
            hops = _hops(route) & advertisers
            if not hops:
                got = ", ".join(sorted(_hops(route))) or "no next hop"
                out.add(
                    sw,
                    Status.FAIL,
                    f"service CIDR {prefix} via {got}, none of them a node",
                    subject=subject,
                )
            elif max_paths:
                want = min(max_paths, len(advertisers))
                missing = sorted(advertisers - hops)
                status = Status.PASS if len(hops) >= want else Status.FAIL
                out.add(
                    sw,
                    status,
                    f"service CIDR {prefix} via {len(hops)} of {len(advertisers)} nodes "
                    f"(maximum-paths {max_paths}, expected {want})"
                    + (
                        ""
                        if status is Status.PASS or not missing
                        else f"; not via {', '.join(missing)}"
                    ),
                    subject=subject,
                )
            elif len(advertisers) > 1 and len(hops) < len(advertisers):
                out.add(
                    sw,
                    Status.FAIL if self.inputs.require_ecmp else Status.WARN,
                    f"service CIDR {prefix} via {', '.join(sorted(hops))} only, of "
                    f"{len(advertisers)} advertising nodes: no maximum-paths",
                    subject=subject,
                    fix="set maximum_paths in the switch intent for ECMP over every node",
                )
            else:
                out.add(
                    sw,
                    Status.PASS,
                    f"service CIDR {prefix} via {len(hops)} node(s)",
                    subject=subject,
                )
