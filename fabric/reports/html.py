"""A self-contained HTML report: summary, an inline SVG picture of the topology, failures.

No script, stylesheet or font is loaded from anywhere: the page is one file an operator can
mail or archive. The picture frames each rack with its pair of ToRs side by side and its nodes
below (a switch without a rack is a group of its own), and draws each node-switch session as a
line coloured by its state (green Established on both ends, red down or mismatched, grey not
judged); a dual-homed node has a line to each ToR; hovering a line shows both ends' states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from fabric.checks.base import Status
from fabric.reports.model import ComplianceReport, Topology, TopoNode, TopoSession, TopoSwitch

COLOUR = {
    Status.PASS: "#2e7d32",
    Status.SKIP: "#9e9e9e",
    Status.WARN: "#f9a825",
    Status.FAIL: "#c62828",
    Status.ERROR: "#6a1b9a",
}
_PER_ROW = 4
_NODE_W, _NODE_H, _GAP = 150, 34, 12
_SW_W, _SW_H = 170, 44
_COMPACT_NODES = 400
_DOT = 8


@dataclass
class _Group:
    """A rack (its pair of ToRs and its nodes), or a switch without a rack."""

    label: str
    switches: list[TopoSwitch] = field(default_factory=list)
    nodes: list[TopoNode] = field(default_factory=list)


def _groups(topo: Topology) -> list[_Group]:
    """Switches grouped by rack (pairs together), each node under the group of its ToRs."""
    groups: dict[str, _Group] = {}
    of_switch: dict[str, _Group] = {}
    for sw in topo.switches:
        key = f"rack {sw.rack}" if sw.rack else sw.name
        group = groups.setdefault(key, _Group(key))
        group.switches.append(sw)
        of_switch[sw.name] = group
    for n in topo.nodes:
        rack = groups.get(f"rack {n.rack}") if n.rack else None
        home = rack or of_switch.get(n.tors[0] if n.tors else n.tor)
        if home is not None:
            home.nodes.append(n)
    return list(groups.values())


def _switch_box(sw: TopoSwitch, sx: float, sy: float) -> str:
    return (
        f'<rect x="{sx:.0f}" y="{sy}" width="{_SW_W}" height="{_SW_H}" rx="6" '
        f'fill="#e3f2fd" stroke="{COLOUR[sw.status]}" stroke-width="3" class="switch"/>'
        f'<text x="{sx + _SW_W / 2:.0f}" y="{sy + 18}" text-anchor="middle" font-size="12" '
        f'font-weight="bold">{escape(sw.name)}</text>'
        f'<text x="{sx + _SW_W / 2:.0f}" y="{sy + 34}" text-anchor="middle" font-size="10" '
        f'fill="#555">AS {sw.asn} {escape(sw.svi)}</text>'
    )


def _node_box(node: TopoNode, nx: float, ny: float) -> str:
    return (
        f'<rect x="{nx}" y="{ny}" width="{_NODE_W}" height="{_NODE_H}" rx="6" '
        f'fill="#fff" stroke="{COLOUR[node.status]}" stroke-width="2" class="node"/>'
        f'<text x="{nx + _NODE_W / 2:.0f}" y="{ny + 14}" text-anchor="middle" '
        f'font-size="11">{escape(node.name)}</text>'
        f'<text x="{nx + _NODE_W / 2:.0f}" y="{ny + 27}" text-anchor="middle" '
        f'font-size="10" fill="#555">{escape(node.bgp_ip)}</text>'
    )


def _session_line(s: TopoSession | None, x1: float, y1: float, x2: float, y2: float) -> str:
    colour = COLOUR[s.status] if s else COLOUR[Status.SKIP]
    tip = (
        f"{s.switch} &#8596; {s.node}: switch {s.switch_state}, node {s.node_state}"
        if s
        else "no session"
    )
    cls = s.status.value if s else "skip"
    return (
        f'<line x1="{x1:.0f}" y1="{y1}" x2="{x2:.0f}" y2="{y2}" stroke="{colour}" '
        f'stroke-width="3" class="session s-{cls}"><title>{escape(tip, quote=False)}</title></line>'
    )


def _svg_full(topo: Topology) -> tuple[list[str], int, int]:
    """Labelled boxes: each rack framed, its ToRs side by side, its nodes in rows below."""
    parts: list[str] = []
    sess = {(s.switch, s.node): s for s in topo.sessions}
    x, height = 20, 140
    for group in _groups(topo):
        cols = max(1, min(_PER_ROW, len(group.nodes)))
        pair_w = len(group.switches) * (_SW_W + _GAP) - _GAP
        group_w = max(pair_w, cols * (_NODE_W + _GAP) - _GAP)
        top = 40
        anchor: dict[str, float] = {}
        sx = x + (group_w - pair_w) / 2
        for sw in group.switches:
            parts.append(_switch_box(sw, sx, top))
            anchor[sw.name] = sx + _SW_W / 2
            sx += _SW_W + _GAP
        bottom = top + _SW_H + 20
        for k, node in enumerate(group.nodes):
            nx = x + (k % _PER_ROW) * (_NODE_W + _GAP)
            ny = 150 + (k // _PER_ROW) * (_NODE_H + 40)
            bottom = max(bottom, ny + _NODE_H)
            # a report of an older version knows a single ``tor`` per node
            links = node.tors or [t for t in (node.tor,) if (t, node.name) in sess]
            for tor in links:
                if tor in anchor:
                    s = sess.get((tor, node.name))
                    parts.append(_session_line(s, anchor[tor], top + _SW_H, nx + _NODE_W / 2, ny))
            parts.append(_node_box(node, nx, ny))
        parts.insert(
            0,
            f'<rect x="{x - 10}" y="14" width="{group_w + 20}" height="{bottom - 4}" rx="8" '
            f'fill="none" stroke="#bbb" stroke-dasharray="4 3" class="rack"/>'
            f'<text x="{x}" y="30" font-size="11" fill="#555">{escape(group.label)}</text>',
        )
        height = max(height, bottom + 30)
        x += group_w + 50
    return parts, x, height


def _svg_compact(topo: Topology) -> tuple[list[str], int, int]:
    """Large fabrics: one column per rack, a bar per ToR, nodes as dots (worst session)."""
    parts: list[str] = []
    worst_of: dict[str, TopoSession] = {}
    for s in topo.sessions:
        old = worst_of.get(s.node)
        if old is None or s.status.rank > old.status.rank:
            worst_of[s.node] = s
    per_col = 10
    x, height = 10, 60
    for group in _groups(topo):
        bar = per_col * _DOT / max(1, len(group.switches))
        for i, sw in enumerate(group.switches):
            parts.append(
                f'<rect x="{x + i * bar:.0f}" y="10" width="{bar - 1:.0f}" height="12" '
                f'fill="{COLOUR[sw.status]}" class="switch"><title>{escape(group.label)}: '
                f"{escape(sw.name)}</title></rect>"
            )
        for k, node in enumerate(group.nodes):
            worst = worst_of.get(node.name)
            colour = COLOUR[worst.status] if worst else COLOUR[Status.SKIP]
            cx = x + (k % per_col) * _DOT + _DOT / 2
            cy = 30 + (k // per_col) * _DOT + _DOT / 2
            height = max(height, int(cy) + 20)
            tip = (
                f"{node.name}: switch {worst.switch_state}, node {worst.node_state}"
                if worst
                else node.name
            )
            cls = worst.status.value if worst else "skip"
            parts.append(
                f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="3" fill="{colour}" class="session '
                f's-{cls}"><title>{escape(tip)}</title></circle>'
            )
        x += per_col * _DOT + 6
    return parts, x, height


def render_svg(topo: Topology) -> str:
    """The topology as an inline SVG element."""
    if len(topo.nodes) > _COMPACT_NODES:
        parts, width, height = _svg_compact(topo)
    else:
        parts, width, height = _svg_full(topo)
    legend_y = height + 5
    legend = "".join(
        f'<rect x="{20 + i * 150}" y="{legend_y}" width="14" height="14" fill="{COLOUR[s]}"/>'
        f'<text x="{40 + i * 150}" y="{legend_y + 12}" font-size="11">{label}</text>'
        for i, (s, label) in enumerate(
            [
                (Status.PASS, "Established both ends"),
                (Status.FAIL, "down / mismatch"),
                (Status.ERROR, "not judged"),
            ]
        )
    )
    w = max(width, 500)
    h = legend_y + 30
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family="sans-serif" role="img" '
        f'aria-label="topology">{"".join(parts)}{legend}</svg>'
    )


_CSS = """
body{font-family:sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} .st{font-weight:bold;padding:0 .3em;border-radius:3px;color:#fff}
.pass{background:#2e7d32}.warn{background:#f9a825}.fail{background:#c62828}
.error{background:#6a1b9a}.skip{background:#9e9e9e}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;
vertical-align:top;text-align:left;font-size:.9em}.fix{color:#00695c}
.topo{overflow:auto;border:1px solid #ddd;padding:.5em;background:#fafafa}
"""


def _badge(s: Status) -> str:
    return f'<span class="st {s.value}">{s.value.upper()}</span>'


def render_html(report: ComplianceReport) -> str:
    """The report as one self-contained HTML page."""
    c = report.counts
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>fabric compliance</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>fabric compliance {_badge(report.status)}</h1>",
        f"<p>{escape(report.mode)} run on {escape(report.source)}, "
        f"started {escape(report.started)}, "
        f"{report.duration_s:.2f} s. {c.passed} passed, {c.warned} warned, {c.failed} failed, "
        f"{c.errored} not judged; exit code {int(report.exit_code)}.</p>",
        "<h2>Topology</h2>",
        f'<div class="topo">{render_svg(report.topology)}</div>',
        "<h2>Failures and warnings</h2>",
    ]
    rows: list[str] = []
    for p in report.problems:
        rows.append(
            f"<tr><td>{escape(p.host)}</td><td>collection</td><td>{_badge(Status.ERROR)}</td>"
            f"<td>{escape(p.kind)}: {escape(p.message)}</td></tr>"
        )
    for v in report.verdicts:
        for h in v.hosts:
            for f in h.findings:
                if f.status in (Status.FAIL, Status.ERROR, Status.WARN):
                    fix = f'<div class="fix">fix: {escape(f.fix)}</div>' if f.fix else ""
                    rows.append(
                        f"<tr><td>{escape(h.host)}</td><td>{escape(v.check)}</td>"
                        f"<td>{_badge(f.status)}</td><td>{escape(f.message)}{fix}</td></tr>"
                    )
    if rows:
        out.append(
            '<table id="failures"><tr><th>host</th><th>check</th><th>status</th>'
            "<th>finding</th></tr>"
        )
        out.extend(rows)
        out.append("</table>")
    else:
        out.append("<p>None: every check passed.</p>")
    out.append("<h2>Checks</h2>")
    for v in report.verdicts:
        out.append(
            f"<details><summary>{_badge(v.status)} <b>{escape(v.check)}</b>: "
            f"{escape(v.description)}</summary><table>"
        )
        for h in v.hosts:
            lines = "<br>".join(
                f"{escape(f.status.value)}: {escape(f.message)}" for f in h.findings
            )
            out.append(
                f"<tr><td>{escape(h.host)}</td><td>{_badge(h.status)}</td><td>{lines}</td></tr>"
            )
        out.append("</table></details>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
