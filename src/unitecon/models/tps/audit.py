"""The TPS audit: an endpoint's observed tokens/s, TTFT and TPOT against the performance
model's theoretical maximum on the same GPU, model and precision; the binding constraint;
the top three bottlenecks with their effect on throughput and on cost per million tokens.

    at load   = the model at the observed concurrency (what the GPUs should do at this load)
    ceiling   = the model at the largest batch KV cache and engine allow (max tokens/s)
    $/M out   = GPUs · $/GPU-h / 3600 / output tok/s · 1e6                  [USD/Mtok]

Bottlenecks, each a throughput multiplier if removed (gain) and the $/M that follows:

- I/O outside the GPU: observed TPOT / TPOT at load, when above 1.25 (time per token the
  GPU step does not explain: network, tokenization, scheduling, host CPU);
- queueing/arrivals: no queue (waiting < 0.5) and fewer than half the ceiling's batch in
  flight: ceiling tok/s / observed tok/s (the GPUs wait for requests; loaded to full batch
  by more traffic or fewer GPUs, they would deliver the ceiling);
- KV capacity: a queue and the KV cache >= 85% used (or the batch at the KV limit): the
  ceiling with an FP8 KV cache / the ceiling (BF16 KV) or, with FP8 already, with twice
  the GPUs per replica, per GPU;
- engine batch limit: a queue with KV cache to spare: ceiling / at load;
- memory bandwidth or compute (the roof at load): FP8 weights / BF16 weights at the same
  load, when the GPU has FP8 tensor cores and the weights are BF16.

The binding constraint, first rule that holds: a queue with the KV cache full -> KV
capacity; a queue with KV to spare -> queueing/arrivals (the engine's batch limits); TPOT
above 1.25x the model's at load -> I/O outside the GPU; under half the ceiling's batch in
flight -> queueing/arrivals; otherwise the roof the model says the step hits at load
(memory bandwidth or compute).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from unitecon.models.perf import coverage
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import (
    Engine,
    Lengths,
    OperatingPoint,
    at_concurrency,
    max_throughput,
)
from unitecon.models.perf.step import Deployment, Efficiency
from unitecon.models.tps.observe import Observed

CONSTRAINTS = (
    "memory bandwidth",
    "compute",
    "KV capacity",
    "queueing/arrivals",
    "I/O outside the GPU",
)
IO_THRESHOLD = 1.25
KV_FULL = 0.85


def usd_per_mtok(num_gpus: int, usd_per_gpu_h: Decimal, output_tok_s: float) -> Decimal:
    """$ per million output tokens = N · $/GPU-h / 3600 / tok/s · 1e6 [USD/Mtok]."""
    if output_tok_s <= 0:
        return Decimal(0)
    cost = num_gpus * usd_per_gpu_h / 3600 / Decimal(repr(output_tok_s)) * 1_000_000
    return cost.quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class Bottleneck:
    """One thing holding the endpoint's tokens/s down, quantified."""

    name: str
    constraint: str
    evidence: str
    gain: float
    """Output tokens/s multiplier if removed [-]."""
    output_tok_s_after: float
    usd_per_mtok_before: Decimal
    usd_per_mtok_after: Decimal


@dataclass(frozen=True)
class Audit:
    """The audit of one endpoint."""

    observed: Observed
    deployment: Deployment
    lengths: Lengths
    at_load: OperatingPoint
    ceiling: OperatingPoint
    coverage: coverage.Coverage
    usd_per_gpu_h: Decimal
    binding: str
    binding_reason: str
    bottlenecks: list[Bottleneck]

    @property
    def share_of_ceiling(self) -> float:
        """Observed output tok/s / theoretical maximum [-]."""
        return self.observed.output_tok_s / self.ceiling.output_tok_s


def _gain_item(
    name: str,
    constraint: str,
    evidence: str,
    gain: float,
    obs: Observed,
    dep: Deployment,
    usd: Decimal,
) -> Bottleneck:
    after = obs.output_tok_s * gain
    return Bottleneck(
        name,
        constraint,
        evidence,
        gain,
        after,
        usd_per_mtok(dep.num_gpus, usd, obs.output_tok_s),
        usd_per_mtok(dep.num_gpus, usd, after),
    )


