"""What-if margins: the margins stage re-run on the scenario's usage. A flat plan keeps the
revenue, so a customer's margin rises by exactly the cost removed; a usage plan bills the
grown traffic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from unitecon.config import Project
from unitecon.economics import analysis, replay, whatif
from unitecon.economics.revenue_config import AssignRule, Plan, RevenueConfig, UsagePrice
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.models import scenario as sc

T0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
# gpt-4o list price (OpenAI rate card): $2.50 per million input, $10 per million output
# tokens. c0's calls: 2 x (1,000 x 2.50 + 200 x 10) / 1e6 = 2 x $0.0045 = $0.009.
C0_COST = Decimal("0.009")


def rows() -> list[dict[str, Any]]:
    def call(i: int, customer: str, model: str) -> dict[str, Any]:
        return {
            "event_id": f"e{i}",
            "ts": T0 + dt.timedelta(minutes=i),
            "provider": "openai",
            "model": model,
            "input_tokens": 1000,
            "output_tokens": 200,
            "feature": "support",
            "customer_id": customer,
            "task_id": f"t{i}",
            "source": f"test:{i}",
        }

    return [call(0, "c0", "gpt-4o"), call(1, "c0", "gpt-4o"), call(2, "c1", "gpt-4o-mini")]


def project(plan: Plan) -> Project:
    revenue = RevenueConfig(plans={"p": plan}, assign=[AssignRule(plan="p")])
    return Project(revenue=revenue)


def run(text: str, p: Project) -> dict[str, Any]:
    led = Ledger(":memory:")
    led.ingest("test", [Chunk(schema.to_table(rows()))])
    s = sc.parse(sc.Scenario, text, "s.yaml")
    r = replay.replay(led, s, p)
    book = analysis.book_for(p, None)
    m = (analysis.margins(r.baseline_inputs, book), analysis.margins(r.scenario_inputs, book))
    labels = [sc.label(t, i) for i, t in enumerate(s.transformations)]
    return whatif.WhatIf(s.name, labels, r.sides, r.notes, m).as_dict()


HALVE_C0 = "name: halve\ntransformations:\n  - {kind: price_change, model: gpt-4o, factor: 0.5}\n"


def _group(out: dict[str, Any], dim: str, key: str) -> dict[str, Any]:
    return next(g for g in out["by"][dim] if g["key"] == key)


def test_flat_plan_margin_rises_by_exactly_the_cost_removed() -> None:
    out = run(HALVE_C0, project(Plan(monthly_fee=Decimal(100), fixed_cost_per_customer=3)))
    c0, c1 = _group(out, "customer_id", "c0"), _group(out, "customer_id", "c1")
    assert c0["baseline"]["cost"] == C0_COST
    assert c0["scenario"]["cost"] == C0_COST / 2
    m = c0["margin"]
    assert m["scenario"]["revenue"] == m["baseline"]["revenue"] > 0  # flat: same revenue
    assert m["gross_margin_change"] == C0_COST / 2
    rev = m["baseline"]["revenue"]
    assert m["gross_margin_pct_change"] == (
        m["scenario"]["gross_margin_pct"] - m["baseline"]["gross_margin_pct"]
    )
    assert abs(m["gross_margin_pct_change"] - C0_COST / 2 / rev) < Decimal("2e-6")
    assert c1["margin"]["gross_margin_change"] == 0  # the other customer is untouched
    total = out["margins"]["total"]
    assert total["gross_margin_change"] == C0_COST / 2 == out["savings"]
    assert out["margins"]["fixed_cost"] == "plan"
    # the margin is revenue - variable cost - the plan's F, both sides
    for side in ("baseline", "scenario"):
        s = m[side]
        assert s["gross_margin"] == s["revenue"] - s["variable_cost"] - s["fixed_cost"]


def test_usage_plan_bills_the_grown_traffic() -> None:
    plan = Plan(usage=[UsagePrice(metric="tasks", price=Decimal("0.50"))])
    out = run(
        "name: grow\ntransformations:\n  - {kind: growth, match: {customer: [c0]}, factor: 2}\n",
        project(plan),
    )
    c0 = _group(out, "customer_id", "c0")["margin"]
    assert c0["baseline"]["revenue"] == Decimal("1.00")  # 2 tasks x $0.50
    assert c0["scenario"]["revenue"] == Decimal("2.00")  # 4 tasks x $0.50
    assert c0["gross_margin_change"] == Decimal("1.00") - C0_COST
    by_feature = _group(out, "feature", "support")["margin"]
    assert by_feature["scenario"]["revenue"] == Decimal("2.50")  # c0 4 + c1 1 tasks
