"""Which reader a bill file needs, and reading it."""

from __future__ import annotations

from pathlib import Path

from unitecon.billing import reports
from unitecon.billing.invoice import read_invoice_csv
from unitecon.billing.lines import BillLine
from unitecon.errors import InputError

FORMATS = (*reports.FORMATS, "invoice_csv")


def read_bill(path: Path, fmt: str | None = None) -> tuple[str, list[BillLine]]:
    """(format, lines) of one bill file; the format from its shape unless given."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"Unknown bill format {fmt!r}; choose from: {', '.join(FORMATS)}")
    if not path.is_file():
        raise InputError(f"No such file: {path}")
    if fmt == "invoice_csv" or (fmt is None and path.suffix.lower() == ".csv"):
        return "invoice_csv", list(read_invoice_csv(path))
    pages = reports.load_pages(path)
    found = fmt or reports.sniff(pages)
    if found is None:
        raise InputError(
            f"{path}: not a report we know (OpenAI costs/usage or Anthropic cost/usage "
            "report pages, or an invoice CSV); name it with --format "
            f"({', '.join(FORMATS)})"
        )
    return found, list(reports.READERS[found](path, pages))
