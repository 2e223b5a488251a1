"""Assemblers for Arista EOS: rows of the line engine -> validated state models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fabric.errors import ParseError
from fabric.models.parsed import BgpSummary, RouteTable, RunningConfigBgp
from fabric.parsing.common import Prompt, asn, fail, is_ip, squeeze
from fabric.parsing.engine import Row

#: Width EOS gives the Description column; a longer description is cut and runs into Neighbor.
DESCRIPTION_WIDTH = 24
#: Longest neighbor address text looked for at the end of that column (IPv6 with a scope).
MAX_ADDRESS = 80

# ------------------------------------------------------------------------ show ip bgp summary

#: Prefix columns each table layout has after State (``adv``: newer EOS adds PfxAdv, which
#: is checked but not reported: the contract has no key for it).
_PREFIX_COLUMNS = {"adv": 3, "full": 2, "pfxrcd": 1, "combined": 0}


def _split_description(who: str) -> tuple[str | None, str]:
    """Split ``Description  Neighbor`` into the two (the description may run into the address).

    >>> _split_description("RTR 6 to 5               192.0.2.6")
    ('RTR 6 to 5', '192.0.2.6')
    >>> _split_description("ABCDEFGHIJKLMNOPQRSTUVWX10.0.0.1")
    ('ABCDEFGHIJKLMNOPQRSTUVWX', '10.0.0.1')
    >>> _split_description("10.0.0.1")
    (None, '10.0.0.1')
    """
    head, _, last = who.rpartition(" ")
    if is_ip(last):
        return (head.strip() or None), last
    start = len(who) - len(last)
    # an address (a scoped IPv6 one included) is short: only the word's tail is tried, which
    # keeps a hostile 64 KB word linear instead of quadratic
    cuts = [i for i in range(max(1, len(last) - MAX_ADDRESS), len(last)) if is_ip(last[i:])]
    if not cuts:
        raise ValueError(f"no neighbor address in {who!r}")
    exact = [i for i in cuts if start + i == DESCRIPTION_WIDTH]
    cut = exact[0] if exact else cuts[0]
    return who[: start + cut].strip(), last[cut:]


def assemble_bgp_summary(command: str, rows: Iterable[Row]) -> BgpSummary:
    """Build :class:`BgpSummary` from the rows of ``show ip bgp summary`` (or ``ipv6``)."""
    vrfs: dict[str, dict[str, Any]] = {}
    layouts: dict[str, str] = {}
    last_row: dict[str, Row] = {}
    current: str | None = None

    def open_vrf(name: str, row: Row) -> str:
        if name in vrfs:
            raise fail(command, row, f"VRF {name!r} appears twice")
        vrfs[name] = {"router_id": None, "local_as": None, "bgp_disabled": False, "peers": []}
        return name

    prompt = Prompt(command)
    first = True
    for row in rows:
        kind, v = row.kind, row.values
        if kind == "prompt":
            prompt.leading(row, first)
            first = False
            continue
        first = False
        prompt.after(row)
        if kind == "prompt_end":
            prompt.trailing(row)
            continue
        if kind == "vrf":
            current = open_vrf(v["vrf"], row)
        elif kind == "disabled":
            name = v["vrf"]
            fresh = current == name and name not in layouts and not vrfs[name]["router_id"]
            if not fresh:
                current = open_vrf(name, row)
            vrfs[name]["bgp_disabled"] = True
            vrfs[name]["disabled_reason"] = squeeze(v.get("reason") or "").strip(" :()") or None
            layouts.pop(name, None)
        else:
            if current is None:
                current = open_vrf("default", row)
            vrf = vrfs[current]
            if vrf["bgp_disabled"]:
                raise fail(command, row, f"VRF {current!r} has BGP disabled")
            if kind == "router_id":
                if vrf["router_id"] is not None or current in layouts:
                    raise fail(command, row, "a second router identifier in one VRF")
                vrf["router_id"] = v["router_id"]
                vrf["local_as"] = asn(v["local_as"])
            elif kind == "status_codes":
                pass
            elif kind.startswith("header_"):
                if current in layouts:
                    raise fail(command, row, "a second table header in one VRF")
                layouts[current] = kind.removeprefix("header_")
            elif kind == "peer":
                layout = layouts.get(current)
                if layout is None:
                    raise fail(command, row, "a neighbor row before the table header")
                vrf["peers"].append(_bgp_peer(command, row, layout))
            else:  # pragma: no cover - the template and this function change together
                raise fail(command, row, f"unknown line kind {kind!r}")
        if current is not None:
            last_row[current] = row
    if not vrfs:
        raise ParseError(command, None, "no BGP summary in the output")
    for name, vrf in vrfs.items():
        if not vrf["bgp_disabled"] and name not in layouts:
            raise ParseError(
                command,
                last_row[name].line.text,
                f"VRF {name!r} has no neighbor table header (truncated output?)",
            )
    return BgpSummary.model_validate({"vrfs": vrfs})


def _bgp_peer(command: str, row: Row, layout: str) -> dict[str, Any]:
    v = row.values
    described = layout.startswith("desc_")
    layout = layout.removeprefix("desc_")
    who = v["who"]
    description: str | None = None
    if described:
        try:
            description, neighbor = _split_description(who)
        except ValueError as exc:
            raise fail(command, row, str(exc)) from None
    else:
        flag, _, neighbor = who.rpartition(" ")
        if flag.strip() not in ("", "m") or not is_ip(neighbor):
            raise fail(command, row, f"not a neighbor address: {who!r}")
    state = v["state"]
    prefixes = [int(v[k]) if k in v else None for k in ("pfx_rcd", "pfx_acc", "pfx_adv")]
    given = sum(p is not None for p in prefixes)
    if given > _PREFIX_COLUMNS[layout]:
        raise fail(command, row, f"more columns than the {layout!r} table header has")
    if state.isdigit():
        if layout != "combined":
            raise fail(command, row, f"a number in the State column: {state!r}")
        prefixes[0] = int(state)
        state = "Estab"
    return {
        "neighbor": neighbor,
        "description": description,
        "version": int(v["version"]),
        "remote_as": asn(v["asn"]),
        "msg_rcvd": int(v["msg_rcvd"]),
        "msg_sent": int(v["msg_sent"]),
        "in_q": int(v["in_q"]),
        "out_q": int(v["out_q"]),
        "up_down": v["up_down"],
        "state": state,
        "established": state == "Estab",
        "pfx_rcd": prefixes[0],
        "pfx_acc": prefixes[1],
    }


# ------------------------------------------------------------- show ip route / show ipv6 route


_VIA_RE = re.compile(r"via ([0-9A-Fa-f.:]+), ([A-Za-z][\w./:-]*)\Z")

#: One next hop as the assembler keeps it: the contract's keys (``resolved_via`` only once
#: something resolves it).
Hop = dict[str, Any]


def next_hop(raw: str) -> Hop:
    """A next hop from its printed text (address and interface only when they are plain).

    >>> next_hop("via 172.21.1.8,   Vlan3002")
    {'address': '172.21.1.8', 'interface': 'Vlan3002', 'raw': 'via 172.21.1.8, Vlan3002'}
    >>> next_hop("is directly connected, Null0")
    {'address': None, 'interface': 'Null0', 'raw': 'directly connected, Null0'}
    >>> next_hop("via fe80::464c:a8ff:fe73:5c75, Ethernet1")["address"]
    'fe80::464c:a8ff:fe73:5c75'
    >>> next_hop("via Loopback0, directly connected")["interface"]
    'Loopback0'
    >>> next_hop("via VTEP 10.0.0.2 VNI 10010 router-mac 00:1c:73:00:00:01")["address"] is None
    True
    """
    text = squeeze(raw).removeprefix("is ")
    fast = _VIA_RE.match(text)
    if fast is not None and is_ip(fast.group(1)):
        return {"address": fast.group(1), "interface": fast.group(2), "raw": text}
    address: str | None = None
    interface: str | None = None
    if text.startswith("directly connected"):
        parts = text.split(", ")
        if len(parts) > 1 and " " not in parts[1]:
            interface = parts[1]
    elif text.startswith("via "):
        parts = text[4:].split(", ")
        if is_ip(parts[0]):
            address = parts[0]
            if len(parts) > 1 and " " not in parts[1]:
                interface = parts[1]
        elif len(parts) == 2 and parts[1] == "directly connected" and " " not in parts[0]:
            interface = parts[0]  # IPv6 connected route: "via Ethernet1, directly connected"
    return {"address": address, "interface": interface, "raw": text}


def _connected(raw: str) -> bool:
    """Whether a next hop's text says its route is directly connected (both layouts)."""
    return raw.startswith(("directly connected", "is directly")) or raw.endswith(
        "directly connected"
    )


