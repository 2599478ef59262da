"""Captured provider responses (JSON lines): OpenAI chat / responses, Anthropic messages, ...

Each line is a raw response body, or an envelope carrying one plus what the body lacks:

    {"ts": "...", "provider": "anthropic", "api_flavor": "chat", "response": {...},
     "customer_id": "...", "feature": "...", ...any other event field or tag...}

Usage comes from `genai_prices.extract_usage`, which already returns the inclusive convention
(Anthropic's `input_tokens` excludes cache reads and writes; extract_usage adds them back:
input 50 + cache_read 1000 + cache_creation 200 -> input_tokens 1250). Reasoning tokens come
from OpenAI's `completion_tokens_details` / `output_tokens_details`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from unitecon.ingest import validate as v
from unitecon.ingest.lines import iter_line_blocks
from unitecon.ingest.otlp import _text
from unitecon.ingest.validate import TIER_ALIASES
from unitecon.ledger.records import CHUNK_ROWS, Chunk, Rejected

ENVELOPE_KEYS = frozenset({"response", "provider", "api_flavor"})


def sniff(body: dict[str, Any]) -> tuple[str | None, str]:
    """(provider id, api_flavor) of a raw response body, from its shape."""
    obj = body.get("object")
    if body.get("type") == "message" and "usage" in body:
        return "anthropic", "default"
    if obj == "chat.completion":
        return "openai", "chat"
    if obj == "response":
        return "openai", "responses"
    if "usageMetadata" in body:
        return "google", "default"
    return None, "default"


def _usage(body: dict[str, Any], provider: str, flavor: str) -> dict[str, Any]:
    """Token counts (inclusive) from genai-prices' extractor (imported here: it brings in
    pandas, 0.3-0.4 s that every `unitecon ingest` of another format would pay at start)."""
    from genai_prices import data_snapshot, extract_usage

    try:
        usage = extract_usage(body, provider_id=provider, api_flavor=flavor).usage
    except LookupError:
        # An unknown model still has usage: read it with the provider's extractor alone.
        prov = data_snapshot.get_snapshot().find_provider(None, provider, None)
        usage = prov.extract_usage(body, api_flavor=flavor)[1]
    write = usage.cache_write_tokens
    if write is None:
        parts = [
            getattr(usage, n, None) for n in ("cache_write_5m_tokens", "cache_write_1h_tokens")
        ]
        write = sum(p for p in parts if p) or None
    return {
        "input_tokens": usage.input_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": write,
        "cache_write_1h_tokens": getattr(usage, "cache_write_1h_tokens", None),
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": getattr(usage, "output_reasoning_tokens", None),
    }


def _ts_of(body: dict[str, Any]) -> Any:
    return body.get("created_at") or body.get("created") or body.get("createTime")


def _tier(body: dict[str, Any]) -> tuple[str | None, bool]:
    tier = body.get("service_tier") or (body.get("usage") or {}).get("service_tier")
    if not isinstance(tier, str):
        return None, False
    tier = TIER_ALIASES.get(tier, tier)
    return tier, tier == "batch"


def _fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Event fields of one line: envelope fields over those read from the response."""
    env = obj if isinstance(obj.get("response"), dict) else {}
    body = env.get("response", obj)
    guessed, flavor = sniff(body)
    provider = str(env.get("provider") or guessed or "")
    if not provider:
        raise ValueError('cannot tell the provider: add an envelope with "provider"')
    flavor = str(env.get("api_flavor") or (flavor if provider == guessed else "default"))
    if provider == "openai" and flavor == "default":
        flavor = "responses" if body.get("object") == "response" else "chat"
    tier, batch = _tier(body)
    row: dict[str, Any] = {
        "event_id": f"{provider}:{rid}"
        if (rid := body.get("id") or body.get("responseId"))
        else None,
        "ts": _ts_of(body),
        "provider": provider,
        # Gemini names the model that answered `modelVersion` (as genai-prices reads it)
        "model": body.get("model") or body.get("modelVersion"),
        "operation": "chat",
        "service_tier": tier,
        "batch": batch or None,
        **_usage(body, provider, flavor),
    }
    for key, value in env.items():
        if key not in ENVELOPE_KEYS and key != "api_flavor":
            row[key] = value
    return row


def _candidate(line: str, pos: int, loc: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"_pos": pos, "_loc": loc, "_raw": line, "_size": len(line)}
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise ValueError("expected a JSON object (a response or an envelope)")
        row = _fields(obj)
    except json.JSONDecodeError as e:
        return {**meta, "_error": f"malformed JSON: {e.msg} at column {e.colno}"}
    except (ValueError, LookupError, TypeError, KeyError) as e:
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


_SCHEMA = pa.schema(
    [(f, pa.string()) for f in v.INPUT_FIELDS]
    + [
        ("_pos", pa.int64()),
        ("_loc", pa.string()),
        ("_raw", pa.string()),
        ("_size", pa.int64()),
        ("_error", pa.string()),
        ("_extra", pa.map_(pa.string(), pa.string())),
    ]
)


def read_provider(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """JSON lines of captured provider responses (or envelopes), plain or gzip."""
    name = name or str(path)
    con = v.connect()
    val = v.Validator(locate=lambda pos: f"{name}:{pos}")
    for block in iter_line_blocks(path, CHUNK_ROWS, name):
        rows = [
            _candidate(line, block.first + i, f"{name}:{block.first + i}")
            for i, line in enumerate(block.lines.to_pylist())
            if line.strip()
        ]
        events, rejected = v.validate(pa.Table.from_pylist(rows, schema=_SCHEMA), val, con)
        extra: list[Rejected] = [block.truncated] if block.truncated else []
        if rows or extra:
            yield Chunk(events, rejected + extra, rows_read=len(rows) + len(extra))
