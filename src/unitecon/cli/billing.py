"""Billing commands: `bills import|list|fetch` (what providers billed) and `reconcile`.

A thin translator: read the files, call `unitecon.billing` / `unitecon.reconcile`, print.

Examples:
    unitecon bills import costs.json usage.jsonl invoice.csv
    unitecon reconcile --since 2026-11-01
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, money, parse_date, table
from unitecon.errors import UniteconError
from unitecon.terminal import shows_progress

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]

bills_app = typer.Typer(help="Provider bills: OpenAI / Anthropic cost and usage reports, invoices.")


def register(app: typer.Typer) -> None:
    app.add_typer(bills_app, name="bills")
    app.command("reconcile")(reconcile)
    app.command("export")(export)


@bills_app.command("import")
@shows_progress("importing the bills")
def bills_import(
    paths: Annotated[list[Path], typer.Argument(help="Bill files (JSON pages or invoice CSV).")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="openai_costs, openai_usage, anthropic_cost, anthropic_usage, invoice_csv.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import provider bills into the ledger (idempotent: re-importing changes nothing).

    Example: unitecon bills import openai-costs.json anthropic-cost-report.json
    """
    from unitecon.billing import import_lines, read_bill
    from unitecon.engine import LedgerBusy
    from unitecon.ledger.store import DB_NAME, Ledger, home, sha256_file

    try:
        with Ledger() as ledger:
            results = [
                import_lines(ledger.con, str(path), *read_bill(path, fmt), sha256_file(path))
                for path in paths
            ]
    except LedgerBusy:  # `unitecon serve` holds the ledger: its writer imports the files
        from unitecon.billing.store import ImportResult
        from unitecon.cli.session import write_through_service

        body = {"paths": [str(p.resolve()) for p in paths], "format": fmt}
        got = write_through_service(home() / DB_NAME, "/api/v1/admin/bills", body, "importing")
        results = [ImportResult(**r) for r in got]
    if as_json:
        emit_json([r.as_dict() for r in results])
        return
    cols = ["source", "format", "lines", "new days", "replaced", "unchanged"]
    rows = [
        (r.source, r.format, r.lines_read, r.buckets_new, r.buckets_replaced, r.buckets_unchanged)
        for r in results
    ]
    console.print(table("Bill import", cols, rows, right=cols[2:]))
    console.print("Compare with the ledger: `unitecon reconcile`.")


@bills_app.command("list")
@shows_progress("reading the bills")
def bills_list(as_json: JsonOpt = False) -> None:
    """What bills the ledger holds: amount per provider, month and source."""
    from unitecon.cli.session import dump, session

    with session(None) as s:
        got = s.ask("bills")
    if as_json:
        emit_json(dump(got))
        return
    rows = [b.model_dump() for b in got]
    if not rows:
        console.print("No bills imported. `unitecon bills import FILE` or `bills fetch`.")
        return
    cols = ["provider", "month", "source", "kind", "lines", "billed", "tokens (in + out)"]
    body = [
        (r["provider"], r["month"], r["format"], r["kind"], r["lines"],
         money(r["amount"]) if r["amount"] is not None else "",
         f"{int(r['tokens']):,}" if r["tokens"] else "")
        for r in rows
    ]  # fmt: skip
    console.print(table("Bills in the ledger (billed amounts per calendar month)", cols, body,
                        right=cols[4:]))  # fmt: skip


