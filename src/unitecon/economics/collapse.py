"""The margin collapse threshold: at what usage a customer stops being profitable.

Notation, per customer-month on a plan (finops-notes §6):

    P  [USD/month]   base revenue: monthly_fee + per_seat x seats
    F  [USD/month]   fixed cost to serve the customer
    c  [USD/unit]    variable cost per usage unit (task, resolution, 1k tokens, ...)
    u  [units/month] usage
    m  [fraction]    target gross margin
    A  [units/month] included allowance;  p [USD/unit] price per unit beyond it (overage)

    gross margin  M(u) = P + p x max(0, u - A) - F - c x u
    u0 = (P - F) / c                  usage at which M reaches 0     (no usage price)
    u_m = (P (1 - m) - F) / c         usage at which M / revenue falls below m

With an allowance and an overage the crossing is at u_m when u_m <= A; beyond A the margin
changes by (1 - m) p - c per unit, so it never falls below m when p >= c / (1 - m) — the
plan design rule: an allowance is safe when A <= u_m and overage >= c / (1 - m). Outcome
pricing (price p per success, success rate s) is profitable when cost per attempt < p x s.

c is measured, not guessed: per customer, c_i = variable cost / units over the window; the
plan's lines are drawn at the pooled mean (sum cost / sum units) and at the p50 and p90 of
c_i. Usage u is a monthly run rate: the units of the latest month(s) covering at least 30 days
of data, divided by the share of those months the data covers. Growth is the compound monthly
rate between the first and the last month with at least a quarter month of data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

ZERO = Decimal(0)

ONE = Decimal(1)


# -- the formulas -----------------------------------------------------------------------


def collapse_usage(price: Decimal, fixed: Decimal, unit_cost: Decimal) -> Decimal | None:
    """u0 = (P - F) / c [units/month]: usage at which gross margin reaches zero.

    P [USD/month], F [USD/month], c [USD/unit]. None when c = 0 (never collapses).
    """
    return target_usage(price, fixed, unit_cost, ZERO)


def target_usage(
    price: Decimal, fixed: Decimal, unit_cost: Decimal, margin: Decimal
) -> Decimal | None:
    """u_m = (P (1 - m) - F) / c [units/month]: usage beyond which gross margin < m.

    Negative results mean the target is missed at any usage and are returned as 0.
    """
    if unit_cost <= 0:
        return None
    return max(ZERO, (price * (ONE - margin) - fixed) / unit_cost)


def threshold_usage(
    price: Decimal,
    fixed: Decimal,
    unit_cost: Decimal,
    margin: Decimal,
    included: Decimal | None = None,
    unit_price: Decimal = ZERO,
) -> Decimal | None:
    """First usage at which M(u) / revenue < m, for M(u) = P + p max(0, u - A) - F - c u.

    Within the allowance it is u_m; beyond A = `included` (0 for pure usage pricing) the
    slope is (1 - m) p - c, so it is A + ((1 - m) P - F - c A) / (c - (1 - m) p) when that
    slope is negative, and None (never) when it is not. [units/month]
    """
    u = target_usage(price, fixed, unit_cost, margin)
    if unit_price == 0 or u is None or u == 0:
        return u  # u == 0: the target is missed from the first unit
    a = included or ZERO
    if u < a:
        return u
    slope = (ONE - margin) * unit_price - unit_cost
    if slope >= 0:
        return None
    return a + ((ONE - margin) * price - fixed - unit_cost * a) / -slope


def min_overage_price(unit_cost: Decimal, margin: Decimal) -> Decimal:
    """p_o >= c / (1 - m) [USD/unit]: overage price that keeps margin m at any usage."""
    return unit_cost / (ONE - margin)


def allowance_safe(allowance: Decimal, u_m: Decimal | None) -> bool:
    """An included allowance A is safe when A <= u_m (None: no limit)."""
    return u_m is None or allowance <= u_m


def outcome_profitable(cost_per_attempt: Decimal, price: Decimal, success_rate: Decimal) -> bool:
    """Outcome pricing is profitable when cost per attempt < price x success rate."""
    return cost_per_attempt < price * success_rate


def percentile(values: Sequence[Decimal], q: Decimal) -> Decimal:
    """Linear-interpolation percentile (numpy's default): rank h = (n - 1) q."""
    xs = sorted(values)
    if not xs:
        return ZERO
    h = (len(xs) - 1) * q
    lo = int(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def months_to_cross(usage: Decimal, line: Decimal | None, growth: float | None) -> float | None:
    """n = ln(line / u) / ln(1 + g) [months] at compound monthly growth g; 0 if already past,
    None if never (no line, or no growth)."""
    if line is None:
        return None
    if usage >= line:
        return 0.0
    if growth is None or growth <= 0 or usage <= 0:
        return None
    return math.log(float(line / usage)) / math.log1p(growth)
