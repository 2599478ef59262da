"""Self-hosted endpoints: GPU-time cost per period, allocated to the calls it served.

Equations (all per endpoint, periods are UTC days clipped to the window and to the
endpoint's `active_from`/`active_until`):

    H [USD/h]        rented: gpu_count x usd_per_gpu_hour[billing]
                     owned:  (capital_cost - residual_value) / (life_months x 730)
                             + power_kw x pue x usd_per_kwh          (straight line, r = 0;
                             finops-notes §4 (c); 730 h/month as Infracost)
    C_p [USD]        H x active_seconds_p / 3600                     (cost of period p)
    P_p [GPU-s]      gpu_count x active_seconds_p                    (provisioned)
    g_i [GPU-s]      d_i x gpu_count / concurrency                   (one call)
    d_i [s]          duration_ms / 1000 when given and > 0, else the prefill/decode split
                     input_tokens / prefill_tokens_per_s + output_tokens / decode_tokens_per_s
    B_p [GPU-s]      sum of g_i over the period's calls              (busy)
    r_p [USD/GPU-s]  C_p / max(B_p, P_p), rounded down to 1e-18
    cost_i           g_i x r_p                                       (exact: 6 + 18 places)
    idle_p           C_p - r_p x B_p  (>= 0; all of the unused time, plus the rounding)

So sum(cost_i) + idle_p = C_p exactly, and a period busier than its provisioned GPU time
(concurrency set too low) has its cost fully allocated and no idle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.config import EndpointConfig
from unitecon.attribution.frame import (
    CTX,
    MONEY,
    QTY,
    ZERO,
    Window,
    is_leaf,
    memtable,
    q,
    utc_trunc,
)

HOURS_PER_MONTH = Decimal(730)
RATE_QUANTUM = Decimal("1e-18")


def hourly_cost(ep: EndpointConfig) -> Decimal:
    """H [USD/h] of the whole endpoint (see the module docstring)."""
    if ep.rate_kind is not None:
        return ep.gpu_count * ep.hourly[ep.rate_kind]
    assert ep.capital_cost is not None and ep.life_months is not None
    capital = CTX.divide(ep.capital_cost - ep.residual_value, ep.life_months * HOURS_PER_MONTH)
    return capital + ep.power_kw * ep.pue * ep.usd_per_kwh


@dataclass(frozen=True)
class Period:
    """One endpoint-day: provisioned, busy and idle GPU time and their cost."""

    endpoint: str
    day: dt.datetime
    provisioned_gpu_s: Decimal
    busy_gpu_s: Decimal
    cost: Decimal
    rate: Decimal  # [USD/GPU-s]

    @property
    def allocated(self) -> Decimal:
        return self.rate * self.busy_gpu_s

    @property
    def idle(self) -> Decimal:
        return self.cost - self.allocated


def active_days(ep: EndpointConfig, w: Window) -> list[tuple[dt.datetime, Decimal]]:
    """(day, active seconds) for each day of `w` the endpoint was provisioned."""
    lo = max(w.since, ep.active_from or w.since)
    hi = min(w.until, ep.active_until or w.until)
    out = []
    for start, end in w.days():
        s, e = max(start, lo), min(end, hi)
        if e > s:
            day = start.replace(hour=0, minute=0, second=0, microsecond=0)
            out.append((day, Decimal((e - s).total_seconds())))
    return out


def periods(
    endpoints: Mapping[str, EndpointConfig],
    busy: Mapping[tuple[str, dt.datetime], Decimal],
    w: Window,
) -> list[Period]:
    """Cost, provisioned and busy GPU time, and rate of every active endpoint-day."""
    out = []
    for name, ep in sorted(endpoints.items()):
        h = hourly_cost(ep)
        for day, secs in active_days(ep, w):
            cost = q(CTX.divide(h * secs, Decimal(3600)))
            prov = ep.gpu_count * secs
            b = busy.get((name, day), ZERO)
            denom = max(b, prov)
            rate = CTX.divide(cost, denom).quantize(RATE_QUANTUM, context=CTX) if denom else ZERO
            out.append(Period(name, day, prov, b, cost, rate))
    return out


def _params(endpoints: Mapping[str, EndpointConfig]) -> Any:
    rows = [
        {
            "_ep": name,
            "_gpus": float(ep.gpu_count),
            "_conc": float(ep.concurrency),
            "_pre": float(ep.prefill_tokens_per_s),
            "_dec": float(ep.decode_tokens_per_s),
        }
        for name, ep in endpoints.items()
    ]
    sch = {"_ep": "string", "_gpus": "float64", "_conc": "float64"}
    return memtable(rows, {**sch, "_pre": "float64", "_dec": "float64"})


def with_gpu_seconds(t: Any, endpoints: Mapping[str, EndpointConfig]) -> Any:
    """Add `gpu_s` (DECIMAL, null off endpoints), `prefill_s`, `decode_s` and `day`."""
    cols = t.columns
    p = _params(endpoints)
    j = t.left_join(p, t.endpoint == p._ep).select(*cols, *p.columns).view()
    on_ep = (j.price_status == "endpoint") & is_leaf(j) & j._ep.notnull()
    pre = j.input_tokens.cast("float64") / j._pre
    dec = j.output_tokens.cast("float64") / j._dec
    timed = j.duration_ms.notnull() & (j.duration_ms > 0)
    secs = ibis.ifelse(timed, j.duration_ms / 1000.0, pre + dec)
    gpu_s = (secs * j._gpus / j._conc).cast(QTY)
    return j.select(
        *cols,
        gpu_s=ibis.ifelse(on_ep, gpu_s, ibis.null(QTY)),
        prefill_s=ibis.ifelse(on_ep, pre, ibis.null("float64")),
        decode_s=ibis.ifelse(on_ep, dec, ibis.null("float64")),
        day=utc_trunc(j, "D"),
    )


def busy_by_day(t: Any) -> dict[tuple[str, dt.datetime], Decimal]:
    """{(endpoint, day): busy GPU-s} from a table with `gpu_s` (one query). Only a call
    with an endpoint has GPU time: said first, the engine reads those calls only."""
    busy = t.filter(t.endpoint.notnull(), t.gpu_s.notnull())
    agg = busy.group_by("endpoint", "day").agg(busy=busy.gpu_s.sum())
    rows = agg.to_pyarrow().to_pylist()
    return {(r["endpoint"], _utc(r["day"])): Decimal(r["busy"]) for r in rows}


def _utc(x: dt.datetime) -> dt.datetime:
    return x.replace(tzinfo=dt.UTC) if x.tzinfo is None else x.astimezone(dt.UTC)


def apply_endpoint_costs(t: Any, ps: list[Period]) -> Any:
    """Set `cost` = gpu_s x r_p on endpoint calls inside an active period."""
    cols = t.columns
    rates = memtable(
        [{"_ep": p.endpoint, "_day": p.day, "_rate": p.rate} for p in ps],
        {"_ep": "string", "_day": t.day.type(), "_rate": "decimal(38,18)"},
    )
    j = t.left_join(rates, (t.endpoint == rates._ep) & (t.day == rates._day))
    hit = j.gpu_s.notnull() & j._rate.notnull()
    return (
        j.mutate(
            cost=ibis.ifelse(hit, (j.gpu_s * j._rate).cast(MONEY), j.cost.cast(MONEY)),
            priced=hit | j.priced,
            price_rule=ibis.ifelse(hit, "endpoint:gpu-time", j.price_rule),
        )
        .select(*cols)
        .view()
    )
