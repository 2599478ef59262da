"""Discounting, NPV, IRR and payback (models stage; pure, exact where money is summed).

Conventions, as numpy-financial and Excel's ``=CF0 + NPV(i, CF1:CFn)``:

- A cash-flow series ``cf[0..n]`` has one value per period; ``cf[0]`` falls *now* (an upfront
  purchase) and is not discounted, ``cf[t]`` falls at the end of period ``t``.
- Positive values are money in, negative money out [USD].
- Rates are per period; the TCO model works in months and quotes an annual rate, converted by
  the effective-rate identity ``i_m = (1 + i_a)^(1/12) - 1`` (`monthly_rate`).

Money is ``Decimal``; IRR is a rate found numerically and returned as a ``Decimal`` rounded to
``1e-12``. References: numpy-financial (``npv``, ``irr``), Brealey, Myers & Allen, *Principles
of Corporate Finance*, ch. 2 and 5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
RATE_PLACES = Decimal("1e-12")
__all__ = [
    "CENT",
    "capital_recovery_factor",
    "cents",
    "cumulative",
    "discount_factor",
    "discounted",
    "irr",
    "monthly_rate",
    "npv",
    "payback_period",
]


def cents(x: Decimal) -> Decimal:
    """Round money to cents, half away from zero (as Excel's ``ROUND(x, 2)``)."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def monthly_rate(annual: Decimal) -> Decimal:
    """Effective monthly rate of an annual rate: ``i_m = (1 + i_a)^(1/12) - 1`` [1/month]."""
    with localcontext() as ctx:
        ctx.prec = 34
        return +((1 + annual) ** (Decimal(1) / 12) - 1)


def discount_factor(rate: Decimal, t: int) -> Decimal:
    """``DF_t = 1 / (1 + i)^t`` for a rate ``i`` per period and period ``t`` [1]."""
    with localcontext() as ctx:
        ctx.prec = 34
        return 1 / (1 + rate) ** t


def discounted(rate: Decimal, cashflows: Sequence[Decimal]) -> list[Decimal]:
    """Present value of each flow: ``cf_t · DF_t`` [USD] (unrounded)."""
    with localcontext() as ctx:
        ctx.prec = 34
        return [cf * discount_factor(rate, t) for t, cf in enumerate(cashflows)]


def npv(rate: Decimal, cashflows: Sequence[Decimal]) -> Decimal:
    """Net present value ``NPV = Σ_{t=0..n} cf_t / (1 + i)^t`` [USD], rounded to cents.

    Equals ``numpy_financial.npv(rate, cashflows)`` and Excel's ``CF0 + NPV(i, CF1:CFn)``.
    """
    with localcontext() as ctx:
        ctx.prec = 34
        return cents(sum(discounted(rate, cashflows), Decimal(0)))


def cumulative(cashflows: Sequence[Decimal]) -> list[Decimal]:
    """Running sum ``C_t = Σ_{k<=t} cf_k`` [USD]."""
    out: list[Decimal] = []
    total = Decimal(0)
    for cf in cashflows:
        total += cf
        out.append(total)
    return out


def payback_period(cashflows: Sequence[Decimal], rate: Decimal | None = None) -> Decimal | None:
    """First time the cumulative (optionally discounted) cash flow reaches zero [periods].

    With ``C_t`` the cumulative flow and ``t*`` the first period where ``C_t >= 0`` after it
    was negative, payback is interpolated linearly inside that period:
    ``t* - 1 + (-C_{t*-1}) / cf_{t*}``. Returns ``0`` if it never goes negative and ``None``
    if it never recovers within the horizon. ``rate`` gives the discounted payback.
    Rounded to 0.01 period.
    """
    flows = list(cashflows) if rate is None else discounted(rate, cashflows)
    cum = cumulative(flows)
    if all(c >= 0 for c in cum):
        return Decimal(0)
    last_negative = max(t for t, c in enumerate(cum) if c < 0)
    if last_negative == len(cum) - 1:
        return None
    t = last_negative + 1
    frac = -cum[t - 1] / flows[t]
    return (Decimal(t - 1) + frac).quantize(CENT, rounding=ROUND_HALF_UP)


def _npv_x(x: float, flows: Sequence[float]) -> float:
    """NPV as a function of ``x = ln(1 + i)``: ``Σ cf_t · e^(-t·x)``."""
    return math.fsum(cf * math.exp(-t * x) for t, cf in enumerate(flows))


def irr(cashflows: Sequence[Decimal]) -> Decimal | None:
    """Internal rate of return: the ``i`` with ``Σ cf_t / (1 + i)^t = 0`` [1/period].

    Needs at least one sign change; among several roots, returns the one nearest zero (as
    numpy-financial). Solved in ``x = ln(1 + i)``: bracketed on a grid from the lowest rate
    whose discount factors stay finite (``t·|x| <= 700``) to 1e6 % and refined by bisection
    to machine precision; ``None`` when no root exists there.
    """
    flows = [float(c) for c in cashflows]
    if not (any(f > 0 for f in flows) and any(f < 0 for f in flows)):
        return None
    x_lo = -min(700.0 / max(len(flows) - 1, 1), 40.0)
    steps = 4000
    grid = [x_lo + (13.9 - x_lo) * k / steps for k in range(steps + 1)]
    roots: list[float] = []
    prev_x, prev_v = grid[0], _npv_x(grid[0], flows)
    for x in grid[1:]:
        v = _npv_x(x, flows)
        if v == 0:
            roots.append(x)
        elif (prev_v < 0) != (v < 0):
            roots.append(_bisect(flows, prev_x, x, prev_v))
        prev_x, prev_v = x, v
    if not roots:
        return None
    best = min((math.expm1(x) for x in roots), key=abs)
    return Decimal(repr(best)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _bisect(flows: Sequence[float], lo: float, hi: float, f_lo: float) -> float:
    for _ in range(200):
        mid = (lo + hi) / 2
        f_mid = _npv_x(mid, flows)
        if f_mid == 0 or hi - lo < 1e-16:
            return mid
        if (f_mid < 0) == (f_lo < 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return (lo + hi) / 2


def capital_recovery_factor(rate: Decimal, periods: int) -> Decimal:
    """``CRF = i(1+i)^N / ((1+i)^N - 1)``; ``1/N`` when ``i = 0`` [1/period].

    Turns a capital cost into an equal payment per period over ``N`` periods.
    """
    if periods <= 0:
        raise ValueError("periods must be positive")
    if rate == 0:
        return Decimal(1) / periods
    with localcontext() as ctx:
        ctx.prec = 34
        g = (1 + rate) ** periods
        return rate * g / (g - 1)
