"""Self-host vs API economics (models stage: pure functions over plain values).

    $/M tokens   = 1e6 · ($/GPU-h / 3600) · GPU-s per token / utilization     (finops-notes §4b)
    replicas     = ceil(peak tok/s / tok/s of one replica at the SLO)          (fin.ai, 2025)
    monthly cost = replicas · GPUs per replica · $/GPU-h · 730 h
    break-even   = monthly cost / API $ per token                              (finops-notes §4d)

The fleet is sized for the PEAK load and runs all month, so its cost is fixed and its
variable cost is zero; the API is priced per token by genai-prices for the same mix of
uncached input, cached input and output tokens (one `calc_price` call per mix).
`compare(workload, ...)` is the entry point the ledger side calls with real traffic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from genai_prices import Usage, calc_price

from unitecon.errors import InputError, LookupFailed, UniteconError
from unitecon.models import instances
from unitecon.models.perf import calibrate, coverage
from unitecon.models.perf.catalog import Architecture, Gpu, find_architecture, gpus
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import (
    Engine,
    Lengths,
    OperatingPoint,
    at_latency_target,
)
from unitecon.models.perf.step import Deployment, Efficiency

HOURS_PER_MONTH = Decimal(730)  # 8760 h / 12
SECONDS_PER_MONTH = 730 * 3600
CENT = Decimal("0.01")
MICRO = Decimal("0.0001")


@dataclass(frozen=True)
class Workload:
    """A token mix and its peak load: what `compare` needs, whoever measured it."""

    input_len: int
    """Mean input tokens per request, cached ones included (inclusive convention)."""
    output_len: int
    """Mean output tokens per request (reasoning included)."""
    cached_share: float
    """Share of input tokens that are cache reads [0-1]."""
    peak_tokens_per_s: float
    """Peak load: input + output tokens per second, at the busiest minute."""
    peak_to_average: float = 3.0
    """Peak / average load; sets the monthly volume from the peak."""

    def __post_init__(self) -> None:
        Lengths(self.input_len, self.output_len, self.cached_share)  # validates
        if self.peak_tokens_per_s <= 0 or self.peak_to_average < 1:
            raise InputError("peak tokens/s must be positive and peak/average at least 1")

    @property
    def lengths(self) -> Lengths:
        return Lengths(self.input_len, self.output_len, self.cached_share)

    @property
    def monthly_tokens(self) -> float:
        """Input + output tokens per month = peak / (peak/average) · 730 h · 3600 s."""
        return self.peak_tokens_per_s / self.peak_to_average * SECONDS_PER_MONTH


@dataclass(frozen=True)
class RatePlans:
    """$/GPU-hour under three commitments; reserved and spot as multipliers of on-demand.

    Defaults are assumptions: reserved at 1/2 of on-demand (fin.ai: reserved instances
    "2-3x cheaper"; the conservative end), spot at 0.35 (unverified typical discount).
    """

    reserved_factor: Decimal = Decimal("0.5")
    spot_factor: Decimal = Decimal("0.35")

    def rates(self, on_demand: Decimal) -> dict[str, Decimal]:
        return {
            "on_demand": on_demand,
            "reserved": on_demand * self.reserved_factor,
            "spot": on_demand * self.spot_factor,
        }


@dataclass(frozen=True)
class Slo:
    """Latency targets a replica must meet [s]."""

    tpot_s: float = 0.05
    ttft_s: float = 2.0


def money(x: Decimal | float, step: Decimal = CENT) -> Decimal:
    """Round a USD amount half-up to `step` (cents by default)."""
    return Decimal(str(x)).quantize(step, rounding=ROUND_HALF_UP)


def usd_per_mtok(gpu_s_per_token: float, usd_per_gpu_h: Decimal, utilization: float) -> Decimal:
    """Self-hosted $ per million tokens = 1e6 · ($/GPU-h / 3600) · GPU-s/token / utilization.

    [USD/Mtok]; finops-notes §4(b) and Epoch AI's `$/M = 1e6·(price/3600)·N·t/B`.
    """
    if not 0 < utilization <= 1:
        raise InputError(f"utilization must be in (0, 1], got {utilization}")
    cost = Decimal(1_000_000) * usd_per_gpu_h / 3600 * Decimal(repr(gpu_s_per_token))
    return money(cost / Decimal(repr(utilization)), MICRO)


def unit_costs(
    point: OperatingPoint, usd_per_gpu_h: Decimal, utilization: float = 1.0
) -> dict[str, Decimal]:
    """$/M input and $/M output tokens at an operating point [USD/Mtok]."""
    return {
        "input": usd_per_mtok(point.gpu_s_per_input_token, usd_per_gpu_h, utilization),
        "output": usd_per_mtok(point.gpu_s_per_output_token, usd_per_gpu_h, utilization),
    }


def replica_tokens_per_s(point: OperatingPoint, lengths: Lengths) -> float:
    """Input + output tokens/s one replica serves = output tok/s · (I + O) / O."""
    return point.output_tok_s * (lengths.input_len + lengths.output_len) / lengths.output_len


def replicas_for_peak(peak_tokens_per_s: float, per_replica_tokens_per_s: float) -> int:
    """Replicas needed at peak = ceil(peak / per-replica capacity at the SLO)."""
    return max(1, math.ceil(peak_tokens_per_s / per_replica_tokens_per_s - 1e-9))


def monthly_cost(replicas: int, gpus_per_replica: int, usd_per_gpu_h: Decimal) -> Decimal:
    """Fleet cost per month = replicas · GPUs · $/GPU-h · 730 h [USD]."""
    return money(replicas * gpus_per_replica * usd_per_gpu_h * HOURS_PER_MONTH)


@dataclass(frozen=True)
class ApiPrice:
    """An API model's price for the workload's mix."""

    model: str
    provider: str
    usd_per_mtok_blended: Decimal
    """USD per million (input + output) tokens for this mix."""


def api_price(api_model: str, workload: Workload, provider: str | None = None) -> ApiPrice:
    """Price one request of the mix with genai-prices (one call), scaled to 1M tokens.

    `api_model` may be 'provider:model'. Input tokens include the cache reads.
    """
    if provider is None and ":" in api_model:
        provider, api_model = api_model.split(":", 1)
    cached = round(workload.input_len * workload.cached_share)
    usage = Usage(
        input_tokens=workload.input_len, cache_read_tokens=cached, output_tokens=workload.output_len
    )
    try:
        calc = calc_price(usage, api_model, provider_id=provider)
    except LookupError as e:
        raise LookupFailed("API model", api_model) from e
    per_request = Decimal(calc.total_price)
    tokens = workload.input_len + workload.output_len
    blended = per_request * 1_000_000 / tokens
    return ApiPrice(calc.model.id, calc.provider.id, blended)


def mismatch_warning(dep: Deployment, point: OperatingPoint, eff: Efficiency) -> str | None:
    """Warn when a memory-bound point leaves the GPU's FLOP/s idle (MFU below 15%).

    MFU = step FLOPs / (step time · N · peak); a GPU bought for compute then does the work of
    a cheaper, higher-bandwidth-per-dollar one.
    """
    if point.bound != "memory":
        return None
    used = point.step.flops_s / point.step.total_s * eff.compute
    if used >= 0.15:
        return None
    return (
        f"memory-bound on {dep.gpu.name}: the tensor cores are {used:.0%} busy. This workload "
        "pays for compute it cannot use; prefer more memory bandwidth per dollar, larger "
        "batches, or lower-precision weights and KV cache."
    )


@dataclass(frozen=True)
class Option:
    """One GPU configuration sized for the workload's peak under the SLO."""

    gpu: str
    gpu_id: str
    num_gpus: int
    precision: str
    replicas: int
    point: OperatingPoint
    tokens_per_s_per_replica: float
    monthly_usd: dict[str, Decimal]
    usd_per_mtok: dict[str, Decimal]
    break_even_mtok_per_month: Decimal
    coverage: coverage.Coverage
    """Calibration coverage of the prediction and its band."""
    conservative_monthly_usd: Decimal
    """Monthly cost (ranking plan) if throughput is at the low end of the band [USD/month]."""
    warning: str | None = None
    price_status: str = "unsourced"
    """'override' (given by the caller), or the GPU catalog's 'sourced' / 'unsourced'."""
    price_source: str = ""
    """Where the catalog's per-GPU price range was seen (URLs and dates in the GPU table)."""

    @property
    def calibrated(self) -> bool:
        """False when the configuration is outside the calibration data (see `coverage`)."""
        return self.coverage.calibrated


