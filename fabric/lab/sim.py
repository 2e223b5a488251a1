"""The lab's BGP simulation: sessions and routes that follow from both sides' configuration.

:func:`compute` is a pure function of a :class:`World` (switch snapshots, the cluster's objects,
node facts, faults, and the previous session start times) and the clock. The runtime rebuilds the
world and calls it again whenever a switch's running-config or a cluster object changes.

The model, in words (docs/lab.md has the details and the numbers):

* A node's AS is its Calico ``Node`` ``spec.bgp.asNumber``, else the ``default``
  ``BGPConfiguration``'s ``asNumber``, else 64512.
* A node's peers are the ``BGPPeer`` objects that apply to it (global; ``spec.node`` equal to
  the node; ``nodeSelector`` matching its core ``Node`` labels) plus the node-to-node mesh (every
  other node's management address) while ``nodeToNodeMeshEnabled`` (default true). A
  ``peerSelector`` peer links the nodes it applies to with the nodes it selects, both ways; a
  node with a ``routeReflectorClusterID`` is a route reflector, out of the mesh.
* A node-switch session is Established only when the switch has the node's BGP IP as neighbor with
  ``remote-as`` equal to the node's AS (and not shut down), the switch has an interface in the
  node's subnet, Calico has a peer for that node whose ``peerIP`` is that interface's address and
  whose ``asNumber`` is the switch's AS, the TCP-MD5 passwords agree (both unset, or equal), neither
  link is down and BIRD runs on the node. Calico's ``listenPort`` does not matter: the node
  connects out to the switch's port 179, as in the seed.
* Each node owns IPAM blocks (``BlockAffinity`` objects); pods whose IP lies in a pool but outside
  their node's blocks are advertised as /32s. A node originates its blocks, those /32s and the
  service CIDRs of the ``BGPConfiguration``. Routes then propagate over the Established sessions
  by BGP's rules (:mod:`fabric.lab.propagation`: iBGP split horizon and route reflection,
  AS-path loop prevention and ``allowas-in``, Calico's export policy and ``BGPFilter`` rules);
  the switch installs the best path per prefix, or up to ``maximum-paths`` equal paths.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fabric.lab.model import (
    BgpNeighborConfig,
    BgpRoute,
    NodeBgpView,
    NodePeerType,
    NodePeerView,
    PeerState,
    ReceivedPath,
    SessionState,
    SwitchBgpView,
    SwitchSnapshot,
)
from fabric.lab.propagation import Outcome, Path, Session, Speaker, multipath, propagate
from fabric.models.intent import filter_rule_matches

CALICO = "projectcalico.org/v3"
DEFAULT_AS = 64512
#: Namespace where calico-node runs and reads BGP password Secrets (operator install).
CALICO_NAMESPACE = "calico-system"

IPv4Net = ipaddress.IPv4Network
IPv4Addr = ipaddress.IPv4Address

#: Session key -> (state, since). Carried from one result to the next world.
SinceMap = dict[tuple[str, ...], tuple[str, float]]

INFO_REFUSED = "Active Socket: Connection refused"
INFO_CONNECT = "Connect"


@dataclass(frozen=True)
class NodeFacts:
    """What the inventory says about a Calico node (its addresses do not change at runtime)."""

    name: str
    bgp_ip: IPv4Addr
    mgmt_ip: IPv4Addr | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def mesh_ip(self) -> IPv4Addr:
        """The address other nodes' mesh sessions use (management, as in the seed)."""
        return self.mgmt_ip or self.bgp_ip


@dataclass
class World:
    """Everything the simulation reads.

    Attributes:
        nodes: the Calico nodes (from the inventory intent).
        switches: parsed running-config per switch name.
        objects: cluster objects by ``(apiVersion, kind)``; kinds read: ``BGPConfiguration``,
            ``BGPPeer``, ``Node``, ``IPPool``, ``BlockAffinity`` (projectcalico.org/v3) and
            ``Node``, ``Pod``, ``Secret`` (v1).
        link_down: hosts (nodes or switches) whose data link is down.
        bird_down: nodes whose calico-node/BIRD is not running.
        withheld: per node, prefixes it stops advertising while its sessions stay up.
        pod_cidr: the pod CIDR of the intent, used when the cluster holds no IPPool.
        block_size: IPAM block prefix length when no IPPool says otherwise.
        previous: session states and start times of the previous result.
        derived: see the attribute.
    """

    nodes: list[NodeFacts]
    switches: dict[str, SwitchSnapshot]
    objects: Mapping[tuple[str, str], list[dict[str, Any]]]
    link_down: frozenset[str] = frozenset()
    bird_down: frozenset[str] = frozenset()
    withheld: Mapping[str, frozenset[IPv4Net]] = field(default_factory=dict)
    pod_cidr: IPv4Net | None = None
    block_size: int = 26
    previous: Mapping[tuple[str, ...], tuple[str, float]] = field(default_factory=dict)
    #: The cluster-derived part of an earlier result, when the cluster objects did not change
    #: since (the caller vouches for that); None derives it from ``objects``.
    derived: ClusterDerived | None = None

    def list(self, api_version: str, kind: str) -> list[dict[str, Any]]:
        """The objects of one kind (empty when none)."""
        return self.objects.get((api_version, kind), [])


@dataclass
class NodeSim:
    """One node's computed control plane (mesh rows are built on demand, see SimResult)."""

    facts: NodeFacts
    as_number: int
    bird_running: bool
    mesh_capable: bool
    mesh_since: float
    bird_since: float
    peers: list[NodePeerView]
    advertised: list[IPv4Net]
    blocks: list[IPv4Net]
    #: The address other nodes' sessions reach it on (Calico Node address, else mesh address).
    address: IPv4Addr | None = None
    #: A Calico route reflector (not in the node-to-node mesh).
    route_reflector: bool = False


