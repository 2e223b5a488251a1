"""YAML as operators write it, read safely: one loader for every YAML file a user gives.

The inventory (:mod:`fabric.intent`, :class:`fabric.inventory.FabricInventory`), run
definitions (:mod:`fabric.rundefs`), check catalogs (``--catalog``) and saved cluster objects
(``run compliance --from``) are all read here. PyYAML's safe loader (libyaml when available)
composes the document; before anything is built from it, the composed nodes are checked:

* an alias used inside its own anchor (``x: &r [a, *r]``, ``&m {a: *m}``) is refused: it
  would make every consumer of the data loop or run out of memory;
* aliases may expand a document to at most :data:`EXPANSION_FACTOR` times the nodes it holds
  (at least :data:`MIN_EXPANSION` nodes): a "billion laughs" document is refused after a walk
  over the nodes it holds, in milliseconds, instead of being expanded;
* nesting deeper than :data:`MAX_DEPTH` levels is refused;
* every tagged or typed scalar (``!!int 0b_``, a 5,000-digit integer, a 13th month) is built
  once here, and a value that cannot be built is reported with its line and field.

A refused document raises :class:`YamlError`, a :class:`~fabric.errors.UsageError` (exit 2)
whose :attr:`~YamlError.problems` say where (line, path of keys) and what; callers that own
richer findings (the inventory's :class:`~fabric.errors.Issue`) convert them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from fabric.errors import UsageError

#: Aliases may expand a document to this many times the nodes it holds ...
EXPANSION_FACTOR = 10
#: ... or to this many nodes, whichever is larger (small documents may share freely).
MIN_EXPANSION = 100_000
#: Deepest nesting of mappings and sequences accepted (libyaml itself stops at 1,000).
MAX_DEPTH = 100

_TAG = "tag:yaml.org,2002:"
#: Scalars that need no checking: strings, null, and the merge (``<<``) and value (``=``) keys
#: PyYAML resolves while building the mapping that holds them.
_PLAIN_TAGS = frozenset(_TAG + t for t in ("str", "null", "merge", "value"))

ProblemKind = Literal["syntax", "alias", "depth", "value"]


@dataclass(frozen=True)
class YamlProblem:
    """One reason a YAML document was refused.

    Attributes:
        kind: ``syntax`` (not YAML), ``alias`` (a recursive alias or too much expansion),
            ``depth`` (nested too deeply) or ``value`` (a scalar that cannot be built).
        line: 1-based line of the offending node (0: unknown).
        path: the keys and indexes from the document's root to the node (empty: the root).
        message: what is wrong.
    """

    kind: ProblemKind
    line: int
    path: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.describe(with_field=True)

    def describe(self, *, with_field: bool) -> str:
        """``line N: [field F: ]message`` (``invalid YAML: line N: ...`` for syntax)."""
        where = f"line {self.line}: " if self.line else ""
        if self.kind == "syntax":
            return f"invalid YAML: {where}{self.message}"
        path = self.path if len(self.path) <= 8 else (*self.path[:3], "...", *self.path[-3:])
        field = f"field {'.'.join(path)}: " if path and with_field else ""
        return f"{where}{field}{self.message}"


class YamlError(UsageError):
    """A YAML document was refused; :attr:`problems` say where and why."""

    def __init__(self, source: str, problems: list[YamlProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {problems[0]}")


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader (libyaml when available); we compose, check, then construct."""


def _children(node: yaml.Node) -> Iterator[tuple[Any, yaml.Node]]:
    """A node's children with the path element each is reached by (keys first, then value).

    The element is the key's text, or the index (an int: turned into text for a message only).
    """
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if key.__class__ is yaml.ScalarNode else "?"
            yield name, key
            yield name, value
    elif isinstance(node, yaml.SequenceNode):
        yield from enumerate(node.value)


def _line(node: yaml.Node) -> int:
    mark = node.start_mark
    return int(mark.line) + 1 if mark is not None else 0


def _fast_scalar(node: yaml.ScalarNode) -> bool:
    """Whether our constructor builds this scalar itself (it cannot fail)."""
    tag, value = node.tag, node.value
    if tag in _PLAIN_TAGS:
        return True
    # decimal integers, not 0-prefixed (YAML 1.1 reads those as octal), short enough for int()
    return tag == _TAG + "int" and value.isdigit() and value[0] != "0" and len(value) <= 4000


