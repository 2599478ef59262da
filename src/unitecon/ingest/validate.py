"""Shared validation: candidate events (raw values, any type) -> typed events + rejections.

Every reader turns its source into a *candidate* relation whose columns carry the event field
names with raw values (strings, numbers, timestamps: whatever the source had), plus:

    _pos    BIGINT   position of the record (line number, row number, span ordinal)
    _loc    VARCHAR  its location (`file:line`, `file:row N`, `file#span_id`); becomes `source`
    _raw    VARCHAR  the raw record, kept (truncated) for rejected rows
    _size   BIGINT   size of the raw record in bytes (NULL: unknown)
    _error  VARCHAR  a reason found by the reader itself (malformed JSON, bad UTF-8), or NULL
    _extra  MAP(VARCHAR, VARCHAR)  unknown keys/columns, merged into `tags`

All checks run as one DuckDB query (vectorized, no Python loop per row). The first failing
check of a record is its reason; it names the field and the bad value. Rules: docs/ingest.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa

from unitecon.ingest.seen import SeenIds
from unitecon.ledger import ids
from unitecon.ledger.records import Rejected
from unitecon.ledger.schema import (
    EVENT_SCHEMA,
    KNOWN_OPERATIONS,
    MAX_TOKENS,
    SERVICE_TIERS,
    STATUSES,
    TOKEN_FIELDS,
    TS_FROM,
    TS_TO,
)

#: The largest `attempt` (the column is a 32-bit integer).
MAX_ATTEMPT = 2**31 - 1
#: The largest `units` of one event (a million searches, or 11 days of review seconds).
MAX_UNITS = 1e6
#: The smallest `sample_rate`: one kept event stands for at most 1,000,000.
MIN_SAMPLE_RATE = 1e-6
#: The largest token count of one event once weighted for sampling (divided by
#: `sample_rate`), and the largest `units` so weighted. The cost stage multiplies a sampled
#: event's cost (DECIMAL(38, 24)) by its weight (DECIMAL(18, 6)) into DECIMAL(38, 30), which
#: holds under $10^8: at the catalog's dearest token ($0.0006, o1-pro output) 10^10 tokens
#: cost $6M, and 10^7 units stay under it at any unit price up to $10. Sums are taken in
#: DECIMAL(38, 24) (under $10^14). See docs/ingest.md.
MAX_WEIGHTED_TOKENS = 1e10
MAX_WEIGHTED_UNITS = 1e7
#: The longest `duration_ms` / `ttft_ms` (30 days): GPU time is priced from the duration.
MAX_DURATION_MS = 30 * 86_400_000
#: A record larger than this (bytes of its raw text) is rejected whole.
MAX_RECORD_BYTES = 1 << 20
#: Known string fields longer than this (characters) are rejected.
MAX_FIELD_CHARS = 1024
#: Tag values longer than this (characters) are cut and marked with TRUNCATED_MARK.
MAX_TAG_CHARS = 4096
TRUNCATED_MARK = "…[truncated]"
#: Rejected.raw keeps at most this many characters of the record.
MAX_RAW_CHARS = 2000
#: Operations priced by tokens: they need a model, an endpoint or a unit_type.
TOKEN_OPERATIONS = ("chat", "generate_content", "text_completion", "embeddings")
#: OpenTelemetry provider names -> genai-prices provider ids.
PROVIDER_ALIASES = {
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "aws.bedrock": "aws",
    "azure.ai.inference": "azure",
    "azure.ai.openai": "azure",
    "mistral_ai": "mistral",
    "moonshot_ai": "moonshotai",
    "x_ai": "x-ai",
}

#: Provider-reported service tiers -> ours (Anthropic's `standard`, OpenAI's `auto`).
TIER_ALIASES = {"standard": "default", "auto": "default", "standard_only": "default"}

INT_FIELDS = (*TOKEN_FIELDS, "attempt")
FLOAT_FIELDS = ("duration_ms", "ttft_ms", "units", "sample_rate")
BOOL_FIELDS = ("batch", "accepted")
STRING_FIELDS = (
    "event_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "operation",
    "provider",
    "model",
    "endpoint",
    "unit_type",
    "service_tier",
    "status",
    "agent",
    "conversation_id",
    "task_id",
    "task_type",
    "customer_id",
    "user_id",
    "feature",
    "team",
    "environment",
)
#: Fields a candidate may carry (everything but lineage, which the reader/ledger sets).
INPUT_FIELDS = tuple(n for n in EVENT_SCHEMA.names if n not in ("source", "ingest_id"))
META_COLUMNS = ("_pos", "_loc", "_raw", "_size", "_error", "_extra")


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(q(i) for i in sorted(items)) + "]"


def _shown(col: str) -> str:
    """SQL for a raw value as shown in a reason: quoted, at most 60 characters."""
    return f"'''' || left(CAST({col} AS VARCHAR), 60) || ''''"


# -- typed values --------------------------------------------------------------------------
def _ts_expr(col: str, is_timestamp: bool) -> str:
    """ISO-8601 text, or epoch seconds / ms / us / ns told apart by magnitude."""
    if is_timestamp:
        return f"CAST({col} AS TIMESTAMPTZ)"
    s = f"CAST({col} AS VARCHAR)"
    n = f"TRY_CAST({s} AS BIGINT)"
    return (
        f"CASE WHEN {n} IS NOT NULL AND NOT contains({s}, '.') THEN CAST(make_timestamp("
        f"CASE WHEN {_within(n, 100000000000)} THEN {n} * 1000000 "
        f"WHEN {_within(n, 100000000000000)} THEN {n} * 1000 "
        f"WHEN {_within(n, 100000000000000000)} THEN {n} ELSE {n} // 1000 END) AS TIMESTAMPTZ) "
        f"WHEN TRY_CAST({s} AS DOUBLE) IS NOT NULL AND abs(TRY_CAST({s} AS DOUBLE)) < 1e11 "
        f"THEN to_timestamp(TRY_CAST({s} AS DOUBLE)) "
        f"ELSE TRY_CAST({s} AS TIMESTAMPTZ) END"
    )


def _within(n: str, limit: int) -> str:
    """`abs(n) < limit` without abs()'s overflow on the smallest BIGINT."""
    return f"({n} < {limit} AND {n} > -{limit})"