@dataclass(frozen=True)
class Comparison:
    """Ranked options against the API."""

    workload: Workload
    api: ApiPrice
    api_monthly_usd: Decimal
    plan: str
    options: list[Option]
    skipped: list[str] = field(default_factory=list)

    @property
    def cheapest(self) -> Option | None:
        return self.options[0] if self.options else None

    @property
    def ranking_note(self) -> str | None:
        """Said whenever an option outside the calibration data is ranked first."""
        top = self.cheapest
        if top is None or top.calibrated:
            return None
        safe = next((o for o in self.options if o.calibrated), None)
        alt = (
            f"the cheapest calibrated option is {safe.num_gpus} x {safe.gpu} {safe.precision} "
            f"at ${money(safe.monthly_usd[self.plan])}/month"
            if safe
            else "no calibrated option meets the SLO"
        )
        return (
            f"ranked first on an UNCALIBRATED prediction ({top.num_gpus} x {top.gpu} "
            f"{top.precision}: {'; '.join(top.coverage.gaps)}); {alt}."
        )


def _option(
    dep: Deployment,
    workload: Workload,
    point: OperatingPoint,
    rates: dict[str, Decimal],
    api: ApiPrice,
    plan: str,
    eff: Efficiency,
    engine: Engine,
) -> Option:
    per_replica = replica_tokens_per_s(point, workload.lengths)
    replicas = replicas_for_peak(workload.peak_tokens_per_s, per_replica)
    monthly = {p: monthly_cost(replicas, dep.num_gpus, r) for p, r in rates.items()}
    cov = coverage.assess(dep, engine.name, workload.lengths)
    low_replicas = replicas_for_peak(workload.peak_tokens_per_s, per_replica * cov.low)
    util = workload.peak_tokens_per_s / workload.peak_to_average / (replicas * per_replica)
    return Option(
        gpu=dep.gpu.name,
        gpu_id=dep.gpu.key,
        num_gpus=dep.num_gpus,
        precision=dep.weights.name,
        replicas=replicas,
        point=point,
        tokens_per_s_per_replica=per_replica,
        monthly_usd=monthly,
        usd_per_mtok={
            k: usd_per_mtok(g, rates[plan], min(util, 1.0))
            for k, g in (
                ("input", point.gpu_s_per_input_token),
                ("output", point.gpu_s_per_output_token),
            )
        },
        break_even_mtok_per_month=money(monthly[plan] / api.usd_per_mtok_blended),
        coverage=cov,
        conservative_monthly_usd=monthly_cost(low_replicas, dep.num_gpus, rates[plan]),
        warning=mismatch_warning(dep, point, eff),
    )