@dataclass
class SimResult:
    """The outcome of one :func:`compute`: a view per switch, the state per node, start times."""

    now: float
    switches: dict[str, SwitchBgpView]
    nodes: dict[str, NodeSim]
    mesh_enabled: bool
    since: SinceMap
    derived: ClusterDerived | None = None

    def node_view(self, name: str) -> NodeBgpView:
        """``calicoctl node status`` / ``birdcl`` for one node (mesh rows computed here)."""
        st = self.nodes[name]
        if not st.bird_running:
            return NodeBgpView(bird_running=False, error="Calico process is not running.")
        rows: list[NodePeerView] = []
        if self.mesh_enabled and not st.route_reflector:
            for other in sorted(self.nodes.values(), key=lambda s: s.facts.name):
                if other.facts.name == name or other.route_reflector:
                    continue
                up = st.mesh_capable and other.mesh_capable
                since = max(st.mesh_since, other.mesh_since)
                rows.append(
                    NodePeerView(
                        peer_address=str(other.address or other.facts.mesh_ip),
                        peer_type="node-to-node mesh",
                        state="up" if up else "start",
                        since=since,
                        info="Established" if up else INFO_REFUSED,
                    )
                )
        rows.extend(st.peers)
        return NodeBgpView(bird_running=True, ipv4_peers=rows)


# --------------------------------------------------------------------------- selectors

_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|&&|\|\||!|\(|\)|\{|\}|,)|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<word>[A-Za-z0-9_./\-]+))"
)


class _Selector:
    """Calico label selectors.

    Supported: ``all()``, ``has(k)``, ``k == 'v'``, ``!=``, ``in``, ``not in``, ``!``, ``&&``,
    ``||`` and parentheses.
    """

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ValueError(f"bad selector {text!r} at {pos}")
            pos = m.end()
            kind = m.lastgroup or "op"
            val = m.group(kind)
            if kind == "str":
                val = val[1:-1]
            self.tokens.append((kind, val))
        self.i = 0

    def keys(self) -> set[str]:
        """Label keys the selector may look at (a superset is fine)."""
        return {
            v for kind, v in self.tokens if kind == "word" and v not in ("all", "has", "in", "not")
        }

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise ValueError("unexpected end of selector")
        self.i += 1
        return tok

    def _expect(self, value: str) -> None:
        if self._take()[1] != value:
            raise ValueError(f"expected {value!r}")

    def match(self, labels: Mapping[str, str]) -> bool:
        if not self.tokens:
            return True
        self.i = 0
        ok = self._or(labels)
        if self._peek() is not None:
            raise ValueError("trailing tokens in selector")
        return ok

    def _or(self, labels: Mapping[str, str]) -> bool:
        ok = self._and(labels)
        while self._peek() == ("op", "||"):
            self._take()
            ok = self._and(labels) or ok
        return ok

    def _and(self, labels: Mapping[str, str]) -> bool:
        ok = self._unary(labels)
        while self._peek() == ("op", "&&"):
            self._take()
            ok = self._unary(labels) and ok
        return ok

    def _unary(self, labels: Mapping[str, str]) -> bool:
        tok = self._take()
        if tok == ("op", "!"):
            return not self._unary(labels)
        if tok == ("op", "("):
            ok = self._or(labels)
            self._expect(")")
            return ok
        if tok[0] != "word":
            raise ValueError(f"unexpected {tok[1]!r}")
        word = tok[1]
        if word in ("all", "has") and self._peek() == ("op", "("):
            self._take()
            if word == "all":
                self._expect(")")
                return True
            key = self._take()[1]
            self._expect(")")
            return key in labels
        nxt = self._take()
        if nxt[1] in ("==", "!="):
            value = self._take()[1]
            equal = labels.get(word) == value
            return equal if nxt[1] == "==" else not equal
        negate = False
        if nxt == ("word", "not"):
            negate = True
            nxt = self._take()
        if nxt == ("word", "in"):
            self._expect("{")
            values: set[str] = set()
            while self._peek() != ("op", "}"):
                values.add(self._take()[1])
                if self._peek() == ("op", ","):
                    self._take()
            self._expect("}")
            inside = labels.get(word) in values
            return not inside if negate else inside
        raise ValueError(f"unsupported selector operator {nxt[1]!r}")


def selector_matches(selector: str | None, labels: Mapping[str, str]) -> bool:
    """Whether a Calico selector matches ``labels``. An invalid selector matches nothing.

    >>> selector_matches("rack == 'r1' && has(kubernetes.io/hostname)",
    ...                  {"rack": "r1", "kubernetes.io/hostname": "n1"})
    True
    >>> selector_matches("rack in {'r2', 'r3'}", {"rack": "r1"})
    False
    """
    if selector is None:
        return True
    try:
        return _Selector(selector).match(labels)
    except ValueError:
        return False


# --------------------------------------------------------------------------- cluster reading


def _spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _net(value: Any) -> IPv4Net | None:
    try:
        return ipaddress.IPv4Network(str(value), strict=False)
    except ValueError:
        return None


def _addr(value: Any) -> IPv4Addr | None:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        return None


def _peer_ip(value: Any) -> IPv4Addr | None:
    """Calico's ``peerIP``: an address, optionally with ``:port``."""
    text = str(value or "")
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    return _addr(text)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _bgp_configuration(world: World) -> dict[str, Any]:
    for obj in world.list(CALICO, "BGPConfiguration"):
        if _meta(obj).get("name") == "default":
            return _spec(obj)
    return {}


def _secret_value(world: World, ref: Mapping[str, Any]) -> str | None:
    name, key = ref.get("name"), ref.get("key")
    for obj in world.list("v1", "Secret"):
        meta = _meta(obj)
        if meta.get("name") != name or meta.get("namespace", CALICO_NAMESPACE) != CALICO_NAMESPACE:
            continue
        string_data = obj.get("stringData") or {}
        if key in string_data:
            return str(string_data[key])
        data = obj.get("data") or {}
        if key in data:
            try:
                return base64.b64decode(str(data[key])).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


