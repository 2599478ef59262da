"""The calibration table as data, the model's prediction for each row, and the fitted factors.

Each row of `data/throughput-calibration.csv` (a copy of `shared/data/`) and of
`data/calibration-extra.csv` (public measurements we added, each with its URL) is replayed
with one `Efficiency` for all rows (no per-row factors), on the row's own engine. What is
compared:

- online rows at a finite request rate: time per output token (primary) and TTFT; their
  output throughput is set by the offered load (QPS x output length), so it proves nothing;
- closed-loop rows at a fixed concurrency: time per output token (primary), output tokens/s
  and TTFT (secondary);
- saturated online rows (all 500 requests at once) and offline rows: output tokens/s (primary);
  the saturated rows' inter-token latency is reported as secondary.

A row's *source* (its table or publication) is the unit of leave-one-source-out validation
(`scripts/fit_perf.py`; `held_out()` recomputes it from the stored per-fold factors).

`scripts/fit_perf.py` fits the factors and stores them in `data/fitted.json`, read by
`fitted()`.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from statistics import median
from typing import Any

from unitecon.models.perf.catalog import find_gpu
from unitecon.models.perf.engines import engine_name
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import (
    Engine,
    Lengths,
    OperatingPoint,
    at_concurrency,
    at_request_rate,
    finite_burst,
    max_throughput,
)
from unitecon.models.perf.step import Efficiency

BURST_REQUESTS = 500  # "500 requests" per the source's online table
TABLES = ("throughput-calibration.csv", "calibration-extra.csv")


@dataclass(frozen=True)
class CalibrationRow:
    """One measured configuration and its measurements."""

    id: str
    source_table: str
    model: str
    gpu: str
    num_gpus: int
    weight_precision: str
    kv_precision: str
    request_rate: float | None
    burst: bool
    concurrency: int | None
    engine: str
    source_url: str
    variable_lengths: bool
    """True when the notes say the lengths are ShareGPT-like means (not fixed)."""
    max_num_seqs: int | None
    """The engine's sequence limit when the source states it."""
    max_num_tokens: int | None
    """The engine's tokens per step when the source states (or we assume) it."""
    input_len: int
    output_len: int
    output_tok_s: float
    ttft_s: float | None
    tpot_s: float | None


@dataclass(frozen=True)
class Comparison:
    """Predicted vs measured for one metric of one row."""

    row_id: str
    source_table: str
    metric: str
    primary: bool
    measured: float
    predicted: float

    @property
    def rel_error(self) -> float:
        """predicted / measured - 1."""
        return self.predicted / self.measured - 1

    @property
    def log_ratio(self) -> float:
        return math.log(self.predicted / self.measured)


def _first_word(text: str) -> str:
    return text.split()[0]


def _ms(text: str) -> float | None:
    return float(text) / 1e3 if text else None


def _row(r: dict[str, str]) -> CalibrationRow:
    rate = re.search(r"QPS=(\w+)", r["scenario"])
    conc = re.search(r"concurrency=(\d+)", r["scenario"])
    seqs = re.search(r"max_num_seqs=(\d+)", r["scenario"])
    tokens = re.search(r"max_num_batched_tokens=(\d+)", r["scenario"])
    return CalibrationRow(
        id=r["id"],
        source_table=r["source_location"].split("(")[0].strip(),
        model=r["model"],
        gpu=r["gpu"],
        num_gpus=int(r["num_gpus"]),
        weight_precision=r["weight_precision"],
        kv_precision=_first_word(r["kv_precision"]),
        request_rate=float(rate.group(1)) if rate and rate.group(1) != "inf" else None,
        burst=bool(rate and rate.group(1) == "inf"),
        concurrency=int(conc.group(1)) if conc else None,
        engine=engine_name(r["engine"]),
        source_url=r["source_url"],
        variable_lengths="sharegpt" in r["notes"].lower(),
        max_num_seqs=int(seqs.group(1)) if seqs else None,
        max_num_tokens=int(tokens.group(1)) if tokens else None,
        input_len=int(r["input_len"]),
        output_len=int(r["output_len"]),
        output_tok_s=float(r["measured_output_tok_s_total"]),
        ttft_s=_ms(r["ttft_ms"]),
        tpot_s=_ms(r["itl_or_tpot_ms"]),
    )


