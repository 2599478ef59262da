"""Project-file section of the governance stage: `governance` (budgets, anomaly and runaway
thresholds).

Money is `Decimal` [USD]. Every model forbids unknown keys, so a typo is an error naming the
file, line and field.

Example::

    governance:
      budgets:
        - {name: all AI spend, monthly: 5000}
        - {name: support agent, monthly: 2500, where: {feature: support-agent},
           alert_at: [0.5, 0.8, 1.0]}
      anomalies: {k: 3, min_impact_usd: 10, min_ratio: 1.25, history_days: 28}
      runaway: {factor: 3, min_calls: 50}
      notify: {webhook: "https://hooks.slack.com/services/T000/B000/XXXX"}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The dimensions a budget or an anomaly monitor can be scoped to (event columns).
Scope = Literal["feature", "customer_id", "team", "agent", "model", "provider", "environment"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Budget(_Strict):
    """A monthly budget on variable cost (tokens, unit prices, GPU time), all or one scope."""

    name: str
    monthly: Decimal = Field(gt=0)
    """[USD per calendar month]"""
    where: dict[Scope, str] = Field(default_factory=dict)
    """Only events with these values, e.g. {feature: support-agent}; empty = all spend."""
    alert_at: tuple[Decimal, ...] = (Decimal("0.5"), Decimal("0.8"), Decimal("1"))
    """Fractions of the budget at which the actual or the forecast spend alerts."""

    @field_validator("alert_at")
    @classmethod
    def _sorted_positive(cls, v: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not v or any(x <= 0 for x in v):
            raise ValueError("alert_at: one or more fractions > 0, e.g. [0.8, 1.0]")
        return tuple(sorted(v))


class AnomalyConfig(_Strict):
    """Daily spend anomalies: a day is flagged when all three tests pass (see anomalies.py)."""

    k: float = Field(default=3.0, gt=0)
    """Robust z-score: cost above expected + k x 1.4826 x MAD of the history's residuals."""
    min_impact_usd: Decimal = Field(default=Decimal(10), ge=0)
    """Ignore spikes smaller than this many dollars above expected (noise on small series)."""
    min_ratio: float = Field(default=1.25, ge=1)
    """... or smaller than this multiple of expected."""
    history_days: int = Field(default=28, ge=7, le=366)
    """Days before the day tested that form its baseline (weekday-adjusted median)."""
    monitors: tuple[Scope | Literal["total"], ...] = ("total", "feature", "customer_id", "model")
    """Series watched: the total and each value of these dimensions, independently."""


class RunawayConfig(_Strict):
    """Runaway tasks: far more calls than the tasks of their feature."""

    factor: float = Field(default=3.0, gt=1)
    """A task is flagged above factor x the 99th percentile of its feature's task calls ..."""
    min_calls: int = Field(default=50, ge=1)
    """... and never at or below this many calls."""


class NotifyConfig(_Strict):
    """Where `unitecon alerts --notify` delivers what needs attention."""

    webhook: str = Field(pattern=r"^https?://")
    """URL that takes a POST of JSON: a Slack incoming webhook, or any receiver."""
    format: Literal["slack", "json"] = "slack"
    """`slack`: {"text": ..., "blocks": [...]} (Slack, Mattermost, Rocket.Chat take it);
    `json`: the alerts answer itself, as `unitecon alerts --json` prints it."""
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class GovernanceConfig(_Strict):
    budgets: list[Budget] = Field(default_factory=list)
    anomalies: AnomalyConfig = Field(default_factory=AnomalyConfig)
    runaway: RunawayConfig = Field(default_factory=RunawayConfig)
    notify: NotifyConfig | None = None
    """Webhook for `unitecon alerts --notify` (none: alerts are only printed)."""
