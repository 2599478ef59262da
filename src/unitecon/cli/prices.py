"""`prices update | status | history | snapshot`: a fresh genai-prices catalog without
upgrading the package, how old the catalog is, and what each update re-priced.

Examples:
    unitecon prices update data.json --dry-run
    unitecon prices status
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, money, table

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]


def register(app: typer.Typer) -> None:
    from unitecon.cli.ledger import prices_app

    prices_app.command("update")(update)
    prices_app.command("status")(status)
    prices_app.command("history")(history)
    prices_app.command("snapshot")(snapshot_cmd)


def update(
    source: Annotated[
        str | None, typer.Argument(help="A genai-prices data.json file (or an http(s) URL).")
    ] = None,
    url: Annotated[
        bool, typer.Option("--url", help="Fetch genai-prices' published data.json instead.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Show what it would re-price; keep the old.")
    ] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load a newer genai-prices snapshot and show what it re-prices, per model and day.

    Example: unitecon prices update data.json --dry-run
    """
    from unitecon import config as cfg
    from unitecon.errors import UniteconError
    from unitecon.ledger.store import DB_NAME, Ledger, home
    from unitecon.pricing import snapshot
    from unitecon.reconcile.reprice import update_prices

    if (source is None) == (not url):
        raise UniteconError("Give a snapshot file (or URL), or --url for genai-prices' own.")
    from unitecon.cli.session import refuse_beside_service

    refuse_beside_service(
        home() / DB_NAME,
        "prices update",
        "changes the catalog the service's cached answers were priced with",
    )
    where = snapshot.DEFAULT_URL if url else str(source)
    data = snapshot.read_source(where)
    project = cfg.load(config)
    has_ledger = (home() / DB_NAME).exists()
    with console.status("re-pricing the ledger under both catalogs...", spinner="dots"):
        if has_ledger:
            with Ledger(read_only=True) as ledger:
                result = update_prices(ledger, project, data, where, dry_run=dry_run)
        else:
            result = update_prices(None, project, data, where, dry_run=dry_run)
    if as_json:
        emit_json(result)
        return
    _print_update(result)


def _print_update(r: dict[str, Any]) -> None:
    verb = "Would re-price" if r["dry_run"] else "Installed"
    console.print(f"{verb}: {r['source']}\n  before: {r['catalog_before']}\n"
                  f"  after:  {r['catalog_after']}", highlight=False)  # fmt: skip
    rows = r["changed_rows"]
    if not rows:
        console.print("No event in the ledger changes price.")
        return
    body = [
        (str(x["day"]), x["provider"], x["model"][:40], f"{x['events']:,}", money(x["before"], 4),
         money(x["after"], 4), money(x["change"], 4), "closed" if x["closed"] else "")
        for x in rows[:60]
    ]  # fmt: skip
    cols = ["day", "provider", "model", "events", "before", "after", "change", "period"]
    title = (f"Re-pricing per model and UTC day: {len(rows)} rows changed, "
             f"{', '.join(r['models_changed'])}")  # fmt: skip
    console.print(table(title, cols, body, right=cols[3:7]))
    closed = money(r["closed_change_total"], 4)
    console.print(f"Total change {money(r['change_total'], 4)}, of which in closed months "
                  f"{closed}. Recorded in `prices history`.")  # fmt: skip


def status(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Which catalog prices the ledger, and how old it is."""
    from unitecon import config as cfg
    from unitecon.pricing import catalog_version, snapshot

    s = snapshot.status()
    s["catalog_version"] = catalog_version(cfg.load(config).pricing)
    if as_json:
        emit_json(s)
        return
    rows = [
        ("catalog", s["catalog_version"]),
        ("source", s["source"] + (f" ({s['snapshot']['source']})" if s["snapshot"] else "")),
        ("newest price change in effect",
         f"{s['newest_price_change']} ({s['days_since_newest_change']} days ago)"),
        ("next scheduled change", s["next_scheduled_change"] or "none"),
    ]  # fmt: skip
    if s["snapshot"]:
        rows.append(("snapshot installed", f"{s['snapshot']['installed_at']} "
                     f"({s['days_since_install']} days ago)"))  # fmt: skip
    console.print(table("Price catalog", ["", ""], rows))
    console.print("Refresh: `unitecon prices update data.json` (or `--url`).")


def history(as_json: JsonOpt = False) -> None:
    """Every snapshot installed, with what it re-priced."""
    from unitecon.pricing import snapshot

    h = snapshot.history()
    if as_json:
        emit_json(h)
        return
    if not h:
        console.print("No snapshot installed: the package's bundled data prices.")
        return
    body = [
        (e["installed_at"], e["source"][-50:], e["sha256"][:12], ", ".join(e["models_changed"]),
         len(e["changed_rows"]), money(Decimal(e["change_total"]), 4))
        for e in h
    ]  # fmt: skip
    cols = ["installed", "source", "sha256", "models re-priced", "rows", "change"]
    console.print(table("Price catalog updates", cols, body, right=["rows", "change"]))


def snapshot_cmd(
    path: Annotated[Path, typer.Argument(help="Where to write the catalog in use (JSON).")],
) -> None:
    """Write the catalog in use as a genai-prices snapshot file (to edit or carry offline)."""
    from unitecon.pricing import snapshot

    snapshot.write_current(path)
    console.print(f"Wrote {path}")
