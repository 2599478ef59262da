"""Usage lines from a real ledger: task counts, outcomes, leaf-only tokens and cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis

from unitecon.economics.inputs import UNATTRIBUTED, coverage, month_coverage, usage_lines
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

T0 = dt.datetime(2026, 10, 5, 12, tzinfo=dt.UTC)


def _ev(i: int, **kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "event_id": f"e{i}",
        "ts": T0 + dt.timedelta(minutes=i),
        "operation": "chat",
        "source": f"t:{i}",
        "customer_id": "acme",
        "feature": "support",
        "input_tokens": 100,
        "output_tokens": 10,
    }
    base.update(kw)
    return base


ROWS = [
    # task t1: root says nothing; a rejected draft, then an accepted one -> success
    _ev(1, operation="invoke_agent", task_id="t1", conversation_id="c1", input_tokens=999),
    _ev(2, task_id="t1", conversation_id="c1", accepted=False, reported_cost=Decimal("0.5")),
    _ev(3, task_id="t1", conversation_id="c1", accepted=True, reported_cost=Decimal("0.25")),
    # task t2 in the same conversation: last known outcome false -> failed
    _ev(4, task_id="t2", conversation_id="c1", accepted=False, reported_cost=Decimal("1")),
    # task t3 (trace id as task): outcome unknown
    _ev(5, trace_id="a" * 32, conversation_id="c2", reported_cost=Decimal("2")),
    # no customer
    _ev(6, customer_id=None, task_id="t9", reported_cost=Decimal("3")),
]


def _priced(ledger: Ledger):  # type: ignore[no-untyped-def]
    t = ledger.ibis().table("events")
    return t.mutate(cost=t.reported_cost, price_status=ibis.literal("priced"))


def test_usage_lines() -> None:
    with Ledger(":memory:") as led:
        led.ingest("t", [Chunk(schema.to_table(ROWS))])
        lines = {ln.customer_id: ln for ln in usage_lines(_priced(led))}
    a = lines["acme"]
    assert (a.month, a.feature) == (dt.date(2026, 10, 1), "support")
    assert a.tasks == 3  # t1, t2, the trace
    assert a.successful_tasks == 1
    assert a.conversations == 2
    assert a.resolutions == 1  # c1 holds the successful t1
    assert a.ktokens == Decimal("0.44")  # 4 leaf events x 110 tokens; the root's 999 not
    assert a.variable_cost == Decimal("3.75")
    assert lines[UNATTRIBUTED].variable_cost == 3


def test_coverage() -> None:
    with Ledger(":memory:") as led:
        led.ingest("t", [Chunk(schema.to_table(ROWS))])
        assert coverage(_priced(led)) == {dt.date(2026, 10, 1): Decimal(1) / 31}


def test_month_coverage_of_a_60_day_window() -> None:
    cov = month_coverage(dt.datetime(2026, 9, 21), dt.datetime(2026, 11, 19))
    assert cov == {
        dt.date(2026, 9, 1): Decimal(10) / 30,
        dt.date(2026, 10, 1): Decimal(1),
        dt.date(2026, 11, 1): Decimal(19) / 30,
    }
