"""Non-token unit prices, applied in the engine by a join (never a per-row Python loop).

A configured `UnitPrice` prices either a `unit_type` (cost = units x price per unit) or a
model's input tokens (embeddings: cost = input_tokens x usd_per_mtok / 10^6). Rows the pricing
stage marked `price_status = 'unit'` take a unit-type price; a model price also prices rows it
left `missing` (a private embedding model). Rows no price matches stay unpriced.

Price per unit [USD/unit] = numerator / per, where per is 1, 1,000 (usd_per_1000), 3,600
(usd_per_hour on seconds) or 10^6 (usd_per_mtok); it is rounded to 24 places (exact for
every per except 3,600, where the error is below 5e-25 USD per second).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.config import UnitPrice
from unitecon.attribution.frame import CTX, MONEY, QTY, QUANTUM, memtable

_SCHEMA = {"unit_type": "string", "usd_per_unit": MONEY}
_MODEL_SCHEMA = {"model": "string", "usd_per_token": MONEY}


def per_unit(p: UnitPrice) -> Decimal:
    """Price of one unit [USD/unit] = numerator / per, rounded half-even to 1e-24."""
    num, per = p.price
    return CTX.divide(num, Decimal(per)).quantize(QUANTUM, rounding="ROUND_HALF_EVEN")


def unit_price_table(prices: Sequence[UnitPrice]) -> Any:
    """unit_type -> usd_per_unit [USD/unit] (the last entry wins on duplicates)."""
    rows = {p.unit_type: per_unit(p) for p in prices if p.unit_type is not None}
    return memtable([{"unit_type": k, "usd_per_unit": v} for k, v in rows.items()], _SCHEMA)


def model_price_table(prices: Sequence[UnitPrice]) -> Any:
    """model -> usd_per_token [USD/input token]."""
    rows = {p.model: per_unit(p) for p in prices if p.model is not None}
    return memtable([{"model": k, "usd_per_token": v} for k, v in rows.items()], _MODEL_SCHEMA)


def apply_unit_prices(t: Any, prices: Sequence[UnitPrice]) -> Any:
    """`t` with `cost`/`priced`/`price_status`/`price_rule` set where a unit price applies.

    unit rows: cost = units x usd_per_unit; model rows: cost = input_tokens x usd_per_token.
    """
    cols = t.columns
    up = unit_price_table(prices).rename(_u_type="unit_type", _u_price="usd_per_unit")
    mp = model_price_table(prices).rename(_m_model="model", _m_price="usd_per_token")
    j = t.left_join(up, t.unit_type == up._u_type).select(*cols, "_u_price")
    j = j.left_join(mp, j.model == mp._m_model).select(*cols, "_u_price", "_m_price")
    by_unit = (j.price_status == "unit") & j._u_price.notnull()
    by_model = j.price_status.isin(["unit", "missing"]) & j._m_price.notnull() & ~by_unit
    unit_cost = (j.units.cast(QTY) * j._u_price).cast(MONEY)
    model_cost = (j.input_tokens.cast("decimal(38,0)") * j._m_price).cast(MONEY)
    mine = by_unit | by_model
    out = j.mutate(
        cost=ibis.cases((by_unit, unit_cost), (by_model, model_cost), else_=j.cost.cast(MONEY)),
        priced=mine | j.priced,
        price_status=ibis.ifelse(mine, "unit", j.price_status),
        price_rule=ibis.cases(
            (by_unit, "unit:" + j.unit_type),
            (by_model, "unit:model:" + j.model),
            else_=j.price_rule,
        ),
    )
    return out.select(*cols).view()
