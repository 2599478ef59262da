"""OTLP traces: `ExportTraceServiceRequest` as OTLP/HTTP JSON or protobuf, gzip or plain.

JSON follows the OTLP/HTTP encoding: hex trace/span ids, integer enums, 64-bit integers as
decimal strings (numbers accepted too), nested `arrayValue`/`kvlistValue`. Both encodings are
decoded into the same `Span` values, so the same spans give identical events.

Each GenAI span becomes one event (`event_id = trace_id:span_id`); agent and workflow spans
are kept as tree nodes (pricing skips them). Spans with no `gen_ai.*` and no `unitecon.*`
attribute are not GenAI: they are skipped and counted (`Chunk.skipped`), not quarantined.
Attribute keys per field: `keys.py` (span attributes win over resource attributes).
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from google.protobuf.message import DecodeError

from unitecon.ingest import keys as k
from unitecon.ingest import validate as v
from unitecon.ingest.base import CHUNK_ROWS, Chunk, Rejected
from unitecon.ingest.lines import _Broken, raw_blocks
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
    }
)
STATUS_ERROR = 2
DECODE_ERRORS = (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError, DecodeError)


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


# -- JSON encoding --------------------------------------------------------------------------------
def _json_any(value: dict[str, Any] | None) -> Any:
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [_json_any(x) for x in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return _json_attrs(value["kvlistValue"].get("values", []))
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"]).hex()
    return None


def _json_attrs(kvs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {kv["key"]: _json_any(kv.get("value")) for kv in kvs}


def _hex_id(value: Any, size: int, what: str) -> tuple[str, str | None]:
    text = str(value or "").lower()
    ok = len(text) == 2 * size and all(c in "0123456789abcdef" for c in text)
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
        int(s.get("startTimeUnixNano") or 0),
        int(s.get("endTimeUnixNano") or 0),
        int(status.get("code") or 0),
        _json_attrs(s.get("attributes", [])),
        resource,
        e1 or e2,
    )


def spans_from_json(doc: dict[str, Any]) -> Iterator[Span]:
    for rs in doc.get("resourceSpans", []):
        resource = _json_attrs((rs.get("resource") or {}).get("attributes", []))
        for ss in rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", [])):
            for s in ss.get("spans", []):
                yield _json_span(s, resource)


# -- protobuf encoding ----------------------------------------------------------------------------
def _proto_any(value: Any) -> Any:
    kind = value.WhichOneof("value")
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
    return {kv.key: _proto_any(kv.value) for kv in kvs}


def spans_from_proto(body: bytes) -> Iterator[Span]:
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
    for rs in req.resource_spans:
        resource = _proto_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                trace, span = s.trace_id.hex(), s.span_id.hex()
                err = None
                if len(s.trace_id) != 16 or len(s.span_id) != 8:
                    err = f"trace_id/span_id: expected 16/8 bytes, got {trace!r}/{span!r}"
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
    return any(key.startswith(("gen_ai.", "unitecon.")) for key in span.attrs)


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
    if "gen_ai.tool.name" in span.attrs:
        return "execute_tool"
    word = span.name.split(" ", 1)[0]
    return word if word in KNOWN_OPERATIONS else None


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if attrs.get(key) is not None:
            return attrs[key]
    return None


def _tags(span: Span) -> list[tuple[str, str]]:
    merged = {**span.resource, **span.attrs}
    skip = MAPPED_KEYS | CONTENT_KEYS
    return sorted(
        (key, text)
        for key, value in merged.items()
        if key not in skip and (text := _text(value)) is not None
    )


def candidate(span: Span, pos: int, source: str) -> dict[str, Any]:
    """The raw event fields of a span (strings), plus validation's meta columns."""
    attrs = {**span.resource, **span.attrs}
    row: dict[str, Any] = {f: _text(_first(attrs, keys)) for f, keys in FIELD_KEYS.items()}
    ttft = _first(attrs, k.TTFT_SECONDS)
    failed = span.status_code == STATUS_ERROR or "error.type" in span.attrs
    row.update(
        event_id=f"{span.trace_id}:{span.span_id}",
        ts=str(span.start_ns) if span.start_ns else None,
        duration_ms=_duration_ms(span),
        ttft_ms=_text(ttft * 1000 if isinstance(ttft, int | float) else ttft),
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        operation=_operation(span, attrs),
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


# -- chunks ----------------------------------------------------------------------------------------
class SpanBatcher:
    """Turns spans into validated chunks of at most CHUNK_ROWS events."""

    def __init__(self, source: str, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.source = source
        self.con = con or v.connect()
        self.validator = v.Validator(locate=lambda pos: f"{source} (span {pos})")
        self.rows: list[dict[str, Any]] = []
        self.skipped = 0
        self.pos = 0
        self.rejected: list[Rejected] = []

    def add(self, spans: Iterable[Span]) -> Iterator[Chunk]:
        for span in spans:
            self.pos += 1
            if not is_genai(span):
                self.skipped += 1
                continue
            self.rows.append(candidate(span, self.pos, self.source))
            if len(self.rows) >= CHUNK_ROWS:
                yield self.flush()

    def reject(self, location: str, reason: str, raw: str) -> None:
        self.rejected.append(Rejected(location, reason, raw[: v.MAX_RAW_CHARS]))

    def flush(self) -> Chunk:
        table = pa.Table.from_pylist(self.rows, schema=_CANDIDATE_SCHEMA)
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
        chunks = list(batch.add(_spans_of(body, content_type)))
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


def _spans_of(body: bytes, content_type: str) -> Iterator[Span]:
    if "json" in content_type.lower():
        return spans_from_json(json.loads(body))
    return spans_from_proto(body)


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
    try:
        for block in raw_blocks(path):
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
        spans = list(spans_from_proto(body))
    except DECODE_ERRORS as e:
        batch.reject(name, f"not an OTLP protobuf ExportTraceServiceRequest: {e}", "")
        spans = []
    yield from batch.add(spans)
    yield batch.flush()


def read_otlp_json(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """One JSON `ExportTraceServiceRequest`, or one per line (the collector's file exporter)."""
    name = name or str(path)
    body, broken = _read_all(path)
    batch = SpanBatcher(name)
    try:
        docs: list[tuple[int, Any]] = [(1, json.loads(body))]
    except ValueError:
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
        except ValueError as e:
            if cut and i == len(lines):
                continue  # the cut line: reported once as truncation
            batch.reject(f"{name}:{i}", f"malformed JSON: {e}", line.decode("utf-8", "replace"))
