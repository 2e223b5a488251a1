"""EOS configuration as a tree: parse, change line by line, print as the running-config.

The tree is the switch's state; text is only how it is shown. Two ways in:

* :meth:`ConfigTree.from_text` reads indented config text (a running-config, a startup file,
  ``configure replace``); lines it does not know are kept verbatim (a real running-config holds
  far more than this lab models) unless ``strict``.
* :class:`ConfigEditor` applies commands one at a time as the CLI receives them (a config
  session, ``configure terminal``): no indentation, modes are entered by commands and left
  implicitly when a command belongs to a parent mode, exactly as EOS does. Unknown commands
  raise :class:`CliError` with EOS's wording.

Printing is canonical (EOS orders the running-config itself; it is not insertion order), so
the same configuration always prints the same text.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from fabric.lab.eos.grammar import Match, Rule, match_mode, match_prefix, parse_asn
from fabric.lab.model import (
    BgpNeighborConfig,
    StaticRoute,
    SwitchBgpConfig,
    SwitchInterface,
    SwitchSnapshot,
)

INDENT = "   "
#: Physical ports every simulated switch has; they always print, even when unconfigured.
PHYSICAL_INTERFACES = ("Ethernet1", "Ethernet2", "Ethernet3", "Ethernet4", "Management1")

_SEQ = itertools.count()


class CliError(Exception):
    """A command EOS would refuse; ``errors`` are the texts eAPI returns for it."""

    def __init__(self, message: str, *, invalid: bool = True) -> None:
        super().__init__(message)
        self.message = message
        #: True for a syntax error (eAPI code 1002), False for a refused command (1000).
        self.invalid = invalid


@dataclass
class ConfigNode:
    """One config line and the lines nested under it."""

    tokens: list[str]
    rule: Rule | None = None
    children: list[ConfigNode] = field(default_factory=list)
    seq: int = field(default_factory=lambda: next(_SEQ))
    raw: str | None = None

    @property
    def line(self) -> str:
        """The line as EOS prints it (unknown lines exactly as they were given)."""
        return self.raw if self.raw is not None else " ".join(self.tokens)

    @property
    def mode(self) -> str:
        """The mode this line opens (``raw`` under an unknown line)."""
        if self.rule is None:
            return "raw"
        return self.rule.enters or "raw"

    @property
    def is_block(self) -> bool:
        """Whether EOS prints this line as a block (it opens a mode or has children)."""
        return bool(self.children) or (self.rule is not None and self.rule.enters is not None)

    def base_tokens(self) -> list[str]:
        """Tokens without a leading ``no``."""
        return self.tokens[1:] if self.tokens and self.tokens[0] == "no" else self.tokens

    def slot(self) -> tuple[str, ...]:
        """What this line sets; a new line with the same slot replaces it."""
        base = self.base_tokens()
        if self.rule is None or self.rule.slot is None:
            return tuple(base) if self.raw is None else (self.raw,)
        return tuple(base[: self.rule.slot])

    def sort_key(self) -> tuple[Any, ...]:
        """Canonical print position among siblings."""
        if self.rule is None:
            return (999, (), self.seq)
        extra = self.rule.sort(self.tokens) if self.rule.sort else ()
        return (self.rule.rank, extra, self.seq)

    def find(self, *prefix: str) -> list[ConfigNode]:
        """Children whose tokens start with ``prefix``."""
        n = len(prefix)
        return [c for c in self.children if tuple(c.tokens[:n]) == prefix]

    def first(self, *prefix: str) -> ConfigNode | None:
        """The first child starting with ``prefix``."""
        found = self.find(*prefix)
        return found[0] if found else None


def _normalize(tokens: list[str]) -> list[str]:
    """``peer-group`` -> ``peer group`` (EOS 4.23+ prints the two-word form)."""
    out: list[str] = []
    for tok in tokens:
        if tok == "peer-group":
            out.extend(["peer", "group"])
        else:
            out.append(tok)
    return out


def _matched_node(m: Match) -> ConfigNode:
    assert m.rule is not None
    tokens = _normalize(m.tokens)
    rule = m.rule
    if tokens != m.tokens:
        # Re-resolve to the canonical rule so slot/sort see the two-word form.
        for r in _rules_like(rule):
            rule = r
    return ConfigNode(tokens=tokens, rule=rule)


def _rules_like(rule: Rule) -> list[Rule]:
    from fabric.lab.eos.grammar import MODES

    wanted = rule.pattern.replace("peer-group", "peer group")
    return [r for rules in MODES.values() for r in rules if r.pattern == wanted][:1]


# --------------------------------------------------------------------------- the tree


class ConfigTree:
    """A whole configuration: the children of the implicit global root."""

    def __init__(self, root: ConfigNode | None = None) -> None:
        self.root = root or ConfigNode(tokens=[])

    def copy(self) -> ConfigTree:
        """A deep copy (a session starts from a copy of running-config)."""
        return ConfigTree(copy.deepcopy(self.root))

    # ------------------------------------------------------------------ parsing text

    @classmethod
    def from_text(cls, text: str, *, strict: bool = False) -> ConfigTree:
        """Parse indented EOS config text.

        Args:
            text: config text; ``!`` lines are separators, ``end`` stops reading.
            strict: raise :class:`CliError` on a line the grammar does not know (for
                ``configure replace``); otherwise keep it verbatim.
        """
        tree = cls()
        # (indent, node, mode) of the open blocks.
        stack: list[tuple[int, ConfigNode, str]] = [(-1, tree.root, "global")]
        for lineno, raw in enumerate(text.splitlines(), start=1):
            stripped = raw.strip()
            if not stripped or stripped.startswith("!"):
                continue
            if stripped == "end" and not raw.startswith(" "):
                break
            indent = len(raw) - len(raw.lstrip(" "))
            while len(stack) > 1 and indent <= stack[-1][0]:
                stack.pop()
            _, parent, mode = stack[-1]
            tokens = stripped.split()
            if mode != "raw":
                try:
                    node = apply_tokens(parent, mode, tokens)
                except CliError as exc:
                    if strict:
                        raise CliError(f"line {lineno}: {exc.message}") from exc
                else:
                    if node is not None:
                        stack.append((indent, node, node.mode))
                    continue
            node = ConfigNode(tokens=tokens, raw=stripped)
            parent.children.append(node)
            stack.append((indent, node, "raw"))
        return tree

    # ------------------------------------------------------------------ printing

    def effective_children(self) -> list[ConfigNode]:
        """Top-level lines including those EOS always prints (ports, ``no ip routing``)."""
        children = list(self.root.children)
        have_intf = {tuple(c.tokens) for c in children}
        from fabric.lab.eos.grammar import MODES

        rules = {r.pattern: r for r in MODES["global"]}
        for name in PHYSICAL_INTERFACES:
            if ("interface", name) not in have_intf:
                children.append(
                    ConfigNode(tokens=["interface", name], rule=rules["interface <intf>"], seq=-1)
                )
        routing = {
            tuple(c.base_tokens()) for c in children if c.base_tokens()[:2] == ["ip", "routing"]
        }
        if ("ip", "routing") not in routing:
            children.append(
                ConfigNode(tokens=["no", "ip", "routing"], rule=rules["ip routing"], seq=-1)
            )
        for vrf in self.root.find("vrf", "instance"):
            name = vrf.tokens[2]
            if ("ip", "routing", "vrf", name) not in routing:
                children.append(
                    ConfigNode(
                        tokens=["no", "ip", "routing", "vrf", name],
                        rule=rules["ip routing vrf <name>"],
                        seq=-1,
                    )
                )
        return sorted(children, key=lambda c: c.sort_key())

    def body_lines(self, *, old_peer_group: bool = False) -> list[str]:
        """The configuration lines with ``!`` separators, without header and ``end``."""
        out: list[str] = []
        prev: str | None = None
        for node in self.effective_children():
            if node.is_block:
                if prev is not None and prev != "\0block":
                    out.append("!")
                _render_block(node, 0, out)
                out.append("!")
                prev = "\0block"
            else:
                group = (node.rule.group or node.rule.pattern) if node.rule else node.line
                if prev is not None and prev not in ("\0block", group):
                    out.append("!")
                out.append(node.line)
                prev = group
        if prev is not None and prev != "\0block":
            out.append("!")
        if old_peer_group:
            out = [_old_peer_group(line) for line in out]
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``cmds`` tree eAPI returns for ``show running-config`` in JSON."""
        return {"cmds": _json_children(self.effective_children())}

    def section(self, pattern: str) -> list[str]:
        """``show running-config section PATTERN``: the blocks with a line matching it."""
        regex = re.compile(pattern)
        out: list[str] = []
        for node in self.effective_children():
            lines: list[str] = []
            _render_block(node, 0, lines)
            if any(regex.search(line) for line in lines):
                out.extend(lines)
                if node.is_block:
                    out.append("!")
        return out

    # ------------------------------------------------------------------ reading it

    def hostname(self) -> str | None:
        """The configured hostname."""
        node = self.root.first("hostname")
        return node.tokens[1] if node else None

    def snapshot(self, name: str, eos_version: str, default_hostname: str) -> SwitchSnapshot:
        """What the BGP simulation needs from this configuration."""
        interfaces: list[SwitchInterface] = []
        for intf in self.root.find("interface"):
            addr = intf.first("ip", "address")
            if addr is None:
                continue
            vrf = intf.first("vrf")
            interfaces.append(
                SwitchInterface(
                    name=intf.tokens[1],
                    address=ipaddress.IPv4Interface(addr.tokens[2]),
                    vrf=vrf.tokens[1] if vrf else "default",
                    shutdown=intf.first("shutdown") is not None,
                )
            )
        statics: list[StaticRoute] = []
        for route in self.root.find("ip", "route"):
            t = route.tokens
            vrf_name, rest = (t[3], t[4:]) if t[2] == "vrf" else ("default", t[2:])
            statics.append(StaticRoute(vrf_name, ipaddress.IPv4Network(rest[0]), rest[1]))
        return SwitchSnapshot(
            name=name,
            eos_version=eos_version,
            hostname=self.hostname() or default_hostname,
            bgp=self.bgp_config(),
            interfaces=interfaces,
            static_routes=statics,
            vlans=sorted(int(v.tokens[1]) for v in self.root.find("vlan")),
            ip_routing=self.routing_enabled("default"),
        )

    def routing_enabled(self, vrf: str) -> bool:
        """``ip routing [vrf V]`` is configured."""
        want = ["ip", "routing"] if vrf == "default" else ["ip", "routing", "vrf", vrf]
        return any(n.tokens == want for n in self.root.children)

    def vrfs(self) -> list[str]:
        """``default`` and every ``vrf instance``."""
        return ["default", *sorted(v.tokens[2] for v in self.root.find("vrf", "instance"))]

    def bgp_config(self) -> SwitchBgpConfig | None:
        """``router bgp`` of the default VRF, peer-group settings copied down."""
        bgp = self.root.first("router", "bgp")
        if bgp is None:
            return None
        asn = parse_asn(bgp.tokens[2])
        assert asn is not None
        rid = bgp.first("router-id")
        maxp = bgp.first("maximum-paths")
        default_v4 = not any(
            c.tokens == ["no", "bgp", "default", "ipv4-unicast"] for c in bgp.children
        )
        groups: dict[str, dict[str, Any]] = {}
        peers: dict[str, dict[str, Any]] = {}
        for node in bgp.children:
            t = node.base_tokens()
            if t[:1] != ["neighbor"] or len(t) < 3:
                continue
            peer, attr = t[1], t[2]
            negated = node.tokens[0] == "no"
            if len(t) == 4 and t[2:] == ["peer", "group"]:
                groups.setdefault(peer, {})
                continue
            target = peers if _is_ip(peer) else groups
            entry = target.setdefault(peer, {})
            if negated:
                continue
            if attr == "peer" and len(t) == 5:
                entry["peer_group"] = t[4]
            elif attr == "remote-as":
                entry["remote_as"] = parse_asn(t[3])
            elif attr == "description":
                entry["description"] = " ".join(t[3:])
            elif attr == "password":
                entry["password"] = t[-1]
            elif attr == "shutdown":
                entry["shutdown"] = True
            elif attr == "remote-port":
                entry["remote_port"] = int(t[3])
            elif attr == "allowas-in":
                # EOS accepts the local AS up to 3 times when no count is given
                entry["allowas_in"] = int(t[3]) if len(t) > 3 else 3
            elif attr == "route-reflector-client":
                entry["rr_client"] = True
        activated: dict[str, bool] = {}
        for af in bgp.find("address-family", "ipv4"):
            for node in af.children:
                t = node.base_tokens()
                if len(t) == 3 and t[0] == "neighbor" and t[2] == "activate":
                    activated[t[1]] = node.tokens[0] != "no"
        neighbors: dict[str, BgpNeighborConfig] = {}
        for address, own in peers.items():
            group = own.get("peer_group")
            merged = dict(groups.get(group, {})) if group else {}
            merged.update(own)
            act = activated.get(address, activated.get(group or "", default_v4))
            neighbors[address] = BgpNeighborConfig(
                address=address,
                remote_as=merged.get("remote_as"),
                peer_group=group,
                description=merged.get("description"),
                password=merged.get("password"),
                shutdown=bool(merged.get("shutdown", False)),
                remote_port=merged.get("remote_port"),
                activated_ipv4=act,
                allowas_in=int(merged.get("allowas_in", 0)),
                rr_client=bool(merged.get("rr_client", False)),
            )
        return SwitchBgpConfig(
            asn=asn,
            router_id=rid.tokens[1] if rid else None,
            maximum_paths=int(maxp.tokens[1]) if maxp else None,
            neighbors=neighbors,
        )


