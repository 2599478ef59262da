"""What several commands open: the read-only ledger with its costed events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def costed_ledger(
    config: Path | None, since: dt.date | None = None, until: dt.date | None = None
) -> Iterator[tuple[Any, Any]]:
    """(Costed, Project) over the ledger's events in [since, until) (UTC days; None: all),
    open for the duration of the command."""
    from unitecon import config as cfg
    from unitecon.attribution.costed import variable_costs
    from unitecon.attribution.frame import utc
    from unitecon.ledger.store import Ledger
    from unitecon.pricing import priced_events

    project = cfg.load(config)
    with Ledger(read_only=True) as ledger:
        priced = priced_events(ledger, project)
        lo, hi = (utc(d) if d else None for d in (since, until))
        costed = variable_costs(priced, project, lo, hi)
        try:
            yield costed, project
        finally:
            costed.release()
