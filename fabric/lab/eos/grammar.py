"""The EOS configuration grammar the simulated switch understands.

A command is a list of whitespace-separated tokens matched against *patterns*: each pattern
is a sequence of token specifications (a literal keyword or a typed placeholder such as
``<ip>`` or ``<asn>``). Matching a line against every pattern of the current mode tells
either which rule it is (and its normalised text) or where it went wrong, in the same words
EOS uses: ``Invalid input (at token N: 'tok')`` or ``Incomplete command``.

Each :class:`Rule` also says how the line lives in the config tree:

* ``enters``: the mode the line opens (``interface Ethernet1`` opens ``interface``);
* ``slot``: how many leading tokens identify the setting, so that a new value replaces the
  old one (``hostname a`` then ``hostname b`` keeps one line); ``None`` means the whole line;
* ``rank``/``group``/``sort``: where EOS prints it (running-config order is canonical, not
  insertion order) and which single lines print together without a ``!`` between them;
* ``keep_no``: the negated form is what the running-config shows (``no aaa root``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- values

_INTF_TYPES = {
    "ethernet": "Ethernet",
    "loopback": "Loopback",
    "management": "Management",
    "vlan": "Vlan",
    "port-channel": "Port-Channel",
    "tunnel": "Tunnel",
    "vxlan": "Vxlan",
    "null": "Null",
}
#: Print order of interface types in the running-config.
INTF_ORDER = [
    "Ethernet",
    "Loopback",
    "Management",
    "Null",
    "Port-Channel",
    "Tunnel",
    "Vlan",
    "Vxlan",
]
_INTF_RE = re.compile(r"^([A-Za-z-]+?)\s*(\d+(?:/\d+)*(?:\.\d+)?)$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_HMS_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")


def normalize_interface(token: str) -> str | None:
    """``ethernet1`` -> ``Ethernet1``; ``None`` if it is not an interface name."""
    m = _INTF_RE.match(token)
    if not m:
        return None
    kind = _INTF_TYPES.get(m.group(1).lower())
    if kind is None:
        return None
    number = m.group(2)
    if kind in {"Vlan"} and not 1 <= int(number) <= 4094:
        return None
    return f"{kind}{number}"


def interface_sort_key(name: str) -> tuple[int, tuple[int, ...]]:
    """Sort interfaces as EOS prints them: by type, then numerically."""
    m = re.match(r"^([A-Za-z-]+)([\d/.]+)$", name)
    if not m:
        return (len(INTF_ORDER), ())
    kind = m.group(1)
    rank = INTF_ORDER.index(kind) if kind in INTF_ORDER else len(INTF_ORDER)
    return (rank, tuple(int(x) for x in re.split(r"[/.]", m.group(2)) if x))


def _ip(token: str) -> str | None:
    try:
        return str(ipaddress.IPv4Address(token))
    except ValueError:
        return None


def _prefix(token: str) -> str | None:
    if "/" not in token:
        return None
    try:
        return str(ipaddress.IPv4Network(token, strict=False))
    except ValueError:
        return None


def _ifaddr(token: str) -> str | None:
    if "/" not in token:
        return None
    try:
        return str(ipaddress.IPv4Interface(token))
    except ValueError:
        return None


def parse_asn(token: str) -> int | None:
    """An AS number in plain (``65535``) or asdot (``1.10``) notation, 1..4294967295."""
    if re.fullmatch(r"\d+", token):
        value = int(token)
    elif re.fullmatch(r"\d+\.\d+", token):
        hi, lo = (int(x) for x in token.split("."))
        if hi > 65535 or lo > 65535:
            return None
        value = hi * 65536 + lo
    else:
        return None
    return value if 1 <= value <= 4294967295 else None


def _asn(token: str) -> str | None:
    return token if parse_asn(token) is not None else None


def _int_range(lo: int, hi: int) -> Callable[[str], str | None]:
    def check(token: str) -> str | None:
        if re.fullmatch(r"\d+", token) and lo <= int(token) <= hi:
            return str(int(token))
        return None

    return check


def _rd(token: str) -> str | None:
    head, sep, tail = token.rpartition(":")
    if not sep or not re.fullmatch(r"\d+", tail):
        return None
    if _ip(head) is not None or parse_asn(head) is not None:
        return token
    return None


def _peer(token: str) -> str | None:
    ip = _ip(token)
    if ip is not None:
        return ip
    return token if _NAME_RE.match(token) and not re.fullmatch(r"[\d.]+", token) else None


def _name(token: str) -> str | None:
    return token if _NAME_RE.match(token) else None


def _dest(token: str) -> str | None:
    return _ip(token) or _prefix(token)


def _word(token: str) -> str | None:
    return token


def _nexthop(token: str) -> str | None:
    return _ip(token) or normalize_interface(token)


def _hms(token: str) -> str | None:
    m = _HMS_RE.match(token)
    if not m or int(m.group(2)) > 59 or int(m.group(3)) > 59:
        return None
    return token


VALUE_TYPES: dict[str, Callable[[str], str | None]] = {
    "ip": _ip,
    "prefix": _prefix,
    "ifaddr": _ifaddr,
    "asn": _asn,
    "vlan": _int_range(1, 4094),
    "port": _int_range(1, 65535),
    "paths": _int_range(1, 128),
    "int": _int_range(0, 2**31 - 1),
    "distance": _int_range(1, 255),
    "priv": _int_range(0, 15),
    "mtu": _int_range(68, 65535),
    "rd": _rd,
    "peer": _peer,
    "name": _name,
    "word": _word,
    "dest": _dest,
    "intf": normalize_interface,
    "nexthop": _nexthop,
    "hms": _hms,
}

# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Rule:
    """One command pattern of a mode (see the module docstring)."""

    pattern: str
    enters: str | None = None
    slot: int | None = None
    rank: int = 50
    group: str | None = None
    keep_no: bool = False
    sort: Callable[[list[str]], tuple[object, ...]] | None = None
    tokens: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.pattern.split()))


@dataclass
class Match:
    """The outcome of matching one line in one mode."""

    rule: Rule | None
    tokens: list[str]
    matched: int = 0
    incomplete: bool = False

    @property
    def ok(self) -> bool:
        """Whether a rule matched the whole line."""
        return self.rule is not None

    def error(self, line_tokens: list[str]) -> str:
        """The EOS error text for a failed match."""
        if self.incomplete:
            return "Incomplete command"
        i = min(self.matched, len(line_tokens) - 1)
        return f"Invalid input (at token {i}: '{line_tokens[i]}')"


def _match_spec(spec: str, token: str) -> str | None:
    if spec.startswith("<") and spec.endswith(">"):
        kind = spec[1:-1]
        if kind == "rest":
            return token
        return VALUE_TYPES[kind](token)
    options = spec.split("|")
    low = token.lower()
    for option in options:
        if low == option:
            return option
    return None


def match_rule(rule: Rule, tokens: list[str]) -> Match:
    """Match ``tokens`` against one rule, normalising keywords and values."""
    out: list[str] = []
    for i, spec in enumerate(rule.tokens):
        if spec == "<rest>":
            if i >= len(tokens):
                return Match(None, out, i, incomplete=True)
            return Match(rule, out + tokens[i:], len(tokens))
        if i >= len(tokens):
            return Match(None, out, i, incomplete=True)
        value = _match_spec(spec, tokens[i])
        if value is None:
            return Match(None, out, i)
        out.append(value)
    if len(tokens) > len(rule.tokens):
        return Match(None, out, len(rule.tokens))
    return Match(rule, out, len(tokens))


def match_mode(mode: str, tokens: list[str]) -> Match:
    """Best match of ``tokens`` among the rules of ``mode``."""
    best = Match(None, [], -1)
    for rule in MODES.get(mode, []):
        m = match_rule(rule, tokens)
        if m.ok:
            return m
        if m.matched > best.matched or (
            m.matched == best.matched and m.incomplete and not best.incomplete
        ):
            best = m
    if best.matched < 0:
        best.matched = 0
    return best


def match_prefix(mode: str, tokens: list[str]) -> Rule | None:
    """A rule of ``mode`` of which ``tokens`` is a (possibly partial) start, for ``no ...``."""
    for rule in MODES.get(mode, []):
        m = match_rule(rule, tokens)
        if m.ok or (m.incomplete and m.matched == len(tokens)):
            return rule
    return None


# --------------------------------------------------------------------------- sort helpers


def _ip_key(token: str) -> tuple[int, int, str]:
    try:
        return (1, int(ipaddress.IPv4Address(token)), "")
    except ValueError:
        return (0, 0, token)


def _net_key(token: str) -> tuple[int, int]:
    net = ipaddress.IPv4Network(token, strict=False)
    return (int(net.network_address), net.prefixlen)


_NEIGHBOR_ATTR = [
    "peer",
    "peer-group",
    "remote-as",
    "remove-private-as",
    "next-hop-self",
    "update-source",
    "remote-port",
    "description",
    "allowas-in",
    "route-reflector-client",
    "ebgp-multihop",
    "password",
    "send-community",
    "route-map",
    "maximum-routes",
    "shutdown",
    "activate",
]


def _neighbor_sort(tokens: list[str]) -> tuple[object, ...]:
    offset = 1 if tokens[0] == "no" else 0
    peer = tokens[1 + offset] if len(tokens) > 1 + offset else ""
    attr = tokens[2 + offset] if len(tokens) > 2 + offset else ""
    # "neighbor G peer group" (the definition) first, then members' lines.
    definition = 0 if len(tokens) == 4 + offset and attr == "peer" else 1
    attr_rank = _NEIGHBOR_ATTR.index(attr) if attr in _NEIGHBOR_ATTR else len(_NEIGHBOR_ATTR)
    return (_ip_key(peer), definition, attr_rank, " ".join(tokens))


def _sort_vlan(tokens: list[str]) -> tuple[object, ...]:
    return (int(tokens[1]),)


def _sort_interface(tokens: list[str]) -> tuple[object, ...]:
    return interface_sort_key(tokens[1])


def _sort_routing(tokens: list[str]) -> tuple[object, ...]:
    rest = tokens[1:] if tokens[0] == "no" else tokens
    return ("" if len(rest) == 2 else rest[3],)


def _sort_route(tokens: list[str]) -> tuple[object, ...]:
    if tokens[2] == "vrf":
        return (tokens[3], _net_key(tokens[4]), tokens[5:])
    return ("", _net_key(tokens[2]), tokens[3:])


def _sort_by_name(tokens: list[str]) -> tuple[object, ...]:
    return (tokens[-1],)


# --------------------------------------------------------------------------- the modes


def _neighbor_rules(base_rank: int) -> list[Rule]:
    r, s = base_rank, _neighbor_sort
    return [
        Rule("neighbor <name> peer group", rank=r, sort=s),
        Rule("neighbor <name> peer-group", rank=r, sort=s),
        Rule("neighbor <ip> peer group <name>", slot=3, rank=r, sort=s),
        Rule("neighbor <ip> peer-group <name>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> remote-as <asn>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> description <rest>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> password 7 <word>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> password <word>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> shutdown", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> remote-port <port>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> update-source <intf>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> next-hop-self", slot=3, rank=r, sort=s, keep_no=True),
        Rule("neighbor <peer> remove-private-as", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> ebgp-multihop", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> ebgp-multihop <int>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> send-community", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> send-community <rest>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> maximum-routes <int>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> maximum-routes <int> <rest>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> route-map <name> in|out", slot=None, rank=r, sort=s),
        Rule("neighbor <peer> timers <int> <int>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> local-as <asn> no-prepend replace-as", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> allowas-in", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> allowas-in <int>", slot=3, rank=r, sort=s),
        Rule("neighbor <peer> route-reflector-client", slot=3, rank=r, sort=s, keep_no=True),
        Rule("neighbor <peer> bfd", slot=3, rank=r, sort=s),
    ]


_BGP_COMMON = [
    Rule("router-id <ip>", slot=1, rank=10),
    Rule("bgp default ipv4-unicast", slot=3, rank=20, keep_no=True),
    Rule("bgp log-neighbor-changes", slot=2, rank=20, keep_no=True),
    Rule("bgp bestpath <rest>", rank=20),
    Rule("timers bgp <int> <int>", slot=2, rank=25),
    Rule("distance bgp <distance> <distance> <distance>", slot=2, rank=27),
    Rule("maximum-paths <paths>", slot=1, rank=30),
    Rule("maximum-paths <paths> ecmp <paths>", slot=1, rank=30),
    Rule("bgp listen range <prefix> peer group <name> remote-as <asn>", slot=4, rank=35),
    Rule("bgp listen range <prefix> peer-group <name> remote-as <asn>", slot=4, rank=35),
    *_neighbor_rules(40),
    Rule("network <prefix>", rank=60),
    Rule("redistribute connected|static", slot=2, rank=65),
    Rule("redistribute connected|static route-map <name>", slot=2, rank=65),
]

_AF_RULES = [
    Rule("neighbor <peer> activate", slot=2, rank=10, sort=_neighbor_sort, keep_no=True),
    Rule("neighbor <peer> route-map <name> in|out", rank=10, sort=_neighbor_sort),
    Rule("network <prefix>", rank=20),
    Rule("redistribute connected|static", slot=2, rank=30),
]

MODES: dict[str, list[Rule]] = {
    "global": [
        Rule("aaa root", slot=2, rank=10, keep_no=True, group="aaa"),
        Rule("aaa root secret <rest>", slot=2, rank=10, group="aaa"),
        Rule("aaa authorization <rest>", rank=10, group="aaa"),
        Rule("aaa authentication <rest>", rank=10, group="aaa"),
        Rule("username <name> <rest>", slot=2, rank=20, group="username", sort=_sort_by_name),
        Rule("alias <word> <rest>", slot=2, rank=22, group="alias"),
        Rule("daemon <name>", enters="daemon", rank=24, sort=_sort_by_name),
        Rule("transceiver qsfp default-mode <word>", slot=3, rank=26, group="transceiver"),
        Rule("service routing protocols model multi-agent|ribd", slot=4, rank=30),
        Rule("logging <rest>", rank=32, group="logging"),
        Rule("hostname <name>", slot=1, rank=40, group="hostname"),
        Rule("ip name-server <rest>", rank=41, group="hostname"),
        Rule("ip domain-name <word>", slot=2, rank=42, group="hostname"),
        Rule("dns domain <word>", slot=2, rank=42, group="hostname"),
        Rule("ip domain lookup <rest>", rank=43, group="hostname"),
        Rule("clock timezone <word>", slot=2, rank=44),
        Rule("ntp server <rest>", rank=45, group="ntp"),
        Rule("spanning-tree mode mstp|rstp|rapid-pvst|none", slot=2, rank=50),
        Rule("snmp-server <rest>", rank=55, group="snmp"),
        Rule("vlan <vlan>", enters="vlan", slot=2, rank=60, sort=_sort_vlan),
        Rule("vrf instance <name>", enters="vrf", slot=3, rank=65, sort=_sort_by_name),
        Rule("interface <intf>", enters="interface", slot=2, rank=70, sort=_sort_interface),
        Rule("ip virtual-router mac-address <word>", slot=3, rank=75),
        Rule("ip routing", slot=2, rank=80, group="routing", sort=_sort_routing),
        Rule("ip routing vrf <name>", slot=4, rank=80, group="routing", sort=_sort_routing),
        Rule("ip route <prefix> <nexthop>", rank=85, group="route", sort=_sort_route),
        Rule("ip route <prefix> <nexthop> <distance>", rank=85, group="route", sort=_sort_route),
        Rule("ip route vrf <name> <prefix> <nexthop>", rank=85, group="route", sort=_sort_route),
        Rule(
            "ip route vrf <name> <prefix> <nexthop> <distance>",
            rank=85,
            group="route",
            sort=_sort_route,
        ),
        Rule("router bgp <asn>", enters="router-bgp", slot=2, rank=90),
        Rule("management api http-commands", enters="mgmt-api", slot=3, rank=95),
        Rule("management ssh", enters="mgmt-ssh", slot=2, rank=96),
    ],
    "interface": [
        Rule("description <rest>", slot=1, rank=0),
        Rule("shutdown", slot=1, rank=5),
        Rule("mtu <mtu>", slot=1, rank=8),
        Rule("switchport", slot=1, rank=9, keep_no=True),
        Rule("switchport access vlan <vlan>", slot=3, rank=10),
        Rule("switchport mode access|trunk", slot=2, rank=11),
        Rule("switchport trunk allowed vlan <rest>", slot=4, rank=12),
        Rule("vrf <name>", slot=1, rank=20),
        Rule("ip address <ifaddr>", slot=2, rank=30),
        Rule("ip address <ifaddr> secondary", rank=31),
        Rule("ip virtual-router address <ip>", rank=32),
        Rule("speed <word>", slot=1, rank=6),
    ],
    "vlan": [Rule("name <word>", slot=1)],
    "vrf": [Rule("description <rest>", slot=1, rank=5), Rule("rd <rd>", slot=1, rank=10)],
    "router-bgp": [
        *_BGP_COMMON,
        Rule("address-family ipv4", enters="bgp-af", slot=2, rank=80),
        Rule("address-family ipv6", enters="bgp-af", slot=2, rank=81),
        Rule("vrf <name>", enters="router-bgp-vrf", slot=2, rank=90, sort=_sort_by_name),
    ],
    "router-bgp-vrf": [
        Rule("rd <rd>", slot=1, rank=5),
        Rule("route-target import|export <rest>", rank=6),
        *_BGP_COMMON,
        Rule("address-family ipv4", enters="bgp-af", slot=2, rank=80),
    ],
    "bgp-af": _AF_RULES,
    "mgmt-api": [
        Rule("shutdown", slot=1, rank=10, keep_no=True),
        Rule("protocol http|https", slot=2, rank=5, keep_no=True),
        Rule("protocol http|https port <port>", slot=2, rank=5),
        Rule("protocol unix-socket", slot=2, rank=5, keep_no=True),
        Rule("vrf <name>", enters="mgmt-api-vrf", slot=2, rank=20),
    ],
    "mgmt-api-vrf": [Rule("shutdown", slot=1, keep_no=True)],
    "mgmt-ssh": [
        Rule("shutdown", slot=1, rank=10, keep_no=True),
        Rule("idle-timeout <int>", slot=1, rank=5),
        Rule("vrf <name>", enters="mgmt-api-vrf", slot=2, rank=20),
    ],
    "daemon": [
        Rule("exec <rest>", slot=1, rank=5),
        Rule("shutdown", slot=1, rank=10, keep_no=True),
    ],
}
