"""A feature's measured token mix and peak load, for the self-host vs API comparison.

From the ledger's leaf calls of one feature (structural spans, endpoints' own GPU calls and
non-token units excluded):

    input_len       = Σ input_tokens / requests                          [tokens/request]
    output_len      = Σ output_tokens / requests                         [tokens/request]
    cached_share    = Σ cache_read_tokens / Σ input_tokens               [-]
    peak_tokens_per_s = max over `window_s` buckets of Σ(input + output) / window_s   [tokens/s]
    (sampled rows weighted by 1/sample_rate; lengths are weighted means)
    peak_to_average = peak_tokens_per_s / (Σ(input + output) / observed seconds)     [-]

The peak is the busiest window, not the average: a self-hosted fleet is sized for it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis.expr.types as ir

from unitecon.errors import UniteconError
from unitecon.ledger.schema import STRUCTURAL_OPERATIONS
from unitecon.models.selfhost import Workload


def token_mix(m: ir.Table, window_s: int = 60) -> dict[str, float]:
    """Mean lengths, cached share and peak tokens/s of the calls in `m` (the equations above;
    sampled rows weighted by 1/sample_rate). Keys: n, input, output, cached,
    peak_tokens_per_s, average_tokens_per_s."""
    w = 1 / m.sample_rate
    r = (
        m.aggregate(
            n=m.count(),
            i=(m.input_tokens * w).sum() / w.sum(),
            o=(m.output_tokens * w).sum() / w.sum(),
            c=m.cache_read_tokens.sum() / m.input_tokens.sum().nullif(0),
            tok=((m.input_tokens + m.output_tokens) * w).sum(),
            first=m.ts.min(),
            last=m.ts.max(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    bucket = (m.ts.epoch_seconds() // window_s).name("bucket")
    per_window = m.group_by(bucket).aggregate(tok=((m.input_tokens + m.output_tokens) * w).sum())
    peak = per_window.aggregate(p=per_window.tok.max()).to_pyarrow().to_pylist()[0]["p"]
    seconds = max((r["last"] - r["first"]).total_seconds(), float(window_s)) if r["n"] else 1.0
    return {
        "n": float(r["n"] or 0),
        "input": float(r["i"] or 0),
        "output": float(r["o"] or 0),
        "cached": float(r["c"] or 0),
        "peak_tokens_per_s": float(peak or 0) / window_s,
        "average_tokens_per_s": float(r["tok"] or 0) / seconds,
    }


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
    mix = token_mix(t, window_s)
    if not mix["n"]:
        events = source.ibis().table("events")
        names = events.select("feature").distinct().to_pyarrow().column(0).to_pylist()
        features = sorted(f for f in names if f)
        raise UniteconError(
            f"No token traffic for feature {feature!r} in the ledger. "
            f"Features: {', '.join(features) or '(none)'}"
        )
    peak = mix["peak_tokens_per_s"]
    return Workload(
        input_len=max(1, round(mix["input"])),
        output_len=max(1, round(mix["output"])),
        cached_share=mix["cached"],
        peak_tokens_per_s=peak,
        peak_to_average=max(1.0, peak / mix["average_tokens_per_s"]),
    )