def _candidates(
    obs: Observed,
    dep: Deployment,
    eff: Efficiency,
    engine: Engine,
    lengths: Lengths,
    load: OperatingPoint,
    top: OperatingPoint,
    usd: Decimal,
) -> list[Bottleneck]:
    out = []

    def item(name: str, constraint: str, evidence: str, gain: float) -> None:
        out.append(_gain_item(name, constraint, evidence, gain, obs, dep, usd))

    if obs.tpot_s and obs.tpot_s > IO_THRESHOLD * load.tpot_s:
        extra = (obs.tpot_s - load.tpot_s) * 1e3
        item(
            "time per token outside the GPU step",
            "I/O outside the GPU",
            f"{obs.tpot_s * 1e3:.1f} ms per output token observed vs {load.tpot_s * 1e3:.1f} "
            f"ms the GPUs need at batch {load.batch:.0f}: {extra:.1f} ms per token go to the "
            "network, tokenization, scheduling or the host CPU",
            obs.tpot_s / load.tpot_s,
        )
    queued = obs.waiting >= 0.5
    if not queued and obs.concurrency < 0.5 * top.batch and obs.output_tok_s > 0:
        conc = f"{obs.concurrency:.2g}"
        peak = f" (peak {obs.peak_concurrency:.0f})" if obs.peak_concurrency else ""
        item(
            "too few requests in flight",
            "queueing/arrivals",
            f"{conc} requests in flight on average{peak} and none waiting; a replica holds "
            f"{top.batch:.0f}: the GPUs wait for work. Loaded to full batch (more traffic or "
            f"fewer GPUs) they deliver {top.output_tok_s:,.0f} output tok/s",
            top.output_tok_s / obs.output_tok_s,
        )
    if queued and kv_full(obs, top):
        gain, how = _kv_gain(dep, eff, engine, lengths, top)
        item(
            "KV cache full, requests queue",
            "KV capacity",
            f"{obs.waiting:.0f} requests waiting with the KV cache "
            + (f"{obs.kv_usage:.0%} used" if obs.kv_usage is not None else "at its limit")
            + f" (the model's KV-limited batch is {top.max_batch}); {how}",
            gain,
        )
    elif queued:
        item(
            "engine batch limit with KV cache to spare",
            "queueing/arrivals",
            f"{obs.waiting:.0f} requests waiting while the KV cache is "
            + (f"{obs.kv_usage:.0%} used" if obs.kv_usage is not None else "not full")
            + ": raise the engine's max sequences / tokens per step",
            max(top.output_tok_s / load.output_tok_s, 1.0),
        )
    fp8 = _precision_gain(dep, eff, engine, lengths, load)
    if fp8 is not None:
        roof = "memory bandwidth" if load.bound == "memory" else "compute"
        item(
            f"{dep.weights.name.upper()} weights on a GPU with FP8 tensor cores",
            roof,
            f"{load.reasons[0]}. FP8 weights halve the bytes read and double the math rate",
            fp8,
        )
    return out


def kv_full(obs: Observed, top: OperatingPoint) -> bool:
    """KV cache >= 85% used, or (no gauge) the batch at the model's KV limit."""
    if obs.kv_usage is not None:
        return obs.kv_usage >= KV_FULL
    return top.batch_limit == "KV-cache capacity" and obs.concurrency >= 0.8 * top.batch


def binding_constraint(obs: Observed, load: OperatingPoint, top: OperatingPoint) -> str:
    """The rules of the module docstring, in order."""
    if obs.waiting >= 0.5:
        return "KV capacity" if kv_full(obs, top) else "queueing/arrivals"
    if obs.tpot_s and obs.tpot_s > IO_THRESHOLD * load.tpot_s:
        return "I/O outside the GPU"
    if obs.concurrency < 0.5 * top.batch:
        return "queueing/arrivals"
    return "memory bandwidth" if load.bound == "memory" else "compute"


def _kv_gain(
    dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths, top: OperatingPoint
) -> tuple[float, str]:
    if dep.kv.name == "bf16" and "fp8" in dep.gpu.peak_flop_s:
        kv8 = deployment(dep.arch, dep.gpu, dep.num_gpus, dep.weights.name, "fp8")
        better = max_throughput(kv8, eff, engine, lengths).output_tok_s
        return better / top.output_tok_s, "an FP8 KV cache doubles the sequences that fit"
    more = replace(dep, num_gpus=dep.num_gpus * 2)
    per_gpu = max_throughput(more, eff, engine, lengths).output_tok_s / 2
    return per_gpu / top.output_tok_s, "twice the GPUs per replica leave more memory for KV"


def _precision_gain(
    dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths, load: OperatingPoint
) -> float | None:
    if dep.weights.name != "bf16" or "fp8" not in dep.gpu.peak_flop_s:
        return None
    fp8 = deployment(dep.arch, dep.gpu, dep.num_gpus, "fp8", dep.kv.name)
    return at_concurrency(fp8, eff, engine, lengths, max(1, round(load.batch))).output_tok_s / (
        load.output_tok_s
    )


def lengths_of(obs: Observed, default: Lengths) -> Lengths:
    """The request shape observed, or `default` where the source does not say."""
    i = obs.input_len if obs.input_len and obs.input_len >= 1 else default.input_len
    o = obs.output_len if obs.output_len and obs.output_len >= 1 else default.output_len
    return Lengths(max(1, round(i)), max(1, round(o)))


def audit(
    obs: Observed,
    dep: Deployment,
    eff: Efficiency,
    engine: Engine,
    usd_per_gpu_h: Decimal,
    default_lengths: Lengths | None = None,
) -> Audit:
    """Compare `obs` with the model for `dep` and rank the bottlenecks (module docstring)."""
    lengths = lengths_of(obs, default_lengths or Lengths(1000, 200))
    conc = max(1, math.ceil(obs.concurrency - 1e-9))
    load = at_concurrency(dep, eff, engine, lengths, conc)
    top = max_throughput(dep, eff, engine, lengths)
    found = _candidates(obs, dep, eff, engine, lengths, load, top, usd_per_gpu_h)
    ranked = sorted((b for b in found if b.gain > 1.02), key=lambda b: -b.gain)[:3]
    binding = binding_constraint(obs, load, top)
    why = next(
        (b.evidence for b in found if b.constraint == binding),
        f"the endpoint runs at the model's roof for its load: {load.reasons[0]}",
    )
    return Audit(
        obs,
        dep,
        lengths,
        load,
        top,
        coverage.assess(dep, engine.name, lengths),
        usd_per_gpu_h,
        binding,
        why,
        ranked,
    )
