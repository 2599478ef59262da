"""Exports users already have: LiteLLM SpendLogs, Langfuse observations, and JSON documents.

A JSON document (a pretty-printed object, an array of records, or `{"data": [...]}` as the
Langfuse API and UI export it) is read whole and each record is recognised by its keys:

- **LiteLLM SpendLogs** (`request_id`, `call_type`, `startTime`; the proxy's
  `LiteLLM_SpendLogs` table, as JSON or CSV): `prompt_tokens` / `completion_tokens`, which
  LiteLLM counts inclusively (OpenAI's convention, Anthropic's cache added back), the cache
  and reasoning counts from `metadata.usage_object` where present; `spend` is kept as
  `reported_cost`; `end_user` -> user, `team_id` -> team, `metadata.user_api_key_end_user_id`
  -> user when `end_user` is empty. The provider is `custom_llm_provider`.
- **Langfuse observations** (`traceId`, `type`, `startTime`): a `GENERATION` (or any
  observation with usage) is a model call; others are tree nodes (`span`). `usageDetails`
  follows Langfuse's convention, in which the keys of one direction add up (`input` is the
  uncached rest): input = every key but `output*` and `total`, cache reads = keys with
  `cache_read` or `cached`, cache writes = keys with `cache_creation` or `cache_write`,
  output = `output*`, reasoning = keys with `reasoning`. `calculatedTotalCost` is kept as
  `reported_cost`; `parentObservationId` is the parent span.
- **Provider responses** (as `provider` reads them) and **native events** (the event
  fields): each record as its own reader would take it.

A document none of whose records is recognised is one error naming the keys it found.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from unitecon.errors import InputError
from unitecon.ingest import provider
from unitecon.ingest import validate as v
from unitecon.ingest.lines import _Broken, raw_blocks
from unitecon.ingest.otlp import _text
from unitecon.ledger.records import Chunk, Rejected

#: Record kinds, and the keys that tell them.
LITELLM_KEYS = frozenset({"request_id", "call_type", "startTime"})
LANGFUSE_KEYS = frozenset({"traceId", "type", "startTime"})
#: The largest JSON document read whole [bytes].
MAX_DOCUMENT_BYTES = 1 << 30


def kind_of(record: dict[str, Any]) -> str | None:
    """`litellm`, `langfuse`, `provider`, `native`, or None (not recognised)."""
    keys = record.keys()
    if keys >= LITELLM_KEYS:
        return "litellm"
    if keys >= LANGFUSE_KEYS:
        return "langfuse"
    body: dict[str, Any] = (
        record["response"] if isinstance(record.get("response"), dict) else record
    )
    usage = "usage" in body or "usageMetadata" in body
    if usage and (provider.sniff(body)[0] or "provider" in record):
        return "provider"
    if "ts" in keys and keys & {"model", "input_tokens", "operation", "unit_type", "endpoint"}:
        return "native"
    return None


def _json(value: Any) -> Any:
    """A JSON cell (CSV exports hold nested objects as JSON text) as its value."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def litellm_fields(rec: dict[str, Any]) -> dict[str, Any]:
    """Event fields of one LiteLLM SpendLogs row."""
    meta = _json(rec.get("metadata")) or {}
    meta = meta if isinstance(meta, dict) else {}
    usage: dict[str, Any] = meta.get("usage_object") or {}
    usage = usage if isinstance(usage, dict) else {}
    details_in = usage.get("prompt_tokens_details") or {}
    details_out = usage.get("completion_tokens_details") or {}
    read = _int(usage.get("cache_read_input_tokens")) or _int(details_in.get("cached_tokens"))
    model = rec.get("model") or None
    prov = rec.get("custom_llm_provider") or None
    if model and prov and model.startswith(f"{prov}/"):
        model = model[len(prov) + 1 :]
    status = str(rec.get("status") or "").lower()
    return {
        "event_id": f"litellm:{rec['request_id']}",
        "ts": rec.get("startTime"),
        "duration_ms": _duration_ms(rec.get("startTime"), rec.get("endTime")),
        "provider": prov,
        "model": model,
        "operation": "embeddings" if "embedding" in str(rec.get("call_type")) else "chat",
        "input_tokens": rec.get("prompt_tokens"),
        "output_tokens": rec.get("completion_tokens"),
        "cache_read_tokens": read,
        "cache_write_tokens": _int(usage.get("cache_creation_input_tokens")),
        "reasoning_tokens": _int(details_out.get("reasoning_tokens")),
        "reported_cost": rec.get("spend"),
        "status": "error" if status in ("failure", "error") else "ok",
        "user_id": rec.get("end_user") or meta.get("user_api_key_end_user_id") or None,
        "team": rec.get("team_id") or meta.get("user_api_key_team_id") or None,
        "conversation_id": rec.get("session_id") or None,
        "litellm.api_key_alias": meta.get("user_api_key_alias"),
        "litellm.model_group": rec.get("model_group") or None,
        "litellm.user": rec.get("user") or None,
    }