def pools(world: World) -> list[tuple[IPv4Net, int]]:
    """IPv4 pools ``(cidr, block prefix length)``: IPPool objects, else the intent's pod CIDR."""
    out: list[tuple[IPv4Net, int]] = []
    for obj in world.list(CALICO, "IPPool"):
        spec = _spec(obj)
        net = _net(spec.get("cidr"))
        if net is None or spec.get("disabled") is True:
            continue
        out.append((net, _int(spec.get("blockSize")) or 26))
    if not out and world.pod_cidr is not None:
        out.append((world.pod_cidr, world.block_size))
    return out


def node_blocks(world: World) -> dict[str, list[IPv4Net]]:
    """IPAM blocks per node, from the cluster's BlockAffinity objects."""
    out: dict[str, list[IPv4Net]] = {}
    for obj in world.list(CALICO, "BlockAffinity"):
        spec = _spec(obj)
        net = _net(spec.get("cidr"))
        if net is None or str(spec.get("deleted", "false")) == "true":
            continue
        if spec.get("state", "confirmed") != "confirmed":
            continue
        out.setdefault(str(spec.get("node")), []).append(net)
    for nets in out.values():
        nets.sort()
    return out


def block_affinity(node: str, cidr: IPv4Net) -> dict[str, Any]:
    """A Calico BlockAffinity object (name as Calico builds it)."""
    name = f"{node}-{str(cidr).replace('.', '-').replace('/', '-')}"
    return {
        "apiVersion": CALICO,
        "kind": "BlockAffinity",
        "metadata": {"name": name},
        "spec": {"state": "confirmed", "node": node, "cidr": str(cidr), "deleted": "false"},
    }


def plan_block_affinities(
    world: World, preferred: Mapping[str, IPv4Net] | None = None
) -> list[dict[str, Any]]:
    """BlockAffinity objects to create for nodes that own no block yet.

    Args:
        world: the current world.
        preferred: a block to use for a node when it is free (the seed's blocks).

    Returns:
        New objects (the caller stores them); empty when every node has a block.
    """
    have = node_blocks(world)
    pool_list = pools(world)
    if not pool_list:
        return []
    used: set[IPv4Net] = {b for nets in have.values() for b in nets}
    out: list[dict[str, Any]] = []
    iters = [(pool, pool.subnets(new_prefix=max(size, pool.prefixlen))) for pool, size in pool_list]
    for node in world.nodes:
        if have.get(node.name):
            continue
        pick = (preferred or {}).get(node.name)
        if pick is not None and (pick in used or not any(pick.subnet_of(p) for p, _ in iters)):
            pick = None
        if pick is None:
            for _pool, gen in iters:
                pick = next((b for b in gen if b not in used), None)
                if pick is not None:
                    break
        if pick is None:
            break
        used.add(pick)
        out.append(block_affinity(node.name, pick))
    return out


def next_pod_ip(world: World, node: str) -> IPv4Addr | None:
    """The address Calico IPAM would hand the next pod on ``node`` (after the highest in use)."""
    blocks = node_blocks(world).get(node, [])
    used: set[IPv4Addr] = set()
    for pod in world.list("v1", "Pod"):
        ip = _addr((pod.get("status") or {}).get("podIP"))
        if ip is not None:
            used.add(ip)
    for block in blocks:
        taken = [ip for ip in used if ip in block]
        start = max(taken) + 1 if taken else block.network_address + 1
        candidate = start
        while candidate in block and candidate != block.broadcast_address:
            if candidate not in used:
                return candidate
            candidate += 1
    return None


# --------------------------------------------------------------------------- compute


@dataclass(frozen=True)
class _Calico:
    mesh: bool
    default_as: int
    service_cidrs: list[IPv4Net]
    node_as: dict[str, int]
    labels: dict[str, dict[str, str]]
    peers: list[dict[str, Any]]
    #: Calico Node ``spec.bgp.routeReflectorClusterID`` per node (route reflectors).
    cluster_id: dict[str, str] = field(default_factory=dict)
    #: Calico Node ``spec.bgp.ipv4Address`` per node (the address its BGP speaks from).
    node_addr: dict[str, IPv4Addr] = field(default_factory=dict)
    #: BGPFilter rules by name: (importV4, exportV4), each ``(action, operator, cidr)``.
    filters: dict[str, tuple[list[_Rule], list[_Rule]]] = field(default_factory=dict)


_Rule = tuple[str, str, IPv4Net]


def _read_rules(items: Any) -> list[_Rule]:
    rules: list[_Rule] = []
    for item in items or []:
        net = _net(item.get("cidr")) if isinstance(item, dict) else None
        if net is not None:
            rules.append((str(item.get("action")), str(item.get("matchOperator", "In")), net))
    return rules


def _read_nodes(world: World) -> tuple[dict[str, int], dict[str, str], dict[str, IPv4Addr]]:
    node_as: dict[str, int] = {}
    cluster_id: dict[str, str] = {}
    node_addr: dict[str, IPv4Addr] = {}
    for obj in world.list(CALICO, "Node"):
        name = str(_meta(obj).get("name"))
        bgp = _spec(obj).get("bgp") or {}
        asn = _int(bgp.get("asNumber"))
        if asn is not None:
            node_as[name] = asn
        if bgp.get("routeReflectorClusterID"):
            cluster_id[name] = str(bgp["routeReflectorClusterID"])
        addr = _addr(str(bgp.get("ipv4Address") or "").split("/", 1)[0])
        if addr is not None:
            node_addr[name] = addr
    return node_as, cluster_id, node_addr


