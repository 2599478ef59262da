"""Trace resolution (`ledger/traces.py`): one call, one price, and inheritance, whatever the
order and the batches in which a trace's spans arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from genai_prices import Usage, calc_price
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger
from unitecon.pricing.engine import priced_events

TS = datetime(2026, 1, 1, 12, tzinfo=UTC)
MODEL = "gpt-4o-2024-08-06"
# gpt-4o: 1,000 x $2.50 + 100 x $10 per million = $0.0035 a call
CALL = calc_price(Usage(input_tokens=1000, output_tokens=100), MODEL, provider_id="openai")
assert CALL.total_price == Decimal("0.0035")


def _span(trace: int, span: int, parent: int | None, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"{trace:032x}:{span:016x}",
        "ts": TS + timedelta(milliseconds=span),
        "duration_ms": 1000.0,
        "trace_id": f"{trace:032x}",
        "span_id": f"{span:016x}",
        "parent_span_id": None if parent is None else f"{parent:016x}",
        "source": f"otlp-http#{span:016x}",
        **fields,
    }


def _call(trace: int, span: int, parent: int, rid: str | None, **more: Any) -> dict[str, Any]:
    tags = [("gen_ai.response.id", rid)] if rid else None
    return _span(
        trace, span, parent, operation="chat", provider="openai", model=MODEL,
        input_tokens=1000, output_tokens=100, tags=tags, **more,
    )  # fmt: skip


def _trace(t: int) -> list[dict[str, Any]]:
    """A root with the customer; under it an instrumentation's span and, as its child, the
    SDK's span of the same response (more detail: cache reads); and two sibling calls with
    equal counts at the same time but their own response ids (two real calls), and two more
    without ids (siblings are never merged on counts alone)."""
    return [
        _span(t, 1, None, operation="span", customer_id=f"cust-{t}"),
        _call(t, 2, 1, "r-a"),
        _call(t, 3, 2, "r-a", cache_read_tokens=0, reasoning_tokens=0, duration_ms=900.0),
        _call(t, 4, 1, "r-b"),
        _call(t, 5, 1, "r-c"),
        _call(t, 6, 1, None),  # and two without ids: equal counts, same time, siblings
        _call(t, 7, 1, None),
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_any_order_and_batching_prices_each_response_once(rnd: Any, batches: int) -> None:
    spans = [s for t in range(3) for s in _trace(t)]
    rnd.shuffle(spans)
    cuts = sorted(rnd.sample(range(1, len(spans)), batches - 1))
    parts = [spans[a:b] for a, b in zip([0, *cuts], [*cuts, len(spans)], strict=True)]
    with Ledger(":memory:") as ledger:
        merged = sum(
            ledger.ingest(f"otlp-http-{i}", [Chunk(to_table(p))]).merged
            for i, p in enumerate(parts)
        )
        rows = priced_events(ledger).to_pyarrow().to_pylist()
    # five responses per trace (r-a once, r-b, r-c, two without ids): 15 at $0.0035
    assert sum(r["cost"] for r in rows) == 15 * CALL.total_price
    assert merged == 3
    assert sorted(r["operation"] for r in rows).count("duplicate") == 3
    for r in rows:
        assert r["customer_id"] == f"cust-{int(r['trace_id'], 16)}"


def test_a_nearer_ancestor_arriving_later_replaces_the_inherited_value() -> None:
    root = _span(9, 1, None, operation="span", customer_id="acme", feature="chat")
    call = _call(9, 3, 2, "r")
    middle = _span(9, 2, 1, operation="invoke_agent", agent="planner", feature="plan")
    with Ledger(":memory:") as ledger:
        for i, batch in enumerate(([call], [root], [middle])):
            ledger.ingest(f"b{i}", [Chunk(to_table(batch))])
        got = ledger.rows(
            "SELECT customer_id, feature, agent, tags['unitecon.inherited'] AS inh "
            "FROM events WHERE span_id = ?",
            [f"{3:016x}"],
        )
    assert got == [
        {"customer_id": "acme", "feature": "plan", "agent": "planner",
         "inh": "customer_id,feature,agent"}
    ]  # fmt: skip
