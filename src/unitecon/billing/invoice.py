"""A generic invoice CSV: what a reseller, a cloud marketplace or a finance export gives.

Columns (header names, any order, case-insensitive; extra columns are ignored)::

    date          the day charged (YYYY-MM-DD); or period_start and period_end
    provider      openai, anthropic, ... (the ledger's provider ids)
    model         the model billed; or sku (a line item the bill names)
    amount        billed amount, a decimal in `currency`
    currency      ISO 4217 code (default USD)
    optional:     list_amount, quantity, unit, token_kind, account, invoice_id, batch

A row whose period is a day covers [date, date + 1 day); a monthly invoice line gives
period_start and period_end.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from unitecon.billing.lines import BillLine, parse_money, parse_time
from unitecon.errors import InputError

REQUIRED = ("provider", "amount")


def read_invoice_csv(path: Path) -> Iterator[BillLine]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = csv.DictReader(f)
        header = [(h or "").strip().lower() for h in rows.fieldnames or []]
        rows.fieldnames = header
        missing = [c for c in REQUIRED if c not in header]
        if "date" not in header and not {"period_start", "period_end"} <= set(header):
            missing.append("date (or period_start and period_end)")
        if "model" not in header and "sku" not in header:
            missing.append("model (or sku)")
        if missing:
            raise InputError(
                f"{path}:1: missing column(s) {', '.join(missing)}; "
                f"have: {', '.join(header) or '(none)'}"
            )
        for n, row in enumerate(rows, start=2):
            yield _line(path, n, {k: (v or "").strip() for k, v in row.items() if k})


def _line(path: Path, n: int, row: dict[str, str]) -> BillLine:
    where = f"{path}:{n}"
    if row.get("date"):
        start = parse_time(row["date"], where, "date")
        end = start + timedelta(days=1)
    else:
        start = parse_time(row.get("period_start"), where, "period_start")
        end = parse_time(row.get("period_end"), where, "period_end")
    if end <= start:
        raise InputError(f"{where}: period_end: must be after period_start")
    provider = row.get("provider", "").lower()
    if not provider:
        raise InputError(f"{where}: provider: empty")
    model, sku = row.get("model") or None, row.get("sku") or None
    if not model and not sku:
        raise InputError(f"{where}: model: empty (and no sku)")
    batch = row.get("batch", "").lower()
    return BillLine(
        format="invoice_csv",
        kind="cost",
        provider=provider,
        period_start=start,
        period_end=end,
        location=where,
        model=model,
        sku=sku or model,
        token_kind=row.get("token_kind") or None,
        account=row.get("account") or None,
        batch={"true": True, "1": True, "false": False, "0": False}.get(batch),
        quantity=parse_money(row["quantity"], where, "quantity") if row.get("quantity") else None,
        unit=row.get("unit") or None,
        amount=parse_money(row.get("amount"), where, "amount"),
        list_amount=(
            parse_money(row["list_amount"], where, "list_amount")
            if row.get("list_amount")
            else None
        ),
        currency=(row.get("currency") or "USD").upper(),
        invoice_id=row.get("invoice_id") or None,
    )
