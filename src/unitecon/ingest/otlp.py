"""OTLP traces: `ExportTraceServiceRequest` as OTLP/HTTP JSON or protobuf, gzip or plain.

JSON follows the OTLP/HTTP encoding: hex trace/span ids, integer enums, 64-bit integers as
decimal strings (numbers accepted too), nested `arrayValue`/`kvlistValue`. Both encodings are
decoded into the same `Span` values, so the same spans give identical events.

Each GenAI span becomes one event (`event_id = trace_id:span_id`); agent and workflow spans
are kept as tree nodes (pricing skips them). Spans with no `gen_ai.*` and no `unitecon.*`
attribute are not GenAI: they are skipped and counted (`Chunk.skipped`), not quarantined.
Attribute keys per field: `keys.py` (span attributes win over resource attributes).

`candidate` defines a span's candidate row (raw strings for the validation query, plus the
raw record kept for a rejected span). The readers and the receiver build the same rows
faster (`proto_rows` straight from the protobuf objects, `span_rows` from `Span`s, then
`candidate_table`, column by column), reading each resource's attributes once; a test holds
them to `candidate` (tests/ingest/test_otlp_decode_equivalence.py).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from google.protobuf.message import DecodeError

from unitecon.ingest import keys as k
from unitecon.ingest import validate as v
from unitecon.ingest.lines import MAX_WHOLE_FILE_BYTES, _Broken, raw_blocks
from unitecon.ledger.records import CHUNK_ROWS, Chunk, Rejected
from unitecon.ledger.schema import KNOWN_OPERATIONS

#: event field -> attribute keys, in order of preference.
FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "provider": k.PROVIDER,
    "model": k.MODEL,
    "operation": k.OPERATION,
    "input_tokens": k.INPUT_TOKENS,
    "output_tokens": k.OUTPUT_TOKENS,
    "cache_read_tokens": k.CACHE_READ_TOKENS,
    "cache_write_tokens": k.CACHE_WRITE_TOKENS,
    "cache_write_1h_tokens": k.CACHE_WRITE_1H_TOKENS,
    "reasoning_tokens": k.REASONING_TOKENS,
    "agent": k.AGENT,
    "conversation_id": k.CONVERSATION_ID,
    "service_tier": k.SERVICE_TIER,
    "reported_cost": k.REPORTED_COST,
    "customer_id": k.CUSTOMER_ID,
    "user_id": k.USER_ID,
    "feature": k.FEATURE,
    "team": k.TEAM,
    "environment": k.ENVIRONMENT,
    "task_id": k.TASK_ID,
    "task_type": k.TASK_TYPE,
    "attempt": k.ATTEMPT,
    "accepted": k.ACCEPTED,
    "endpoint": k.ENDPOINT,
    "batch": k.BATCH,
    "unit_type": k.UNIT_TYPE,
    "units": k.UNITS,
    "sample_rate": k.SAMPLE_RATE,
}
MAPPED_KEYS = frozenset(key for keys in FIELD_KEYS.values() for key in keys) | set(k.TTFT_SECONDS)
#: Keys of the business dimensions and the conversation: a span with one of them is a node of
#: its trace (its descendants inherit it), though it has no other GenAI attribute.
NODE_KEYS = frozenset(
    key
    for f in ("customer_id", "user_id", "feature", "team", "conversation_id", "task_type")
    for key in FIELD_KEYS[f]
)
#: Message content, not usage: never copied into tags.
CONTENT_KEYS = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.prompt",
        "gen_ai.completion",
        "input.value",
        "output.value",
    }
)
#: Prefixes of message content keys (OpenInference, OpenLLMetry's indexed prompts).
CONTENT_PREFIXES = (
    "llm.input_messages.",
    "llm.output_messages.",
    "llm.prompts.",
    "llm.tools.",
    "gen_ai.prompt.",
    "gen_ai.completion.",
)
STATUS_ERROR = 2
DECODE_ERRORS = (
    *(OSError, EOFError, zlib.error, ValueError, KeyError, TypeError, DecodeError),
    *(AttributeError, RecursionError),
)


@dataclass
class Span:
    """One span, decoded from either encoding; attributes as plain Python values."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    status_code: int
    attrs: dict[str, Any]
    resource: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: not decoded (`error` says why): rejected whether or not it looks GenAI
    broken: bool = False


# -- JSON encoding --------------------------------------------------------------------------------
#: An attribute value nested deeper than this (arrays in arrays...) rejects its span.
MAX_VALUE_DEPTH = 64


