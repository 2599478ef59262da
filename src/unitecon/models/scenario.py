"""Scenario and TCO files: YAML validated with ``extra='forbid'``, errors as ``file:line``.

A what-if scenario is a list of transformations replayed, in order, on a period of the
ledger's real traffic (`unitecon.economics.replay`); the ledger is never written::

    name: cheaper support
    since: 2026-10-01            # optional period, UTC dates, until exclusive
    until: 2026-11-01
    transformations:
      - kind: route              # move matching calls to another model
        match: {feature: [support], max_input_tokens: 4000, share: 0.6}
        to_model: gpt-4.1-mini
        to_provider: openai
        output_factor: 1.15      # the new model writes 15 % more
        rejection_rate_change: 0.03   # 3 % more outputs rejected and redone on the old model
      - kind: prompt_cache       # uncached input tokens that become cache reads / writes
        match: {feature: [support]}
        read_share: 0.5
        write_share: 0.1
      - kind: semantic_cache     # hits skip the model call and pay a lookup
        match: {feature: [search]}
        hit_rate: 0.18
        lookup_usd_per_1000: 0.05
      - kind: batch              # batch or flex price variants
        match: {feature: [reports]}
        tier: batch
      - kind: self_host          # serve a feature on own GPUs sized for its real peak
        match: {feature: [summarize]}
        model: llama-3.1-70b
        gpu: H100
        gpus_per_replica: 8
        usd_per_gpu_hour: 2.2
      - kind: price_change       # a provider's price moves
        model: gpt-4.1
        factor: 0.8
      - kind: growth             # usage grows
        match: {feature: [support]}
        factor: 1.3

Every `match` selects calls by feature, customer, agent, operation, provider, model, input
length and tags (all given criteria must hold), then a deterministic `share` of them by a
hash of the event id, so the same scenario always picks the same calls.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

Share = Annotated[Decimal, Field(ge=0, le=1)]
M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Match(_Strict):
    """Which calls a transformation applies to (all given criteria hold)."""

    feature: list[str] | None = None
    """Product features."""
    customer: list[str] | None = None
    """Customer ids."""
    agent: list[str] | None = None
    """Agent names."""
    operation: list[str] | None = None
    """Operations (chat, text_completion, embeddings, ...)."""
    provider: list[str] | None = None
    """Providers."""
    model: list[str] | None = None
    """Models."""
    task_type: list[str] | None = None
    """Task types."""
    min_input_tokens: int | None = Field(default=None, ge=0)
    """At least this many input tokens."""
    max_input_tokens: int | None = Field(default=None, ge=0)
    """At most this many input tokens (easy, short requests)."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tag values that must all be present."""
    share: Share = Decimal(1)
    """Share of the matching calls, picked by a hash of the event id [0-1]."""


class Route(_Strict):
    """Route matching calls to another model."""

    kind: Literal["route"]
    match: Match = Field(default_factory=Match)
    """Calls routed."""
    to_model: str
    """The new model, as the pricing catalog names it."""
    to_provider: str | None = None
    """Its provider (default: unchanged)."""
    output_factor: Decimal = Field(default=Decimal(1), gt=0)
    """Output (and reasoning) tokens x this factor on the new model [1]."""
    rejection_rate_change: Share = Decimal(0)
    """Extra share of routed outputs rejected; each is redone on the original model (a
    rework call with attempt + 1) [0-1]."""


class PromptCache(_Strict):
    """Repeated prompt prefixes served from the provider's prompt cache."""

    kind: Literal["prompt_cache"]
    match: Match = Field(default_factory=Match)
    """Calls affected."""
    read_share: Share
    """Share of the uncached input tokens that become cache reads [0-1]."""
    write_share: Share = Decimal(0)
    """Share of the uncached input tokens that become cache writes [0-1]."""

    @model_validator(mode="after")
    def _at_most_all(self) -> PromptCache:
        if self.read_share + self.write_share > 1:
            raise ValueError("read_share + write_share must be at most 1")
        return self


class Measure(_Strict):
    """Measure the hit rate on the requests' texts with a small embedding model."""

    threshold: Decimal = Field(default=Decimal("0.9"), gt=0, le=1)
    """Cosine similarity above which an earlier request's answer is reused."""
    text_tag: str = "prompt"
    """Tag holding the request text."""