def _read_calico(world: World) -> _Calico:
    cfg = _bgp_configuration(world)
    mesh = cfg.get("nodeToNodeMeshEnabled", True) is not False
    default_as = _int(cfg.get("asNumber")) or DEFAULT_AS
    services: list[IPv4Net] = []
    for key in ("serviceClusterIPs", "serviceExternalIPs", "serviceLoadBalancerIPs"):
        for item in cfg.get(key) or []:
            net = _net(item.get("cidr")) if isinstance(item, dict) else None
            if net is not None and net not in services:
                services.append(net)
    node_as, cluster_id, node_addr = _read_nodes(world)
    labels: dict[str, dict[str, str]] = {}
    for obj in world.list("v1", "Node"):
        meta = _meta(obj)
        labels[str(meta.get("name"))] = {
            str(k): str(v) for k, v in (meta.get("labels") or {}).items()
        }
    filters = {
        str(_meta(o).get("name")): (
            _read_rules(_spec(o).get("importV4")),
            _read_rules(_spec(o).get("exportV4")),
        )
        for o in world.list(CALICO, "BGPFilter")
    }
    return _Calico(
        mesh=mesh,
        default_as=default_as,
        service_cidrs=services,
        node_as=node_as,
        labels=labels,
        peers=world.list(CALICO, "BGPPeer"),
        cluster_id=cluster_id,
        node_addr=node_addr,
        filters=filters,
    )


@dataclass
class _CalicoPeer:
    ip: IPv4Addr
    asn: int | None
    peer_type: NodePeerType
    password: str | None
    filters: tuple[str, ...] = ()
    allowas: int = 0


@dataclass
class _NodeLink:
    """A ``peerSelector`` BGPPeer: the nodes it applies to peer with the nodes it selects."""

    nodes: _Selector | None
    peers: _Selector | None
    filters: tuple[str, ...]
    allowas: int


def _peer_options(spec: Mapping[str, Any]) -> tuple[tuple[str, ...], int]:
    filters = tuple(str(f) for f in spec.get("filters") or [])
    return filters, _int(spec.get("numAllowedLocalASNumbers")) or 0


def _compile(selector: Any) -> _Selector | None:
    try:
        return _Selector(str(selector))
    except ValueError:
        return None  # an invalid selector matches nothing


class _PeerIndex:
    """The cluster's BGPPeers, parsed once; which apply to a node, memoised by label values."""

    def __init__(self, world: World, cal: _Calico) -> None:
        self.glob: list[_CalicoPeer] = []
        self.by_node: dict[str, list[_CalicoPeer]] = {}
        self.selected: list[tuple[_Selector | None, _CalicoPeer]] = []
        self.links: list[_NodeLink] = []
        keys: set[str] = set()
        for obj in cal.peers:
            spec = _spec(obj)
            filters, allowas = _peer_options(spec)
            if spec.get("peerSelector"):
                link = _NodeLink(
                    None if spec.get("node") else _compile(spec.get("nodeSelector") or "all()"),
                    _compile(spec["peerSelector"]),
                    filters,
                    allowas,
                )
                if spec.get("node"):  # a node-specific selector peer: only that node
                    link.nodes = _compile(f"kubernetes.io/hostname == '{spec['node']}'")
                self.links.append(link)
                continue
            ip = _peer_ip(spec.get("peerIP"))
            if ip is None:
                continue
            password = None
            ref = (spec.get("password") or {}).get("secretKeyRef")
            if isinstance(ref, dict):
                password = _secret_value(world, ref)
            asn = _int(spec.get("asNumber"))
            target = spec.get("node")
            selector = spec.get("nodeSelector")
            if target:
                peer = _CalicoPeer(ip, asn, "node specific", password, filters, allowas)
                self.by_node.setdefault(str(target), []).append(peer)
            elif selector:
                peer = _CalicoPeer(ip, asn, "node specific", password, filters, allowas)
                compiled = _compile(selector)
                if compiled is not None:
                    keys |= compiled.keys()
                self.selected.append((compiled, peer))
            else:
                self.glob.append(_CalicoPeer(ip, asn, "global", password, filters, allowas))
        self.keys = tuple(sorted(keys))
        self._memo: dict[tuple[str | None, ...], list[_CalicoPeer]] = {}

    def _matching(self, labels: Mapping[str, str]) -> list[_CalicoPeer]:
        key = tuple(labels.get(k) for k in self.keys)
        found = self._memo.get(key)
        if found is None:
            found = []
            for compiled, peer in self.selected:
                try:
                    if compiled is not None and compiled.match(labels):
                        found.append(peer)
                except ValueError:
                    continue
            self._memo[key] = found
        return found

    def for_node(self, node: NodeFacts, labels: Mapping[str, str]) -> list[_CalicoPeer]:
        """The peers of ``node`` in BIRD protocol order (global, then node-specific, by IP)."""
        glob: dict[str, _CalicoPeer] = {}
        specific: dict[str, _CalicoPeer] = {}
        own = (node.bgp_ip, node.mgmt_ip)
        for peer in self.glob:
            if peer.ip not in own:  # Calico never peers a node with itself
                glob.setdefault(str(peer.ip), peer)
        for peer in [*self.by_node.get(node.name, []), *self._matching(labels)]:
            if peer.ip not in own:
                specific.setdefault(str(peer.ip), peer)
        return [glob[k] for k in sorted(glob)] + [specific[k] for k in sorted(specific)]

    def node_links(
        self, nodes: list[NodeFacts], labels: Mapping[str, Mapping[str, str]]
    ) -> dict[str, dict[str, _NodeLink]]:
        """Node -> the nodes it peers with through ``peerSelector`` peers (both directions)."""
        out: dict[str, dict[str, _NodeLink]] = {n.name: {} for n in nodes}
        for link in self.links:
            if link.nodes is None or link.peers is None:
                continue
            chosen = [n.name for n in nodes if _safe_match(link.peers, labels[n.name])]
            if not chosen:
                continue
            for n in nodes:
                if not _safe_match(link.nodes, labels[n.name]):
                    continue
                for other in chosen:
                    if other != n.name:
                        out[n.name].setdefault(other, link)
                        out[other].setdefault(n.name, link)
        return out


