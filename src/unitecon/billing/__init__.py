"""Billing stage (a source beside ingest): what providers bill, read into the ledger.

    lines.py    one line of a bill (`BillLine`): a cost or a provider-counted usage
    reports.py  OpenAI organization Costs / Usage API pages, Anthropic Admin cost and
                usage reports, as downloaded (bucketed JSON)
    invoice.py  a generic invoice CSV (date, provider, model or SKU, amount, currency)
    read.py     which reader a file needs
    fetch.py    the same reports from the providers' APIs, with an admin key
    store.py    `bill_lines` and their lineage `bill_imports`, idempotently
    config.py   the project file's `reconcile` section (tolerances, capture-rate alert)

A bill is not a usage event: it has its own table, and nothing here prices anything.
`unitecon.reconcile` compares it with the ledger's computed cost.
May import: unitecon.errors, unitecon.engine, unitecon.yamlfile, unitecon.ledger.
"""

from unitecon.billing.config import ReconcileConfig
from unitecon.billing.lines import BillLine
from unitecon.billing.read import FORMATS, read_bill
from unitecon.billing.store import ImportResult, import_lines, imports, totals

__all__ = [
    "FORMATS",
    "BillLine",
    "ImportResult",
    "ReconcileConfig",
    "import_lines",
    "imports",
    "read_bill",
    "totals",
]