def _parsed(types: dict[str, pa.DataType]) -> list[str]:
    """SELECT items parsing each raw field into `t_<field>` (NULL when absent or bad)."""
    items = [f"{_ts_expr('ts', pa.types.is_timestamp(types.get('ts', pa.string())))} AS t_ts"]
    for f in INT_FIELDS + FLOAT_FIELDS:
        items.append(f"{_as_double(f, types)} AS t_{f}")
    for f in BOOL_FIELDS:
        items.append(f"TRY_CAST({_as_text(f, types)} AS BOOLEAN) AS t_{f}")
    cost = types.get("reported_cost", pa.string())
    if pa.types.is_decimal(cost) and 0 <= cost.scale <= 12:  # exact: no digit is lost
        items.append("TRY_CAST(reported_cost AS DECIMAL(38, 12)) AS t_reported_cost")
    else:
        items.append(
            "TRY_CAST(CAST(reported_cost AS VARCHAR) AS DECIMAL(38, 12)) AS t_reported_cost"
        )
    for f in STRING_FIELDS:
        items.append(f"{text_value(f)} AS t_{f}")
    items.append(f"{_tags_expr(types.get('tags'))} AS t_tags")
    return items


#: Integers up to this magnitude are exact in a double (53-bit significand).
_EXACT_INT = 2**53
#: Powers of ten up to this one are exact in a double.
_EXACT_POW10 = 22


