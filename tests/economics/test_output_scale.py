"""Issue 17, item 9: JSON money to the micro-dollar, unit rates to 1e-9, ratios to 1e-6,
zero as "0" (the scales of unitecon.economics.quantize, documented in docs/metrics.md)."""

from __future__ import annotations

import json
from decimal import Decimal

from unitecon.cli.output import dumps


def test_scales_in_json_text() -> None:
    obj = {
        "revenue": Decimal("0E-24"),  # zero, as the engine's DECIMAL(38, 24) gives it
        "variable_cost": Decimal("1234.5678915"),  # half-even at 1e-6: ...891|5 -> ...892
        "fixed_cost": Decimal("12.340000000000000000000000"),
        "gross_margin_pct": Decimal(
            "-6.15337251094914801645919036734693877551020408163265306122449"
        ),
        "cost_per_1k_tokens": Decimal("0.000327412345678"),  # rate: 1e-9 -> 0.000327412
        "top_cost_share": {"top_1pct": Decimal(1) / Decimal(3)},  # 0.333333 (inherits ratio)
        "lorenz": [{"customers": Decimal("0.5"), "cost": Decimal(2) / Decimal(3)}],
        "tasks": 12,
    }
    assert json.loads(dumps(obj)) == {
        "revenue": "0",
        "variable_cost": "1234.567892",
        "fixed_cost": "12.340000",
        "gross_margin_pct": "-6.153373",
        "cost_per_1k_tokens": "0.000327412",
        "top_cost_share": {"top_1pct": "0.333333"},
        "lorenz": [{"customers": "0.5", "cost": "0.666667"}],  # 0.5 keeps its one place
        "tasks": 12,
    }


def test_large_money_has_no_exponent() -> None:
    assert json.loads(dumps({"total": Decimal("1.2E+6")})) == {"total": "1200000"}
    assert json.loads(dumps({"fee": Decimal("2.10")})) == {"fee": "2.10"}