def _is_ip(token: str) -> bool:
    try:
        ipaddress.IPv4Address(token)
    except ValueError:
        return False
    return True


def _old_peer_group(line: str) -> str:
    return re.sub(r"(neighbor \S+) peer group\b", r"\1 peer-group", line)


def _render_block(node: ConfigNode, depth: int, out: list[str]) -> None:
    out.append(INDENT * depth + node.line)
    first = True
    for child in sorted(node.children, key=lambda c: c.sort_key()):
        if child.is_block and not first:
            out.append(INDENT * (depth + 1) + "!")
        if child.is_block:
            _render_block(child, depth + 1, out)
        else:
            out.append(INDENT * (depth + 1) + child.line)
        first = False


def _json_children(children: list[ConfigNode]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for node in children:
        if node.children:
            out[node.line] = {
                "cmds": _json_children(sorted(node.children, key=lambda c: c.sort_key())),
                "comments": [],
            }
        else:
            out[node.line] = None
    return out


# --------------------------------------------------------------------------- changing it


def apply_tokens(parent: ConfigNode, mode: str, tokens: list[str]) -> ConfigNode | None:
    """Apply one command in ``mode`` under ``parent``.

    Returns:
        The node the command created or selected (a block to enter, or a line), or ``None``
        for a negation that removed lines.

    Raises:
        CliError: the command is not valid in ``mode``.
    """
    if tokens[0] == "no" or tokens[0] == "default":
        negated = tokens[0] == "no"
        rest = tokens[1:]
        if not rest:
            raise CliError("Incomplete command")
        m = match_mode(mode, rest)
        if m.ok:
            node = _matched_node(m)
            assert node.rule is not None
            _remove_slot(parent, node)
            if node.rule.keep_no and negated:
                node.tokens = ["no", *node.tokens]
                parent.children.append(node)
                return node
            return None
        if match_prefix(mode, rest) is not None:
            prefix = _normalize(_canonical_prefix(mode, rest))
            _remove_prefix(parent, prefix)
            if mode in ("router-bgp", "router-bgp-vrf") and prefix[:1] == ["neighbor"]:
                for af in parent.find("address-family"):
                    _remove_prefix(af, prefix[:2])
            return None
        m.matched += 1
        raise CliError(m.error(tokens))
    m = match_mode(mode, tokens)
    if not m.ok:
        raise CliError(m.error(tokens))
    node = _matched_node(m)
    assert node.rule is not None
    existing = [c for c in parent.children if c.slot() == node.slot() and c.rule is not None]
    if node.rule.enters is not None:
        if mode == "global" and node.tokens[:2] == ["router", "bgp"]:
            other = parent.first("router", "bgp")
            if other is not None and other.tokens != node.tokens:
                raise CliError(
                    f"BGP is already running with AS number {other.tokens[2]}", invalid=False
                )
        for c in existing:
            if c.tokens == node.tokens:
                return c
    _remove_slot(parent, node)
    parent.children.append(node)
    return node


def _canonical_prefix(mode: str, tokens: list[str]) -> list[str]:
    """Normalise the values of a partial command (``no interface ethernet1``)."""
    from fabric.lab.eos.grammar import MODES, _match_spec

    for rule in MODES.get(mode, []):
        out: list[str] = []
        for spec, tok in zip(rule.tokens, tokens, strict=False):
            value = tok if spec == "<rest>" else _match_spec(spec, tok)
            if value is None:
                break
            out.append(value)
        else:
            if len(out) == len(tokens):
                return out
    return tokens


def _remove_slot(parent: ConfigNode, node: ConfigNode) -> None:
    slot = node.slot()
    parent.children = [c for c in parent.children if c.rule is None or c.slot() != slot]


def _remove_prefix(parent: ConfigNode, prefix: list[str]) -> None:
    n = len(prefix)
    parent.children = [c for c in parent.children if c.base_tokens()[:n] != prefix]


@dataclass
class ConfigEditor:
    """Applies CLI commands to a tree as a config-mode CLI does (mode stack, auto-exit)."""

    tree: ConfigTree
    stack: list[tuple[ConfigNode, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.stack:
            self.stack = [(self.tree.root, "global")]

    def exit(self) -> bool:
        """``exit``: leave the current sub-mode; False when already at the top."""
        if len(self.stack) > 1:
            self.stack.pop()
            return True
        return False

    def apply(self, line: str) -> None:
        """Apply one command line (leading/trailing spaces are ignored)."""
        tokens = line.split()
        if not tokens or tokens[0].startswith("!"):
            return
        first_error: CliError | None = None
        for depth in range(len(self.stack) - 1, -1, -1):
            parent, mode = self.stack[depth]
            try:
                node = apply_tokens(parent, mode, tokens)
            except CliError as exc:
                if not exc.invalid:
                    raise
                if first_error is None or _token_index(exc) > _token_index(first_error):
                    first_error = exc
                continue
            del self.stack[depth + 1 :]
            if (
                node is not None
                and node.rule is not None
                and node.rule.enters is not None
                and node.tokens[0] != "no"
            ):
                self.stack.append((node, node.rule.enters))
            return
        assert first_error is not None
        raise first_error


def _token_index(exc: CliError) -> int:
    m = re.search(r"at token (\d+)", exc.message)
    return int(m.group(1)) if m else 10**6
