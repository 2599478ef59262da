"""Scenario commands: `whatif` (replay real traffic) and `tco` (36-month cost and value).

Examples:
    unitecon whatif src/unitecon/demo/scenarios/whatif.yaml
    unitecon tco src/unitecon/demo/scenarios/tco.yaml --xlsx tco.xlsx --draws 10000
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, money, table
from unitecon.terminal import shows_progress

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--charts", help="Folder for the chart files (default: $UNITECON_HOME/charts)."),
]


def register(app: typer.Typer) -> None:
    app.command("whatif")(whatif)
    app.command("tco")(tco)


def _charts_dir(out: Path | None) -> Path:
    from unitecon.ledger.store import home

    return out if out is not None else home() / "charts"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "scenario"


@shows_progress("replaying the ledger's traffic under the scenario")
def whatif(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    config: ConfigOpt = None,
    charts: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replay the ledger's traffic under a scenario; compare cost with the baseline.

    Example: unitecon whatif whatif.yaml --json
    """

    from unitecon.cli.session import session
    from unitecon.models import scenario as sc
    from unitecon.report import scenario_charts

    s = sc.load(sc.Scenario, scenario)
    # no ledger (DuckDB) or no lake (Spark): the core's session says which
    with session(config) as ses:  # the replay never writes
        out = ses.ask("whatif", scenario=s).result
    chart = scenario_charts.savings(
        out["contributions"], _charts_dir(charts) / f"whatif-{_slug(s.name)}.html"
    )
    out["charts"] = {"savings": chart}
    if as_json:
        emit_json(out)
        return
    _print_whatif(out)


def _print_whatif(out: dict[str, Any]) -> None:
    b, s = out["baseline"], out["scenario_result"]
    console.print(f"[bold]{out['scenario']}[/]")
    rows = [
        ("cost", money(b["cost"]), money(s["cost"])),
        ("  of which idle GPU", money(b["idle_gpu_cost"]), money(s["idle_gpu_cost"])),
        ("requests", f"{b['requests']:,}", f"{s['requests']:,}"),
        ("tasks", f"{b['tasks']:,}", f"{s['tasks']:,}"),
        ("cost per task", money(b["cost_per_task"], 4), money(s["cost_per_task"], 4)),
    ]
    m = out["margins"]
    if m is not None:
        t = m["total"]
        mb, ms = t["baseline"], t["scenario"]
        rows += [
            ("revenue", money(mb["revenue"]), money(ms["revenue"])),
            (
                f"gross margin (fixed: {m['fixed_cost']})",
                money(mb["gross_margin"]),
                money(ms["gross_margin"]),
            ),
            ("gross margin %", _pct(mb["gross_margin_pct"]), _pct(ms["gross_margin_pct"])),
        ]
    console.print(
        table(
            "Baseline vs scenario",
            ["", "baseline", "scenario"],
            rows,
            right=["baseline", "scenario"],
        )
    )
    lv = out["levers"]
    if lv["saved_per_month"] is not None:
        since, until = str(lv["since"])[:10], str(lv["until"])[:10]  # ISO text in the answer
        console.print(
            f"Replayed {since} to {until} ({Decimal(str(lv['days'])):.2f} days): "
            f"saves {money(lv['saved_per_month'])} a month (730 h)"
        )
    share = out["savings_share"]
    pct = f" ({Decimal(str(share)) * 100:.1f} %)" if share is not None else ""
    console.print(f"Savings: [bold]{money(out['savings'])}[/]{pct}")
    console.print(
        table(
            "What each transformation saved (in order, given the ones before)",
            ["transformation", "saved", "cost after"],
            [
                (c["transformation"], money(c["savings"]), money(c["cost_after"]))
                for c in out["contributions"]
            ],
            right=["saved", "cost after"],
        )
    )
    for dim, groups in out["by"].items():
        cols = [dim, "cost before", "cost after", "saved", "per task before", "per task after"]
        cols += ["margin before", "margin after", "margin % change"]
        console.print(
            table(
                f"By {dim} (margin % change in points)",
                cols,
                [_group_row(g) for g in groups[:15]],
                right=cols[1:],
            )
        )
        if len(groups) > 15:
            console.print(f"  ... {len(groups) - 15} more (--json for all)")
    for n in out["notes"]:
        console.print(f"note: {n}")
    for name, p in out["charts"].items():
        console.print(f"chart ({name}): {p}")


