"""Trace-level resolution of spans, run by the ledger on the traces each write touches.

Two things about a span are only known from the other spans of its trace, which may arrive
in any order and in other export batches (a child before its root; a root a minute later).
So they are settled here, on the stored trace, every time a write adds spans to it, and the
result does not depend on the order of arrival:

- **One call, one price.** The same provider response seen through two spans (an
  instrumentation's span and the Anthropic SDK's own, for instance) is priced once. Two
  model-call spans of a trace are the same response when they carry the same response id
  (`gen_ai.response.id`), or, without two different ids, when they have the same model, the
  same input and output counts, overlapping times, and the same parent or one is the other's
  parent. The span with the most usage detail wins (count of non-zero token fields, the
  1-hour cache writes included: the SDK's span carries the 5-minute/1-hour split), then the
  later start (the span nearer the wire), then the smaller event id. The others stay in the
  tree as operation `duplicate` (structural: never priced, no leaf, no task), with tags
  `unitecon.duplicate_of` (the winner's event id) and `unitecon.operation` (their own
  operation); a later span that wins turns an earlier winner into a duplicate.
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

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from unitecon.ledger import migrations
from unitecon.ledger.schema import INHERITED

#: Operations that are one model call each (the ones de-duplicated).
CALL_OPERATIONS = ("chat", "generate_content", "text_completion", "embeddings")
DUPLICATE = "duplicate"
INHERITED_TAG = "unitecon.inherited"
DUPLICATE_OF_TAG = "unitecon.duplicate_of"
OPERATION_TAG = "unitecon.operation"


def touched_traces(batch: pa.Table) -> pa.Array | None:
    """The trace ids of the spans in `batch` (None: no span with a trace id)."""
    if not batch.num_rows:
        return None
    spans = pc.and_(
        pc.match_substring(batch.column("source"), "#"), pc.is_valid(batch.column("trace_id"))
    )
    if not pc.any(spans).as_py():
        return None
    return pc.unique(batch.filter(spans).column("trace_id"))


def resolve(con: duckdb.DuckDBPyConnection, traces: pa.Array) -> int:
    """De-duplicate and inherit on the stored traces `traces`; returns how many spans
    became duplicates (net: minus earlier duplicates that now win). Runs in the caller's
    transaction."""
    con.register("_touched", pa.table({"trace_id": traces}))
    try:
        con.execute(_TRACE_SQL)
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
    WHERE contains(e.source, '#')
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
           ts + to_microseconds(CAST(coalesce(duration_ms, 0) * 1000 AS BIGINT)) AS te
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
            AND (coalesce(a.parent_span_id, '') = coalesce(b.parent_span_id, '')
                 OR a.span_id = b.parent_span_id OR b.span_id = a.parent_span_id)
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
    nearest = ", ".join(
        f"arg_min(a.own_{f}, d.depth) FILTER (WHERE a.own_{f} IS NOT NULL) AS up_{f}"
        for f in INHERITED
    )
    root = ", ".join(f"r.own_{f} AS root_{f}" for f in INHERITED)
    dup = ", ".join(f"any_value(l.own_{f}) AS dup_{f}" for f in INHERITED)
    resolved = ", ".join(
        f"coalesce(n.own_{f}, u.up_{f}, rt.root_{f}, dp.dup_{f}) AS new_{f}" for f in INHERITED
    )
    inherited = ", ".join(
        f"CASE WHEN n.own_{f} IS NULL AND coalesce(u.up_{f}, rt.root_{f}, dp.dup_{f}) "
        f"IS NOT NULL THEN '{f}' END"
        for f in INHERITED
    )
    changed = " OR ".join(f"x.new_{f} IS DISTINCT FROM x.{f}" for f in INHERITED)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _inh AS
        WITH RECURSIVE up(event_id, trace_id, parent, depth) AS (
            SELECT event_id, trace_id, parent_span_id, 1 FROM _tr
            WHERE parent_span_id IS NOT NULL
            UNION ALL
            SELECT up.event_id, up.trace_id, p.parent_span_id, up.depth + 1
            FROM up JOIN _tr p ON p.trace_id = up.trace_id AND p.span_id = up.parent
            WHERE p.parent_span_id IS NOT NULL AND up.depth < 64
        ),
        d AS (SELECT event_id, trace_id, parent AS anc, depth FROM up),
        near AS (
            SELECT d.event_id, {nearest}
            FROM d JOIN _tr a ON a.trace_id = d.trace_id AND a.span_id = d.anc
            GROUP BY d.event_id
        ),
        roots AS (
            SELECT r.trace_id, {root} FROM _tr r WHERE r.parent_span_id IS NULL
            QUALIFY row_number() OVER (PARTITION BY r.trace_id ORDER BY r.ts, r.event_id) = 1
        ),
        dups AS (
            SELECT l.tags['{DUPLICATE_OF_TAG}'] AS winner, {dup}
            FROM _tr l WHERE l.operation = '{DUPLICATE}' GROUP BY 1
        ),
        x AS (
            SELECT n.event_id, n.tags, {", ".join(f"n.{f}" for f in INHERITED)}, {resolved},
                   list_filter([{inherited}], v -> v IS NOT NULL) AS inh
            FROM _tr n
            LEFT JOIN near u ON u.event_id = n.event_id
            LEFT JOIN roots rt ON rt.trace_id = n.trace_id AND n.parent_span_id IS NOT NULL
            LEFT JOIN dups dp ON dp.winner = n.event_id
        )
        SELECT * FROM x WHERE {changed}
        """
    )
    sets = ", ".join(f"{f} = x.new_{f}" for f in INHERITED)
    con.execute(
        f"""
        UPDATE events SET {sets},
            tags = CASE
                WHEN len(x.inh) = 0 AND events.tags IS NULL THEN NULL
                ELSE map_concat(
                    map_from_entries(list_filter(map_entries(coalesce(events.tags,
                        MAP {{}}::MAP(VARCHAR, VARCHAR))), e -> e.key <> '{INHERITED_TAG}')),
                    CASE WHEN len(x.inh) = 0 THEN MAP {{}}::MAP(VARCHAR, VARCHAR)
                         ELSE MAP {{'{INHERITED_TAG}': array_to_string(x.inh, ',')}} END)
            END
        FROM _inh x WHERE events.event_id = x.event_id
        """
    )
    con.execute("DROP TABLE IF EXISTS _inh")