def _safe_match(sel: _Selector, labels: Mapping[str, str]) -> bool:
    try:
        return sel.match(labels)
    except ValueError:
        return False


def _advertised(
    world: World, cal: _Calico, blocks: dict[str, list[IPv4Net]]
) -> dict[str, list[IPv4Net]]:
    pool_nets = [p for p, _ in pools(world)]
    out: dict[str, list[IPv4Net]] = {n.name: list(blocks.get(n.name, [])) for n in world.nodes}
    for pod in world.list("v1", "Pod"):
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in out or (pod.get("spec") or {}).get("hostNetwork"):
            continue
        ip = _addr((pod.get("status") or {}).get("podIP"))
        if ip is None or not any(ip in p for p in pool_nets):
            continue
        if any(ip in b for b in blocks.get(str(node), [])):
            continue
        host = ipaddress.IPv4Network(f"{ip}/32")
        if host not in out[str(node)]:
            out[str(node)].append(host)
    for name, nets in out.items():
        own = sorted(nets)
        out[name] = own + [s for s in cal.service_cidrs if s not in own]
    return out


@dataclass(frozen=True)
class _Outcome:
    switch_state: SessionState | None
    switch_detail: str | None
    node_state: Literal["up", "start"]
    node_info: str


_Iface = tuple[str, IPv4Addr, IPv4Net]
_IFACE_CACHE: dict[int, tuple[SwitchSnapshot, list[_Iface]]] = {}


def _l3(snap: SwitchSnapshot) -> list[_Iface]:
    """Up, default-VRF L3 interfaces ``(name, address, network)`` (cached per snapshot)."""
    hit = _IFACE_CACHE.get(id(snap))
    if hit is not None and hit[0] is snap:
        return hit[1]
    out = [
        (i.name, i.address.ip, i.address.network)
        for i in snap.interfaces
        if i.vrf == "default" and not i.shutdown
    ]
    if len(_IFACE_CACHE) > 4096:
        _IFACE_CACHE.clear()
    _IFACE_CACHE[id(snap)] = (snap, out)
    return out


def _iface_for(snap: SwitchSnapshot, ip: IPv4Addr) -> str | None:
    for name, _ip, net in _l3(snap):
        if ip in net:
            return name
    return None


def _svi_matches(snap: SwitchSnapshot, peer_ip: IPv4Addr, node_ip: IPv4Addr) -> bool:
    return any(
        addr == peer_ip and node_ip in net and node_ip != peer_ip for _n, addr, net in _l3(snap)
    )


def _session(
    world: World,
    snap: SwitchSnapshot,
    nb: BgpNeighborConfig | None,
    node: NodeFacts | None,
    node_as: int | None,
    peer: _CalicoPeer | None,
) -> _Outcome:
    """Both ends of one switch-node session; ``nb``/``peer`` None when that side has no config."""
    if nb is not None and nb.shutdown:
        return _Outcome("Idle", "Idle(Admin)", "start", INFO_REFUSED)
    if node is None:
        return _Outcome("Active", None, "start", INFO_CONNECT)
    if snap.name in world.link_down or node.name in world.link_down:
        return _Outcome("Connect", None, "start", INFO_CONNECT)
    if node.name in world.bird_down:
        return _Outcome("Active", None, "start", INFO_REFUSED)
    if peer is None:
        # The node has no BGP peer for this switch: BIRD refuses the switch's connection.
        return _Outcome("Active", None, "start", INFO_REFUSED)
    if not _svi_matches(snap, peer.ip, node.bgp_ip):
        return _Outcome("Active", None, "start", INFO_CONNECT)
    if nb is None or snap.bgp is None:
        return _Outcome(None, None, "start", INFO_REFUSED)
    if nb.remote_as is None or nb.remote_as != node_as:
        return _Outcome("Active", None, "start", "Active Received: Bad peer AS")
    if peer.asn != snap.bgp.asn:
        return _Outcome("Active", None, "start", "Active BGP Error: Bad peer AS")
    if (nb.password or None) != (peer.password or None):
        # TCP-MD5 mismatch: segments are dropped silently, neither side gets an answer.
        return _Outcome("Active", None, "start", INFO_CONNECT)
    return _Outcome("Established", None, "up", "Established")


def _since(
    prev: Mapping[tuple[str, ...], tuple[str, float]],
    out: SinceMap,
    key: tuple[str, ...],
    state: str,
    now: float,
) -> float:
    old = prev.get(key)
    since = old[1] if old is not None and old[0] == state else now
    out[key] = (state, since)
    return since


def _router_id(snap: SwitchSnapshot) -> str | None:
    if snap.bgp is not None and snap.bgp.router_id:
        return snap.bgp.router_id
    loops = [
        i.address.ip
        for i in snap.interfaces
        if i.name.startswith("Loopback") and i.vrf == "default"
    ]
    if loops:
        return str(max(loops))
    addrs = [i.address.ip for i in snap.interfaces if i.vrf == "default"]
    return str(max(addrs)) if addrs else None


@dataclass(frozen=True)
class ClusterDerived:
    """What the simulation derives from the cluster's objects alone (reusable while they hold)."""

    cal: _Calico
    blocks: dict[str, list[IPv4Net]]
    adverts: dict[str, list[IPv4Net]]
    node_as: dict[str, int]
    peers_of: dict[str, list[_CalicoPeer]]
    #: node -> the nodes it peers with through ``peerSelector`` BGPPeers.
    links: dict[str, dict[str, _NodeLink]] = field(default_factory=dict)
    #: The prefixes Calico exports to its BGP peers (IP pools and service CIDRs).
    exportable: tuple[IPv4Net, ...] = ()


