"""`unitecon memo`: the one-page board memo (HTML and PDF) from the ledger, the what-if and
the TCO files.

Examples:
    unitecon memo
    unitecon memo --since 2026-10-01 --until 2026-11-01 --tco tco.yaml --whatif whatif.yaml
    unitecon memo --json            # the memo's figures, as the other commands' --json give them
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from unitecon.analysis.answers import Filters
from unitecon.cli.empty import said_nothing_matched
from unitecon.cli.output import console, emit_json, parse_date
from unitecon.cli.session import session
from unitecon.errors import UniteconError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the memo's figures as JSON only.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]


def register(app: typer.Typer) -> None:
    app.command("memo")(memo)


def memo(
    since: Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    tco: Annotated[
        Path | None,
        typer.Option("--tco", help="TCO file (default: scenarios/tco.yaml in the data dir)."),
    ] = None,
    whatif: Annotated[
        Path | None,
        typer.Option(
            "--whatif", help="What-if file (default: scenarios/whatif.yaml in the data dir)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="HTML file to write; the PDF goes beside it (default: "
            "memo.html and memo.pdf in the data dir).",
        ),
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also print the PDF.")] = True,
    draws: Annotated[
        int | None, typer.Option("--draws", help="Monte Carlo draws (default: the TCO file's).")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One page for a board: why now (the period's fully loaded cost, margin, trend, risks),
    what's the impact (savings levers, the recommended option's NPV, IRR, break-even month,
    ROI and Monte Carlo range), what's the ask (the roadmap of the TCO file).

    Example: unitecon memo --since 2026-10-01 --until 2026-11-01
    """
    from unitecon.cli.report import savings_levers
    from unitecon.cli.scenarios import tco_answer
    from unitecon.ledger.store import home
    from unitecon.report import memo as m

    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    data = home()
    tco_path = tco or data / "scenarios" / "tco.yaml"
    if not tco_path.exists():
        raise UniteconError(
            f"No TCO file at {tco_path}: give --tco FILE (`unitecon demo` writes an editable "
            "one to scenarios/tco.yaml in the data dir)."
        )
    if not as_json:
        with session(config) as s:
            if said_nothing_matched(s, f):  # no memo of an empty window
                return
    whatif_path = whatif or data / "scenarios" / "whatif.yaml"
    t = tco_answer(tco_path, draws=draws, config=config, charts=data / "charts")
    with session(config) as s:
        summary = s.ask("summary", f)
        lv = savings_levers(s._local(), whatif_path if whatif_path.exists() else None, f)
        source = str(s.ledger)
    figures = m.figures(summary, t, lv)
    if as_json:
        emit_json(figures)
        return
    html_path = out or data / "memo.html"
    pdf_path = html_path.with_suffix(".pdf") if pdf else None
    m.write(figures, html_path, pdf_path, source)
    console.print(f"Memo (HTML): [bold]{html_path}[/]")
    if pdf_path is not None:
        console.print(f"Memo (PDF, one page): [bold]{pdf_path}[/]")
