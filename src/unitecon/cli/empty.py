"""What a command says when its window or filters match no event: which filter, and what
the ledger holds instead (never an empty table alone)."""

from __future__ import annotations

from typing import Any

from unitecon.analysis.answers import Filters
from unitecon.cli.output import console


def said_nothing_matched(s: Any, f: Filters) -> bool:
    """For an answer that looks empty (no rows, zeros): when no event falls in the window and
    filters `f`, say so (`nothing_matched`) and return True; False when events match (the
    empty answer is then the answer)."""
    if s.ask("costs", f, by="provider", limit=1).rows:
        return False
    nothing_matched(s, f)
    return True


def nothing_matched(s: Any, f: Filters) -> None:
    """Print why nothing matched `f`, from the ledger's own `filters` answer."""
    info = s.ask("filters")
    parts = []
    if f.since or f.until:
        parts.append(f"the window {f.since or 'start'} to {f.until or 'end'} (exclusive)")
    if f.feature is not None:
        known = f.feature in info.features
        parts.append(
            f"feature {f.feature!r}"
            + ("" if known else f" (not in the ledger; its features: {', '.join(info.features)})")
        )
    if f.customer is not None:
        known = f.customer in info.customers
        parts.append(
            f"customer {f.customer!r}"
            + ("" if known else f" (not among the ledger's {len(info.customers)} customers)")
        )
    what = " and ".join(parts) or "these filters"
    held = (
        f"The ledger holds {info.events:,} events from {info.first_day} to {info.last_day}."
        if info.first_day
        else "The ledger holds no events: run `unitecon ingest FILE` or `unitecon demo`."
    )
    console.print(f"[yellow]No events match {what}.[/] {held}", highlight=False)
