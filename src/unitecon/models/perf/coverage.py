"""How far a prediction is from what the model was calibrated on, and the band that follows.

A configuration is described by the features the calibration table can vouch for: GPU,
vendor, engine, weight and KV-cache formats, architecture (dense, MoE, MLA, windowed),
tensor-parallel size and the traffic regime (decode-heavy, balanced, prefill-heavy, long
context). A feature value fewer than `MIN_ROWS` calibration rows have is a *gap* (one row
shows the model can be right there once, not that it is right there in general).

The band on a throughput (or 1/latency) prediction is multiplicative:

    w_cal  = the 80th percentile of |log(pred/meas)| over the held-out rows of the
             leave-one-source-out validation (`data/fitted.json` "cv"; 0.25 if absent)
    w_gap  = sqrt(sum of the gaps' widths squared)       widths: `GAP_WIDTH` [log units]
    low    = exp(-(w_cal + w_gap)),  high = exp(w_cal + w_gap / 2)

The band opens more below than above when there are gaps, because the model's misses out of
its calibration set were optimistic (issue 18: MI300X +99-129%, gpt-oss +168-225%, B200 FP4
up to +89%). The widths are judgement, stated here and in `docs/perf-model.md`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

from unitecon.models.perf.catalog import Gpu, find_gpu
from unitecon.models.perf.serving import Lengths
from unitecon.models.perf.step import Deployment

# Log-width each kind of gap adds: a GPU or vendor never measured can be off 2x (MI300X),
# a format or architecture ~1.6x (gpt-oss, FP4), an engine or regime ~1.35x.
GAP_WIDTH = {
    "vendor": math.log(2.0),
    "GPU": math.log(1.6),
    "engine": math.log(1.35),
    "weights": math.log(1.6),
    "KV cache": math.log(1.2),
    "architecture": math.log(1.5),
    "tensor parallel": math.log(1.2),
    "regime": math.log(1.35),
}
DEFAULT_CAL_WIDTH = 0.25
MIN_ROWS = 2
MIN_VENDOR_SOURCES = 2


def vendor(gpu: Gpu) -> str:
    """'amd' for Instinct (MI*) parts, else 'nvidia'."""
    return gpu.vendor


def regime(lengths: Lengths) -> str:
    """Traffic regime from the request shape: long context (> 8k tokens), prefill-heavy
    (input >= 8x output), decode-heavy (output >= 4x input) or balanced."""
    if lengths.input_len + lengths.output_len > 8192:
        return "long context"
    ratio = lengths.input_len / lengths.output_len
    if ratio >= 8:
        return "prefill-heavy"
    if ratio <= 0.25:
        return "decode-heavy"
    return "balanced"


def architecture_kind(dep: Deployment) -> str:
    a = dep.arch
    kind = "MoE" if a.is_moe else "dense"
    if a.attention == "mla":
        kind += " MLA"
    if a.sliding_window:
        kind += " windowed"
    return kind


def features(dep: Deployment, engine: str, lengths: Lengths) -> dict[str, str]:
    """The configuration's value on each coverage dimension."""
    return {
        "vendor": vendor(dep.gpu),
        "GPU": dep.gpu.key,
        "engine": engine,
        "weights": dep.weights.name,
        "KV cache": dep.kv.name,
        "architecture": architecture_kind(dep),
        "tensor parallel": "TP1"
        if dep.num_gpus == 1
        else "TP>1 (GPU link)"
        if not dep.gpu.pcie_only
        else "TP>1 (PCIe)",
        "regime": regime(lengths),
    }


@cache
def _seen() -> tuple[dict[str, Counter[str]], dict[str, dict[str, set[str]]]]:
    from unitecon.models.perf import calibrate
    from unitecon.models.perf.predict import deployment

    rows: dict[str, Counter[str]] = {k: Counter() for k in GAP_WIDTH}
    sources: dict[str, dict[str, set[str]]] = {k: {} for k in GAP_WIDTH}
    for r in calibrate.rows():
        dep = deployment(r.model, find_gpu(r.gpu), r.num_gpus, r.weight_precision, r.kv_precision)
        for k, v in features(dep, r.engine, Lengths(r.input_len, r.output_len)).items():
            rows[k][v] += 1
            sources[k].setdefault(v, set()).add(r.source_table)
    return rows, sources


def row_counts() -> dict[str, Counter[str]]:
    """How many calibration rows have each value of each dimension."""
    return _seen()[0]


def source_counts() -> dict[str, Counter[str]]:
    """How many calibration sources have each value of each dimension."""
    return {k: Counter({v: len(s) for v, s in d.items()}) for k, d in _seen()[1].items()}


def calibrated_values() -> dict[str, frozenset[str]]:
    """The values each dimension takes in at least `MIN_ROWS` calibration rows; a vendor
    also needs `MIN_VENDOR_SOURCES` sources, because its factors (`amd_*`) are fitted on its
    rows alone and one source cannot tell the vendor from that source's setup."""
    srcs = source_counts()
    return {
        k: frozenset(
            v
            for v, n in c.items()
            if n >= MIN_ROWS and (k != "vendor" or srcs[k][v] >= MIN_VENDOR_SOURCES)
        )
        for k, c in row_counts().items()
    }


@cache
def calibration_width() -> float:
    """w_cal: 80th percentile held-out |log error| stored by `scripts/fit_perf.py --cv`."""
    path = resources.files("unitecon.models.perf").joinpath("data", "fitted.json")
    try:
        cv = json.loads(path.read_text("utf-8")).get("cv", {})
    except FileNotFoundError:
        return DEFAULT_CAL_WIDTH
    return float(cv.get("p80_abs_log_error", DEFAULT_CAL_WIDTH))


@dataclass(frozen=True)
class Coverage:
    """A prediction's calibration coverage and its uncertainty band."""

    gaps: tuple[str, ...]
    """'<dimension> <value> (calibrated: ...)' for each value outside the calibration set."""
    low: float
    """Throughput may be as low as `low` x the prediction [-]."""
    high: float
    """... and as high as `high` x the prediction [-]."""

    @property
    def calibrated(self) -> bool:
        return not self.gaps

    @property
    def warning(self) -> str | None:
        if not self.gaps:
            return None
        return (
            "outside the calibration data: "
            + "; ".join(self.gaps)
            + f". Expect x{self.low:.2f} to x{self.high:.2f} of the predicted throughput."
        )


def assess(dep: Deployment, engine: str, lengths: Lengths) -> Coverage:
    """Coverage and band of a prediction for `dep` on `engine` at `lengths`."""
    known, counts = calibrated_values(), row_counts()
    gaps, widths = [], []
    for dim, value in features(dep, engine, lengths).items():
        if value not in known[dim]:
            n, k = counts[dim][value], source_counts()[dim][value]
            seen = f"{n} calibration row" if n else "no calibration row"
            if n > 1:
                seen = f"{n} calibration rows from {k} source" + ("s" if k > 1 else "")
            gaps.append(f"{dim} {value}: {seen} (calibrated: {', '.join(sorted(known[dim]))})")
            widths.append(GAP_WIDTH[dim])
    w_gap = math.sqrt(sum(w * w for w in widths))
    w_cal = calibration_width()
    return Coverage(tuple(gaps), math.exp(-(w_cal + w_gap)), math.exp(w_cal + w_gap / 2))
