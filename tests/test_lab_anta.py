"""ANTA 1.10, unmodified, against the seeded lab: its reachability check, the exported catalog
(passes, then fails the right tests under faults) and every test family the lab answers.

``anta nrfu`` runs as a subprocess, as a user runs it, over HTTPS with certificate and host
name verification against the lab CA (``SSL_CERT_FILE``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ANTA = Path(sys.executable).parent / "anta"
SW = "eos-tor-001"
FAMILIES = ROOT / "tests" / "data" / "anta" / "seed_families.yaml"


@dataclasses.dataclass
class AntaEnv:
    lab: Any
    tmp: Path
    inventory: Path
    env: dict[str, str]
    endpoint: dict[str, Any]


@pytest.fixture(scope="module")
def anta(seeded_lab: Any, tmp_path_factory: pytest.TempPathFactory) -> AntaEnv:
    tmp = tmp_path_factory.mktemp("anta")
    ep = seeded_lab.endpoints["hosts"][SW]
    inventory = tmp / "inventory.yml"
    host = {
        "host": ep["hostname"],
        "port": ep["port"],
        "name": SW,
        "ssl_params": {"verify": True, "check_hostname": True},
    }
    inventory.write_text(yaml.safe_dump({"anta_inventory": {"hosts": [host]}}))
    env = {
        **os.environ,
        "SSL_CERT_FILE": seeded_lab.endpoints["ca_file"],
        "ANTA_USERNAME": ep["username"],
        "ANTA_PASSWORD": ep["password"],
    }
    return AntaEnv(seeded_lab, tmp, inventory, env, ep)


def nrfu(a: AntaEnv, catalog: Path) -> list[dict[str, Any]]:
    """``anta nrfu ... json``: every test result."""
    out = a.tmp / f"{catalog.stem}.results.json"
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        [str(ANTA), "nrfu", "-i", str(a.inventory), "-c", str(catalog), "json", "-o", str(out)],
        env=a.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(out.read_text())
    return results


def export_catalog(a: AntaEnv) -> Path:
    """``python -m fabric export anta-catalog --blocks-from-cluster --lab`` into a file."""
    out = a.tmp / "catalog.yml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fabric",
            "export",
            "anta-catalog",
            "--blocks-from-cluster",
            "--lab",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_head_command_api_is_the_reachability_check(anta: AntaEnv) -> None:
    """asynceapi's ``check_api_endpoint`` (HEAD /command-api): 2xx, and 401 without auth."""
    import ssl

    from asynceapi import Device

    ep = anta.endpoint
    ctx = ssl.create_default_context(cafile=anta.lab.endpoints["ca_file"])

    async def check(password: str) -> bool:
        dev = Device(
            host=ep["hostname"],
            username=ep["username"],
            password=password,
            proto="https",
            port=ep["port"],
            verify=ctx,
        )
        try:
            return bool(await dev.check_api_endpoint())
        finally:
            await dev.aclose()

    assert asyncio.run(check(ep["password"])) is True
    with pytest.raises(httpx.HTTPStatusError) as err:
        asyncio.run(check("wrong"))
    assert err.value.response.status_code == 401
    url = f"https://{ep['hostname']}:{ep['port']}/command-api"
    with httpx.Client(verify=ctx) as client:
        got = client.get(url, auth=(ep["username"], ep["password"]))
        assert got.status_code == 200
        assert client.head(url).status_code == 401


def test_exported_catalog_passes_on_the_seed_lab(anta: AntaEnv) -> None:
    catalog = export_catalog(anta)
    data = yaml.safe_load(catalog.read_text())
    routes = data["anta.tests.routing.generic"][0]["VerifyIPv4RoutePresencePerVRF"]
    prefixes = {e["prefix"]: e["description"] for e in routes["route_entries"]}
    assert prefixes == {
        "192.168.170.0/24": "pod block kube-controlplane-001",
        "192.168.181.0/24": "pod block kube-worker-001",
        "192.16.0.0/12": "service cluster CIDR",
    }
    results = nrfu(anta, catalog)
    verdicts = {r["test"]: (r["result"], r["messages"]) for r in results}
    assert verdicts == {
        "VerifyBGPPeerCount": ("success", []),
        "VerifyBGPSpecificPeers": ("success", []),
        "VerifyIPv4RoutePresencePerVRF": ("success", []),
    }
    assert {r["name"] for r in results} == {SW}


#: (fault host, kind, params) -> per test: verdict and a text every message must hold.
FAULT_CASES = [
    pytest.param(
        (SW, "link-down", {}),
        {
            "VerifyBGPPeerCount": ("failure", "Expected: 2 Actual: 0"),
            "VerifyBGPSpecificPeers": ("failure", "Expected: Established Actual: Connect"),
            "VerifyIPv4RoutePresencePerVRF": ("failure", "Route not found"),
        },
        id="link-down",
    ),
    pytest.param(
        ("kube-worker-001", "withhold-route", {"prefix": "192.168.181.0/24"}),
        {
            "VerifyBGPPeerCount": ("success", ""),
            "VerifyBGPSpecificPeers": ("success", ""),
            "VerifyIPv4RoutePresencePerVRF": ("failure", "192.168.181.0/24"),
        },
        id="withhold-route",
    ),
]


@pytest.mark.parametrize(("fault", "expected"), FAULT_CASES)
def test_exported_catalog_fails_the_right_tests_under_faults(
    anta: AntaEnv,
    fault: tuple[str, str, dict[str, Any]],
    expected: dict[str, tuple[str, str]],
) -> None:
    catalog = export_catalog(anta)
    host, kind, params = fault
    anta.lab.fault(host, kind, **params)
    try:
        results = nrfu(anta, catalog)
    finally:
        anta.lab.clear_faults()
    got = {r["test"]: r for r in results}
    assert set(got) == set(expected)
    for test, (verdict, text) in expected.items():
        assert got[test]["result"] == verdict, (test, got[test]["messages"])
        assert all(text in m for m in got[test]["messages"]), (test, got[test]["messages"])
        if verdict == "failure":
            assert got[test]["messages"]


def test_every_anta_family_answers_as_the_lab_state_implies(anta: AntaEnv) -> None:
    """One test per ANTA test of the families; none may end in ``error`` (a missing command
    or a shape ANTA cannot read): each verdict is the one the seed lab's state implies."""
    cases = yaml.safe_load(FAMILIES.read_text())
    catalog: dict[str, list[dict[str, Any]]] = {}
    for i, case in enumerate(cases):
        inputs = {**case["inputs"], "result_overwrite": {"custom_field": str(i)}}
        catalog.setdefault(case["module"], []).append({case["test"]: inputs})
    path = anta.tmp / "families.yml"
    path.write_text(yaml.safe_dump(catalog))
    results = nrfu(anta, path)
    assert len(results) == len(cases)
    wrong = []
    for r in results:
        case = cases[int(r["custom_field"])]
        if r["result"] != case["expect"]:
            wrong.append((case["test"], r["result"], case["expect"], r["messages"]))
    assert not wrong
    assert not [r for r in results if r["result"] == "error"]
