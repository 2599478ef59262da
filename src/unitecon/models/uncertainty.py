"""Inputs as distributions, seeded Monte Carlo and tornado ranking (models stage; pure).

Any number in a TCO or scenario file may be written as a distribution instead::

    usd_per_task: {dist: triangular, low: 0.012, mode: 0.018, high: 0.030}
    growth_monthly: {dist: normal, mean: 0.03, sd: 0.01}
    hours_saved_per_task: {dist: lognormal, median: 0.2, sigma: 0.35}
    realization: {dist: uniform, low: 0.3, high: 0.7}

The deterministic report uses each distribution's `central` value (the mode, mean, median or
mid-point). `simulate` draws every input independently, with a stream seeded by
``(seed, crc32(input path))``, so a run is reproducible and adding an input does not change
the draws of the others. The model is evaluated once on arrays of draws (vectorized).
Quantiles are reported as p10/p50/p90; money quantiles rounded to cents as Decimal.

`tornado` sets one input at a time to its own p10 and p90 (analytic quantiles, others at
their central value) and ranks inputs by the swing of the output (Eschenbach, "Spiderplots
versus tornado diagrams for sensitivity analysis", Interfaces 22(6), 1992).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats

Array = npt.NDArray[np.float64]
CENT = Decimal("0.01")


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def central(self) -> Decimal:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> Array:  # pragma: no cover
        raise NotImplementedError

    def ppf(self, q: float) -> float:  # pragma: no cover
        raise NotImplementedError


class Triangular(_Dist):
    """Triangular on [low, high] with the most likely value `mode`; central = mode."""

    dist: Literal["triangular"]
    low: Decimal
    """Smallest value."""
    mode: Decimal
    """Most likely value (the deterministic case)."""
    high: Decimal
    """Largest value."""

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("triangular needs low <= mode <= high and low < high")
        return self

    def central(self) -> Decimal:
        return self.mode

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.triangular(float(self.low), float(self.mode), float(self.high), n)

    def ppf(self, q: float) -> float:
        lo, hi = float(self.low), float(self.high)
        c = (float(self.mode) - lo) / (hi - lo)
        return float(stats.triang.ppf(q, c, loc=lo, scale=hi - lo))


class Normal(_Dist):
    """Normal with `mean` and standard deviation `sd`; central = mean."""

    dist: Literal["normal"]
    mean: Decimal
    """Mean (the deterministic case)."""
    sd: Decimal = Field(gt=0)
    """Standard deviation, in the input's unit."""

    def central(self) -> Decimal:
        return self.mean

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.normal(float(self.mean), float(self.sd), n)

    def ppf(self, q: float) -> float:
        return float(stats.norm.ppf(q, float(self.mean), float(self.sd)))


class LogNormal(_Dist):
    """Log-normal with `median` and log-space standard deviation `sigma`; central = median."""

    dist: Literal["lognormal"]
    median: Decimal = Field(gt=0)
    """Median, in the input's unit (the deterministic case)."""
    sigma: Decimal = Field(gt=0)
    """Standard deviation of ln(x) [1]."""

    def central(self) -> Decimal:
        return self.median

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.lognormal(math.log(float(self.median)), float(self.sigma), n)

    def ppf(self, q: float) -> float:
        return float(stats.lognorm.ppf(q, float(self.sigma), scale=float(self.median)))


class Uniform(_Dist):
    """Uniform on [low, high]; central = mid-point."""

    dist: Literal["uniform"]
    low: Decimal
    """Smallest value."""
    high: Decimal
    """Largest value."""

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("uniform needs low < high")
        return self

    def central(self) -> Decimal:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.uniform(float(self.low), float(self.high), n)

    def ppf(self, q: float) -> float:
        return float(self.low) + q * float(self.high - self.low)


Dist = Annotated[Triangular | Normal | LogNormal | Uniform, Field(discriminator="dist")]
#: A number in a config file: a plain value, or a distribution over it.
Num = Decimal | Dist


