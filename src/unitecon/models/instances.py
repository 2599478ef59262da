"""GPU instances as clouds rent them: whole nodes at a node price, under four pricing models.

`data/instances.csv` lists the big three clouds' shapes (GPU count per node, node $/hour
on demand, and where published the 1-year and 3-year reserved and spot rates, each with a
region). Every row says where its prices come from (`price_status`):

- `sourced`: the figures appear at `source` (a URL), valid as of `price_date`, and we read
  them there on `seen`;
- `unsourced`: no source was seen for the figures (list prices recalled, not verified);
  `source` is empty and `check_at` names the provider's price page to verify them on.

Per-GPU marketplaces (Lambda, RunPod, ...) rent 1, 2, 4 or 8 GPUs at the per-GPU mid price
of the GPU catalog (`perf/data/gpus.csv`, a copy of `shared/data/gpus.csv`), whose
`price_source` / `price_date` columns carry their sources (or 'unverified').

A blank rate is derived from the on-demand one with `COMMITMENT` (the ratios of AWS's
p5.48xlarge row: 1y 57.63/98.32 = 0.586, 3y 43.16/98.32 = 0.439; spot 0.35, an assumption).

Fleet sizing (fin.ai, "Cost of Serving LLMs", 2025: reserved instances sized to serve the
peak token rate):

    replicas  = ceil(peak tokens/s / (replica tokens/s · target utilization))
    nodes     = ceil(replicas / floor(node GPUs / GPUs per replica))
    monthly   = nodes · node $/h · 730 h                               [USD/month]
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from unitecon.errors import InputError
from unitecon.models.perf.catalog import gpus

PLANS = ("on_demand", "reserved_1y", "reserved_3y", "spot")
COMMITMENT = {
    "on_demand": Decimal(1),
    "reserved_1y": Decimal("0.586"),
    "reserved_3y": Decimal("0.439"),
    "spot": Decimal("0.35"),
}
HOURS_PER_MONTH = Decimal(730)


@dataclass(frozen=True)
class Shape:
    """One rentable node."""

    cloud: str
    instance: str
    gpu_id: str
    gpus: int
    usd_h: dict[str, Decimal]
    """Plan -> node price [USD/node-hour]; `derived` names the plans computed, not listed."""
    derived: tuple[str, ...]
    region: str
    price_date: str
    source: str
    price_status: str = "unsourced"
    """'sourced' (figures seen at `source`) or 'unsourced' (module docstring)."""
    seen: str = ""
    """Date the figures were read at `source` (sourced rows)."""
    check_at: str = ""
    """The provider's price page to verify an unsourced row on."""

    def per_gpu(self, plan: str) -> Decimal:
        return self.usd_h[plan] / self.gpus


def _prices(row: dict[str, str]) -> tuple[dict[str, Decimal], tuple[str, ...]]:
    on_demand = Decimal(row["on_demand_usd_h"])
    out, derived = {}, []
    for plan in PLANS:
        given = row.get(f"{plan}_usd_h", "")
        if given:
            out[plan] = Decimal(given)
        else:
            out[plan] = on_demand * COMMITMENT[plan]
            derived.append(plan)
    return out, tuple(derived)


PRICE_STATUSES = ("sourced", "unsourced")


def _check_row(line: int, r: dict[str, str]) -> None:
    """A sourced row names its URL and the dates; an unsourced one says where to check."""
    where = f"instances.csv line {line} ({r['instance']})"
    if r["price_status"] not in PRICE_STATUSES:
        raise InputError(f"{where}: price_status must be one of {PRICE_STATUSES}")
    if r["price_status"] == "sourced" and not (
        r["source"].startswith("http") and r["seen"] and r["price_date"]
    ):
        raise InputError(f"{where}: a sourced price needs source (URL), price_date and seen")
    if r["price_status"] == "unsourced" and (r["source"] or not r["check_at"]):
        raise InputError(f"{where}: an unsourced price has no source but a check_at page")


@cache
def cloud_shapes() -> tuple[Shape, ...]:
    """The packaged cloud shapes."""
    text = resources.files("unitecon.models").joinpath("data", "instances.csv")
    out = []
    for line, r in enumerate(csv.DictReader(text.read_text("utf-8").splitlines()), start=2):
        _check_row(line, r)
        prices, derived = _prices(r)
        out.append(
            Shape(
                r["cloud"],
                r["instance"],
                r["gpu"],
                int(r["gpus"]),
                prices,
                derived,
                r["region"],
                r["price_date"],
                r["source"],
                r["price_status"],
                r["seen"],
                r["check_at"],
            )
        )
    return tuple(out)


def marketplace_shapes() -> list[Shape]:
    """1/2/4/8-GPU rentals at the GPU catalog's mid per-GPU price, all plans derived."""
    out = []
    for g in gpus().values():
        if g.price_low_usd_h is None or g.price_high_usd_h is None:
            continue
        mid = (g.price_low_usd_h + g.price_high_usd_h) / 2
        for n in (1, 2, 4, 8):
            prices = {p: mid * n * COMMITMENT[p] for p in PLANS}
            derived = tuple(p for p in PLANS if p != "on_demand")
            out.append(
                Shape(
                    "marketplace",
                    f"{n}x {g.key}",
                    g.key,
                    n,
                    prices,
                    derived,
                    "",
                    g.price_date,
                    g.price_source if g.price_status == "sourced" else "",
                    g.price_status,
                )
            )
    return out


def shapes(clouds: tuple[str, ...] | None = None) -> list[Shape]:
    """Cloud and marketplace shapes, optionally only those of `clouds`."""
    every = [*cloud_shapes(), *marketplace_shapes()]
    if clouds is None:
        return every
    known = {s.cloud for s in every}
    bad = set(clouds) - known
    if bad:
        raise InputError(f"unknown cloud(s) {sorted(bad)}; use {', '.join(sorted(known))}")
    return [s for s in every if s.cloud in clouds]


def nodes_for_peak(
    peak_tokens_per_s: float,
    replica_tokens_per_s: float,
    gpus_per_replica: int,
    node_gpus: int,
    target_utilization: float,
) -> tuple[int, int]:
    """(replicas, nodes) for the peak at the target utilization (module docstring)."""
    if not 0 < target_utilization <= 1:
        raise InputError(f"target utilization must be in (0, 1], got {target_utilization}")
    per_node = node_gpus // gpus_per_replica
    if per_node < 1:
        raise InputError(f"{gpus_per_replica} GPUs per replica do not fit a {node_gpus}-GPU node")
    need = peak_tokens_per_s / (replica_tokens_per_s * target_utilization)
    replicas = max(1, math.ceil(need - 1e-9))
    return replicas, math.ceil(replicas / per_node)


def monthly(nodes: int, node_usd_h: Decimal) -> Decimal:
    """Fleet cost [USD/month] = nodes · node $/h · 730 h."""
    return nodes * node_usd_h * HOURS_PER_MONTH
