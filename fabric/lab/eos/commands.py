"""The ``show`` commands ANTA's and NAPALM's EOS clients send, bound to their renderers.

Each entry is an EOS command pattern (the configuration grammar's tokens: literals, ``<ip>``,
``<intf>``, ``<word>`` ...) and a function ``(ctx, tokens) -> Reply``. A command matching no
pattern fails as EOS fails it (1002 ``Invalid input (at token N: ...)``), never with an
invented answer. ``show ip route`` takes its arguments in any EOS order and is parsed by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from fabric.lab.eos import bgp, l2, rib, system
from fabric.lab.eos.context import ShowContext
from fabric.lab.eos.grammar import VALUE_TYPES, Rule, match_rule
from fabric.lab.eos.reply import CommandFailed, Reply
from fabric.lab.eos.show import ip_interface_brief_text, ip_interface_text, route_text

__all__ = ["SHOW_RULES", "match_show", "run_show"]

Handler = Callable[[ShowContext, list[str]], Reply]


def _vrf(t: list[str], default: str = "default") -> str:
    """The word after ``vrf`` in a token list."""
    return t[t.index("vrf") + 1] if "vrf" in t else default


def _j(fn: Callable[[ShowContext, list[str]], object]) -> Handler:
    """A JSON-only command (text not modelled)."""

    def handler(ctx: ShowContext, t: list[str]) -> Reply:
        out = fn(ctx, t)
        assert isinstance(out, dict)
        return Reply(json=out)

    return handler


def _bgp_neighbors(ctx: ShowContext, t: list[str]) -> Reply:
    i = t.index("peers" if "peers" in t else "neighbors") + 1
    peer = t[i] if i < len(t) and t[i] != "vrf" else None
    vrf = _vrf(t)
    if t[1] == "ipv6":
        return Reply(json=bgp.neighbors_json(ctx, vrf, ipv6=True), text="")
    return Reply(json=bgp.neighbors_json(ctx, vrf, peer), text=bgp.neighbors_text(ctx, vrf, peer))


def _exchanged(ctx: ShowContext, t: list[str]) -> Reply:
    i = t.index("neighbors")
    peer, kind = t[i + 1], t[i + 2]
    return Reply(json=bgp.exchanged_routes_json(ctx, peer, _vrf(t), sent=kind != "routes"))


def _bgp_table(ctx: ShowContext, t: list[str]) -> Reply:
    args = [x for x in t[3:] if x not in ("longer-prefixes",)]
    if "vrf" in args:
        args = args[: args.index("vrf")]
    prefix = args[0] if args else None
    return Reply(json=bgp.bgp_table_json(ctx, _vrf(t), prefix, longer="longer-prefixes" in t))


def _ip_interface(ctx: ShowContext, t: list[str]) -> Reply:
    brief = t[-1] == "brief"
    text = ip_interface_brief_text(ctx.snapshot) if brief else ip_interface_text(ctx.snapshot)
    return Reply(json=l2.ip_interface_json(ctx, brief=brief), text=text)


def _ntp_associations(ctx: ShowContext, t: list[str]) -> Reply:
    return Reply(json=system.ntp_associations_json(ctx), text=system.ntp_associations_text(ctx))


def _power(ctx: ShowContext, t: list[str]) -> Reply:
    raise system.power_error()


def _version_detail(ctx: ShowContext, t: list[str]) -> Reply:
    from fabric.lab.eos.show import version_json

    base = version_json(ctx.name, ctx.eos_version, ctx.booted, ctx.now)
    return Reply(json=system.version_detail_json(base))


_TABLE: list[tuple[str, Handler]] = [
    # BGP
    ("show bgp summary", _j(lambda c, t: bgp.summary_json(c, "default"))),
    ("show bgp summary vrf <word>", _j(lambda c, t: bgp.summary_json(c, t[4]))),
    ("show bgp neighbors <ip> routes vrf <word>", _exchanged),
    ("show bgp neighbors <ip> advertised-routes vrf <word>", _exchanged),
    ("show ip bgp neighbors <ip> routes", _exchanged),
    ("show ip bgp neighbors <ip> routes vrf <word>", _exchanged),
    ("show ip bgp neighbors <ip> advertised-routes", _exchanged),
    ("show ip bgp neighbors <ip> advertised-routes vrf <word>", _exchanged),
    ("show bgp neighbors", _bgp_neighbors),
    ("show bgp neighbors vrf <word>", _bgp_neighbors),
    ("show bgp neighbors <ip>", _bgp_neighbors),
    ("show bgp neighbors <ip> vrf <word>", _bgp_neighbors),
    ("show ip bgp neighbors", _bgp_neighbors),
    ("show ip bgp neighbors vrf <word>", _bgp_neighbors),
    ("show ip bgp neighbors <ip>", _bgp_neighbors),
    ("show ip bgp neighbors <ip> vrf <word>", _bgp_neighbors),
    ("show ipv6 bgp peers", _bgp_neighbors),
    ("show ipv6 bgp peers vrf <word>", _bgp_neighbors),
    ("show ipv6 bgp neighbors", _bgp_neighbors),
    ("show ipv6 bgp neighbors vrf <word>", _bgp_neighbors),
    ("show ip bgp", _bgp_table),
    ("show ip bgp vrf <word>", _bgp_table),
    ("show ip bgp <dest>", _bgp_table),
    ("show ip bgp <dest> vrf <word>", _bgp_table),
    ("show ip bgp <dest> longer-prefixes", _bgp_table),
    ("show ip bgp <dest> longer-prefixes vrf <word>", _bgp_table),
    ("show bgp instance", _j(lambda c, t: bgp.instance_json(c, "default"))),
    ("show bgp instance vrf <word>", _j(lambda c, t: bgp.instance_json(c, t[4]))),
    ("show bgp evpn route-type mac-ip <word> vni <int>", _j(lambda c, t: bgp.evpn_route_json(c))),
    # routing
    ("show ip", _j(lambda c, t: rib.ip_status_json(c))),
    # configuration
    ("show running-config diffs", lambda c, t: Reply(text=system.running_diffs_text(c))),
    ("show zerotouch", _j(lambda c, t: system.zerotouch_json())),
    # interfaces
    ("show interfaces", _j(lambda c, t: l2.interfaces_json(c))),
    ("show interfaces status", _j(lambda c, t: l2.interfaces_status_json(c))),
    (
        "show interfaces status errdisabled",
        _j(lambda c, t: l2.interfaces_status_json(c, errdisabled=True)),
    ),
    ("show interfaces description", _j(lambda c, t: l2.interfaces_description_json(c))),
    ("show interfaces counters rates", _j(lambda c, t: l2.counters_rates_json(c))),
    ("show interfaces counters errors", _j(lambda c, t: l2.counters_errors_json(c))),
    ("show interfaces counters discards", _j(lambda c, t: l2.counters_discards_json(c))),
    ("show interfaces transceiver", _j(lambda c, t: l2.transceiver_json())),
    ("show interfaces <intf>", _j(lambda c, t: l2.interfaces_json(c, t[2]))),
    ("show ip interface", _ip_interface),
    ("show ip interface brief", _ip_interface),
    ("show ip virtual-router", _j(lambda c, t: l2.virtual_router_json())),
    ("show port-channel", _j(lambda c, t: l2.port_channel_json())),
    ("show lacp counters all-ports", _j(lambda c, t: l2.lacp_json())),
    ("show lacp interface detailed", _j(lambda c, t: l2.lacp_json())),
    # system
    ("show uptime", _j(lambda c, t: system.uptime_json(c))),
    ("show reload cause", _j(lambda c, t: system.reload_cause_json())),
    ("show ntp status", lambda c, t: Reply(text=system.ntp_status_text())),
    ("show ntp associations", _ntp_associations),
    ("show system environment cooling", _j(lambda c, t: system.cooling_json())),
    ("show system environment temperature", _j(lambda c, t: system.temperature_json())),
    ("show system environment power", _power),
    (
        "show processes top once",
        lambda c, t: Reply(text=system.processes_top_text(c)),
    ),
    ("show users accounts", _j(lambda c, t: system.users_json(c))),
    ("show snmp v2-mib chassis", _j(lambda c, t: system.snmp_mib_json(c, "chassis"))),
    ("show snmp v2-mib location", _j(lambda c, t: system.snmp_mib_json(c, "location"))),
    ("show snmp v2-mib contact", _j(lambda c, t: system.snmp_mib_json(c, "contact"))),
    # software
    ("show version detail", _version_detail),
    ("show extensions", _j(lambda c, t: system.extensions_json())),
    ("show boot-extensions", _j(lambda c, t: system.boot_extensions_json())),
    # VLANs
    ("show vlan", _j(lambda c, t: l2.vlan_json(c))),
    ("show vlan internal allocation policy", _j(lambda c, t: l2.vlan_internal_policy_json())),
    ("show vlan dynamic", _j(lambda c, t: l2.vlan_dynamic_json())),
    # LLDP, MAC, ARP, VRF
    ("show lldp neighbors", _j(lambda c, t: l2.lldp_neighbors_json(c))),
    ("show lldp neighbors detail", _j(lambda c, t: l2.lldp_detail_json(c))),
    ("show lldp neighbors <intf> detail", _j(lambda c, t: l2.lldp_detail_json(c, t[3]))),
    ("show mac address-table", _j(lambda c, t: l2.mac_table_json(c))),
    ("show arp", _j(lambda c, t: l2.arp_json(c, "default"))),
    ("show arp vrf <word>", _j(lambda c, t: l2.arp_json(c, t[3]))),
    ("show ip arp", _j(lambda c, t: l2.arp_json(c, "default"))),
    ("show ip arp vrf <word>", _j(lambda c, t: l2.arp_json(c, t[4]))),
    ("show vrf", _j(lambda c, t: l2.vrf_json(c))),
]

SHOW_RULES: list[tuple[Rule, Handler]] = [(Rule(p), h) for p, h in _TABLE]


# --------------------------------------------------------------------------- show ip route


def _route_handler(ctx: ShowContext, t: list[str]) -> Reply:
    """``show ip route [vrf V] [ADDRESS|PREFIX] [longer-prefixes] [PROTOCOL] [detail|summary]``.

    Tokens come normalised by :func:`match_show` (``vrf`` name, destination, keywords).
    """
    vrf, target, longer, protocol, summary, detail = _route_args(t)
    if summary:
        return Reply(json=rib.summary_json(ctx, vrf))
    select = rib.Lookup(target, longer=longer, protocol=protocol)
    js = rib.lookup_json(ctx, vrf, select)
    text = None
    if target is None and protocol is None and not detail:
        text = route_text(ctx.config, ctx.snapshot, ctx.view, vrf)
    return Reply(json=js, text=text)


def _route_args(t: list[str]) -> tuple[str, str | None, bool, str | None, bool, bool]:
    vrf, target, longer, protocol, summary, detail = "default", None, False, None, False, False
    i = 3
    if i < len(t) and t[i] == "vrf":
        vrf, i = t[i + 1], i + 2
    if i < len(t) and t[i] not in rib.PROTOCOLS and t[i] not in ("detail", "summary"):
        target, i = t[i], i + 1
        if i < len(t) and t[i] == "longer-prefixes":
            longer, i = True, i + 1
    if i < len(t) and t[i] in rib.PROTOCOLS:
        protocol, i = t[i], i + 1
    if i < len(t) and t[i] == "summary" and target is None and protocol is None:
        summary, i = True, i + 1
    elif i < len(t) and t[i] == "detail":
        detail, i = True, i + 1
    return vrf, target, longer, protocol, summary, detail


def _match_route(tokens: list[str]) -> tuple[list[str], int]:
    """Normalise ``show ip route ...``; (tokens, index of the first bad token or -1)."""
    low = [x.lower() for x in tokens]
    out = ["show", "ip", "route"]
    i = 3
    if i < len(low) and low[i] == "vrf":
        if i + 1 >= len(low):
            return out, len(low)
        out += ["vrf", tokens[i + 1]]
        i += 2
    if i < len(low) and low[i] not in rib.PROTOCOLS and low[i] not in ("detail", "summary"):
        dest = VALUE_TYPES["ip"](tokens[i]) or VALUE_TYPES["prefix"](tokens[i])
        if dest is None:
            return out, i
        out.append(dest)
        i += 1
        if i < len(low) and low[i] == "longer-prefixes":
            out.append("longer-prefixes")
            i += 1
    if i < len(low) and low[i] in rib.PROTOCOLS:
        out.append(low[i])
        i += 1
    if i < len(low) and low[i] in ("detail", "summary"):
        if low[i] == "summary" and len(out) > 3 + (2 if "vrf" in out else 0):
            return out, i
        out.append(low[i])
        i += 1
    return out, (i if i < len(low) else -1)


def match_show(tokens: list[str]) -> tuple[Handler, list[str]] | None:
    """The handler and normalised tokens of a show command (None: no pattern matches)."""
    if [x.lower() for x in tokens[:3]] == ["show", "ip", "route"]:
        norm, bad = _match_route(tokens)
        if bad >= 0:
            raise CommandFailed(
                1002, "invalid command", [f"Invalid input (at token {bad}: '{tokens[bad]}')"]
            )
        return _route_handler, norm
    for rule, handler in SHOW_RULES:
        m = match_rule(rule, tokens)
        if m.ok:
            return handler, m.tokens
    return None


def run_show(handler: Handler, ctx: ShowContext, tokens: list[str]) -> Reply:
    """Run a matched command."""
    return handler(ctx, tokens)
