"""Project-file section `reconcile`: when a bill and the ledger are said to agree.

Example::

    reconcile:
      capture_alert_below: 0.95     # alert when tracked / billed drops below 95 %
      tolerance_pct: 2              # a residual within 2 % of the bill (or $0.01) is a match
      tolerance_usd: 0.01
      reported_tolerance_pct: 1     # a source's reported cost vs ours, per event
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class ReconcileConfig(BaseModel):
    """Thresholds of `unitecon reconcile` and the capture-rate alert."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capture_alert_below: Decimal = Field(default=Decimal("0.95"), ge=0, le=2)
    """Alert when a provider's (or the overall) capture rate, tracked / billed, is below this."""
    tolerance_pct: Decimal = Field(default=Decimal("2"), ge=0)
    """A residual within this share of the bill [%] is a match (rounding, timing)."""
    tolerance_usd: Decimal = Field(default=Decimal("0.01"), ge=0)
    """... or within this amount [USD per row]."""
    reported_tolerance_pct: Decimal = Field(default=Decimal("1"), ge=0)
    """A source's reported cost disagrees with ours when off by more than this [%] (and
    more than $0.000001) on an event."""
