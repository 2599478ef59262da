"""A sampled event's cost times its weight never overflows the money type."""

from __future__ import annotations

from decimal import Decimal

import ibis
import pyarrow as pa

from unitecon.attribution.frame import weighted


def test_big_costs_times_big_weights_stay_exact() -> None:
    # $123,456,789.123456789012345678 sampled at 1/2 and at 1/1000: x2 and x1000 by hand.
    # The old product DECIMAL(38,24) x DECIMAL(18,6) had 8 integer digits and overflowed.
    cost = Decimal("123456789.123456789012345678")
    t = ibis.memtable(
        pa.table(
            {
                "cost": pa.array([cost, cost], pa.decimal128(38, 24)),
                "rate": pa.array([0.5, 0.001], pa.float64()),
            }
        )
    )
    got = t.select(w=weighted(t.cost, t.rate)).to_pyarrow().column("w").to_pylist()
    assert got == [
        Decimal("246913578.246913578024691356"),
        Decimal("123456789123.456789012345678000"),
    ]