def derive_cluster(world: World) -> ClusterDerived:
    """The cluster-side part of :func:`compute` (peers, AS numbers, IPAM, advertisements)."""
    cal = _read_calico(world)
    blocks = node_blocks(world)
    index = _PeerIndex(world, cal)
    labels = {n.name: cal.labels.get(n.name, dict(n.labels)) for n in world.nodes}
    return ClusterDerived(
        cal=cal,
        blocks=blocks,
        adverts=_advertised(world, cal, blocks),
        node_as={n.name: cal.node_as.get(n.name, cal.default_as) for n in world.nodes},
        peers_of={n.name: index.for_node(n, labels[n.name]) for n in world.nodes},
        links=index.node_links(world.nodes, labels),
        exportable=tuple([p for p, _ in pools(world)] + cal.service_cidrs),
    )


@dataclass
class _SwitchRow:
    """One neighbor of one switch: its configuration, its node, the session's outcome."""

    address: str
    nb: BgpNeighborConfig
    node: NodeFacts | None
    state: SessionState
    detail: str | None
    since: float


def _switch_sessions(
    world: World,
    derived: ClusterDerived,
    switch_by_addr: dict[IPv4Addr, str],
    prev: Mapping[tuple[str, ...], tuple[str, float]],
    since: SinceMap,
    now: float,
) -> dict[str, list[_SwitchRow]]:
    """Every switch's neighbor rows, judged from both sides' configuration."""
    nodes_by_ip = {n.bgp_ip: n for n in world.nodes}
    out: dict[str, list[_SwitchRow]] = {}
    for sname, snap in sorted(world.switches.items()):
        if snap.bgp is None:
            continue
        rows: list[_SwitchRow] = []
        for addr_text, nb in snap.bgp.neighbors.items():
            nb_ip = _addr(addr_text)
            node = nodes_by_ip.get(nb_ip) if nb_ip is not None else None
            peer = None
            if node is not None:
                peer = next(
                    (p for p in derived.peers_of[node.name] if switch_by_addr.get(p.ip) == sname),
                    None,
                )
            node_as = derived.node_as.get(node.name) if node else None
            res = _session(world, snap, nb, node, node_as, peer)
            state = res.switch_state or "Active"
            t = _since(prev, since, ("switch", sname, addr_text), res.switch_detail or state, now)
            rows.append(_SwitchRow(addr_text, nb, node, state, res.switch_detail, t))
        out[sname] = rows
    return out


def _policy_key(
    rules_by_name: Mapping[str, tuple[list[_Rule], list[_Rule]]],
    names: tuple[str, ...],
    exportable: tuple[IPv4Net, ...],
) -> Hashable:
    """What a node session's policies are (for the propagation cache)."""
    rules = tuple(
        (
            name,
            tuple(rules_by_name.get(name, ([], []))[0]),
            tuple(rules_by_name.get(name, ([], []))[1]),
        )
        for name in names
    )
    return ("calico", rules, exportable)


def _policy(
    rules_by_name: Mapping[str, tuple[list[_Rule], list[_Rule]]],
    names: tuple[str, ...],
    direction: int,
    allowed: tuple[IPv4Net, ...] | None = None,
) -> Callable[[IPv4Net], bool] | None:
    """A Calico session policy: BGPFilter rules (first match), then Calico's default."""
    rules = [r for name in names for r in rules_by_name.get(name, ([], []))[direction]]
    if not rules and allowed is None:
        return None

    def keep(net: IPv4Net) -> bool:
        for action, operator, cidr in rules:
            if filter_rule_matches(operator, cidr, net):
                return action == "Accept"
        return allowed is None or any(net.subnet_of(a) for a in allowed)

    return keep


class _Speakers:
    """Builds the propagation speakers of one compute: switches, nodes and their sessions."""

    def __init__(self, world: World, derived: ClusterDerived, adverts: dict[str, list[IPv4Net]]):
        self.world = world
        self.derived = derived
        self.out: dict[str, Speaker] = {}
        for sname, snap in world.switches.items():
            if snap.bgp is None:
                continue
            self.out["s:" + sname] = Speaker(
                id="s:" + sname,
                asn=snap.bgp.asn,
                router_id=_router_id(snap) or "0.0.0.0",
                connected=[net for _n, _a, net in _l3(snap)],
                observed=True,
            )
        cal = derived.cal
        for node in world.nodes:
            self.out["n:" + node.name] = Speaker(
                id="n:" + node.name,
                asn=derived.node_as[node.name],
                router_id=str(self.node_addr(node)),
                cluster_id=cal.cluster_id.get(node.name),
                origin=list(adverts.get(node.name, [])) if node.name not in world.bird_down else [],
            )

    def node_addr(self, node: NodeFacts) -> IPv4Addr:
        """The address a node's BGP speaks from to other nodes (Calico Node, else mesh)."""
        return self.derived.cal.node_addr.get(node.name, node.mesh_ip)

    def switch_node(self, sname: str, snap: SwitchSnapshot, row: _SwitchRow) -> None:
        """Both sides of an Established switch-node session."""
        assert snap.bgp is not None and row.node is not None
        node, nb = row.node, row.nb
        sw, nd = self.out["s:" + sname], self.out["n:" + node.name]
        local = str(_iface_addr(snap, node.bgp_ip) or "")
        ebgp = sw.asn != nd.asn
        peer = next(
            (p for p in self.derived.peers_of[node.name] if str(p.ip) == local),
            None,
        )
        filters, allowas = (peer.filters, peer.allowas) if peer else ((), 0)
        rules = self.derived.cal.filters
        sw.sessions[nd.id] = Session(
            nd.id, local, str(node.bgp_ip), ebgp, peer_is_client=nb.rr_client, allowas=nb.allowas_in
        )
        if nb.rr_client:
            sw.cluster_id = sw.router_id
        nd.sessions[sw.id] = Session(
            sw.id,
            str(node.bgp_ip),
            local,
            ebgp,
            peer_is_client=nd.cluster_id is not None and not ebgp,
            allowas=allowas,
            export=_policy(rules, filters, 1, self.derived.exportable),
            import_=_policy(rules, filters, 0),
            key=_policy_key(rules, filters, self.derived.exportable),
        )

    def node_node(self, a: NodeFacts, b: NodeFacts, link: _NodeLink | None) -> None:
        """Both sides of an up node-to-node session (mesh, or a peerSelector peer)."""
        sa, sb = self.out["n:" + a.name], self.out["n:" + b.name]
        ebgp = sa.asn != sb.asn
        rules = self.derived.cal.filters
        filters, allowas = (link.filters, link.allowas) if link else ((), 0)
        for me, other, mine, theirs in ((sa, sb, a, b), (sb, sa, b, a)):
            me.sessions[other.id] = Session(
                other.id,
                str(self.node_addr(mine)),
                str(self.node_addr(theirs)),
                ebgp,
                peer_is_client=me.cluster_id is not None
                and not ebgp
                and other.cluster_id != me.cluster_id,
                allowas=allowas,
                export=_policy(rules, filters, 1, self.derived.exportable),
                import_=_policy(rules, filters, 0),
                key=_policy_key(rules, filters, self.derived.exportable),
            )