def _json_any(value: dict[str, Any] | None, depth: int = 0) -> Any:
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return _json_int(value["intValue"], "intValue")
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        if depth >= MAX_VALUE_DEPTH:
            raise ValueError(f"an attribute value nested over {MAX_VALUE_DEPTH} levels")
        return [_json_any(x, depth + 1) for x in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        if depth >= MAX_VALUE_DEPTH:
            raise ValueError(f"an attribute value nested over {MAX_VALUE_DEPTH} levels")
        return _json_attrs(value["kvlistValue"].get("values", []), depth + 1)
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"], validate=True).hex()
    return None


def _json_int(value: Any, what: str) -> int:
    """An OTLP JSON 64-bit integer: a number or a decimal string; never a fraction, NaN,
    or a boolean (ValueError naming `what`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ValueError(f"{what}: expected an integer, got {str(value)[:40]!r}")


def _json_attrs(kvs: Iterable[dict[str, Any]], depth: int = 0) -> dict[str, Any]:
    if not isinstance(kvs, list):
        raise ValueError(f"attributes: expected a list of key/value objects, got {kvs!r:.40}")
    out = {}
    for kv in kvs:
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise ValueError(f"attributes: expected a {{key, value}} object, got {kv!r:.40}")
        key = kv["key"]
        value = kv.get("value")
        # The usual value, without the call (the same as `_json_any` gives).
        if value.__class__ is dict and "stringValue" in value:
            out[key] = value["stringValue"]
        else:
            out[key] = _json_any(value, depth)
    return out


def _hex_id(value: Any, size: int, what: str) -> tuple[str, str | None]:
    text = str(value or "").lower()
    ok = len(text) == 2 * size and not text.strip("0123456789abcdef")
    return text, None if ok else f"{what}: expected {2 * size} hex characters, got {text[:40]!r}"


def _json_span(s: dict[str, Any], resource: dict[str, Any]) -> Span:
    trace, e1 = _hex_id(s.get("traceId"), 16, "traceId")
    span, e2 = _hex_id(s.get("spanId"), 8, "spanId")
    parent = str(s.get("parentSpanId") or "").lower() or None
    status = s.get("status") or {}
    return Span(
        trace,
        span,
        parent,
        str(s.get("name", "")),
        _json_int(s.get("startTimeUnixNano") or 0, "startTimeUnixNano"),
        _json_int(s.get("endTimeUnixNano") or 0, "endTimeUnixNano"),
        _json_int(status.get("code") or 0, "status.code"),
        _json_attrs(s.get("attributes", [])),
        resource,
        e1 or e2,
    )


#: What a malformed span of an OTLP JSON document raises while it is decoded.
SPAN_ERRORS = (ValueError, TypeError, KeyError, AttributeError, RecursionError)


def spans_from_json(doc: dict[str, Any]) -> Iterator[Span]:
    """The spans of a JSON request. A span (or a resource, or scope) that cannot be decoded
    comes as a `broken` span whose `error` says why, so its neighbours are kept."""
    for i, rs in enumerate(_json_list(doc, "resourceSpans")):
        try:
            if not isinstance(rs, dict):
                raise ValueError(f"expected an object, got {rs!r:.40}")
            resource = _json_attrs((rs.get("resource") or {}).get("attributes", []))
            scopes = _json_list(rs, "scopeSpans", "instrumentationLibrarySpans")
        except SPAN_ERRORS as e:
            yield _broken(None, _why(e), f"resourceSpans[{i}]")
            continue
        for j, ss in enumerate(scopes):
            try:
                spans = _json_list(ss, "spans")
            except SPAN_ERRORS as e:
                yield _broken(None, _why(e), f"resourceSpans[{i}].scopeSpans[{j}]")
                continue
            for s in spans:
                try:
                    span = _json_span(s, resource)
                except SPAN_ERRORS as e:
                    span = _broken(s, f"cannot decode the span: {_why(e)}")
                yield span


def _json_list(obj: Any, *keys: str) -> list[Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"expected an object, got {obj!r:.40}")
    for key in keys:
        if key in obj:
            value = obj[key]
            if value is None:
                return []
            if not isinstance(value, list):
                raise ValueError(f"{key}: expected a list, got {value!r:.40}")
            return value
    return []


def _why(e: BaseException) -> str:
    if isinstance(e, RecursionError):
        return "nested too deep"
    return f"{type(e).__name__}: {e}" if isinstance(e, KeyError | AttributeError) else str(e)


def _broken(s: Any, reason: str, where: str | None = None) -> Span:
    """A span that could not be decoded: rejected (whatever its attributes) with `reason`,
    unless its attributes decode and show it is not GenAI (then it is skipped, as such)."""
    s = s if isinstance(s, dict) else {}
    trace = str(s.get("traceId") or "")[:40]
    span = where or str(s.get("spanId") or "")[:40] or "?"
    try:
        attrs = _json_attrs(s.get("attributes") or [])
    except SPAN_ERRORS:
        attrs = None
    if attrs is not None and "attributes" in s and not _is_genai(attrs):
        return Span(trace, span, None, "", 0, 0, 0, attrs)
    return Span(trace, span, None, str(s.get("name") or "")[:200], 0, 0, 0, {}, {}, reason, True)


# -- protobuf encoding ----------------------------------------------------------------------------
_PROTO_SCALARS = frozenset({"string_value", "bool_value", "int_value", "double_value"})


def _proto_any(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind in _PROTO_SCALARS:
        return getattr(value, kind)
    if kind is None:
        return None
    if kind == "array_value":
        return [_proto_any(x) for x in value.array_value.values]
    if kind == "kvlist_value":
        return _proto_attrs(value.kvlist_value.values)
    if kind == "bytes_value":
        return bytes(value.bytes_value).hex()
    return getattr(value, kind)


def _proto_attrs(kvs: Iterable[Any]) -> dict[str, Any]:
    out = {}
    for kv in kvs:
        value = kv.value
        # Most values are non-empty strings, and a non-empty string_value is the one set
        # (the members of a oneof that are not set read as their defaults).
        text = value.string_value
        out[kv.key] = text if text else _proto_any(value)
    return out


def parse_proto(body: bytes) -> Any:
    """A protobuf `ExportTraceServiceRequest` (raises DecodeError if it is not one)."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    return trace_service_pb2.ExportTraceServiceRequest.FromString(body)


def _proto_ids(s: Any) -> tuple[str, str, str | None]:
    """A protobuf span's trace and span ids as hex, and the error if their sizes are wrong."""
    trace_id, span_id = s.trace_id, s.span_id
    trace, span = trace_id.hex(), span_id.hex()
    err = None
    if len(trace_id) != 16 or len(span_id) != 8:
        err = f"trace_id/span_id: expected 16/8 bytes, got {trace!r}/{span!r}"
    return trace, span, err


def spans_from_proto(body: bytes) -> Iterator[Span]:
    req = parse_proto(body)
    for rs in req.resource_spans:
        resource = _proto_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                trace, span, err = _proto_ids(s)
                yield Span(
                    trace,
                    span,
                    s.parent_span_id.hex() or None,
                    s.name,
                    s.start_time_unix_nano,
                    s.end_time_unix_nano,
                    s.status.code,
                    _proto_attrs(s.attributes),
                    resource,
                    err,
                )


# -- span -> candidate event --------------------------------------------------------------------
def is_genai(span: Span) -> bool:
    """Whether the span is kept: a model call, or a node of one's tree (an attribute of a
    GenAI convention, or a business dimension its descendants inherit); a `broken` span
    counts (it is rejected, not skipped: its attributes could not be read)."""
    return span.broken or any(
        key.startswith(k.SPAN_PREFIXES) or key in NODE_KEYS for key in span.attrs
    )


def _text(value: Any) -> str | None:
    """An attribute or field value as the text the validation query parses (also used by the
    provider reader): booleans as true/false, lists and maps as sorted JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _operation(span: Span, attrs: dict[str, Any]) -> str | None:
    op = _first(attrs, k.OPERATION)
    if op is not None:
        return _text(op)
    return _implied_operation(span.attrs, span.name)


def _implied_operation(attrs: dict[str, Any], name: str) -> str | None:
    """The operation of a span without `gen_ai.operation.name`: its kind in another
    convention, `execute_tool` for a tool span, or the first word of its name when that is
    an operation (None: decided by `conventions`)."""
    for key in k.SPAN_KIND_KEYS:
        kind = attrs.get(key)
        if kind is not None and (op := k.SPAN_KINDS.get(str(kind))) is not None:
            return op
    if "gen_ai.tool.name" in attrs:
        return "execute_tool"
    word = name.split(" ", 1)[0]
    return word if word in KNOWN_OPERATIONS else None


#: The fields `conventions` reads and may change.
CONVENTION_FIELDS = (
    "operation",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
)
_USAGE = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def conventions(
    values: dict[str, str | None], resource: dict[str, Any], attrs: dict[str, Any]
) -> dict[str, str | None]:
    """What the conventions of known sources change in a span's fields (texts):

    - a span that names no operation and has no model and no usage is a tree node (`span`:
      HTTP, chain, a span carrying only a conversation id), never a model call to quarantine;
    - Anthropic counts `input_tokens` *without* the cache; instrumentations that pass it on
      as is (OpenLIT: span attribute `telemetry.sdk.name` = `openlit`), and any
      Anthropic span whose cache reads and writes exceed its input, are converted to the
      inclusive convention (input + cache reads + cache writes);
    - the 1-hour cache writes of a provider's raw usage object (Logfire's `gen_ai.usage.raw`,
      Anthropic's `cache_creation.ephemeral_1h_input_tokens`) when no attribute gives them."""
    out: dict[str, str | None] = {}
    if values["cache_write_1h_tokens"] is None and "gen_ai.usage.raw" in attrs:
        hour = _raw_1h(attrs["gen_ai.usage.raw"])
        if hour is not None:
            out["cache_write_1h_tokens"] = str(hour)
    if values["operation"] is None and values["model"] is None:
        if all(values[f] is None for f in _USAGE):
            out["operation"] = "span"
        return out
    if (values["provider"] or "").lower() == "anthropic":
        inp = _count(values["input_tokens"])
        read = _count(values["cache_read_tokens"]) or 0
        write = _count(values["cache_write_tokens"]) or 0
        # on OpenLIT's own spans: its resource also covers the spans of other instrumentations
        openlit = attrs.get("telemetry.sdk.name") == "openlit"
        if inp is not None and (read or write) and (openlit or read + write > inp):
            out["input_tokens"] = str(inp + read + write)
    return out


def _raw_1h(raw: Any) -> int | None:
    """The 1-hour cache writes of a raw Anthropic usage object (JSON text or a map)."""
    try:
        usage = json.loads(raw) if isinstance(raw, str) else raw
        hour = usage["cache_creation"]["ephemeral_1h_input_tokens"]
    except (ValueError, TypeError, KeyError):
        return None
    return hour if isinstance(hour, int) and not isinstance(hour, bool) else None


def _count(text: str | None) -> int | None:
    """A count's text as an int (None: absent or not a plain whole number)."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if attrs.get(key) is not None:
            return k.unjson(_text(attrs[key])) if key in k.JSON_VALUED else attrs[key]
    return None


def _tags(span: Span) -> list[tuple[str, str]]:
    merged = {**span.resource, **span.attrs}
    skip = MAPPED_KEYS | CONTENT_KEYS
    return sorted(
        (key, text)
        for key, value in merged.items()
        if key not in skip
        and not key.startswith(CONTENT_PREFIXES)
        and (text := _text(value)) is not None
    )


def candidate(span: Span, pos: int, source: str) -> dict[str, Any]:
    """The raw event fields of a span (strings), plus validation's meta columns."""
    attrs = {**span.resource, **span.attrs}
    row: dict[str, Any] = {f: _text(_first(attrs, keys)) for f, keys in FIELD_KEYS.items()}
    ttft = _first(attrs, k.TTFT_SECONDS)
    failed = span.status_code == STATUS_ERROR or "error.type" in span.attrs
    row["operation"] = _operation(span, attrs)
    row.update(conventions({f: row[f] for f in CONVENTION_FIELDS}, span.resource, span.attrs))
    row.update(
        event_id=f"{span.trace_id}:{span.span_id}",
        ts=str(span.start_ns) if span.start_ns else None,
        duration_ms=_duration_ms(span),
        ttft_ms=_text(ttft * 1000 if isinstance(ttft, int | float) else ttft),
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        status="error" if failed else "ok",
        _pos=pos,
        _loc=f"{source}#{span.span_id}",
        _raw=_raw(span),
        _size=None,
        _error=span.error,
        _extra=_tags(span) or None,
    )
    return row


def _duration_ms(span: Span) -> str | None:
    if not span.start_ns or not span.end_ns:
        return None
    return repr((span.end_ns - span.start_ns) / 1e6)


def _raw(span: Span) -> str:
    body = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "parentSpanId": span.parent_span_id,
        "name": span.name,
        "startTimeUnixNano": span.start_ns,
        "endTimeUnixNano": span.end_ns,
        "status": span.status_code,
        "attributes": {key: _text(val) for key, val in span.attrs.items()},
    }
    return json.dumps(body)[: v.MAX_RAW_CHARS]