def _shape(raw: str) -> str:
    """How a next hop reads without indentation.

    ``endpoint``: a tunnel to ``PREFIX/LEN``; ``tunnel``: an endpoint-less one
    (``via TI-LFA tunnel index 3, ...``); ``plain``: anything else.

    >>> [_shape(t) for t in ("via 10.0.0.5/32, IS-IS SR tunnel index 7, label 3",
    ...  "via TI-LFA tunnel index 3, label 20", "via 10.0.0.1, Ethernet1/1",
    ...  "via Ethernet1/1, directly connected", "via fcbb:0:20::/48, SRv6 Transport tunnel")]
    ['endpoint', 'tunnel', 'plain', 'plain', 'endpoint']
    """
    if not raw.startswith("via "):
        return "plain"
    first = raw[4:].split(",", 1)[0]
    prefix, slash, length = first.partition("/")
    if slash and length.isdigit() and is_ip(prefix):
        return "endpoint"
    if " tunnel index " in f"{first} ":
        return "tunnel"
    return "plain"


#: A place in a route's next-hop tree: [the list holding the hop, its index, its indentation,
#: whether a plain next hop already resolves it (collapsed reading)].
_Place = list[Any]


def _resolve(parent: _Place, hop: Hop, indent: int) -> _Place:
    """Add ``hop`` to what the next hop at ``parent`` resolves through; its place."""
    holder, index = parent[0], parent[1]
    up = holder[index]
    if "resolved_via" not in up:  # a shared (cached) dict: this route's copy gets the list
        up = holder[index] = {**up, "resolved_via": []}
    children: list[Hop] = up["resolved_via"]
    children.append(hop)
    return [children, len(children) - 1, indent, False]


