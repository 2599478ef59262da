"""A feature's measured token mix and peak load, for the self-host vs API comparison.

From the ledger's leaf calls of one feature (structural spans, endpoints' own GPU calls and
non-token units excluded):

    input_len       = Σ input_tokens / requests                          [tokens/request]
    output_len      = Σ output_tokens / requests                         [tokens/request]
    cached_share    = Σ cache_read_tokens / Σ input_tokens               [-]
    peak_tokens_per_s = max over `window_s` buckets of Σ(input + output) / window_s   [tokens/s]
    peak_to_average = peak_tokens_per_s / (Σ(input + output) / observed seconds)     [-]

The peak is the busiest window, not the average: a self-hosted fleet is sized for it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from unitecon.errors import UniteconError
from unitecon.ledger.schema import STRUCTURAL_OPERATIONS
from unitecon.models.selfhost import Workload


def measured_workload(
    source: Any,
    feature: str,
    *,
    since: date | None = None,
    until: date | None = None,
    window_s: int = 60,
) -> Workload:
    """The `Workload` of `feature` as measured in the ledger (`source`: a Ledger)."""
    from unitecon.pricing.engine import ledger_events

    t = ledger_events(source, since, until)
    t = t.filter(
        (t.feature == feature)
        & ~t.operation.isin(sorted(STRUCTURAL_OPERATIONS))
        & ((t.input_tokens > 0) | (t.output_tokens > 0))
    )
    totals = (
        t.aggregate(
            requests=t.count(),
            inp=t.input_tokens.sum(),
            cached=t.cache_read_tokens.sum(),
            out=t.output_tokens.sum(),
            first=t.ts.min(),
            last=t.ts.max(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    if not totals["requests"]:
        features = sorted(
            f
            for f in source.ibis().table("events").feature.distinct().to_pyarrow().to_pylist()
            if f
        )
        raise UniteconError(
            f"No token traffic for feature {feature!r} in the ledger. "
            f"Features: {', '.join(features) or '(none)'}"
        )
    bucket = (t.ts.epoch_seconds() // window_s).name("bucket")
    per_window = t.group_by(bucket).aggregate(tok=(t.input_tokens + t.output_tokens).sum())
    peak_tokens = int(per_window.tok.max().to_pyarrow().as_py())
    tokens = int(totals["inp"]) + int(totals["out"])
    seconds = max((totals["last"] - totals["first"]).total_seconds(), float(window_s))
    peak = peak_tokens / window_s
    return Workload(
        input_len=max(1, round(int(totals["inp"]) / totals["requests"])),
        output_len=max(1, round(int(totals["out"]) / totals["requests"])),
        cached_share=int(totals["cached"]) / int(totals["inp"]) if totals["inp"] else 0.0,
        peak_tokens_per_s=peak,
        peak_to_average=max(1.0, peak / (tokens / seconds)),
    )


__all__ = ["measured_workload"]