def _as_double(col: str, types: dict[str, pa.DataType]) -> str:
    """The column as DOUBLE, as its text would parse (NULL when it does not).

    A decimal goes through its text (exact, correctly rounded), except where its unscaled
    value is under 2^53 and its scale at most 22: then the direct cast, one correctly
    rounded division of two exact doubles, gives that same double, at a fifth of the cost.
    """
    t = types.get(col, pa.string())
    text = f"TRY_CAST({_as_text(col, types)} AS DOUBLE)"
    if not _is_exact_decimal(t):
        return text
    direct = f"CAST({col} AS DOUBLE)"
    if 10**t.precision <= _EXACT_INT:  # every value's unscaled integer is under 2^53
        return direct
    bound = format(Decimal(_EXACT_INT).scaleb(-t.scale), "f")  # 2^53 unscaled
    return f"CASE WHEN abs({col}) < {bound} THEN {direct} ELSE {text} END"


def _is_exact_decimal(t: pa.DataType) -> bool:
    """A decimal whose direct cast to DOUBLE `_as_double` may use (where it fits)."""
    return bool(pa.types.is_decimal(t)) and 0 <= t.scale <= _EXACT_POW10


def text_value(col: str) -> str:
    """SQL for a string field's value: the column as text, NULL when empty. For
    `event_id`, the id a record gives itself (NULL: `validation_sql` computes one)."""
    return f"NULLIF(CAST({col} AS VARCHAR), '')"


def _as_text(col: str, types: dict[str, pa.DataType]) -> str:
    """The column as text, unless it is already a number or boolean (cast directly then)."""
    t = types.get(col, pa.string())
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return col
    return f"CAST({col} AS VARCHAR)"


def _tags_expr(tags_type: pa.DataType | None) -> str:
    if tags_type is None or pa.types.is_null(tags_type):
        given = "CAST(NULL AS MAP(VARCHAR, VARCHAR))"
    elif pa.types.is_map(tags_type):
        given = "CAST(tags AS MAP(VARCHAR, VARCHAR))"
    else:
        s = "CAST(tags AS VARCHAR)"
        given = (
            f"CASE WHEN json_valid({s}) AND json_type({s}) = 'OBJECT' "
            f"THEN json_transform({s}, '\"MAP(VARCHAR, VARCHAR)\"') END"
        )
    return f"CASE WHEN _extra IS NULL THEN {given} ELSE map_concat({given}, _extra) END"


# -- checks ----------------------------------------------------------------------------------
def _type_checks(types: dict[str, pa.DataType]) -> list[tuple[str, str]]:
    """The checks that a value reads as its field's type, less those that cannot fail for
    the source column's own type (`_never_bad`)."""
    checks = []
    for f in INT_FIELDS:
        if _never_bad(f, types):
            continue
        checks.append(
            (
                f"{f} IS NOT NULL AND (t_{f} IS NULL OR NOT isfinite(t_{f}) "
                f"OR t_{f} <> trunc(t_{f}))",
                f"'{f}: expected a whole number, got ' || {_shown(f)}",
            )
        )
    for f in FLOAT_FIELDS:
        if _never_bad(f, types):
            continue
        checks.append(
            (
                f"{f} IS NOT NULL AND (t_{f} IS NULL OR NOT isfinite(t_{f}))",
                f"'{f}: expected a number, got ' || {_shown(f)}",
            )
        )
    for f in BOOL_FIELDS:
        if _never_bad(f, types):
            continue
        checks.append(
            (
                f"{f} IS NOT NULL AND t_{f} IS NULL",
                f"'{f}: expected true or false, got ' || {_shown(f)}",
            )
        )
    checks.append(
        (
            "reported_cost IS NOT NULL AND t_reported_cost IS NULL",
            f"'reported_cost: expected a decimal amount, got ' || {_shown('reported_cost')}",
        )
    )
    return checks


def _never_bad(f: str, types: dict[str, pa.DataType]) -> bool:
    """Whether every value of a source column of this type reads as field `f`'s type, so
    that its type check is false for every row (leaving it out changes no reason): an
    integer column (as a whole number or a number: exact and finite as a DOUBLE), a decimal
    column as a number (its text always parses, finite), a boolean column as a boolean."""
    t = types.get(f, pa.string())
    if f in BOOL_FIELDS:
        return bool(pa.types.is_boolean(t))
    if pa.types.is_integer(t):
        return True
    return f in FLOAT_FIELDS and bool(pa.types.is_decimal(t))


