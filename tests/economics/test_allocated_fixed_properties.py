"""Properties of the allocated fixed cost in margins, for generated ledgers and projects:

- conservation: the fixed cost over all margin rows (customers, `(unattributed)`,
  `__unallocated__`, `__idle__`) equals the window's fixed charges + idle cost, exactly
  (1e-24 quantum), hence to the cent;
- it is the attribution stage's allocation: per customer it matches `allocate(..., "customer")`
  for the additive drivers (requests, tokens, variable cost; idle by GPU cost). `even` and
  `tasks` weigh each row of the breakdown, here a (customer, month, feature), so they differ
  from a by-customer report by design;
- margin = revenue - variable cost - fixed cost on every row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from unitecon.attribution import allocate
from unitecon.attribution.frame import IDLE, NONE, UNALLOCATED
from unitecon.config import Project, parse
from unitecon.economics.analysis import load_inputs, margins
from unitecon.economics.inputs import UNATTRIBUTED, costed, fixed_lines
from unitecon.economics.revenue import load_book

T0 = dt.datetime(2026, 2, 20, 9, tzinfo=dt.UTC)
CENT = Decimal("0.01")
REVENUE = """
revenue:
  plans:
    starter: {monthly_fee: 49, fixed_cost_per_customer: 3}
  customers:
    c1: {plan: starter}
    c2: {plan: starter, start: 2026-03-10}
"""
cost = st.decimals(min_value=0, max_value=5, places=6, allow_nan=False, allow_infinity=False)


@st.composite
def ledger_rows(draw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for t in range(draw(st.integers(1, 6))):
        dims = {
            "task_id": f"t{t}",
            "feature": draw(st.sampled_from(["support", "rag", None])),
            "customer_id": draw(st.sampled_from(["c1", "c2", "c3", None])),
            "agent": draw(st.sampled_from(["sup", "critic"])),
        }
        for i in range(draw(st.integers(1, 4))):
            row: dict[str, Any] = {
                **dims,
                "event_id": f"t{t}-{i}",
                "ts": T0 + dt.timedelta(hours=draw(st.integers(0, 24 * 30)), seconds=i),
                "input_tokens": draw(st.integers(0, 4000)),
                "output_tokens": draw(st.integers(0, 800)),
                "accepted": draw(st.sampled_from([None, True, False])),
            }
            if draw(st.booleans()):
                row.update(price_status="endpoint", endpoint="llama", duration_ms=2500.0)
            else:
                row["cost"] = draw(cost)
            rows.append(row)
    return rows


@st.composite
def projects(draw: Any) -> Project:
    costs = []
    for n in range(draw(st.integers(0, 3))):
        driver = draw(st.sampled_from(["even", "requests", "tokens", "tasks", "variable_cost"]))
        scope = draw(st.sampled_from(["", "feature: rag, ", "agent: critic, ", "feature: x, "]))
        amount = draw(
            st.sampled_from(
                [
                    "monthly: 1000",
                    "amount: 5000, start: 2026-01-01, amortize_months: 7",
                    "amount: 900, start: 2026-02-01, amortize_tasks: 4",
                    "usd_per_hour: 1.25",
                    "gb: 30, usd_per_gb_month: 0.33",
                ]
            )
        )
        costs.append(f"  - {{name: f{n}, {amount}, {scope}driver: {driver}}}")
    endpoint = draw(st.booleans())
    text = f"allocation: {{idle: {draw(st.sampled_from(['line', 'share']))}}}\n"
    if endpoint:
        text += "endpoints:\n  llama: {gpu: H100, gpu_count: 1, hourly: {spot: 1.9}}\n"
    if costs:
        text += "fixed_costs:\n" + "\n".join(costs) + "\n"
    return parse(text + REVENUE)


SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a ledger takes minutes
)


@given(ledger_rows(), projects())
@SETTINGS
def test_fixed_cost_is_conserved_over_margin_rows(
    make_priced: Any, rows: list[dict[str, Any]], project: Project
) -> None:
    inputs = load_inputs(make_priced(rows), project)
    m = margins(inputs, load_book(project.revenue))
    for r in m.rows:
        assert r.gross_margin == r.revenue - r.variable_cost - r.fixed_cost
        assert r.fixed_cost >= 0
    if inputs.fixed is None:
        assert not project.fixed_costs and m.rows == m.planned
        return
    window = inputs.fixed.fixed_total + inputs.fixed.idle_total
    allocated = sum((r.fixed_cost for r in m.rows), Decimal(0))
    assert allocated == window  # exact, so also to the cent
    assert allocated.quantize(CENT) == window.quantize(CENT)


@given(ledger_rows(), projects())
@SETTINGS
def test_per_customer_it_is_the_attribution_allocation(
    make_priced: Any, rows: list[dict[str, Any]], project: Project
) -> None:
    assume(all(fc.driver not in ("even", "tasks") for fc in project.fixed_costs))
    c = costed(make_priced(rows), project)
    fx = fixed_lines(c, project)
    a = allocate(c, project, "customer")
    mine: dict[str, Decimal] = defaultdict(Decimal)
    for (cid, _, _), amt in fx.amounts.items():
        mine[NONE if cid == UNATTRIBUTED else cid] += amt
    theirs = {k: r.fixed + r.idle for k, r in a.rows.items() if r.fixed + r.idle}
    assert fx.fixed_total == a.fixed and fx.idle_total == a.idle
    assert set(theirs) <= set(mine) | {UNALLOCATED, IDLE}
    for k in set(mine) | set(theirs):
        # Largest remainder on a finer key moves at most a few 1e-24 quanta per row.
        assert abs(mine.get(k, Decimal(0)) - theirs.get(k, Decimal(0))) < Decimal("1e-20")