def released_precisions(arch: Architecture, precisions: Sequence[str]) -> tuple[str, ...]:
    """The precisions to try, plus the model's released format when it is a weight-only one:
    gpt-oss ships its experts in MXFP4 (openai/gpt-oss-*), and that is how it is served."""
    extra = ("mxfp4",) if arch.name.lower().startswith("gpt-oss") else ()
    return tuple(dict.fromkeys((*precisions, *extra)))


def _runs(gpu: Gpu, prec: str) -> bool:
    """BF16 and the weight-only MXFP4 run anywhere; FP8/FP4 need their tensor cores."""
    return prec in ("bf16", "mxfp4") or prec in gpu.peak_flop_s


def candidates(
    arch: Architecture,
    gpu_list: Iterable[Gpu] | None = None,
    precisions: Sequence[str] = ("bf16", "fp8"),
    tp_sizes: Sequence[int] = (1, 2, 4, 8),
) -> list[Deployment]:
    """Every GPU x TP size x precision the GPU runs natively (FP8 needs FP8 tensor cores),
    plus the model's released weight-only format (`released_precisions`)."""
    out = []
    for gpu in gpu_list or gpus().values():
        for prec in released_precisions(arch, precisions):
            if not _runs(gpu, prec):
                continue
            out += [deployment(arch, gpu, n, prec) for n in tp_sizes]
    return out