_CANDIDATE_TYPES: dict[str, pa.DataType] = {
    **{f: pa.string() for f in v.INPUT_FIELDS},
    "_pos": pa.int64(),
    "_loc": pa.string(),
    "_raw": pa.string(),
    "_size": pa.int64(),
    "_error": pa.string(),
    "_extra": pa.map_(pa.string(), pa.string()),
}
_CANDIDATE_SCHEMA = pa.schema([(n, t) for n, t in _CANDIDATE_TYPES.items()])


# -- candidate rows, column by column -----------------------------------------------------------
# `candidate` above is the definition of a span's row. The readers build the same values
# faster: a resource's attributes are read once for all its spans, each span's attributes are
# walked once (one text each, a slot per mapped key, tags, the raw record), and the table is
# built column by column. A row is a list: the text of each mapped key (a slot; resource
# texts first, overwritten by the span's own keys, None included, as `{**resource, **attrs}`
# does), then the `_ROW_TAIL` values, then `_pos`. A field is its slots coalesced in order of
# preference (the first non-null text is the text of the first non-null value). The
# equivalence test (tests/ingest/test_otlp_decode_equivalence.py) holds them to `candidate`.
_Row = list[Any]
_SLOT_KEYS = tuple(key for keys in FIELD_KEYS.values() for key in keys)
_SLOT = {key: i for i, key in enumerate(_SLOT_KEYS)}
_FIELD_SLOTS = {f: tuple(_SLOT[key] for key in keys) for f, keys in FIELD_KEYS.items()}
_OPERATION_SLOTS = _FIELD_SLOTS["operation"]
#: Slots of keys whose values are JSON text (`keys.JSON_VALUED`).
_JSON_SLOTS = frozenset(_SLOT[key] for key in k.JSON_VALUED)
_ROW_TAIL = (
    *("ts", "duration_ms", "ttft_ms", "trace_id", "span_id", "parent_span_id", "status"),
    *("_raw", "_error", "_extra", "_pos"),
)
_ROW_WIDTH = len(_SLOT_KEYS) + len(_ROW_TAIL)
#: Keys read by a field but not a slot (ttft needs the value, not its text), or never a tag.
_UNTAGGED = CONTENT_KEYS | set(k.TTFT_SECONDS)
#: The string encoder `json.dumps` uses (ensure_ascii): `_raw` is built with it.
_enc: Callable[[str], str] = encode_basestring_ascii
assert len(_SLOT) == len(_SLOT_KEYS), "a key must belong to one field"


