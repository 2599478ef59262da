"""Project-file section `pricing`: overrides layered on the genai-prices catalog."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PricingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
