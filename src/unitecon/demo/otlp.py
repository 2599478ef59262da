"""OTLP/HTTP JSON encoding of the demo's spans (`ExportTraceServiceRequest`).

Spans are built with their attributes already encoded as JSON fragments, so writing a day of
traces is string concatenation instead of millions of small dicts. The encoding follows the
OTLP JSON mapping: hex ids, `kind` and status `code` as integers, times in nanoseconds and
`intValue` as decimal strings, string arrays as `arrayValue`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from json.encoder import encode_basestring_ascii as _q
from pathlib import Path

INTERNAL, SERVER, CLIENT = 1, 2, 3


def kv(key: str, value: str | int | float | bool | list[str]) -> str:
    """One encoded `KeyValue`."""
    t = type(value)
    if t is int:
        return f'{_key(key)}{{"intValue":"{value}"}}}}'
    if t is str:
        return _kv_str(key, value)  # type: ignore[arg-type]
    if t is bool:
        return f'{_key(key)}{{"boolValue":{"true" if value else "false"}}}}}'
    if t is float:
        return f'{_key(key)}{{"doubleValue":{value!r}}}}}'
    if isinstance(value, list):
        items = ",".join(f'{{"stringValue":{_q(s)}}}' for s in value)
        return f'{_key(key)}{{"arrayValue":{{"values":[{items}]}}}}}}'
    raise TypeError(f"unsupported attribute value for {key}: {value!r}")


@cache
def _key(key: str) -> str:
    return f'{{"key":{_q(key)},"value":'


@lru_cache(maxsize=1 << 16)
def _kv_str(key: str, value: str) -> str:
    return f'{_key(key)}{{"stringValue":{_q(value)}}}}}'


@dataclass(frozen=True)
class Resource:
    """What identifies the process that emitted spans (one `resourceSpans` entry)."""

    attrs: tuple[tuple[str, str], ...]

    def encode(self) -> str:
        attrs = ",".join(kv(k, v) for k, v in self.attrs)
        return f'{{"attributes":[{attrs}]}}'


@dataclass(frozen=True)
class Scope:
    name: str
    version: str

    def encode(self) -> str:
        return f'{{"name":{_q(self.name)},"version":{_q(self.version)}}}'


@dataclass(slots=True)
class Span:
    """A span with pre-encoded attributes; `end` may be set after its children are built."""

    trace_id: str
    span_id: str
    parent: str | None
    name: str
    kind: int
    start: int
    end: int
    attrs: list[str]
    resource: Resource
    scope: Scope
    error: str | None = None

    def encode(self) -> str:
        parent = f',"parentSpanId":"{self.parent}"' if self.parent else ""
        status = f',"status":{{"code":2,"message":{_q(self.error)}}}' if self.error else ""
        return (
            f'{{"traceId":"{self.trace_id}","spanId":"{self.span_id}"{parent},'
            f'"name":{_q(self.name)},"kind":{self.kind},'
            f'"startTimeUnixNano":"{self.start}","endTimeUnixNano":"{self.end}",'
            f'"attributes":[{",".join(self.attrs)}]{status}}}'
        )


def write_request(path: Path, spans: Iterable[Span]) -> int:
    """Write one `ExportTraceServiceRequest`, grouping spans by resource then scope."""
    groups: dict[Resource, dict[Scope, list[str]]] = {}
    n = 0
    for s in spans:
        groups.setdefault(s.resource, {}).setdefault(s.scope, []).append(s.encode())
        n += 1
    parts = []
    for res, scopes in groups.items():
        scope_parts = ",".join(
            f'{{"scope":{sc.encode()},"spans":[{_lines(items)}]}}' for sc, items in scopes.items()
        )
        parts.append(f'{{"resource":{res.encode()},"scopeSpans":[{scope_parts}]}}')
    path.write_text(f'{{"resourceSpans":[{_lines(parts)}]}}\n')
    return n


def _lines(items: list[str]) -> str:
    return ",\n".join(items)
