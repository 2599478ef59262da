"""`unitecon report`: the period's headline and the self-contained HTML report of any ledger.

Examples:
    unitecon report
    unitecon report --since 2026-10-01 --until 2026-11-01 --out october.html
    unitecon report --json          # the headline, as GET /api/v1/summary returns it
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.analysis.answers import Filters
from unitecon.cli.empty import said_nothing_matched
from unitecon.cli.output import console, emit_json, parse_date
from unitecon.cli.session import dump, session

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the headline as JSON only.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    since: Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="HTML file to write (default: report.html in the data dir)."),
    ] = None,
    whatif: Annotated[
        Path | None,
        typer.Option(
            "--whatif",
            help="What-if file whose savings levers the report lists, replayed on the period "
            "(default: scenarios/whatif.yaml in the data dir, when there).",
        ),
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The period's headline (fully loaded cost, revenue, margin, cost per successful task,
    budgets, risks) and a self-contained HTML report with a table beside every chart.

    Example: unitecon report --since 2026-10-01 --until 2026-11-01 --out october.html
    """
    from unitecon.ledger.store import home
    from unitecon.report.html import write_report

    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        if as_json:
            emit_json(dump(s.ask("summary", f)))
            return
        if said_nothing_matched(s, f):  # no report of an empty window (no "-1120 days")
            return
        path = out or home() / "report.html"
        local = s._local()
        lv = savings_levers(local, whatif, f)
        rep = write_report(s.ask, f, path, source=str(s.ledger), analysis=local, levers=lv)
    rep.print_summary(console)
    console.print(f"Report (open in a browser, works offline): [bold]{rep.path}[/]")


def savings_levers(analysis: Any, whatif: Path | None, f: Filters) -> dict[str, Any] | None:
    """The levers of the what-if file (given, or the data dir's) replayed on the window;
    None without a file or without a local ledger (a running service holds it)."""
    from unitecon.economics import levers
    from unitecon.ledger.store import home

    path = whatif if whatif is not None else home() / "scenarios" / "whatif.yaml"
    if analysis is None or (whatif is None and not path.exists()):
        return None
    with console.status("replaying the what-if levers…"):
        w = levers.replay_on(analysis, path, f.since, f.until)
    return levers.summary(w)
