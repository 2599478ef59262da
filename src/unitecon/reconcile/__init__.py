"""Reconcile stage (after economics): the ledger's cost against the bill, and out to FinOps.

    config.py     the project file's `reconcile` section (tolerances, capture-rate alert)
    computed.py   the ledger's side: computed and reported cost per provider, day, model
    reconcile.py  residuals, their explanations, capture rate (pure: no engine)
    run.py        `reconcile_ledger`: bills from the ledger, the ledger's side, the comparison
    reported.py   sources' own reported cost vs ours, per model, flagged beyond tolerance
    focus.py      FOCUS 1.2 export of the ledger's cost (CSV, Parquet)

May import: unitecon.billing, unitecon.economics, unitecon.attribution, unitecon.pricing,
unitecon.ledger, unitecon.errors.
"""

from unitecon.reconcile.computed import LedgerDay, ledger_days
from unitecon.reconcile.config import ReconcileConfig
from unitecon.reconcile.reconcile import Capture, Explanation, Reconciliation, Row, reconcile
from unitecon.reconcile.run import catalog_model_key, reconcile_ledger

__all__ = [
    "Capture",
    "Explanation",
    "LedgerDay",
    "ReconcileConfig",
    "Reconciliation",
    "Row",
    "catalog_model_key",
    "ledger_days",
    "reconcile",
    "reconcile_ledger",
]
