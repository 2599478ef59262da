"""Billing commands: `bills import|list|fetch` (what providers billed) and `reconcile`.

A thin translator: read the files, call `unitecon.billing` / `unitecon.reconcile`, print.

Examples:
    unitecon bills import costs.json usage.jsonl invoice.csv
    unitecon reconcile --since 2026-11-01
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from unitecon.cli.output import console, emit_json, money, parse_date, table
from unitecon.errors import UniteconError

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]

bills_app = typer.Typer(help="Provider bills: OpenAI / Anthropic cost and usage reports, invoices.")


def register(app: typer.Typer) -> None:
    app.add_typer(bills_app, name="bills")


@bills_app.command("import")
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
    from unitecon.ledger.store import Ledger, sha256_file

    results = []
    with Ledger() as ledger:
        for path in paths:
            kind, lines = read_bill(path, fmt)
            results.append(import_lines(ledger.con, str(path), kind, lines, sha256_file(path)))
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
def bills_list(as_json: JsonOpt = False) -> None:
    """What bills the ledger holds: amount per provider, month and source."""
    from unitecon.billing import totals
    from unitecon.ledger.store import Ledger

    with Ledger(read_only=True) as ledger:
        rows = totals(ledger.con)
    if as_json:
        emit_json(rows)
        return
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
