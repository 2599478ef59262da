"""Issue 17, item 1: revenue covers the same days as cost (plan fees for the days of the
window only), and margins say which window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from unitecon import config
from unitecon.economics.analysis import MarginInputs, margins
from unitecon.economics.inputs import UsageLine, window_coverage
from unitecon.economics.margins import roll_up
from unitecon.economics.revenue import load_book
from unitecon.economics.window import Window

SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
YAML = """
revenue:
  plans:
    starter:
      monthly_fee: 49
      fixed_cost_per_customer: 4
      usage: [{metric: tasks, included: 100, price: "0.10"}]
  customers:
    A: {plan: starter}
"""
# The demo's 60-day window: 16 Sep to 15 Nov inclusive.
WINDOW = Window(dt.date(2026, 9, 16), dt.date(2026, 11, 16))


def _usage() -> list[UsageLine]:
    def ln(m: dt.date, cost: str, tasks: int) -> UsageLine:
        return UsageLine("A", m, "search", {"m": Decimal(cost)}, tasks=Decimal(tasks))

    return [ln(SEP, "10", 80), ln(OCT, "20", 250), ln(NOV, "10", 90)]


def test_fees_allowances_and_plan_f_cover_the_window() -> None:
    book = load_book(config.parse(YAML, "t.yaml").revenue)
    inputs = MarginInputs(_usage(), window_coverage(WINDOW), window=WINDOW)
    m = margins(inputs, book)
    by_month = {r.key[0]: r for r in roll_up(m.rows, "month")}
    # Days in the window: Sep 16-30 = 15 of 30, Oct 31 of 31, Nov 1-15 = 15 of 30.
    # Fee:    Sep 49 x 15/30 = 24.50, Oct 49.00, Nov 24.50                       = 98.00
    # Usage:  allowance 100 x the same share: Sep 50, Oct 100, Nov 50;
    #         Sep (80 - 50) x 0.10 = 3.00, Oct (250 - 100) x 0.10 = 15.00,
    #         Nov (90 - 50) x 0.10 = 4.00                                         = 22.00
    # Revenue = 120.00 (whole months would say 3 x 49 + 15.00 = 162.00)
    assert {k: r.revenue for k, r in by_month.items()} == {
        SEP: Decimal("27.50"),
        OCT: Decimal("64.00"),
        NOV: Decimal("28.50"),
    }
    # Plan F 4 a month: Sep 2.00, Oct 4.00, Nov 2.00 = 8.00
    assert sum(r.fixed_cost for r in m.rows) == Decimal("8.00")
    # Gross margin = 120 - (10 + 20 + 10) - 8 = 72.00; 72 / 120 = 0.6
    (total,) = roll_up(m.rows, "customer")
    assert total.gross_margin == Decimal("72.00")
    assert total.gross_margin_pct == Decimal("0.6")
    assert WINDOW.label() == "2026-09-16 to 2026-11-15 (61 days)"


def test_without_a_window_whole_months() -> None:
    book = load_book(config.parse(YAML, "t.yaml").revenue)
    inputs = MarginInputs(_usage(), {SEP: Decimal(1), OCT: Decimal(1), NOV: Decimal(1)})
    # 3 x 49 + (250 - 100) x 0.10 = 147 + 15 = 162
    assert sum(r.revenue for r in margins(inputs, book).rows) == Decimal("162.00")
