"""The project file (`unitecon.yaml`): what the ledger cannot know.

Price overrides, self-hosted endpoints, unit prices, fixed costs, plans and customers,
budgets. Validated by pydantic with `extra='forbid'`; errors name the file, line and field.
Every section has a default, so no file is needed for the demo.

Found at `--config PATH`, else `$UNITECON_CONFIG`, else `./unitecon.yaml` if present, else
`$UNITECON_HOME/unitecon.yaml` if present.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from unitecon.attribution.config import (
    AllocationConfig,
    EndpointConfig,
    FixedCost,
    UnitPrice,
)
from unitecon.billing.config import ReconcileConfig
from unitecon.economics.revenue_config import RevenueConfig
from unitecon.engine import EngineSettings
from unitecon.errors import ConfigError
from unitecon.governance.config import GovernanceConfig
from unitecon.pricing.config import PricingConfig
from unitecon.yamlfile import parse_model, read_text


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SelfHostConfig(Strict):
    """People who would run a self-hosted fleet (`selfhost compare` adds their cost)."""

    mlops_fte: float = Field(default=0.0, ge=0)
    """MLOps full-time equivalents to run the fleet [FTE]."""
    loaded_salary_annual: float = Field(default=250_000.0, ge=0)
    """Salary with benefits and overhead [USD/FTE-year]."""


class Project(Strict):
    """The whole project file."""

    pricing: PricingConfig = Field(default_factory=PricingConfig)
    """Price overrides: discounts, private models, effective dates."""
    endpoints: dict[str, EndpointConfig] = Field(default_factory=dict)
    """Self-hosted deployments by name (the events' `endpoint`), priced by GPU time."""
    unit_prices: list[UnitPrice] = Field(default_factory=list)
    """Prices of non-token units (web searches, vector queries, review seconds, ...)."""
    fixed_costs: list[FixedCost] = Field(default_factory=list)
    """One-time and recurring costs, amortized and allocated by a driver."""
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    """How shared costs (idle GPU time) are shown."""
    revenue: RevenueConfig = Field(default_factory=RevenueConfig)
    """Plans, customers, invoice lines and currency rates (margins, collapse threshold)."""
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    """Monthly budgets, anomaly and runaway-task thresholds."""
    selfhost: SelfHostConfig = Field(default_factory=SelfHostConfig)
    """People cost of running a self-hosted fleet."""
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    """Bill reconciliation: tolerances and the capture-rate alert threshold."""
    engine: EngineSettings = Field(default_factory=EngineSettings)
    """Where the analytics run: the embedded DuckDB ledger (default) or Spark over a lake."""


def parse(text: str, source: str = "<config>") -> Project:
    """Validate a project file's text; raise ConfigError naming file:line and field."""
    return parse_model(Project, text, source, "project file")


def find(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        if not explicit.exists():
            raise ConfigError(f"Project file {explicit} does not exist.")
        return explicit
    env = os.environ.get("UNITECON_CONFIG")
    if env:
        return find(Path(env))
    from unitecon.ledger.store import home

    for candidate in (Path("unitecon.yaml"), home() / "unitecon.yaml"):
        if candidate.exists():
            return candidate
    return None


def load(explicit: Path | None = None) -> Project:
    """Load the project file, or the defaults when there is none."""
    path = find(explicit)
    if path is None:
        return Project()
    return parse(read_text(path), str(path))