class SemanticCache(_Strict):
    """A semantic cache in front of the model: hits skip the call and pay a lookup."""

    kind: Literal["semantic_cache"]
    match: Match = Field(default_factory=Match)
    """Calls behind the cache."""
    hit_rate: Share | None = None
    """Share of calls answered from the cache [0-1]."""
    measure: Measure | None = None
    """Or measure the hit rate (needs the `semantic` extra)."""
    lookup_usd_per_1000: Decimal = Field(default=Decimal(0), ge=0)
    """Price of 1,000 lookups (embedding + vector query) [USD]; every matched call pays one."""

    @model_validator(mode="after")
    def _one_rate(self) -> SemanticCache:
        if (self.hit_rate is None) == (self.measure is None):
            raise ValueError("give either `hit_rate` or `measure`")
        return self


class Batch(_Strict):
    """Send matching calls through a batch API or the flex tier."""

    kind: Literal["batch"]
    match: Match = Field(default_factory=Match)
    """Calls moved (latency: batch up to 24 h, flex minutes)."""
    tier: Literal["batch", "flex"] = "batch"
    """Price variant from the catalog."""


class SelfHost(_Strict):
    """Serve matching calls on own GPUs, sized by the performance model for their peak."""

    kind: Literal["self_host"]
    match: Match = Field(default_factory=Match)
    """Calls moved."""
    model: str
    """Architecture in the perf catalog (e.g. `llama-3.1-70b`)."""
    gpu: str
    """GPU in the perf catalog (e.g. `H100`)."""
    gpus_per_replica: int = Field(default=8, ge=1)
    """Tensor parallelism of one replica."""
    precision: str = "bf16"
    """Weight precision."""
    usd_per_gpu_hour: Decimal = Field(gt=0)
    """Price of a GPU-hour [USD/GPU-h]."""
    tpot_s: float = Field(default=0.05, gt=0)
    """Latency target: time per output token [s]."""
    ttft_s: float = Field(default=2.0, gt=0)
    """Latency target: time to first token [s]."""
    endpoint: str | None = None
    """Name of the endpoint (default `selfhost-<model>`)."""


class PriceChange(_Strict):
    """A model's price changes by a factor (0.8 = 20 % cheaper)."""

    kind: Literal["price_change"]
    model: str
    """Model as in the ledger after earlier transformations."""
    provider: str | None = None
    """Provider (default: any)."""
    factor: Decimal = Field(ge=0)
    """New price / old price [1]."""


class Growth(_Strict):
    """Usage grows: matching tasks are replayed `factor` times (fractions by hash)."""

    kind: Literal["growth"]
    match: Match = Field(default_factory=Match)
    """Calls that grow (share is ignored: use the factor)."""
    factor: Decimal = Field(ge=0, le=100)
    """New volume / old volume [1]."""


Transformation = Annotated[
    Route | PromptCache | SemanticCache | Batch | SelfHost | PriceChange | Growth,
    Field(discriminator="kind"),
]


class Scenario(_Strict):
    """A what-if scenario file."""

    name: str
    """Short name."""
    description: str = ""
    """What it tests."""
    since: dt.date | None = None
    """First UTC day replayed (default: the ledger's first)."""
    until: dt.date | None = None
    """Day after the last one replayed (default: after the ledger's last)."""
    transformations: list[Transformation] = Field(default_factory=list)
    """Applied in order; each one's contribution is the cost it removes."""


def label(tr: BaseModel, i: int) -> str:
    """A readable name of transformation `i`."""
    kind = getattr(tr, "kind", type(tr).__name__)
    detail = {
        "route": lambda: f"-> {getattr(tr, 'to_model', '')}",
        "price_change": lambda: f"{getattr(tr, 'model', '')} x{getattr(tr, 'factor', '')}",
        "growth": lambda: f"x{getattr(tr, 'factor', '')}",
        "batch": lambda: str(getattr(tr, "tier", "")),
        "self_host": lambda: f"{getattr(tr, 'model', '')} on {getattr(tr, 'gpu', '')}",
    }.get(kind)
    m: Match | None = getattr(tr, "match", None)
    where = f" [{', '.join(m.feature)}]" if m is not None and m.feature else ""
    return f"{i + 1}. {kind}{' ' + detail() if detail else ''}{where}"


# -- loading with file:line errors -------------------------------------------------------


def parse(cls: type[M], text: str, source: str) -> M:
    """Validate YAML `text` as `cls`; raise ConfigError with ``file:line: field: message``."""
    from unitecon.yamlfile import parse_model

    return parse_model(cls, text, source, f"{cls.__name__} file")


def load(cls: type[M], path: Path) -> M:
    """Read and validate a file."""
    from unitecon.yamlfile import read_text

    return parse(cls, read_text(path), str(path))
