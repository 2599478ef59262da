"""Reported vs computed: where a source reports a cost of its own (OpenLIT's
`gen_ai.usage.cost`, LiteLLM spend logs' `spend`, a provider response, as the events'
`reported_cost`), the gap against our computed price per provider and model, and the
calls where the two disagree beyond `reconcile.reported_tolerance_pct`.

Both sides are over the same calls (those that carry a reported cost) and unweighted:
a source reports what one call cost, whatever the sampling.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from unitecon.reconcile.computed import LedgerDay

ZERO = Decimal(0)


@dataclass(frozen=True)
class ReportedGap:
    provider: str
    model: str
    events: int
    """Calls that carry a reported cost."""
    reported: Decimal
    computed: Decimal
    """Our cost of the same calls [USD]."""
    flagged: int
    """Calls whose reported cost is off ours by more than the tolerance."""

    @property
    def gap(self) -> Decimal:
        return self.reported - self.computed

    @property
    def gap_pct(self) -> Decimal | None:
        return None if not self.computed else self.gap / self.computed * 100

    def as_dict(self) -> dict[str, object]:
        return {"provider": self.provider, "model": self.model, "events": self.events,
                "reported": self.reported, "computed": self.computed, "gap": self.gap,
                "gap_pct": self.gap_pct, "flagged": self.flagged}  # fmt: skip


def reported_gaps(days: Iterable[LedgerDay]) -> list[ReportedGap]:
    """Per provider and model, over every day: reported vs computed, largest gap first."""
    acc: dict[tuple[str, str], list[Decimal | int]] = defaultdict(lambda: [0, ZERO, ZERO, 0])
    for d in days:
        if not d.reported_events:
            continue
        a = acc[(d.provider, d.model)]
        a[0] = int(a[0]) + d.reported_events
        a[1] = Decimal(a[1]) + d.reported_where_reported
        a[2] = Decimal(a[2]) + d.computed_where_reported
        a[3] = int(a[3]) + d.reported_flagged
    out = [
        ReportedGap(p, m, int(a[0]), Decimal(a[1]), Decimal(a[2]), int(a[3]))
        for (p, m), a in acc.items()
    ]
    return sorted(out, key=lambda g: (-abs(g.gap), g.provider, g.model))
