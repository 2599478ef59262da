"""The writer's batch validation: a prepared query, the same answer as `validate.validate`."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
from test_otlp import BAD, GOOD, TRACE, chat, request

from unitecon.ingest import validate as v
from unitecon.server.decode import BatchValidator, decode_otlp

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
