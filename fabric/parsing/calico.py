"""Assemblers for Calico: ``calicoctl node status`` and ``birdcl show protocols``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fabric.errors import ParseError
from fabric.models.parsed import BirdProtocols, CalicoAfStatus, CalicoNodeStatus, CalicoPeer
from fabric.parsing.common import Prompt, asn, fail, is_ip, none_if, squeeze
from fabric.parsing.engine import Row

# ------------------------------------------------------------------------ calicoctl node status

_PORT_RE = re.compile(r"^\[?(?P<ip>[^\[\]]+?)\]?:(?P<port>\d+)$")


def split_port(address: str) -> tuple[str, int | None]:
    """A peer address and its port (``10.0.0.1:180``, ``[fd00::1]:180``).

    >>> split_port("10.0.0.1:180"), split_port("[fd00::1]:180"), split_port("fd00::1")
    (('10.0.0.1', 180), ('fd00::1', 180), ('fd00::1', None))
    """
    if is_ip(address):
        return address, None
    m = _PORT_RE.match(address)
    if m is None or not is_ip(m.group("ip")):
        raise ValueError(f"not a peer address: {address!r}")
    return m.group("ip"), int(m.group("port"))


class _NodeStatus:
    """The node status being read: the process status, the sections and the open one."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.running: bool | None = None
        self.sections: dict[str, dict[str, Any]] = {}
        self.section: dict[str, Any] | None = None
        self.header = False
        self.peer: dict[str, Any] | None = None

    def open_section(self, af: str, row: Row) -> dict[str, Any]:
        if af in self.sections:
            raise fail(self.command, row, f"a second {af.replace('ipv', 'IPv')} section")
        self.sections[af] = {"error": None, "peers": []}
        return self.sections[af]

    def status(self, row: Row) -> None:
        """The process (or container) status line: once, and first."""
        if self.running is not None:
            raise fail(self.command, row, "a second status line")
        self.running = row.values["running"] == "running"

    def section_start(self, row: Row) -> None:
        """A line that opens a section, or says why the daemon prints none."""
        kind, v = row.kind, row.values
        if kind == "section":
            self.section = self.open_section(v["af"].lower(), row)
            self.header, self.peer = False, None
        elif kind == "daemon_down":  # calicoctl prints no section for a daemon not running
            self.open_section(f"ipv{v['error'][5]}", row)["error"] = squeeze(v["error"])
            self.section = None
        else:  # no_backend
            for af in ("ipv4", "ipv6"):
                self.open_section(af, row)["error"] = squeeze(row.line.text)
            self.section = None

    def section_line(self, row: Row, section: dict[str, Any], last: str) -> None:
        """A line inside the open section (``last``: the kind of the line before it)."""
        command, kind, v = self.command, row.kind, row.values
        if kind == "node_ip":
            if last != "section":
                raise fail(command, row, "the node address not right after the section title")
            section["address"] = v["address"] if is_ip(v["address"]) else None
            section["as_number"] = asn(v["asn"])
            section["address_configured"] = True
        elif kind in ("no_address", "no_peers"):
            if self.sections.get(v["af"].lower()) is not section:
                raise fail(command, row, "the wrong address family for this section")
            if self.header:
                raise fail(command, row, "a peer table and 'no peers' in one section")
            if kind == "no_address":
                section["address_configured"] = False
        elif kind == "error":
            section["error"] = squeeze(v["error"])
        elif kind == "border":
            pass
        elif kind == "header":
            if self.header:
                raise fail(command, row, "a second table header")
            self.header = True
        elif kind == "row":
            if not self.header:
                raise fail(command, row, "a table row before the header")
            self.peer = _peer_row(command, row, self.peer, section)
        else:  # pragma: no cover - the template and this function change together
            raise fail(command, row, f"unknown line kind {kind!r}")


