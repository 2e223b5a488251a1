"""BGP route propagation between the lab's speakers (switches and Calico nodes).

A pure, path-vector computation over the sessions that are Established: each speaker
originates its prefixes, advertises its best path for every prefix to its peers, and each peer
applies the rules the designs of Calico's "Calico over IP fabrics" rest on:

* **iBGP split horizon**: a route learned over iBGP is not advertised to another iBGP peer,
  except by a route reflector (RFC 4456): a route from a client goes to every peer, a route
  from a non-client to the clients only; the reflector adds its cluster ID to the cluster list
  and sets the originator; a receiver drops a route carrying its own cluster ID or router-id.
* **eBGP**: the sender prepends its AS and sets itself as next hop; the receiver drops a route
  whose AS path holds its own AS more often than its ``allowas-in`` allows (AS-path loop
  prevention), and counts the drop.
* **policy**: per session, a speaker may restrict what it exports (Calico exports only pool and
  service routes) and what it imports (Calico ``BGPFilter`` rules: the first matching rule's
  action, ``Accept`` when none matches).
* **best path**: a local route, then the shortest AS path, then eBGP over iBGP, then the lowest
  sender address. A switch installs the best path and, with ``maximum-paths``, the other paths
  equal on the first three (EOS's multipath relax is on by default: the AS numbers may differ),
  lowest sender addresses first, only if their next hop is on a connected subnet.
* a path is never advertised back to the speaker it came from.

Speakers whose learned routes can never leave them (a node with only iBGP sessions that is no
route reflector) are not told about other speakers' routes: nothing observable would change.

The engine works on integers (prefixes, speakers and addresses numbered once) and plain tuples:
a dual-homed fabric of 2,000 nodes exchanges a few hundred thousand routes per computation.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

Net = ipaddress.IPv4Network
#: Import or export policy of one session: True keeps the route.
Policy = Callable[[Net], bool]

# An internal path: (as_path, next_hop, sender, sender_addr, ebgp, originator, cluster_list);
# addresses and speakers as integers, sender -1 for a local route.
_P = tuple[tuple[int, ...], int, int, int, bool, int, tuple[int, ...]]
_LOCAL: _P = ((), 0, -1, 0, False, 0, ())


@dataclass(frozen=True)
class Path:
    """A route to one prefix as one speaker holds it."""

    as_path: tuple[int, ...]
    next_hop: str
    sender: str
    """The speaker it came from ("" for a local route)."""
    sender_addr: str
    ebgp: bool
    originator: str = ""
    cluster_list: tuple[str, ...] = ()

    @property
    def local(self) -> bool:
        """Originated by the speaker itself."""
        return not self.sender


@dataclass
class Session:
    """One speaker's side of an Established session."""

    peer: str
    local_addr: str
    peer_addr: str
    ebgp: bool
    #: This speaker is a route reflector and the peer is its client.
    peer_is_client: bool = False
    #: How often this speaker's AS may appear in a path from the peer.
    allowas: int = 0
    export: Policy | None = None
    import_: Policy | None = None
    #: What the policies are, for caching (None with a policy: never cached).
    key: Hashable = None


@dataclass
class Speaker:
    """A BGP speaker: a switch or a Calico node."""

    id: str
    asn: int
    router_id: str
    #: Route reflector cluster ID (a node with ``routeReflectorClusterID``; a switch with
    #: ``route-reflector-client`` neighbors reflects with its router-id).
    cluster_id: str | None = None
    origin: list[Net] = field(default_factory=list)
    sessions: dict[str, Session] = field(default_factory=dict)
    #: Connected subnets: a path is valid here only with a next hop inside one (None: any).
    connected: list[Net] | None = None
    #: Only what it can observe (switches) or pass on matters.
    observed: bool = False


@dataclass
class Outcome:
    """What propagation leaves on the observed speakers (the switches)."""

    #: speaker -> prefix -> sender -> path (after import policy).
    rib_in: dict[str, dict[Net, dict[str, Path]]]
    #: speaker -> prefix -> its best path (what it advertises).
    best: dict[str, dict[Net, Path]]
    #: (speaker, sender) -> routes dropped by AS-path loop prevention.
    loop_drops: dict[tuple[str, str], int]


def _key(p: Path) -> tuple[int, int, int, int, str]:
    return (
        0 if p.local else 1,
        len(p.as_path),
        0 if p.ebgp else 1,
        _ip_int(p.sender_addr),
        p.sender,
    )


@functools.lru_cache(maxsize=65536)
def _ip_int(addr: str) -> int:
    return int(ipaddress.IPv4Address(addr)) if addr else 0


def ranked(paths: list[Path]) -> list[Path]:
    """Paths best first (see the module docstring)."""
    return sorted(paths, key=_key)