@dataclass(frozen=True, slots=True)
class _Resource:
    """A resource's attributes as every one of its spans reads them."""

    attrs: dict[str, Any]
    slots: _Row
    """The text of each mapped key the resource has (None elsewhere)."""
    tags: list[tuple[str, str]]
    """(key, text) of its keys that are tags, unless a span has the same key."""
    tag_keys: frozenset[str]


def _resource(attrs: dict[str, Any]) -> _Resource:
    slots: _Row = [None] * len(_SLOT_KEYS)
    tags = []
    for key, val in attrs.items():
        i = _SLOT.get(key)
        if i is not None:
            slots[i] = k.unjson(_text(val)) if i in _JSON_SLOTS else _text(val)
        elif (
            key not in _UNTAGGED
            and not key.startswith(CONTENT_PREFIXES)
            and (text := _text(val)) is not None
        ):
            tags.append((key, text))
    return _Resource(attrs, slots, tags, frozenset(key for key, _ in tags))


def _row(
    res: _Resource,
    attrs: dict[str, Any],
    trace: str,
    span: str,
    parent: str | None,
    name: str,
    start: int,
    end: int,
    code: int,
    error: str | None,
) -> _Row:
    """A GenAI span's row, as `candidate` gives it (less `_pos`, which the caller appends)."""
    row = res.slots.copy()
    tags = []
    raw = []
    slot = _SLOT.get
    raw_key = _RAW_KEYS.get
    for key, val in attrs.items():
        cls = val.__class__
        text = val if cls is str else str(val) if cls is int else _text(val)
        prefix = raw_key(key) or _raw_key(key)
        raw.append(prefix + ("null" if text is None else _enc(text)))
        i = slot(key)
        if i is not None:
            row[i] = k.unjson(text) if i in _JSON_SLOTS else text
        elif text is not None and key not in _UNTAGGED and not key.startswith(CONTENT_PREFIXES):
            tags.append((key, text))
    if res.tags:
        if res.tag_keys.isdisjoint(attrs):
            tags += res.tags
        else:
            tags += [tag for tag in res.tags if tag[0] not in attrs]
    if len(tags) > 1:
        tags.sort()
    for i in _OPERATION_SLOTS:
        if row[i] is not None:
            break
    else:
        row[_OPERATION_SLOTS[0]] = _implied_operation(attrs, name)
    values = {f: _slot_text(row, f) for f in CONVENTION_FIELDS}
    for f, text in conventions(values, res.attrs, attrs).items():
        row[_FIELD_SLOTS[f][0]] = text
        for i in _FIELD_SLOTS[f][1:]:
            row[i] = None
    ttft = None
    for key in k.TTFT_SECONDS:
        ttft = attrs[key] if key in attrs else res.attrs.get(key)
        if ttft is not None:
            ttft = _text(ttft * 1000 if isinstance(ttft, int | float) else ttft)
            break
    failed = code == STATUS_ERROR or "error.type" in attrs
    body = (
        f'{{"traceId": {_enc(trace)}, "spanId": {_enc(span)}, "parentSpanId": '
        f'{"null" if parent is None else _enc(parent)}, "name": {_enc(name)}, '
        f'"startTimeUnixNano": {start}, "endTimeUnixNano": {end}, "status": {code}, '
        f'"attributes": {{{", ".join(raw)}}}}}'
    )
    row += (
        str(start) if start else None,
        repr((end - start) / 1e6) if start and end else None,
        ttft,
        trace,
        span,
        parent,
        "error" if failed else "ok",
        body[: v.MAX_RAW_CHARS],
        error,
        tags or None,
    )
    return row


