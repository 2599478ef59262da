"""Ledger commands: ingest, quarantine, costs, prices, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_costs, emit_json, money, parse_date, period, table
from unitecon.errors import UniteconError
from unitecon.ledger import dimensions
from unitecon.terminal import shows_progress

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]

prices_app = typer.Typer(help="The price catalog: genai-prices plus your overrides.")


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("quarantine")(quarantine)
    app.command("costs")(costs)
    app.command("demo")(demo)
    app.add_typer(prices_app, name="prices")


def _ledger_path() -> Path:
    from unitecon.ledger.store import DB_NAME, home

    return home() / DB_NAME


def _ledger(read_only: bool = False) -> Any:
    from unitecon.ledger.store import Ledger

    return Ledger(read_only=read_only)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files to ingest (globs expanded).")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="jsonl, csv, parquet, otlp-json, otlp-proto, provider, json, export-csv.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest usage files into the ledger (idempotent: re-running changes nothing).

    Exit code 0: every record stored (or already there); 4: some records quarantined
    (`unitecon quarantine`) or a path skipped (missing, or a directory); 1: nothing
    accepted; 2: an error (no path is a file).

    Example: unitecon ingest traces/*.json events.jsonl
    """
    from unitecon.pipeline import FileHashes, ingest_paths

    skipped = {p: why for p in paths if (why := _not_a_file(p)) is not None}
    if len(skipped) == len(paths):  # nothing to read: an error, and no ledger is created
        raise UniteconError("; ".join(skipped.values()))
    files = [p for p in paths if p not in skipped]
    from unitecon.engine import LedgerBusy, without_pandas

    # the files are hashed while the ledger opens and the readers are imported
    hashes = FileHashes(sorted(set(files)))
    try:
        try:
            with without_pandas():  # (DuckDB would import it to bind the first parameter)
                ledger = _ledger()
        except LedgerBusy:
            from unitecon.cli.session import ingest_through_service

            results = ingest_through_service(_ledger_path(), files, fmt, quiet=as_json)
        else:
            with ledger, without_pandas():
                results = ingest_paths(ledger, files, fmt=fmt, quiet=as_json, hashes=hashes)
    finally:
        hashes.cancel()  # (the service, or an error: the files not started yet)
    if as_json:
        emit_json([r.as_dict() for r in results])
    else:
        _print_ingest_summary(results)
    nothing = not any(r.accepted or r.duplicates for r in results)
    code = 1 if nothing else QUARANTINED if skipped or any(r.quarantined for r in results) else 0
    if skipped:  # told last, where a reader of the summary sees it (stderr: stdout stays JSON)
        _tell_skipped(list(skipped.values()), len(paths), code, as_json)
    if nothing:
        # nothing stored, nothing already there: a wrong file or format, not a success
        if not as_json:
            reasons = any(r.quarantined for r in results)
            console.print(
                "[bold red]Nothing was accepted.[/]"
                + (" See the reasons above or with `unitecon quarantine`." if reasons else "")
            )
        raise typer.Exit(1)
    if any(r.quarantined for r in results) and not as_json:
        # stored, but some records were not: a scheduled job must be able to notice
        console.print(
            f"[yellow]{sum(r.quarantined for r in results):,} records quarantined[/] "
            f"(exit code {QUARANTINED}): `unitecon quarantine` lists them with their reason."
        )
    if code:
        raise typer.Exit(code)


QUARANTINED = 4
"""`ingest`'s exit code when it stored events but not all it was given: records quarantined,
or a path skipped (1: nothing accepted, 2: an error, 3: an internal error; README "Exit
codes")."""


def _not_a_file(path: Path) -> str | None:
    """Why `path` cannot be ingested as a file (a message naming it), or None when it can.
    A missing path or a directory is not a record: it is told, never quarantined."""
    if path.is_dir():
        return (
            f"{path} is a directory: name the files in it, e.g. "
            f"`unitecon ingest {path / '*.jsonl'}`."
        )
    if not path.exists():
        return f"No such file: {path}"
    return None


def _tell_skipped(reasons: list[str], given: int, code: int, as_json: bool) -> None:
    """The paths `ingest` skipped, on stderr (JSON under `--json`, as an error is)."""
    from unitecon.cli.main import err_console

    message = f"{len(reasons)} of the {given} paths given not ingested: " + "; ".join(reasons)
    if as_json:
        import json
        import sys

        body = {"error": {"exit_code": code, "code": "skipped", "message": message}}
        sys.stderr.write(json.dumps(body, ensure_ascii=False) + "\n")
        return
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def _print_ingest_summary(results: list[Any]) -> None:
    rows = [
        (r.source, r.format, r.rows_read, r.accepted, r.duplicates, r.merged, r.quarantined)
        for r in results
    ]
    if len(results) > 1:
        rows.append(
            (
                "total",
                "",
                sum(r.rows_read for r in results),
                sum(r.accepted for r in results),
                sum(r.duplicates for r in results),
                sum(r.merged for r in results),
                sum(r.quarantined for r in results),
            )
        )
    # merged: spans of a provider response already priced through another span
    cols = ["source", "format", "read", "accepted", "duplicates", "merged", "quarantined"]
    console.print(table("Ingest", cols, rows[-12:], right=cols[2:]))
    for r in results:
        if not r.rows_read and not r.quarantined:
            console.print(f"{r.source}: {_why_no_records(r.source)}", highlight=False, markup=False)
    errors = [e for r in results for e in r.errors][:10]
    if errors:
        console.print("[bold yellow]First quarantined records:[/]")
        for e in errors:
            console.print(f"  {e.location}: {e.reason}", highlight=False, markup=False)
        console.print("List them all with `unitecon quarantine`.")