class _Checker:
    """One walk over the distinct nodes of a composed document (see the module docstring)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.sizes: dict[int, int] = {}  # node -> nodes it expands to (itself included)
        self.heights: dict[int, int] = {}  # collection -> nesting levels at and below it
        self.reused: dict[int, yaml.Node] = {}  # nodes reached more than once (aliases)
        self.problems: list[YamlProblem] = []

    def check(self, root: yaml.Node) -> list[YamlProblem]:
        """Every problem of the document at ``root`` (empty: it may be built)."""
        sizes, reused, problems = self.sizes, self.reused, self.problems
        if isinstance(root, yaml.ScalarNode):
            sizes[id(root)] = 1
            if not _fast_scalar(root):
                self._scalar(root, None)
            return problems
        # (node, parent entry, after its children?); an entry is (its parent's entry, the
        # key or index): the path of keys is rebuilt only for a problem
        stack: list[tuple[yaml.Node, Any, bool]] = [(root, None, False)]
        on_path: set[int] = set()
        while stack:
            node, entry, done = stack.pop()
            nid = id(node)
            if done:
                on_path.discard(nid)
                self._close(node, entry)
                if problems:
                    return problems
                continue
            if nid in sizes:  # pushed twice before its first visit ended
                reused[nid] = node
                continue
            on_path.add(nid)
            stack.append((node, entry, True))
            for name, child in _children(node):
                cid = id(child)  # (the hot loop: one pass over every node the text holds)
                if cid in sizes:
                    reused[cid] = child
                elif isinstance(child, yaml.ScalarNode):
                    sizes[cid] = 1
                    if not _fast_scalar(child):
                        self._scalar(child, (entry, name))
                        if problems:
                            return problems
                elif cid in on_path:
                    problems.append(
                        YamlProblem(
                            "alias",
                            _line(child),
                            _path((entry, name)),
                            "an alias used inside its own anchor (a recursive alias): "
                            "the data would never end",
                        )
                    )
                    return problems
                else:
                    stack.append((child, (entry, name), False))
        total = sizes[id(root)]
        limit = max(MIN_EXPANSION, EXPANSION_FACTOR * len(sizes))
        if total > limit:
            worst = max(reused.values(), key=lambda n: sizes[id(n)], default=root)
            problems.append(
                YamlProblem(
                    "alias",
                    _line(worst),
                    (),
                    f"aliases expand the document to {total:,} nodes, more than "
                    f"{EXPANSION_FACTOR} times the {len(sizes):,} it holds "
                    f"(at least {MIN_EXPANSION:,} are allowed): refused unexpanded",
                )
            )
        return problems

    def _scalar(self, node: yaml.ScalarNode, entry: Any) -> None:
        """Build a typed scalar now; PyYAML keeps it (constructed_objects) for the document."""
        try:
            self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.problems.append(YamlProblem("value", _line(node), _path(entry), str(problem)))
        except Exception as exc:  # PyYAML's scalar constructors raise what
            # they happen to (ValueError for "0b_", IndexError for an empty !!int ...)
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            self.problems.append(
                YamlProblem(
                    "value",
                    _line(node),
                    _path(entry),
                    f"invalid {node.tag.removeprefix(_TAG)} value {shown!r}: {_short(exc)}",
                )
            )

    def _close(self, node: yaml.Node, entry: Any) -> None:
        """A collection's children are all checked: its expanded size and nesting height."""
        sizes, heights = self.sizes, self.heights
        total, height = 1, 0
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += sizes[id(key)] + sizes[id(value)]
                height = max(height, heights.get(id(key), 0), heights.get(id(value), 0))
        else:
            for item in node.value:
                total += sizes[id(item)]
                height = max(height, heights.get(id(item), 0))
        sizes[id(node)] = total
        heights[id(node)] = height = height + 1
        if height > MAX_DEPTH:
            self.problems.append(
                YamlProblem(
                    "depth",
                    _line(node),
                    _path(entry),
                    f"nested {height} levels deep (at most {MAX_DEPTH} are accepted)",
                )
            )


def _short(exc: BaseException) -> str:
    text = str(exc).split(";")[0]
    return text if len(text) <= 120 else text[:120] + "..."


def _path(entry: Any) -> tuple[str, ...]:
    out: list[str] = []
    while entry is not None:
        entry, name = entry
        out.append(str(name))
    return tuple(reversed(out))


