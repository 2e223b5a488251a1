"""The run machinery every workflow uses (and that never imports a workflow).

* :mod:`~fabric.runs.report`: :class:`RunReport` and :class:`HostReport` (the outcome is a
  :class:`~fabric.models.outcome.Outcome`, with its exit code);
* :mod:`~fabric.runs.failures`: :func:`classify`, the one exception classifier;
* :mod:`~fabric.runs.connect`: opening Nornir and the cluster client for a run; running a
  phase on named hosts;
* :mod:`~fabric.runs.collection`: collecting hosts into the evidence checks judge;
* :mod:`~fabric.runs.restore`: the one restore path (a failed deploy, ``run rollback``);
* :mod:`~fabric.runs.secrets`: secret references resolved at push time.
"""

from fabric.models.outcome import Outcome
from fabric.runs.failures import FailureKind, classify, error_text, reaches_no_host
from fabric.runs.report import HostReport, ProgressFn, RunReport

__all__ = [
    "FailureKind",
    "HostReport",
    "Outcome",
    "ProgressFn",
    "RunReport",
    "classify",
    "error_text",
    "reaches_no_host",
]
