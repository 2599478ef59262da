"""Catalog: resolution once per (provider, model), rule ids, versions, `prices show`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import genai_prices
import pytest
from genai_prices.types import ModelPrice, TieredPrices
from pydantic import ValidationError

import unitecon.pricing as pricing
from unitecon.errors import LookupFailed
from unitecon.pricing import PricingConfig, catalog, priced_events, show_prices


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(pricing) if not n.startswith("_")} - {
        "catalog",
        "config",
        "engine",
        "rates",
        "snapshot",
    }
    assert public == set(pricing.__all__)


def test_resolves_once_per_model_and_never_calls_calc_price(
    ledger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ts = datetime(2025, 8, 1, tzinfo=UTC)
    rows = [
        {
            "ts": ts,
            "provider": p,
            "model": m,
            "input_tokens": i,
            "batch": i % 2 == 0,
            "service_tier": "flex" if i % 3 == 0 else None,
        }
        for i in range(600)
        for p, m in [("openai", "o3"), ("google", "gemini-2.5-pro"), ("acme", "x")]
    ]
    led = ledger(rows)
    calls: list[tuple[str, str]] = []
    resolve = catalog.resolve

    def spy(provider: str, model: str, config: PricingConfig) -> Any:
        calls.append((provider, model))
        return resolve(provider, model, config)

    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("calc_price must not run per event")

    monkeypatch.setattr(catalog, "resolve", spy)
    monkeypatch.setattr(ModelPrice, "calc_price", boom)
    out = priced_events(led).to_pyarrow()
    assert out.num_rows == 1800
    assert sorted(calls) == [("acme", "x"), ("google", "gemini-2.5-pro"), ("openai", "o3")]


def test_catalog_version_names_package_and_data() -> None:
    v = catalog.catalog_version()
    assert v.startswith(f"genai-prices {genai_prices.__version__} data:")
    with_override = catalog.catalog_version(
        PricingConfig.model_validate({"discounts": [{"percent": 5}]})
    )
    assert with_override.startswith(v) and " overrides:" in with_override


def test_show_prices_history_variants_and_tiers() -> None:
    o3 = [e for e in show_prices("o3", "openai") if not e.context]
    assert [(e.valid_from, e.valid_to) for e in o3] == [
        (None, date(2025, 6, 10)),
        (date(2025, 6, 10), None),
    ]
    # o3: $10/$40 per Mtok, then $2/$8 from 2025-06-10 (genai-prices' published history)
    assert (o3[0].prices["input_mtok"], o3[0].prices["output_mtok"]) == (10, 40)
    assert (o3[1].prices["input_mtok"], o3[1].prices["output_mtok"]) == (2, 8)
    flex = [e for e in show_prices("o3", "openai") if e.context == {"service_tier": "flex"}]
    assert flex[-1].prices["input_mtok"] == 1 and "flex variant" in flex[-1].rule
    gem = show_prices("gemini-2.5-pro", "google")[0]
    tiered = gem.prices["input_mtok"]
    assert isinstance(tiered, TieredPrices) and tiered.tiers[0].start == 200_000
    assert gem.as_dict()["prices"]["input_mtok"] == {"base": "1.25", "tiers": [[200000, "2.5"]]}
    deepseek = show_prices("deepseek-chat", "deepseek")
    assert {e.time_of_day for e in deepseek} == {(0, 1800), (1800, 59400), (59400, 86400)}


def test_show_prices_unknown_model_suggests() -> None:
    with pytest.raises(LookupFailed, match="Did you mean"):
        show_prices("gpt-4o-mni", "openai")


def test_show_prices_with_override() -> None:
    config = PricingConfig.model_validate(
        {"overrides": [{"model": "gpt-4o", "since": "2025-05-01", "input_mtok": "2"}]}
    )
    entries = [e for e in show_prices("gpt-4o", "openai", config) if not e.context]
    assert [e.prices["input_mtok"] for e in entries] == [Decimal("2.5"), Decimal("2")]
    assert entries[1].valid_from == date(2025, 5, 1)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"discounts": [{"percent": 0}]}, "greater than 0"),
        ({"discounts": [{"percent": 101}]}, "less than or equal to 100"),
        ({"discounts": [{"percent": 5, "since": "2025-02-01", "until": "2025-01-01"}]}, "after"),
        ({"overrides": [{"model": "gpt-4o"}]}, "at least one price"),
        ({"models": [{"model": "m", "input_mtok": 1}]}, "output_mtok"),
        ({"models": [{"model": "m", "input_mtok": -1, "output_mtok": 1}]}, "greater than or"),
        ({"rebates": []}, "Extra inputs are not permitted"),
    ],
)
def test_config_rejects(data: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        PricingConfig.model_validate(data)


def test_every_config_field_has_a_docstring() -> None:
    import ast
    import inspect

    from unitecon.pricing import config

    tree = ast.parse(inspect.getsource(config))
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        body = cls.body
        for i, node in enumerate(body):
            if isinstance(node, ast.AnnAssign) and not cls.name.startswith("_Strict"):
                nxt = body[i + 1] if i + 1 < len(body) else None
                assert isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant), (
                    f"{cls.name}.{ast.unparse(node.target)} has no docstring"
                )
