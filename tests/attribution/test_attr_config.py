"""Project-file sections: valid shapes, errors naming file:line and the fix, the public API."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import unitecon.attribution as attribution
from unitecon.attribution import hourly_cost
from unitecon.config import Project, parse
from unitecon.errors import ConfigError

DEMO = Path(attribution.__file__).parent / "demo_config.yaml"


def test_demo_sections_validate() -> None:
    p = Project.model_validate(yaml.safe_load(DEMO.read_text()))
    assert p.endpoints and p.unit_prices and p.fixed_costs
    assert hourly_cost(p.endpoints["llama-70b-h100"]) == Decimal("4.20")  # 2 x $2.10 reserved


def test_owned_endpoint_hourly_cost() -> None:
    """(292,000 - 0) / (48 x 730) + 8 kW x 1.4 x $0.10 = 8.333... + 1.12 [USD/h]."""
    p = parse(
        "endpoints:\n  own: {gpu: H100, gpu_count: 8, capital_cost: 292000, life_months: 48,"
        " power_kw: 8, pue: 1.4, usd_per_kwh: 0.10}\n"
    )
    h = hourly_cost(p.endpoints["own"])
    assert abs(h - (Decimal(292000) / (48 * 730) + Decimal("1.12"))) < Decimal("1e-40")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("endpoints:\n  e:\n    gpu: H100\n    gpu_count: 1\n", 3, "either `hourly`"),
        (
            "endpoints:\n  e: {gpu: H100, gpu_count: 1, hourly: {spot: 1}, billing: reserved}\n",
            2,
            "has no price",
        ),
        ("unit_prices:\n  - {unit_type: x}\n", 2, "exactly one price"),
        ("fixed_costs:\n  - {name: x, amount: 5}\n", 2, "needs `start`"),
        ("fixed_costs:\n  - {name: x, monthly: 5, driver: metric}\n", 2, "metric: COLUMN"),
        # a metric that names no numeric event column (was a KeyError at report time)
        (
            "fixed_costs:\n  - {name: x, monthly: 5, driver: metric, metric: gpu_hours}\n",
            2,
            "`metric: gpu_hours` is not a numeric event column; use one of",
        ),
        (
            "fixed_costs:\n  - {name: x, monthly: 5, driver: metric, metric: customer_id}\n",
            2,
            "not a numeric event column",
        ),
        ("fixed_costs:\n  - {name: x, monthly: 5, feature: a, agent: b}\n", 2, "not both"),
        ("allocation: {idle: hide}\n", 1, "idle"),
        ("fixed_costs:\n  - {name: x, monthly: 5, drvier: tasks}\n", 2, "drvier"),
    ],
)
def test_errors_name_line_and_fix(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(text, "p.yaml")
    assert f"p.yaml:{line}" in str(e.value)
    assert words in str(e.value)


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(attribution) if not n.startswith("_")}
    assert public == set(attribution.__all__)
    for name in attribution.__all__:
        assert getattr(attribution, name) is not None