def assemble_node_status(command: str, rows: Iterable[Row]) -> CalicoNodeStatus:
    """Build :class:`CalicoNodeStatus` from the rows of ``calicoctl node status``.

    Reads the current layout (``Calico process is running.``) and the calicoctl 0.x/1.x one
    (``calico-node container is running. Status: ...``, an ``IP: ... AS Number: ...`` line and
    ``No IPv6 address configured.``); both carry an IPv4 and an IPv6 section.
    """
    state = _NodeStatus(command)
    previous = ""
    prompt = Prompt(command)
    for row in rows:
        kind = row.kind
        if kind == "prompt":
            prompt.leading(row, previous == "")
            previous = kind
            continue
        prompt.after(row)
        if kind == "prompt_end":
            prompt.trailing(row)
            continue
        last, previous = previous, kind
        if kind in ("running", "container"):
            state.status(row)
        elif state.running is None:
            raise fail(command, row, "output does not start with the Calico process status")
        elif kind == "felix":
            if last != "container":
                raise fail(command, row, "a felix version not right after the container status")
        elif kind in ("section", "daemon_down", "no_backend"):
            state.section_start(row)
        elif state.section is None:
            raise fail(command, row, "a line outside the IPv4/IPv6 sections")
        else:
            state.section_line(row, state.section, last)
    if state.running is None:
        raise ParseError(command, None, "no Calico process status in the output")
    return CalicoNodeStatus.model_validate(
        {
            "calico_running": state.running,
            "ipv4": state.sections.get("ipv4"),
            "ipv6": state.sections.get("ipv6"),
        }
    )


def _peer_row(
    command: str, row: Row, peer: dict[str, Any] | None, section: dict[str, Any]
) -> dict[str, Any] | None:
    """Add a table row to ``section`` (a new peer, or the INFO continuation of ``peer``)."""
    v = row.values
    cells = [squeeze(v[k]) for k in ("a", "b", "c", "d", "e")]
    if not any(cells[:4]):
        if peer is None or not cells[4]:
            raise fail(command, row, "a continuation row without a peer")
        peer["info"] = f"{peer['info']} {cells[4]}".strip()
        return peer
    if not all(cells[:4]):
        raise fail(command, row, "a row with empty cells")
    try:
        address, port = split_port(cells[0])
    except ValueError as exc:
        raise fail(command, row, str(exc)) from None
    peer = {
        "peer_address": address,
        "port": port,
        "peer_type": cells[1],
        "state": cells[2],
        "since": cells[3],
        "info": cells[4],
    }
    section["peers"].append(peer)
    return peer


# ------------------------------------------------------------------------ birdcl show protocols

#: Calico's BIRD protocol name prefixes and the peer type calicoctl prints for each.
PEER_TYPES = {"Mesh": "node-to-node mesh", "Global": "global", "Node": "node specific"}
_NAME_RE = re.compile(
    r"^(?P<type>Mesh|Global|Node)_(?P<addr>[0-9A-Fa-f_]+?)(?:_port_(?P<port>\d+))?$"
)


def decode_protocol_name(name: str) -> tuple[str | None, str | None]:
    """Peer type and address encoded in a Calico BIRD protocol name, else ``(None, None)``.

    >>> decode_protocol_name("Mesh_172_21_0_18")
    ('node-to-node mesh', '172.21.0.18')
    >>> decode_protocol_name("Node_fd00__1")
    ('node specific', 'fd00::1')
    >>> decode_protocol_name("Global_10_0_0_1_port_180")
    ('global', '10.0.0.1:180')
    >>> decode_protocol_name("kernel1")
    (None, None)
    """
    m = _NAME_RE.match(name)
    if m is None:
        return None, None
    raw = m.group("addr")
    parts = raw.split("_")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        address = ".".join(parts)
    else:
        address = raw.replace("_", ":")
    if not is_ip(address):
        return None, None
    if m.group("port"):
        address = (
            f"[{address}]:{m.group('port')}" if ":" in address else f"{address}:{m.group('port')}"
        )
    return PEER_TYPES[m.group("type")], address


