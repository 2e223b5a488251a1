"""Field defaults the API server fills in when it decodes a write (``SetDefaults_*``).

Only the defaults of the built-in kinds whose objects clients read back and compare are
modelled: ``batch/v1`` Jobs and CronJobs (Kubernetes 1.28, ``pkg/apis/batch/v1/defaults.go``)
and the pod templates inside them (``pkg/apis/core/v1/defaults.go``). Defaulting never
overrides a value the client set, so applying it twice changes nothing.

>>> job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
...     "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
>>> apply_defaults(job)
>>> job["spec"]["backoffLimit"], job["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"]
(6, 'Always')
"""

from __future__ import annotations

from typing import Any


def _image_pull_policy(image: str) -> str:
    """``Always`` for an untagged or ``:latest`` image, else ``IfNotPresent``."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _pod_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in spec.get("containers") or []:
        if not isinstance(container, dict):
            continue
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        if isinstance(container.get("image"), str):
            container.setdefault("imagePullPolicy", _image_pull_policy(container["image"]))


def _pod_template(template: Any) -> None:
    if isinstance(template, dict):
        _pod_spec(template.get("spec"))


def _job_spec(spec: dict[str, Any]) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    _pod_template(spec.get("template"))


def _cron_job_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        _pod_template(job_template["spec"].get("template"))


_DEFAULTERS = {
    ("batch/v1", "Job"): _job_spec,
    ("batch/v1", "CronJob"): _cron_job_spec,
}


def apply_defaults(obj: dict[str, Any]) -> None:
    """Fill in the server-side defaults of ``obj`` in place (kinds without defaults: no-op)."""
    defaulter = _DEFAULTERS.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
    spec = obj.get("spec")
    if defaulter is None or not isinstance(spec, dict):
        return
    defaulter(spec)
    obj.setdefault("status", {})