def _nest(
    chain: list[_Place] | None, last: list[Hop], top: int, indent: int, hop: Hop
) -> list[_Place]:
    """Place ``hop``, indented deeper than the route's paths, under the next hop above it.

    That is the nearest one indented less; returns the chain of open places, innermost last.
    """
    if chain is None:
        chain = [[last, len(last) - 1, top, False]]
    while len(chain) > 1 and chain[-1][2] >= indent:
        chain.pop()
    chain.append(_resolve(chain[-1], hop, indent))
    return chain


def _nest_collapsed(
    chain: list[_Place] | None, hops: list[Hop], last: list[Hop], hop: Hop, shapes: dict[str, str]
) -> tuple[list[_Place] | None, list[Hop]]:
    """Place ``hop`` of a route printed without indentation, from what the lines say.

    A next hop to a tunnel endpoint (``via PREFIX/LEN, ...``) is a path of the route and the
    plain next hops after it resolve it; an endpoint-less tunnel (``via TI-LFA tunnel index
    N``) resolves the innermost open tunnel that no plain next hop resolves yet. A plain next
    hop with no tunnel open is a path (ECMP). Returns the chain and the list of the last path.
    """

    def shape(raw: str) -> str:
        found = shapes.get(raw)
        if found is None:
            found = shapes[raw] = _shape(raw)
        return found

    kind = shape(hop["raw"])
    if chain is None and last and shape(last[-1]["raw"]) != "plain":
        chain = [[last, len(last) - 1, 0, False]]
    if kind == "endpoint" or chain is None:
        hops.append(hop)
        return None, hops
    if kind == "tunnel":
        while len(chain) > 1 and chain[-1][3]:
            chain.pop()
        chain.append(_resolve(chain[-1], hop, 0))
    else:
        _resolve(chain[-1], hop, 0)
        chain[-1][3] = True
    return chain, last


_ROUTE_KINDS = frozenset(("route", "route_hop", "route_connected", "route_bare"))


