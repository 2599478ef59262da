"""Trace-level resolution of spans, run by the ledger on the traces each write touches.

Two things about a span are only known from the other spans of its trace, which may arrive
in any order and in other export batches (a child before its root; a root a minute later).
So they are settled here, on the stored trace, every time a write adds spans to it, and the
result does not depend on the order of arrival:

- **One call, one price.** The same provider response seen through two spans (an
  instrumentation's span and the Anthropic SDK's own, for instance) is priced once. Two
  model-call spans of a trace are the same response when they carry the same response id
  (`gen_ai.response.id`), or, without two different ids, when one is the other's parent and
  they have the same model, the same input and output counts and overlapping times (siblings
  need the id: parallel calls of one template can have equal counts). The span with the
  most usage detail wins (count of non-zero token fields, the 1-hour cache writes included:
  the SDK's span carries the 5-minute/1-hour split), then the later start (the span nearer
  the wire), then the smaller event id. The others stay in the
  tree as operation `duplicate` (structural: never priced, no leaf, no task), with tags
  `unitecon.duplicate_of` (the winner's event id) and `unitecon.operation` (their own
  operation); a later span that wins turns an earlier winner into a duplicate. A stream's
  request span without usage is, likewise, a duplicate of the sibling span that reports the
  stream's usage when it ends (Logfire's `streaming response` log, whose `duration` runs
  back to the request span's end, within a second): the zero-token wrapper is no call.
- **Inheritance down the trace.** A span without its own value of a field of
  `schema.INHERITED` (customer, user, feature, team, environment, conversation, agent, task
  type) takes the value of its nearest stored ancestor that has one; where the chain of
  stored parents breaks (a parent that was never exported as a GenAI span), the trace's root
  span's value applies. A winner of a duplicate pair takes what it still lacks from its
  duplicates. Inherited fields are listed in the tag `unitecon.inherited`, so a nearer
  ancestor arriving later replaces them, and a span's own values are never overwritten.

Only spans take part (events whose `source` is `file#span_id` or `otlp-http#span_id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from unitecon.ledger import migrations
from unitecon.ledger.schema import INHERITED

#: Operations that are one model call each (the ones de-duplicated).
CALL_OPERATIONS = ("chat", "generate_content", "text_completion", "embeddings")
DUPLICATE = "duplicate"
INHERITED_TAG = "unitecon.inherited"
DUPLICATE_OF_TAG = "unitecon.duplicate_of"
OPERATION_TAG = "unitecon.operation"


#: How far from a batch's spans (in start time) the spans of its traces are looked for: the
#: ledger's zone maps on `ts` then spare a scan of every stored event per batch.
TRACE_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class Touched:
    """The traces of a written batch's spans, and the span start times they cover."""

    traces: pa.Array
    first: datetime
    last: datetime


def touched_traces(batch: pa.Table) -> Touched | None:
    """The traces of the spans in `batch` (None: no span with a trace id)."""
    import pyarrow.compute as pc  # the write path only: 0.1 s of every read's import

    if not batch.num_rows:
        return None
    spans = pc.and_(
        pc.match_substring(batch.column("source"), "#"), pc.is_valid(batch.column("trace_id"))
    )
    if not pc.any(spans).as_py():
        return None
    kept = batch.filter(spans)
    lo, hi = pc.min_max(kept.column("ts")).values()
    return Touched(pc.unique(kept.column("trace_id")), lo.as_py(), hi.as_py())


def resolve(con: duckdb.DuckDBPyConnection, touched: Touched) -> int:
    """De-duplicate and inherit on the stored traces `touched` (their spans that started
    within TRACE_WINDOW of the batch's); returns how many spans became duplicates (net:
    minus earlier duplicates that now win). Runs in the caller's transaction."""
    con.register("_touched", pa.table({"trace_id": touched.traces}))
    try:
        con.execute(
            _TRACE_SQL,
            [touched.first - TRACE_WINDOW, touched.last + TRACE_WINDOW],
        )
        merged = _dedup(con)
        _inherit(con)
    finally:
        con.execute("DROP TABLE IF EXISTS _tr")
        con.unregister("_touched")
    return merged


_OWN = ", ".join(
    f"CASE WHEN list_contains(_inh, '{f}') THEN NULL ELSE {f} END AS own_{f}" for f in INHERITED
)
_TRACE_SQL = f"""
CREATE OR REPLACE TEMP TABLE _tr AS
SELECT *, {_OWN}
FROM (
    SELECT e.event_id, e.trace_id, e.span_id, e.parent_span_id, e.ts,
           e.duration_ms, e.status, e.model, e.input_tokens, e.output_tokens,
           e.cache_read_tokens, e.cache_write_tokens, e.cache_write_1h_tokens,
           e.reasoning_tokens, e.tags, {", ".join(f"e.{f}" for f in INHERITED)},
           coalesce(e.tags['{OPERATION_TAG}'], e.operation) AS op0, e.operation,
           e.tags['gen_ai.response.id'] AS rid,
           coalesce(string_split(e.tags['{INHERITED_TAG}'], ','), []) AS _inh
    FROM events e SEMI JOIN _touched t ON e.trace_id = t.trace_id
    WHERE e.ts BETWEEN $1 AND $2 AND contains(e.source, '#')
)
"""

