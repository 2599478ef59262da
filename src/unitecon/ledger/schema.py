"""The usage event: one row per billable (or structural) operation.

This is the single definition of the event table. Readers produce Arrow tables with exactly
this schema; the store creates its DuckDB table from it; `docs/schema.md` is generated from
the `FIELDS` docs below and a test keeps the two equal.

Token convention (inclusive, as OpenTelemetry and genai-prices count): `input_tokens`
includes cache reads and writes, `output_tokens` includes reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(38, 12)

#: Operations that are structure in an agent tree and are never priced (leaf-only pricing).
STRUCTURAL_OPERATIONS = frozenset(
    {
        "invoke_agent",
        "invoke_workflow",
        "create_agent",
        "workflow",
        "agent",
        "task",
        # a span that is no model call (HTTP, chain, a retriever without usage): a tree node
        "span",
        # a second span of a provider response already priced through another span
        "duplicate",
    }
)

#: Operations we know. Others are accepted only when they look like an identifier.
KNOWN_OPERATIONS = frozenset(
    {
        "chat",
        "generate_content",
        "text_completion",
        "embeddings",
        "retrieval",
        "execute_tool",
        "plan",
        "search_memory",
        "create_memory",
        "update_memory",
        "upsert_memory",
        "delete_memory",
        "vector_query",
        "human_review",
        "labeling",
        *STRUCTURAL_OPERATIONS,
    }
)

STATUSES = frozenset({"ok", "error"})
#: The domain every stored event is validated into (ingest rejects the rest): `ts` in
#: [TS_FROM, TS_TO), each token count in [0, MAX_TOKENS]. Pricing relies on it.
TS_FROM = datetime(2000, 1, 1, tzinfo=UTC)
TS_TO = datetime(2100, 1, 1, tzinfo=UTC)
#: More tokens than this in one call is taken as a unit or overflow error.
MAX_TOKENS = 100_000_000
SERVICE_TIERS = frozenset({"default", "flex", "priority", "fast", "batch"})


@dataclass(frozen=True)
class Field:
    name: str
    type: pa.DataType
    nullable: bool
    doc: str
    default: Any = None


FIELDS: tuple[Field, ...] = (
    Field(
        "event_id",
        pa.string(),
        False,
        "Stable unique id. OTLP: `trace_id:span_id`; native: given, else a sha256 of the "
        "record's content. Re-ingesting the same id is a no-op.",
    ),
    Field(
        "ts",
        TIMESTAMP,
        False,
        "Start time of the operation, UTC, microseconds. Selects historic prices.",
    ),
    Field("duration_ms", pa.float64(), True, "Latency of the operation [ms]."),
    Field("ttft_ms", pa.float64(), True, "Time to first token [ms]."),
    Field("trace_id", pa.string(), True, "Trace id (32 lower-case hex) of the agent tree."),
    Field("span_id", pa.string(), True, "Span id (16 lower-case hex)."),
    Field("parent_span_id", pa.string(), True, "Parent span id; null at the trace root."),
    Field(
        "operation",
        pa.string(),
        False,
        "`gen_ai.operation.name`: chat, text_completion, embeddings, execute_tool, "
        "retrieval, invoke_agent, invoke_workflow, ... plus our own vector_query, "
        "human_review, labeling. invoke_agent/invoke_workflow/create_agent are structure "
        "and never priced.",
        "chat",
    ),
    Field(
        "provider",
        pa.string(),
        True,
        "`gen_ai.provider.name` (normalized: `gcp.gemini` -> `google`, ...).",
    ),
    Field(
        "model",
        pa.string(),
        True,
        "`gen_ai.response.model`, falling back to `gen_ai.request.model`.",
    ),
    Field(
        "endpoint",
        pa.string(),
        True,
        "A self-hosted deployment (project file); priced by GPU time instead of tokens.",
    ),
    Field(
        "input_tokens", pa.int64(), False, "All input tokens, cache reads and writes included.", 0
    ),
    Field(
        "cache_read_tokens",
        pa.int64(),
        False,
        "Input tokens read from the prompt cache (part of input_tokens).",
        0,
    ),
    Field(
        "cache_write_tokens",
        pa.int64(),
        False,
        "Input tokens written to the prompt cache (part of input_tokens).",
        0,
    ),
    Field(
        "cache_write_1h_tokens",
        pa.int64(),
        False,
        "Cache writes with a 1-hour lifetime (part of cache_write_tokens; priced at the "
        "1-hour write rate where the model has one, the rest at the 5-minute rate).",
        0,
    ),
    Field("output_tokens", pa.int64(), False, "All output tokens, reasoning included.", 0),
    Field(
        "reasoning_tokens", pa.int64(), False, "Reasoning output tokens (part of output_tokens).", 0
    ),
    Field(
        "unit_type",
        pa.string(),
        True,
        "A non-token metered unit: vector_query, tool_call, web_search, review_second, "
        "label_item, image, audio_second, request, ... Priced from configured unit prices.",
    ),
    Field("units", pa.float64(), False, "Quantity of `unit_type` consumed.", 0.0),
    Field(
        "service_tier", pa.string(), True, "Price variant selector: default, flex, priority, fast."
    ),
    Field("batch", pa.bool_(), False, "Sent through a batch API (batch price variant).", False),
    Field("status", pa.string(), False, "`ok` or `error`.", "ok"),
    Field("attempt", pa.int32(), False, "1 for the first try; >1 is a retry (rework).", 1),
    Field(
        "accepted",
        pa.bool_(),
        True,
        "Whether the output was accepted; false is rework; null is unknown.",
    ),
    Field("agent", pa.string(), True, "`gen_ai.agent.name` of the agent that made the call."),
    Field("conversation_id", pa.string(), True, "`gen_ai.conversation.id`."),
    Field("task_id", pa.string(), True, "Task; defaults to the trace id (the trace root)."),
    Field(
        "task_type",
        pa.string(),
        True,
        "Kind of task (e.g. `ticket`, `search`), for cost per successful task.",
    ),
    Field("customer_id", pa.string(), True, "Paying customer (tenant)."),
    Field("user_id", pa.string(), True, "End user."),
    Field("feature", pa.string(), True, "Product feature."),
    Field("team", pa.string(), True, "Owning team."),
    Field("environment", pa.string(), True, "prod, staging, dev, ..."),
    Field(
        "tags",
        pa.map_(pa.string(), pa.string()),
        True,
        "Everything else: unknown columns and attributes, as strings.",
    ),
    Field(
        "sample_rate",
        pa.float64(),
        False,
        "Sampling probability of the source (1 = unsampled); totals weight by 1/rate.",
        1.0,
    ),
    Field(
        "reported_cost",
        MONEY,
        True,
        "Cost the source reported (USD), kept for reconciliation, never used as price.",
    ),
    Field(
        "source", pa.string(), False, "Lineage: `file:line`, `file#span_id` or `otlp-http#span_id`."
    ),
    Field(
        "ingest_id",
        pa.string(),
        False,
        "The ingest batch (see table `ingests`) that wrote this row.",
        "",
    ),
)

EVENT_SCHEMA: pa.Schema = pa.schema([pa.field(f.name, f.type, nullable=f.nullable) for f in FIELDS])
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
TOKEN_FIELDS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
#: The ledger's column (not an event field) holding the number of a record read directly
#: from its file (`Ledger._insert_numbered`, `_insert_direct`): such a row stores in
#: `source` only its file's location prefix (`file:row `, `file:`), and its `source` text is
#: that prefix followed by the number (`source_sql`). NULL on every other row (a chunked
#: read, a span, a row stored before schema version 7), whose `source` is the whole text.
#: An integer costs DuckDB a fraction of a unique text per row to write (docs/
#: architecture.md, "Where a direct read's row numbers go").
SOURCE_ROW = "source_row"


def source_sql(alias: str = "") -> str:
    """An event's `source` text (`file:line`, `file:row N`, `file#span_id`) from the ledger's
    columns `source` and `source_row`, as SQL (`alias`: the events table's, if any)."""
    p = f"{alias}." if alias else ""
    return f"CASE WHEN {p}{SOURCE_ROW} IS NULL THEN {p}source ELSE {p}source || {p}{SOURCE_ROW} END"


#: Business dimensions that can come from span or resource attributes.
DIMENSIONS = ("customer_id", "user_id", "feature", "team", "environment")
#: Fields a span without its own value takes from its nearest ancestor in the trace
#: (`ledger/traces.py`).
INHERITED = (*DIMENSIONS, "conversation_id", "agent", "task_type")


def defaults() -> dict[str, Any]:
    """Default value per field (None where the field is nullable and has none)."""
    return {f.name: f.default for f in FIELDS}


def empty_table() -> pa.Table:
    return EVENT_SCHEMA.empty_table()


def to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Build an event table from validated row dicts (missing keys take their default)."""
    d = defaults()
    cols = {name: [r.get(name, d[name]) for r in rows] for name in FIELD_NAMES}
    for name in FIELD_NAMES:
        if d[name] is not None:
            cols[name] = [d[name] if v is None else v for v in cols[name]]
    return pa.table(cols, schema=EVENT_SCHEMA)


def markdown() -> str:
    """The field table of `docs/schema.md` (a test keeps the doc equal to this)."""
    lines = [
        "| field | type | null | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for f in FIELDS:
        default = "" if f.default is None else f"`{f.default!r}`"
        null = "yes" if f.nullable else "no"
        lines.append(f"| `{f.name}` | `{f.type}` | {null} | {default} | {f.doc} |")
    return "\n".join(lines) + "\n"