def assemble_bird_protocols(command: str, rows: Iterable[Row]) -> BirdProtocols:
    """Build :class:`BirdProtocols` from the rows of ``birdcl show protocols``."""
    header = banner = False
    error: str | None = None
    protocols: list[dict[str, Any]] = []
    prompt = Prompt(command)
    for row in rows:
        kind, v = row.kind, row.values
        if kind == "prompt":
            # a shell prompt comes first; birdc's own "bird> show protocols" after its banner
            # (and "Access restricted"): either way once, before the table
            prompt.leading(row, prompt.echo is None and not header and error is None)
            continue
        prompt.after(row)
        if kind == "prompt_end":
            prompt.trailing(row)
        elif error is not None:
            raise fail(command, row, "a line after birdcl's error")
        elif kind == "banner":
            if banner or header:
                raise fail(command, row, "the BIRD banner after the table")
            banner = True
        elif kind == "kubectl_notice":  # kubectl exec's stderr note, captured with the output
            if banner or header:
                raise fail(command, row, "kubectl's notice inside the BIRD output")
        elif kind == "restricted":  # the reply to birdc -r's "restrict", before the command's
            if not banner or header:
                raise fail(command, row, "'Access restricted' not right after the banner")
        elif kind == "error":
            if banner or header:
                raise fail(command, row, "birdcl's error inside the BIRD output")
            error = squeeze(v["error"])
        elif kind == "header":
            if header:
                raise fail(command, row, "a second table header")
            header = True
        elif kind == "protocol":
            if not header:
                raise fail(command, row, "a protocol row before the table header")
            peer_type, peer_address = (None, None)
            if v["proto"] == "BGP":
                peer_type, peer_address = decode_protocol_name(v["name"])
            protocols.append(
                {
                    "name": v["name"],
                    "proto": v["proto"],
                    "table": none_if(v["table"], "---"),
                    "state": v["state"],
                    "since": squeeze(v["since"]),
                    "info": squeeze(v["info"]) if v.get("info") else None,
                    "peer_type": peer_type,
                    "peer_address": peer_address,
                }
            )
        else:  # pragma: no cover - the template and this function change together
            raise fail(command, row, f"unknown line kind {kind!r}")
    if not header and error is None:
        raise ParseError(command, None, "no protocol table header in the output")
    return BirdProtocols.model_validate({"protocols": protocols, "error": error})


def _af_status(table: BirdProtocols) -> CalicoAfStatus:
    if table.error is not None:
        return CalicoAfStatus(error=table.error)
    peers = []
    for p in table.protocols:
        if p.peer_type is None or p.peer_address is None:
            continue  # kernel, device, static ... (calicoctl shows BGP peers only)
        address, port = split_port(p.peer_address)
        peers.append(
            CalicoPeer(
                peer_address=address,
                port=port,
                peer_type=p.peer_type,
                state=p.state,
                since=p.since,
                info=p.info or "",
            )
        )
    return CalicoAfStatus(peers=peers)


def node_status_from_bird(
    ipv4: BirdProtocols, ipv6: BirdProtocols | None = None
) -> CalicoNodeStatus:
    """The node status ``calicoctl node status`` prints, from BIRD's protocol tables.

    calicoctl builds its table from the same ``show protocols`` reply: each Calico BGP
    protocol (``Mesh_``, ``Node_``, ``Global_`` names) is a peer of that type, with BIRD's
    state, since and info columns. A table that is birdcl's error (BIRD's socket missing:
    BIRD is not running) is that family's ``error``; the node itself answered, so Calico is
    reported running.
    """
    return CalicoNodeStatus(
        calico_running=True,
        ipv4=_af_status(ipv4),
        ipv6=None if ipv6 is None else _af_status(ipv6),
    )
