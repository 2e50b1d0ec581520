"""Load a human-written YAML file into a pydantic model, with errors that name file:line:field.

PyYAML's ``safe_load`` forgets where values came from, so the file is also composed into a node
tree; a validation error's location (``seeds.3.slots.col.pool``) is walked down that tree to the
line of the offending value. Repeated mapping keys (which ``safe_load`` silently resolves to the
last one) are rejected, because in a seed they almost always mean a copy-paste mistake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from termcorpus.errors import DataError

M = TypeVar("M", bound=BaseModel)


def _check_duplicate_keys(node: yaml.Node, where: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    raise DataError(f"key '{k.value}' appears twice", where=f"{where}:{k.start_mark.line + 1}")
                seen.add(k.value)
            _check_duplicate_keys(v, where)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _check_duplicate_keys(v, where)


def node_line(root: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """1-based line of the deepest node on path ``loc`` (keys and list indexes)."""
    if root is None:
        return None
    node = root
    line = node.start_mark.line + 1
    for part in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    nxt = v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            nxt = node.value[part]
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse ``path``: (plain data, node tree). Bad YAML or repeated keys raise DataError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"not UTF-8 ({e.reason} at byte {e.start})", where=str(path))
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise DataError(f"invalid YAML ({getattr(e, 'problem', None) or e})", where=where)
    if root is not None:
        _check_duplicate_keys(root, str(path))
    return data, root


def format_error(err: ValidationError, prefix: Sequence[Any] = ()) -> tuple[str, tuple[Any, ...]]:
    """(one-line message, location) of a pydantic error's first problem."""
    first = err.errors()[0]
    loc = tuple(prefix) + tuple(first["loc"])
    field = ".".join(str(x) for x in loc) or "<file>"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        msg = "required field is missing"
    elif first["type"] == "extra_forbidden":
        msg = "unknown field"
    return f"field '{field}': {msg}", loc


def validate_file(path: Path, data: Any, root: yaml.Node | None, model: type[M]) -> M:
    """``model.model_validate(data)``; an error becomes DataError at the offending line."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        msg, loc = format_error(e)
        line = node_line(root, loc)
        raise DataError(msg, where=f"{path}:{line}" if line else str(path))
