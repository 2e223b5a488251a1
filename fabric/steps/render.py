"""Render both sides from the intent: Calico objects and EOS configuration.

Pure functions over :class:`~fabric.models.intent.Intent`; no device is contacted. The
Jinja2 environment uses ``StrictUndefined`` so a missing variable fails the render instead of
printing an empty line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from fabric.models.intent import Intent, Node, PeerData, Switch

CALICO_GROUP = "projectcalico.org/v3"
#: Name of the Kubernetes Secret (namespace calico-system) holding BGP passwords.
BGP_SECRET_NAME = "bgp-passwords"
BGP_SECRET_NAMESPACE = "calico-system"


def mask_secret(ref: str) -> str:
    """The text rendered in place of a secret when the real value must not appear."""
    return f"<secret {ref}>"


@functools.lru_cache(maxsize=8)
def _environment(templates: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - device config and YAML, not HTML
    )


@dataclass(frozen=True)
class CalicoObject:
    """One rendered Calico (or Kubernetes) object and the host it belongs to."""

    host: str
    kind: str
    name: str
    body: dict[str, Any]
    text: str


def render_switch_config(
    switch: Switch, templates: Path, secrets: dict[str, str] | None = None
) -> str:
    """EOS configuration text for ``switch``.

    Args:
        switch: the switch with its derived neighbors.
        templates: the project's ``templates/`` folder.
        secrets: resolved secret values by reference; missing ones render masked.
    """
    env = _environment(str(templates))
    refs = {switch.data.bgp_password_ref} - {None}
    values = {r: (secrets or {}).get(r, mask_secret(r)) for r in refs if r}
    return env.get_template("arista_eos/bgp.j2").render(switch=switch, secrets=values)


def _peer_object(env: jinja2.Environment, host: str, peer: PeerData, node: str | None) -> CalicoObject:
    text = env.get_template("calico/bgppeer.yaml.j2").render(
        peer=peer, node=node, secret_name=BGP_SECRET_NAME
    )
    return CalicoObject(host, "BGPPeer", peer.name, yaml.safe_load(text), text)


def render_calico_objects(intent: Intent, templates: Path) -> list[CalicoObject]:
    """Every Calico object of the intent, in apply order.

    Order: BGPConfiguration ``default`` first, then node BGP specs, then peers (global, then
    node-specific). The deploy workflow reorders by risk; this is the canonical listing.
    """
    env = _environment(str(templates))
    cal = intent.cluster.calico
    out: list[CalicoObject] = []
    text = env.get_template("calico/bgpconfiguration.yaml.j2").render(calico=cal)
    out.append(CalicoObject(intent.cluster.name, "BGPConfiguration", "default", yaml.safe_load(text), text))
    for node in intent.nodes:
        if node.as_override is not None:
            out.append(_node_object(env, intent, node))
    for peer in cal.peers:
        out.append(_peer_object(env, intent.cluster.name, peer, None))
    for node in intent.nodes:
        for peer in node.peers:
            out.append(_peer_object(env, node.name, peer, node.name))
    return out


def _node_object(env: jinja2.Environment, intent: Intent, node: Node) -> CalicoObject:
    prefix_len = intent.switch(node.tor).data.svi.network.prefixlen
    text = env.get_template("calico/node.yaml.j2").render(node=node, prefix_len=prefix_len)
    return CalicoObject(node.name, "Node", node.name, yaml.safe_load(text), text)


def dump_documents(objects: list[CalicoObject]) -> str:
    """Join rendered objects into one multi-document YAML text."""
    return "---\n".join(o.text if o.text.endswith("\n") else o.text + "\n" for o in objects)