def central(x: Num) -> Decimal:
    """The deterministic value of an input."""
    return x if isinstance(x, Decimal) else x.central()


def is_dist(x: object) -> bool:
    return isinstance(x, _Dist)


def draw(inputs: Mapping[str, Num], n: int, seed: int) -> dict[str, Any]:
    """One array of `n` draws per distribution input; plain inputs as floats."""
    out: dict[str, Any] = {}
    for path, x in inputs.items():
        if isinstance(x, _Dist):
            rng = np.random.default_rng([seed, zlib.crc32(path.encode())])
            out[path] = x.sample(rng, n)
        else:
            out[path] = float(x)
    return out


def centrals(inputs: Mapping[str, Num], as_float: bool = False) -> dict[str, Any]:
    return {p: float(central(x)) if as_float else central(x) for p, x in inputs.items()}


@dataclass(frozen=True)
class Quantiles:
    """p10 / p50 / p90 and mean of an output over the draws."""

    p10: Decimal
    p50: Decimal
    p90: Decimal
    mean: Decimal
    defined_share: Decimal
    """Share of draws where the output exists (payback within the horizon)."""

    def as_dict(self) -> dict[str, Decimal]:
        return {
            "p10": self.p10,
            "p50": self.p50,
            "p90": self.p90,
            "mean": self.mean,
            "defined_share": self.defined_share,
        }


def quantiles(values: Array, places: Decimal = CENT) -> Quantiles | None:
    """Quantiles of the finite values (NaN = undefined in that draw), rounded to `places`."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    p10, p50, p90 = np.quantile(finite, [0.1, 0.5, 0.9])

    def q(x: float) -> Decimal:
        return Decimal(repr(float(x))).quantize(places, rounding=ROUND_HALF_UP)

    share = Decimal(finite.size) / Decimal(values.size)
    return Quantiles(q(p10), q(p50), q(p90), q(finite.mean()), share.quantize(Decimal("0.0001")))


Model = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def simulate(
    inputs: Mapping[str, Num],
    model: Model,
    *,
    draws: int = 10_000,
    seed: int = 0,
) -> dict[str, Array]:
    """Evaluate `model` once on `draws` samples of every distribution input.

    `model` maps input values (floats or arrays) to outputs; each output is broadcast to an
    array of length `draws`.
    """
    if draws < 1:
        raise ValueError("draws must be at least 1")
    out = model(draw(inputs, draws, seed))
    return {k: np.broadcast_to(np.asarray(v, dtype=float), (draws,)) for k, v in out.items()}


@dataclass(frozen=True)
class TornadoBar:
    """The output with one input at its p10 and at its p90 (others central)."""

    input: str
    low_input: Decimal
    high_input: Decimal
    output_at_low: Decimal
    output_at_high: Decimal

    @property
    def swing(self) -> Decimal:
        return abs(self.output_at_high - self.output_at_low)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "low_input": self.low_input,
            "high_input": self.high_input,
            "output_at_low": self.output_at_low,
            "output_at_high": self.output_at_high,
            "swing": self.swing,
        }


def tornado(inputs: Mapping[str, Num], model: Model, output: str) -> list[TornadoBar]:
    """Rank the distribution inputs by the swing they cause in `output`, largest first."""
    base = centrals(inputs, as_float=True)

    def run(path: str, value: float) -> Decimal:
        v = float(np.asarray(model({**base, path: value})[output], dtype=float).reshape(-1)[0])
        return Decimal(repr(v)).quantize(CENT, rounding=ROUND_HALF_UP)

    bars = []
    for path, x in inputs.items():
        if not isinstance(x, _Dist):
            continue
        lo, hi = x.ppf(0.1), x.ppf(0.9)
        bars.append(
            TornadoBar(
                path,
                Decimal(repr(lo)).quantize(Decimal("1e-6")),
                Decimal(repr(hi)).quantize(Decimal("1e-6")),
                run(path, lo),
                run(path, hi),
            )
        )
    return sorted(bars, key=lambda b: (-b.swing, b.input))