#: `_raw`'s `"key": ` of attribute keys seen (a bounded cache: keys come from clients).
_RAW_KEYS: dict[str, str] = {}


def _slot_text(row: _Row, f: str) -> str | None:
    """A field's text from its slots (the first non-null, in order of preference)."""
    for i in _FIELD_SLOTS[f]:
        if row[i] is not None:
            return row[i]  # type: ignore[no-any-return]
    return None


def _raw_key(key: str) -> str:
    prefix = _enc(key) + ": "
    if len(_RAW_KEYS) < 4096:
        _RAW_KEYS[key] = prefix
    return prefix


def _candidate_row(cand: dict[str, Any]) -> _Row:
    """`candidate`'s row as a `_Row` (less `_pos`)."""
    row: _Row = [None] * len(_SLOT_KEYS)
    for f, slots in _FIELD_SLOTS.items():
        row[slots[0]] = cand[f]
    row += (cand[c] for c in _ROW_TAIL[:-1])
    return row


def _is_genai(attrs: dict[str, Any]) -> bool:
    """`is_genai` of a span with these attributes."""
    prefixes, nodes = k.SPAN_PREFIXES, NODE_KEYS
    for key in attrs:  # noqa: SIM110 (a loop: no generator per span)
        if key.startswith(prefixes) or key in nodes:
            return True
    return False