class _Tables:
    """The VRF tables being built, and what the lines other than routes and next hops set."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.vrfs: dict[str, dict[str, Any]] = {}
        self.current: str | None = None
        self.prompt = Prompt(command)

    def routes(self, row: Row) -> list[dict[str, Any]]:
        """The route list of the current VRF (``default`` when no VRF line came first)."""
        if self.current is None:
            self.open("default", row)
        assert self.current is not None
        routes: list[dict[str, Any]] = self.vrfs[self.current]["routes"]
        return routes

    def open(self, name: str, row: Row) -> None:
        if name in self.vrfs:
            raise fail(self.command, row, f"VRF {name!r} appears twice")
        self.vrfs[name] = {"gateway_of_last_resort_set": False, "routes": []}
        self.current = name

    def other(self, row: Row, previous: str) -> None:
        """A line that is neither a route nor a next hop (``previous``: the kind before it)."""
        kind, command = row.kind, self.command
        if kind == "vrf":
            self.open(row.values["vrf"], row)
        elif kind in ("warning", "notice"):
            pass
        elif kind == "warning_more":
            if previous not in ("warning", "warning_more"):
                raise fail(command, row, "not a line of this output")
        elif kind == "legend":
            if previous not in ("codes", "legend"):
                raise fail(command, row, "a legend line outside the Codes block")
        elif kind == "prompt":
            self.prompt.leading(row, previous == "")
        elif kind == "prompt_end":
            self.prompt.trailing(row)
        elif kind in ("codes", "displaying"):
            self.routes(row)  # opens VRF default when the table has no VRF line
        elif kind in ("gateway_set", "gateway_unset"):
            self.routes(row)
            assert self.current is not None
            self.vrfs[self.current]["gateway_of_last_resort_set"] = kind == "gateway_set"
        else:  # pragma: no cover - the template and this module change together
            raise fail(command, row, f"unknown line kind {kind!r}")


def _backup(
    route: dict[str, Any],
    hop: Hop,
    indent: int,
    top: int,
    last: list[Hop],
    chain: list[_Place] | None,
) -> tuple[list[Hop], list[_Place] | None]:
    """Add a ``backup via`` next hop to ``route``; the new (last, chain) of the route.

    A backup at the paths' indentation backs up the route itself (what is indented under it
    resolves it); indented deeper (TI-LFA), it sits beside the primary it protects, so the
    lines after it at that depth are placed as before.
    """
    backups: list[Hop] = route.setdefault("backup_next_hops", [])
    backups.append(hop)
    if 0 < indent <= top:
        return backups, None
    if indent:
        if chain is None:
            chain = [[last, len(last) - 1, top, False]]
        while len(chain) > 1 and chain[-1][2] >= indent:
            chain.pop()
        chain.append([backups, len(backups) - 1, indent, False])
    return last, chain


class _RouteReader:
    """The routes being read: the open route, its paths, where the next next-hop line goes.

    Built for tables of 100,000 routes and more: next hops and codes repeat across routes
    (a few gateways, a few codes), so each distinct text is read once per call and its
    dict shared by the routes that print it (validation makes one ``NextHop`` per route
    all the same; a next hop that something resolves gets its own copy).
    """

    def __init__(self, command: str) -> None:
        self.command = command
        self.tables = _Tables(command)
        self.table: list[dict[str, Any]] | None = None  # the current VRF's routes (None: look up)
        self.hops: list[Hop] | None = None  # paths of the open route (None: no route open)
        self.route: dict[str, Any] = {}
        self.route_row: Row | None = None
        self.top = 0  # indentation of the open route's paths
        self.last: list[Hop] = []  # the list holding the last path (next hops or backups)
        self.chain: list[_Place] | None = None  # open places under the last path, innermost last
        self.pending: dict[str, Any] | None = None  # a route whose first next hop says connected
        self.seen_hops: dict[str, Hop] = {}
        self.seen_codes: dict[str, str] = {}
        self.shapes: dict[str, str] = {}

    def hop_of(self, raw: str) -> Hop:
        """The (shared) next hop dict of the text ``raw``."""
        hop = self.seen_hops.get(raw)
        if hop is None:
            hop = self.seen_hops[raw] = next_hop(raw)
        return hop

    def next_hop_line(self, row: Row) -> None:
        """A ``via ...`` line (``hop``) or a ``backup via ...`` line under the open route."""
        kind, v, line = row
        hops = self.hops
        if not hops:  # a route line sets it; only next-hop lines keep it
            self.tables.prompt.after(row)
            if hops is None:
                raise fail(self.command, row, "a next hop without a route")
            if kind == "backup":
                raise fail(self.command, row, "a backup next hop before the route's next hop")
        raw = v["hop"]
        hop = self.hop_of(raw)
        indent = line[2]
        top = self.top
        if kind == "backup":
            self.last, self.chain = _backup(self.route, hop, indent, top, self.last, self.chain)
        elif not hops:  # the first next hop line: it sets the paths' indentation
            if self.pending is not None:
                self.pending["directly_connected"] = _connected(raw)
                self.pending = None
            hops.append(hop)
            self.top, self.last, self.chain = indent, hops, None
        elif 0 < indent <= top:  # another path (ECMP)
            hops.append(hop)
            self.last, self.chain = hops, None
        elif indent:  # indented deeper: how the path above resolves
            self.chain = _nest(self.chain, self.last, top, indent, hop)
        else:  # no indentation: read the nesting from the text
            self.chain, self.last = _nest_collapsed(self.chain, hops, self.last, hop, self.shapes)

    def close_route(self) -> None:
        """End the open route (a line other than a next hop came): it must have a path."""
        if self.hops is not None and not self.hops:
            assert self.route_row is not None
            raise fail(
                self.command, self.route_row, "a route without a next hop (truncated output?)"
            )
        self.hops = None

    def route_line(self, row: Row) -> None:
        """A route line: opens a route, with its first next hop when the line carries it."""
        kind, v, line = row
        code = self.seen_codes.get(v["code"])
        if code is None:
            code = self.seen_codes[v["code"]] = squeeze(v["code"])
        hops: list[Hop] = []
        self.hops = hops
        route = self.route = {
            "prefix": v["prefix"],
            "code": code,
            "distance": int(v["distance"]) if "distance" in v else None,
            "metric": int(v["metric"]) if "metric" in v else None,
            "directly_connected": kind == "route_connected",
            "next_hops": hops,
        }
        if "hop" in v:  # on the route line: its column is the paths' indentation
            raw = v["hop"]
            hops.append(self.hop_of(raw))
            self.top, self.last, self.chain = line[2] + len(line[1]) - len(raw), hops, None
            self.pending = None
        else:
            # connected when its next hop says so ("via Ethernet1, directly connected"):
            # printed without [distance/metric] (newer EOS, IPv4) or with distance 0
            # (IPv6: [0/0]); a static route to Null0 ([1/0]) is not
            self.pending = route if kind == "route_bare" or route["distance"] == 0 else None
        if self.table is None:
            self.table = self.tables.routes(row)
        self.table.append(route)
        self.route_row = row

    def result(self) -> RouteTable:
        """The validated table, once every row is read."""
        self.close_route()
        if not self.tables.vrfs:
            raise ParseError(self.command, None, "no routing table in the output")
        return RouteTable.model_validate({"vrfs": self.tables.vrfs})


def assemble_route_table(command: str, rows: Iterable[Row]) -> RouteTable:
    """Build :class:`RouteTable` from the rows of ``show ip route`` or ``show ipv6 route``.

    Hop lines, the most frequent, are tested first, and a top-level one costs one comparison
    of indentation (:class:`_RouteReader` keeps the shared next hops and codes).
    """
    reader = _RouteReader(command)
    tables = reader.tables
    next_hop_line, route_line = reader.next_hop_line, reader.route_line
    previous = ""
    for row in rows:
        kind = row[0]
        if kind == "hop" or kind == "backup":
            next_hop_line(row)
        else:
            tables.prompt.after(row)
            reader.close_route()
            if kind in _ROUTE_KINDS:
                route_line(row)
            else:
                tables.other(row, previous)
                reader.table = None  # a VRF line changes it
        previous = kind
    return reader.result()


# ------------------------------------------------------------- show running-config (router bgp)

#: First words of statements that may appear inside ``router bgp`` (read without indentation).
BGP_WORDS = frozenset(
    [
        "neighbor",
        "no",
        "router-id",
        "maximum-paths",
        "bgp",
        "address-family",
        "vrf",
        "rd",
        "route-target",
        "redistribute",
        "network",
        "timers",
        "distance",
        "graceful-restart",
        "graceful-restart-helper",
        "aggregate-address",
        "exit",
        "update",
        "ucmp",
        "default-metric",
        "shutdown",
        "default",
        "next-hop",
        "route",
        "additional-paths",
        "evpn",
        "segment-routing",
        "monitoring",
        "peer-filter",
        "ip",
        "ipv6",
        "local-as",
    ]
)


class _Instance:
    """The BGP settings being collected for the default instance or one VRF."""

    def __init__(self, asn_: int) -> None:
        self.data: dict[str, Any] = {
            "asn": asn_,
            "router_id": None,
            "maximum_paths": None,
            "listen_ranges": [],
            "address_families": {},
        }
        self.neighbors: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}

    def neighbor(self, address: str) -> dict[str, Any]:
        return self.neighbors.setdefault(
            address,
            {
                "address": address,
                "remote_as": None,
                "peer_group": None,
                "description": None,
                "update_source": None,
                "shutdown": False,
                "password_set": False,
            },
        )

    def group(self, name: str) -> dict[str, Any]:
        return self.groups.setdefault(name, {"name": name, "remote_as": None})

    def dump(self) -> dict[str, Any]:
        return {
            **self.data,
            "neighbors": list(self.neighbors.values()),
            "peer_groups": list(self.groups.values()),
        }


def _check_config_start(command: str, rows: list[Row], *, section_only: bool) -> None:
    """Refuse text that is not a running-config (or, ``section_only``, its BGP section)."""
    if section_only and rows[0].kind != "router_bgp":
        raise fail(command, rows[0], "the section does not start with 'router bgp'")
    if not section_only and not any(r.kind in ("comment", "router_bgp") for r in rows):
        # EOS separates every block of a running-config with "!": text without one is not it
        raise fail(command, rows[0], "not a running-config (no '!' separator, no router bgp)")


class _BgpConfigReader:
    """Where a running-config line falls (outside ``router bgp``, a VRF, an address family).

    ``indented``: the text keeps its indentation (blocks end where it does); without it, a
    line ends the block when its first word is not a BGP statement.
    """

    def __init__(self, command: str, *, indented: bool) -> None:
        self.command = command
        self.indented = indented
        self.glob: _Instance | None = None
        self.vrfs: dict[str, _Instance] = {}
        self.inst: _Instance | None = None  # current instance inside router bgp, None outside
        self.af: dict[str, Any] | None = None
        self.ctx: list[tuple[str, int]] = []  # open sub-blocks: ("vrf"|"af", indent)
        self.bgp_indent = 0
        self.banner = False

    def leave_blocks(self, row: Row) -> None:
        """Close the blocks (router bgp, vrf, address family) that ``row`` is outside of."""
        kind, indent = row.kind, row.line.indent
        if self.indented:
            if indent <= self.bgp_indent:
                self.inst = None
                return
            while self.ctx and indent <= self.ctx[-1][1]:
                if self.ctx.pop()[0] == "vrf":
                    assert self.glob is not None
                    self.inst = self.glob
                self.af = None
            return
        word = row.line.text.split(" ", 1)[0]
        if kind in ("vrf_instance", "router_bgp") or (
            kind in ("other", "text") and word not in BGP_WORDS
        ):
            self.inst = None

    def outside(self, row: Row) -> None:
        """A line outside ``router bgp``: a new block, a banner, or nothing of ours."""
        kind = row.kind
        if kind == "router_bgp":
            if self.glob is not None:
                raise fail(self.command, row, "a second router bgp block")
            self.glob = self.inst = _Instance(asn(row.values["asn"]))
            self.bgp_indent, self.af, self.ctx = row.line.indent, None, []
        elif kind == "text" and row.line.indent == 0:
            raise fail(self.command, row, "not a configuration line")
        elif kind == "other" and row.line.text.startswith("banner "):
            self.banner = True

    def block(self, row: Row, inst: _Instance, glob: _Instance) -> None:
        """A line opening or closing a ``vrf`` or ``address-family`` block."""
        kind, v, indent = row.kind, row.values, row.line.indent
        if kind == "vrf":
            if inst is not glob and not self.indented:
                inst = glob
            if inst is not glob:
                raise fail(self.command, row, "a vrf block inside a vrf block")
            if v["vrf"] in self.vrfs:
                raise fail(self.command, row, f"VRF {v['vrf']!r} appears twice")
            self.inst = self.vrfs[v["vrf"]] = _Instance(glob.data["asn"])
            self.af = None
            self.ctx = [("vrf", indent)]
        elif kind == "af":
            afi = squeeze(v["afi"])
            self.af = inst.data["address_families"].setdefault(afi, {"activate": []})
            if not self.indented:
                self.ctx = [c for c in self.ctx if c[0] != "af"]
            self.ctx.append(("af", indent))
        elif self.ctx:  # exit
            if self.ctx.pop()[0] == "vrf":
                self.inst = glob
            self.af = None

    def statement(self, row: Row) -> None:
        """A line inside ``router bgp`` (the default instance, a VRF or an address family)."""
        inst, glob = self.inst, self.glob
        assert inst is not None and glob is not None
        kind, v = row.kind, row.values
        if kind in ("vrf", "af", "exit"):
            self.block(row, inst, glob)
        elif kind == "router_id":
            inst.data["router_id"] = v["router_id"]
        elif kind == "maximum_paths":
            inst.data["maximum_paths"] = int(v["paths"])
        elif kind == "listen_range":
            inst.group(v["group"])
            inst.data["listen_ranges"].append(
                {
                    "prefix": v["prefix"],
                    "peer_group": v["group"],
                    "remote_as": asn(v["asn"]) if "asn" in v else None,
                }
            )
        elif kind == "nb_activate":
            if self.af is not None and v["peer"] not in self.af["activate"]:
                self.af["activate"].append(v["peer"])
        elif kind.startswith("nb_"):
            _neighbor_statement(self.command, row, inst)
        elif kind == "text":
            raise fail(self.command, row, "not a BGP configuration statement")
        # comment, other, no_activate: nothing to record

    def result(self) -> RunningConfigBgp:
        """The validated BGP configuration, once every row is read."""
        if self.glob is None:
            return RunningConfigBgp(router_bgp=None)
        data = self.glob.dump()
        data["vrfs"] = {name: vrf.dump() for name, vrf in self.vrfs.items()}
        return RunningConfigBgp.model_validate({"router_bgp": data})


def assemble_running_config_bgp(
    command: str, rows: Iterable[Row], *, section_only: bool
) -> RunningConfigBgp:
    """Build :class:`RunningConfigBgp` from the rows of a running-config (or its BGP section)."""
    rows = list(rows)
    if not rows:
        if section_only:
            return RunningConfigBgp(router_bgp=None)
        raise ParseError(command, None, "empty output")
    _check_config_start(command, rows, section_only=section_only)
    reader = _BgpConfigReader(command, indented=any(r.line.indent > 0 for r in rows))
    for row in rows:
        if reader.banner:
            reader.banner = row.line.text != "EOF"
            continue
        if reader.inst is not None:
            reader.leave_blocks(row)
        if reader.inst is None:
            reader.outside(row)
        else:
            reader.statement(row)
    return reader.result()


def _neighbor_statement(command: str, row: Row, inst: _Instance) -> None:
    kind, v = row.kind, row.values
    peer = v["peer"]
    if not is_ip(peer):
        group = inst.group(peer)
        if kind == "nb_remote_as":
            group["remote_as"] = asn(v["asn"])
        elif kind == "nb_group":
            raise fail(command, row, "a peer group cannot join a peer group")
        return
    nb = inst.neighbor(peer)
    if kind == "nb_remote_as":
        nb["remote_as"] = asn(v["asn"])
    elif kind == "nb_group":
        nb["peer_group"] = v["group"]
        inst.group(v["group"])
    elif kind == "nb_group_def":
        raise fail(command, row, "an address cannot be a peer group name")
    elif kind == "nb_description":
        nb["description"] = v["description"]
    elif kind == "nb_update_source":
        nb["update_source"] = v["source"]
    elif kind == "nb_shutdown":
        nb["shutdown"] = True
    elif kind == "nb_password":
        nb["password_set"] = True
