"""Pricing stage: price catalog (genai-prices + overrides) applied in the engine. Never per row.

Flow: `catalog.price_table` resolves each distinct (provider, model) of the ledger once with
genai-prices' matching and expands its prices (history, time of day, tiers, cache, reasoning,
batch/flex variants, project overrides) into relational rows of per-token rates
(`rates`); `engine.priced_events` joins the events to those rows and does the arithmetic in
the engine (Ibis, DuckDB by default) in exact DECIMAL.

May import: `unitecon.ledger` (schema), `unitecon.errors`, genai-prices, Ibis, pyarrow.
"""

from unitecon.pricing.catalog import (
    PriceEntry,
    PriceKey,
    PriceTable,
    catalog_version,
    price_table,
    show_prices,
)
from unitecon.pricing.config import Discount, PriceOverride, PricingConfig, PrivateModel
from unitecon.pricing.engine import (
    MissingPrice,
    UsageMissing,
    apply_prices,
    costs,
    missing_prices,
    priced_events,
    usage_missing_calls,
)

__all__ = [
    "Discount",
    "MissingPrice",
    "PriceEntry",
    "PriceKey",
    "PriceOverride",
    "PriceTable",
    "PricingConfig",
    "PrivateModel",
    "UsageMissing",
    "apply_prices",
    "catalog_version",
    "costs",
    "missing_prices",
    "price_table",
    "priced_events",
    "show_prices",
    "usage_missing_calls",
]