_CALLS = ", ".join(f"'{op}'" for op in CALL_OPERATIONS)
_DETAIL = " + ".join(
    f"CAST({c} > 0 AS INTEGER)"
    for c in (
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
    )
)
_DEDUP_SQL = f"""
WITH c AS (
    SELECT *, {_DETAIL} AS detail,
           ts + to_microseconds(CAST(coalesce(duration_ms, 0) * 1000 AS BIGINT)) AS te,
           TRY_CAST(tags['duration'] AS DOUBLE) AS stream_s
    FROM _tr WHERE op0 IN ({_CALLS}) AND status = 'ok'
),
pairs AS (
    SELECT a.event_id AS loser, b.event_id AS winner, b.detail, b.ts, b.event_id AS bid
    FROM c a JOIN c b ON a.trace_id = b.trace_id AND a.event_id <> b.event_id
    WHERE (
        (a.rid IS NOT NULL AND a.rid = b.rid)
        OR (
            NOT (a.rid IS NOT NULL AND b.rid IS NOT NULL)
            AND a.model = b.model
            AND a.input_tokens = b.input_tokens AND a.output_tokens = b.output_tokens
            AND a.input_tokens + a.output_tokens > 0
            AND a.ts <= b.te AND b.ts <= a.te
            AND (a.span_id = b.parent_span_id OR b.span_id = a.parent_span_id)
        )
        OR (
            -- a stream's request span with no usage, and the sibling that reports the
            -- stream's usage when it ends (Logfire: a log span whose `duration` [s] runs
            -- back to the request span's end)
            a.rid IS NULL AND a.input_tokens + a.output_tokens = 0
            AND b.input_tokens + b.output_tokens > 0 AND a.model = b.model
            AND coalesce(a.parent_span_id, '') = coalesce(b.parent_span_id, '')
            AND b.stream_s IS NOT NULL
            AND abs(epoch_us(b.ts) - CAST(b.stream_s * 1e6 AS BIGINT) - epoch_us(a.te))
                < 1000000
        )
    )
    AND (b.detail > a.detail
         OR (b.detail = a.detail AND b.ts > a.ts)
         OR (b.detail = a.detail AND b.ts = a.ts AND b.event_id < a.event_id))
),
best AS (
    SELECT loser, first(winner ORDER BY detail DESC, ts DESC, bid) AS winner
    FROM pairs GROUP BY loser
)
SELECT t.event_id, t.op0, t.operation, b.winner
FROM _tr t LEFT JOIN best b ON t.event_id = b.loser
WHERE t.op0 IN ({_CALLS}) AND (
    (b.winner IS NOT NULL) <> (t.operation = '{DUPLICATE}')
    OR (b.winner IS NOT NULL AND t.tags['{DUPLICATE_OF_TAG}'] IS DISTINCT FROM b.winner)
)
"""


def _dedup(con: duckdb.DuckDBPyConnection) -> int:
    changes = con.execute(_DEDUP_SQL).fetch_arrow_table()
    if not changes.num_rows:
        return 0
    con.register("_chg", changes)
    try:
        # the new duplicates, and earlier ones re-pointed at a better winner
        con.execute(
            f"""
            UPDATE events SET operation = '{DUPLICATE}',
                tags = map_concat(
                    map_from_entries(list_filter(map_entries(coalesce(events.tags,
                        MAP {{}}::MAP(VARCHAR, VARCHAR))), e -> e.key NOT IN
                        ('{DUPLICATE_OF_TAG}', '{OPERATION_TAG}'))),
                    MAP {{'{DUPLICATE_OF_TAG}': c.winner, '{OPERATION_TAG}': c.op0}})
            FROM _chg c WHERE events.event_id = c.event_id AND c.winner IS NOT NULL
            """
        )
        # earlier duplicates that now win back their own operation
        con.execute(
            f"""
            UPDATE events SET operation = c.op0,
                tags = map_from_entries(list_filter(map_entries(events.tags), e -> e.key NOT IN
                    ('{DUPLICATE_OF_TAG}', '{OPERATION_TAG}')))
            FROM _chg c WHERE events.event_id = c.event_id AND c.winner IS NULL
            """
        )
        con.execute(
            "UPDATE _tr SET operation = CASE WHEN c.winner IS NULL THEN c.op0 ELSE "
            f"'{DUPLICATE}' END FROM _chg c WHERE _tr.event_id = c.event_id"
        )
        migrations.rekey(con, "event_id IN (SELECT event_id FROM _chg)")
    finally:
        con.unregister("_chg")
    was = changes.column("operation").to_pylist()
    wins = changes.column("winner").to_pylist()
    new = sum(1 for op, w in zip(was, wins, strict=True) if w is not None and op != DUPLICATE)
    back = sum(1 for op, w in zip(was, wins, strict=True) if w is None and op == DUPLICATE)
    return new - back


