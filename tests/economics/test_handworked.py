"""A spreadsheet worked by hand (October 2026, 31 days; plans in conftest.YAML).

| cust/feature | plan        | revenue arithmetic              | rev    | var   | F    | gross  |
|--------------|-------------|---------------------------------|--------|-------|------|--------|
| A            | starter     | 49                              | 49.00  | 62.00 | 4.00 | -17.00 |
|   search     |             | 49 x 30/40 tasks; F 4 x 30/40   | 36.75  | 12.00 | 3.00 |  21.75 |
|   coding     |             | 49 x 10/40 tasks; F 4 x 10/40   | 12.25  | 50.00 | 1.00 | -38.75 |
| B (3 seats)  | team        | 30x3x15/31 = 43.548 -> 43.55    | 47.55  | 20.00 | 4.84 |  22.71 |
|              |             | + (350 - 3x100) x 0.08 = 4.00   |        |       |      |        |
|              |             | F = 10 x 15/31 -> 4.84 (Oct 17) |        |       |      |        |
| C            | support-pro | 99 + 25 resolutions x 0.99      | 123.75 | 30.00 | 5.00 |  88.75 |
| D            | starter-eu  | 45 EUR x 1.10 USD/EUR           | 49.50  | 1.00  | 0.00 |  48.50 |

Collapse (m = 0.6, usage = October, coverage 1):
- starter: c = 62/40 = 1.55 $/task; u0 = (49-4)/1.55 = 29.0323; u_m = (49x0.4-4)/1.55 = 10.0645.
  A uses 40 tasks: past both lines.
- team (3 seats): P = 90, F = 10, c = 20/350 = 0.0571429, A = 300, p = 0.08.
  u_m within allowance = (36-10)/c = 455 > A, so beyond A: slope 0.4x0.08 - c = -0.0251429;
  u_m = 300 + (26 - 300c)/0.0251429 = 300 + 8.857143/0.0251429 = 652.2727.
  u0: (90-10)/c = 1400 > A and 0.08 - c > 0: never. Allowance safe (300 <= 455); overage
  not safe (0.08 < c/0.4 = 0.142857).
- support-pro: c = 30/25 = 1.2 $/resolution, p = 0.99 from the first unit:
  u0 = (99-5)/(1.2-0.99) = 447.619; cost per attempt 30/40 = 0.75 < 0.99 x 25/40 = 0.61875? no.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from unitecon.economics import collapse_plan
from unitecon.economics.analysis import MarginInputs, collapse, margins
from unitecon.economics.margins import roll_up

D = Decimal
OCT = dt.date(2026, 10, 1)


def _run(book, usage):  # type: ignore[no-untyped-def]
    return margins(MarginInputs(usage, {OCT: D(1)}), book)


def test_rows_match_the_spreadsheet(book, usage) -> None:  # type: ignore[no-untyped-def]
    m = _run(book, usage)
    got = {
        (r.key[0], r.key[2]): (r.revenue, r.variable_cost, r.fixed_cost, r.gross_margin)
        for r in m.rows
    }
    assert got == {
        ("A", "search"): (D("36.75"), D("12.00"), D("3.00"), D("21.75")),
        ("A", "coding"): (D("12.25"), D("50.00"), D("1.00"), D("-38.75")),
        ("B", "coding"): (D("47.55"), D("20.00"), D("4.84"), D("22.71")),
        ("C", "support"): (D("123.75"), D("30.00"), D("5.00"), D("88.75")),
        ("D", "search"): (D("49.50"), D("1.00"), D("0"), D("48.50")),
    }


def test_roll_ups(book, usage) -> None:  # type: ignore[no-untyped-def]
    m = _run(book, usage)
    cust = {r.key[0]: r for r in roll_up(m.rows, "customer")}
    assert cust["A"].gross_margin == D("-17.00")
    assert cust["A"].contribution_margin == D("-13.00")
    assert cust["A"].gross_margin_pct == D("-17") / D("49")
    plan = {r.key[0]: r.revenue for r in roll_up(m.rows, "plan")}
    assert plan == {
        "starter": D("49.00"),
        "team": D("47.55"),
        "support-pro": D("123.75"),
        "starter-eu": D("49.50"),
    }
    feats = {r.key[0]: r.gross_margin for r in roll_up(m.rows, "feature")}
    assert feats == {
        "coding": D("-38.75") + D("22.71"),
        "search": D("21.75") + D("48.50"),
        "support": D("88.75"),
    }


def test_eur_items_keep_local_amount(book, usage) -> None:  # type: ignore[no-untyped-def]
    m = _run(book, usage)
    (item,) = [i for i in m.items if i.customer_id == "D"]
    assert (item.amount_local, item.currency, item.amount) == (D("45.00"), "EUR", D("49.50"))


def _q(x: Decimal | None) -> Decimal | None:
    return None if x is None else x.quantize(D("0.0001"))


def test_collapse_lines(book, usage) -> None:  # type: ignore[no-untyped-def]
    res = {p.plan: p for p in collapse(_run(book, usage), target_margin=D("0.6"))}
    s = res["starter"]
    assert s.unit_cost.mean == D("1.55")
    assert _q(s.lines["mean"]["u0"]) == D("29.0323")
    assert _q(s.lines["mean"]["u_m"]) == D("10.0645")
    (a,) = s.positions
    assert a.customer_id == "A" and a.past_u0 and a.past_um
    assert s.share("u0") == {"customers": 1, "revenue": 1, "revenue_at_risk": D("49.00")}

    t = res["team"]
    assert t.reference_seats == 3 and t.terms.price == 90 and t.terms.included == 300
    assert t.lines["mean"]["u0"] is None
    assert _q(t.lines["mean"]["u_m"]) == D("652.2727")
    mean_check = t.design.checks[0]
    assert mean_check["allowance_safe"] is True and mean_check["overage_safe"] is False
    assert _q(mean_check["min_overage"]) == D("0.1429")  # type: ignore[arg-type]

    sp = res["support-pro"]
    assert sp.unit == "resolutions" and sp.unit_cost.mean == D("1.2")
    assert _q(sp.lines["mean"]["u0"]) == D("447.6190")
    assert sp.design.outcome is not None
    assert sp.design.outcome["cost_per_attempt"] == D("0.75")
    assert sp.design.outcome["revenue_per_attempt"] == D("0.61875")
    assert sp.design.outcome["profitable"] is False


def test_arithmetic_is_shown(book, usage) -> None:  # type: ignore[no-untyped-def]
    (s,) = collapse(_run(book, usage), plan="starter", target_margin=D("0.6"))
    text = "\n".join(s.arithmetic)
    assert "u0 = (P - F) / c = ($49.00 - $4.00) / $1.550000 = 29.0 tasks/month" in text
    assert "u_m = (P(1 - m) - F) / c = ($49.00 x 0.4 - $4.00)" in text


def test_growth_and_months_to_cross() -> None:
    cov = {OCT: D(1), OCT.replace(month=11): D(1)}
    usage = {OCT: D(100), OCT.replace(month=11): D(121)}
    g = collapse_plan.growth_rate(usage, cov)
    assert g is not None and abs(g - 0.21) < 1e-12
    # 121 -> 146.41 is one month at 21 %: ln(146.41/121)/ln(1.21) = 1
    from unitecon.economics.collapse import months_to_cross

    n = months_to_cross(D(121), D("146.41"), g)
    assert n is not None and abs(n - 1) < 1e-9
    assert months_to_cross(D(200), D(150), g) == 0.0
    assert months_to_cross(D(100), D(150), None) is None


def test_arithmetic_ends_in_the_tables_u0(book, usage) -> None:  # type: ignore[no-untyped-def]
    """Issue 17, item 7: the table said u0 "never" for team while the arithmetic said 1,400.
    team (3 seats): (P - F) / c = (90 - 10) / (20/350) = 1,400 before usage charges; beyond
    A = 300 each task earns p = 0.08 >= c = 0.057143, so u0 = never, as the table says."""
    (t,) = collapse(_run(book, usage), plan="team", target_margin=D("0.6"))
    assert t.lines["mean"]["u0"] is None
    text = "\n".join(t.arithmetic)
    assert "= 1,400.0 tasks/month before usage charges" in text
    assert "-> u0 = never tasks/month (the thresholds table)" in text
    # u_m: 300 + (26 - 300c) / (c - 0.4 x 0.08) = 652.2727 (module docstring)
    assert "-> u_m = 652.3 tasks/month (the thresholds table)" in text


def test_losing_money_names_its_definition(book, usage) -> None:  # type: ignore[no-untyped-def]
    """Issue 17, item 7: by customer (module table): A gross -17.00 (< 0), contribution
    49 - 62 = -13.00 (< 0); B, C, D positive either way. collapse's starter: A's 40 tasks
    are past u0 = 29.03, the same customer, by its own (named) definition."""
    from unitecon.economics.margins import LOSING_MONEY, losing_money

    m = _run(book, usage)
    assert losing_money(roll_up(m.rows, "customer")) == {"gross": ["A"], "contribution": ["A"]}
    (s,) = collapse(m, plan="starter")
    assert [q.customer_id for q in s.past("u0")] == ["A"]
    assert "allocated" in LOSING_MONEY["gross"] and "plan's price P" in LOSING_MONEY["past_u0"]
