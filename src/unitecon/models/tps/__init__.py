"""The TPS audit (models stage; pure functions, never the store): what a self-hosted
endpoint did (`observe`: ledger spans or engine metrics) against what its GPUs could do
(`audit`: the performance model), with the binding constraint and the top bottlenecks."""

from unitecon.models.tps.audit import CONSTRAINTS, Audit, Bottleneck, audit
from unitecon.models.tps.observe import (
    ENGINE_METRICS,
    Observed,
    Span,
    from_metrics,
    from_spans,
)

__all__ = [
    "CONSTRAINTS",
    "ENGINE_METRICS",
    "Audit",
    "Bottleneck",
    "Observed",
    "Span",
    "audit",
    "from_metrics",
    "from_spans",
]