def _group_row(g: dict[str, Any]) -> tuple[str, ...]:
    m = g.get("margin")
    margin: tuple[str, ...] = ("—", "—", "—")
    if m is not None:
        d = m["gross_margin_pct_change"]
        margin = (
            money(m["baseline"]["gross_margin"]),
            money(m["scenario"]["gross_margin"]),
            "—" if d is None else f"{Decimal(str(d)) * 100:+.1f}",
        )
    return (
        g["key"] or "(none)",
        money(g["baseline"]["cost"]),
        money(g["scenario"]["cost"]),
        money(g["savings"]),
        money(g["baseline"]["cost_per_task"], 4),
        money(g["scenario"]["cost_per_task"], 4),
        *margin,
    )


@shows_progress("modelling the total cost of ownership")
def tco(
    model: Annotated[Path, typer.Argument(help="TCO model file (YAML).")],
    xlsx: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write the spreadsheet with live formulas.")
    ] = None,
    draws: Annotated[
        int | None,
        typer.Option("--draws", help="Monte Carlo draws (0: none; default: the file's)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Monte Carlo seed.")] = None,
    charts: OutOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Total cost of ownership, value, NPV, IRR and payback per alternative, with uncertainty.

    Numbers under `from_ledger` are measured in the ledger ($UNITECON_HOME), priced with the
    project file.

    Example: unitecon tco tco.yaml --xlsx tco.xlsx
    """
    out = tco_answer(model, draws=draws, seed=seed, charts=charts, config=config, xlsx=xlsx)
    if as_json:
        emit_json(out)
        return
    _print_tco(out)


def tco_answer(
    model: Path,
    *,
    draws: int | None = None,
    seed: int | None = None,
    charts: Path | None = None,
    config: Path | None = None,
    xlsx: Path | None = None,
) -> dict[str, Any]:
    """The TCO file's result (`--json`'s body): measured from the ledger where it says so,
    exact per alternative, Monte Carlo percentiles and the tornado, the charts written."""
    from unitecon.errors import UniteconError
    from unitecon.models import scenario as sc
    from unitecon.models import tco as t
    from unitecon.models import uncertainty as u
    from unitecon.report import scenario_charts

    if draws is not None and draws < 0:
        raise UniteconError("--draws must be 0 or more")
    m = sc.load(t.TcoModel, model)
    measured: dict[str, Any] = {}
    if t.ledger_fields(m):
        m, measured = _from_ledger(m, model, config)
    m = t.resolve_perf(m)
    result = t.run(m)
    out: dict[str, Any] = result.as_dict()
    out["measured_from_ledger"] = measured
    n = m.draws if draws is None else draws
    ins = t.inputs(m)
    has_dist = any(u.is_dist(x) for x in ins.values())
    folder = _charts_dir(charts)
    paths: dict[str, Path] = {
        "cumulative_cost": scenario_charts.cumulative_cost(
            result, folder / "tco-cumulative-cost.html"
        )
    }
    if n and has_dist:

        def fn(v: Any) -> Any:
            return t.draw_outputs(m, v)

        sims = u.simulate(ins, fn, draws=n, seed=m.seed if seed is None else seed)
        out["monte_carlo"] = {
            "draws": n,
            "seed": m.seed if seed is None else seed,
            "outputs": {k: _q(k, v) for k, v in sims.items()},
        }
        metric = _tornado_metric(result)
        bars, dropped = scenario_charts.with_swing(u.tornado(ins, fn, metric))
        out["tornado"] = {
            "output": metric,
            "bars": [b.as_dict() for b in bars],
            "zero_swing_inputs": dropped,
        }
        paths["tornado"] = scenario_charts.tornado(bars, metric, folder / "tco-tornado.html")
    if xlsx is not None:
        from unitecon.report import xlsx as x

        paths["xlsx"] = x.write(
            m,
            xlsx,
            measured=measured,
            monte_carlo=out.get("monte_carlo"),
            tornado=out.get("tornado"),
        )
    out["files"] = paths
    return out


def _from_ledger(m: Any, model: Path, config: Path | None) -> tuple[Any, dict[str, Any]]:
    """The model with its `from_ledger` numbers measured in the ledger (opened read-only)."""

    from unitecon.analysis.answers import MeasureWhatIf
    from unitecon.cli.session import session
    from unitecon.models import scenario as sc
    from unitecon.models import tco as t

    scenarios: dict[str, Any] = {}

    def scenario(f: Any) -> Any:
        name = getattr(f, "whatif", None)
        if name is None:
            return None
        if name not in scenarios:
            scenarios[name] = sc.load(sc.Scenario, model.parent / name)
        return scenarios[name]

    # no ledger (DuckDB) or no lake (Spark): the core says which, `resolve_ledger` names
    # the file and the field
    with session(config) as s:

        def measure(f: Any) -> Any:
            after = scenario(f)
            if after is None:
                return s.ask("measure", feature=f.feature, since=f.since, until=f.until)
            req = MeasureWhatIf(feature=f.feature, since=f.since, until=f.until, scenario=after)
            return s.ask("measure_whatif", request=req)

        return t.resolve_ledger(m, measure, str(model))


def _tornado_metric(result: Any) -> str:
    """The best alternative's NPV against the baseline (its own NPV if it is alone)."""
    others = [(a.incremental.npv, k) for k, a in result.alternatives.items() if a.incremental]
    if not others:
        return f"npv.{result.model.baseline}"
    return f"incremental_npv.{max(others)[1]}"


