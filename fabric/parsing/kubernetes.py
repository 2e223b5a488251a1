"""Assemblers for ``kubectl get pods -o wide`` and ``kubectl get svc -o wide``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fabric.errors import ParseError
from fabric.models.parsed import PodList, ServiceList
from fabric.parsing.common import fail, none_if
from fabric.parsing.engine import Row

_POD_COLUMNS = ("ready", "status", "age", "ip", "node")


def _columns(row: Row) -> tuple[bool, int]:
    """(has NAMESPACE, number of columns) of a header line.

    NOMINATED NODE and READINESS GATES are two words each but one column.
    """
    words = row.line.text.split()
    return words[0] == "NAMESPACE", len(words) - words.count("NOMINATED") - words.count("READINESS")


def assemble_pods(command: str, rows: Iterable[Row]) -> PodList:
    """Build :class:`PodList`; rows without a header (``| grep``) are read the same way."""
    header: tuple[bool, int] | None = None
    empty = False
    pods: list[dict[str, Any]] = []
    for row in rows:
        kind, v = row.kind, row.values
        if kind == "header":
            if header is not None or pods:
                raise fail(command, row, "a second table header")
            header = _columns(row)
        elif kind == "empty":
            if header is not None or pods or empty:
                raise fail(command, row, "'No resources found' inside a table")
            empty = True
        elif kind == "pod":
            if empty:
                raise fail(command, row, "a row after 'No resources found'")
            if header is not None:
                # the RESTARTS column may read "1 (24s ago)": three words, one column
                cols = len(row.line.text.split()) - (2 if "last_restart" in v else 0)
                has_ns, width = header
                if ("namespace" in v) != has_ns or cols != width:
                    raise fail(command, row, "a row that does not fit the table header")
            last = v.get("last_restart")
            pods.append(
                {
                    "namespace": v.get("namespace"),
                    "name": v["name"],
                    **{k: v[k] for k in _POD_COLUMNS},
                    "ip": none_if(v["ip"]),
                    "node": none_if(v["node"]),
                    "restarts": int(v["restarts"]),
                    "last_restart": last[1:-1].split()[0] if last else None,
                    "nominated_node": none_if(v.get("nominated_node")),
                    "readiness_gates": none_if(v.get("readiness_gates")),
                }
            )
        else:  # pragma: no cover - the template and this function change together
            raise fail(command, row, f"unknown line kind {kind!r}")
    if header is None and not pods and not empty:
        raise ParseError(command, None, "no pod table in the output")
    return PodList.model_validate({"pods": pods})


def assemble_services(command: str, rows: Iterable[Row]) -> ServiceList:
    """Build :class:`ServiceList`; rows without a header are read the same way."""
    header: bool | None = None
    empty = False
    services: list[dict[str, Any]] = []
    for row in rows:
        kind, v = row.kind, row.values
        if kind == "header":
            if header is not None or services:
                raise fail(command, row, "a second table header")
            header = _columns(row)[0]
        elif kind == "empty":
            if header is not None or services or empty:
                raise fail(command, row, "'No resources found' inside a table")
            empty = True
        elif kind == "service":
            if empty:
                raise fail(command, row, "a row after 'No resources found'")
            if header is not None and ("namespace" in v) != header:
                raise fail(command, row, "a row that does not fit the table header")
            services.append(
                {
                    "namespace": v.get("namespace"),
                    "name": v["name"],
                    "type": v["type"],
                    "cluster_ip": none_if(v["cluster_ip"]),
                    "external_ip": none_if(v["external_ip"]),
                    "ports": v["ports"],
                    "age": v["age"],
                    "selector": none_if(v["selector"]),
                }
            )
        else:  # pragma: no cover - the template and this function change together
            raise fail(command, row, f"unknown line kind {kind!r}")
    if header is None and not services and not empty:
        raise ParseError(command, None, "no service table in the output")
    return ServiceList.model_validate({"services": services})