def _duration_ms(start: Any, end: Any) -> float | None:
    from datetime import datetime

    try:
        a = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        b = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (b - a).total_seconds() * 1000


def langfuse_fields(rec: dict[str, Any]) -> dict[str, Any]:
    """Event fields of one Langfuse observation."""
    details = _json(rec.get("usageDetails")) or {}
    details = details if isinstance(details, dict) else {}
    if not details:  # the older `usage` object
        usage = _json(rec.get("usage")) or {}
        usage = usage if isinstance(usage, dict) else {}
        details = {k: usage.get(k) for k in ("input", "output") if usage.get(k) is not None}
    counts = {k: n for k, val in details.items() if (n := _int(val)) is not None}
    out_keys = [k for k in counts if k.startswith("output")]
    in_keys = [k for k in counts if k not in out_keys and k != "total"]
    has_usage = any(counts.get(k) for k in (*in_keys, *out_keys))
    gen = str(rec.get("type") or "").upper() == "GENERATION" or has_usage
    level = str(rec.get("level") or "").upper()
    model = rec.get("model") or rec.get("providedModelName") or None
    return {
        "event_id": f"langfuse:{rec.get('id')}" if rec.get("id") else None,
        "ts": rec.get("startTime"),
        "duration_ms": _duration_ms(rec.get("startTime"), rec.get("endTime")),
        "trace_id": rec.get("traceId"),
        "span_id": rec.get("id"),
        "parent_span_id": rec.get("parentObservationId") or None,
        "operation": ("chat" if model or has_usage else "span") if gen else "span",
        "model": model,
        "input_tokens": sum(counts[k] for k in in_keys) if in_keys else None,
        "output_tokens": sum(counts[k] for k in out_keys) if out_keys else None,
        "cache_read_tokens": _sum(counts, in_keys, ("cache_read", "cached")),
        "cache_write_tokens": _sum(counts, in_keys, ("cache_creation", "cache_write")),
        "reasoning_tokens": _sum(counts, out_keys, ("reasoning",)),
        "reported_cost": rec.get("calculatedTotalCost"),
        "status": "error" if level == "ERROR" else "ok",
        "langfuse.name": rec.get("name"),
        "langfuse.type": rec.get("type"),
    }


def _sum(counts: dict[str, int], keys: list[str], parts: tuple[str, ...]) -> int | None:
    hit = [counts[k] for k in keys if any(p in k for p in parts)]
    return sum(hit) if hit else None


