"""Compliance checks: one class each, registered by name (see :mod:`fabric.checks.base`).

Importing this package registers every check in :data:`REGISTRY`; a catalog
(``tasks/compliance.yaml``) picks which run with which inputs (:func:`load_catalog`).
"""

from fabric.checks import bgp, drift, install, lint, redundancy, routes
from fabric.checks.base import REGISTRY, Check, CheckInput, Finding, HostResult, Status, Verdict
from fabric.checks.catalog import load_catalog

__all__ = [
    "REGISTRY",
    "Check",
    "CheckInput",
    "Finding",
    "HostResult",
    "Status",
    "Verdict",
    "bgp",
    "drift",
    "install",
    "lint",
    "load_catalog",
    "redundancy",
    "routes",
]
