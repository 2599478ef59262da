"""Split an amount to the cent by weights so that the parts add up exactly.

Largest-remainder method: each part is floor(amount x w / W) to the cent; the cents left over
go one each to the parts with the largest remainders (ties: the key order given).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
CENT = Decimal("0.01")


def split_cents(amount: Decimal, weights: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """Parts of `amount` (a whole number of cents) proportional to `weights` (>= 0).

    With no positive weight the split is even. sum(parts) == amount exactly.
    """
    keys = list(weights)
    if not keys:
        return {}
    w = {k: max(Decimal(0), weights[k]) for k in keys}
    total = sum(w.values(), Decimal(0))
    if total == 0:
        w, total = dict.fromkeys(keys, Decimal(1)), Decimal(len(keys))
    sign = -1 if amount < 0 else 1
    whole = abs(amount)
    exact = {k: whole * w[k] / total for k in keys}
    parts = {k: exact[k].quantize(CENT, rounding=ROUND_FLOOR) for k in keys}
    left = int((whole - sum(parts.values(), Decimal(0))) / CENT)
    order = sorted(keys, key=lambda k: (-(exact[k] - parts[k]), keys.index(k)))
    for k in order[:left]:
        parts[k] += CENT
    return {k: sign * v for k, v in parts.items()}
