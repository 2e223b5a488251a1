"""``python -m fabric demo``: the seed write-up, replayed end to end on the built-in lab.

Every step is the real command line a user would type (each printed before it runs, then run as
its own process), so the demo proves the commands rather than a private code path:

1. ``lab up --detach --fresh``: an empty switch and a cluster holding the seed's pods;
2. ``validate``: the intent, with the seed's warnings (reserved AS, public service range ...);
3. ``run deploy --lab``: the dry-run diff of both sides;
4. ``run deploy --lab --commit``: commit-confirm on the switch, Calico objects applied, health gate;
5. ``run compliance --lab``: fails, as the write-up found, on the coredns pods outside every
   node's block (routed as /32s);
6. the write-up's fix: delete those pods (their ReplicaSet recreates them inside the blocks);
7. ``run compliance --lab``: passes, reports written to ``build/report/``.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import click

from fabric.errors import ExitCode, RunFailedError
from fabric.paths import ProjectPaths


def _step(title: str) -> None:
    click.secho(f"\n== {title}", bold=True)


def _fabric(*args: str, expect: tuple[int, ...] = (0,)) -> int:
    """Run ``python -m fabric ARGS`` as its own process; fail unless its exit code is expected."""
    click.secho("$ python -m fabric " + " ".join(args), fg="cyan")
    rc = subprocess.call([sys.executable, "-m", "fabric", *args])
    if rc not in expect:
        raise RunFailedError(f"demo step `python -m fabric {' '.join(args)}` exited {rc}")
    return rc


def _recreate_coredns(paths: ProjectPaths) -> list[str]:
    """Delete the coredns pods outside their node's IPAM blocks (the write-up's fix)."""
    from kubernetes import client

    from fabric.inventory import load_lab_endpoints
    from fabric.steps.kubeapi import api_client

    cluster = next(
        ep for ep in load_lab_endpoints(paths)["hosts"].values() if ep["kind"] == "cluster"
    )
    api = client.CoreV1Api(api_client(cluster["kubeconfig"], cluster["context"]))
    try:
        listing = client.CustomObjectsApi(api.api_client).list_cluster_custom_object(
            "projectcalico.org", "v3", "blockaffinities"
        )
        affinities: list[dict[str, Any]] = cast(dict[str, Any], listing)["items"]
        blocks: dict[str, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {}
        for a in affinities:
            blocks.setdefault(a["spec"]["node"], []).append(ipaddress.ip_network(a["spec"]["cidr"]))
        pods = api.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
        names: list[str] = []
        for p in pods:
            if not (p.metadata and p.status and p.spec and p.status.pod_ip):
                continue
            ip = ipaddress.ip_address(p.status.pod_ip)
            if not any(ip in b for b in blocks.get(str(p.spec.node_name), [])):
                names.append(str(p.metadata.name))
        for name in names:
            click.secho(f"$ kubectl delete pod -n kube-system {name}", fg="cyan")
            api.delete_namespaced_pod(name, "kube-system", _preload_content=False)
        return names
    finally:
        api.api_client.close()


@click.command("demo")
@click.option(
    "--down/--keep",
    default=False,
    show_default=True,
    help="Stop the lab at the end (default: keep it running to explore).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/report"),
    show_default=True,
    help="Where the final compliance reports go.",
)
def demo_cmd(down: bool, report_dir: Path) -> None:
    """Replay the seed write-up on the built-in lab: deploy, find the coredns issue, fix, prove."""
    paths = ProjectPaths.discover()
    os.environ.setdefault("COLUMNS", "120")
    report = report_dir if report_dir.is_absolute() else paths.root / report_dir
    _step("1. start the lab (one EOS switch, two Calico nodes, a Kubernetes API; all on loopback)")
    _fabric("lab", "down")
    _fabric("lab", "up", "--detach", "--fresh")
    try:
        _step("2. validate the intent (the seed's questionable choices are warnings)")
        _fabric("validate")
        _step("3. what would change (dry-run: nothing is touched)")
        _fabric("run", "deploy", "--lab")
        _step("4. deploy: commit-confirm on the switch, Calico objects, health gate, confirm")
        _fabric("run", "deploy", "--lab", "--commit")
        _step("5. compliance: the write-up's finding (coredns pods routed as /32s)")
        rc = _fabric("run", "compliance", "--lab", "--hide-passes", expect=(0, 4))
        if rc == ExitCode.COMPLIANCE_FAILED:
            _step("6. the write-up's fix: recreate the coredns pods inside their node's block")
            _recreate_coredns(paths)
            _step("7. compliance again, with reports (table, JSON, JUnit, HTML)")
            _fabric("run", "compliance", "--lab", "--hide-passes", "--report-dir", str(report))
        click.secho(f"\ndemo ok: reports in {paths.rel(report)}/", fg="green", bold=True)
    finally:
        if down:
            _fabric("lab", "down")
        else:
            click.echo(
                "the lab keeps running: `python -m fabric lab status` shows its endpoints, "
                "`python -m fabric lab down` stops it"
            )
