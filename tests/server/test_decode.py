"""The writer's batch validation: a prepared query, the same answer as `validate.validate`."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from test_otlp import BAD, GOOD, TRACE, chat, request

from unitecon.ingest import validate as v
from unitecon.server.decode import CANDIDATE_SCHEMA, BatchValidator, decode_otlp

JSON = "application/json"


def cands(doc: dict[str, Any]) -> pa.Table:
    return decode_otlp(json.dumps(doc).encode(), JSON, "otlp-http").candidates


def test_each_request_gets_its_own_rejections() -> None:
    # Request 3 re-sends span ...b175 of request 1 with 999 input tokens instead of 1200:
    # the same event id with other content, rejected as a duplicate; request 2 has a span
    # with -5 input tokens.
    clash = request([chat("eee19b7ec3c1b175", "eee19b7ec3c1b174", 999)])
    bv = BatchValidator("otlp-http")
    done = bv.validate([cands(GOOD), cands(BAD), cands(clash)])
    bv.close()
    # GOOD: 3 spans (agent + 2 chats); BAD: 1 good + 1 negative; clash: 1 duplicate.
    assert done.chunk.events.num_rows == 4
    assert [len(r) for r in done.rejected] == [0, 1, 1]
    neg, dup = done.rejected[1][0], done.rejected[2][0]
    assert neg.location == "otlp-http#eee19b7ec3c1b178"
    assert neg.reason.startswith("input_tokens: negative count '-5'")
    assert dup.location == "otlp-http#eee19b7ec3c1b175"
    # Request 1's second span: the first place the id was seen.
    assert dup.reason == (
        f"event_id: duplicate '{TRACE}:eee19b7ec3c1b175' with different content; "
        "first seen at otlp-http request 1 of its batch (span 2)"
    )
    assert done.chunk.rows_read == 6


def test_prepared_plan_is_reused_and_sees_only_its_batch() -> None:
    bv = BatchValidator("otlp-http")
    first = bv.validate([cands(GOOD)])
    second = bv.validate([cands(BAD)])
    again = bv.validate([cands(GOOD), cands(GOOD)])  # identical content twice: both kept
    bv.close()
    assert first.chunk.events.num_rows == 3 and first.rejected == [[]]
    assert second.chunk.events.num_rows == 1 and [len(r) for r in second.rejected] == [1]
    spans = second.chunk.events["span_id"].to_pylist()
    assert spans == ["eee19b7ec3c1b177"]  # nothing left over from the first batch
    assert again.chunk.events.num_rows == 6 and again.rejected == [[], []]


def test_same_events_and_rejections_as_validate() -> None:
    tables = [cands(GOOD), cands(BAD)]
    bv = BatchValidator("otlp-http")
    done = bv.validate(tables)
    bv.close()
    # The reference: the unprepared query over the same rows (positions as the batch has
    # them: request 2's spans after request 1's 3 spans and one gap).
    t2 = tables[1].set_column(
        tables[1].schema.get_field_index("_pos"),
        "_pos",
        pa.array([p + 4 for p in tables[1]["_pos"].to_pylist()], pa.int64()),
    )
    events, rejected = v.validate(pa.concat_tables([tables[0], t2]))
    assert done.chunk.events.equals(events)
    assert done.chunk.rejected == rejected


def test_positions_count_the_spans_that_are_not_genai() -> None:
    # Request 1: two plain HTTP spans, then a chat span (its 3rd span); request 2 re-sends
    # that chat span with other content. The duplicate names request 1's 3rd span.
    http = [
        {"traceId": TRACE, "spanId": f"aaaaaaaaaaaaaaa{i}", "name": "GET /", "attributes": []}
        for i in (1, 2)
    ]
    first = request([*http, chat("eee19b7ec3c1b190", None, 100)])
    clash = request([chat("eee19b7ec3c1b190", None, 101)])
    bv = BatchValidator("otlp-http")
    done = bv.validate([cands(first), cands(clash)])
    bv.close()
    assert [len(r) for r in done.rejected] == [0, 1]
    assert done.rejected[1][0].reason.endswith(
        "first seen at otlp-http request 1 of its batch (span 3)"
    )
    assert done.chunk.events["span_id"].to_pylist() == ["eee19b7ec3c1b190"]


def _row(pos: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_id": f"ev-{pos}",
        "ts": "2026-03-02T09:00:00Z",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": "1000",
        "output_tokens": "200",
        "_pos": pos,
        "_loc": f"otlp-http#{pos:016x}",
        "_raw": f'{{"span": {pos}}}',
    }
    row.update(kw)
    return row


#: Candidate rows that take every path of the validation query: each check's rejection,
#: each conversion, long values, tags, duplicates (same content: kept; other: rejected).
ODD: list[dict[str, Any]] = [
    {"ts": "1772442000"},
    {"ts": "1772442000000"},
    {"ts": "1772442000000000000"},
    {"ts": "1772442000.5"},
    {"ts": "yesterday"},
    {"ts": None},
    {"ts": "1999-12-31T23:59:59Z"},
    {"_error": "malformed span"},
    {"_size": 2_000_000},
    {"input_tokens": "1.5"},
    {"input_tokens": "-5"},
    {"input_tokens": "200000000"},
    {"output_tokens": "x"},
    {"cache_read_tokens": "2000"},
    {"cache_read_tokens": "600", "cache_write_tokens": "600"},
    {"reasoning_tokens": "300"},
    {"duration_ms": "nan"},
    {"duration_ms": "-1"},
    {"ttft_ms": "12.5", "duration_ms": "40"},
    {"units": "3", "unit_type": "image", "model": None},
    {"batch": "maybe"},
    {"batch": "true"},
    {"accepted": "false"},
    {"reported_cost": "0.0123"},
    {"reported_cost": "cheap"},
    {"status": "Error"},
    {"status": "broken"},
    {"service_tier": "batch"},
    {"service_tier": "gold"},
    {"operation": "invoke_agent", "model": None, "input_tokens": None, "output_tokens": None},
    {"operation": "Not An Op!"},
    {"operation": "my_team.custom_step", "model": None, "input_tokens": "0"},
    {"model": None},
    {"provider": "gcp.vertex_ai"},
    {"provider": "AWS.Bedrock"},
    {"attempt": "0"},
    {"attempt": "2"},
    {"sample_rate": "0"},
    {"sample_rate": "0.25"},
    {"feature": "f" * 1025},
    {"customer_id": "c" * 1024},
    {"tags": '{"team": "search", "tier": "pro"}'},
    {"tags": "not json"},
    {"_extra": [("service.name", "api"), ("note", "n" * 5000)]},
    {"_extra": [("deployment.environment", "prod")], "_size": 300},
    {"event_id": None, "trace_id": "t1", "span_id": "s1"},
    {"event_id": "dup-same"},
    {"event_id": "dup-same"},
    {"event_id": "dup-other", "input_tokens": "10"},
    {"event_id": "dup-other", "input_tokens": "11"},
]


def test_prepared_plan_does_not_depend_on_earlier_batches() -> None:
    # Prepared on an empty table, run on plain rows, then on rows of every kind, then on
    # plain rows again: each answer must equal the unprepared query's on the same rows
    # (DuckDB would fold checks away by the statistics of the table at prepare time).
    plain = [_row(i) for i in range(1, 4)]
    odd_done = None
    odd = [_row(i, **kw) for i, kw in enumerate(ODD, 1)]
    bv = BatchValidator("otlp-http")
    for rows in (plain, odd, plain):
        t = pa.Table.from_pylist(rows, schema=CANDIDATE_SCHEMA)
        done = bv.validate([t])
        locate = lambda pos: f"span {pos} of the same request"  # noqa: E731
        events, rejected = v.validate(t, v.Validator(locate=locate))
        assert done.chunk.events.equals(events)
        assert done.chunk.rejected == rejected
        assert done.rejected == [rejected]
        if rows is odd:
            odd_done = done
    bv.close()
    # Counted by hand from ODD: rows 5-18, 21, 25, 27, 29, 31-33, 36, 38, 40 and the second
    # "dup-other" (50) break a rule; the other 25 are events (both "dup-same" kept).
    assert odd_done is not None
    assert len(odd_done.chunk.rejected) == 25
    assert odd_done.chunk.events.num_rows == 25