def _why_no_records(source: str) -> str:
    """Why a file that was read gave no record at all (and no quarantined one)."""
    try:
        empty = Path(source).stat().st_size == 0
    except OSError:  # gone since, or not a local path
        empty = False
    return "the file is empty (0 bytes)." if empty else "no records in the file."


def quarantine(
    source: Annotated[str | None, typer.Option(help="Only this source file.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many rows.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List quarantined records with their location and reason.

    Fix the file and ingest it again: its quarantine entries are replaced.
    """
    from unitecon.cli.session import dump, session

    with session(None) as s:
        got = s.ask("quarantine", source=source, limit=limit)
    total, rows = got.total, got.records
    if as_json:
        emit_json(dump(got))
        return
    if not total:
        console.print("Quarantine is empty.")
        return
    console.print(
        table(
            f"Quarantine ({total} records)",
            ["location", "reason", "raw"],
            [(r.location, r.reason, (r.raw or "")[:60]) for r in rows],
        )
    )


def costs(
    by: Annotated[
        str, typer.Option("--by", help="Comma-separated: " + dimensions.help_text(dimensions.COSTS))
    ] = "model",
    since: Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    limit: Annotated[int, typer.Option(min=0, max=100_000, help="Rows to show (0 = all).")] = 30,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cost by any combination of dimensions, priced from the catalog at query time.

    Example: unitecon costs --by month,feature --since 2026-10-01
    """
    from unitecon.analysis.answers import Filters
    from unitecon.cli.session import session

    dimensions.parse(by, dimensions.COSTS)  # a mistake is told before the ledger is opened
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        if as_json:
            got = s.ask("cost_table", f, by=by, limit=limit)
        else:
            got = s.ask("costs", f, by=by, limit=limit)
            if not got.rows:
                from unitecon.cli.empty import nothing_matched

                nothing_matched(s, f)
                return
    if as_json:
        emit_costs(got)
        return
    dims, rows, total = got.by, got.rows, got.total_cost
    shown = rows
    cols = [*dims, "cost", "events", "input tokens", "output tokens", "unpriced"]
    body = [
        (
            *(r.dims[d] for d in dims),
            money(r.cost),
            f"{r.events:,}",
            f"{r.input_tokens:,}",
            f"{r.output_tokens:,}",
            r.unpriced_events or "",
        )
        for r in shown
    ]
    title = f"Variable cost by {', '.join(dims)}, {period(f)} — total {money(total)}"
    if got.total_rows > len(shown):
        title += f" (top {len(shown)} of {got.total_rows} rows)"
    console.print(table(title, cols, body, right=cols[len(dims) :]))
    console.print(
        "Tokens, unit prices and self-hosted busy GPU time. Fixed costs and idle GPU time: "
        "`unitecon unit --by feature --loaded`."
    )
    if any(r.unpriced_events for r in rows):
        console.print("[yellow]Some events have no price: see `unitecon prices missing`.[/]")


@prices_app.command("show")
@shows_progress("looking up the prices")
def prices_show(
    model: Annotated[str, typer.Argument(help="Model name as it appears in your traffic.")],
    provider: Annotated[str | None, typer.Option(help="Provider id, e.g. openai.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Price history, tiers and variants of one model."""
    from unitecon import config as cfg
    from unitecon.pricing import show_prices

    info = show_prices(model, provider=provider, config=cfg.load(config).pricing)
    if as_json:
        emit_json(info)
        return
    from unitecon.cli.render import render_prices

    render_prices(info)


@prices_app.command("missing")
def prices_missing(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Models in the ledger with no price, their volume, and the override to add; and the
    model calls that came without usage (cost unknown, never $0), per source."""
    from unitecon.analysis.answers import Filters
    from unitecon.cli.session import dump, session

    with session(config) as s:
        rows = s.ask("prices_missing", Filters())
    if as_json:
        emit_json(dump(rows))
        return
    if not rows:
        console.print("Every model in the ledger has a price, and every call its usage.")
        return
    from unitecon.cli.render import render_missing

    render_missing(rows)


def demo(
    seed: Annotated[int, typer.Option(help="Random seed (deterministic output).")] = 7,
    days: Annotated[int, typer.Option(min=7, help="Days of traffic (at least 7).")] = 60,
    customers: Annotated[
        int, typer.Option(min=10, help="Number of customers (at least 10).")
    ] = 200,
    tour: Annotated[
        bool, typer.Option("--tour/--no-tour", help="Then show it through the main commands.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Generate realistic demo traffic, ingest it through the real readers, and report.

    Writes under $UNITECON_HOME (default ./.unitecon): demo/ (the input files),
    ledger.duckdb and report.html.
    """
    from unitecon.cli.session import refuse_beside_service
    from unitecon.pipeline import run_demo

    refuse_beside_service(
        _ledger_path(), "demo", "rebuilds the ledger (or use another UNITECON_HOME)"
    )
    summary = run_demo(seed=seed, days=days, customers=customers, quiet=as_json)
    if as_json:
        emit_json(summary)
        return
    if tour:
        _tour()
    _memo(summary)
    _next_steps(summary)


def _memo(summary: dict[str, Any]) -> None:
    """The board memo of the demo (`unitecon memo`): HTML and PDF in the data dir."""
    from rich.rule import Rule

    from unitecon.cli.main import run

    console.print(Rule("[bold]Executive — the one-page board memo[/]  ·  unitecon memo"))
    if run(["memo"]) == 0:
        summary["memo"] = str(Path(summary["report"]).with_name("memo.pdf"))
    else:
        console.print("[yellow]`unitecon memo` failed: see above; the rest of the demo stands[/]")


def _tour() -> None:
    """Show the demo through the real commands, each titled for the reader it serves."""

    from rich.rule import Rule

    from unitecon.cli.main import run
    from unitecon.ledger.store import home

    scenarios = home() / "scenarios"  # the editable copies `run_demo` wrote
    out = home()
    steps = [
        ("Engineering — cost per successful task, rework, supervisor overhead",
         ["outcomes", "--by", "feature"]),
        ("Engineering — the self-hosted endpoint: utilization and idle cost", ["endpoints"]),
        ("Engineering — TPS audit of the endpoint: observed vs theoretical, top bottlenecks",
         ["audit", "llama-70b-h100", "--precision", "fp8"]),
        ("Finance — fully loaded unit cost per feature (variable + fixed + idle)",
         ["unit", "--by", "feature", "--loaded"]),
        ("Finance — the bill vs the ledger: what explains the gap, capture rate",
         ["reconcile", "--limit", "6"]),
        ("Finance and engineering — what needs attention: budgets, spend anomalies, runaways",
         ["alerts", "--days", "30"]),
        ("Finance — who is past the margin-collapse line, and the plan design for 60%",
         ["collapse", "--top", "6", "--chart", str(out / "collapse.html")]),
        ("Executive — 3-year TCO on the ledger's measured volume: NPV, payback, Monte Carlo",
         ["tco", str(scenarios / "tco.yaml"), "--xlsx", str(out / "tco.xlsx"),
          "--charts", str(out / "charts")]),
        ("Executive — what-if replay of the real traffic: the savings levers",
         ["whatif", str(scenarios / "whatif.yaml"), "--charts", str(out / "charts")]),
    ]  # fmt: skip
    for title, argv in steps:
        console.print(Rule(f"[bold]{title}[/]  ·  unitecon {' '.join(argv[:3])}"))
        code = run(argv)
        if code:
            console.print(f"[yellow]`unitecon {argv[0]}` exited with {code}[/]")


def _next_steps(summary: dict[str, Any]) -> None:
    import datetime as dt
    import os
    import shlex
    import shutil
    import sys

    u = "unitecon" if shutil.which("unitecon") else os.path.relpath(sys.argv[0])
    home = os.environ.get("UNITECON_HOME")  # the commands below read the home the demo wrote
    first = f"  In a new shell first: export UNITECON_HOME={shlex.quote(home)}\n" if home else ""
    scenarios = Path(summary["scenarios"]["tco.yaml"]).parent
    # a period the demo's traffic covers: its last 7 days (window_end is exclusive)
    end = dt.date.fromisoformat(str(summary["window_end"])[:10])
    since, until = (end - dt.timedelta(days=7)).isoformat(), end.isoformat()
    book = summary["workbook"]
    workbook = (
        f"  TCO workbook: {book}\n"
        if Path(book).exists()
        else f"  TCO workbook: not written yet (the first command below writes {book})\n"
    )
    console.print(
        "\n[bold]Next[/]\n"
        f"{first}"
        f"  Report (open in a browser, offline): [bold]{summary['report']}[/]\n"
        f"  Board memo (one page): [bold]{summary.get('memo', '(not written)')}[/]\n"
        f"{workbook}"
        f"  Scenario files to edit and re-run: {scenarios}\n"
        f"    {u} tco {summary['scenarios']['tco.yaml']} --xlsx {book}\n"
        f"    {u} whatif {summary['scenarios']['whatif.yaml']}\n"
        f"  Your own period: {u} report --since {since} --until {until} --out week.html\n"
        f"  Dashboard: {u} keys create read --name dashboard   # prints a login link\n"
        f"             {u} serve                               # http://127.0.0.1:4318/\n"
        f"  Explore:   {u} costs --by feature,model · {u} tasks --top 5 · "
        f"{u} prices missing · {u} quarantine",
        highlight=False,
        soft_wrap=True,  # a long path is printed whole, to copy as it is
    )