def _iface_addr(snap: SwitchSnapshot, ip: IPv4Addr) -> IPv4Addr | None:
    for _name, addr, net in _l3(snap):
        if ip in net:
            return addr
    return None


def _mesh_members(world: World, derived: ClusterDerived) -> list[NodeFacts]:
    """Nodes in the node-to-node mesh (Calico leaves route reflectors out of it)."""
    if not derived.cal.mesh:
        return []
    return [n for n in world.nodes if n.name not in derived.cal.cluster_id]


def _capable(world: World, node: NodeFacts) -> bool:
    """A node can hold node-to-node sessions: BIRD runs, its link (or management) is up."""
    return node.name not in world.bird_down and (
        node.mgmt_ip is not None or node.name not in world.link_down
    )


def compute(world: World, now: float) -> SimResult:
    """Sessions and routes of the whole lab from both sides' configuration.

    Args:
        world: switch snapshots, cluster objects, node facts, faults, previous start times.
        now: the clock (epoch seconds) used for sessions that change state in this step.

    Returns:
        A view per switch, the state per node, and the session start times to carry over.
    """
    derived = world.derived if world.derived is not None else derive_cluster(world)
    adverts = derived.adverts
    if world.withheld:
        adverts = {
            name: [n for n in nets if n not in world.withheld.get(name, frozenset())]
            for name, nets in adverts.items()
        }
    since: SinceMap = {}
    prev = world.previous
    switch_by_addr: dict[IPv4Addr, str] = {}
    for sname, snap in world.switches.items():
        for iface in snap.interfaces:
            if iface.vrf == "default":
                switch_by_addr.setdefault(iface.address.ip, sname)
    rows = _switch_sessions(world, derived, switch_by_addr, prev, since, now)
    speakers = _Speakers(world, derived, adverts)
    for sname, srows in rows.items():
        for row in srows:
            if row.state == "Established" and row.node is not None and row.nb.activated_ipv4:
                speakers.switch_node(sname, world.switches[sname], row)
    capable = {n.name: _capable(world, n) for n in world.nodes}
    by_name = {n.name: n for n in world.nodes}
    mesh = _mesh_members(world, derived)
    for i, a in enumerate(mesh):
        for b in mesh[i + 1 :]:
            if capable[a.name] and capable[b.name]:
                speakers.node_node(a, b, None)
    for a_name, links in derived.links.items():
        for b_name, link in links.items():
            if a_name < b_name and capable[a_name] and capable[b_name]:
                speakers.node_node(by_name[a_name], by_name[b_name], link)
    outcome = propagate(speakers.out)
    views = {
        sname: _switch_view(snap, rows.get(sname), speakers.out.get("s:" + sname), outcome)
        for sname, snap in sorted(world.switches.items())
    }
    nodes = _node_states(world, derived, adverts, switch_by_addr, capable, prev, since, now)
    return SimResult(
        now=now,
        switches=views,
        nodes=nodes,
        mesh_enabled=derived.cal.mesh,
        since=since,
        derived=derived,
    )


def _net_order(net: IPv4Net) -> tuple[int, int]:
    return (int(net.network_address), net.prefixlen)


def _switch_view(
    snap: SwitchSnapshot,
    rows: list[_SwitchRow] | None,
    speaker: Speaker | None,
    outcome: Outcome,
) -> SwitchBgpView:
    """``show ip bgp summary`` rows and the BGP routes of one switch."""
    if snap.bgp is None or rows is None or speaker is None:
        return SwitchBgpView(router_id=_router_id(snap), local_as=None)
    rib_in = outcome.rib_in.get(speaker.id, {})
    order = sorted(rib_in, key=_net_order)
    by_sender: dict[str, dict[IPv4Net, Path]] = {}
    for net in order:
        for sender, path in rib_in[net].items():
            by_sender.setdefault(sender, {})[net] = path
    best = sorted(outcome.best.get(speaker.id, {}).items(), key=lambda kv: _net_order(kv[0]))
    peers: list[PeerState] = []
    for row in rows:
        sid = "n:" + row.node.name if row.node is not None else ""
        got = by_sender.get(sid, {}) if row.state == "Established" else {}
        advertised: tuple[IPv4Net, ...] | None = None
        sess = speaker.sessions.get(sid)
        if sess is not None:
            advertised = tuple(net for net, b in best if _sends(speaker, sess, b))
        peers.append(
            PeerState(
                neighbor=row.address,
                remote_as=row.nb.remote_as or 0,
                state=row.state,
                since=row.since,
                prefixes_received=len(got),
                prefixes_accepted=len(got),
                description=row.nb.description,
                state_detail=row.detail,
                received=tuple(got),
                paths={n: ReceivedPath(p.as_path, p.next_hop) for n, p in got.items()},
                advertised=advertised,
                as_loop_drops=outcome.loop_drops.get((speaker.id, sid), 0),
            )
        )
    peers.sort(key=lambda p: _addr(p.neighbor) or IPv4Addr(0))
    return SwitchBgpView(
        router_id=_router_id(snap),
        local_as=snap.bgp.asn,
        peers=peers,
        routes=_routes(snap, speaker, rib_in, order),
    )