def compare(
    workload: Workload,
    model: str | Architecture,
    api_model: str,
    *,
    on_demand_usd_h: Mapping[str, Decimal] | None = None,
    plans: RatePlans | None = None,
    plan: str = "reserved",
    slo: Slo | None = None,
    deployments: Sequence[Deployment] | None = None,
    eff: Efficiency | None = None,
    engine: Engine | None = None,
) -> Comparison:
    """Rank GPU configurations by monthly cost for the workload's peak, against the API.

    `on_demand_usd_h` maps GPU ids to $/GPU-hour; the default is the middle of the catalog's
    price range. Configurations that do not fit or miss the SLO are listed in `skipped`.
    """
    arch = model if isinstance(model, Architecture) else find_architecture(model)
    eff, engine, slo, plans = (
        eff or calibrate.fitted(),
        engine or Engine(),
        slo or Slo(),
        plans or RatePlans(),
    )
    api = api_price(api_model, workload)
    options, skipped = [], []
    for dep in deployments or candidates(arch):
        label = f"{dep.num_gpus} x {dep.gpu.name} {dep.weights.name}"
        rate = _on_demand(dep.gpu, on_demand_usd_h or {})
        if rate is None:
            skipped.append(f"{label}: no price")
            continue
        try:
            point = at_latency_target(dep, eff, engine, workload.lengths, slo.tpot_s, slo.ttft_s)
        except UniteconError as e:
            skipped.append(f"{label}: {e}")
            continue
        option = _option(dep, workload, point, plans.rates(rate), api, plan, eff, engine)
        if dep.gpu.key in (on_demand_usd_h or {}):
            option = replace(option, price_status="override", price_source="")
        else:
            source = f"{dep.gpu.price_source} ({dep.gpu.price_date})"
            option = replace(option, price_status=dep.gpu.price_status, price_source=source)
        options.append(option)
    # Rank on the low end of each band: an option outside the calibration data must be
    # cheaper even if its throughput disappoints as far as its band allows.
    options.sort(
        key=lambda o: (o.conservative_monthly_usd, o.monthly_usd[plan], o.replicas * o.num_gpus)
    )
    api_monthly = money(api.usd_per_mtok_blended * Decimal(workload.monthly_tokens / 1e6))
    return Comparison(workload, api, api_monthly, plan, options, skipped)


def _on_demand(gpu: Gpu, overrides: Mapping[str, Decimal]) -> Decimal | None:
    if gpu.key in overrides:
        return overrides[gpu.key]
    if gpu.price_low_usd_h is None or gpu.price_high_usd_h is None:
        return None
    return (gpu.price_low_usd_h + gpu.price_high_usd_h) / 2


# ---- fleets of rented nodes (issue 18) -------------------------------------------------


@dataclass(frozen=True)
class People:
    """Staff who run the fleet: MLOps FTEs x loaded salary / 12 [USD/month]."""

    fte: Decimal = Decimal(0)
    loaded_salary_annual: Decimal = Decimal(250_000)

    @property
    def monthly_usd(self) -> Decimal:
        return money(self.fte * self.loaded_salary_annual / 12)


@dataclass(frozen=True)
class Fleet:
    """One instance shape and configuration sized for the peak."""

    shape: instances.Shape
    deployment: Deployment
    point: OperatingPoint
    replicas: int
    nodes: int
    tokens_per_s_per_replica: float
    monthly_usd: dict[str, Decimal]
    """Plan -> node cost per month [USD/month] (people excluded)."""
    coverage: coverage.Coverage
    conservative_nodes: int
    """Nodes needed if throughput is at the low end of the band."""

    def total_usd(self, plan: str, people: People) -> Decimal:
        """Nodes + people [USD/month]."""
        return money(self.monthly_usd[plan] + people.monthly_usd)


