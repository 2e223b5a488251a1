"""Calico as installed: the operator's Installation, address autodetection, the running version.

What no BGP object shows, read from the cluster: the Tigera operator's ``Installation``
(``operator.tigera.io/v1``, when the operator manages Calico), each Calico Node's detected BGP
address (a ``projectcalico.org/v3`` Node, or the core Node's ``projectcalico.org/IPv4Address``
annotation of a Kubernetes-datastore cluster) and ``ClusterInformation`` ``default``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from fabric.checks.base import Check, CheckInput, HostFindings, Status, register
from fabric.checks.evidence import Evidence
from fabric.models.intent import CALICO_FIELD_SINCE, supported_fields


def _installation(state: Evidence, out: HostFindings) -> dict[str, Any] | None:
    """The ``default`` Installation, or None after saying why it cannot be judged."""
    host = state.intent.cluster.name
    out.touch(host)
    if state.cluster is None:
        out.add(host, Status.ERROR, state.failure_message(host))
        return None
    items = state.cluster.installations
    if not items:
        why = "not served" if items is None else "none in the cluster"
        out.add(
            host,
            Status.SKIP,
            f"no Tigera operator Installation ({why}): Calico installed from manifests",
        )
        return None
    by_name = {str((i.get("metadata") or {}).get("name")): i for i in items}
    return by_name.get("default") or items[0]


class CalicoInstallationInput(CheckInput):
    """Inputs of :class:`VerifyCalicoInstallation`."""

    #: Pool encapsulations that fit a routed BGP fabric (the fabric carries pod routes as is).
    allowed_encapsulations: tuple[str, ...] = ("None",)


@register
class VerifyCalicoInstallation(Check[CalicoInstallationInput]):
    """The Tigera operator's Installation agrees with the intent.

    Pass: ``spec.calicoNetwork.bgp`` is Enabled; an IP pool has the intent's pod CIDR and block
    size, with an encapsulation that fits a routed fabric (default: ``None``).
    Fail: BGP disabled (calico-node runs no BIRD: no session can come up), no pool for the pod
    CIDR, another block size, or a tunnelling encapsulation (pod traffic would bypass the
    fabric's routes). Skip: no operator (a manifest install). Error: the cluster was not read.
    """

    name = "VerifyCalicoInstallation"
    description = "operator Installation: BGP enabled, the intent's pool and block size, no tunnel"
    Input = CalicoInstallationInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Compare the ``default`` Installation's calicoNetwork with the intent."""
        inst = _installation(state, out)
        if inst is None:
            return
        host = state.intent.cluster.name
        cal = state.intent.cluster.calico
        network = (inst.get("spec") or {}).get("calicoNetwork") or {}
        bgp = str(network.get("bgp") or "Enabled")
        subject = "spec.calicoNetwork.bgp"
        if bgp != "Enabled":
            msg = f"BGP is {bgp} in the Installation: calico-node runs no BIRD, no session comes up"
            fix = "set spec.calicoNetwork.bgp: Enabled in Installation default"
            out.add(host, Status.FAIL, msg, subject=subject, fix=fix)
        else:
            out.add(host, Status.PASS, "BGP Enabled", subject=subject)
        pools = network.get("ipPools") or []
        want = str(cal.pod_cidr)
        pool = next((p for p in pools if _net(p.get("cidr")) == want), None)
        subject = f"ipPool {want}"
        if pool is None:
            have = ", ".join(str(p.get("cidr")) for p in pools) or "none"
            out.add(
                host,
                Status.FAIL,
                f"no IP pool for the pod CIDR {want} (pools: {have})",
                subject=subject,
            )
            return
        problems = []
        size = pool.get("blockSize")
        if size is not None and int(size) != cal.block_size:
            problems.append(f"block size /{size}, intent /{cal.block_size}")
        encap = str(pool.get("encapsulation") or "None")
        if encap not in self.inputs.allowed_encapsulations:
            problems.append(f"encapsulation {encap}: pod traffic is tunnelled past the fabric")
        if problems:
            out.add(host, Status.FAIL, f"pool {want}: " + "; ".join(problems), subject=subject)
        else:
            out.add(host, Status.PASS, f"pool {want} /{cal.block_size}, {encap}", subject=subject)


def _net(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        return None


def _method(inst: dict[str, Any] | None) -> str:
    """The Installation's IPv4 autodetection method, as its field reads (``firstFound`` ...)."""
    if inst is None:
        return "IP_AUTODETECTION_METHOD of the calico-node DaemonSet (default first-found)"
    method = ((inst.get("spec") or {}).get("calicoNetwork") or {}).get(
        "nodeAddressAutodetectionV4"
    ) or {"firstFound": True}
    return "nodeAddressAutodetectionV4 " + ", ".join(f"{k}: {v}" for k, v in method.items())


class NodeAddressDetectionInput(CheckInput):
    """Inputs of :class:`VerifyNodeAddressDetection`."""

    #: A node detected on its declared management address (the write-up's two-network nodes:
    #: sessions to the ToR still come up, sourced from the peering network, but the mesh and
    #: the node's router id use the management network): warn or fail.
    management_address: Literal["warn", "fail"] = "warn"


@register
class VerifyNodeAddressDetection(Check[NodeAddressDetectionInput]):
    """Each Calico node's detected BGP address is its intent peering address.

    Pass: the Calico Node's ``bgp.ipv4Address`` is the node's ``bgp_ip``.
    Warn (``management_address: fail`` makes it a failure): Calico detected the node's
    declared management address. Fail: another address, or none. Each finding names the
    autodetection method in its fix (the Installation's ``nodeAddressAutodetectionV4``, or the
    DaemonSet's ``IP_AUTODETECTION_METHOD`` on a manifest install). Error: not read.
    """

    name = "VerifyNodeAddressDetection"
    description = "Calico's detected node address is the intent's peering address"
    Input = NodeAddressDetectionInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Compare each node's detected address with its ``bgp_ip``."""
        if state.cluster is None or state.cluster.calico_nodes is None:
            for node in state.judged_nodes:
                if state.cluster is None:
                    msg = state.failure_message(state.intent.cluster.name)
                    out.add(node.name, Status.ERROR, msg)
                else:  # saved outputs without the Nodes
                    out.add(node.name, Status.SKIP, "the cluster's Nodes were not saved")
            return
        items = state.cluster.installations or []
        inst = next((i for i in items if (i.get("metadata") or {}).get("name") == "default"), None)
        method = _method(inst if items else None)
        for node in state.judged_nodes:
            out.touch(node.name)
            found = state.calico_node_addresses.get(node.name)
            subject = f"{node.name} bgp.ipv4Address"
            cidr = state.switch_by_name[node.tor].peering_subnet
            fix = f"detection is {method}: detect from the peering network, e.g. cidrs: [{cidr}]"
            if found == str(node.bgp_ip):
                out.add(node.name, Status.PASS, f"detected {found}", subject=subject)
            elif found is not None and node.mgmt_ip is not None and found == str(node.mgmt_ip):
                status = Status.FAIL if self.inputs.management_address == "fail" else Status.WARN
                msg = (
                    f"Calico detected the management address {found}, the intent peers from "
                    f"{node.bgp_ip}: the mesh and the router id run on the management network"
                )
                out.add(node.name, status, msg, subject=subject, fix=fix)
            else:
                what = f"detected {found}" if found else "no IPv4 address detected"
                out.add(
                    node.name,
                    Status.FAIL,
                    f"{what}, intent peers from {node.bgp_ip}",
                    subject=subject,
                    fix=fix,
                )


_VERSION_RE = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)")


class CalicoVersionInput(CheckInput):
    """Inputs of :class:`VerifyCalicoVersion` (none)."""


@register
class VerifyCalicoVersion(Check[CalicoVersionInput]):
    """The Calico the cluster runs is the one the intent renders for.

    Pass: ``ClusterInformation`` ``default`` ``spec.calicoVersion`` has the intent's
    ``calico.version`` (major.minor). Warn: another version that knows every field the
    intent renders. Fail: another version that lacks rendered fields (named).
    Skip: no ClusterInformation. Error: the cluster was not read.
    """

    name = "VerifyCalicoVersion"
    description = "ClusterInformation's calicoVersion matches calico.version"
    Input = CalicoVersionInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Compare the running version with the intent's and the fields each renders."""
        host = state.intent.cluster.name
        out.touch(host)
        if state.cluster is None:
            out.add(host, Status.ERROR, state.failure_message(host))
            return
        infos = state.cluster.cluster_information or []
        running = next((str((i.get("spec") or {}).get("calicoVersion") or "") for i in infos), "")
        m = _VERSION_RE.match(running)
        if m is None:
            out.add(host, Status.SKIP, "no ClusterInformation with a calicoVersion")
            return
        have = f"{m.group('major')}.{m.group('minor')}"
        want = state.intent.cluster.calico.version
        subject = "ClusterInformation default spec.calicoVersion"
        if have == want:
            out.add(host, Status.PASS, f"cluster runs {running}", subject=subject)
            return
        changed = _field_changes(state, want, have)
        if changed:
            out.add(
                host,
                Status.FAIL,
                f"cluster runs {running}, the intent renders for {want}: " + "; ".join(changed),
                subject=subject,
                fix=f'set calico.version: "{have}" in the intent (then render again)',
            )
        else:
            out.add(
                host,
                Status.WARN,
                f"cluster runs {running}, the intent says {want} (no rendered field differs)",
                subject=subject,
            )


def _field_changes(state: Evidence, want: str, have: str) -> list[str]:
    """The rendered fields a cluster at ``have`` would get differently from ``want``."""
    out: list[str] = []
    used: dict[str, set[str]] = {}
    for obj in state.calico_objects:
        if obj.kind in CALICO_FIELD_SINCE:
            used.setdefault(obj.kind, set()).update((obj.body.get("spec") or {}).keys())
    for kind in sorted(CALICO_FIELD_SINCE):
        # the intent cannot set a field its own version lacks (the lint refuses it): what
        # changes is a rendered field the running version does not know
        lost = (supported_fields(kind, want) - supported_fields(kind, have)) & used.get(kind, set())
        if lost:
            out.append(f"{kind} fields {', '.join(sorted(lost))} unknown to {have}")
    return out
