"""Lineage commands: what was ingested, from where, whether it finished; forget a source."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, table
from unitecon.terminal import shows_progress

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

#: What a lineage status means, for the table.
STATUS_NOTES = {
    "done": "finished",
    "running": "being written now (by this process)",
    "interrupted": "stopped before it finished (killed or crashed): ingest the source again",
    "failed": "stopped by an error: ingest the source again once it is fixed",
}


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage)
    app.command("forget")(forget)


@shows_progress("reading the lineage")
def lineage(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Every ingest with its source, counts and status (done, interrupted, failed, forget).

    An ingest still marked running when the ledger is opened again was stopped (killed or
    crashed): it shows as interrupted. Ingest that source again to complete it.
    """
    from unitecon.cli.session import session
    from unitecon.engine import LedgerBusy
    from unitecon.errors import LedgerError
    from unitecon.ledger.store import DB_NAME, Ledger, home

    path = home() / DB_NAME
    if not path.exists():  # a read command never creates a ledger
        raise LedgerError(f"No ledger at {path}. Run `unitecon ingest FILE` or `unitecon demo`.")
    try:
        with Ledger(path):  # opening for writing marks stale `running` rows
            pass
    except LedgerBusy:  # a running service's writer marked them when it started
        pass
    with session(None) as s:
        rows = s.ask("lineage").rows
    if source:
        rows = [r for r in rows if r["source"] == source]
    rows = list(reversed(rows))[: limit or None]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("No ingests yet.")
        return
    body = [
        (
            str(r["started_at"]).replace("T", " ")[:19],
            r["source"],
            r["format"] or "",
            f"{r['rows_read']:,}",
            f"{r['accepted']:,}",
            f"{r['quarantined']:,}",
            r["status"] if r["format"] != "forget" else f"forgot {r['rows_read']:,} events",
        )
        for r in rows
    ]
    cols = ["started (UTC)", "source", "format", "read", "accepted", "quarantined", "status"]
    console.print(table("Lineage", cols, body, right=cols[3:6]))
    stale = [r for r in rows if r["status"] in ("interrupted", "failed")]
    if stale:
        console.print(
            f"[yellow]{len(stale)} ingest(s) did not finish[/]: "
            + "; ".join(
                f"{r['source']} ({r['status']}: {STATUS_NOTES[r['status']]})" for r in stale[:5]
            ),
            highlight=False,
        )


@shows_progress("forgetting the source's events")
def forget(
    source: Annotated[str, typer.Argument(help="The source as `unitecon lineage` lists it.")],
    as_json: JsonOpt = False,
) -> None:
    """Remove every event a source stored, and its quarantine entries; recorded in lineage.

    Use it to take back a wrong file, or to replace records: forget the source, then ingest
    the corrected file. Events another source also held go too (ingest that one again).
    """
    from unitecon.engine import LedgerBusy
    from unitecon.ledger.store import DB_NAME, Ledger, home

    out: dict[str, Any]
    try:
        with Ledger() as ledger:
            out = ledger.forget(source)
    except LedgerBusy:  # `unitecon serve` holds the ledger: its writer forgets
        from unitecon.cli.session import write_through_service

        body = {"source": source}
        out = write_through_service(home() / DB_NAME, "/api/v1/admin/forget", body, "forgetting")
    if as_json:
        emit_json(out)
        return
    console.print(
        f"Forgot {source}: {out['events_removed']:,} events and "
        f"{out['quarantine_removed']:,} quarantine entries removed "
        f"(lineage {out['ingest_id']}).",
        highlight=False,
        markup=False,
    )
