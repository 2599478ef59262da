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

from unitecon.cli.output import console, emit_json, money, parse_date, parse_month, table
from unitecon.cli.session import costed_ledger
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


def _end_of_data(events: Any) -> dt.date:
    from unitecon.governance import data_end

    end = data_end(events)
    if end is None:
        raise UniteconError("The ledger has no events: run `unitecon ingest PATH` first.")
    return end


def _budget_statuses(c: Any, project: Any, month: dt.date | None) -> list[Any]:
    from unitecon.governance.overview import budget_statuses

    return budget_statuses(c.events, project.governance.budgets, month, _end_of_data(c.events))


def _no_budgets() -> None:
    console.print(
        "No budgets in the project file. Add, for example:\n\n"
        "  governance:\n"
        "    budgets:\n"
        "      - {name: all AI spend, monthly: 5000}\n"
        "      - {name: support agent, monthly: 2000, where: {feature: support-agent}}"
    )


def _print_budgets(statuses: list[Any]) -> None:
    rows = [
        (
            s.budget.name,
            s.month.strftime("%Y-%m"),
            money(s.budget.monthly),
            money(s.actual),
            f"{s.used * 100:.0f}%",
            f"{money(s.forecast)} ({money(s.low)}–{money(s.high)})",
            s.runs_out.isoformat() if s.runs_out else "—",
            s.status,
        )
        for s in statuses
    ]
    as_of = statuses[0].as_of.isoformat() if statuses else "—"
    console.print(
        table(
            f"Budgets (actual to {as_of}, exclusive; month-end forecast with an 80% range)",
            ["budget", "month", "budget $", "spent", "used", "forecast", "runs out", "status"],
            rows,
            right=["budget $", "spent", "used", "forecast"],
        )
    )
    for s in statuses:
        for a in s.alerts:
            console.print(f"[bold yellow]alert[/] {a.message}")


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
    since = None if m is None else m - dt.timedelta(days=35)  # the forecast's history
    with costed_ledger(config, since) as (c, project):
        if not project.governance.budgets:
            if as_json:
                emit_json({"budgets": []})
            else:
                _no_budgets()
            return
        statuses = _budget_statuses(c, project, m)
    if as_json:
        emit_json({"budgets": [s.as_dict() for s in statuses]})
        return
    _print_budgets(statuses)
    if chart is not None:
        from unitecon.report.governance import write_budget_chart

        console.print(f"Chart written to {write_budget_chart(statuses, chart)}")


def _detect(c: Any, project: Any, recent: dt.date | None = None, top: int | None = 15) -> list[Any]:
    """Anomalies (from `recent` on, if given); the `top` largest (None: all) explained."""
    from unitecon.governance.overview import anomalies_from

    cfg = project.governance.anomalies
    end = _end_of_data(c.events)
    return anomalies_from(c.events, cfg, c.window.since.date(), end, recent, top)


def _print_anomalies(found: list[Any], top: int) -> None:
    rows = [
        (
            a.day.isoformat(),
            a.label,
            money(a.cost),
            money(a.expected),
            money(a.impact),
            "—" if a.ratio is None else f"{a.ratio:.1f}x",
            ", ".join(f"{c.value} (+{money(c.delta)})" for c in a.contributors) or "—",
        )
        for a in found[:top]
    ]
    console.print(
        table(
            f"Spend anomalies ({len(found)}, largest impact first)",
            ["day", "series", "cost", "expected", "above expected", "ratio", "driven by"],
            rows,
            right=["cost", "expected", "above expected", "ratio"],
        )
    )


def anomalies(
    since: Annotated[str | None, typer.Option(help="From this UTC date (incl. history).")] = None,
    top: Annotated[int, typer.Option(help="Rows to show.")] = 15,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Days whose spend is far above the weekday-adjusted baseline of the weeks before, per
    series (total, feature, customer, model), with what drove each.

    Example: unitecon anomalies --since 2026-09-01
    """
    with costed_ledger(config, parse_date(since, "since")) as (c, project):
        found = _detect(c, project, top=None if as_json else top)
    if as_json:
        emit_json({"anomalies": [a.as_dict() for a in found]})
        return
    if not found:
        console.print("No spend anomalies.")
        return
    _print_anomalies(found, top)


def _runaways(c: Any, project: Any, top: int | None) -> list[Any]:
    from unitecon.governance import runaway_tasks

    return runaway_tasks(c.events, project.governance.runaway, top)


def _print_runaways(found: list[Any]) -> None:
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
            "Runaway tasks (far more calls than their feature's tasks)",
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
    top: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 20,
    since: Annotated[str | None, typer.Option(help="From this UTC date.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tasks with far more calls than the other tasks of their feature (agent loops), with
    the agent that made most of them. Example: unitecon runaway --top 10
    """
    with costed_ledger(config, parse_date(since, "since")) as (c, project):
        found = _runaways(c, project, top or None)
    if as_json:
        emit_json({"runaway_tasks": [r.as_dict() for r in found]})
        return
    if not found:
        console.print("No runaway tasks.")
        return
    _print_runaways(found)
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
    from unitecon.governance import coverage as cov

    with costed_ledger(config, parse_date(since, "since")) as (c, _):
        found = cov(c.events)
    if as_json:
        emit_json({"coverage": [x.as_dict() for x in found]})
        return
    rows = [
        (
            x.dim,
            _pct(x.cost_share),
            money(x.untagged_cost),
            _pct(x.call_share),
            ", ".join(f"{Path(s).name} ({money(v)})" for s, v in x.worst) or "—",
        )
        for x in found
    ]
    console.print(
        table(
            "Tagging coverage (leaf calls; untagged spend cannot be charged back)",
            ["dimension", "spend tagged", "untagged spend", "calls tagged", "most untagged from"],
            rows,
            right=["spend tagged", "untagged spend", "calls tagged"],
        )
    )


def alerts(
    fail: Annotated[
        bool, typer.Option(help="Exit with status 1 when any budget, anomaly or runaway alerts.")
    ] = False,
    days: Annotated[int, typer.Option(help="Anomalies and runaways of the last N days.")] = 7,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything that needs attention now: budget alerts, recent spend anomalies and
    runaway tasks. For a daily job: unitecon alerts --fail --json
    """
    if days < 1:
        raise UniteconError("--days: at least 1")
    from unitecon.governance.overview import alerts as all_alerts

    with costed_ledger(config) as (c, project):
        end = _end_of_data(c.events)
        got = all_alerts(c.events, project.governance, c.window.since.date(), end, days)
    flagged, found, loops = list(got.budgets), list(got.anomalies), list(got.runaway_tasks)
    if as_json:
        emit_json(got.as_dict())
    else:
        console.print(f"[bold]Alerts[/] for the {days} days to {end.isoformat()} (exclusive)")
        if flagged:
            _print_budgets(flagged)
        if found:
            _print_anomalies(found, 10)
        if loops:
            _print_runaways(loops[:10])
        if not (flagged or found or loops):
            console.print("Nothing needs attention.")
    if fail and (flagged or found or loops):
        raise typer.Exit(1)
