"""``schedule export --k8s``: the schedules as Kubernetes manifests.

A periodic schedule becomes a ``batch/v1`` CronJob, a one-shot a ``batch/v1`` Job whose
container waits for the scheduled time (``schedule exec --not-before``). Both run
``python -m fabric schedule exec KIND --params JSON``: the same job function the scheduler
runs. Credentials come from a Secret by reference (``envFrom.secretRef``); no secret value is
ever written into a manifest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml

from fabric.scheduling.service import ScheduledJob
from fabric.scheduling.timespec import format_duration, from_utc_iso

#: Where a mounted state PVC appears in the container.
STATE_MOUNT = "/var/lib/fabric-netops"

_DNS_BAD = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class ExportOptions:
    """What the manifests run and where.

    Attributes:
        image: container image with this project installed (``python -m fabric`` works).
        namespace: namespace of every object.
        secret: Secret whose keys become environment variables (``FABRIC_EOS_PASSWORD`` ...).
        state_pvc: PersistentVolumeClaim mounted as ``FABRIC_STATE_DIR`` (runs, snapshots,
            reports); without it state lives only as long as the pod.
    """

    image: str
    namespace: str
    secret: str
    state_pvc: str | None = None


def k8s_name(job_id: str, limit: int = 52) -> str:
    """A DNS-1123 name for a job (``fabric-<id>``; CronJob names are limited to 52).

    >>> k8s_name("compliance-3f2a9c1d")
    'fabric-compliance-3f2a9c1d'
    >>> k8s_name("Confirm_20261126.x")
    'fabric-confirm-20261126-x'
    """
    name = _DNS_BAD.sub("-", f"fabric-{job_id}".lower()).strip("-")
    return name[:limit].rstrip("-")


def interval_to_cron(seconds: int, first: str | None) -> str | None:
    """A crontab expression firing every ``seconds`` on the interval's grid, if one exists.

    ``first`` (the interval's first run, UTC ISO) fixes the offset inside the period. Intervals
    that are not whole minutes dividing an hour, whole hours dividing a day, one day or one
    week have no crontab equivalent (None).

    >>> interval_to_cron(900, "2026-11-26T10:05:00Z")
    '5-59/15 * * * *'
    >>> interval_to_cron(7200, "2026-11-26T11:30:00Z")
    '30 1-23/2 * * *'
    >>> interval_to_cron(86400, "2026-11-26T06:00:00Z")
    '0 6 * * *'
    >>> interval_to_cron(2700, None) is None
    True
    """
    start = from_utc_iso(first) if first else None
    minute = start.minute if start else 0
    hour = start.hour if start else 0
    if seconds % 60:
        return None
    m = seconds // 60
    if m < 60 and 60 % m == 0:
        return "* * * * *" if m == 1 else f"{minute % m}-59/{m} * * * *"
    if m % 60:
        return None
    h = m // 60
    if h < 24 and 24 % h == 0:
        return f"{minute} {hour % h}-23/{h} * * *"
    if h == 24:
        return f"{minute} {hour} * * *"
    if h == 24 * 7 and start is not None:
        return f"{minute} {hour} * * {start.isoweekday() % 7}"
    return None


def _pod_spec(job: ScheduledJob, opts: ExportOptions, args: list[str]) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "fabric",
        "image": opts.image,
        "command": ["python", "-m", "fabric"],
        "args": args,
        "envFrom": [{"secretRef": {"name": opts.secret}}],
    }
    spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
    if opts.state_pvc:
        container["env"] = [{"name": "FABRIC_STATE_DIR", "value": STATE_MOUNT}]
        container["volumeMounts"] = [{"name": "state", "mountPath": STATE_MOUNT}]
        spec["volumes"] = [
            {"name": "state", "persistentVolumeClaim": {"claimName": opts.state_pvc}}
        ]
    return spec


def _metadata(job: ScheduledJob, opts: ExportOptions, name: str) -> dict[str, Any]:
    from fabric.scheduling.service import describe_trigger

    r = job.record
    return {
        "name": name,
        "namespace": opts.namespace,
        "labels": {
            "app.kubernetes.io/name": "fabric-netops",
            "app.kubernetes.io/managed-by": "fabric-netops",
            "fabric-netops/kind": k8s_name(r.kind, 63).removeprefix("fabric-"),
        },
        "annotations": {
            "fabric-netops/job-id": r.job_id,
            "fabric-netops/schedule": describe_trigger(r.trigger),
            "fabric-netops/scheduled-by": r.scheduled_by,
        },
    }


def job_manifest(job: ScheduledJob, opts: ExportOptions) -> dict[str, Any]:
    """The manifest of one job.

    Raises:
        ValueError: the schedule has no Kubernetes equivalent (the message says why).
    """
    r = job.record
    if r.params.get("lab"):
        raise ValueError(f"job {r.job_id} targets the local lab (--lab): not exported")
    args = [
        "schedule",
        "exec",
        r.kind,
        "--params",
        json.dumps(r.params, sort_keys=True),
        "--job-id",
        r.job_id,
    ]
    trig = r.trigger
    if trig["type"] == "date":
        name = k8s_name(r.job_id, 63)
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": _metadata(job, opts, name),
            "spec": {
                "backoffLimit": 0,
                "ttlSecondsAfterFinished": 86400,
                "template": {
                    "metadata": {"labels": {"app.kubernetes.io/name": "fabric-netops"}},
                    "spec": _pod_spec(job, opts, [*args, "--not-before", trig["at"]]),
                },
            },
        }
    if trig["type"] == "cron":
        schedule, zone = trig["expr"], trig.get("tz", "UTC")
    else:
        expr = interval_to_cron(int(trig["seconds"]), trig.get("start"))
        if expr is None:
            every = format_duration(timedelta(seconds=int(trig["seconds"])))
            raise ValueError(
                f"job {r.job_id}: every {every} has no crontab equivalent "
                "(reschedule it with --cron to export it)"
            )
        schedule, zone = expr, "UTC"
    name = k8s_name(r.job_id, 52)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(job, opts, name),
        "spec": {
            "schedule": schedule,
            "timeZone": "Etc/UTC" if zone == "UTC" else zone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": r.grace_seconds,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"labels": {"app.kubernetes.io/name": "fabric-netops"}},
                        "spec": _pod_spec(job, opts, args),
                    },
                }
            },
        },
    }


def export_manifests(jobs: list[ScheduledJob], opts: ExportOptions) -> tuple[str, list[str]]:
    """All jobs as one multi-document YAML stream, and a warning per job left out."""
    docs: list[dict[str, Any]] = []
    warnings: list[str] = []
    for job in jobs:
        try:
            docs.append(job_manifest(job, opts))
        except ValueError as exc:
            warnings.append(str(exc))
    head = "# generated by: python -m fabric schedule export --k8s\n"
    if not docs:
        return head, warnings
    return head + yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True), warnings
