"""Safe YAML in and canonical YAML out.

Loading uses a subclass of ``yaml.SafeLoader`` (no Python objects can be built from a file) that
also refuses duplicate keys: PyYAML silently keeps the last of two ``points:`` entries, which in a
policy file is always a mistake someone needs to see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from calibrate.exceptions import FrameworkError, Problem, ProblemsError


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that reports duplicate mapping keys."""


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


_StrictSafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_yaml(text: str, source: str, error: type[ProblemsError] = FrameworkError) -> Any:
    """Parse YAML text safely; syntax errors and duplicate keys become ``error`` with line and column."""
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # a SafeLoader subclass: no Python objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "<file>"
        raise error(source, [Problem(where, f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise error(source, [Problem("<file>", f"not valid YAML: {exc}")]) from None


def read_yaml_file(path: str | Path, error: type[ProblemsError] = FrameworkError) -> Any:
    """Read a UTF-8 YAML file with :func:`load_yaml`; a missing or non-UTF-8 file is ``error`` too.

    Every YAML input of the package (frameworks, constraints, AHP matrices, experiments) is read
    here, so all of them are parsed safely and report duplicate keys and syntax errors alike.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(str(path), [Problem("<file>", "file not found; check the path")]) from None
    except UnicodeDecodeError:
        raise error(
            str(path), [Problem("<file>", "not UTF-8 text; save the file as UTF-8")]
        ) from None
    return load_yaml(text, str(path), error)


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
