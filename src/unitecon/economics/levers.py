"""Savings levers: a what-if scenario replayed on the ledger's real traffic (economics stage).

`replay_file` is the one place a what-if is run end to end (the `whatif` command, the report's
savings-levers section, the memo): the scenario's transformations replayed on the window's
events (`economics.replay`), each side costed as real traffic, the margins of both ends from
the revenue book. `levers` turns the result into the table a reader wants:

    saved_i      = cost before lever i - cost after lever i           [USD in the window]
    share_i      = saved_i / baseline cost (variable + idle GPU)      [1]
    per_month_i  = saved_i · (730 / 24) / days of the window          [USD/month]

each lever given the ones before it (the scenario's order), so the savings add up to the
scenario's total. A month is 730 h, as the TCO model's (`models.tco.DAYS_PER_MONTH`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from unitecon.economics import analysis, replay
from unitecon.economics.whatif import WhatIf
from unitecon.models import scenario as sc
from unitecon.models.tco import DAYS_PER_MONTH

CENT = Decimal("0.01")


def replay_file(
    con: Any,
    s: sc.Scenario,
    project: Any,
    config_path: Path | None,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> WhatIf:
    """Replay scenario `s` on the ledger `con` (an Ibis connection, never written); `since`
    and `until` replace the scenario's own window when given."""
    from unitecon import engine

    if since is not None or until is not None:
        s = s.model_copy(update={"since": since or s.since, "until": until or s.until})
    with engine.scope():
        rep = replay.replay(con, s, project, hit_rate=replay.measured_rate(con, s))
        book = analysis.book_for(project, config_path)
        margins = (
            analysis.margins(rep.baseline_inputs, book),
            analysis.margins(rep.scenario_inputs, book),
        )
    labels = [sc.label(t, i) for i, t in enumerate(s.transformations)]
    return WhatIf(s.name, labels, rep.sides, rep.notes, margins, rep.window)


@dataclass(frozen=True)
class Lever:
    """One transformation's saving, given the ones before it."""

    lever: str
    saved: Decimal
    """Cost removed in the window [USD]."""
    share: Decimal | None
    """saved / the baseline's variable + idle GPU cost in the window [1]."""
    per_month: Decimal | None
    """saved per 730-hour month [USD/month]."""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def window_days(w: WhatIf) -> Decimal | None:
    """Days in the replayed window."""
    if w.window is None:
        return None
    since, until = w.window
    return Decimal(int((until - since).total_seconds())) / 86400


def per_month(amount: Decimal, days: Decimal | None) -> Decimal | None:
    """`amount` over `days` as USD per 730-hour month, to cents."""
    if not days:
        return None
    return (amount * DAYS_PER_MONTH / days).quantize(CENT, ROUND_HALF_UP)


def levers(w: WhatIf) -> list[Lever]:
    """The scenario's levers in order (savings may be negative: a lever that costs more)."""
    base, days = w.baseline.cost, window_days(w)
    out = []
    for c in w.contributions():
        saved = c["savings"]
        share = (saved / base).quantize(Decimal("1e-6"), ROUND_HALF_UP) if base else None
        out.append(Lever(c["transformation"], saved, share, per_month(saved, days)))
    return out


def summary(w: WhatIf) -> dict[str, Any]:
    """The levers and their total, with the window (for the report, the memo, `--json`)."""
    days = window_days(w)
    rows = levers(w)
    total = w.savings.quantize(CENT, ROUND_HALF_UP)
    base = w.baseline.cost
    return {
        "scenario": w.name,
        "since": None if w.window is None else w.window[0],
        "until": None if w.window is None else w.window[1],
        "days": days,
        "baseline_cost": base.quantize(CENT, ROUND_HALF_UP),
        "saved": total,
        "saved_share": (w.savings / base).quantize(Decimal("1e-6"), ROUND_HALF_UP)
        if base
        else None,
        "saved_per_month": per_month(w.savings, days),
        "levers": [x.as_dict() for x in rows],
        "notes": list(w.notes),
    }


def replay_on(
    analysis: Any, path: Path, since: dt.date | None = None, until: dt.date | None = None
) -> WhatIf:
    """The what-if file `path` replayed on an open `Analysis`'s ledger and project."""
    s = sc.load(sc.Scenario, path)
    return replay_file(
        analysis.source.ibis(),
        s,
        analysis.project,
        analysis.config_path,
        since=since,
        until=until,
    )
