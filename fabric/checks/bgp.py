"""BGP sessions, judged from the switch, from the node, and from both ends at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fabric.checks.base import Check, CheckInput, HostFindings, Status, register
from fabric.checks.evidence import (
    DEFAULT_VRF,
    Evidence,
    node_established,
    node_state_text,
    switch_state_text,
)

if TYPE_CHECKING:
    from fabric.models.intent import Node, Switch
    from fabric.models.parsed import CalicoPeer


class SwitchBgpNeighborsInput(CheckInput):
    """Inputs of :class:`VerifySwitchBgpNeighbors`."""

    vrf: str = DEFAULT_VRF
    #: Compare each neighbor's received prefixes with what its node should advertise.
    check_prefixes: bool = True
    #: Neighbors the intent does not know are a failure (else only a warning).
    fail_on_unexpected: bool = True


@register
class VerifySwitchBgpNeighbors(Check[SwitchBgpNeighborsInput]):
    """Every switch sees exactly its nodes as BGP neighbors, Established, with the right prefixes.

    Pass: each node that peers with the switch is a neighbor in ``show ip bgp summary``, in
    state Estab, with as many prefixes received as the node should advertise (its IPAM blocks
    from BlockAffinity, a /32 for each of its pods outside those blocks, the service CIDRs); no
    neighbor the intent does not know.
    Fail: a neighbor missing or not Established (its state named), a prefix count that differs
    (expected and received named), an unexpected neighbor. Error: the switch was not collected.
    """

    name = "VerifySwitchBgpNeighbors"
    description = "switch: expected neighbors present, Established, prefix counts right"
    Input = SwitchBgpNeighborsInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Compare each switch's BGP summary with its intent neighbors."""
        expected_adv = state.expected_advertisements if self.inputs.check_prefixes else None
        for sw in state.judged_switches:
            if not state.is_settled(sw.name):
                continue
            out.touch(sw.name)
            peers = state.switch_peers(sw.name, self.inputs.vrf)
            if peers is None:
                out.add(sw.name, Status.ERROR, state.failure_message(sw.name))
                continue
            if self.inputs.check_prefixes and expected_adv is None:
                out.add(
                    sw.name,
                    Status.ERROR,
                    "cannot compare prefix counts: the cluster's BlockAffinity or Pods "
                    "were not read",
                )
            known = set()
            for nb in sw.neighbors:
                addr = str(nb.address)
                known.add(addr)
                subject = f"{addr} ({nb.node})"
                p = peers.get(addr)
                if p is None:
                    out.add(sw.name, Status.FAIL, f"neighbor {subject} missing", subject=subject)
                    continue
                if not p.established:
                    out.add(
                        sw.name,
                        Status.FAIL,
                        f"neighbor {subject} is {p.state}, not Established",
                        subject=subject,
                    )
                    continue
                if p.remote_as != nb.remote_as:
                    out.add(
                        sw.name,
                        Status.FAIL,
                        f"neighbor {subject} has AS {p.remote_as}, intent says {nb.remote_as}",
                        subject=subject,
                    )
                    continue
                expected = (
                    state.expected_received(sw, state.intent.node(nb.node))
                    if expected_adv is not None
                    else None
                )
                if expected is not None and p.pfx_rcd != len(expected):
                    shown = sorted(expected)
                    more = f" (and {len(shown) - 12} more)" if len(shown) > 12 else ""
                    out.add(
                        sw.name,
                        Status.FAIL,
                        f"neighbor {subject} sent {p.pfx_rcd} prefixes, "
                        f"{nb.node} should advertise {len(expected)}: "
                        + ", ".join(shown[:12])
                        + more,
                        subject=subject,
                    )
                    continue
                out.add(
                    sw.name,
                    Status.PASS,
                    f"neighbor {subject} Established"
                    + (f", {p.pfx_rcd} prefixes" if p.pfx_rcd is not None else ""),
                    subject=subject,
                )
            for addr, p in peers.items():
                if addr not in known:
                    out.add(
                        sw.name,
                        Status.FAIL if self.inputs.fail_on_unexpected else Status.WARN,
                        f"unexpected neighbor {addr} (AS {p.remote_as}, {p.state})",
                        subject=addr,
                    )


class NodeBgpPeersInput(CheckInput):
    """Inputs of :class:`VerifyNodeBgpPeers`."""

    #: Expect node-to-node mesh peers while the intent has the mesh on.
    check_mesh: bool = True
    #: Peers the intent does not expect are a failure (else only a warning).
    fail_on_unexpected: bool = True


