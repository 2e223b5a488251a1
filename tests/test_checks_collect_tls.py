"""Switch collection over eAPI: TLS is verified, one request (and one TLS handshake) per run.

Against the seeded lab: the lab's CA (from the lab overlay) verifies; another CA is a TLS
error that leaves the switch unjudged (exit 5), never a pass; ``insecure`` connects anyway.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fabric.errors import ExitCode
from fabric.paths import ProjectPaths
from fabric.workflows.compliance import ComplianceOptions, run_compliance

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
SW = "eos-tor-001"


@pytest.fixture(scope="module")
def paths() -> ProjectPaths:
    return ProjectPaths.discover(root=ROOT)


def _switch_problem(rep: Any) -> str | None:
    return next((p.message for p in rep.problems if p.host == SW), None)


def test_lab_ca_verifies_with_one_request_and_one_handshake(
    seeded_lab: Any, paths: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyeapi.eapilib
    import urllib3.connection

    # Requests are counted at pyeapi's public `execute` (one per runCmds), TLS handshakes at
    # urllib3's connect (the pooled transport's connection).
    sends: Counter[str] = Counter()
    handshakes: Counter[str] = Counter()
    lock = threading.Lock()
    orig_execute = pyeapi.eapilib.EapiConnection.execute
    orig_connect = urllib3.connection.HTTPSConnection.connect

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            sends[str(self.host)] += 1
        return orig_execute(self, *args, **kwargs)

    def connect(self: urllib3.connection.HTTPSConnection) -> None:
        with lock:
            handshakes[str(self.host)] += 1
        orig_connect(self)

    monkeypatch.setattr(pyeapi.eapilib.EapiConnection, "execute", execute)
    monkeypatch.setattr(urllib3.connection.HTTPSConnection, "connect", connect)
    rep = run_compliance(paths, ComplianceOptions(lab=True))
    assert _switch_problem(rep) is None, rep.problems
    addr = seeded_lab.endpoints["hosts"][SW]["hostname"]
    # `show version` at NAPALM's open, then the three commands in one request
    assert sends[addr] == 2
    assert handshakes[addr] == 1


def test_another_ca_is_a_tls_error_and_insecure_connects(
    seeded_lab: Any, paths: ProjectPaths, tmp_path: Path
) -> None:
    from fabric.lab.pki import ensure_ca

    other, _key = ensure_ca(tmp_path / "other-ca")
    rep = run_compliance(paths, ComplianceOptions(lab=True, ca_file=str(other)))
    msg = _switch_problem(rep)
    assert msg is not None and "CERTIFICATE_VERIFY_FAILED" in msg, rep.problems
    assert rep.exit_code == ExitCode.UNREACHABLE
    insecure = run_compliance(paths, ComplianceOptions(lab=True, ca_file=str(other), insecure=True))
    assert _switch_problem(insecure) is None, insecure.problems