def _inherit(con: duckdb.DuckDBPyConnection) -> None:
    """Fill each span's missing INHERITED fields (walked in Python: a trace is small, and a
    recursive query over every touched trace cost seconds per 20,000 spans)."""
    cols = ", ".join(f"own_{f}, {f}" for f in INHERITED)
    t = con.execute(
        f"SELECT event_id, trace_id, span_id, parent_span_id, operation, "
        f"tags['{DUPLICATE_OF_TAG}'] AS dup_of, _inh, {cols} FROM _tr"
    ).fetch_arrow_table()
    if not t.num_rows:
        return
    nodes = t.to_pylist()
    by_span = {(n["trace_id"], n["span_id"]): n for n in nodes}
    by_event = {n["event_id"]: n for n in nodes}
    roots: dict[str, dict[str, Any]] = {}
    for n in sorted(nodes, key=lambda n: n["event_id"]):
        if n["parent_span_id"] is None:
            roots.setdefault(n["trace_id"], n)
    got: dict[str, dict[str, Any]] = {}
    present = [f for f in INHERITED if any(n[f] is not None for n in nodes)]
    for f in INHERITED:
        if f not in present:  # nobody in these traces has it: nothing to pass on
            for n in nodes:
                got.setdefault(n["event_id"], {})[f] = None
            continue
        memo: dict[str, Any] = {}
        for n in nodes:
            _resolve(n, f, by_span, roots, memo)
        for n in nodes:
            if n["operation"] == DUPLICATE and n["dup_of"] and memo[n["event_id"]] is not None:
                w = by_event.get(n["dup_of"])
                if w is not None and memo[w["event_id"]] is None:
                    memo[w["event_id"]] = memo[n["event_id"]]
        for n in nodes:
            got.setdefault(n["event_id"], {})[f] = memo[n["event_id"]]
    changes = []
    for n in nodes:
        new = got[n["event_id"]]
        inh = [f for f in INHERITED if n[f"own_{f}"] is None and new[f] is not None]
        if any(new[f] != n[f] for f in INHERITED) or sorted(inh) != sorted(n["_inh"] or []):
            changes.append({"event_id": n["event_id"], **new, "inh": ",".join(inh) or None})
    if not changes:
        return
    schema = pa.schema([("event_id", pa.string()), *((f, pa.string()) for f in INHERITED)])
    schema = schema.append(pa.field("inh", pa.string()))
    con.register("_inh", pa.Table.from_pylist(changes, schema=schema))
    sets = ", ".join(f"{f} = x.{f}" for f in INHERITED)
    plain = f"""map_from_entries(list_filter(map_entries(coalesce(events.tags,
        MAP {{}}::MAP(VARCHAR, VARCHAR))), e -> e.key <> '{INHERITED_TAG}'))"""
    try:
        con.execute(
            f"""
            UPDATE events SET {sets},
                tags = CASE
                    WHEN x.inh IS NULL AND cardinality({plain}) = 0 THEN NULL
                    WHEN x.inh IS NULL THEN {plain}
                    ELSE map_concat({plain}, MAP {{'{INHERITED_TAG}': x.inh}})
                END
            FROM _inh x WHERE events.event_id = x.event_id
            """
        )
    finally:
        con.unregister("_inh")


def _resolve(
    n: dict[str, Any],
    f: str,
    by_span: dict[tuple[str, str], dict[str, Any]],
    roots: dict[str, dict[str, Any]],
    memo: dict[str, Any],
) -> Any:
    """`f` of node `n`: its own value, else its nearest stored ancestor's, else (the chain
    of stored parents broken) the trace root's."""
    path = []
    node: dict[str, Any] | None = n
    value = None
    while node is not None:
        eid = node["event_id"]
        if eid in memo:
            value = memo[eid]
            break
        path.append(eid)
        if node[f"own_{f}"] is not None or len(path) > 64:
            value = node[f"own_{f}"]
            break
        parent = node["parent_span_id"]
        if parent is None:
            break
        up = by_span.get((node["trace_id"], parent))
        if up is None or up["event_id"] in path:  # broken chain (or a cycle): the root's
            root = roots.get(node["trace_id"])
            value = root[f"own_{f}"] if root is not None else None
            break
        node = up
    for eid in path:
        memo[eid] = value
    return value
