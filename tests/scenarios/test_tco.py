"""The TCO model: a hand-worked example, Monte Carlo reproducibility, tornado, break-even."""

from __future__ import annotations

import time
from decimal import Decimal
from importlib import resources

import numpy as np
import numpy_financial as npf
import pytest
import yaml

from unitecon.models import finance, tco, uncertainty

THREE_MONTHS = """
horizon_months: 3
discount_rate: 0.12682503013196972   # (1.01)^12 - 1: exactly 1 % a month
baseline: api
volume: {tasks_per_month: 1000, growth_monthly: 0.10}
value:
  hours_saved_per_task: 0.5
  loaded_hourly_cost: 40
  realization: 0.5
  adoption: {start: 0.5, peak: 1, months_to_peak: 2}
alternatives:
  api:
    routes: [{name: api, usd_per_task: 2}]
    people: [{role: engineer, fte: 0.1, loaded_salary_annual: 120000}]
  owned:
    capex: [{name: server, amount: 6000, life_months: 6}]
    opex: [{name: hosting, monthly: 500}]
"""


def test_hand_worked_three_months() -> None:
    """Three months, worked by hand.

    Volume: tasks 1000, 1100, 1210 (10 % growth); adoption 0.5, 0.75, 1.0 (ramp over 2
    months); AI tasks 500, 825, 1210. Value per AI task 0.5 h x $40 x 0.5 = $10, so
    efficiency value 5,000, 8,250, 12,100.

    api:   cost = tasks x $2 + 0.1 FTE x 120,000 / 12 = 2,000, 2,650, 3,420 (month 0: 0)
           net  = 0, 3,000, 5,600, 8,680
    owned: cost = 6,000 upfront; 500 a month; at month 3 the server comes back at its book
           value 6,000 x (1 - 3/6) = 3,000, so month 3 costs 500 - 3,000 = -2,500
           net  = -6,000, 4,500, 7,750, 14,600
    owned - api = -6,000, 1,500, 2,150, 5,920
           NPV at 1 %/month = -6,000 + 1,500/1.01 + 2,150/1.01^2 + 5,920/1.01^3 = 3,338.68
           cumulative -6,000, -4,500, -2,350, 3,570: payback 2 + 2,350/5,920 = 2.40 months
    """
    m = tco.TcoModel.model_validate(yaml.safe_load(THREE_MONTHS))
    r = tco.run(m)
    api, owned = r.alternatives["api"], r.alternatives["owned"]
    d = Decimal
    assert [finance.cents(x) for x in api.ai_tasks] == [0, 500, 825, 1210]
    assert api.efficiency == [0, 5000, 8250, 12100]
    assert api.cost == [0, 2000, 2650, 3420]
    assert owned.cost == [6000, 500, 500, -2500]
    assert api.net == [0, 3000, 5600, 8680]
    assert owned.net == [-6000, 4500, 7750, 14600]
    inc = owned.incremental
    assert inc is not None
    assert inc.npv == d("3338.68")
    assert inc.payback_month == d("2.40")
    assert abs(float(inc.irr_monthly or 0) - npf.irr([-6000, 1500, 2150, 5920])) < 1e-9
    assert api.npv == d(str(round(npf.npv(0.01, [0, 3000, 5600, 8680]), 2)))
    assert owned.npv == d(str(round(npf.npv(0.01, [-6000, 4500, 7750, 14600]), 2)))
    assert api.roe == (d("25350") / d("8070")).quantize(d("0.0001"))
    assert api.unit_cost == (d(8070) / d(2535)).quantize(d("1e-6"))


def demo_model() -> tco.TcoModel:
    text = resources.files("unitecon.demo").joinpath("scenarios/tco.yaml").read_text()
    return tco.TcoModel.model_validate(yaml.safe_load(text))


def test_demo_monte_carlo_is_seeded_reproducible_and_fast() -> None:
    m = demo_model()
    ins = tco.inputs(m)

    def model(v: dict[str, object]) -> dict[str, object]:
        return tco.draw_outputs(m, v)  # type: ignore[arg-type]

    t0 = time.perf_counter()
    a = uncertainty.simulate(ins, model, draws=10_000, seed=7)
    elapsed = time.perf_counter() - t0
    b = uncertainty.simulate(ins, model, draws=10_000, seed=7)
    c = uncertainty.simulate(ins, model, draws=10_000, seed=8)
    assert elapsed < 5
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["npv.hybrid"], c["npv.hybrid"])
    q = uncertainty.quantiles(a["npv.hybrid"])
    assert q is not None and q.p10 < q.p50 < q.p90


def test_draws_at_central_values_equal_the_exact_model() -> None:
    m = demo_model()
    exact = tco.run(m)
    out = tco.draw_outputs(m, uncertainty.centrals(tco.inputs(m), as_float=True))
    for name, alt in exact.alternatives.items():
        # the exact model rounds each line to cents; the draws do not
        assert abs(np.asarray(out[f"npv.{name}"]).item() - float(alt.npv)) < 5


def test_payback_vec_equals_scalar() -> None:
    rng = np.random.default_rng(3)
    flows = np.round(rng.normal(0, 100, (200, 8)), 2)
    flows[:, 0] -= 150
    got = tco.payback_vec(flows)
    for row, g in zip(flows, got, strict=True):
        want = finance.payback_period([Decimal(str(x)) for x in row])
        if want is None:
            assert np.isnan(g)
        else:
            assert abs(float(want) - g) <= 0.005 + 1e-9


def test_tornado_ranks_by_swing() -> None:
    m = demo_model()
    bars = uncertainty.tornado(
        tco.inputs(m), lambda v: tco.draw_outputs(m, v), "incremental_npv.hybrid"
    )
    swings = [b.swing for b in bars]
    assert swings == sorted(swings, reverse=True)
    assert {b.input for b in bars} == {
        p for p, x in tco.inputs(m).items() if uncertainty.is_dist(x)
    }


def test_break_even_volume_makes_costs_equal() -> None:
    m = demo_model()
    be = tco.break_even(m)["api_small"]
    assert be is not None
    data = m.model_dump()
    data["volume"]["tasks_per_month"] = be
    out = tco.draw_outputs(
        m,
        {**uncertainty.centrals(tco.inputs(m), as_float=True), "volume.tasks_per_month": float(be)},
    )
    assert out["pv_cost.api_small"] == pytest.approx(out["pv_cost.status_quo"], rel=1e-3)


def test_unknown_baseline_is_an_error() -> None:
    bad = yaml.safe_load(THREE_MONTHS) | {"baseline": "nope"}
    with pytest.raises(ValueError, match="choose from: api, owned"):
        tco.TcoModel.model_validate(bad)