def _count_checks() -> list[tuple[str, str]]:
    checks = []
    for f in TOKEN_FIELDS:
        checks.append((f"t_{f} < 0", f"'{f}: negative count ' || {_shown(f)}"))
        checks.append(
            (
                f"t_{f} > {MAX_TOKENS}",
                f"'{f}: ' || {_shown(f)} || ' is over the limit of {MAX_TOKENS:,} tokens "
                "in one call'",
            )
        )
    inp, cr, cw = (
        f"CAST(coalesce(t_{f}, 0) AS BIGINT)"
        for f in ("input_tokens", "cache_read_tokens", "cache_write_tokens")
    )
    rs, out = (f"CAST(coalesce(t_{f}, 0) AS BIGINT)" for f in ("reasoning_tokens", "output_tokens"))
    w1h = "CAST(coalesce(t_cache_write_1h_tokens, 0) AS BIGINT)"
    checks += [
        (
            f"{cr} > {inp}",
            f"'cache_read_tokens (' || {cr} || ') exceeds input_tokens (' || {inp} || "
            "'); input_tokens must include cache reads and writes'",
        ),
        (
            f"{cr} + {cw} > {inp}",
            f"'cache_read_tokens + cache_write_tokens (' || ({cr} + {cw}) || ') exceed "
            f"input_tokens (' || {inp} || '); input_tokens must include cache reads and writes'",
        ),
        (
            f"{w1h} > {cw}",
            f"'cache_write_1h_tokens (' || {w1h} || ') exceeds cache_write_tokens (' || {cw} "
            "|| '); cache_write_tokens must include the 1-hour writes'",
        ),
        (
            f"{rs} > {out}",
            f"'reasoning_tokens (' || {rs} || ') exceeds output_tokens (' || {out} || '); "
            "output_tokens must "
            "include reasoning'",
        ),
    ]
    return checks


def _enum_checks() -> list[tuple[str, str]]:
    ops = sql_list(KNOWN_OPERATIONS)
    return [
        (
            f"t_status IS NOT NULL AND NOT list_contains({sql_list(STATUSES)}, lower(t_status))",
            f"'status: unknown value ' || {_shown('status')} || ', expected ok or error'",
        ),
        (
            "t_service_tier IS NOT NULL AND NOT list_contains("
            f"{sql_list(SERVICE_TIERS)}, {_tier()})",
            f"'service_tier: unknown value ' || {_shown('service_tier')} || ', expected one "
            f"of {', '.join(sorted(SERVICE_TIERS))}'",
        ),
        (
            f"t_operation IS NOT NULL AND NOT list_contains({ops}, t_operation) AND NOT "
            "regexp_full_match(t_operation, '[a-z][a-z0-9_.]{0,63}')",
            f"'operation: ' || {_shown('operation')} || ' is neither a known operation nor a "
            "plain identifier (lower-case letters, digits, _ and .)'",
        ),
    ]


