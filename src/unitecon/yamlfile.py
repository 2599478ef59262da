"""A YAML file validated into a pydantic model, with errors that name `file:line: field`.

The project file, scenario files and TCO models are read through `parse_model`, so every
one of them reports a mistake the same way."""

from __future__ import annotations

from pathlib import Path
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
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    """YAML as the project files need it: a key given twice in one mapping is an error
    (PyYAML keeps the last silently), and dates stay text for pydantic to read, so a date
    that does not exist (2025-02-30) is reported with its line instead of crashing."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: PyYAML reports it below
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first given on line {first}); keep one",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text: str, source: str) -> Any:
    """`text` as YAML (`_Loader`); ConfigError naming the file and line when it is not."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: not valid YAML: {e}") from None
    except (ValueError, TypeError, RecursionError) as e:
        raise ConfigError(f"{source}: not valid YAML: {e}") from None


def read_text(path: Path) -> str:
    """A config file's text (UTF-8, a byte-order mark allowed); ConfigError naming the line
    of a byte that is not UTF-8 (a file saved as Latin-1, say), or the reason it cannot be
    read."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"Cannot read {path}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: byte 0x{data[e.start]:02x} is not UTF-8; save the file as UTF-8"
        ) from None


def parse_model(cls: type[M], text: str, source: str, what: str) -> M:
    """Validate YAML `text` as `cls`; raise ConfigError with `file:line: field: message`."""
    data: Any = load_yaml(text, source) or {}
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        try:  # the node tree, for the lines of the errors only (a second parse)
            node = yaml.compose(text, Loader=_Loader)
        except (yaml.YAMLError, RecursionError) as e2:
            raise ConfigError(f"{source}: not valid YAML: {e2}") from e2
        msgs = []
        for err in e.errors():
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            where = f"{source}:{line}" if line else source
            field = ".".join(str(p) for p in loc) or "(top level)"
            msgs.append(f"{where}: {field}: {err['msg']}")
        raise ConfigError(f"invalid {what}\n" + "\n".join(msgs)) from None
