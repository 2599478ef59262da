"""Reconcile stage (after economics): the ledger's cost against the bill, and out to FinOps.

    computed.py   the ledger's side: computed and reported cost per provider, day, model
    reconcile.py  residuals, their explanations, capture rate (pure: no engine)
    run.py        `reconcile_ledger`: bills from the ledger, the ledger's side, the comparison
    reported.py   sources' own reported cost vs ours, per model, flagged beyond tolerance
    focus.py      FOCUS 1.2 export of the ledger's cost (CSV, Parquet)

The ledger's side comes from the analysis core (`unitecon.analysis.Analysis.costed`), the
same costed events every other surface reads. The project file's `reconcile` section is
`unitecon.billing.config.ReconcileConfig` (the project file may not import this package,
which imports the analysis core that reads the project file).
May import: the stages, unitecon.config, unitecon.analysis, unitecon.billing.
"""

from unitecon.billing.config import ReconcileConfig
from unitecon.reconcile.computed import LedgerDay, ledger_days
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
