"""What-if on prices, against the hand-worked book of test_handworked.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from unitecon.economics.analysis import MarginInputs, margins
from unitecon.economics.whatif_prices import Scenario, compare, run
from unitecon.errors import LookupFailed

D = Decimal
OCT = dt.date(2026, 10, 1)


def _inputs(usage):  # type: ignore[no-untyped-def]
    return MarginInputs(usage, {OCT: D(1)})


def _by_plan(book, usage, s):  # type: ignore[no-untyped-def]
    base = margins(_inputs(usage), book)
    rows = compare(base, run(_inputs(usage), book, s))
    return {r["plan"]: r for r in rows}


def test_model_price_cut(book, usage) -> None:  # type: ignore[no-untyped-def]
    # every line is model "m": cost x 0.5 -> total cost 113 -> 56.5, margin + 56.50
    r = _by_plan(book, usage, Scenario(model_price={"m": D("0.5")}))
    assert r["total"]["change"] == D("56.50")
    assert r["starter"]["scenario"]["gross_margin"] == D("-17.00") + D("31.00")


def test_plan_price_change(book, usage) -> None:  # type: ignore[no-untyped-def]
    # starter 49 -> 79: A's revenue + 30
    r = _by_plan(book, usage, Scenario(plan={"starter": {"monthly_fee": "79"}}))
    assert r["starter"]["change"] == D("30.00")
    assert r["total"]["change"] == D("30.00")


def test_usage_scaled_per_feature(book, usage) -> None:  # type: ignore[no-untyped-def]
    # coding x 2: A +50 cost; B 700 tasks: +40 cost, overage (700-300) x .08 = 32 (+28)
    r = _by_plan(book, usage, Scenario(usage_scale={"coding": D(2)}))
    assert r["starter"]["change"] == D("-50.00")
    assert r["team"]["change"] == D("-20.00") + D("28.00")


def test_unknown_plan(book, usage) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupFailed, match="Did you mean: starter"):
        run(_inputs(usage), book, Scenario(plan={"startr": {"monthly_fee": 1}}))