def _q(key: str, values: Any) -> Any:
    from decimal import Decimal

    from unitecon.models import uncertainty as u

    places = Decimal("1e-6") if key.startswith("unit_cost") else Decimal("0.01")
    q = u.quantiles(values, places)
    return q.as_dict() if q is not None else None


def _pct(x: Any) -> str:
    return "—" if x is None else f"{Decimal(str(x)) * 100:.1f} %"


def _print_tco(out: dict[str, Any]) -> None:
    alts = out["alternatives"]
    console.print(
        f"[bold]TCO over {out['horizon_months']} months[/], discount rate "
        f"{_pct(out['discount_rate_annual'])} a year, baseline [bold]{out['baseline']}[/]"
    )
    cols = ["alternative", "total cost", "NPV", "PV of cost", "unit cost", "ROI", "ROE"]
    rows = [
        (
            k,
            money(a["total_cost"]),
            money(a["npv"]),
            money(a["pv_cost"]),
            money(a["unit_cost"], 4),
            f"{a['roi']:.2f}" if a["roi"] is not None else "—",
            f"{a['roe']:.2f}" if a["roe"] is not None else "—",
        )
        for k, a in alts.items()
    ]
    console.print(table("Per alternative", cols, rows, right=cols[1:]))
    for path, x in out.get("measured_from_ledger", {}).items():
        console.print(
            f"from the ledger: {path} = {x['value']} ({x['feature']}: {money(x['cost'])} over "
            f"{x['tasks']:,} tasks, {x['successful_tasks']:,} successful, {x['days']:.2f} days)"
        )
    inc_cols = [
        "alternative",
        "NPV vs baseline",
        "IRR (annual)",
        "payback month",
        "break-even tasks/month",
    ]
    inc_rows = []
    for k, a in alts.items():
        i = a["incremental_vs_baseline"]
        if i is None:
            continue
        be = i.break_even_tasks_per_month
        inc_rows.append(
            (
                k,
                money(i.npv),
                _pct(i.irr_annual),
                "never" if i.payback_month is None else str(i.payback_month),
                "—" if be is None else f"{be:,}",
            )
        )
    console.print(table(f"Against {out['baseline']}", inc_cols, inc_rows, right=inc_cols[1:]))
    mc = out.get("monte_carlo")
    if mc:
        rows = [
            (
                k,
                *(_fmt(k, q[p]) for p in ("p10", "p50", "p90")),
                f"{q['defined_share'] * 100:.0f} %",
            )
            for k, q in mc["outputs"].items()
            if q is not None and not k.startswith("pv_cost")
        ]
        cols = ["output", "p10", "p50", "p90", "defined"]
        console.print(
            table(
                f"Monte Carlo ({mc['draws']:,} draws, seed {mc['seed']})",
                cols,
                rows,
                right=cols[1:],
            )
        )
    tor = out.get("tornado")
    if tor:
        bars = [
            (b["input"], money(b["output_at_low"]), money(b["output_at_high"]), money(b["swing"]))
            for b in tor["bars"][:10]
        ]
        cols = ["input (p10 → p90)", "at p10", "at p90", "swing"]
        console.print(table(f"Tornado: {tor['output']}", cols, bars, right=cols[1:]))
        if tor["zero_swing_inputs"]:
            n = len(tor["zero_swing_inputs"])
            console.print(
                f"  {n} uncertain inputs with no effect on it left out (--json lists them)"
            )
    for name, p in out["files"].items():
        console.print(f"{name}: {p}")


def _fmt(key: str, v: Any) -> str:
    if key.startswith("payback"):
        return f"{v} mo"
    return money(v, 4 if key.startswith("unit_cost") else 2)
