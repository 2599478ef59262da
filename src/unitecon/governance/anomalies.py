"""Spend anomalies: days whose cost is far above what the recent weeks predict.

Each monitored series (the total, and each value of a dimension independently, as AWS Cost
Anomaly Detection's dimensional monitors do) is tested day by day against a robust,
weekday-adjusted baseline of the `h` days before it (default 28):

    m          = median of the h daily costs
    f_w        = median of the history's days with weekday w / m     (1 if m = 0 or < 2 days)
    expected_d = m x f_weekday(d)
    r_i        = cost_i - m x f_weekday(i)            over the history days i
    scale      = 1.4826 x median |r_i|                (MAD, a robust standard deviation)

A day is an anomaly when all three hold (the detection thresholds; moneypenny's relative,
sigma and absolute floors, Kusto's robust residual fences):

    cost_d - expected_d >= k x scale                  (default k = 3)
    cost_d - expected_d >= min_impact_usd             (default $10)
    cost_d >= min_ratio x expected_d                  (default 1.25)

Only days with a full history are tested (a new series needs h days, as AWS needs 10). Spikes
only: a drop in spend is not a cost risk. Each anomaly is explained by its top contributors:
the values of a second dimension whose cost that day rose most above their own daily mean
over the history. Money is exact (`Decimal`); expected values are rounded to the cent.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.frame import utc_date
from unitecon.governance.config import AnomalyConfig
from unitecon.governance.series import NONE, TOTAL, ZERO, Series, daily

CENT = Decimal("0.01")
MAD_TO_SIGMA = Decimal("1.4826")
#: Which dimension explains an anomaly of a series of each dimension.
EXPLAIN_BY = {
    TOTAL: "feature",
    "feature": "customer_id",
    "customer_id": "feature",
    "model": "customer_id",
    "provider": "model",
    "team": "feature",
    "agent": "customer_id",
    "environment": "feature",
}


@dataclass(frozen=True)
class Baseline:
    expected: Decimal
    scale: Decimal


@dataclass(frozen=True)
class Contributor:
    dim: str
    value: str
    cost: Decimal
    usual: Decimal
    """Mean daily cost of this value over the history."""

    @property
    def delta(self) -> Decimal:
        return self.cost - self.usual


@dataclass(frozen=True)
class Anomaly:
    dim: str
    value: str
    day: dt.date
    cost: Decimal
    expected: Decimal
    scale: Decimal
    contributors: tuple[Contributor, ...] = field(default=())

    @property
    def impact(self) -> Decimal:
        """Cost above expected [USD]: how anomalies are ranked."""
        return self.cost - self.expected

    @property
    def ratio(self) -> float | None:
        return float(self.cost / self.expected) if self.expected > 0 else None

    @property
    def score(self) -> float | None:
        """Robust z-score (impact / scale); None when the history is constant."""
        return float(self.impact / self.scale) if self.scale > 0 else None

    @property
    def label(self) -> str:
        return "all spend" if self.dim == TOTAL else f"{self.dim} = {self.value}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "value": self.value,
            "day": self.day.isoformat(),
            "cost": self.cost,
            "expected": self.expected,
            "impact": self.impact,
            "ratio": self.ratio,
            "score": self.score,
            "contributors": [
                {"dim": c.dim, "value": c.value, "cost": c.cost, "usual": c.usual}
                for c in self.contributors
            ],
        }


def _median(xs: Sequence[Decimal]) -> Decimal:
    return statistics.median(xs) if xs else ZERO


def baseline(history: Sequence[Decimal], days: Sequence[dt.date], day: dt.date) -> Baseline:
    """Expected cost of `day` and the robust scale, from the history (see the module doc).

    Exact Decimal arithmetic: m x f_w = m x median_w / m is median_w, so the expected cost of
    weekday w is the median of its own days (with at least 2 of them and m > 0), else m.
    """
    m = _median(history)
    weekdays = [d.weekday() for d in days]
    same: dict[int, list[Decimal]] = {w: [] for w in range(7)}
    for x, w in zip(history, weekdays, strict=True):
        same[w].append(x)
    by_weekday = {w: _median(xs) if m > 0 and len(xs) >= 2 else m for w, xs in same.items()}
    resid = [abs(x - by_weekday[w]) for x, w in zip(history, weekdays, strict=True)]
    expected = by_weekday[day.weekday()].quantize(CENT)
    scale = (MAD_TO_SIGMA * _median(resid)).quantize(CENT)
    return Baseline(max(expected, ZERO), scale)


def scan_series(s: Series, cfg: AnomalyConfig) -> list[Anomaly]:
    """The anomalous days of one series (days with a full history only)."""
    h = cfg.history_days
    k, ratio = Decimal(repr(cfg.k)), Decimal(repr(cfg.min_ratio))
    out = []
    for i in range(h, len(s.days)):
        cost = s.costs[i]
        # expected >= 0, so impact <= cost: a day that costs nothing or less than the
        # floor is no anomaly, whatever its history (most days of most series)
        if cost <= 0 or cost < cfg.min_impact_usd:
            continue
        b = baseline(s.costs[i - h : i], s.days[i - h : i], s.days[i])
        impact = cost - b.expected
        if (
            impact > 0
            and impact >= k * b.scale
            and impact >= cfg.min_impact_usd
            and cost >= ratio * b.expected
        ):
            out.append(Anomaly(s.dim, s.value, s.days[i], cost, b.expected, b.scale))
    return out


def contributors(
    events: Any, a: Anomaly, history_days: int, top: int = 3
) -> tuple[Contributor, ...]:
    """The values of a second dimension whose cost on the anomaly's day rose most above their
    own mean daily cost over the history."""
    by = EXPLAIN_BY.get(a.dim)
    if by is None:
        return ()
    first = a.day - dt.timedelta(days=history_days)
    where = {} if a.dim == TOTAL else {a.dim: a.value}
    series = daily(events, first, a.day + dt.timedelta(days=1), by, where)
    return _top_contributors(series, by, history_days, top)


def detect(
    events: Any, first: dt.date, end: dt.date, cfg: AnomalyConfig | None = None
) -> list[Anomaly]:
    """Anomalies of every monitored series in [first, end), largest impact first (without
    contributors: see `explained`)."""
    cfg = cfg or AnomalyConfig()
    found: list[Anomaly] = []
    for monitor in cfg.monitors:
        for s in daily(events, first, end, None if monitor == TOTAL else monitor):
            found.extend(scan_series(s, cfg))
    found.sort(key=lambda a: (-a.impact, a.day, a.dim, a.value))
    return found


def explained(events: Any, found: list[Anomaly], history_days: int) -> list[Anomaly]:
    """`found` with their top contributors (`contributors`, explain the ones shown): one
    query for all the anomalies of a dimension, not one each."""
    groups: dict[str, list[int]] = {}
    for i, a in enumerate(found):
        if a.dim in EXPLAIN_BY:
            groups.setdefault(a.dim, []).append(i)
    got: dict[int, tuple[Contributor, ...]] = {}
    for dim, idx in groups.items():
        batch = [found[i] for i in idx]
        got.update(zip(idx, _contributors_of(events, dim, batch, history_days), strict=True))
    return [replace(a, contributors=got.get(i, ())) for i, a in enumerate(found)]


def _contributors_of(
    events: Any, dim: str, batch: list[Anomaly], history_days: int, top: int = 3
) -> list[tuple[Contributor, ...]]:
    """`contributors` of each anomaly of `batch` (all of dimension `dim`), from one grouped
    query: the cost per day and value of the explaining dimension of the events of the
    anomalies' series and windows, keyed by the series' value (`none`: null or empty, as
    `series._where` selects it), joined in the engine to the anomalies (series value, first
    day, day) and summed per anomaly and value into the day's cost and the history's: a
    few rows per anomaly come back, not every (day, value) of every window (a batch of 50
    anomalies on 10M events: about 1M rows turned into Python values before)."""
    from unitecon.attribution.frame import memtable

    by = EXPLAIN_BY[dim]
    t = events
    raw = None if dim == TOTAL else t[dim].cast("string")
    windows = []
    asked = []
    for i, a in enumerate(batch):
        first, end = a.day - dt.timedelta(days=history_days), a.day + dt.timedelta(days=1)
        w = (t.ts >= dt.datetime.combine(first, dt.time(), dt.UTC)) & (
            t.ts < dt.datetime.combine(end, dt.time(), dt.UTC)
        )
        row: dict[str, Any] = {"_i": i, "_first": first, "_day": a.day}
        if raw is not None:
            w = w & (raw.isnull() | (raw == "") if a.value == NONE else raw == a.value)
            row |= {"_none": a.value == NONE, "_key": "" if a.value == NONE else a.value}
        windows.append(w)
        asked.append(row)
    t = t.filter(ibis.or_(*windows))
    v = t[by].cast("string")
    keys = {"day": utc_date(t), "value": ibis.ifelse(v.isnull() | (v == ""), NONE, v)}
    schema: dict[str, Any] = {"_i": "int64", "_first": "date", "_day": "date"}
    if raw is not None:
        own = t[dim].cast("string")
        none = own.isnull() | (own == "")
        keys["none"] = none
        keys["key"] = ibis.ifelse(none, "", own)
        schema |= {"_none": "boolean", "_key": "string"}
    g = t.group_by(**keys).aggregate(cost=t.var_cost.sum())
    a_t = memtable(asked, schema)
    on = [g.day >= a_t._first, g.day <= a_t._day]
    if raw is not None:
        on += [g.none == a_t._none, g.key == a_t._key]
    j = g.join(a_t, on)
    got = (
        j.group_by(j._i, j.value)
        .aggregate(
            last=ibis.ifelse(j.day == j._day, j.cost, None).sum(),
            hist=ibis.ifelse(j.day < j._day, j.cost, None).sum(),
        )
        .to_pyarrow()
        .to_pydict()
    )
    rows: list[list[Contributor]] = [[] for _ in batch]
    for i, value, last, hist in zip(got["_i"], got["value"], got["last"], got["hist"], strict=True):
        usual = (Decimal(hist or 0) / history_days).quantize(CENT)
        rows[i].append(Contributor(by, value, Decimal(last or 0), usual))
    return [_ranked(r, top) for r in rows]


def _top_contributors(
    series: list[Series], by: str, history_days: int, top: int
) -> tuple[Contributor, ...]:
    """The `top` values whose last day's cost rose most above their mean daily cost over
    the days before it (`series` of the anomaly's day and its history)."""
    rows = []
    for s in series:
        usual = (sum(s.costs[:-1], ZERO) / history_days).quantize(CENT)
        rows.append(Contributor(by, s.value, s.costs[-1], usual))
    return _ranked(rows, top)


def _ranked(rows: list[Contributor], top: int) -> tuple[Contributor, ...]:
    """The `top` contributors that rose most (ties by value), those that rose at all."""
    rows = sorted(rows, key=lambda c: (-c.delta, c.value))
    return tuple(c for c in rows[:top] if c.delta > 0)
