"""Governance commands: `budgets`, `anomalies`, `runaway`, `coverage`, and `alerts` (all of
them at once, for a daily job: exit code 1 when something needs attention with `--fail`).

A thin translator: load the ledger and project file, call `unitecon.governance`, print.

Examples:
    unitecon budgets --month 2026-11 --chart budgets.html
    unitecon anomalies --since 2026-10-01
    unitecon alerts --fail
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.analysis.answers import Filters
from unitecon.cli.empty import said_nothing_matched
from unitecon.cli.output import console, emit_json, money, parse_date, parse_month, period, table
from unitecon.cli.session import dump, session
from unitecon.errors import UniteconError

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]
ChartOpt = Annotated[Path | None, typer.Option(help="Write a chart (HTML) here.")]


def register(app: typer.Typer) -> None:
    app.command("budgets")(budgets)
    app.command("anomalies")(anomalies)
    app.command("runaway")(runaway)
    app.command("coverage")(coverage)
    app.command("alerts")(alerts)


def _no_budgets() -> None:
    console.print(
        "No budgets in the project file. Add, for example:\n\n"
        "  governance:\n"
        "    budgets:\n"
        "      - {name: all AI spend, monthly: 5000}\n"
        "      - {name: support agent, monthly: 2000, where: {feature: support-agent}}"
    )


def _print_budgets(statuses: list[Any], as_of: dt.date | None) -> None:
    rows = [
        (
            s.name,
            s.month,
            money(s.budget),
            money(s.actual),
            f"{s.used * 100:.0f}%",
            f"{money(s.forecast)} ({money(s.forecast_low)}–{money(s.forecast_high)})",
            s.runs_out.isoformat() if s.runs_out else "—",
            s.status,
        )
        for s in statuses
    ]
    console.print(
        table(
            f"Budgets (actual to {as_of or '—'}, exclusive; month-end forecast with an 80% range)",
            ["budget", "month", "budget $", "spent", "used", "forecast", "runs out", "status"],
            rows,
            right=["budget $", "spent", "used", "forecast"],
        )
    )
    for s in statuses:
        for a in s.alerts:
            console.print(f"[bold yellow]alert[/] {a}")


def budgets(
    month: Annotated[str | None, typer.Option(help="Month (YYYY-MM); default: the latest.")] = None,
    chart: ChartOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each budget's spend to date, month-end forecast (80% range), run-out day and alerts.

    Example: unitecon budgets --month 2026-11 --chart budgets.html
    """
    m = parse_month(month)
    with session(config) as s:
        got = s.ask("budgets", month=m)
    if as_json:
        emit_json(dump(got))
        return
    if not got.budgets:
        _no_budgets()
        return
    _print_budgets(got.budgets, got.as_of)
    if chart is not None:
        from unitecon.report.governance import write_budget_chart

        console.print(f"Chart written to {write_budget_chart(got.budgets, chart)}")


def _print_anomalies(found: list[Any], top: int, total: int) -> None:
    rows = [
        (
            a.day.isoformat(),
            "all spend" if a.dim == "total" else f"{a.dim} {a.value}",
            money(a.cost),
            money(a.expected),
            money(a.impact),
            "—" if a.ratio is None else f"{a.ratio:.1f}x",
            ", ".join(f"{c.value} (+{money(c.above_usual)})" for c in a.contributors) or "—",
        )
        for a in found[:top]
    ]
    console.print(
        table(
            f"Spend anomalies ({total}, largest impact first)",
            ["day", "series", "cost", "expected", "above expected", "ratio", "driven by"],
            rows,
            right=["cost", "expected", "above expected", "ratio"],
        )
    )


