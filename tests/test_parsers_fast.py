"""The fast path of parse(): streamed rows, paused GC, shared next-hop texts.

Every case of tests/data/parsers must give what the plain path gives: rows matched line by
line first (split_lines + match_lines), assembled from the list, and the state validated again
from its plain JSON by the model (pydantic's full validation) must equal it, nested types
included.
"""

from __future__ import annotations

import gc
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fabric.errors import ParseError
from fabric.models.parsed import NextHop, Route, RouteTable
from fabric.parsing import find_parser, parse
from fabric.parsing.engine import iter_rows, load_template, match_lines, paused_gc, split_lines

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "parsers"
PARSERS_DIR = ROOT / "parsers"
CASES = sorted(DATA.glob("*/*/*.txt"))


def _id(txt: Path) -> str:
    return f"{txt.parent.name}/{txt.stem}"


def _command(txt: Path) -> tuple[str, str]:
    return txt.parent.parent.name, txt.parent.name.replace("_", " ")


@pytest.fixture(autouse=True)
def _gc_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    assert gc.isenabled() == enabled


@pytest.mark.parametrize("txt", CASES, ids=_id)
def test_streamed_rows_equal_rows_matched_first(txt: Path) -> None:
    platform, command = _command(txt)
    parser = find_parser(platform, command)
    template = load_template(PARSERS_DIR / parser.template)
    text = txt.read_text(encoding="utf-8")
    try:
        plain: object = match_lines(template, parser.name, split_lines(text))
    except ParseError as exc:
        plain = ("error", exc.line)
    try:
        fast: object = list(iter_rows(template, parser.name, text))
    except ParseError as exc:
        fast = ("error", exc.line)
    assert fast == plain


@pytest.mark.parametrize("txt", CASES, ids=_id)
def test_fast_path_equals_plain_path_and_full_validation(txt: Path) -> None:
    platform, command = _command(txt)
    parser = find_parser(platform, command)
    template = load_template(PARSERS_DIR / parser.template)
    text = txt.read_text(encoding="utf-8")
    try:
        fast = parse(platform, command, text, parsers=PARSERS_DIR)
    except ParseError as exc:
        # the plain path (every line matched before the assembler runs) fails on the same line
        with pytest.raises(ParseError) as plain_error:
            rows = match_lines(template, parser.name, split_lines(text))
            parser.assemble(parser.name, rows)
        assert plain_error.value.line == exc.line
        return
    plain = parser.assemble(parser.name, match_lines(template, parser.name, split_lines(text)))
    assert fast.model_dump(mode="json") == plain.model_dump(mode="json")
    validated = type(fast).model_validate(json.loads(fast.model_dump_json()))
    assert validated == fast  # same values and the same model class at every level
    assert validated.model_dump(mode="json") == fast.model_dump(mode="json")


def _routes(n: int) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """A table of ``n`` routes in both layouts with ECMP, and what each route must read as."""
    lines = ["Codes: C - connected, B I - iBGP, B E - eBGP", "Gateway of last resort is not set"]
    want: list[tuple[str, str, list[str]]] = []
    for i in range(n):
        prefix = f"10.{(i >> 8) & 255}.{i & 255}.0/24"
        if i % 3 == 0:
            lines.append(f" C        {prefix} is directly connected, Ethernet{i % 4 + 1}")
            want.append((prefix, "C", [f"directly connected, Ethernet{i % 4 + 1}"]))
        elif i % 3 == 1:
            hops = [f"via 172.16.{i % 5}.1, Ethernet{i % 4 + 1}"]
            lines.append(f" B E      {prefix} [200/0] {hops[0]}")
            if i % 2:
                hops.append("via 172.16.9.9, Ethernet9")
                lines.append(f"                          {hops[1]}")
            want.append((prefix, "B E", hops))
        else:
            hops = [f"via 172.17.{k}.1, Ethernet{k}" for k in range(1, 2 + i % 4)]
            lines.append(f" B I      {prefix} [200/0]")
            lines.extend(f"                           {hop}" for hop in hops)
            want.append((prefix, "B I", hops))
    return "\n".join(lines) + "\n", want


def _routes6(n: int) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """An IPv6 table of ``n`` routes: link-local next hops, ECMP, connected routes."""
    lines = ["VRF: default", "Displaying 1 of 2 IPv6 routing table entries", "Codes: C - connected"]
    want: list[tuple[str, str, list[str]]] = []
    for i in range(n):
        prefix = f"fd00:{i >> 8:x}:{i & 255:x}::/64"
        if i % 3 == 0:
            hop = f"via Vlan{i % 9 + 2}, directly connected"
            lines += [f" C        {prefix} [0/0]", f"           {hop}"]
            want.append((prefix, "C", [hop]))
        else:
            hops = [f"via fe80::{k}:{i % 7:x}, Ethernet{k}" for k in range(1, 2 + i % 4)]
            lines.append(f" B E      {prefix} [20/0]")
            lines.extend(f"           {hop}" for hop in hops)
            want.append((prefix, "B E", hops))
    return "\n".join(lines) + "\n", want