def _range_checks() -> list[tuple[str, str]]:
    checks = [
        ("t_attempt < 1", f"'attempt: must be 1 or more, got ' || {_shown('attempt')}"),
        (
            f"t_attempt > {MAX_ATTEMPT}",
            f"'attempt: ' || {_shown('attempt')} || ' is over the limit of {MAX_ATTEMPT:,}'",
        ),
        (
            "t_sample_rate <= 0 OR t_sample_rate > 1",
            f"'sample_rate: must be in (0, 1], got ' || {_shown('sample_rate')}",
        ),
    ]
    for f in ("duration_ms", "ttft_ms", "units"):
        checks.append((f"t_{f} < 0", f"'{f}: negative value ' || {_shown(f)}"))
    for f in ("duration_ms", "ttft_ms"):
        checks.append(
            (
                f"t_{f} > {MAX_DURATION_MS}",
                f"'{f}: ' || {_shown(f)} || ' is over the limit of {MAX_DURATION_MS:,} (30 days)'",
            )
        )
    checks += [
        (
            f"t_units > {MAX_UNITS:.0f}",
            f"'units: ' || {_shown('units')} || ' is over the limit of {MAX_UNITS:,.0f} "
            "in one event'",
        ),
        (
            f"t_sample_rate < {MIN_SAMPLE_RATE}",
            f"'sample_rate: ' || {_shown('sample_rate')} || ' is under the limit of "
            f"{MIN_SAMPLE_RATE:g} (one event may stand for at most "
            f"{1 / MIN_SAMPLE_RATE:,.0f})'",
        ),
    ]
    tokens = "greatest(" + ", ".join(f"coalesce(t_{f}, 0)" for f in TOKEN_FIELDS) + ")"
    for what, amount, limit in (
        ("a token count", tokens, MAX_WEIGHTED_TOKENS),
        ("units", "coalesce(t_units, 0)", MAX_WEIGHTED_UNITS),
    ):
        weighted = f"{amount} / coalesce(t_sample_rate, 1)"
        checks.append(
            (
                f"{weighted} > {limit:.0f}",
                f"'{what} divided by sample_rate is ' || printf('%.0f', {weighted}) "
                f"|| ', over the limit of {limit:,.0f} for one event'",
            )
        )
    for f in STRING_FIELDS:
        checks.append(
            (
                # strlen (bytes, stored with the string) bounds length (characters) from
                # above: the characters are counted only for the few long values
                f"strlen(t_{f}) > {MAX_FIELD_CHARS} AND length(t_{f}) > {MAX_FIELD_CHARS}",
                f"'{f}: value is ' || length(t_{f}) || ' characters, over the limit of "
                f"{MAX_FIELD_CHARS}'",
            )
        )
    return checks


def _checks(types: dict[str, pa.DataType]) -> list[tuple[str, str]]:
    """(condition, reason) in order; the first true condition rejects the record. Those
    that cannot be true for the candidate's column types are left out."""
    readable = not pa.types.is_timestamp(types.get("ts", pa.string()))  # a timestamp casts
    return [
        ("_error IS NOT NULL", "_error"),
        (
            f"_size > {MAX_RECORD_BYTES}",
            f"'record is ' || _size || ' bytes, over the limit of {MAX_RECORD_BYTES} bytes'",
        ),
        ("ts IS NULL", "'ts: missing (required)'"),
        *(
            [
                (
                    "t_ts IS NULL",
                    f"'ts: cannot read ' || {_shown('ts')} || ' as ISO-8601 or epoch "
                    "seconds/ms/us/ns'",
                )
            ]
            if readable
            else []
        ),
        (
            f"t_ts < TIMESTAMPTZ '{TS_FROM.date()}' OR t_ts >= TIMESTAMPTZ '{TS_TO.date()}'",
            f"'ts: ' || {_shown('ts')} || ' is outside {TS_FROM.year}..{TS_TO.year - 1}'",
        ),
        *_type_checks(types),
        *_count_checks(),
        *_enum_checks(),
        *_range_checks(),
        (
            f"(list_contains({sql_list(TOKEN_OPERATIONS)}, coalesce(t_operation, 'chat')) OR "
            f"coalesce(t_input_tokens, 0) + coalesce(t_output_tokens, 0) > 0) AND t_model IS "
            "NULL AND t_endpoint IS NULL AND t_unit_type IS NULL",
            "'model: missing; a priced operation (' || coalesce(t_operation, 'chat') || ') "
            "needs model, endpoint or unit_type'",
        ),
    ]


def _reason_expr(types: dict[str, pa.DataType]) -> str:
    whens = " ".join(f"WHEN {cond} THEN {reason}" for cond, reason in _checks(types))
    return f"CASE {whens} END"


# -- the final typed row ----------------------------------------------------------------------
def _provider_expr() -> str:
    cases = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in PROVIDER_ALIASES.items())
    return f"CASE lower(t_provider) {cases} ELSE lower(t_provider) END"