def fields_of(record: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind == "litellm":
        return litellm_fields(record)
    if kind == "langfuse":
        return langfuse_fields(record)
    if kind == "provider":
        return provider._fields(record)
    return record


def _candidate(record: Any, pos: int, loc: str) -> dict[str, Any]:
    raw = json.dumps(record, default=str)
    meta: dict[str, Any] = {"_pos": pos, "_loc": loc, "_raw": raw[: v.MAX_RAW_CHARS]}
    meta["_size"] = len(raw)
    if not isinstance(record, dict):
        return {**meta, "_error": "expected a JSON object (a record)"}
    kind = kind_of(record)
    if kind is None:
        return {**meta, "_error": f"not a record this reader knows (keys: {_keys(record)})"}
    try:
        row = fields_of(record, kind)
    except (ValueError, LookupError, TypeError) as e:
        return {**meta, "_error": f"cannot read usage: {e}"}
    known = {f: _text(row.get(f)) for f in v.INPUT_FIELDS if f in row and f != "tags"}
    extra = [
        (key, t)
        for key, val in row.items()
        if key not in v.INPUT_FIELDS and (t := _text(val)) is not None
    ]
    tags = row.get("tags")
    known["tags"] = json.dumps(tags) if isinstance(tags, dict) else _text(tags)
    return {**meta, **known, "_error": None, "_extra": extra or None}


def _keys(record: dict[str, Any]) -> str:
    keys = sorted(str(k) for k in record)
    return ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")


def _unknown(path: str, first: Any) -> InputError:
    what = (
        f"its first record has keys: {_keys(first)}"
        if isinstance(first, dict)
        else (f"its first record is a JSON {type(first).__name__}")
    )
    return InputError(
        f"Cannot read {path}: {what}. Known records: native events (ts, model, input_tokens, "
        "...), provider responses, LiteLLM SpendLogs (request_id, call_type, startTime), "
        "Langfuse observations (traceId, type, startTime), OTLP (resourceSpans). Use "
        "--format to choose a reader."
    )


def records_of(doc: Any) -> list[Any]:
    """The records of a JSON document: an array, `{"data": [...]}`, or one object."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in ("data", "observations", "logs", "records"):
            if isinstance(doc.get(key), list):
                return doc[key]  # type: ignore[no-any-return]
        return [doc]
    return [doc]


def _validate(records: list[Any], name: str, locs: list[str]) -> Chunk:
    if records and not any(isinstance(r, dict) and kind_of(r) for r in records):
        raise _unknown(name, records[0])
    con = v.connect()
    val = v.Validator(locate=lambda pos: locs[pos - 1] if 0 < pos <= len(locs) else str(pos))
    rows = [_candidate(r, i, locs[i - 1]) for i, r in enumerate(records, 1)]
    events, rejected = v.validate(pa.Table.from_pylist(rows, schema=provider._SCHEMA), val, con)
    return Chunk(events, rejected, rows_read=len(rows))


def _read_text(path: Path, name: str) -> str:
    parts: list[bytes] = []
    size = 0
    try:
        for block in raw_blocks(path):
            parts.append(block)
            size += len(block)
            if size > MAX_DOCUMENT_BYTES:
                raise InputError(f"{name}: a JSON document over 1 GiB; write it as JSON lines")
    except _Broken as e:
        raise InputError(f"{name}: {e}") from e
    return b"".join(parts).decode("utf-8-sig", errors="replace")


def read_json_document(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """One JSON document (pretty-printed object, array of records, `{"data": [...]}`), or
    LiteLLM / Langfuse records one per line. Read when called (the document is parsed
    whole), so a file of records this reader does not know raises `InputError` before the
    ledger starts an ingest."""
    name = name or str(path)
    text = _read_text(path, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if e.msg != "Extra data":
            raise InputError(
                f"{name}:{e.lineno}: not one JSON document ({e.msg} at column {e.colno})"
            ) from e
        return iter([_json_lines(text, name)])
    if isinstance(doc, dict) and ("resourceSpans" in doc or "resource_spans" in doc):
        from unitecon.ingest.otlp import read_otlp_json

        return read_otlp_json(path, name)
    records = records_of(doc)
    return iter([_validate(records, name, [f"{name}#{i}" for i in range(1, len(records) + 1)])])


def _json_lines(text: str, name: str) -> Chunk:
    """Records one per line (LiteLLM or Langfuse records written as JSON lines)."""
    records: list[Any] = []
    locs: list[str] = []
    bad: list[Rejected] = []
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
            locs.append(f"{name}:{i}")
        except ValueError as e:
            bad.append(Rejected(f"{name}:{i}", f"malformed JSON: {e}", line[: v.MAX_RAW_CHARS]))
    chunk = _validate(records, name, locs)
    chunk.rejected[:0] = bad
    chunk.rows_read += len(bad)
    return chunk


def read_export_csv(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """A CSV export of LiteLLM SpendLogs or Langfuse observations (header row); read when
    called, as `read_json_document`."""
    name = name or str(path)
    reader = csv.DictReader(io.StringIO(_read_text(path, name), newline=""))
    records: list[Any] = []
    locs: list[str] = []
    for row in reader:
        records.append({k: _json(val) for k, val in row.items() if k and val not in (None, "")})
        locs.append(f"{name}:{reader.line_num}")
    return iter([_validate(records, name, locs)])


def csv_is_export(header: list[str]) -> bool:
    keys = set(header)
    return keys >= LITELLM_KEYS or keys >= LANGFUSE_KEYS