def multipath(paths: list[Path], width: int) -> list[Path]:
    """The best path and the equal ones a switch installs, up to ``width``."""
    order = ranked(paths)
    if not order:
        return []
    head = _key(order[0])[:3]
    return [p for p in order if _key(p)[:3] == head][: max(1, width)]


def _rank(p: _P) -> tuple[int, int, int]:
    return (len(p[0]), 0 if p[4] else 1, p[3])


@dataclass
class _Sess:
    peer: int
    local: int
    ebgp: bool
    client: bool
    allowas: int
    export: Callable[[int], bool] | None
    import_: Callable[[int], bool] | None


class _Engine:
    """The computation on integers (see :func:`propagate`)."""

    def __init__(self, speakers: dict[str, Speaker]) -> None:
        self.ids = list(speakers)
        index = {sid: i for i, sid in enumerate(self.ids)}
        self.nets: list[Net] = []
        self.net_id: dict[Net, int] = {}
        self.speakers = [speakers[s] for s in self.ids]
        self.asn = [s.asn for s in self.speakers]
        self.rid = [int(ipaddress.IPv4Address(s.router_id)) for s in self.speakers]
        self.cluster = [
            int(ipaddress.IPv4Address(s.cluster_id)) if s.cluster_id else 0 for s in self.speakers
        ]
        self.sessions: list[dict[int, _Sess]] = []
        for s in self.speakers:
            self.sessions.append(
                {
                    index[p]: _Sess(
                        index[p],
                        int(ipaddress.IPv4Address(x.local_addr)),
                        x.ebgp,
                        x.peer_is_client,
                        x.allowas,
                        self._policy(x.export),
                        self._policy(x.import_),
                    )
                    for p, x in s.sessions.items()
                    if p in index
                }
            )
        self.valid = [self._valid(s.connected) for s in self.speakers]
        self.observed = [s.observed for s in self.speakers]
        self.relays = [
            s.observed
            or s.cluster_id is not None
            or any(x.ebgp or x.peer_is_client for x in s.sessions.values())
            for s in self.speakers
        ]
        self.rib_in: list[dict[int, dict[int, _P]]] = [{} for _ in self.speakers]
        self.best: list[dict[int, _P]] = [{} for _ in self.speakers]
        self.drops: dict[tuple[int, int], int] = {}

    def nid(self, net: Net) -> int:
        found = self.net_id.get(net)
        if found is None:
            found = self.net_id[net] = len(self.nets)
            self.nets.append(net)
        return found

    def _policy(self, fn: Policy | None) -> Callable[[int], bool] | None:
        if fn is None:
            return None
        memo: dict[int, bool] = {}
        nets = self.nets

        def keep(n: int) -> bool:
            hit = memo.get(n)
            if hit is None:
                hit = memo[n] = fn(nets[n])
            return hit

        return keep

    @staticmethod
    def _valid(connected: list[Net] | None) -> Callable[[int], bool] | None:
        if connected is None:
            return None
        ranges = [(int(n.network_address), int(n.netmask)) for n in connected]
        return lambda hop: any(hop & mask == base for base, mask in ranges)

    def run(self) -> None:
        work: list[tuple[int, int]] = []
        for i, s in enumerate(self.speakers):
            for net in s.origin:
                n = self.nid(net)
                self.best[i][n] = _LOCAL
                work.append((i, n))
        while work:
            i, n = work.pop()
            best = self.best[i].get(n)
            learned = best is not None and best[2] >= 0
            for sess in self.sessions[i].values():
                if learned and not self.relays[sess.peer]:
                    continue
                sent = self._export(i, sess, n, best)
                if self._deliver(sess.peer, i, n, sent):
                    work.append((sess.peer, n))

    def _export(self, i: int, sess: _Sess, n: int, best: _P | None) -> _P | None:
        if best is None or best[2] == sess.peer:
            return None
        if sess.export is not None and not sess.export(n):
            return None
        if sess.ebgp:
            return ((self.asn[i], *best[0]), sess.local, i, sess.local, True, 0, ())
        if best[2] < 0:  # local, to an iBGP peer
            return ((), sess.local, i, sess.local, False, self.rid[i], ())
        if best[4]:  # eBGP-learned, to an iBGP peer: next hop unchanged
            return (best[0], best[1], i, sess.local, False, self.rid[i], ())
        came = self.sessions[i].get(best[2])
        if not self.cluster[i] or not (sess.client or (came is not None and came.client)):
            return None  # iBGP split horizon
        origin = best[5] or self.rid[best[2]]
        return (best[0], best[1], i, sess.local, False, origin, (self.cluster[i], *best[6]))

    def _deliver(self, r: int, s: int, n: int, path: _P | None) -> bool:
        """Store what ``s`` sent ``r``; True when ``r``'s best path changed."""
        table = self.rib_in[r].get(n)
        if table is None:
            if path is None:
                return False
            table = self.rib_in[r][n] = {}
        if path is not None:
            path = self._import(r, s, n, path)
        if path is None:
            if table.pop(s, None) is None:
                return False
        elif table.get(s) == path:
            return False
        else:
            table[s] = path
        return self._reselect(r, n, table)

    def _import(self, r: int, s: int, n: int, path: _P) -> _P | None:
        sess = self.sessions[r][s]
        if path[4] and path[0].count(self.asn[r]) > sess.allowas:
            self.drops[(r, s)] = self.drops.get((r, s), 0) + 1
            return None
        if path[5] == self.rid[r] or (self.cluster[r] and self.cluster[r] in path[6]):
            return None
        if sess.import_ is not None and not sess.import_(n):
            return None
        return path

    def _reselect(self, r: int, n: int, table: dict[int, _P]) -> bool:
        old = self.best[r].get(n)
        if old is not None and old[2] < 0:
            return False  # a local route always wins
        valid = self.valid[r]
        cands = [p for p in table.values() if valid is None or valid(p[1])]
        new = min(cands, key=_rank) if cands else None
        if new == old:
            return False
        if new is None:
            self.best[r].pop(n, None)
        else:
            self.best[r][n] = new
        return True

    def _public(self, p: _P) -> Path:
        def ip(v: int) -> str:
            return str(ipaddress.IPv4Address(v)) if v else ""

        sender = self.ids[p[2]] if p[2] >= 0 else ""
        return Path(p[0], ip(p[1]), sender, ip(p[3]), p[4], ip(p[5]), tuple(map(ip, p[6])))

    def outcome(self) -> Outcome:
        rib_in: dict[str, dict[Net, dict[str, Path]]] = {}
        best: dict[str, dict[Net, Path]] = {}
        for i, sid in enumerate(self.ids):
            if not self.observed[i]:
                continue
            rib_in[sid] = {
                self.nets[n]: {self.ids[s]: self._public(p) for s, p in table.items()}
                for n, table in self.rib_in[i].items()
                if table
            }
            best[sid] = {self.nets[n]: self._public(p) for n, p in self.best[i].items()}
        drops = {(self.ids[r], self.ids[s]): c for (r, s), c in self.drops.items()}
        return Outcome(rib_in, best, drops)


