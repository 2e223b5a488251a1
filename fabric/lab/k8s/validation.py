"""Value validation, answered as 422 Invalid with ``details.causes`` like the Calico API server.

Each check returns :class:`FieldError` entries; :func:`validate` collects them for an object.
The message format follows ``k8s.io/apimachinery/pkg/util/validation/field``:
``spec.peerIP: Invalid value: "1.2.3": must be a valid IP address``.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fabric.lab.k8s import resources

_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$")
_LOG_SEVERITIES = ("Trace", "Debug", "Info", "Warning", "Error", "Fatal")
_ASN_MAX = 4294967295


@dataclass(frozen=True)
class FieldError:
    """One invalid field (a ``StatusCause``)."""

    field: str
    value: Any
    detail: str
    type: str = "FieldValueInvalid"

    def body(self) -> str:
        """The error text without the field name (``Invalid value: ...: detail``)."""
        if self.type == "FieldValueRequired":
            return f"Required value: {self.detail}" if self.detail else "Required value"
        if self.type == "FieldValueNotSupported":
            return f"Unsupported value: {_fmt(self.value)}: {self.detail}"
        return f"Invalid value: {_fmt(self.value)}: {self.detail}"

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _asn(errs: list[FieldError], path: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        errs.append(FieldError(path, value, "must be an AS number (0-4294967295)"))
        return
    if isinstance(value, int):
        if not 0 <= value <= _ASN_MAX:
            errs.append(FieldError(path, value, "AS number must be in the range 0-4294967295"))
        return
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            _asn(errs, path, int(text))
            return
        m = re.fullmatch(r"(\d+)\.(\d+)", text)  # asdot notation
        if m and int(m[1]) <= 65535 and int(m[2]) <= 65535:
            return
    errs.append(FieldError(path, value, "must be an AS number (0-4294967295)"))


def _cidr(errs: list[FieldError], path: str, value: Any) -> None:
    if value is None:
        return
    try:
        ipaddress.ip_network(str(value), strict=False)
        if "/" not in str(value):
            raise ValueError
    except ValueError:
        errs.append(FieldError(path, value, "must be a valid CIDR (e.g. 10.0.0.0/16)"))


def _ip_interface(errs: list[FieldError], path: str, value: Any) -> None:
    if value is None:
        return
    try:
        ipaddress.ip_interface(str(value))
    except ValueError:
        errs.append(FieldError(path, value, "must be an IP address with a prefix length"))


def _ip(errs: list[FieldError], path: str, value: Any) -> None:
    if value is None:
        return
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        errs.append(FieldError(path, value, "must be a valid IP address"))


def _peer_ip(errs: list[FieldError], path: str, value: Any) -> None:
    """An IP, ``IPv4:port`` or ``[IPv6]:port``."""
    if value is None:
        return
    text = str(value)
    host, port = text, None
    if m := re.fullmatch(r"\[([^\]]+)\]:(\d+)", text):
        host, port = m[1], int(m[2])
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        port = int(p) if p.isdigit() else -1
    try:
        ipaddress.ip_address(host)
        if port is not None and not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        errs.append(FieldError(path, value, "must be a valid IP address or IP:port"))


def _one_of(errs: list[FieldError], path: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        quoted = ", ".join(json.dumps(a) for a in allowed)
        errs.append(
            FieldError(path, value, f"supported values: {quoted}", "FieldValueNotSupported")
        )


def _type(errs: list[FieldError], path: str, value: Any, kind: type, what: str) -> bool:
    if value is None:
        return False
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        errs.append(FieldError(path, value, f"must be {what}"))
    return ok


def _range(errs: list[FieldError], path: str, value: Any, lo: int, hi: int) -> None:
    if _type(errs, path, value, int, "an integer") and not lo <= value <= hi:
        errs.append(FieldError(path, value, f"must be between {lo} and {hi}, inclusive"))


def _duration(errs: list[FieldError], path: str, value: Any) -> None:
    if value is not None and not (isinstance(value, str) and _DURATION.match(value)):
        errs.append(FieldError(path, value, "must be a duration such as 120s or 2m"))


def _community_value(value: Any) -> bool:
    parts = str(value).split(":")
    if len(parts) == 2:
        return all(p.isdigit() and int(p) <= 65535 for p in parts)
    if len(parts) == 3:
        return all(p.isdigit() and int(p) <= _ASN_MAX for p in parts)
    return False


def _list(spec: dict[str, Any], key: str, errs: list[FieldError], path: str) -> list[Any]:
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errs.append(FieldError(f"{path}.{key}", value, "must be a list"))
        return []
    return value


def _bgp_configuration(spec: dict[str, Any], errs: list[FieldError]) -> None:
    _one_of(errs, "spec.logSeverityScreen", spec.get("logSeverityScreen"), _LOG_SEVERITIES)
    _type(errs, "spec.nodeToNodeMeshEnabled", spec.get("nodeToNodeMeshEnabled"), bool, "a boolean")
    _duration(errs, "spec.nodeMeshMaxRestartTime", spec.get("nodeMeshMaxRestartTime"))
    _asn(errs, "spec.asNumber", spec.get("asNumber"))
    for key in ("serviceClusterIPs", "serviceExternalIPs", "serviceLoadBalancerIPs"):
        for i, block in enumerate(_list(spec, key, errs, "spec")):
            _cidr(errs, f"spec.{key}[{i}].cidr", (block or {}).get("cidr"))
    _range(errs, "spec.listenPort", spec.get("listenPort"), 1, 65535)
    _one_of(errs, "spec.bindMode", spec.get("bindMode"), ("None", "NodeIP"))
    names = set()
    for i, c in enumerate(_list(spec, "communities", errs, "spec")):
        c = c or {}
        name = c.get("name")
        if not isinstance(name, str) or not _DNS1123_SUBDOMAIN.match(name):
            errs.append(
                FieldError(
                    f"spec.communities[{i}].name", name, "must be a lowercase RFC 1123 subdomain"
                )
            )
        names.add(name)
        if not _community_value(c.get("value")):
            errs.append(
                FieldError(
                    f"spec.communities[{i}].value",
                    c.get("value"),
                    "must be a standard (aa:nn) or large (aa:nn:mm) community",
                )
            )
    for i, pa in enumerate(_list(spec, "prefixAdvertisements", errs, "spec")):
        pa = pa or {}
        _cidr(errs, f"spec.prefixAdvertisements[{i}].cidr", pa.get("cidr"))
        for j, c in enumerate(pa.get("communities") or []):
            if c not in names and not _community_value(c):
                errs.append(
                    FieldError(
                        f"spec.prefixAdvertisements[{i}].communities[{j}]",
                        c,
                        "must be a defined community name or a community value",
                    )
                )
    for key in ("localWorkloadPeeringIPV4", "localWorkloadPeeringIPV6"):
        _ip(errs, f"spec.{key}", spec.get(key))
    _password(errs, "spec.nodeMeshPassword", spec.get("nodeMeshPassword"))


def _password(errs: list[FieldError], path: str, value: Any) -> None:
    if value is None:
        return
    ref = value.get("secretKeyRef") if isinstance(value, dict) else None
    if not isinstance(ref, dict):
        errs.append(FieldError(f"{path}.secretKeyRef", None, "", "FieldValueRequired"))
        return
    for key in ("name", "key"):
        if not ref.get(key):
            errs.append(FieldError(f"{path}.secretKeyRef.{key}", None, "", "FieldValueRequired"))


def _bgp_peer(spec: dict[str, Any], errs: list[FieldError]) -> None:
    _peer_ip(errs, "spec.peerIP", spec.get("peerIP"))
    _asn(errs, "spec.asNumber", spec.get("asNumber"))
    if spec.get("node") and spec.get("nodeSelector"):
        errs.append(
            FieldError(
                "spec.nodeSelector", spec["nodeSelector"], "cannot set both node and nodeSelector"
            )
        )
    if spec.get("peerIP") and spec.get("peerSelector"):
        errs.append(
            FieldError(
                "spec.peerSelector", spec["peerSelector"], "cannot set both peerIP and peerSelector"
            )
        )
    if spec.get("peerIP") and spec.get("asNumber") is None:
        errs.append(
            FieldError(
                "spec.asNumber", None, "AS number must be set with peerIP", "FieldValueRequired"
            )
        )
    _one_of(errs, "spec.sourceAddress", spec.get("sourceAddress"), ("UseNodeIP", "None"))
    _type(errs, "spec.keepOriginalNextHop", spec.get("keepOriginalNextHop"), bool, "a boolean")
    _duration(errs, "spec.maxRestartTime", spec.get("maxRestartTime"))
    _range(errs, "spec.numAllowedLocalASNumbers", spec.get("numAllowedLocalASNumbers"), 0, 10)
    _range(errs, "spec.ttlSecurity", spec.get("ttlSecurity"), 0, 255)
    _one_of(errs, "spec.reachableBy", spec.get("reachableBy"), ("Default", "PeerIP", ""))
    _one_of(errs, "spec.nextHopMode", spec.get("nextHopMode"), ("Auto", "Self", "Keep"))
    _one_of(errs, "spec.reversePeering", spec.get("reversePeering"), ("Auto", "Manual"))
    _password(errs, "spec.password", spec.get("password"))


def _bgp_filter(spec: dict[str, Any], errs: list[FieldError]) -> None:
    for key in ("exportV4", "importV4", "exportV6", "importV6"):
        for i, rule in enumerate(_list(spec, key, errs, "spec")):
            rule = rule or {}
            path = f"spec.{key}[{i}]"
            _one_of(errs, f"{path}.action", rule.get("action"), ("Accept", "Reject"))
            if rule.get("action") is None:
                errs.append(FieldError(f"{path}.action", None, "", "FieldValueRequired"))
            if rule.get("cidr") is not None:
                _cidr(errs, f"{path}.cidr", rule.get("cidr"))
            _one_of(
                errs,
                f"{path}.matchOperator",
                rule.get("matchOperator"),
                ("Equal", "NotEqual", "In", "NotIn"),
            )
            _one_of(errs, f"{path}.source", rule.get("source"), ("RemotePeers",))


def _ip_pool(spec: dict[str, Any], errs: list[FieldError]) -> None:
    if spec.get("cidr") is None:
        errs.append(FieldError("spec.cidr", None, "", "FieldValueRequired"))
    _cidr(errs, "spec.cidr", spec.get("cidr"))
    for key in ("vxlanMode", "ipipMode"):
        _one_of(errs, f"spec.{key}", spec.get(key), ("Never", "Always", "CrossSubnet"))
    _range(errs, "spec.blockSize", spec.get("blockSize"), 20, 128)
    for key in ("natOutgoing", "disabled", "disableBGPExport"):
        _type(errs, f"spec.{key}", spec.get(key), bool, "a boolean")


def _calico_node(spec: dict[str, Any], errs: list[FieldError]) -> None:
    bgp = spec.get("bgp") or {}
    _asn(errs, "spec.bgp.asNumber", bgp.get("asNumber"))
    for key in ("ipv4Address", "ipv6Address"):
        _ip_interface(errs, f"spec.bgp.{key}", bgp.get(key))
    _ip(errs, "spec.bgp.ipv4IPIPTunnelAddr", bgp.get("ipv4IPIPTunnelAddr"))


def _block_affinity(spec: dict[str, Any], errs: list[FieldError]) -> None:
    _cidr(errs, "spec.cidr", spec.get("cidr"))
    _one_of(errs, "spec.state", spec.get("state"), ("confirmed", "pending", "pendingDeletion"))
    for key in ("cidr", "node"):
        if not spec.get(key):
            errs.append(FieldError(f"spec.{key}", None, "", "FieldValueRequired"))


_SPEC_CHECKS: dict[str, Callable[[dict[str, Any], list[FieldError]], None]] = {
    "BGPConfiguration": _bgp_configuration,
    "BGPPeer": _bgp_peer,
    "BGPFilter": _bgp_filter,
    "IPPool": _ip_pool,
    "Node": _calico_node,
    "BlockAffinity": _block_affinity,
}


def _pod_spec(spec: Any, errs: list[FieldError], path: str) -> None:
    containers = (spec if isinstance(spec, dict) else {}).get("containers")
    if not isinstance(containers, list) or not containers:
        errs.append(FieldError(f"{path}.containers", None, "", "FieldValueRequired"))
        return
    for i, c in enumerate(containers):
        for key in ("name", "image"):
            if not isinstance(c, dict) or not c.get(key):
                errs.append(FieldError(f"{path}.containers[{i}].{key}", None, "",
                                       "FieldValueRequired"))  # fmt: skip


def _pod(obj: dict[str, Any], errs: list[FieldError]) -> None:
    _pod_spec(obj.get("spec"), errs, "spec")


def _job_spec(spec: Any, errs: list[FieldError], path: str) -> None:
    """``JobSpec``: a pod template whose restartPolicy is Never or OnFailure; counts >= 0."""
    spec = spec if isinstance(spec, dict) else {}
    template = spec.get("template")
    if not isinstance(template, dict) or not template.get("spec"):
        errs.append(FieldError(f"{path}.template.spec", None, "", "FieldValueRequired"))
        return
    _pod_spec(template["spec"], errs, f"{path}.template.spec")
    policy = template["spec"].get("restartPolicy") if isinstance(template["spec"], dict) else None
    if policy not in ("Never", "OnFailure"):
        errs.append(
            FieldError(
                f"{path}.template.spec.restartPolicy",
                policy,
                'supported values: "OnFailure", "Never"',
                "FieldValueRequired" if policy is None else "FieldValueNotSupported",
            )
        )
    for key in ("parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"):
        _range(errs, f"{path}.{key}", spec.get(key), 0, 2**31 - 1)
    _range(errs, f"{path}.activeDeadlineSeconds", spec.get("activeDeadlineSeconds"), 1, 2**63 - 1)
    _one_of(errs, f"{path}.completionMode", spec.get("completionMode"), ("NonIndexed", "Indexed"))
    _type(errs, f"{path}.suspend", spec.get("suspend"), bool, "a boolean")


def _job(obj: dict[str, Any], errs: list[FieldError]) -> None:
    _job_spec(obj.get("spec"), errs, "spec")


_CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_FIELD = re.compile(
    r"^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$"
)


def _cron_schedule(errs: list[FieldError], path: str, value: Any) -> None:
    """A standard five-field cron line or a ``@daily``-style macro (robfig/cron's parser)."""
    if not isinstance(value, str) or not value.strip():
        errs.append(FieldError(path, None, "", "FieldValueRequired"))
        return
    text = value.strip()
    if text.startswith("TZ=") or text.startswith("CRON_TZ="):
        errs.append(
            FieldError(path, value, "cannot use TZ or CRON_TZ in schedule, use timeZone instead")
        )
        return
    fields = text.split()
    if text.startswith("@"):
        if text not in _CRON_MACROS and not text.startswith("@every "):
            errs.append(FieldError(path, value, f"unrecognized descriptor: {text}"))
        return
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        errs.append(
            FieldError(path, value, f"expected exactly 5 fields, found {len(fields)}: {text}")
            if len(fields) != 5
            else FieldError(path, value, "invalid schedule format")
        )


def _time_zone(errs: list[FieldError], path: str, value: Any) -> None:
    if value is None:
        return
    try:
        if not isinstance(value, str) or not value or value.lower() == "local":
            raise ValueError(value)
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        errs.append(FieldError(path, value, "unknown time zone " + str(value)))


def _cron_job(obj: dict[str, Any], errs: list[FieldError]) -> None:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    name = (obj.get("metadata") or {}).get("name")
    if isinstance(name, str) and len(name) > 52:
        errs.append(FieldError("metadata.name", name, "must be no more than 52 characters"))
    _cron_schedule(errs, "spec.schedule", spec.get("schedule"))
    _time_zone(errs, "spec.timeZone", spec.get("timeZone"))
    _one_of(
        errs,
        "spec.concurrencyPolicy",
        spec.get("concurrencyPolicy"),
        ("Allow", "Forbid", "Replace"),
    )
    _range(errs, "spec.startingDeadlineSeconds", spec.get("startingDeadlineSeconds"), 0, 2**63 - 1)
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        _range(errs, f"spec.{key}", spec.get(key), 0, 2**31 - 1)
    job_template = spec.get("jobTemplate")
    if not isinstance(job_template, dict):
        errs.append(FieldError("spec.jobTemplate", None, "", "FieldValueRequired"))
        return
    _job_spec(job_template.get("spec"), errs, "spec.jobTemplate.spec")


def _service(obj: dict[str, Any], errs: list[FieldError]) -> None:
    spec = obj.get("spec") or {}
    ports = spec.get("ports") or []
    if not ports and spec.get("clusterIP") != "None" and spec.get("type") != "ExternalName":
        errs.append(FieldError("spec.ports", None, "", "FieldValueRequired"))
    for i, p in enumerate(ports):
        port = p.get("port") if isinstance(p, dict) else None
        if port is None:
            errs.append(FieldError(f"spec.ports[{i}].port", None, "", "FieldValueRequired"))
        else:
            _range(errs, f"spec.ports[{i}].port", port, 1, 65535)
    _one_of(errs, "spec.type", spec.get("type"),
            ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"))  # fmt: skip


def _secret(obj: dict[str, Any], errs: list[FieldError]) -> None:
    for key, value in (obj.get("data") or {}).items():
        try:
            base64.b64decode(str(value), validate=True)
        except ValueError:
            errs.append(FieldError(f"data[{key}]", "<redacted>", "must be base64-encoded"))


_CORE_CHECKS: dict[tuple[str, str], Callable[[dict[str, Any], list[FieldError]], None]] = {
    ("v1", "Pod"): _pod,
    ("v1", "Service"): _service,
    ("v1", "Secret"): _secret,
    ("batch/v1", "Job"): _job,
    ("batch/v1", "CronJob"): _cron_job,
}


def validate(rtype: resources.ResourceType, obj: dict[str, Any]) -> list[FieldError]:
    """Every invalid value of ``obj`` (empty when it is valid)."""
    errs: list[FieldError] = []
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        errs.append(
            FieldError(
                "metadata.name", None, "name or generateName is required", "FieldValueRequired"
            )
        )
    else:
        pattern = _DNS1123_LABEL if rtype.kind in ("Namespace", "Service") else _DNS1123_SUBDOMAIN
        if not isinstance(name, str) or len(name) > 253 or not pattern.match(name):
            what = "RFC 1123 label" if pattern is _DNS1123_LABEL else "RFC 1123 subdomain"
            errs.append(
                FieldError(
                    "metadata.name",
                    name,
                    f"a lowercase {what} must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an "
                    "alphanumeric character",
                )
            )
    for key in ("labels", "annotations"):
        value = meta.get(key)
        if value is not None and (
            not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
        ):
            errs.append(FieldError(f"metadata.{key}", value, "must be a map of strings"))
    builtin = _CORE_CHECKS.get((rtype.api_version, rtype.kind))
    if builtin is not None:
        builtin(obj, errs)
    if rtype.group == resources.CALICO_GROUP:
        spec = obj.get("spec")
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            errs.append(FieldError("spec", spec, "must be an object"))
        else:
            check = _SPEC_CHECKS.get(rtype.kind)
            if check is not None:
                check(spec, errs)
    if rtype.openapi is not None:
        props = rtype.openapi.get("properties") or {}
        for key, node in props.items():
            if key not in ("apiVersion", "kind", "metadata") and key in obj:
                _openapi(node, obj[key], key, errs)
    return errs


_JSON_TYPES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    dict: "object",
}


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_TYPES.get(type(value), "object")


def _type_ok(node: Mapping[str, Any], value: Any) -> bool:
    want = node.get("type")
    have = _json_type(value)
    if want is None or (value is None and node.get("nullable")):
        return True
    if node.get("x-kubernetes-int-or-string"):
        return have in ("integer", "string")
    return have == want or (want == "number" and have == "integer")


def _openapi(node: Mapping[str, Any], value: Any, path: str, errs: list[FieldError]) -> None:
    """Type, enum and required-field errors of a custom resource, as the API server reports them.

    The messages follow ``k8s.io/apiextensions-apiserver`` schema validation:
    ``spec.asNumber: Invalid value: "string": spec.asNumber in body must be of type integer:
    "string"``, ``Unsupported value: "On": supported values: "Enabled", "Disabled"``,
    ``spec.node: Required value``.
    """
    if not _type_ok(node, value):
        have = _json_type(value)
        errs.append(
            FieldError(
                path,
                have,
                f'{path} in body must be of type {node.get("type")}: "{have}"',
            )
        )
        return
    enum = node.get("enum")
    if enum is not None and value not in enum:
        supported = ", ".join(_fmt(v) for v in enum)
        errs.append(
            FieldError(path, value, f"supported values: {supported}", "FieldValueNotSupported")
        )
    if isinstance(value, dict):
        for req in node.get("required") or []:
            if req not in value:
                errs.append(FieldError(f"{path}.{req}", None, "", "FieldValueRequired"))
        props = node.get("properties")
        extra = node.get("additionalProperties")
        for key, sub in value.items():
            if isinstance(props, Mapping) and key in props:
                _openapi(props[key], sub, f"{path}.{key}", errs)
            elif isinstance(extra, Mapping):
                _openapi(extra, sub, f"{path}.{key}", errs)
    elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for i, item in enumerate(value):
            _openapi(node["items"], item, f"{path}[{i}]", errs)
