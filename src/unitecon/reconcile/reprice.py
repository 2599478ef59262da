"""Re-pricing under a new catalog, shown, never silent: the ledger's cost per UTC day,
provider and model before and after `prices update`, and the rows that changed.

Cost is derived at query time (nothing stored is overwritten), so a new catalog re-prices
history; this diff is the record of what it changed, kept in `prices/history.jsonl`, with
the changes to closed periods (months before the current one) called out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)


def cost_by_day_model(analysis: Any) -> dict[tuple[dt.date, str, str], tuple[Decimal, int]]:
    """(UTC day, provider, model) -> (variable cost [USD], events) over the whole ledger."""
    from unitecon.analysis.answers import Filters

    t = analysis.events(Filters(), once=True)
    t = t.filter(t.cost_kind != "structural").mutate(
        day=t.ts.date(), provider=t.provider.fill_null(""), model=t.model.fill_null("")
    )
    agg = t.group_by(["day", "provider", "model"]).aggregate(cost=t.var_cost.sum(), n=t.count())
    return {
        (r["day"], r["provider"], r["model"]): (Decimal(r["cost"] or 0), int(r["n"]))
        for r in agg.to_pyarrow().to_pylist()
    }


def diff(
    before: dict[tuple[dt.date, str, str], tuple[Decimal, int]],
    after: dict[tuple[dt.date, str, str], tuple[Decimal, int]],
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The rows whose cost changed, by day then model; `closed`: in a month before today's."""
    today = today or dt.datetime.now(dt.UTC).date()
    month = today.replace(day=1)
    out = []
    for key in sorted(set(before) | set(after)):
        b, n = before.get(key, (ZERO, 0))
        a, _ = after.get(key, (ZERO, 0))
        if a != b:
            day, provider, model = key
            out.append({"day": day, "provider": provider, "model": model, "events": n,
                        "before": b, "after": a, "change": a - b,
                        "closed": day < month})  # fmt: skip
    return out


def update_prices(
    ledger: Any, project: Any, data: bytes, source: str, *, dry_run: bool = False
) -> dict[str, Any]:
    """Install a genai-prices snapshot and return (and record) what it re-priced."""
    from unitecon.analysis import Analysis
    from unitecon.pricing import catalog_version, snapshot

    previous = snapshot.installed()
    old_version = catalog_version(project.pricing)
    before = after = {}
    if ledger is not None:
        with Analysis(ledger, project) as a:
            before = cost_by_day_model(a)
    snap = snapshot.install(data, source)
    new_version = catalog_version(project.pricing)
    try:
        if ledger is not None:
            with Analysis(ledger, project) as a:
                after = cost_by_day_model(a)
    finally:
        if dry_run:
            _restore(previous)
    rows = diff(before, after)
    models = sorted({f"{r['provider']}/{r['model']}" for r in rows})
    result = {
        "source": source, "sha256": snap.sha256, "dry_run": dry_run,
        "catalog_before": old_version, "catalog_after": new_version,
        "changed_rows": rows, "models_changed": models,
        "change_total": sum((r["change"] for r in rows), ZERO),
        "closed_change_total": sum((r["change"] for r in rows if r["closed"]), ZERO),
    }  # fmt: skip
    if not dry_run:
        snapshot.record({**result, "installed_at": snap.installed_at.isoformat()})
    return result


def _restore(previous: Any) -> None:
    from unitecon.pricing import snapshot

    if previous is None:
        snapshot.uninstall()
    else:
        snapshot.install(previous.path.read_bytes(), previous.source)