def span_rows(spans: Iterable[Span]) -> Iterator[_Row | None]:
    """The row of each span, None for a span that is not GenAI.

    A span the fast path cannot take (JSON allows attribute keys that are not strings, or
    kvlists whose keys do not sort) is handed to `candidate`, which then gives today's
    values or raises today's error."""
    last: dict[str, Any] | None = None
    res = None
    for span in spans:
        if not span.broken and not _is_genai(span.attrs):
            yield None
            continue
        try:
            if span.resource is not last or res is None:
                res = None
                res = _resource(span.resource)
                last = span.resource
            row = _row(
                res,
                span.attrs,
                span.trace_id,
                span.span_id,
                span.parent_span_id,
                span.name,
                span.start_ns,
                span.end_ns,
                span.status_code,
                span.error,
            )
        except Exception:
            try:
                row = _candidate_row(candidate(span, 0, ""))
            except SPAN_ERRORS as e:  # a value nested too deep, say
                bad = Span(span.trace_id, span.span_id, None, "", 0, 0, 0, {}, {}, _why(e), True)
                row = _candidate_row(candidate(bad, 0, ""))
        yield row


def proto_rows(req: Any) -> Iterator[_Row | None]:
    """`span_rows(spans_from_proto(body))` for `req = parse_proto(body)`, without `Span`s.

    Protobuf attributes always have string keys and values `_text` takes, so no span needs
    `candidate`."""
    for rs in req.resource_spans:
        res = _resource(_proto_attrs(rs.resource.attributes))
        for ss in rs.scope_spans:
            for s in ss.spans:
                attrs = _proto_attrs(s.attributes)
                if not _is_genai(attrs):
                    yield None
                    continue
                trace, span, err = _proto_ids(s)
                yield _row(
                    res,
                    attrs,
                    trace,
                    span,
                    s.parent_span_id.hex() or None,
                    s.name,
                    s.start_time_unix_nano,
                    s.end_time_unix_nano,
                    s.status.code,
                    err,
                )


def candidates(rows: Iterable[_Row | None], source: str) -> tuple[pa.Table, int]:
    """The candidate table of one request's rows (`_pos` from 1), and its non-GenAI count."""
    kept = []
    n = 0
    for n, row in enumerate(rows, 1):
        if row is not None:
            row.append(n)
            kept.append(row)
    return candidate_table(kept, source), n - len(kept)


def candidate_table(rows: list[_Row], source: str) -> pa.Table:
    """Rows (with `_pos`) -> the candidate table (`_CANDIDATE_SCHEMA`), column by column."""
    n = len(rows)
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * _ROW_WIDTH
    tail = dict(zip(_ROW_TAIL, cols[len(_SLOT_KEYS) :], strict=True))
    arrays = []
    for name, type_ in _CANDIDATE_TYPES.items():
        col: Sequence[Any] | None
        if name in _FIELD_SLOTS:
            col = _coalesce([cols[i] for i in _FIELD_SLOTS[name]], n)
        elif name == "event_id":
            col = [t + ":" + s for t, s in zip(tail["trace_id"], tail["span_id"], strict=True)]
        elif name == "_loc":
            col = [f"{source}#{s}" for s in tail["span_id"]]
        else:
            col = tail.get(name)  # None for tags and _size: never set
        arrays.append(pa.nulls(n, type_) if col is None else pa.array(col, type_))
    return pa.Table.from_arrays(arrays, schema=_CANDIDATE_SCHEMA)