def anomalies(
    since: Annotated[str | None, typer.Option(help="Test the days from this UTC date.")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    top: Annotated[int, typer.Option(min=1, max=500, help="Rows to show.")] = 15,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Days whose spend is far above the weekday-adjusted baseline of the weeks before, per
    series (total, feature, customer, model), with what drove each.

    Example: unitecon anomalies --since 2026-09-01
    """
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        got = s.ask("anomalies", f, top=top)
        if not as_json and not got.anomalies and said_nothing_matched(s, f):
            return
    if as_json:
        emit_json(dump(got))
        return
    if not got.anomalies:
        console.print("No spend anomalies.")
        return
    _print_anomalies(got.anomalies, top, got.total)


def _print_runaways(found: list[Any], when: str) -> None:
    rows = [
        (
            r.task,
            r.feature or "—",
            r.customer_id or "—",
            f"{r.calls:,}",
            f"{r.calls_limit:,}",
            money(r.cost),
            f"{r.agent or '—'} ({r.agent_calls:,})",
            r.started.strftime("%Y-%m-%d %H:%M"),
            f"{r.minutes:.0f}",
        )
        for r in found
    ]
    console.print(
        table(
            f"Runaway tasks (far more calls than their feature's tasks), {when}",
            [
                "task",
                "feature",
                "customer",
                "calls",
                "limit",
                "cost",
                "top agent (calls)",
                "started",
                "minutes",
            ],
            rows,
            right=["calls", "limit", "cost", "minutes"],
        )
    )


def runaway(
    top: Annotated[int, typer.Option(min=0, max=1000, help="Rows to show (0 = all).")] = 20,
    since: Annotated[str | None, typer.Option(help="From this UTC date.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tasks with far more calls than the other tasks of their feature (agent loops), with
    the agent that made most of them. Example: unitecon runaway --top 10
    """
    f = Filters(since=parse_date(since, "since"))
    with session(config) as s:
        got = s.ask("runaway", f, top=top)
        if not as_json and not got.rows and said_nothing_matched(s, f):
            return
    found = got.rows
    if as_json:
        emit_json(dump(got))
        return
    if not found:
        console.print("No runaway tasks.")
        return
    _print_runaways(found, period(f))
    console.print("Drill into one: unitecon trace TASK")


def _pct(x: Any) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def coverage(
    since: Annotated[str | None, typer.Option(help="From this UTC date.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tagging coverage: the share of spend and calls carrying a customer, feature, team,
    user, environment and agent, and where the untagged spend comes from.

    Example: unitecon coverage --json
    """
    f = Filters(since=parse_date(since, "since"))
    with session(config) as s:
        got = s.ask("coverage", f)
        empty = all(x.cost_coverage is None and x.call_coverage is None for x in got.rows)
        if not as_json and empty and said_nothing_matched(s, f):
            return
    if as_json:
        emit_json(dump(got))
        return
    rows = [
        (
            x.dimension,
            _pct(x.cost_coverage),
            money(x.untagged_cost),
            _pct(x.call_coverage),
            ", ".join(
                f"{Path(u.source).name} ({int(u.cost)} calls without usage)"
                if x.dimension == "usage"
                else f"{Path(u.source).name} ({money(u.cost)})"
                for u in x.top_untagged_sources
            )
            or "—",
        )
        for x in got.rows
    ]
    console.print(
        table(
            f"Tagging coverage, {period(f)} (leaf calls; untagged spend cannot be charged back)",
            ["dimension", "spend tagged", "untagged spend", "calls tagged", "most untagged from"],
            rows,
            right=["spend tagged", "untagged spend", "calls tagged"],
        )
    )


def alerts(
    fail: Annotated[
        bool, typer.Option(help="Exit with status 1 when any budget, anomaly or runaway alerts.")
    ] = False,
    days: Annotated[
        int, typer.Option(min=1, max=366, help="Anomalies and runaways of the last N days.")
    ] = 7,
    notify: Annotated[
        bool,
        typer.Option(
            help="Deliver them to the project file's governance.notify webhook (Slack JSON)."
        ),
    ] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything that needs attention now: budget alerts, recent spend anomalies and
    runaway tasks. For a daily job: unitecon alerts --fail --notify --json
    """
    if days < 1:
        raise UniteconError("--days: at least 1")
    with session(config) as s:
        got = s.ask("alerts", days=days)
        target = s.project.governance.notify if notify else None
    if notify and target is None:
        raise UniteconError(
            "--notify: no webhook in the project file. Add, for example:\n\n"
            "  governance:\n    notify: {webhook: https://hooks.slack.com/services/...}"
        )
    flagged, found, loops = got.budgets, got.anomalies, got.runaway_tasks
    if target is not None and (flagged or found or loops):
        from unitecon.cli.notify import deliver

        host = deliver(target, got)
        if not as_json:
            console.print(f"Delivered to {host}.", highlight=False)
    if as_json:
        emit_json(dump(got))
    elif got.as_of is None:
        console.print("The ledger has no events: run `unitecon ingest PATH` first.")
    else:
        console.print(f"[bold]Alerts[/] for the {days} days to {got.as_of.isoformat()} (exclusive)")
        if flagged:
            _print_budgets(flagged, got.as_of)
        if found:
            _print_anomalies(found, 10, len(found))
        if loops:
            _print_runaways(loops[:10], f"started in the {days} days to {got.as_of} (exclusive)")
        if not (flagged or found or loops):
            console.print("Nothing needs attention.")
    if fail and (flagged or found or loops):
        raise typer.Exit(1)
