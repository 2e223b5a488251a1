"""The lab's BGP rules, one table row each: split horizon and reflection, AS-path loops, ECMP,
BGPFilter actions (``fabric.lab.propagation``, pure), and the rolling deploy's batches."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

import pytest

from fabric.errors import UsageError
from fabric.intent import load_intent
from fabric.lab.propagation import Path as BgpPath
from fabric.lab.propagation import Session, Speaker, multipath, propagate
from fabric.paths import ProjectPaths
from fabric.workflows.batches import plan_batches

NET = ipaddress.IPv4Network
BLOCK = NET("10.244.0.0/26")
REPO = Path(__file__).resolve().parent.parent


def speaker(name: str, asn: int, addr: str, **kw: object) -> Speaker:
    return Speaker(id=name, asn=asn, router_id=addr, observed=True, **kw)  # type: ignore[arg-type]


def link(a: Speaker, b: Speaker, a_addr: str, b_addr: str, **kw: object) -> None:
    """An Established session; ``kw`` keys prefixed ``a_``/``b_`` set one side only."""
    ebgp = a.asn != b.asn
    side = {k[2:]: v for k, v in kw.items() if k.startswith("a_")}
    a.sessions[b.id] = Session(b.id, a_addr, b_addr, ebgp, **side)  # type: ignore[arg-type]
    side = {k[2:]: v for k, v in kw.items() if k.startswith("b_")}
    b.sessions[a.id] = Session(a.id, b_addr, a_addr, ebgp, **side)  # type: ignore[arg-type]


def ibgp_triangle(reflect: bool) -> dict[str, Speaker]:
    """Node A and node B peer with switch S, all in AS 65000; A originates BLOCK."""
    s = speaker("S", 65000, "10.0.0.1", cluster_id="10.0.0.1" if reflect else None)
    a = speaker("A", 65000, "10.0.0.11", origin=[BLOCK])
    b = speaker("B", 65000, "10.0.0.12")
    link(s, a, "10.0.0.1", "10.0.0.11", a_peer_is_client=reflect)
    link(s, b, "10.0.0.1", "10.0.0.12", a_peer_is_client=reflect)
    return {x.id: x for x in (s, a, b)}


def ebgp_pair(allowas: int) -> dict[str, Speaker]:
    """Switches S1 and S2 share AS 65101; node N (AS 64512) peers with both; S1 originates."""
    s1 = speaker("S1", 65101, "10.0.0.1", origin=[BLOCK])
    s2 = speaker("S2", 65101, "10.0.0.2")
    n = speaker("N", 64512, "10.0.0.11")
    link(s1, n, "10.0.0.1", "10.0.0.11")
    link(s2, n, "10.0.0.2", "10.0.0.11", a_allowas=allowas)
    return {x.id: x for x in (s1, s2, n)}


def filtered(export: bool) -> dict[str, Speaker]:
    """Node N exports BLOCK and 10.244.0.64/26 to S; a BGPFilter rejects BLOCK."""
    other = NET("10.244.0.64/26")
    s = speaker("S", 65101, "10.0.0.1")
    n = speaker("N", 64512, "10.0.0.11", origin=[BLOCK, other])
    reject: Callable[[NET], bool] = lambda net: net != BLOCK  # noqa: E731
    link(
        s, n, "10.0.0.1", "10.0.0.11", **({"b_export": reject} if export else {"a_import_": reject})
    )
    return {x.id: x for x in (s, n)}


def received(out: object, at: str, frm: str) -> set[str]:
    rib = out.rib_in[at]  # type: ignore[attr-defined]
    return {str(n) for n, paths in rib.items() if frm in paths}


CASES: list[tuple[str, Callable[[], dict[str, Speaker]], str, str, set[str], int]] = [
    # id, speakers, receiver, sender, what the receiver holds from the sender, AS-loop drops
    ("ibgp-not-readvertised", lambda: ibgp_triangle(False), "B", "S", set(), 0),
    ("route-reflector-reflects", lambda: ibgp_triangle(True), "B", "S", {str(BLOCK)}, 0),
    ("as-path-loop-drops", lambda: ebgp_pair(0), "S2", "N", set(), 1),
    ("allowas-in-accepts", lambda: ebgp_pair(1), "S2", "N", {str(BLOCK)}, 0),
    ("bgpfilter-export-reject", lambda: filtered(True), "S", "N", {"10.244.0.64/26"}, 0),
    ("bgpfilter-import-reject", lambda: filtered(False), "S", "N", {"10.244.0.64/26"}, 0),
]


@pytest.mark.parametrize(
    ("name", "build", "at", "frm", "want", "drops"), CASES, ids=[c[0] for c in CASES]
)
def test_rule(
    name: str,
    build: Callable[[], dict[str, Speaker]],
    at: str,
    frm: str,
    want: set[str],
    drops: int,
) -> None:
    out = propagate(build())
    assert received(out, at, frm) == want
    assert out.loop_drops.get((at, frm), 0) == drops


def test_reflected_path_keeps_next_hop_and_carries_the_cluster() -> None:
    out = propagate(ibgp_triangle(True))
    path = out.rib_in["B"][BLOCK]["S"]
    assert (path.next_hop, path.as_path, path.cluster_list) == ("10.0.0.11", (), ("10.0.0.1",))
    assert path.originator == "10.0.0.11"


def test_relayed_path_is_prepended_and_next_hop_self() -> None:
    out = propagate(ebgp_pair(1))
    path = out.rib_in["S2"][BLOCK]["N"]
    assert (path.as_path, path.next_hop) == ((64512, 65101), "10.0.0.11")


@pytest.mark.parametrize(("width", "hops"), [(1, 1), (2, 2), (4, 3)])
def test_ecmp_only_up_to_maximum_paths(width: int, hops: int) -> None:
    paths = [BgpPath((64512,), f"10.0.0.{i}", f"N{i}", f"10.0.0.{i}", True) for i in (13, 11, 12)]
    chosen = multipath(paths, width)
    assert [p.next_hop for p in chosen] == ["10.0.0.11", "10.0.0.12", "10.0.0.13"][:hops]


def test_ecmp_needs_equal_as_paths() -> None:
    short = BgpPath((64512,), "10.0.0.11", "A", "10.0.0.11", True)
    long = BgpPath((64513, 65101, 64512), "10.0.0.12", "B", "10.0.0.12", True)
    assert multipath([long, short], 4) == [short]


# --------------------------------------------------------------------------- batches


def _intent(design: str):  # type: ignore[no-untyped-def]
    inv = REPO / "examples" / "designs" / design / "inventory"
    return load_intent(ProjectPaths.discover(inventory=inv)).intent


@pytest.mark.parametrize(
    ("size", "batches"),
    [
        (1, [["tor-r1-a"], ["tor-r1-b"], ["tor-r2-a"], ["tor-r2-b"]]),
        (2, [["tor-r1-a", "tor-r2-a"], ["tor-r1-b", "tor-r2-b"]]),
        (3, [["tor-r1-a", "tor-r2-a"], ["tor-r1-b", "tor-r2-b"]]),
        (10, [["tor-r1-a", "tor-r2-a"], ["tor-r1-b", "tor-r2-b"]]),
    ],
)
def test_the_two_tors_of_a_pair_never_share_a_batch(size: int, batches: list[list[str]]) -> None:
    intent = _intent("as-per-rack")
    names = [s.name for s in intent.switches]
    assert plan_batches(intent, names, size) == batches


def test_a_batch_size_below_one_is_refused() -> None:
    intent = _intent("as-per-rack")
    with pytest.raises(UsageError, match="at least 1"):
        plan_batches(intent, [s.name for s in intent.switches], 0)


def test_the_cli_refuses_a_batch_size_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    from fabric.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "deploy", "--batch-size", "0"])
    assert exc.value.code == 2
    assert "--batch-size" in capsys.readouterr().err