def _syntax(exc: yaml.YAMLError) -> YamlProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = int(mark.line) + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    words = " ".join(str(w) for w in (context, problem) if w) or str(exc).splitlines()[0]
    return YamlProblem("syntax", line, (), words)


class _SlowPath(Exception):
    """The document uses something the fast constructor leaves to PyYAML (merge keys ...)."""


def _construct(loader: Any, node: yaml.Node) -> Any:
    """Build Python data from a checked node, like SafeConstructor but several times faster.

    Plain maps, lists, strings, null and decimal integers are built directly; any other
    scalar is the object PyYAML built during the check; merge keys, unhashable keys or
    custom tags make the caller fall back to PyYAML for the whole document. An aliased
    node is built again at each use (each host gets its own copy), which the expansion
    bound keeps finite.
    """
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag == _TAG + "str":
            return node.value
        if tag == _TAG + "int" and _fast_scalar(node):
            return int(node.value)
        if tag == _TAG + "null":
            return None
        return loader.construct_object(node, deep=True)
    if isinstance(node, yaml.MappingNode) and tag == _TAG + "map":
        out: dict[Any, Any] = {}
        for k, v in node.value:
            if k.tag == _TAG + "merge" or not isinstance(k, yaml.ScalarNode):
                raise _SlowPath
            key = _construct(loader, k)
            try:
                out[key] = _construct(loader, v)
            except TypeError:  # an unhashable key (a binary value ...): PyYAML says where
                raise _SlowPath from None
        return out
    if isinstance(node, yaml.SequenceNode) and tag == _TAG + "seq":
        return [_construct(loader, item) for item in node.value]
    raise _SlowPath


class Document:
    """One composed and checked YAML document; :meth:`data` builds its Python value."""

    def __init__(self, loader: Any, node: yaml.Node, source: str) -> None:
        self._loader = loader
        self.node = node
        self.source = source

    def data(self) -> Any:
        """The document's value (dicts, lists, str, int ...).

        Raises:
            YamlError: PyYAML refused a construct (an unhashable key, an unknown tag).
        """
        try:
            try:
                return _construct(self._loader, self.node)
            except _SlowPath:
                return self._loader.construct_document(self.node)
        except yaml.YAMLError as exc:
            raise YamlError(self.source, [_constructor(exc)]) from None
        except Exception as exc:  # as for scalars: a value PyYAML cannot build
            problem = YamlProblem("value", _line(self.node), (), _short(exc))
            raise YamlError(self.source, [problem]) from None


def _constructor(exc: yaml.YAMLError) -> YamlProblem:
    mark = getattr(exc, "problem_mark", None)
    line = int(mark.line) + 1 if mark is not None else 0
    words = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return YamlProblem("value", line, (), str(words))


def _compose_next(loader: Any, source: str, *, single: bool) -> yaml.Node | None:
    """The next document's node (``single``: the only one), checked; None at the end."""
    try:
        if single:
            node: yaml.Node | None = loader.get_single_node()
        else:
            node = loader.get_node() if loader.check_node() else None
    except yaml.YAMLError as exc:
        raise YamlError(source, [_syntax(exc)]) from None
    except RecursionError:  # the pure-Python composer on very deep nesting
        problem = YamlProblem("depth", 0, (), f"nested too deeply (at most {MAX_DEPTH} levels)")
        raise YamlError(source, [problem]) from None
    if node is None:
        return None
    problems = _Checker(loader).check(node)
    if problems:
        raise YamlError(source, problems)
    return node


def compose(text: str, source: str) -> Document | None:
    """The one document of ``text``, checked; None for an empty stream.

    Args:
        text: the YAML text.
        source: the file, as messages show it.

    Raises:
        YamlError: not YAML, more than one document, or refused (module docstring).
    """
    loader = _Loader(text)
    node = _compose_next(loader, source, single=True)
    return None if node is None else Document(loader, node, source)


def load(text: str, source: str) -> Any:
    """The value of the one YAML document in ``text`` (None when empty).

    Raises:
        YamlError: see :func:`compose` and :meth:`Document.data`.
    """
    doc = compose(text, source)
    return None if doc is None else doc.data()


def load_all(text: str, source: str) -> list[Any]:
    """The values of every document of ``text`` (``---``-separated), in order.

    Raises:
        YamlError: see :func:`compose` and :meth:`Document.data`.
    """
    loader = _Loader(text)
    out: list[Any] = []
    while (node := _compose_next(loader, source, single=False)) is not None:
        out.append(Document(loader, node, source).data())
    return out
