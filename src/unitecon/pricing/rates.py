"""One genai-prices `ModelPrice` as per-token rates on the ledger's token columns.

genai-prices prices *leaf* counts: each priced unit pays for its count minus the counts of
the more specific priced units below it (`decompose.compute_leaf_values`). For a model that
prices `input_mtok`, `cache_read_mtok` and `cache_write_mtok`::

    cost_in = p_in * (input - cache_read - cache_write) + p_cr * cache_read + p_cw * cache_write

Leaf counts are linear in the reported counts, so the cost of one event is

    cost_d = sum_f tokens_f * rate[d, f] + rate[d, request]        [USD]

with `rate[d, f] = sum_u price_u * coef_u[f] / per_u` over the priced units `u` of direction
`d` (input, output, other) and `coef_u[f]` in {-1, 0, 1}. This module computes those rates
exactly (Decimal) from the ledger's six token columns; rows of `TieredPrices` become bands
of total `input_tokens` with a cliff (`input_tokens > start` pays the tier price on every
token of that unit), as `types.calc_unit_price` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import cache

from genai_prices.data_units import unit_data
from genai_prices.types import ModelPrice, TieredPrices
from genai_prices.units import UnitDef, UnitRegistry
from genai_prices.validation import validate_priced_units

#: The ledger's token columns, and the genai-prices usage key each one reports.
TOKEN_COLUMNS: Mapping[str, str] = {
    "input_tokens": "input_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "cache_write_tokens": "cache_write_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "output_tokens": "output_tokens",
    "output_reasoning_tokens": "reasoning_tokens",
}
#: Terms of a rate: one per token column, plus `request` (a fixed amount per event).
TERMS = (*TOKEN_COLUMNS.values(), "request")
DIRECTIONS = ("input", "output", "other")
#: Column name of each rate in the price table: `<direction>__<term>`.
RATE_COLUMNS = tuple(f"{d}__{t}" for d in DIRECTIONS for t in TERMS)
#: Upper bound of `input_tokens` in the last band (exclusive of nothing real).
INPUT_MAX = 2**62
#: Decimal places of a rate [USD per token]; genai-prices has prices with 18 places per Mtok.
RATE_SCALE = 24


class RateError(ValueError):
    """A price that cannot be turned into exact per-token rates."""


@dataclass(frozen=True)
class Band:
    """Rates that apply when `lo < input_tokens <= hi`."""

    lo: int
    hi: int
    rates: tuple[tuple[str, Decimal], ...]  # (RATE_COLUMN, USD per token or per event), non-zero

    def label(self, tiered: bool) -> str:
        if not tiered:
            return ""
        if self.lo < 0:
            return f"input <= {self.hi:,} tokens"
        return f"tier input > {self.lo:,} tokens"


@cache
def registry() -> UnitRegistry:
    """genai-prices' unit registry (the same data its `calc_price` uses)."""
    return UnitRegistry(unit_data)


def priced_units(price: ModelPrice) -> list[tuple[UnitDef, Decimal | TieredPrices]]:
    """The registered units `price` prices, validated as genai-prices validates them."""
    reg = registry()
    out = []
    for key, value in price.__dict__.items():
        if key.startswith("_") or value is None:
            continue
        try:
            out.append((reg.unit_for_price_key(key), value))
        except KeyError:
            continue  # genai-prices warns and ignores unknown price keys
    try:
        validate_priced_units([u for u, _ in out], reg)
    except ValueError as e:
        raise RateError(str(e)) from e
    return out


def _leaf_coefficients(units: list[UnitDef]) -> dict[str, dict[str, int]]:
    """Per priced unit: its leaf count as {token column: coefficient}, as
    `decompose.compute_leaf_values` computes it (most specific units first)."""
    ordered = sorted(units, key=lambda u: (-len(u.dimensions), u.usage_key))
    leaves: dict[str, dict[str, int]] = {}
    for unit in ordered:
        column = TOKEN_COLUMNS.get(unit.usage_key)
        coef: dict[str, int] = {column: 1} if column else {}
        for other in ordered:
            if other is not unit and unit.dimensions.items() <= other.dimensions.items():
                for col, c in leaves[other.usage_key].items():
                    coef[col] = coef.get(col, 0) - c
        leaves[unit.usage_key] = {c: v for c, v in coef.items() if v}
    return leaves


def _price_at(value: Decimal | TieredPrices, input_tokens: int) -> Decimal:
    if not isinstance(value, TieredPrices):
        return value
    for tier in reversed(value.tiers):
        if input_tokens > tier.start:
            return Decimal(tier.price)
    return Decimal(value.base)


def tier_starts(price: ModelPrice) -> list[int]:
    starts = {
        t.start for v in price.__dict__.values() if isinstance(v, TieredPrices) for t in v.tiers
    }
    return sorted(starts)


def bands(price: ModelPrice) -> list[Band]:
    """The per-token rates of `price`, one band per tier interval of `input_tokens`."""
    units = priced_units(price)
    leaves = _leaf_coefficients([u for u, _ in units if u.usage_key != "requests"])
    edges = [-1, *tier_starts(price), INPUT_MAX]
    out = []
    for lo, hi in itertools.pairwise(edges):
        rates: dict[str, Decimal] = {}
        with localcontext() as ctx:
            ctx.prec = 80
            for unit, value in units:
                p = _price_at(value, lo + 1)
                direction = unit.dimensions.get("direction", "other")
                terms = {"request": 1} if unit.usage_key == "requests" else leaves[unit.usage_key]
                for term, c in terms.items():
                    col = f"{direction}__{term}"
                    rates[col] = rates.get(col, Decimal(0)) + p * c / unit.per
        out.append(Band(lo, hi, tuple((k, _exact(k, v)) for k, v in sorted(rates.items()) if v)))
    return out


def _exact(column: str, rate: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80
        q = rate.quantize(Decimal(1).scaleb(-RATE_SCALE))
    if q != rate:
        raise RateError(f"rate {column} = {rate} USD needs more than {RATE_SCALE} decimal places")
    return q
