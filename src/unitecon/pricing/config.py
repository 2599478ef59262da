"""Project-file section `pricing`: overrides layered on the genai-prices catalog.

Everything here is data with an effective date, so changing it re-prices history at the next
query (usage is stored, cost is derived). Prices are USD; `*_mtok` is USD per million tokens.

```yaml
pricing:
  discounts:                       # negotiated percentage off list price
    - provider: anthropic
      percent: 10
      since: 2025-01-01
  models:                          # private or fine-tuned models the catalog lacks
    - provider: openai
      model: ft:gpt-4o-mini:acme:support:abc123
      since: 2025-03-01
      input_mtok: 0.30
      output_mtok: 1.20
      cache_read_mtok: 0.15
  overrides:                       # corrections of catalog prices, key by key
    - provider: openai
      model: gpt-4o
      since: 2025-05-01
      input_mtok: 2.00
```

Dates are UTC calendar dates: `since` is inclusive, `until` exclusive, as genai-prices'
`StartDateConstraint` compares the request's UTC date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: A non-negative price [USD per million tokens].
#: The dearest price a file may set per million tokens: 16x the catalog's dearest (o1-pro
#: output, $600), so a slip of the decimal point (1e30) is reported, not multiplied.
MAX_MTOK = Decimal(10_000)
Mtok = Annotated[Decimal, Field(ge=0, le=MAX_MTOK, allow_inf_nan=False)]

#: The date an override takes effect when none is given: before any ledger data.
EPOCH = date(1970, 1, 1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Dated(_Strict):
    since: date = EPOCH
    """First UTC date (inclusive) on which this entry applies. Default: always."""
    until: date | None = None
    """First UTC date (exclusive) on which it no longer applies. Default: open-ended."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.until is not None and self.until <= self.since:
            raise ValueError(f"until ({self.until}) must be after since ({self.since})")
        return self


class Discount(_Dated):
    """A percentage off every price (tokens, tiers, variants) of matching models."""

    provider: str | None = None
    """Provider as in the ledger (`openai`) or genai-prices' id; none = every provider."""
    model: str | None = None
    """Model as in the ledger or genai-prices' model id; none = every model of `provider`."""
    percent: Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]
    """Discount in percent, e.g. `12.5` pays 87.5 % of list price."""


class PrivateModel(_Dated):
    """A model priced only by this file (private or fine-tuned); it wins over the catalog.

    Several entries for the same model with different `since` form its price history. Events
    before the first `since` stay unpriced (status `missing`), never $0.
    """

    provider: str | None = None
    """Provider as in the ledger; none = any provider."""
    model: str
    """Model exactly as in the ledger (case-insensitive)."""
    input_mtok: Mtok
    """Input tokens [USD per million], cache reads and writes included unless priced below."""
    output_mtok: Mtok
    """Output tokens [USD per million], reasoning included."""
    cache_read_mtok: Mtok | None = None
    """Prompt-cache reads [USD per million]; none = charged as input."""
    cache_write_mtok: Mtok | None = None
    """Prompt-cache writes [USD per million]; none = charged as input."""


class PriceOverride(_Dated):
    """Replace some prices of a catalog model from a date on, key by key.

    Keys left out keep the catalog's value (including its tiers and variants). A replaced key
    is a flat price: it replaces the catalog's tiers and variants for that key.
    """

    provider: str | None = None
    """Provider as in the ledger or genai-prices' id; none = any provider."""
    model: str
    """Model as in the ledger or genai-prices' model id (case-insensitive)."""
    input_mtok: Mtok | None = None
    """Input tokens [USD per million]."""
    output_mtok: Mtok | None = None
    """Output tokens [USD per million]."""
    cache_read_mtok: Mtok | None = None
    """Prompt-cache reads [USD per million]."""
    cache_write_mtok: Mtok | None = None
    """Prompt-cache writes [USD per million]."""
    output_reasoning_mtok: Mtok | None = None
    """Reasoning tokens [USD per million], when priced apart from output."""

    @model_validator(mode="after")
    def _some_price(self) -> Self:
        if not self.prices():
            raise ValueError(
                "an override needs at least one price: input_mtok, output_mtok, "
                "cache_read_mtok, cache_write_mtok or output_reasoning_mtok"
            )
        return self

    def prices(self) -> dict[str, Decimal]:
        """The genai-prices price keys this override sets."""
        keys = (
            "input_mtok",
            "output_mtok",
            "cache_read_mtok",
            "cache_write_mtok",
            "output_reasoning_mtok",
        )
        return {k: v for k in keys if (v := getattr(self, k)) is not None}


class PricingConfig(_Strict):
    """Price overrides layered on the genai-prices catalog. Currency: USD."""

    discounts: list[Discount] = Field(default_factory=list)
    """Percentage discounts. When several match an event, a model-specific one beats a
    provider-wide one, which beats a global one; among equals the later entry wins."""
    models: list[PrivateModel] = Field(default_factory=list)
    """Private or fine-tuned models with their own prices (history by `since`)."""
    overrides: list[PriceOverride] = Field(default_factory=list)
    """Corrections of catalog prices from a date on; later entries win key by key."""