@dataclass(frozen=True)
class FleetComparison:
    """Fleets on rented nodes against the API, cheapest (at the band's low end) first."""

    workload: Workload
    api: ApiPrice
    api_monthly_usd: Decimal
    plan: str
    people: People
    target_utilization: float
    fleets: list[Fleet]
    skipped: list[str] = field(default_factory=list)

    def ratio(self, fleet: Fleet) -> Decimal:
        """Self-hosted total / API cost for the same month [-]."""
        return fleet.total_usd(self.plan, self.people) / self.api_monthly_usd

    @property
    def ranking_note(self) -> str | None:
        top = self.fleets[0] if self.fleets else None
        if top is None or top.coverage.calibrated:
            return None
        safe = next((f for f in self.fleets if f.coverage.calibrated), None)
        alt = (
            f"the cheapest calibrated fleet is {safe.nodes} x {safe.shape.instance} "
            f"({safe.shape.cloud}) at ${money(safe.monthly_usd[self.plan])}/month"
            if safe
            else "no calibrated fleet meets the SLO"
        )
        return (
            f"ranked first on an UNCALIBRATED prediction ({top.shape.instance}: "
            f"{'; '.join(top.coverage.gaps)}); {alt}."
        )


def compare_fleets(
    workload: Workload,
    model: str | Architecture,
    api_model: str,
    *,
    shapes: Sequence[instances.Shape] | None = None,
    plan: str = "reserved_1y",
    precisions: Sequence[str] = ("bf16", "fp8"),
    slo: Slo | None = None,
    target_utilization: float = 0.8,
    people: People | None = None,
    eff: Efficiency | None = None,
    engine: Engine | None = None,
) -> FleetComparison:
    """Size a fleet of whole nodes for the workload's peak on each shape, TP size and
    precision the shape's GPU runs (one replica's GPUs never span nodes), and rank them."""
    if plan not in instances.PLANS:
        raise InputError(f"plan must be one of {', '.join(instances.PLANS)}, got {plan!r}")
    arch = model if isinstance(model, Architecture) else find_architecture(model)
    eff, engine, slo = eff or calibrate.fitted(), engine or Engine(), slo or Slo()
    people = people or People()
    api = api_price(api_model, workload)
    fleets, skipped = [], []
    points: dict[tuple[str, int, str], OperatingPoint | str] = {}
    for shape in shapes or instances.shapes():
        gpu = gpus()[shape.gpu_id]
        for prec in released_precisions(arch, precisions):
            if not _runs(gpu, prec):
                continue
            for tp in (n for n in (1, 2, 4, 8) if n <= shape.gpus):
                key = (gpu.key, tp, prec)
                if key not in points:
                    try:
                        dep = deployment(arch, gpu, tp, prec)
                        points[key] = at_latency_target(
                            dep, eff, engine, workload.lengths, slo.tpot_s, slo.ttft_s
                        )
                    except UniteconError as e:
                        points[key] = str(e)
                got = points[key]
                if isinstance(got, str):
                    skipped.append(f"{shape.instance} TP{tp} {prec}: {got}")
                    continue
                dep = deployment(arch, gpu, tp, prec)
                fleets.append(_fleet(shape, dep, got, workload, target_utilization, engine))
    fleets.sort(
        key=lambda f: (
            f.conservative_nodes * f.shape.usd_h[plan],
            f.monthly_usd[plan],
            f.nodes * f.shape.gpus,
        )
    )
    api_monthly = money(api.usd_per_mtok_blended * Decimal(workload.monthly_tokens / 1e6))
    return FleetComparison(
        workload, api, api_monthly, plan, people, target_utilization, fleets, skipped
    )


def _fleet(
    shape: instances.Shape,
    dep: Deployment,
    point: OperatingPoint,
    workload: Workload,
    target_utilization: float,
    engine: Engine,
) -> Fleet:
    per_replica = replica_tokens_per_s(point, workload.lengths)
    size = (dep.num_gpus, shape.gpus, target_utilization)
    replicas, nodes = instances.nodes_for_peak(workload.peak_tokens_per_s, per_replica, *size)
    cov = coverage.assess(dep, engine.name, workload.lengths)
    _, low_nodes = instances.nodes_for_peak(
        workload.peak_tokens_per_s, per_replica * cov.low, *size
    )
    return Fleet(
        shape,
        dep,
        point,
        replicas,
        nodes,
        per_replica,
        {p: money(instances.monthly(nodes, r)) for p, r in shape.usd_h.items()},
        cov,
        low_nodes,
    )