#: Outcomes of recent components by fingerprint (a rack whose inputs did not change since the
#: last computation is not computed again: a commit or a fault touches one or two racks).
_CACHE: OrderedDict[Hashable, Outcome] = OrderedDict()
_CACHE_SIZE = 2048


def _components(speakers: dict[str, Speaker]) -> list[list[str]]:
    """Speakers linked by sessions (a rack and its nodes, without a spine)."""
    parent = {s: s for s in speakers}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for sid, sp in speakers.items():
        for peer in sp.sessions:
            if peer in parent:
                a, b = root(sid), root(peer)
                if a != b:
                    parent[a] = b
    groups: dict[str, list[str]] = {}
    for sid in speakers:
        groups.setdefault(root(sid), []).append(sid)
    return list(groups.values())


def _fingerprint(speakers: dict[str, Speaker], comp: list[str]) -> Hashable | None:
    """Everything propagation reads of a component (None: it holds an uncacheable policy)."""
    out: list[Hashable] = []
    for sid in sorted(comp):
        sp = speakers[sid]
        sessions = []
        for peer, x in sorted(sp.sessions.items()):
            if (x.export is not None or x.import_ is not None) and x.key is None:
                return None
            sessions.append(
                (peer, x.local_addr, x.peer_addr, x.ebgp, x.peer_is_client, x.allowas, x.key)
            )
        out.append(
            (
                sid,
                sp.asn,
                sp.router_id,
                sp.cluster_id,
                tuple(sp.origin),
                sp.observed,
                tuple(sp.connected) if sp.connected is not None else None,
                tuple(sessions),
            )
        )
    return tuple(out)


def propagate(speakers: dict[str, Speaker]) -> Outcome:
    """Run propagation to a fixed point (see the module docstring).

    Each connected component (a rack with its nodes) is computed on its own, and reused while
    its inputs stay the same. Only observed speakers (the switches) appear in the outcome.
    """
    merged = Outcome({}, {}, {})
    for comp in _components(speakers):
        key = _fingerprint(speakers, comp)
        out = _CACHE.get(key) if key is not None else None
        if out is None:
            engine = _Engine({sid: speakers[sid] for sid in comp})
            engine.run()
            out = engine.outcome()
            if key is not None:
                _CACHE[key] = out
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        else:
            _CACHE.move_to_end(key)
        merged.rib_in.update(out.rib_in)
        merged.best.update(out.best)
        merged.loop_drops.update(out.loop_drops)
    return merged
