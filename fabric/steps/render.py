"""Render both sides from the intent: Calico objects and EOS configuration.

Pure functions over :class:`~fabric.models.intent.Intent`; no device is contacted. The
Jinja2 environment uses ``StrictUndefined`` so a missing variable fails the render instead of
printing an empty line. Templates are compiled once per process (the environment is cached per
templates folder) and rendered objects are parsed back with libyaml, so 5,000 nodes render in
well under a second.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from fabric.errors import UsageError
from fabric.models.intent import Intent, Node, PeerData, Switch, supported_fields
from fabric.userfiles import describe_os_error

CALICO_GROUP = "projectcalico.org/v3"
#: Name of the Kubernetes Secret (namespace calico-system) holding BGP passwords.
BGP_SECRET_NAME = "bgp-passwords"
BGP_SECRET_NAMESPACE = "calico-system"

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def mask_secret(ref: str) -> str:
    """The text rendered in place of a secret when the real value must not appear."""
    return f"<secret {ref}>"


def yaml_str(value: object) -> str:
    """A YAML double-quoted scalar (JSON string syntax, without HTML escaping).

    >>> print(yaml_str("rack == 'a'"))
    "rack == 'a'"
    """
    return json.dumps(str(value), ensure_ascii=False)


#: A templates folder, or folders searched in order (a project's own, then the shipped ones).
Templates = Path | Sequence[Path]


@functools.lru_cache(maxsize=8)
def _environment(templates: tuple[str, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(templates)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # device config and YAML, not HTML
    )
    env.filters["yamlstr"] = yaml_str
    return env


def _template(templates: Templates, name: str) -> jinja2.Template:
    """Template ``name`` from the first folder that has it.

    Raises:
        UsageError: no folder has it (naming the template and the folders), or it cannot be
            read or compiled (not UTF-8, a syntax error: naming the file and line).
    """
    folders = (templates,) if isinstance(templates, Path) else tuple(templates)
    try:
        return _environment(tuple(str(f) for f in folders)).get_template(name)
    except jinja2.TemplateNotFound:
        where = " or ".join(str(f) for f in folders)
        raise UsageError(f"template {name} not found (looked in {where})") from None
    except jinja2.TemplateSyntaxError as exc:  # an operator's template: one line, file and line
        raise UsageError(
            f"template {exc.filename or name}: line {exc.lineno}: {exc.message}"
        ) from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"template {name}: not UTF-8 text: invalid byte 0x{exc.object[exc.start]:02x} "
            f"at offset {exc.start}"
        ) from None
    except OSError as exc:  # a directory where the file should be, a symlink loop ...
        raise UsageError(f"template {name}: {describe_os_error(exc)}") from None


def _render(tpl: jinja2.Template, **context: Any) -> str:
    """``tpl`` rendered; a failure inside an operator's template is a one-line UsageError.

    Raises:
        UsageError: an undefined variable (StrictUndefined), a filter given the wrong type ...
    """
    try:
        return tpl.render(**context)
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError, LookupError) as exc:
        raise UsageError(f"template {tpl.name}: {type(exc).__name__}: {exc}") from None


def _parse(text: str, name: str = "") -> dict[str, Any]:
    try:
        body = yaml.load(text, Loader=_YAML_LOADER)  # a SafeLoader (libyaml)
    except yaml.YAMLError as exc:
        words = " ".join(str(exc).split())  # one line: PyYAML's message spans several
        raise UsageError(f"template {name} rendered invalid YAML: {words}") from None
    if not isinstance(body, dict):
        raise UsageError(f"template {name} did not render a mapping: {text[:80]!r}")
    return body


@dataclass(frozen=True)
class CalicoObject:
    """One rendered Calico (or Kubernetes) object and the host it belongs to."""

    host: str
    kind: str
    name: str
    body: dict[str, Any]
    text: str


def render_switch_config(
    switch: Switch, templates: Templates, secrets: dict[str, str] | None = None
) -> str:
    """EOS configuration text for ``switch``.

    Args:
        switch: the switch with its derived neighbors.
        templates: the templates folder, or folders searched in order
            (:meth:`fabric.paths.ProjectPaths.search`).
        secrets: resolved secret values by reference; missing ones render masked.
    """
    ref = switch.data.bgp_password_ref
    values = {ref: (secrets or {}).get(ref, mask_secret(ref))} if ref else {}
    return _render(_template(templates, "arista_eos/bgp.j2"), switch=switch, secrets=values)


def _peer_object(
    tpl: jinja2.Template, host: str, peer: PeerData, node: str | None, fields: frozenset[str]
) -> CalicoObject:
    text = _render(tpl, peer=peer, node=node, secret_name=BGP_SECRET_NAME, fields=fields)
    return CalicoObject(host, "BGPPeer", peer.name, _parse(text, str(tpl.name)), text)


def render_calico_objects(intent: Intent, templates: Templates) -> list[CalicoObject]:
    """Every Calico object of the intent, in apply order.

    Order: BGPConfiguration ``default`` first, then node BGP specs, BGPFilters, then peers
    (global, then node-specific). The deploy workflow reorders by risk; this is the canonical
    listing.
    Spec fields the configured Calico version lacks are never rendered (validation refuses
    intents that set them; defaults are simply left out).
    """
    cal = intent.cluster.calico
    config_fields = supported_fields("BGPConfiguration", cal.version)
    peer_fields = supported_fields("BGPPeer", cal.version)
    out: list[CalicoObject] = []
    config_tpl = _template(templates, "calico/bgpconfiguration.yaml.j2")
    text = _render(config_tpl, calico=cal, fields=config_fields)
    body = _parse(text, str(config_tpl.name))
    out.append(CalicoObject(intent.cluster.name, "BGPConfiguration", "default", body, text))
    node_tpl = _template(templates, "calico/node.yaml.j2")
    for node in intent.nodes:
        if node.as_override is not None or node.route_reflector_cluster_id is not None:
            out.append(_node_object(node_tpl, intent, node))
    if cal.filters:
        filter_tpl = _template(templates, "calico/bgpfilter.yaml.j2")
        for f in cal.filters:
            text = filter_tpl.render(filter=f)
            out.append(CalicoObject(intent.cluster.name, "BGPFilter", f.name, _parse(text), text))
    peer_tpl = _template(templates, "calico/bgppeer.yaml.j2")
    for peer in cal.peers:
        out.append(_peer_object(peer_tpl, intent.cluster.name, peer, None, peer_fields))
    for node in intent.nodes:
        for peer in node.peers:
            out.append(_peer_object(peer_tpl, node.name, peer, node.name, peer_fields))
    return out


def _node_object(tpl: jinja2.Template, intent: Intent, node: Node) -> CalicoObject:
    prefix_len = intent.switch(node.tor).data.svi.network.prefixlen
    text = _render(tpl, node=node, prefix_len=prefix_len)
    return CalicoObject(node.name, "Node", node.name, _parse(text, str(tpl.name)), text)


def dump_documents(objects: list[CalicoObject]) -> str:
    """Join rendered objects into one multi-document YAML text."""
    return "---\n".join(o.text if o.text.endswith("\n") else o.text + "\n" for o in objects)
