"""Opening a run's connections: Nornir over the inventory, the cluster's API client.

Also the two Nornir idioms every run phase needs: :func:`run_on` (a task on named hosts,
including hosts an earlier phase failed) and :func:`host_failures` (the failed hosts of a
phase, with their exception).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from nornir.core.processor import Processor

from fabric.adapters.eapi import configure_napalm_tls
from fabric.inventory import init_nornir
from fabric.paths import ProjectPaths

if TYPE_CHECKING:
    from nornir.core import Nornir
    from nornir.core.inventory import Host
    from nornir.core.task import AggregatedResult, MultiResult, Task

    from fabric.steps.calico import CalicoClient

#: ``count(stage, done, total)``: hosts finished so far in a phase (for a progress bar).
CountFn = Callable[[str, int, int], None]

#: ``on_results(phase, result)``: every phase's per-host Nornir results, as they come (the CLI's
#: ``--nornir-results`` prints them with nornir_utils' ``print_result``).
ResultsFn = Callable[[str, "AggregatedResult"], None]


def open_nornir(
    paths: ProjectPaths,
    *,
    lab: bool,
    workers: int,
    dry_run: bool,
    insecure: bool,
    ca_file: str | None,
    device_timeout: float | None = None,
    switches: Collection[str] | None = None,
) -> tuple[Nornir, str]:
    """Nornir over the inventory with each switch's TLS policy set; returns (nornir, policy).

    Args:
        paths: the project.
        lab: target the running lab (loopback endpoints, loopback guard).
        workers: Nornir threads.
        dry_run: Nornir's dry-run flag.
        insecure: do not verify the switches' certificates.
        ca_file: CA bundle for the switches.
        device_timeout: eAPI timeout in seconds (None: NAPALM's default).
        switches: the switches to set TLS for (None: every host of platform ``eos``).
    """
    nr = init_nornir(paths, lab=lab, num_workers=workers, dry_run=dry_run)
    names = (
        [n for n, h in nr.inventory.hosts.items() if h.platform == "eos"]
        if switches is None
        else list(switches)
    )
    policy = ""
    for name in names:
        if name in nr.inventory.hosts:
            policy = configure_napalm_tls(
                nr.inventory.hosts[name],
                insecure=insecure,
                ca_file=ca_file,
                timeout=device_timeout,
            )
    return nr, policy


def cluster_client(
    nr: Nornir, cluster: str, *, insecure: bool, calico_api: str = "auto"
) -> CalicoClient:
    """A Kubernetes client for the cluster host (its kubeconfig and context).

    The Calico API: the host's ``calico_api`` data when ``calico_api`` is ``auto``, else
    ``calico_api``; ``auto`` reads the cluster's API discovery once.
    """
    from fabric.steps.calico import CalicoClient

    host = nr.inventory.hosts[cluster]
    kubeconfig = host.get("kubeconfig") or "~/.kube/config"
    api = calico_api if calico_api != "auto" else str(host.get("calico_api") or "auto")
    return CalicoClient(str(kubeconfig), host.get("context"), insecure=insecure, api=api)


class _Counter(Processor):
    """A Nornir processor that reports each host's completion (Nornir's public hook)."""

    def __init__(self, stage: str, total: int, count: CountFn) -> None:
        self.stage, self.total, self.count = stage, total, count
        self.done = 0
        self.lock = threading.Lock()

    def task_started(self, task: Task) -> None:
        self.count(self.stage, 0, self.total)

    def task_completed(self, task: Task, result: AggregatedResult) -> None:
        return None

    def task_instance_started(self, task: Task, host: Host) -> None:
        return None

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        with self.lock:  # Nornir calls this from its worker threads
            self.done += 1
            done = self.done
        self.count(self.stage, done, self.total)

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        return None

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        return None


def run_on(
    nr: Nornir,
    names: Collection[str],
    task: Callable[..., Any],
    name: str,
    on_results: ResultsFn | None = None,
    count: CountFn | None = None,
    **kwargs: Any,
) -> AggregatedResult:
    """Run ``task`` on the hosts ``names``, including hosts that failed an earlier step.

    (Nornir skips hosts that failed before unless told otherwise; a host that failed the gate
    must still be rolled back.) ``on_results`` gets the phase's results, ``count`` its
    progress host by host.
    """
    wanted = set(names)
    runner = nr.filter(filter_func=lambda h: h.name in wanted)
    if count is not None:
        runner = runner.with_processors([_Counter(name, len(runner.inventory.hosts), count)])
    agg = runner.run(task=task, name=name, on_failed=True, **kwargs)
    if on_results is not None:
        on_results(name, agg)
    return agg


def host_failures(
    agg: AggregatedResult, names: Collection[str] = ()
) -> dict[str, BaseException | None]:
    """Failed hosts of a Nornir run and their exception; ``names`` the run must have covered."""
    out: dict[str, BaseException | None] = {}
    for host, multi in agg.items():
        if multi.failed:
            out[host] = next((r.exception for r in multi if r.exception is not None), None)
    for host in names:
        if host not in agg:
            out[host] = RuntimeError(f"{host}: the task did not run on this host")
    return out
