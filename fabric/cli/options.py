"""Command-line options shared by several commands (one definition, one help text)."""

from __future__ import annotations

import click

#: ``--nornir-results``: each phase's per-host Nornir results, as nornir_utils prints them.
NORNIR_RESULTS = click.option(
    "--nornir-results",
    is_flag=True,
    help="Print each phase's per-host Nornir results (nornir_utils' print_result) on stderr.",
)

#: ``--calico-api``: which Calico API the cluster is read and written through.
CALICO_API = click.option(
    "--calico-api",
    type=click.Choice(["auto", "v3", "crd"]),
    default="auto",
    show_default=True,
    help="projectcalico.org/v3 (API server) or crd.projectcalico.org/v1 custom resources; "
    "auto: what the cluster serves (a cluster host's data.calico_api overrides auto).",
)

#: ``--node-access``: how Calico nodes are read.
NODE_ACCESS = click.option(
    "--node-access",
    type=click.Choice(["ssh", "exec"]),
    default=None,
    help="ssh (calicoctl node status) or exec (birdcl in the calico-node pod, no node "
    "credentials); default: each node's data.node_access, else ssh.",
)