def _tier() -> str:
    """The service tier in lower case, provider aliases mapped to ours."""
    cases = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in TIER_ALIASES.items())
    return f"CASE lower(t_service_tier) {cases} ELSE lower(t_service_tier) END"


def _tags_final() -> str:
    cut = (
        f"map_from_entries(list_transform(map_entries(t_tags), e -> struct_pack(key := e.key, "
        f"value := CASE WHEN length(e.value) > {MAX_TAG_CHARS} THEN left(e.value, "
        f"{MAX_TAG_CHARS}) || {q(TRUNCATED_MARK)} ELSE e.value END)))"
    )
    return (
        f"CASE WHEN t_tags IS NULL OR cardinality(t_tags) = 0 THEN NULL "
        f"WHEN coalesce(_size, {MAX_TAG_CHARS + 1}) > {MAX_TAG_CHARS} THEN {cut} ELSE t_tags END"
    )


def _final_values() -> dict[str, str]:
    """SQL for every EVENT_SCHEMA field except event_id, source and ingest_id."""
    # TRY_CAST: a rejected row's value may not fit (NaN, 1e30); an accepted one always does.
    v: dict[str, str] = {"ts": "t_ts"}
    for f in TOKEN_FIELDS:
        v[f] = f"coalesce(TRY_CAST(t_{f} AS BIGINT), 0)"
    v["attempt"] = "coalesce(TRY_CAST(t_attempt AS INTEGER), 1)"
    v.update(duration_ms="t_duration_ms", ttft_ms="t_ttft_ms")
    v.update(units="coalesce(t_units, 0.0)", sample_rate="coalesce(t_sample_rate, 1.0)")
    v.update(batch=f"coalesce(t_batch, {_tier()} = 'batch', false)")
    v["accepted"] = "t_accepted"
    v["reported_cost"] = "t_reported_cost"
    for f in STRING_FIELDS:
        v[f] = f"t_{f}"
    v.update(
        operation="coalesce(t_operation, 'chat')",
        provider=_provider_expr(),
        status="coalesce(lower(t_status), 'ok')",
        service_tier=_tier(),
        task_id="coalesce(t_task_id, t_trace_id)",
        tags=_tags_final(),
    )
    del v["event_id"]
    return {n: v[n] for n in EVENT_SCHEMA.names if n in v}


def validation_sql(candidates: str, types: dict[str, pa.DataType], keep: Iterable[str] = ()) -> str:
    """A query over the relation `candidates` returning EVENT_SCHEMA columns plus
    `_reason`, `_raw` (rejected rows only), `_pos`, `_idh` (id hash) and `_ch` (content hash),
    and the candidate columns named in `keep` as they are. A record without an `event_id`
    gets the sha256 of its canonical form (`ids.py`).
    """
    missing = [f"NULL AS {f}" for f in (*INPUT_FIELDS, *META_COLUMNS) if f not in types]
    fill = ", ".join(["*", *missing])
    values = _final_values()
    body = ", ".join(f"{sql} AS {name}" for name, sql in values.items())
    kept = "".join(f"{k}, " for k in keep)
    return f"""
    WITH c AS (SELECT {fill} FROM {candidates}),
    p AS (SELECT *, {", ".join(_parsed(types))} FROM c),
    r AS (SELECT *, {_reason_expr(types)} AS _reason FROM p),
    f AS (SELECT _pos, _loc, _raw, _reason, {kept}t_event_id, {body} FROM r),
    g AS (SELECT CASE WHEN t_event_id IS NOT NULL THEN t_event_id ELSE {ids.event_id_sql()}
        END AS event_id, * FROM f)
    SELECT * EXCLUDE (_pos, _loc, _raw, _reason, t_event_id),
           coalesce(_loc, '') AS source, '' AS ingest_id,
           _reason, CASE WHEN _reason IS NOT NULL THEN left(rtrim(CAST(_raw AS VARCHAR),
           chr(10) || chr(13)), {MAX_RAW_CHARS}) END AS _raw, _pos,
           md5_number_lower(event_id) AS _idh, hash({", ".join(values)}) AS _ch
    FROM g
    """