@bills_app.command("fetch")
@shows_progress("fetching the bills")
def bills_fetch(
    provider: Annotated[str, typer.Argument(help="openai or anthropic.")],
    since: Annotated[str, typer.Option(help="From this UTC date (inclusive).")],
    until: Annotated[str | None, typer.Option(help="To this UTC date (exclusive).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the downloaded pages.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Download the cost and usage reports with an admin key, save them, import them.

    Keys: OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY.
    Example: unitecon bills fetch openai --since 2026-11-01
    """
    from unitecon.billing.fetch import REPORTS, download
    from unitecon.ledger.store import home

    lo = parse_date(since, "since")
    hi = parse_date(until, "until") or datetime.now(UTC).date() + timedelta(days=1)
    assert lo is not None
    kinds = [k for k in REPORTS if k.startswith(provider.lower() + "_")]
    if not kinds:
        raise UniteconError(f"Unknown provider {provider!r}; choose openai or anthropic.")
    folder = out or home() / "bills"
    files = [download(k, lo, hi, folder / f"{k}-{lo}-{hi}.jsonl") for k in kinds]
    bills_import(files, None, as_json)


@shows_progress("reconciling the bills with the ledger")
def reconcile(
    since: Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Matching rows too.")] = False,
    limit: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 30,
    chart: Annotated[Path | None, typer.Option(help="Write a chart (HTML) here.")] = None,
    fail: Annotated[
        bool, typer.Option("--fail", help="Exit 1 when a capture rate is below the threshold.")
    ] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The bill against the ledger: residuals, what explains them, capture rate.

    Per provider, bill period (a UTC day) and model: the ledger's computed cost, the cost
    the sources reported, the bill, the residual and its explanation (untracked usage,
    price differences, unknown models, sampling). Example: unitecon reconcile --chart r.html
    """
    from unitecon.analysis.answers import Filters
    from unitecon.cli.session import dump, session

    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        rec = s.ask("reconciliation", f, limit=5000)  # the read API's most rows
    if provider:
        rec.rows = [r for r in rec.rows if r.provider == provider.lower()]
        rec.summary = [x for x in rec.summary if x.provider == provider.lower()]
    if chart:
        from unitecon.reconcile.chart import write_chart

        write_chart(rec, chart)
    if as_json:
        emit_json(dump(rec))
    else:
        _print_reconciliation(rec, show_all, limit)
        if chart:
            console.print(f"Chart: {chart}")
    if fail and rec.alerts:
        raise typer.Exit(1)


def _usd(v: Any) -> str:
    """Money to the cent, or to 4 places under a dollar (the demo's cents-a-day lines)."""
    return money(v, 4 if v is not None and abs(v) < 1 else 2)


def _period(r: Any) -> str:
    days = (r.period_end - r.period_start).days
    return str(r.period_start) if days == 1 else f"{r.period_start}..{r.period_end}"


def _print_reported(gaps: list[Any]) -> None:
    if not gaps:
        return
    body = [
        (g.provider, g.model[:40], f"{g.events:,}", money(g.reported, 4), money(g.computed, 4),
         money(g.gap, 4), _pct(g.gap_pct),
         f"[bold red]{g.flagged:,}[/]" if g.flagged else "0")
        for g in gaps
    ]  # fmt: skip
    cols = ["provider", "model", "calls", "reported", "computed", "gap", "%", "calls off"]
    console.print(table("Reported vs computed (calls that carry a source's own cost)", cols,
                        body, right=cols[2:]))  # fmt: skip


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v:+.1f}%"


def _print_reconciliation(rec: Any, show_all: bool, limit: int) -> None:
    _print_reported(rec.reported)
    if not rec.rows:
        console.print("No bills to reconcile: `unitecon bills import FILE` first.")
        return
    rows = rec.rows if show_all else [r for r in rec.rows if r.status != "match"]
    shown = rows[:limit] if limit else rows
    cols = ["provider", "period", "model", "computed", "reported", "billed", "residual",
            "%", "explained by"]  # fmt: skip
    body = [
        (r.provider, _period(r),
         r.model[:40], _usd(r.computed), _usd(r.reported) if r.reported is not None else "",
         _usd(r.billed), _usd(r.residual), _pct(r.residual_pct),
         "; ".join(f"{e.kind.replace('_', ' ')} {_usd(e.amount)}" for e in r.explanations)
         or r.status)
        for r in shown
    ]  # fmt: skip
    n_match = sum(r.status == "match" for r in rec.rows)
    title = f"Bill vs ledger — {len(rec.rows)} rows, {n_match} within tolerance"
    if len(rows) > len(shown):
        title += f" (top {len(shown)} of {len(rows)} shown)"
    console.print(table(title, cols, body, right=cols[3:8]))
    summ = [
        (s["provider"], s["kind"].replace("_", " "), s["rows"], _usd(s["amount"]), s["example"])
        for s in (x.model_dump() for x in rec.summary)
    ]
    console.print(table("What explains the residuals (over the bill's periods; an example each)",
                        ["provider", "explanation", "rows", "amount", "largest row"], summ,
                        right=["rows", "amount"]))  # fmt: skip
    cap = [
        (c.provider, money(c.tracked), money(c.billed),
         "—" if c.rate is None else f"{c.rate * 100:.1f}%",
         "[bold red]below threshold[/]" if c.alert else "ok")
        for c in rec.capture
    ]  # fmt: skip
    thr = f"{rec.threshold * 100:.0f}%"
    console.print(table(f"Capture rate (tracked / billed, over the bill's periods; alert "
                        f"below {thr})", ["provider", "tracked", "billed", "capture", "status"],
                        cap, right=["tracked", "billed", "capture"]))  # fmt: skip
    for p, n in rec.uncovered_days.items():
        console.print(f"[yellow]{p}: {n} day(s) of ledger cost outside the bill's periods "
                      "(not reconciled).[/]")  # fmt: skip
    console.print(f"Bill sources: {', '.join(f'{p}: {s}' for p, s in rec.sources.items())}")
    for cur, n in rec.skipped.items():
        hint = f"revenue: rates: {{{cur}: ...}} (USD per {cur})"
        console.print(f"[yellow]{n} bill line(s) in {cur} left out: add its rate to the "
                      f"project file, {hint}.[/]")  # fmt: skip


def export(
    focus: Annotated[
        Path | None, typer.Option("--focus", help="Write FOCUS 1.2 here (.csv or .parquet).")
    ] = None,
    lake: Annotated[
        Path | None,
        typer.Option(
            "--lake",
            help="Write the ledger's events (by day), quarantine and lineage as Parquet here, "
            "for the Spark engine (re-exported days are replaced).",
        ),
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    account: Annotated[str, typer.Option(help="BillingAccountId / Name to write.")] = "unitecon",
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the ledger's cost as FinOps FOCUS 1.2 (CSV or Parquet, by the file's suffix).

    One row per UTC day x provider x service x SKU (model and token kind) x tags; self-hosted
    GPU time and fixed costs as charges of their own. Example:
    unitecon export --focus focus.parquet --since 2026-10-01
    """
    from unitecon.cli.session import dump, session
    from unitecon.reconcile.export import FocusRequest

    if lake is not None:
        _export_lake(lake, since, until, as_json)
        if focus is None:
            return
    if focus is None:
        raise UniteconError("Say what to export: --focus FILE and/or --lake DIR.")
    if focus.suffix.lower() not in (".csv", ".parquet"):
        raise UniteconError(f"--focus {focus}: name a .csv or .parquet file")
    req = FocusRequest(
        path=str(focus.resolve()),
        since=parse_date(since, "since"),
        until=parse_date(until, "until"),
        account=account,
    )
    with session(config) as s:
        got = s.ask("focus_export", req=req)
    if as_json:
        emit_json(
            {
                "path": str(focus),
                "rows": got.rows,
                "billed_by_service": dump(got)["billed_by_service"],
            }
        )
        return
    totals = got.billed_by_service
    body = [(s, money(v)) for s, v in sorted(totals.items(), key=lambda kv: -kv[1])]
    body.append(("total", money(sum(totals.values(), start=Decimal(0)))))
    span = f"{got.first_day} .. {got.last_day}" if got.first_day else "no charges"
    console.print(table(f"FOCUS 1.2 export: {got.rows:,} rows, charge periods {span} -> {focus}",
                        ["ServiceName", "BilledCost"], body, right=["BilledCost"]))  # fmt: skip


def _export_lake(root: Path, since: str | None, until: str | None, as_json: bool) -> None:
    from unitecon.cli.session import dump, session
    from unitecon.reconcile.export import LakeRequest

    req = LakeRequest(
        path=str(root.resolve()), since=parse_date(since, "since"), until=parse_date(until, "until")
    )
    with session(None) as s:
        done = s.ask("lake_export", req=req)
    if as_json:
        emit_json({**dump(done), "lake": str(root)})
        return
    console.print(
        f"Lake written: {done.events:,} events in {done.days} daily partitions, "
        f"{done.quarantined:,} quarantined records -> {root}\n"
        "Analyse it on Spark: set `engine: {kind: spark, lake: ...}` in unitecon.yaml, or "
        "run a command with UNITECON_ENGINE=spark."
    )