def _coalesce(cols: list[tuple[Any, ...]], n: int) -> Sequence[Any] | None:
    """The first non-null of `cols` per row; None if every value is null."""
    live = [c for c in cols if c.count(None) != n]
    if not live:
        return None
    out: Sequence[Any] = live[0]
    for other in live[1:]:
        out = [a if a is not None else b for a, b in zip(out, other, strict=True)]
    return out


# -- chunks ----------------------------------------------------------------------------------------
class SpanBatcher:
    """Turns spans into validated chunks of at most CHUNK_ROWS events."""

    def __init__(self, source: str, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.source = source
        self.con = con or v.connect()
        self.validator = v.Validator(locate=lambda pos: f"{source} (span {pos})")
        self.rows: list[_Row] = []
        self.skipped = 0
        self.pos = 0
        self.rejected: list[Rejected] = []

    def add(self, spans: Iterable[Span]) -> Iterator[Chunk]:
        return self.add_rows(span_rows(spans))

    def add_rows(self, rows: Iterable[_Row | None]) -> Iterator[Chunk]:
        """Rows from `span_rows` or `proto_rows` (None: a span that is not GenAI)."""
        for row in rows:
            self.pos += 1
            if row is None:
                self.skipped += 1
                continue
            row.append(self.pos)
            self.rows.append(row)
            if len(self.rows) >= CHUNK_ROWS:
                yield self.flush()

    def reject(self, location: str, reason: str, raw: str) -> None:
        self.rejected.append(Rejected(location, reason, raw[: v.MAX_RAW_CHARS]))

    def flush(self) -> Chunk:
        table = candidate_table(self.rows, self.source)
        events, rejected = v.validate(table, self.validator, self.con)
        rejected = self.rejected + rejected
        n = events.num_rows + len(rejected) + self.skipped
        chunk = Chunk(events, rejected, rows_read=n, skipped=self.skipped)
        self.rows, self.rejected, self.skipped = [], [], 0
        return chunk


# -- entry points ---------------------------------------------------------------------------------
def decode_request(
    body: bytes, content_type: str, content_encoding: str | None, source: str
) -> Chunk:
    """One OTLP/HTTP request body -> a chunk (for the HTTP receiver). Never raises."""
    batch = SpanBatcher(source, _thread_con())
    try:
        if (content_encoding or "").lower() == "gzip":
            body = gzip.decompress(body)
        chunks = list(batch.add_rows(_rows_of(body, content_type)))
    except DECODE_ERRORS as e:
        batch.rows = []
        batch.reject(source, f"cannot decode the OTLP request body ({content_type}): {e}", "")
        chunks = []
    chunks.append(batch.flush())
    return _merge(chunks)


_LOCAL = threading.local()


def _thread_con() -> duckdb.DuckDBPyConnection:
    """This thread's parsing connection, opened once: opening one costs about 17 ms, and the
    HTTP receiver decodes every request on one of its worker threads."""
    con: duckdb.DuckDBPyConnection | None = getattr(_LOCAL, "con", None)
    if con is None:
        con = _LOCAL.con = v.connect()
    return con


def _rows_of(body: bytes, content_type: str) -> Iterator[_Row | None]:
    if "json" in content_type.lower():
        return span_rows(spans_from_json(json.loads(body)))
    return proto_rows(parse_proto(body))


def _merge(chunks: list[Chunk]) -> Chunk:
    events = pa.concat_tables([c.events for c in chunks])
    return Chunk(
        events,
        [r for c in chunks for r in c.rejected],
        rows_read=sum(c.rows_read for c in chunks),
        skipped=sum(c.skipped for c in chunks),
    )


def _read_all(path: Path) -> tuple[bytes, str | None]:
    parts: list[bytes] = []
    size = 0
    try:
        for block in raw_blocks(path):
            size += len(block)
            if size > MAX_WHOLE_FILE_BYTES:
                limit = MAX_WHOLE_FILE_BYTES >> 20
                return b"".join(parts), f"over {limit} MiB, the limit for a file read whole"
            parts.append(block)
    except _Broken as e:
        return b"".join(parts), str(e)
    return b"".join(parts), None


def read_otlp_proto(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """A file holding one protobuf `ExportTraceServiceRequest` (plain or gzip)."""
    name = name or str(path)
    body, broken = _read_all(path)
    batch = SpanBatcher(name)
    if broken is not None:
        batch.reject(name, f"{broken}: a cut protobuf message cannot be read; no span kept", "")
        yield batch.flush()
        return
    try:
        req = parse_proto(body)
    except DECODE_ERRORS as e:
        try:  # one span the parser refuses (nested too deep, a string not UTF-8...)
            yield from batch.add_rows(salvage_proto(body, batch, name))
        except (ValueError, IndexError):  # not even the framing of protobuf fields
            batch.reject(name, f"not an OTLP protobuf ExportTraceServiceRequest: {e}", "")
    else:
        yield from batch.add_rows(proto_rows(req))
    yield batch.flush()


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = buf[i]  # IndexError past the end
        i += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: bytes) -> Iterator[tuple[int, bytes | None]]:
    """(field number, bytes of a length-delimited field, else None) of a protobuf message,
    read from its wire framing alone; ValueError when the framing is broken."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(buf, i)
            yield number, None
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            yield number, None
        elif wire == 2:
            size, i = _varint(buf, i)
            if i + size > len(buf):
                raise ValueError("a field runs past the end of the message")
            yield number, buf[i : i + size]
            i += size
        else:
            raise ValueError(f"wire type {wire}")
        if i > len(buf):
            raise ValueError("a field runs past the end of the message")


def salvage_proto(body: bytes, batch: SpanBatcher, name: str) -> Iterator[_Row | None]:
    """The rows of a request the protobuf parser refuses whole, part by part: each resource,
    scope and span that parses on its own is kept; a span that does not is rejected (its
    position and, when readable, its span id as location) with the parser's reason."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    def wrapped(rs: Any) -> Iterator[_Row | None]:
        req = trace_service_pb2.ExportTraceServiceRequest()
        req.resource_spans.append(rs)
        return proto_rows(req)

    n = 0
    for field_no, rs_bytes in _fields(body):
        if field_no != 1 or rs_bytes is None:
            continue
        try:
            yield from wrapped(trace_pb2.ResourceSpans.FromString(rs_bytes))
            continue
        except DecodeError:
            pass
        resource = resource_pb2.Resource()
        scopes: list[bytes] = []
        for f, part in _fields(rs_bytes):
            if f == 1 and part is not None:
                # a resource that does not parse: its spans are kept without its attributes
                with contextlib.suppress(DecodeError):
                    resource = resource_pb2.Resource.FromString(part)
            elif f == 2 and part is not None:
                scopes.append(part)
        for ss_bytes in scopes:
            rs = trace_pb2.ResourceSpans(resource=resource)
            try:
                rs.scope_spans.append(trace_pb2.ScopeSpans.FromString(ss_bytes))
                yield from wrapped(rs)
                continue
            except DecodeError:
                pass
            for f, span_bytes in _fields(ss_bytes):
                if f != 2 or span_bytes is None:
                    continue
                n += 1
                try:
                    span = trace_pb2.Span.FromString(span_bytes)
                except DecodeError as e:
                    sid = next((b.hex() for g, b in _fields(span_bytes) if g == 2 and b), "")
                    where = f"{name}#{sid}" if sid else f"{name} (span {n})"
                    batch.reject(where, f"cannot decode this span: {e}", "")
                    continue
                one = trace_pb2.ResourceSpans(resource=resource)
                one.scope_spans.add().spans.append(span)
                yield from wrapped(one)


def read_otlp_json(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """One JSON `ExportTraceServiceRequest`, or one per line (the collector's file exporter)."""
    name = name or str(path)
    body, broken = _read_all(path)
    batch = SpanBatcher(name)
    try:
        docs: list[tuple[int, Any]] = [(1, json.loads(body))]
    except (ValueError, RecursionError):
        docs = list(_json_lines(body, name, batch, broken is not None))
    else:
        broken = None
    for line, doc in docs:
        if not isinstance(doc, dict):
            batch.reject(f"{name}:{line}", "expected an ExportTraceServiceRequest object", "")
            continue
        yield from batch.add(spans_from_json(doc))
    if broken is not None:
        batch.reject(f"{name}:{len(docs) + 1}", f"{broken}: later lines are lost", "")
    yield batch.flush()


def _json_lines(body: bytes, name: str, batch: SpanBatcher, cut: bool) -> Iterator[tuple[int, Any]]:
    lines = body.split(b"\n")
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield i, json.loads(line)
        except (ValueError, RecursionError) as e:
            if cut and i == len(lines):
                continue  # the cut line: reported once as truncation
            batch.reject(f"{name}:{i}", f"malformed JSON: {e}", line.decode("utf-8", "replace"))