# -- running it ---------------------------------------------------------------------------------
def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for parsing (UTC session time zone)."""
    from unitecon import engine

    return engine.connect(None)


@dataclass
class Validator:
    """Runs validation for one source and remembers its event ids (duplicates in a file)."""

    locate: Callable[[int], str]
    seen: SeenIds | None = None

    def __post_init__(self) -> None:
        if self.seen is None:
            self.seen = SeenIds()

    def split(self, out: pa.Table) -> tuple[pa.Table, list[Rejected]]:
        """Split a validation result into good events and rejections."""
        import pyarrow.compute as pc  # not at the top: 0.07 s of a direct read's import

        if out["_reason"].null_count == out.num_rows:  # all good: no copies
            rejected, good = [], out
        else:
            bad_mask = pc.is_valid(out["_reason"])
            rejected = _rejections(out.filter(bad_mask))
            good = out.filter(pc.invert(bad_mask))
        good, dups = self._drop_conflicts(good)
        rejected += dups
        rejected.sort(key=lambda r: _order(r))
        events = good.select(list(EVENT_SCHEMA.names)).cast(EVENT_SCHEMA)
        return events, rejected

    def _drop_conflicts(self, good: pa.Table) -> tuple[pa.Table, list[Rejected]]:
        assert self.seen is not None
        pos = good["_pos"].to_numpy(zero_copy_only=False).astype(np.int64)
        idh = good["_idh"].to_numpy(zero_copy_only=False).astype(np.uint64)
        ch = good["_ch"].to_numpy(zero_copy_only=False).astype(np.uint64)
        first = self.seen.check_and_add(idh, ch, pos)
        conflict = first >= 0
        if not conflict.any():
            return good, []
        rows = good.filter(pa.array(conflict))
        firsts = first[conflict]
        rejected = [
            Rejected(
                loc,
                f"event_id: duplicate {eid!r} with different content; first seen at "
                f"{self.locate(int(f))}",
                _raw_of(row_raw),
            )
            for loc, eid, f, row_raw in zip(
                rows["source"].to_pylist(),
                rows["event_id"].to_pylist(),
                firsts,
                _json_rows(rows),
                strict=True,
            )
        ]
        return good.filter(pa.array(~conflict)), rejected


def _order(r: Rejected) -> tuple[int, str]:
    tail = r.location.rsplit(":", 1)[-1].rsplit(" ", 1)[-1]
    return (int(tail), r.location) if tail.isdigit() else (0, r.location)


def _json_rows(rows: pa.Table) -> list[str]:
    names = [n for n in EVENT_SCHEMA.names if n not in ("source", "ingest_id", "tags")]
    return [
        str({k: v for k, v in r.items() if v is not None}) for r in rows.select(names).to_pylist()
    ]


def _raw_of(text: str | None) -> str:
    return (text or "")[:MAX_RAW_CHARS]


def _rejections(bad: pa.Table) -> list[Rejected]:
    return [
        Rejected(loc, reason, _raw_of(raw))
        for loc, reason, raw in zip(
            bad["source"].to_pylist(),
            bad["_reason"].to_pylist(),
            bad["_raw"].to_pylist(),
            strict=True,
        )
    ]


def validate(
    candidates: pa.Table,
    validator: Validator | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> tuple[pa.Table, list[Rejected]]:
    """Validate an Arrow table of candidate events -> (events in EVENT_SCHEMA, rejections)."""
    con = con or connect()
    validator = validator or Validator(locate=str)
    types = {f.name: f.type for f in candidates.schema}
    con.register("_cand", candidates)
    try:
        out = _as_table(con.execute(validation_sql("_cand", types)).arrow())
    finally:
        con.unregister("_cand")
    return validator.split(out)


def _as_table(out: object) -> pa.Table:
    """DuckDB's `.arrow()` returns a Table (older) or a RecordBatchReader (newer)."""
    if isinstance(out, pa.Table):
        return out
    return out.read_all()  # type: ignore[attr-defined,no-any-return]