@cache
def rows() -> tuple[CalibrationRow, ...]:
    """The packaged calibration tables (shared table first, then the added sources)."""
    out = []
    for name in TABLES:
        text = resources.files("unitecon.models.perf").joinpath("data", name)
        out += [_row(r) for r in csv.DictReader(text.read_text("utf-8").splitlines())]
    return tuple(out)


def sources() -> list[str]:
    """The distinct sources (tables or publications) of the calibration rows, in order."""
    return list(dict.fromkeys(r.source_table for r in rows()))


def predict_row(
    row: CalibrationRow, eff: Efficiency, engine: Engine | None = None
) -> OperatingPoint:
    """The model's operating point for a row's configuration and scenario."""
    engine = engine or Engine(
        name=row.engine, max_batch=row.max_num_seqs, max_num_tokens=row.max_num_tokens
    )
    dep = deployment(
        row.model, find_gpu(row.gpu), row.num_gpus, row.weight_precision, row.kv_precision
    )
    lengths = Lengths(row.input_len, row.output_len)
    if row.request_rate is not None:
        return at_request_rate(dep, eff, engine, lengths, row.request_rate)
    if row.concurrency is not None:
        return at_concurrency(dep, eff, engine, lengths, row.concurrency)
    if row.burst and row.variable_lengths:
        return finite_burst(dep, eff, engine, lengths, BURST_REQUESTS)
    if row.burst:
        engine = replace(engine, max_batch=min(engine.max_batch or 2048, BURST_REQUESTS))
    return max_throughput(dep, eff, engine, lengths)


def compare_row(row: CalibrationRow, eff: Efficiency) -> list[Comparison]:
    """Every measured metric of a row next to its prediction."""
    p = predict_row(row, eff)
    online = row.request_rate is not None
    closed = row.concurrency is not None
    out = []
    if not online:
        out.append(("output_tok_s", not closed, row.output_tok_s, p.output_tok_s))
    if row.tpot_s:
        out.append(("tpot_s", online or closed, row.tpot_s, p.tpot_s))
    if (online or closed) and row.ttft_s:
        out.append(("ttft_s", False, row.ttft_s, p.ttft_s))
    return [Comparison(row.id, row.source_table, *c) for c in out]


def compare_all(eff: Efficiency, only: set[str] | None = None) -> list[Comparison]:
    """Comparisons for every row, or for the rows of the sources in `only`."""
    return [
        c
        for row in rows()
        if only is None or row.source_table in only
        for c in compare_row(row, eff)
    ]


def summary(comparisons: list[Comparison]) -> tuple[float, float, str]:
    """(median |error|, worst max(ratio, 1/ratio), worst row id) over the given comparisons."""
    worst = max(comparisons, key=lambda c: abs(c.log_ratio))
    return (
        median(abs(c.rel_error) for c in comparisons),
        math.exp(abs(worst.log_ratio)),
        worst.row_id,
    )


@cache
def calibrated_gpus() -> frozenset[str]:
    """Keys of the GPUs the calibration table measured."""
    return frozenset(find_gpu(r.gpu).key for r in rows())


def _stored() -> dict[str, Any]:
    path = resources.files("unitecon.models.perf").joinpath("data", "fitted.json")
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    return data


def _efficiency(stored: dict[str, Any]) -> Efficiency:
    names = {f.name for f in fields(Efficiency)}
    return Efficiency(**{k: float(v) for k, v in stored.items() if k in names})


def fold_efficiencies() -> dict[str, Efficiency]:
    """Per held-out source, the factors fitted on the other sources (`fitted.json` cv.folds)."""
    folds = _stored().get("cv", {}).get("folds", {})
    return {source: _efficiency(f) for source, f in folds.items()}


def held_out() -> list[Comparison]:
    """Leave-one-source-out comparisons recomputed from the stored per-fold factors."""
    return [c for s, eff in fold_efficiencies().items() for c in compare_all(eff, {s})]


@cache
def fitted() -> Efficiency:
    """The efficiency factors `scripts/fit_perf.py` stored in `data/fitted.json`."""
    stored = _stored()
    return _efficiency(stored["efficiency"]) if stored else Efficiency()
