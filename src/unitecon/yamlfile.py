"""A YAML file validated into a pydantic model, with errors that name `file:line: field`.

The project file, scenario files and TCO models are read through `parse_model`, so every
one of them reports a mistake the same way."""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from unitecon.errors import ConfigError


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Line (1-based) of the YAML node at pydantic error location `loc` (as deep as it goes)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            nxt = node.value[key] if key < len(node.value) else None
        if nxt is None:  # a union's tag or a missing field: stay on this node
            continue
        node = nxt
        line = node.start_mark.line + 1
    return line


M = TypeVar("M", bound=BaseModel)


def parse_model(cls: type[M], text: str, source: str, what: str) -> M:
    """Validate YAML `text` as `cls`; raise ConfigError with `file:line: field: message`."""
    try:
        data: Any = yaml.safe_load(text) or {}
        node = yaml.compose(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: not valid YAML: {e}") from e
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        msgs = []
        for err in e.errors():
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            where = f"{source}:{line}" if line else source
            field = ".".join(str(p) for p in loc) or "(top level)"
            msgs.append(f"{where}: {field}: {err['msg']}")
        raise ConfigError(f"invalid {what}\n" + "\n".join(msgs)) from None