@register
class VerifyNodeBgpPeers(Check[NodeBgpPeersInput]):
    """Every node shows the BGP peers the intent gives it, up and Established.

    Pass: ``calicoctl node status`` on each node says Calico is running and lists every
    expected peer (the global and node-specific BGPPeers that apply to it, with that peer
    type; the other nodes as ``node-to-node mesh`` while the mesh is on) in state ``up`` with
    info ``Established``, and nothing else.
    Fail: Calico not running, BIRD unreadable, an expected peer absent or not Established (its
    state and info named), a peer of the wrong type, an unexpected peer (e.g. mesh peers while
    the mesh is off). Error: the node was not collected.
    """

    name = "VerifyNodeBgpPeers"
    description = "node: expected peers (global, node-specific, mesh) up and Established"
    Input = NodeBgpPeersInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Compare each node's ``calicoctl node status`` with its intent peers."""
        for node in state.judged_nodes:
            out.touch(node.name)
            st = state.nodes.get(node.name)
            if st is None:
                out.add(node.name, Status.ERROR, state.failure_message(node.name))
                continue
            if not st.status.calico_running:
                out.add(node.name, Status.FAIL, "Calico process is not running")
                continue
            if st.status.ipv4 is not None and st.status.ipv4.error:
                out.add(node.name, Status.FAIL, f"BIRD: {st.status.ipv4.error}")
                continue
            seen = state.node_peers(node.name) or {}
            expected, alias, pending = self._expected(state, node, seen)
            for addr, (kinds, label) in expected.items():
                peer = seen.get(addr)
                subject = f"{addr} ({label})"
                if peer is None:
                    out.add(node.name, Status.FAIL, f"{label} {addr} absent", subject=subject)
                elif peer.peer_type not in kinds:
                    out.add(
                        node.name,
                        Status.FAIL,
                        f"{label} {addr} shown as {peer.peer_type!r}, expected "
                        + " or ".join(sorted(kinds)),
                        subject=subject,
                    )
                elif not node_established(peer):
                    out.add(
                        node.name,
                        Status.FAIL,
                        f"{label} {addr} is {node_state_text(peer)}, not Established",
                        subject=subject,
                    )
                else:
                    out.add(node.name, Status.PASS, f"{label} {addr} Established", subject=subject)
            for addr, peer in seen.items():
                if addr in expected or alias.get(addr) in expected or addr in pending:
                    continue
                out.add(
                    node.name,
                    Status.FAIL if self.inputs.fail_on_unexpected else Status.WARN,
                    f"unexpected peer {addr} ({peer.peer_type}, {node_state_text(peer)})",
                    subject=addr,
                )

    def _expected(
        self, state: Evidence, node: Node, seen: dict[str, CalicoPeer]
    ) -> tuple[dict[str, tuple[set[str], str]], dict[str, str], set[str]]:
        """Expected peers (address -> accepted types, label), aliases, peers not judged yet.

        Switch peers come from the BGPPeers that apply to the node (those towards a switch of
        a later rolling-deploy batch are not judged yet), node peers from ``peer_selector``
        peers (Calico shows them as node specific) and, with the mesh on, every other node
        (Calico leaves route reflectors out of the mesh).
        """
        cal = state.intent.cluster.calico
        global_names = {p.name for p in cal.peers if p.node_selector is None}
        by_svi = state.svi_owner
        expected: dict[str, tuple[set[str], str]] = {}
        pending: set[str] = set()
        alias: dict[str, str] = {}
        for p in state.peers_for(node):
            if p.peer_ip is None:
                continue
            addr = str(p.peer_ip)
            if addr in by_svi and not state.is_settled(by_svi[addr]):
                pending.add(addr)
                continue
            kind = "global" if p.name in global_names else "node specific"
            expected[addr] = ({kind}, f"{kind} peer {p.name}")

        def expect_node(other: Node, kinds: set[str], label: str) -> None:
            addrs = sorted(state.mesh_addresses(other))
            hit = next((a for a in addrs if a in seen), None)
            key = hit or str(other.mgmt_ip or other.bgp_ip)
            expected[key] = (kinds, label)
            for a in addrs:
                alias[a] = key

        for other_name, pname in sorted(state.peerings.get(node.name, {}).items()):
            expect_node(
                state.intent.node(other_name),
                {"node specific"},
                f"node peer {other_name} ({pname})",
            )
        if self.inputs.check_mesh and cal.node_to_node_mesh and not node.is_route_reflector:
            for other in state.intent.nodes:
                if other.name != node.name and not other.is_route_reflector:
                    expect_node(other, {"node-to-node mesh"}, f"mesh peer {other.name}")
        return expected, alias, pending


