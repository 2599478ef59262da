"""Reconciliation on constructed bills with known gaps of each kind, each explained.

The ledger: calls of 1,000,000 input and 100,000 output tokens to gpt-4o-mini, each
$0.21 by genai-prices' own `calc_price` ($0.15/M in, $0.60/M out), one UTC day per case.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from unitecon import config
from unitecon.analysis import Analysis
from unitecon.billing import BillLine, import_lines
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger
from unitecon.reconcile import LedgerDay, ReconcileConfig, reconcile, reconcile_ledger

D0 = datetime(2026, 11, 1, tzinfo=UTC)
IN, OUT = 1_000_000, 100_000
CALL = calc_price(Usage(input_tokens=IN, output_tokens=OUT), "gpt-4o-mini", provider_id="openai",
                  genai_request_timestamp=D0).total_price  # fmt: skip


def _events(
    day: int, n: int, model: str = "gpt-4o-mini", rate: float = 1.0
) -> list[dict[str, Any]]:
    return [
        {"event_id": f"d{day}-{model}-{i}", "ts": D0 + timedelta(days=day, minutes=i),
         "provider": "openai", "model": model, "operation": "chat", "input_tokens": IN,
         "output_tokens": OUT, "sample_rate": rate, "source": f"t.jsonl:{i}"}
        for i in range(n)
    ]  # fmt: skip


def _cost(day: int, amount: Decimal, model: str = "gpt-4o-mini-2024-07-18") -> BillLine:
    return BillLine("openai_costs", "cost", "openai", D0 + timedelta(days=day),
                    D0 + timedelta(days=day + 1), f"bill.json: data[{day}]", model=model,
                    sku=f"{model}, output", amount=amount)  # fmt: skip


def _usage(day: int, tokens_in: int, tokens_out: int, key: str = "key_app") -> list[BillLine]:
    return [
        BillLine("openai_usage", "usage", "openai", D0 + timedelta(days=day),
                 D0 + timedelta(days=day + 1), f"usage.json: data[{day}]",
                 model="gpt-4o-mini-2024-07-18", api_key_id=key, token_kind=kind,
                 quantity=Decimal(q), unit="tokens")
        for kind, q in (("input", tokens_in), ("output", tokens_out))
    ]  # fmt: skip


@pytest.fixture(scope="module")
def result() -> Any:
    events = (
        _events(0, 10)  # match
        + _events(1, 10)  # a 15 % discount
        + _events(2, 10)  # as much usage again from a key with no telemetry
        + _events(3, 4, model="ft:gpt-4o-mini:acme:triage:x1")  # unknown model
        + _events(5, 40, rate=0.5)  # sampled at 50 %
    )
    bill = [
        _cost(0, 10 * CALL),
        _cost(1, 10 * CALL * Decimal("0.85")), *_usage(1, 10 * IN, 10 * OUT),
        _cost(2, 20 * CALL), *_usage(2, 10 * IN, 10 * OUT), *_usage(2, 10 * IN, 10 * OUT, "key_x"),
        _cost(3, Decimal("5.00"), model="ft:gpt-4o-mini:acme:triage:x1"),
        _cost(4, Decimal("3.00"), model="o3-2025-04-16"),  # never in the ledger
        _cost(5, 80 * CALL + Decimal("7")),  # the 40 sampled calls stand for 80
    ]  # fmt: skip
    with Ledger(":memory:") as ledger:
        ledger.ingest("t.jsonl", [Chunk(to_table(events))])
        import_lines(ledger.con, "bill.json", "openai_costs", [b for b in bill if b.kind == "cost"])
        import_lines(
            ledger.con, "usage.json", "openai_usage", [b for b in bill if b.kind == "usage"]
        )
        with Analysis(ledger, config.Project()) as analysis:
            return reconcile_ledger(analysis)


def _row(result: Any, day: int, model: str = "gpt-4o-mini") -> Any:
    d = (D0 + timedelta(days=day)).date()
    return next(r for r in result.rows if r.period_start == d and r.model == model)


def _kinds(row: Any) -> dict[str, Decimal]:
    return {e.kind: e.amount for e in row.explanations}


def test_a_match(result: Any) -> None:
    r = _row(result, 0)
    assert r.computed == r.billed == 10 * CALL == Decimal("2.10")
    assert (r.status, r.explanations) == ("match", [])


def test_a_negotiated_discount(result: Any) -> None:
    r = _row(result, 1)
    assert r.residual == Decimal("-0.315")  # 2.10 x 0.85 - 2.10
    assert r.residual_pct == Decimal("-15") / Decimal("0.85")  # -0.315 / 1.785 x 100
    assert _kinds(r) == {"price_difference": Decimal("-0.315")}
    assert "percent: 15" in r.explanations[0].text  # -0.315 / 2.10 = -15 % of our price
    assert r.status == "explained"


def test_untracked_usage(result: Any) -> None:
    r = _row(result, 2)
    assert r.billed_tokens == 2 * r.ledger_tokens == 22_000_000
    assert _kinds(r) == {"untracked_usage": Decimal("2.10")}  # half of the $4.20 bill
    assert "key_x 11,000,000" in r.explanations[0].text


def test_unknown_model(result: Any) -> None:
    r = _row(result, 3, "ft:gpt-4o-mini:acme:triage:x1")
    assert (r.computed, r.unpriced_events) == (0, 4)
    assert _kinds(r) == {"unknown_model": Decimal("5.00")}
    assert "prices missing" in r.explanations[0].text


def test_a_model_the_ledger_never_saw(result: Any) -> None:
    r = _row(result, 4, "o3")  # the bill's o3-2025-04-16 is the catalog's o3
    assert (r.events, r.billed) == (0, Decimal("3.00"))
    assert _kinds(r) == {"untracked_usage": Decimal("3.00")}


def test_sampling(result: Any) -> None:
    r = _row(result, 5)
    assert r.computed == 80 * CALL  # 40 calls at rate 0.5 weigh 2 each
    # Horvitz-Thompson under Poisson sampling: Var = sum over the sampled calls of
    # (1 - p) / p^2 x y^2 = 40 x 0.5 / 0.25 x 0.21^2 = 3.528; 3 SE = 3 x 1.8783 = 5.635 < $7:
    # sampling explains 5.635, a price difference the rest
    bound = Decimal(3 * (40 * 0.5 / 0.25 * 0.21**2) ** 0.5).quantize(Decimal("0.000001"))
    assert _kinds(r)["sampling"] == bound
    assert _kinds(r)["price_difference"] == 7 - bound


def test_capture_rate_and_alert(result: Any) -> None:
    cap = {c.provider: c for c in result.capture}
    billed = 10 * CALL * (1 + Decimal("0.85") + 2 + 8) + 5 + 3 + 7
    tracked = 10 * CALL * (1 + 1 + 1 + 8)
    assert cap["openai"].billed == cap["all"].billed == billed
    assert cap["openai"].tracked == tracked
    assert cap["all"].rate == (tracked / billed).quantize(Decimal("0.000001"))  # 23.10 / 38.8885
    assert cap["all"].alert and result.alerts


def test_within_tolerance_is_a_match() -> None:
    day = LedgerDay("openai", date(2026, 11, 1), "m", Decimal("100"), 1, 10, 5, 5, Decimal(1),
                    0, 0, 0, Decimal(0), 1.0, None, 0, Decimal(0), Decimal(0), 0)  # fmt: skip
    line = {"kind": "cost", "format": "invoice_csv", "provider": "openai", "model": "m",
            "sku": "m", "period_start": D0, "period_end": D0 + timedelta(days=1),
            "amount": Decimal("101.9"), "list_amount": None}  # fmt: skip
    rec = reconcile([day], [line], lambda p, m: m, ReconcileConfig(tolerance_pct=Decimal(2)))
    assert rec.rows[0].status == "match"
    rec = reconcile([day], [line], lambda p, m: m, ReconcileConfig(tolerance_pct=Decimal(1)))
    assert rec.rows[0].status == "explained"


@settings(max_examples=60, deadline=None)
@given(
    computed=st.decimals(0, 10_000, places=6),
    billed=st.decimals(0, 10_000, places=6),
    ledger_tokens=st.integers(0, 10**9),
    billed_tokens=st.one_of(st.none(), st.integers(0, 10**9)),
    unpriced=st.integers(0, 5),
)
def test_explanations_sum_to_the_residual(
    computed: Decimal,
    billed: Decimal,
    ledger_tokens: int,
    billed_tokens: int | None,
    unpriced: int,
) -> None:
    """Whatever the gap, the explanations (unexplained included) add up to the residual."""
    day = LedgerDay("openai", date(2026, 11, 1), "m", computed, 3, ledger_tokens, 0, 0, Decimal(0),
                    unpriced,
                    ledger_tokens // 2 if unpriced else 0, 0, Decimal(0), 1.0, None, 0,
                    Decimal(0), Decimal(0), 0)  # fmt: skip
    lines = [{"kind": "cost", "format": "openai_costs", "provider": "openai", "model": "m",
              "sku": "m", "period_start": D0, "period_end": D0 + timedelta(days=1),
              "amount": billed, "list_amount": None}]  # fmt: skip
    if billed_tokens is not None:
        lines.append({"kind": "usage", "format": "openai_usage", "provider": "openai",
                      "model": "m", "token_kind": "input", "quantity": billed_tokens,
                      "period_start": D0, "api_key_id": "k"})  # fmt: skip
    row = reconcile([day], lines, lambda p, m: m).rows[0]
    if row.status == "match":
        assert abs(row.residual) <= max(Decimal("0.01"), billed * 2 / 100)
    else:
        assert sum(e.amount for e in row.explanations) == row.residual


def test_reported_vs_computed_is_flagged_beyond_tolerance() -> None:
    """A source reporting $0.21 a call agrees with us; one reporting $0.30 is 42.9 % off
    ($0.09 / $0.21) on each of its calls, beyond the 1 % tolerance."""
    ok = [{**e, "reported_cost": CALL} for e in _events(0, 3)]
    off = [{**e, "reported_cost": Decimal("0.30"), "model": "gpt-4o-mini-2024-07-18",
            "event_id": e["event_id"] + "x"} for e in _events(0, 2)]  # fmt: skip
    with Ledger(":memory:") as ledger:
        ledger.ingest("t.jsonl", [Chunk(to_table(ok + off + _events(1, 4)))])
        with Analysis(ledger, config.Project()) as analysis:
            rec = reconcile_ledger(analysis)
    gaps = {g.model: g for g in rec.reported}
    assert rec.rows == []  # no bill: only the reported comparison
    good, bad = gaps["gpt-4o-mini"], gaps["gpt-4o-mini-2024-07-18"]
    assert (good.events, good.reported, good.computed, good.flagged) == (3, 3 * CALL, 3 * CALL, 0)
    assert (bad.events, bad.gap, bad.flagged) == (2, Decimal("0.18"), 2)  # 2 x (0.30 - 0.21)
    assert bad.gap_pct == Decimal("0.18") / Decimal("0.42") * 100


def test_a_bill_in_another_currency_is_converted_or_left_out() -> None:
    day = LedgerDay("openai", date(2026, 11, 1), "m", Decimal("108"), 1, 10, 5, 5, Decimal(1),
                    0, 0, 0, Decimal(0), 1.0, None, 0, Decimal(0), Decimal(0), 0)  # fmt: skip
    line = {"kind": "cost", "format": "invoice_csv", "provider": "openai", "model": "m",
            "sku": "m", "period_start": D0, "period_end": D0 + timedelta(days=1),
            "amount": Decimal("100"), "list_amount": None, "currency": "EUR"}  # fmt: skip
    rec = reconcile([day], [line], lambda p, m: m, rates={"EUR": Decimal("1.08")})
    assert rec.rows[0].billed == Decimal("108.00") and rec.rows[0].status == "match"
    rec = reconcile([day], [line], lambda p, m: m)
    assert rec.rows == [] and rec.skipped == {"EUR": 1}
