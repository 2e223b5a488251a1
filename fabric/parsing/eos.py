"""Assemblers for Arista EOS: rows of the line engine -> validated state models."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fabric.errors import ParseError
from fabric.models.parsed import BgpSummary, RouteTable, RunningConfigBgp
from fabric.parsing.common import IPV4, asn, fail, is_ip, squeeze
from fabric.parsing.engine import Row

#: Width EOS gives the Description column; a longer description is cut and runs into Neighbor.
DESCRIPTION_WIDTH = 24

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
    cuts = [i for i in range(1, len(last)) if is_ip(last[i:])]
    if not cuts:
        raise ValueError(f"no neighbor address in {who!r}")
    exact = [i for i in cuts if start + i == DESCRIPTION_WIDTH]
    cut = exact[0] if exact else cuts[0]
    return who[: start + cut].strip(), last[cut:]


def assemble_bgp_summary(command: str, rows: Iterable[Row]) -> BgpSummary:
    """Build :class:`BgpSummary` from the rows of ``show ip bgp summary``."""
    vrfs: dict[str, dict[str, Any]] = {}
    layouts: dict[str, str] = {}
    last_row: dict[str, Row] = {}
    current: str | None = None

    def open_vrf(name: str, row: Row) -> str:
        if name in vrfs:
            raise fail(command, row, f"VRF {name!r} appears twice")
        vrfs[name] = {"router_id": None, "local_as": None, "bgp_disabled": False, "peers": []}
        return name

    for row in rows:
        kind, v = row.kind, row.values
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


# ---------------------------------------------------------------------------- show ip route


_VIA_RE = re.compile(rf"via ({IPV4}), ([A-Za-z][\w./:-]*)\Z")


def next_hop(raw: str) -> dict[str, str | None]:
    """A next hop from its printed text (address and interface only when they are plain).

    >>> next_hop("via 172.21.1.8,   Vlan3002")
    {'address': '172.21.1.8', 'interface': 'Vlan3002', 'raw': 'via 172.21.1.8, Vlan3002'}
    >>> next_hop("is directly connected, Null0")
    {'address': None, 'interface': 'Null0', 'raw': 'directly connected, Null0'}
    >>> next_hop("via VTEP 10.0.0.2 VNI 10010 router-mac 00:1c:73:00:00:01")["address"] is None
    True
    """
    text = squeeze(raw).removeprefix("is ")
    fast = _VIA_RE.match(text)
    if fast is not None:
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
    return {"address": address, "interface": interface, "raw": text}


_ROUTE_KINDS = frozenset(("route", "route_hop", "route_connected", "route_bare"))


def assemble_route_table(command: str, rows: Iterable[Row]) -> RouteTable:
    """Build :class:`RouteTable` from the rows of ``show ip route``.

    Built for tables of 100,000 routes and more: next hops and codes repeat across routes
    (a few gateways, a few codes), so each distinct text is read once per call and its
    dict shared by the routes that print it (validation makes one ``NextHop`` per route
    all the same); hop lines, the most frequent, are tested first.
    """
    vrfs: dict[str, dict[str, Any]] = {}
    current: str | None = None
    hops: list[dict[str, str | None]] | None = None  # next hops of the open route
    route_row: Row | None = None
    bare: dict[str, Any] | None = None  # a route printed without [distance/metric], no hop yet
    previous = ""
    seen_hops: dict[str, dict[str, str | None]] = {}
    seen_codes: dict[str, str] = {}

    def open_vrf(name: str, row: Row) -> str:
        if name in vrfs:
            raise fail(command, row, f"VRF {name!r} appears twice")
        vrfs[name] = {"gateway_of_last_resort_set": False, "routes": []}
        return name

    for row in rows:
        kind, v, _ = row
        if kind == "hop":
            if hops is None:  # set only by a route line and kept only by hop lines
                raise fail(command, row, "a next hop without a route")
            raw = v["hop"]
            hop = seen_hops.get(raw)
            if hop is None:
                hop = seen_hops[raw] = next_hop(raw)
            if bare is not None:  # its first next hop says whether it is a connected route
                bare["directly_connected"] = raw.startswith(("directly connected", "is directly"))
                bare = None
            hops.append(hop)
            previous = kind
            continue
        if hops is not None and not hops:
            assert route_row is not None
            raise fail(command, route_row, "a route without a next hop (truncated output?)")
        hops = None
        if kind in _ROUTE_KINDS:
            if current is None:
                current = open_vrf("default", row)
            if "hop" in v:
                raw = v["hop"]
                hop = seen_hops.get(raw)
                if hop is None:
                    hop = seen_hops[raw] = next_hop(raw)
                hops = [hop]
            else:
                hops = []
            code = seen_codes.get(v["code"])
            if code is None:
                code = seen_codes[v["code"]] = squeeze(v["code"])
            route = {
                "prefix": v["prefix"],
                "code": code,
                "distance": int(v["distance"]) if "distance" in v else None,
                "metric": int(v["metric"]) if "metric" in v else None,
                "directly_connected": kind == "route_connected",
                "next_hops": hops,
            }
            vrfs[current]["routes"].append(route)
            if kind == "route_bare":
                bare = route
            route_row = row
        elif kind == "vrf":
            current = open_vrf(v["vrf"], row)
        elif kind in ("warning", "notice"):
            pass
        elif kind == "warning_more":
            if previous not in ("warning", "warning_more"):
                raise fail(command, row, "not a line of this output")
        elif kind == "legend":
            if previous not in ("codes", "legend"):
                raise fail(command, row, "a legend line outside the Codes block")
        else:
            if current is None:
                current = open_vrf("default", row)
            if kind == "codes":
                pass
            elif kind == "gateway_set":
                vrfs[current]["gateway_of_last_resort_set"] = True
            elif kind == "gateway_unset":
                vrfs[current]["gateway_of_last_resort_set"] = False
            else:  # pragma: no cover - the template and this function change together
                raise fail(command, row, f"unknown line kind {kind!r}")
        previous = kind
    if hops is not None and not hops:
        assert route_row is not None
        raise fail(command, route_row, "a route without a next hop (truncated output?)")
    if not vrfs:
        raise ParseError(command, None, "no routing table in the output")
    return RouteTable.model_validate({"vrfs": vrfs})


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


def assemble_running_config_bgp(
    command: str, rows: Iterable[Row], *, section_only: bool
) -> RunningConfigBgp:
    """Build :class:`RunningConfigBgp` from the rows of a running-config (or its BGP section)."""
    rows = list(rows)
    if not rows:
        if section_only:
            return RunningConfigBgp(router_bgp=None)
        raise ParseError(command, None, "empty output")
    if section_only and rows[0].kind != "router_bgp":
        raise fail(command, rows[0], "the section does not start with 'router bgp'")
    if not section_only and not any(r.kind in ("comment", "router_bgp") for r in rows):
        # EOS separates every block of a running-config with "!": text without one is not it
        raise fail(command, rows[0], "not a running-config (no '!' separator, no router bgp)")
    indented = any(r.line.indent > 0 for r in rows)
    glob: _Instance | None = None
    vrfs: dict[str, _Instance] = {}
    inst: _Instance | None = None  # current instance inside router bgp, None outside
    af: dict[str, Any] | None = None
    ctx: list[tuple[str, int]] = []  # open sub-blocks: ("vrf"|"af", indent)
    bgp_indent = 0
    banner = False

    for row in rows:
        kind, v, indent = row.kind, row.values, row.line.indent
        if banner:
            banner = row.line.text != "EOF"
            continue
        if inst is not None:
            if indented:
                if indent <= bgp_indent:
                    inst = None
                else:
                    while ctx and indent <= ctx[-1][1]:
                        if ctx.pop()[0] == "vrf":
                            assert glob is not None
                            inst = glob
                        af = None
            else:
                word = row.line.text.split(" ", 1)[0]
                if kind in ("vrf_instance", "router_bgp") or (
                    kind in ("other", "text") and word not in BGP_WORDS
                ):
                    inst = None
        if inst is None:
            if kind == "router_bgp":
                if glob is not None:
                    raise fail(command, row, "a second router bgp block")
                glob = inst = _Instance(asn(v["asn"]))
                bgp_indent, af, ctx = indent, None, []
            elif kind == "text" and indent == 0:
                raise fail(command, row, "not a configuration line")
            elif kind == "other" and row.line.text.startswith("banner "):
                banner = True
            continue
        assert glob is not None
        if kind == "vrf":
            if inst is not glob and not indented:
                inst = glob
            if inst is not glob:
                raise fail(command, row, "a vrf block inside a vrf block")
            if v["vrf"] in vrfs:
                raise fail(command, row, f"VRF {v['vrf']!r} appears twice")
            inst = vrfs[v["vrf"]] = _Instance(glob.data["asn"])
            af = None
            ctx = [("vrf", indent)]
        elif kind == "af":
            afi = squeeze(v["afi"])
            af = inst.data["address_families"].setdefault(afi, {"activate": []})
            if not indented:
                ctx = [c for c in ctx if c[0] != "af"]
            ctx.append(("af", indent))
        elif kind == "exit":
            if ctx:
                if ctx.pop()[0] == "vrf":
                    inst = glob
                af = None
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
            if af is not None and v["peer"] not in af["activate"]:
                af["activate"].append(v["peer"])
        elif kind.startswith("nb_"):
            _neighbor_statement(command, row, inst)
        elif kind == "text":
            raise fail(command, row, "not a BGP configuration statement")
        # comment, other, no_activate: nothing to record
    if glob is None:
        return RunningConfigBgp(router_bgp=None)
    data = glob.dump()
    data["vrfs"] = {name: vrf.dump() for name, vrf in vrfs.items()}
    return RunningConfigBgp.model_validate({"router_bgp": data})


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
