"""A table of broken fabric designs, each one mutation of an example in ``examples/designs/``.

Every case asserts the exact finding (file, host, field, code, severity) from the library, the
same in the CLI's ``validate`` output with its exit code (2 on an error; 0 on a warning, 2 with
``--strict``), and at most the findings that directly follow from the same cause.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.cli import main
from fabric.designs import DESIGN_ERRORS, DESIGN_WARNINGS
from fabric.intent import ERROR_CODES, WARNING_CODES, check_inventory
from fabric.paths import ProjectPaths

REPO = Path(__file__).resolve().parent.parent
DESIGNS = REPO / "examples" / "designs"
H = "inventory/hosts.yaml"
CL = "k8s-cluster"

Inv = dict[str, Any]


def _load(design: str) -> Inv:
    d = DESIGNS / design / "inventory"
    return {n: yaml.safe_load((d / f"{n}.yaml").read_text()) for n in ("hosts", "groups")}


BASE = {d: _load(d) for d in ("as-per-rack", "as-per-compute-server", "route-reflectors")}


def node(inv: Inv, name: str) -> dict[str, Any]:
    return inv["hosts"][name]["data"]["node"]  # type: ignore[no-any-return]


def sw(inv: Inv, name: str) -> dict[str, Any]:
    return inv["hosts"][name]["data"]["switch"]  # type: ignore[no-any-return]


def cal(inv: Inv) -> dict[str, Any]:
    return inv["hosts"][CL]["data"]["calico"]  # type: ignore[no-any-return]


def _shared_tor_as(inv: Inv) -> None:
    for t in ("tor-r2-a", "tor-r2-b"):
        sw(inv, t)["asn"] = 65101
    for p in cal(inv)["peers"]:
        p["as_number"] = 65101


def _one_node_as(inv: Inv) -> None:
    for name, host in inv["hosts"].items():
        if name.startswith("node-"):
            host["data"]["node"].pop("as_number")
    cal(inv).pop("filters")
    for p in cal(inv)["peers"]:
        p.pop("filters")


Mutation = Callable[[Inv], object]
# (id, design, mutation, (file, host, field, code), codes that may follow from the same cause)
CASES: list[tuple[str, str, Mutation, tuple[str, str, str, str], set[str]]] = [
    (
        "one-tor-of-a-pair",
        "as-per-rack",
        lambda inv: node(inv, "node-r1-2").update(tors=["tor-r1-a"]),
        (H, "node-r1-2", "data.node.tors", "partial-pair"),
        {"peer-wrong-switch"},  # the rack's peer towards tor-r1-b still applies to it
    ),
    (
        "tor-of-another-rack",
        "as-per-rack",
        lambda inv: node(inv, "node-r1-1")["labels"].update(rack="r2"),
        (H, "node-r1-1", "data.node.tors.0", "rack-mismatch"),
        # its rack's peers and AS are r2's: no peer reaches its ToRs, no route exchange
        {"rack-mismatch", "peer-wrong-switch", "no-peer", "mesh-off-no-replacement"},
    ),
    (
        "pair-in-two-subnets",
        "as-per-rack",
        lambda inv: sw(inv, "tor-r1-b").update(svi="10.1.9.3/24"),
        (H, "tor-r1-b", "data.switch.svi", "pair-subnet"),
        {"ip-outside-subnet", "peer-ip-not-svi"},
    ),
    (
        "virtual-router-on-one-tor",
        "as-per-rack",
        lambda inv: sw(inv, "tor-r1-a").update(virtual_router={"address": "10.1.1.1"}),
        (H, "tor-r1-b", "data.switch.virtual_router", "virtual-router-mismatch"),
        set(),
    ),
    (
        "virtual-router-outside-subnet",
        "as-per-rack",
        lambda inv: [
            sw(inv, t).update(virtual_router={"address": "10.9.9.1"})
            for t in ("tor-r1-a", "tor-r1-b")
        ],
        (H, "tor-r1-a", "data.switch.virtual_router.address", "virtual-router-mismatch"),
        {"virtual-router-mismatch"},
    ),
    (
        "ecmp-below-maximum-paths",
        "as-per-rack",
        lambda inv: sw(inv, "tor-r1-a").update(ecmp=2),
        (H, "tor-r1-a", "data.switch.ecmp", "invalid-value"),
        set(),
    ),
    (
        "tor-and-tors",
        "as-per-rack",
        lambda inv: node(inv, "node-r1-1").update(tor="tor-r1-a"),
        (H, "node-r1-1", "data.node.tors", "conflicting-fields"),
        set(),
    ),
    (
        "rack-as-of-no-rack",
        "as-per-rack",
        lambda inv: cal(inv)["rack_as_numbers"].update(r9=65109),
        (H, CL, "data.calico.rack_as_numbers.r9", "unknown-rack"),
        set(),
    ),
    (
        "mesh-on-with-route-reflectors",
        "route-reflectors",
        lambda inv: cal(inv).update(node_to_node_mesh=True),
        (H, CL, "data.calico.node_to_node_mesh", "mesh-conflict"),
        set(),
    ),
    (
        "mesh-on-with-as-per-compute-server",
        "as-per-compute-server",
        lambda inv: cal(inv).update(node_to_node_mesh=True),
        (H, CL, "data.calico.node_to_node_mesh", "mesh-conflict"),
        set(),
    ),
    (
        "route-reflector-without-cluster-id",
        "route-reflectors",
        lambda inv: node(inv, "node-r1-1").pop("route_reflector_cluster_id"),
        (H, "node-r1-1", "data.node.route_reflector_cluster_id", "rr-no-cluster-id"),
        set(),
    ),
    (
        "peer-selector-and-peer-ip",
        "route-reflectors",
        lambda inv: cal(inv)["peers"][0].update(peer_ip="10.1.1.2"),
        (H, CL, "data.calico.peers.0.peer_ip", "conflicting-fields"),
        set(),
    ),
    (
        "route-reflector-client-cabled-nowhere",
        "route-reflectors",
        lambda inv: node(inv, "node-r1-2").update(labels={}),
        (H, "node-r1-2", "data.node.tors", "missing-tor"),
        set(),
    ),
    (
        "bgpfilter-on-calico-3.25",
        "as-per-compute-server",
        lambda inv: cal(inv).update(version="3.25"),
        (H, CL, "data.calico.filters", "calico-field-unsupported"),
        {"calico-field-unsupported"},  # and each peer's filters
    ),
    (
        "peer-names-an-unknown-filter",
        "as-per-compute-server",
        lambda inv: cal(inv)["peers"][0].update(filters=["no-such-filter"]),
        (H, CL, "data.calico.peers.0.filters.0", "unknown-filter"),
        set(),
    ),
    (
        "two-filters-one-name",
        "as-per-compute-server",
        lambda inv: cal(inv)["filters"].append(copy.deepcopy(cal(inv)["filters"][0])),
        (H, CL, "data.calico.filters.1.name", "duplicate-filter"),
        set(),
    ),
    # --- warnings: the design works, but not as one would expect
    (
        "same-node-as-in-two-racks-under-ebgp",
        "as-per-compute-server",
        _one_node_as,
        (H, CL, "data.calico.as_number", "as-path-loop"),
        set(),
    ),
    (
        "same-tor-as-in-two-racks",
        "as-per-compute-server",
        _shared_tor_as,
        (H, "tor-r2-a", "data.switch.asn", "as-path-loop"),
        set(),
    ),
    (
        "maximum-paths-below-the-pair",
        "as-per-rack",
        lambda inv: sw(inv, "tor-r1-a").update(maximum_paths=1, ecmp=1),
        (H, "tor-r1-a", "data.switch.maximum_paths", "maximum-paths-low"),
        {"no-maximum-paths"},
    ),
    (
        "route-reflector-client-over-ebgp",
        "as-per-compute-server",
        lambda inv: sw(inv, "tor-r1-a").update(route_reflector=True),
        (H, "tor-r1-a", "data.switch.route_reflector", "route-reflector-ebgp"),
        set(),
    ),
]


def test_every_design_code_has_a_case() -> None:
    codes = {c[3][3] for c in CASES}
    assert (DESIGN_ERRORS | DESIGN_WARNINGS) - {"pair-subnet"} <= codes | {"pair-subnet"}
    assert codes | {"calico-field-unsupported"} >= DESIGN_ERRORS
    assert codes >= DESIGN_WARNINGS
    assert len({c[0] for c in CASES}) == len(CASES)


def write_project(root: Path, inv: Inv) -> None:
    d = root / "inventory"
    d.mkdir(parents=True)
    (d / "hosts.yaml").write_text(yaml.safe_dump(inv["hosts"], sort_keys=False))
    (d / "groups.yaml").write_text(yaml.safe_dump(inv["groups"], sort_keys=False))
    (d / "defaults.yaml").write_text("data: {}\n")
    for shared in ("tasks", "templates"):
        (root / shared).symlink_to(REPO / shared)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out + out.err


@pytest.mark.parametrize("design", sorted(BASE))
def test_the_example_is_clean(design: str) -> None:
    report = check_inventory(ProjectPaths.discover(inventory=DESIGNS / design / "inventory"))
    assert report.intent is not None
    assert report.issues == []


@pytest.mark.parametrize(
    ("case", "design", "mutation", "expected", "also"), CASES, ids=[c[0] for c in CASES]
)
def test_broken_design(
    case: str,
    design: str,
    mutation: Mutation,
    expected: tuple[str, str, str, str],
    also: set[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inv = copy.deepcopy(BASE[design])
    mutation(inv)
    write_project(tmp_path, inv)
    monkeypatch.setenv("FABRIC_ROOT", str(tmp_path))
    file, host, fld, code = expected
    report = check_inventory(ProjectPaths.discover())
    found = {(i.file, i.host, i.field, i.code) for i in report.issues}
    assert expected in found, sorted(found)
    assert {i.code for i in report.issues} <= {code} | also, sorted(found)
    error = code in ERROR_CODES
    assert code in (ERROR_CODES if error else WARNING_CODES)
    severity = next(i.severity for i in report.issues if i.code == code and i.field == fld)
    assert severity == ("error" if error else "warning")
    assert (report.intent is None) == bool(report.errors)

    rc, out = run_cli(["validate"], capsys)
    assert rc == (2 if error else 0)
    assert f"{file}: host {host}: field {fld}:" in out and f"[{code}]" in out
    if not error:
        rc, _ = run_cli(["validate", "--strict"], capsys)
        assert rc == 2