def _routes(
    snap: SwitchSnapshot,
    speaker: Speaker,
    rib_in: dict[IPv4Net, dict[str, Path]],
    order: list[IPv4Net],
) -> list[BgpRoute]:
    """The installed BGP routes: best and equal paths up to maximum-paths, next hop on link."""
    assert snap.bgp is not None
    width = max(1, snap.bgp.maximum_paths or 1)
    nets = speaker.connected or []
    on_link: dict[str, bool] = {}
    routes: list[BgpRoute] = []
    for net in order:
        valid = []
        for p in rib_in[net].values():
            ok = on_link.get(p.next_hop)
            if ok is None:
                ok = on_link[p.next_hop] = _on_link(p.next_hop, nets)
            if ok:
                valid.append(p)
        chosen = multipath(valid, width)
        if not chosen:
            continue
        hops = list(dict.fromkeys(p.next_hop for p in chosen))
        external = chosen[0].ebgp
        first = _addr(hops[0])
        routes.append(
            BgpRoute(
                prefix=net,
                next_hops=hops,
                code="B E" if external else "B I",
                distance=20 if external else 200,
                interface=_iface_for(snap, first) if first is not None else None,
            )
        )
    return routes


def _on_link(hop: str, nets: list[IPv4Net]) -> bool:
    addr = _addr(hop)
    return addr is not None and any(addr in n for n in nets)


def _sends(speaker: Speaker, sess: Session, best: Path) -> bool:
    """Whether the switch advertises its best path to the session's peer."""
    if best.sender == sess.peer:
        return False
    if sess.ebgp or best.ebgp:
        return True
    came = speaker.sessions.get(best.sender)
    return speaker.cluster_id is not None and (
        sess.peer_is_client or (came is not None and came.peer_is_client)
    )


def _node_states(
    world: World,
    derived: ClusterDerived,
    adverts: dict[str, list[IPv4Net]],
    switch_by_addr: dict[IPv4Addr, str],
    capable: dict[str, bool],
    prev: Mapping[tuple[str, ...], tuple[str, float]],
    since: SinceMap,
    now: float,
) -> dict[str, NodeSim]:
    """Each node's BIRD state and its peer rows (mesh rows are added by the view)."""
    node_as, peers_of = derived.node_as, derived.peers_of
    by_name = {n.name: n for n in world.nodes}
    out: dict[str, NodeSim] = {}
    for node in world.nodes:
        running = node.name not in world.bird_down
        bird_since = _since(prev, since, ("bird", node.name), "up" if running else "down", now)
        cap = capable[node.name]
        mesh_since = _since(prev, since, ("mesh", node.name), "up" if cap else "down", now)
        rows: list[NodePeerView] = []
        for peer in peers_of[node.name]:
            owner = switch_by_addr.get(peer.ip)
            if owner is None:
                res = _Outcome(None, None, "start", INFO_CONNECT)
            else:
                osnap = world.switches[owner]
                onb = osnap.bgp.neighbors.get(str(node.bgp_ip)) if osnap.bgp else None
                res = _session(world, osnap, onb, node, node_as[node.name], peer)
            t = _since(
                prev, since, ("node", node.name, str(peer.ip)), res.node_state + res.node_info, now
            )
            rows.append(
                NodePeerView(str(peer.ip), peer.peer_type, res.node_state, t, res.node_info)
            )
        rows.extend(_link_rows(world, derived, node, by_name, capable, prev, since, now))
        out[node.name] = NodeSim(
            facts=node,
            as_number=node_as[node.name],
            bird_running=running,
            mesh_capable=cap,
            mesh_since=mesh_since,
            bird_since=bird_since,
            peers=rows,
            advertised=adverts.get(node.name, []),
            blocks=derived.blocks.get(node.name, []),
            address=derived.cal.node_addr.get(node.name, node.mesh_ip),
            route_reflector=node.name in derived.cal.cluster_id,
        )
    return out


def _link_rows(
    world: World,
    derived: ClusterDerived,
    node: NodeFacts,
    by_name: dict[str, NodeFacts],
    capable: dict[str, bool],
    prev: Mapping[tuple[str, ...], tuple[str, float]],
    since: SinceMap,
    now: float,
) -> list[NodePeerView]:
    """Rows of the node's ``peerSelector`` sessions (``node specific``, as Calico shows them)."""
    rows: list[NodePeerView] = []
    addrs = derived.cal.node_addr
    others = sorted(
        derived.links.get(node.name, {}), key=lambda o: addrs.get(o, by_name[o].mesh_ip)
    )
    for other in others:
        addr = str(addrs.get(other, by_name[other].mesh_ip))
        up = capable[node.name] and capable[other]
        info = "Established" if up else INFO_REFUSED
        t = _since(prev, since, ("link", node.name, other), str(up) + info, now)
        rows.append(NodePeerView(addr, "node specific", "up" if up else "start", t, info))
    return rows


def objects_by_kind(items: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Group Kubernetes objects by ``(apiVersion, kind)`` (for building a :class:`World`)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for obj in items:
        out.setdefault((str(obj.get("apiVersion")), str(obj.get("kind"))), []).append(obj)
    return out
