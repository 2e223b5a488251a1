"""Label and field selectors with the Kubernetes grammar.

>>> match_labels(parse_label_selector("app in (web, db), tier!=cache, !legacy"),
...              {"app": "web", "tier": "front"})
True
>>> match_fields(parse_field_selector("metadata.name==a"), {"metadata": {"name": "b"}})
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(?P<neg>!)?\s*(?P<key>{_KEY})\s*$")
_CMP_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|!=|=|>|<)\s*(?P<value>{_VALUE})\s*$")


class SelectorError(ValueError):
    """A selector that does not parse; the message is what the API server answers (400)."""


@dataclass(frozen=True)
class Requirement:
    """One requirement of a label selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement."""
        has = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "in"):
            return has and value in self.values
        if self.op in ("!=", "notin"):
            return not has or value not in self.values
        if not has or value is None:
            return False
        try:
            number, limit = int(value), int(self.values[0])
        except ValueError:
            return False
        return number > limit if self.op == ">" else number < limit


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def parse_label_selector(text: str) -> list[Requirement]:
    """Parse a label selector (``=``, ``==``, ``!=``, ``in``, ``notin``, exists, ``!key``)."""
    reqs: list[Requirement] = []
    for part in _split_top_level(text):
        if m := _SET_RE.match(part):
            values = tuple(v.strip() for v in m["values"].split(",") if v.strip())
            reqs.append(Requirement(m["key"], m["op"], values))
        elif m := _CMP_RE.match(part):
            op = "=" if m["op"] == "==" else m["op"]
            if op in (">", "<") and not m["value"].lstrip("-").isdigit():
                raise SelectorError(
                    f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must "
                    f"be an integer: {part.strip()!r}"
                )
            reqs.append(Requirement(m["key"], op, (m["value"],)))
        elif m := _EXISTS_RE.match(part):
            reqs.append(Requirement(m["key"], "!" if m["neg"] else "exists"))
        else:
            raise SelectorError(f"unable to parse requirement: invalid label selector: {part!r}")
    return reqs


def match_labels(reqs: list[Requirement], labels: dict[str, str] | None) -> bool:
    """Whether every requirement holds for ``labels``."""
    labels = labels or {}
    return all(r.matches(labels) for r in reqs)


# Fields every kind supports, plus the extra ones per kind (as the real API server does).
_FIELDS_COMMON = {"metadata.name", "metadata.namespace"}
_FIELDS_EXTRA = {
    "Pod": {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    },
    "Node": {"spec.unschedulable"},
    "Namespace": {"status.phase"},
    "Secret": {"type"},
    # core/v1 and events.k8s.io/v1 Events (kubectl describe selects by involvedObject.*)
    "Event": {
        *(
            f"{ref}.{f}"
            for ref in ("involvedObject", "regarding")
            for f in (
                "kind",
                "namespace",
                "name",
                "uid",
                "apiVersion",
                "resourceVersion",
                "fieldPath",
            )
        ),
        "reason",
        "reportingComponent",
        "reportingController",
        "source",
        "type",
    },
}
#: Field labels that name another field of the object (an Event's ``source`` is its component).
_FIELD_ALIASES = {"source": "source.component"}


@dataclass(frozen=True)
class FieldRequirement:
    """One requirement of a field selector."""

    field: str
    equal: bool
    value: str


def parse_field_selector(text: str) -> list[FieldRequirement]:
    """Parse a field selector (``f=v``, ``f==v``, ``f!=v``, comma separated)."""
    out: list[FieldRequirement] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$", part)
        if m is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        out.append(FieldRequirement(m[1], m[2] != "!=", m[3].strip()))
    return out


def check_fields(reqs: list[FieldRequirement], kind: str) -> None:
    """Raise :class:`SelectorError` for a field the kind does not support."""
    allowed = _FIELDS_COMMON | _FIELDS_EXTRA.get(kind, set())
    for r in reqs:
        if r.field not in allowed:
            raise SelectorError(f"field label not supported: {r.field}")


def _field_value(obj: dict[str, Any], dotted: str) -> str:
    dotted = _FIELD_ALIASES.get(dotted, dotted)
    cur: Any = obj
    for part in dotted.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def match_fields(reqs: list[FieldRequirement], obj: dict[str, Any]) -> bool:
    """Whether every field requirement holds for ``obj``."""
    return all((_field_value(obj, r.field) == r.value) == r.equal for r in reqs)
