"""Return on efficiency: what the time an AI capability saves is worth (models stage; pure).

Written over generic quantities (`unitecon.models.calc.Q`) so that the same equations run
exactly, on Monte Carlo draws, and as spreadsheet formulas.

    adoption_t   = min(a_max, a_0 + (a_max - a_0) · (t - 1) / m)        [share of tasks, t >= 1]
    AI tasks_t   = tasks_t · adoption_t                                     [tasks/month]
    efficiency_t = AI tasks_t · h · w · ρ · q                               [USD/month]
    revenue_t    = AI tasks_t · p                                           [USD/month]

with h hours saved per task [h/task], w the loaded hourly cost of the people whose time is
saved [USD/h], ρ the realization share (the part of the saved time actually redeployed to
other work, [0-1]), q the alternative's quality factor (share of the reference time saving it
achieves, e.g. 0.9 for a smaller model that needs more review) and p the revenue per task sold
[USD/task]. The linear adoption ramp reaches `a_max` after m months (Rogers' S-curve
linearized; the ramp is what a finance team can audit in a spreadsheet).

    ROI = (Σ efficiency + Σ revenue - Σ cost) / Σ cost                        [1]
    ROE = Σ efficiency / Σ cost                                                [USD per USD]

ROE ("return on efficiency") is the redeployed-time value bought by each dollar of total
cost of ownership; ROI adds revenue and nets the cost. Both are over the whole horizon,
undiscounted (NPV is the discounted measure).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from unitecon.models.calc import Q, minimum


def adoption(
    t: int, start: Q, peak: Q, months_to_peak: int, t_q: Q = None, months_q: Q = None
) -> Q:
    """Share of tasks done with the capability in month ``t >= 1`` (linear ramp) [1].

    `t_q` and `months_q` are ``t`` and ``m`` as quantities of the caller's evaluation (cells
    in the spreadsheet); they default to the plain numbers."""
    if months_to_peak <= 0 or t - 1 >= months_to_peak:
        return peak
    tq = t if t_q is None else t_q
    mq = months_to_peak if months_q is None else months_q
    return minimum(peak, start + (peak - start) * (tq - 1) / mq)


def efficiency_value(ai_tasks: Q, hours_saved: Q, hourly_cost: Q, realization: Q, quality: Q) -> Q:
    """Value of redeployed time ``AI tasks · h · w · ρ · q`` [USD]."""
    return ai_tasks * hours_saved * hourly_cost * realization * quality


def revenue(ai_tasks: Q, usd_per_task: Q) -> Q:
    """Revenue from tasks sold ``AI tasks · p`` [USD]."""
    return ai_tasks * usd_per_task


def roi(efficiency: Decimal, revenue: Decimal, cost: Decimal) -> Decimal | None:
    """``(efficiency + revenue - cost) / cost`` over the horizon [1]; None if no cost."""
    if cost == 0:
        return None
    return ((efficiency + revenue - cost) / cost).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def roe(efficiency: Decimal, cost: Decimal) -> Decimal | None:
    """``efficiency / cost`` over the horizon [USD of time per USD]; None if no cost."""
    if cost == 0:
        return None
    return (efficiency / cost).quantize(Decimal("0.0001"), ROUND_HALF_UP)