class BgpSessionEndsInput(CheckInput):
    """Inputs of :class:`VerifyBgpSessionEnds`."""

    vrf: str = DEFAULT_VRF


@register
class VerifyBgpSessionEnds(Check[BgpSessionEndsInput]):
    """Each node-switch session is Established on both ends, and the two ends agree.

    One finding per session (reported on the node's host): the switch's row for the node's
    BGP address in ``show ip bgp summary`` and the node's row for the switch's SVI address in
    ``calicoctl node status``.
    Pass: both ends Established. Fail: either end is not; a disagreement is named as such
    ("mismatch: switch Active, node Established"), which points at the end that is wrong.
    Error: one of the two ends was not collected.
    """

    name = "VerifyBgpSessionEnds"
    description = "node-switch sessions: both ends Established and in agreement"
    Input = BgpSessionEndsInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Judge every session from its two ends."""
        for node in state.judged_nodes:
            out.touch(node.name)
            for tor in state.settled_tors(node):
                self._switch_session(state, out, node, state.switch_by_name[tor])
            for other_name in sorted(state.peerings.get(node.name, {})):
                other = state.intent.node(other_name)
                # one finding per session: on the client (the first name between two RRs)
                if node.is_route_reflector and (
                    not other.is_route_reflector or other.name < node.name
                ):
                    continue
                self._node_session(state, out, node, other)

    def _switch_session(self, state: Evidence, out: HostFindings, node: Node, sw: Switch) -> None:
        svi = str(sw.data.svi.ip)
        subject = f"{sw.name} {svi} <-> {node.name} {node.bgp_ip}"
        sw_peers = state.switch_peers(sw.name, self.inputs.vrf)
        nd_peers = state.node_peers(node.name)
        missing = [h for h, v in ((sw.name, sw_peers), (node.name, nd_peers)) if v is None]
        if missing:
            out.add(
                node.name,
                Status.ERROR,
                "; ".join(state.failure_message(h) for h in missing),
                subject=subject,
            )
            return
        assert sw_peers is not None and nd_peers is not None
        if state.nodes[node.name].status.calico_running is False:
            nd_peer = None
            node_text = "Calico not running"
        else:
            nd_peer = nd_peers.get(svi)
            node_text = node_state_text(nd_peer)
        sw_peer = sw_peers.get(str(node.bgp_ip))
        sw_ok = sw_peer is not None and sw_peer.established
        nd_ok = nd_peer is not None and node_established(nd_peer)
        both = f"switch {switch_state_text(sw_peer)}, node {node_text}"
        self._verdict(out, node.name, subject, sw_ok, nd_ok, both)

    def _node_session(self, state: Evidence, out: HostFindings, node: Node, other: Node) -> None:
        """A node-to-node session (to a route reflector): both nodes' rows."""
        subject = f"{node.name} <-> {other.name}"
        ends = [(node, other), (other, node)]
        rows = {a.name: state.node_peers(a.name) for a, _ in ends}
        missing = [h for h, v in rows.items() if v is None]
        if missing:
            out.add(
                node.name,
                Status.ERROR,
                "; ".join(state.failure_message(h) for h in missing),
                subject=subject,
            )
            return
        texts: list[str] = []
        oks: list[bool] = []
        for me, them in ends:
            mine = rows[me.name] or {}
            running = state.nodes[me.name].status.calico_running is not False
            row = next((mine[a] for a in sorted(state.mesh_addresses(them)) if a in mine), None)
            oks.append(running and row is not None and node_established(row))
            texts.append(
                f"{me.name} " + (node_state_text(row) if running else "Calico not running")
            )
        self._verdict(out, node.name, subject, oks[0], oks[1], ", ".join(texts))

    @staticmethod
    def _verdict(
        out: HostFindings, host: str, subject: str, a_ok: bool, b_ok: bool, both: str
    ) -> None:
        if a_ok and b_ok:
            out.add(host, Status.PASS, f"both ends Established ({both})", subject=subject)
        elif a_ok != b_ok:
            out.add(host, Status.FAIL, f"mismatch: {both}", subject=subject)
        else:
            out.add(host, Status.FAIL, f"down on both ends: {both}", subject=subject)
