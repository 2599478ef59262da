"""The days a figure covers: revenue, cost and margins are stated for one window, [since,
until) in whole UTC days, and every margin table says which."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """The days revenue and cost cover: [since, until), whole UTC days."""

    since: dt.date
    until: dt.date

    @property
    def days(self) -> int:
        return (self.until - self.since).days

    def label(self) -> str:
        """`2026-09-16 to 2026-11-15 (61 days)`: the last day is inclusive."""
        last = self.until - dt.timedelta(days=1)
        return f"{self.since} to {last} ({self.days} days)"

    def as_dict(self) -> dict[str, object]:
        """since, until (exclusive), last day (inclusive) and days, for JSON."""
        last = self.until - dt.timedelta(days=1)
        return {"since": self.since, "until": self.until, "last_day": last, "days": self.days}


def month_window(w: Window, month: dt.date) -> Window:
    """The part of `w` inside the calendar month that starts on `month`."""
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    lo, hi = max(w.since, month), min(w.until, nxt)
    return Window(lo, max(lo, hi))
