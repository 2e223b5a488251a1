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
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

Net = ipaddress.IPv4Network
#: Import or export policy of one session: True keeps the route.
Policy = Callable[[Net], bool]
#: Safety bound on work per (speaker, prefix) (convergence is guaranteed by the rules above;
#: the bound only protects the lab from a bug).
_MAX_ROUNDS = 64


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
    #: Whether a path is valid here (switches: next hop on a connected subnet).
    valid: Callable[[Path], bool] | None = None
    #: Only what it can observe (switches) or pass on matters.
    observed: bool = False


@dataclass
class Outcome:
    """What propagation leaves on each speaker."""

    #: speaker -> prefix -> sender -> path (after import policy).
    rib_in: dict[str, dict[Net, dict[str, Path]]]
    #: speaker -> prefix -> its best path (what it advertises).
    best: dict[str, dict[Net, Path]]
    #: (speaker, sender) -> routes dropped by AS-path loop prevention.
    loop_drops: dict[tuple[str, str], int]


def _key(p: Path) -> tuple[int, int, int, int, str]:
    addr = int(ipaddress.IPv4Address(p.sender_addr)) if p.sender_addr else 0
    return (0 if p.local else 1, len(p.as_path), 0 if p.ebgp else 1, addr, p.sender)


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


class _Engine:
    def __init__(self, speakers: dict[str, Speaker]) -> None:
        self.sp = speakers
        self.rib_in: dict[str, dict[Net, dict[str, Path]]] = {s: {} for s in speakers}
        self.best: dict[str, dict[Net, Path]] = {s: {} for s in speakers}
        self.loop_drops: dict[tuple[str, str], int] = {}
        self.relays = {s.id: self._relays(s) for s in speakers.values()}

    @staticmethod
    def _relays(s: Speaker) -> bool:
        """Whether routes s learns can leave it (else only an observed speaker needs them)."""
        if s.observed or s.cluster_id is not None:
            return True
        return any(x.ebgp or x.peer_is_client for x in s.sessions.values())

    def run(self) -> Outcome:
        work: list[tuple[str, Net]] = []
        for s in self.sp.values():
            for net in s.origin:
                self.best[s.id][net] = Path((), "", "", "", False)
                work.append((s.id, net))
        budget = _MAX_ROUNDS * max(1, len(work)) * max(1, len(self.sp))
        while work and budget > 0:
            budget -= 1
            sid, net = work.pop()
            speaker = self.sp[sid]
            best = self.best[sid].get(net)
            for sess in speaker.sessions.values():
                if not self.relays[sess.peer] and best is not None and not best.local:
                    continue
                sent = self.export(speaker, sess, net, best)
                if self._deliver(sess.peer, sid, net, sent):
                    work.append((sess.peer, net))
        return Outcome(self.rib_in, self.best, self.loop_drops)

    def export(self, s: Speaker, sess: Session, net: Net, best: Path | None) -> Path | None:
        """What ``s`` sends to ``sess.peer`` for ``net`` (None: nothing, or a withdrawal)."""
        if best is None or best.sender == sess.peer:
            return None
        if sess.export is not None and not sess.export(net):
            return None
        if sess.ebgp:
            return Path((s.asn, *best.as_path), sess.local_addr, s.id, sess.local_addr, True)
        if best.local:
            return Path(best.as_path, sess.local_addr, s.id, sess.local_addr, False, s.router_id)
        if best.ebgp:  # eBGP-learned: to iBGP peers, next hop unchanged
            return Path(best.as_path, best.next_hop, s.id, sess.local_addr, False, s.router_id)
        came = s.sessions.get(best.sender)
        if s.cluster_id is None or not (sess.peer_is_client or (came and came.peer_is_client)):
            return None  # iBGP split horizon
        return Path(
            best.as_path,
            best.next_hop,
            s.id,
            sess.local_addr,
            False,
            best.originator or best.sender,
            (s.cluster_id, *best.cluster_list),
        )

    def _deliver(self, rid: str, sid: str, net: Net, path: Path | None) -> bool:
        """Store what ``sid`` sent ``rid``; True when ``rid``'s best path changed."""
        r = self.sp[rid]
        table = self.rib_in[rid].setdefault(net, {})
        if path is not None:
            path = self._import(r, sid, net, path)
        if path is None:
            if table.pop(sid, None) is None:
                return False
        elif table.get(sid) == path:
            return False
        else:
            table[sid] = path
        return self._reselect(r, net)

    def _import(self, r: Speaker, sid: str, net: Net, path: Path) -> Path | None:
        sess = r.sessions[sid]
        if path.ebgp and path.as_path.count(r.asn) > sess.allowas:
            self.loop_drops[(r.id, sid)] = self.loop_drops.get((r.id, sid), 0) + 1
            return None
        if path.originator == r.router_id or (r.cluster_id and r.cluster_id in path.cluster_list):
            return None
        if sess.import_ is not None and not sess.import_(net):
            return None
        return path

    def _reselect(self, r: Speaker, net: Net) -> bool:
        cands = list(self.rib_in[r.id].get(net, {}).values())
        old = self.best[r.id].get(net)
        if old is not None and old.local:
            return False  # a local route always wins
        if r.valid is not None:
            cands = [p for p in cands if r.valid(p)]
        new = ranked(cands)[0] if cands else None
        if new == old:
            return False
        if new is None:
            self.best[r.id].pop(net, None)
        else:
            self.best[r.id][net] = new
        return True


def propagate(speakers: dict[str, Speaker]) -> Outcome:
    """Run propagation to a fixed point (see the module docstring)."""
    return _Engine(speakers).run()