def test_generated_ipv6_table_reads_route_by_route() -> None:
    text, want = _routes6(3_000)
    state = parse("arista_eos", "show ipv6 route", text, parsers=PARSERS_DIR)
    assert isinstance(state, RouteTable)
    routes = state.vrfs["default"].routes
    assert [(r.prefix, r.code, [h.raw for h in r.next_hops]) for r in routes] == want
    for route in routes:
        assert route.directly_connected == (route.code == "C")
        assert route.distance == (0 if route.code == "C" else 20)
        for hop in route.next_hops:
            assert hop.interface is not None and hop.resolved_via == ()
            assert (hop.address is None) == route.directly_connected
            assert hop.address is None or hop.address.startswith("fe80::")


def test_generated_table_reads_route_by_route() -> None:
    text, want = _routes(3_000)
    state = parse("arista_eos", "show ip route", text, parsers=PARSERS_DIR)
    assert isinstance(state, RouteTable)
    routes = state.vrfs["default"].routes
    got = [(r.prefix, r.code, [h.raw for h in r.next_hops]) for r in routes]
    assert got == want
    for route in routes:
        assert isinstance(route, Route)
        assert route.directly_connected == (route.code == "C")
        assert (route.distance is None) == route.directly_connected
        for hop in route.next_hops:
            assert isinstance(hop, NextHop)
            assert hop.interface is not None and hop.raw.endswith(hop.interface)
            assert (hop.address is None) == route.directly_connected


def test_a_repeated_next_hop_is_its_own_model_on_every_route() -> None:
    text = (
        "B E 10.0.0.0/24 [200/0] via 172.16.0.1, Ethernet1\n"
        "B E 10.0.1.0/24 [200/0]\n"
        "via 172.16.0.1, Ethernet1\n"
    )
    state = parse("arista_eos", "show ip route", text, parsers=PARSERS_DIR)
    assert isinstance(state, RouteTable)
    first, second = (r.next_hops[0] for r in state.vrfs["default"].routes)
    assert first == second and first is not second
    first.interface = "Ethernet2"  # bulk models are not frozen: a change stays on its route
    assert second.interface == "Ethernet1"


@pytest.mark.parametrize("engine", ["lines", "ttp"])
def test_an_unaccounted_line_wins_over_an_earlier_assembler_error(engine: str) -> None:
    text = (
        "via 172.16.0.1, Ethernet1\n"  # line 1: a next hop without a route (assembler)
        "B E 10.0.0.0/24 [200/0] via 172.16.0.1, Ethernet1\n"
        "12345 garbage\n"  # line 3: no form matches it
    )
    with pytest.raises(ParseError) as info:
        parse("arista_eos", "show ip route", text, parsers=PARSERS_DIR, engine=engine)  # type: ignore[arg-type]
    assert info.value.line == "12345 garbage"
    with pytest.raises(ParseError) as info:
        parse("arista_eos", "show ip route", text.rsplit("12345", 1)[0], parsers=PARSERS_DIR)
    assert info.value.line == "via 172.16.0.1, Ethernet1"
    assert "line 1: a next hop without a route" in str(info.value)


def test_gc_is_paused_only_during_a_parse() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still runs
    assert gc.isenabled()
    with pytest.raises(ParseError):
        parse("arista_eos", "show ip route", "not a route\n", parsers=PARSERS_DIR)
    assert gc.isenabled()
    gc.disable()
    try:
        parse("arista_eos", "show ip route", "C 10.0.0.0/8 is directly connected, Et1\n")
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_parallel_parses_leave_gc_enabled() -> None:
    text, want = _routes(300)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        try:
            start.wait()
            for _ in range(5):
                state = parse("arista_eos", "show ip route", text, parsers=PARSERS_DIR)
                assert isinstance(state, RouteTable)
                assert len(state.vrfs["default"].routes) == len(want)
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert gc.isenabled()


@pytest.mark.parametrize("template_name", ["show_ip_route.ttp", "show_ipv6_route.ttp"])
def test_route_forms_tried_first_overlap_no_earlier_form(template_name: str) -> None:
    """The route templates list next hops and routes first (the frequent lines): no line of
    the samples matched by one of them is matched by a form they were moved ahead of."""
    template = load_template(PARSERS_DIR / "arista_eos" / template_name)
    forms = [
        (form.kind, re.compile(form.regex.pattern.removeprefix("\\n").split("[\\t ]*(?=")[0]))
        for form in template.forms
    ]
    moved = {"hop", "backup", "route", "route_hop", "route_connected"}
    passed = {
        "vrf",
        "displaying",
        "codes",
        "warning",
        "notice",
        "gateway_set",
        "gateway_unset",
        "prompt",
        "prompt_end",
    }
    assert [kind for kind, _ in forms[:6]] == [
        "hop",
        "hop",
        "backup",
        "route_connected",
        "route_hop",
        "route",
    ]
    texts = [p.read_text(encoding="utf-8") for p in (DATA / "arista_eos").glob("*/*.txt")]
    generated = (_routes if template_name == "show_ip_route.ttp" else _routes6)(300)[0]
    lines = {line.strip() for text in [*texts, generated] for line in text.splitlines()}
    seen = 0
    for line in filter(None, lines):
        kinds = {kind for kind, regex in forms if regex.fullmatch(line)}
        if kinds & moved:
            seen += 1
            assert not kinds & passed, line
    assert seen > 300
