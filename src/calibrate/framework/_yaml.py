"""Safe YAML in and canonical YAML out.

Loading uses a subclass of ``yaml.SafeLoader`` (no Python objects can be built from a file) that
also refuses duplicate keys: PyYAML silently keeps the last of two ``points:`` entries, which in a
policy file is always a mistake someone needs to see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from calibrate.exceptions import FrameworkError, Problem, ProblemsError

MSG_BAD_CHARACTER = (
    "a control character (code {code:#06x}) that YAML does not allow; delete it (it is often "
    "left by a copy from another program)"
)


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that reports duplicate mapping keys."""


class _FastStrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same on libyaml's parser (a framework file in 15 ms instead of 180 ms). A document it
    refuses is parsed again by :class:`_StrictSafeLoader`, whose messages say more (``expected
    ',' or ']', but got ':'``)."""


def _construct_mapping(
    loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: dict[Any, yaml.Mark] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r} (first at line {seen[key].line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark
    return loader.construct_mapping(node, deep=deep)


for _loader in (_StrictSafeLoader, _FastStrictLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


#: Largest document, counted as values after expanding aliases (a real framework has ~3,000).
MAX_NODES = 200_000
#: Deepest nesting of mappings and lists (a real framework nests about 6 levels).
MAX_DEPTH = 40
#: Plain scalars YAML 1.1 reads as text although they look like numbers (no dot before ``e``).
_TEXT_NUMBER = re.compile(r"^[-+]?(?:\d+|\d*\.\d*)[eE][-+]?\d+$")

MSG_ALIAS_BOMB = (
    "expands to more than {limit:,} values through aliases (*name); refused before expanding — "
    "write the values out, or use fewer nested aliases"
)
MSG_ALIAS_LOOP = "an alias refers to a value that contains itself; remove the loop"
MSG_TOO_DEEP = "nested more than {limit} levels deep; flatten the document"
MSG_COMPLEX_KEY = "a key must be plain text or a number, not a {kind}; write the key as text"
MSG_TEXT_NUMBER = (
    "{text!r} is read as text, not a number, by YAML; write it with a dot before the "
    "exponent ({fixed}) or as a plain decimal"
)
MSG_NOT_MAPPING = "expected a mapping (lines of key: value) at the top, found {kind}"


def _fixed(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    return f"{mantissa if '.' in mantissa else mantissa + '.0'}e{exponent}"


def _where(node: yaml.Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}"


class _Checker:
    """Walks the composed node graph (aliases are shared nodes, not copies) before construction."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.size: dict[int, int] = {}
        self.open: set[int] = set()

    def count(self, node: yaml.Node, depth: int) -> int:
        """Values below ``node`` once expanded; each node visited once, so bombs cost nothing."""
        key = id(node)
        if key in self.size:
            return self.size[key]
        if key in self.open:
            self.problems.append(Problem(_where(node), MSG_ALIAS_LOOP))
            raise _Stop
        if depth > MAX_DEPTH:
            self.problems.append(Problem(_where(node), MSG_TOO_DEEP.format(limit=MAX_DEPTH)))
            raise _Stop
        self.open.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    kind = "mapping" if isinstance(k, yaml.MappingNode) else "list"
                    self.problems.append(Problem(_where(k), MSG_COMPLEX_KEY.format(kind=kind)))
                total += self.count(k, depth + 1) + self.count(v, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(self.count(v, depth + 1) for v in node.value)
        elif (
            isinstance(node, yaml.ScalarNode)
            and not node.style  # plain: None from PyYAML, "" from libyaml
            and node.tag.endswith(":str")
            and _TEXT_NUMBER.match(node.value)
        ):
            message = MSG_TEXT_NUMBER.format(text=node.value, fixed=_fixed(node.value))
            self.problems.append(Problem(_where(node), message))
        self.open.discard(key)
        self.size[key] = total
        if total > MAX_NODES:
            self.problems.append(Problem(_where(node), MSG_ALIAS_BOMB.format(limit=MAX_NODES)))
            raise _Stop
        return total


class _Stop(Exception):
    """The document is refused; the problems say why."""


def load_yaml(text: str, source: str, error: type[ProblemsError] = FrameworkError) -> Any:
    """Parse YAML text safely; every refusal is ``error`` with line and column.

    Syntax errors, duplicate keys, complex (mapping or list) keys, nesting deeper than
    :data:`MAX_DEPTH`, alias bombs (measured on the node graph *before* anything is expanded:
    more than :data:`MAX_NODES` values) and numbers YAML 1.1 reads as text (``1e-3``).
    """
    return _load(text, source, error, _FastStrictLoader)


def _load(text: str, source: str, error: type[ProblemsError], kind: type) -> Any:
    loader = None
    try:
        loader = kind(text)  # a SafeLoader: no Python objects; PyYAML's reads the text here
        node = loader.get_single_node()
        if node is None:
            return None
        checker = _Checker()
        try:
            checker.count(node, 0)
        except _Stop:
            pass
        if checker.problems:
            raise error(source, checker.problems)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        if kind is not _StrictSafeLoader:
            return _load(text, source, error, _StrictSafeLoader)
        if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - text.rfind("\n", 0, exc.position)
            message = MSG_BAD_CHARACTER.format(code=exc.character)
            raise error(source, [Problem(f"line {line}, column {column}", message)]) from None
        if not isinstance(exc, yaml.MarkedYAMLError):
            raise error(source, [Problem("<file>", f"not valid YAML: {exc}")]) from None
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "<file>"
        raise error(source, [Problem(where, f"not valid YAML: {exc.problem}")]) from None
    except RecursionError:
        raise error(source, [Problem("<file>", MSG_TOO_DEEP.format(limit=MAX_DEPTH))]) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_file(
    path: str | Path, error: type[ProblemsError] = FrameworkError, *, mapping: bool = True
) -> Any:
    """Read a UTF-8 YAML file with :func:`load_yaml`; a missing or non-UTF-8 file is ``error`` too.

    Every YAML input of the package (frameworks, constraints, AHP matrices, experiments) is read
    here, so all of them are parsed safely and report duplicate keys and syntax errors alike.
    With ``mapping`` (the default) a document that is a list or a single value is refused; an
    empty file gives ``None``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(str(path), [Problem("<file>", "file not found; check the path")]) from None
    except IsADirectoryError:
        raise error(str(path), [Problem("<file>", "is a folder; name a YAML file")]) from None
    except UnicodeDecodeError:
        raise error(
            str(path), [Problem("<file>", "not UTF-8 text; save the file as UTF-8")]
        ) from None
    document = load_yaml(text, str(path), error)
    if mapping and document is not None and not isinstance(document, dict):
        kind = "a list" if isinstance(document, list) else f"the single value {document!r:.40}"
        raise error(str(path), [Problem("<top>", MSG_NOT_MAPPING.format(kind=kind))])
    return document


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, Chinese text kept readable."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(document: Any) -> str:
    """Dump a plain document (dicts, lists, numbers, text) as canonical YAML."""
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


# --- typed configuration ---------------------------------------------------------------------


def _yaml_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top>"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r:.40}"
    return repr(value)


def _typed_message(err: Mapping[str, Any]) -> str:
    """One pydantic error as what was found and how to fix it."""
    kind, found, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    unquote = f"; write it without quotes: {found}" if isinstance(found, str) else ""
    messages = {
        "missing": "required key is missing; add it",
        "extra_forbidden": "unknown key; check the spelling (see the documented keys)",
        "int_type": f"expected a whole number, found {_kind(found)}{unquote}",
        "int_from_float": f"expected a whole number, found {found!r}",
        "float_type": f"expected a number, found {_kind(found)}{unquote}",
        "bool_type": f"expected true or false, found {_kind(found)}",
        "string_type": f"expected text, found {_kind(found)}; put it in quotes",
        "list_type": f"expected a list (- item lines or [a, b]), found {_kind(found)}",
        "dict_type": f"expected a mapping (key: value lines), found {_kind(found)}",
        "model_type": f"expected a mapping (key: value lines), found {_kind(found)}",
        "literal_error": f"found {found!r}; choose {ctx.get('expected', '')}",
        "greater_than_equal": f"expected a number >= {ctx.get('ge')}, found {found!r}",
        "greater_than": f"expected a number > {ctx.get('gt')}, found {found!r}",
        "less_than_equal": f"expected a number <= {ctx.get('le')}, found {found!r}",
        "finite_number": f"expected a finite number, found {found!r}",
    }
    return messages.get(kind, f"{err.get('msg', 'invalid value')} (found {_kind(found)})")


def typed_problems(model: type[Any], raw: Any, prefix: str = "") -> tuple[Any, list[Problem]]:
    """Validate a parsed YAML document against a pydantic model: ``(instance or None, problems)``.

    This is the one typed configuration reader: a wrong type anywhere (text for a number, a
    list for a mapping, an unknown key) becomes a :class:`Problem` naming the YAML path and the
    fix, never a traceback. Problems come in the order of the document's top-level keys. Models
    should use ``strict=True`` so ``"10"`` is not silently a number.
    """
    from pydantic import ValidationError

    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    order = {key: i for i, key in enumerate(raw)} if isinstance(raw, Mapping) else {}
    errors = sorted(errors, key=lambda e: order.get(e["loc"][0] if e["loc"] else "", -1))
    return None, [Problem(prefix + _yaml_path(tuple(e["loc"])), _typed_message(e)) for e in errors]


def parse_typed(
    model: type[Any], raw: Any, source: str, error: type[ProblemsError], prefix: str = ""
) -> Any:
    """:func:`typed_problems`, raising ``error`` with every problem when there are any."""
    instance, problems = typed_problems(model, raw, prefix)
    if problems:
        raise error(source, problems)
    return instance
