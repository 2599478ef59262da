"""Serving: KV capacity, max batch, and operating points at a concurrency, a latency target,
a request rate, or maximum throughput, each classified memory- or compute-bound with reasons.

Steady-state continuous batching: with B sequences decoding and prompts of I tokens per O
output tokens, every step carries B decode tokens and B·I/O prefill tokens on average
(chunked prefill). Output throughput = B / T_step; time per output token = T_step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from unitecon.errors import InputError
from unitecon.models.perf import arch, engines
from unitecon.models.perf.catalog import GIB
from unitecon.models.perf.step import (
    Deployment,
    Efficiency,
    StepTime,
    compute_time,
    critical_batch,
    prefill_time,
    step_time,
)


@dataclass(frozen=True)
class Engine:
    """Serving-engine limits; None takes the named engine's default (`engines.defaults`)."""

    max_batch: int | None = None
    """Most sequences in one step (`--max_batch_size`, `--max-num-seqs`)."""
    max_num_tokens: int | None = None
    """Most tokens (decode + prefill) in one step (`--max_num_tokens`,
    `--max-num-batched-tokens`, `--chunked-prefill-size`)."""
    kv_mem_fraction: float | None = None
    """Share of memory given to the KV cache (`free_gpu_memory_fraction`,
    `--gpu-memory-utilization`)."""
    reserve_full_sequence: bool = True
    """Reserve KV for input+output at admission (GUARANTEED_NO_EVICT) instead of input+output/2."""
    name: str = "trtllm"
    """Serving engine: trtllm, vllm, sglang or tgi (`engines.ENGINES`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", engines.engine_name(self.name))


@dataclass(frozen=True)
class Lengths:
    """Tokens per request: prompt (input) and generated (output)."""

    input_len: int
    output_len: int
    cached_share: float = 0.0
    """Share of input tokens served from the prefix cache (not recomputed) [0-1]."""

    def __post_init__(self) -> None:
        for name, value in (("input length", self.input_len), ("output length", self.output_len)):
            if value <= 0:
                raise InputError(f"{name} must be a positive number of tokens, got {value}")
        if not 0 <= self.cached_share < 1:
            raise InputError(f"cached share must be in [0, 1), got {self.cached_share}")

    @property
    def prefill_len(self) -> float:
        """Prompt tokens computed per request [tokens] = I·(1 - cached share)."""
        return self.input_len * (1 - self.cached_share)

    @property
    def prefill_per_output(self) -> float:
        """Prefill tokens per output token [-] = I·(1 - s)/O."""
        return self.prefill_len / self.output_len

    @property
    def mean_context(self) -> float:
        """Mean context of a decoding sequence [tokens] = I + O/2."""
        return self.input_len + self.output_len / 2


@dataclass(frozen=True)
class OperatingPoint:
    """What one replica does at one load."""

    batch: float
    max_batch: int
    batch_limit: str
    step: StepTime
    ttft_s: float
    output_tok_s: float
    num_gpus: int
    gpu_s_per_input_token: float
    gpu_s_per_output_token: float
    reasons: list[str] = field(default_factory=list)

    @property
    def tpot_s(self) -> float:
        """Time per output token seen by one request [s]."""
        return self.step.total_s

    @property
    def bound(self) -> str:
        return self.step.bound

    @property
    def output_tok_s_per_gpu(self) -> float:
        return self.output_tok_s / self.num_gpus


def kv_shards(dep: Deployment) -> int:
    """GPUs the KV cache is split over: min(N, n_kv) for GQA, 1 for MLA (latent replicated)."""
    if dep.arch.attention == "mla":
        return 1
    return min(dep.num_gpus, dep.arch.kv_heads)


def kv_budget_bytes(dep: Deployment, eff: Efficiency, engine: Engine) -> float:
    """KV cache memory of the replica, counted once per distinct copy [B].

    = shards · f_kv · (M - W/N - reserve): per GPU, the KV gets a fraction of what weights and
    the fixed reserve leave (TensorRT-LLM `free_gpu_memory_fraction`).
    """
    per_gpu_weights = dep.resident_weight_bytes / dep.num_gpus
    free = dep.gpu.memory_bytes - per_gpu_weights - eff.reserve_gib * GIB
    d = engines.defaults(engine.name, dep.gpu)
    fraction = engine.kv_mem_fraction if engine.kv_mem_fraction is not None else d.kv_mem_fraction
    if free <= 0:
        need = (per_gpu_weights + eff.reserve_gib * GIB) / GIB
        raise InputError(
            f"{dep.arch.name} in {dep.weights.name} does not fit on {dep.num_gpus} x "
            f"{dep.gpu.name}: needs {need:.1f} GiB per GPU (weights + {eff.reserve_gib:g} GiB "
            f"reserve), has {dep.gpu.memory_bytes / GIB:.0f} GiB. Use more GPUs or a lower "
            "precision."
        )
    if d.kv_of_total:  # vLLM/SGLang: a fraction of ALL memory holds weights, reserve and KV
        kv = fraction * dep.gpu.memory_bytes - per_gpu_weights - eff.reserve_gib * GIB
        if kv <= 0:
            raise InputError(
                f"{dep.arch.name} leaves no KV cache on {dep.num_gpus} x {dep.gpu.name} with "
                f"{engine.name}'s memory share {fraction:g}; use more GPUs or a lower precision"
            )
        return kv_shards(dep) * kv
    return kv_shards(dep) * fraction * free


def max_batch(dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths) -> int:
    """Sequences whose KV fits: floor(KV budget / KV_seq(reserved length)) [sequences]."""
    reserved = lengths.input_len + (
        lengths.output_len if engine.reserve_full_sequence else lengths.output_len / 2
    )
    per_seq = arch.kv_bytes_per_sequence(dep.arch, dep.kv.bytes_per_value, reserved)
    fits = int(kv_budget_bytes(dep, eff, engine) // per_seq)
    if fits < 1:
        raise InputError(
            f"{dep.arch.name} fits on {dep.num_gpus} x {dep.gpu.name} but leaves no room for "
            f"the KV cache of one {int(reserved)}-token sequence. Use more GPUs, a lower "
            "precision, or shorter requests."
        )
    return fits


def tokens_per_step(dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths) -> int:
    """The engine's token budget per step: the explicit one, the engine's default, or for
    trtllm-bench the KV-limited batch x (1 + I/O) (`engines.trtllm_tokens_per_step`)."""
    if engine.max_num_tokens is not None:
        return engine.max_num_tokens
    budget = engines.defaults(engine.name, dep.gpu).tokens_per_step
    if budget is not None:
        return budget
    kv = max_batch(dep, eff, engine, lengths)
    return engines.trtllm_tokens_per_step(kv, lengths.input_len, lengths.output_len)


def _limits(dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths) -> dict[str, float]:
    """Caps on the mean decoding batch. Tokens per step: B·(1 + I(1-s)/O) <= budget;
    below 1 it means long prompts keep the engine prefilling most of the time."""
    seqs = engine.max_batch or engines.defaults(engine.name, dep.gpu).max_batch
    return {
        "KV-cache capacity": max_batch(dep, eff, engine, lengths),
        "engine max batch": seqs,
        "tokens per step": tokens_per_step(dep, eff, engine, lengths)
        / (1 + lengths.prefill_per_output),
    }


def _mixed_step(dep: Deployment, eff: Efficiency, batch: float, lengths: Lengths) -> StepTime:
    prefill = batch * lengths.prefill_per_output
    return step_time(dep, eff, batch, lengths.mean_context, prefill, lengths.input_len)


def _ttft(dep: Deployment, eff: Efficiency, batch: float, lengths: Lengths) -> float:
    """Request overhead + half a step of waiting + the step that prefills the prompt [s]."""
    waiting = _mixed_step(dep, eff, batch, lengths).total_s / 2 if batch > 1 else 0.0
    own = prefill_time(dep, eff, lengths.input_len, lengths.prefill_len, max(batch - 1, 0))
    return eff.request_overhead_s + waiting + own


def _gpu_seconds(
    dep: Deployment, eff: Efficiency, batch: float, lengths: Lengths
) -> tuple[float, float]:
    """GPU-seconds per input and per output token [GPU·s/token].

    A mixed step of time T serves B decode and P = B·I(1-s)/O prefill tokens. Its GPU time
    N·T is split in proportion to the stand-alone cost of each part: the decode-only step
    (which must read the weights anyway) and the prefill tokens' compute time. So neither kind
    is free and I·g_in + O·g_out = N·T·O/B per request. Cached input tokens skip the
    compute, so they cost less than uncached ones: g_in is per input token, cache included.
    """
    decode_only = step_time(dep, eff, batch, lengths.mean_context).total_s
    prefill_tokens = batch * lengths.prefill_per_output
    prefill_only = compute_time(dep, eff, 0, 0, prefill_tokens, lengths.input_len)
    mixed = _mixed_step(dep, eff, batch, lengths).total_s
    scale = dep.num_gpus * mixed / (decode_only + prefill_only)
    per_input = scale * prefill_only / (batch * lengths.input_len / lengths.output_len)
    return per_input, scale * decode_only / batch


def _memory_reason(dep: Deployment, batch: float, lengths: Lengths, b_star: float) -> str:
    """Why memory is the larger roof: few sequences per weight read, or the KV cache."""
    weights = arch.weights_touched_bytes(
        dep.arch, dep.dense_bytes_per_value, batch, dep.weights.bytes_per_value
    )
    kv = batch * arch.kv_bytes_per_sequence(dep.arch, dep.kv.bytes_per_value, lengths.mean_context)
    kv_share = kv / (weights + kv)
    a = dep.arch
    if a.is_moe:
        coverage = arch.expert_coverage(a, batch)
        why = f"MoE: the step reads {coverage:.0%} of the experts, each token uses "
        why += f"{a.experts_per_token} of {a.experts}"
    elif batch < b_star:
        why = f"batch {batch:.0f} is below the critical batch {b_star:.0f}"
    else:
        why = f"batch {batch:.0f} is above the critical batch {b_star:.0f}, but long contexts"
    return f"{why}; KV-cache reads are {kv_share:.0%} of the bytes"


def _reasons(
    dep: Deployment, step: StepTime, batch: float, limit: str, lengths: Lengths
) -> list[str]:
    b_star = critical_batch(dep)
    roofs = (
        f"memory {step.bytes_s * 1e3:.2f} ms (weights {step.memory_s * 1e3:.2f}, KV cache "
        f"{step.kv_s * 1e3:.2f}) vs compute {step.flops_s * 1e3:.2f} ms"
    )
    if step.bound == "memory":
        out = [f"memory-bound: {roofs}; {_memory_reason(dep, batch, lengths, b_star)}"]
    else:
        out = [f"compute-bound: {roofs} (prefill tokens and large batches add FLOPs)"]
    if limit == "KV-cache capacity" and batch < b_star:
        weights = dep.resident_weight_bytes / dep.num_gpus
        out.append(
            f"batch capped at {batch:.0f} by KV-cache capacity: weights take "
            f"{weights / GIB:.0f} of {dep.gpu.memory_bytes / GIB:.0f} GiB per GPU and each "
            f"sequence reserves {lengths.input_len + lengths.output_len} tokens of KV"
        )
    if step.comm_s > 0.2 * step.total_s:
        share = step.comm_s / step.total_s
        out.append(f"tensor-parallel all-reduces take {share:.0%} of each step ({dep.gpu.link})")
    if step.overhead_s > 0.3 * step.total_s:
        out.append("fixed per-step overhead is a large share: the GPU idles between kernels")
    return out


def at_batch(
    dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths, batch: float
) -> OperatingPoint:
    """The operating point with `batch` sequences decoding (capped by the limits)."""
    limits = _limits(dep, eff, engine, lengths)
    limit, cap = min(limits.items(), key=lambda kv: kv[1])
    use = min(batch, cap)
    limit = limit if batch > cap else "concurrency"
    step = _mixed_step(dep, eff, use, lengths)
    g_in, g_out = _gpu_seconds(dep, eff, use, lengths)
    return OperatingPoint(
        batch=use,
        max_batch=int(limits["KV-cache capacity"]),
        batch_limit=limit,
        step=step,
        ttft_s=_ttft(dep, eff, use, lengths),
        output_tok_s=use / step.total_s,
        num_gpus=dep.num_gpus,
        gpu_s_per_input_token=g_in,
        gpu_s_per_output_token=g_out,
        reasons=_reasons(dep, step, use, limit, lengths),
    )


def at_concurrency(
    dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths, concurrency: int
) -> OperatingPoint:
    """`concurrency` requests in flight (closed loop); the engine limits still apply."""
    if concurrency <= 0:
        raise InputError(f"concurrency must be a positive number, got {concurrency}")
    return at_batch(dep, eff, engine, lengths, concurrency)


def max_throughput(
    dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths
) -> OperatingPoint:
    """Largest batch the KV cache and engine allow (offline, infinite request rate)."""
    return at_batch(dep, eff, engine, lengths, math.inf)


def at_request_rate(
    dep: Deployment, eff: Efficiency, engine: Engine, lengths: Lengths, rate_per_s: float
) -> OperatingPoint:
    """Open-loop Poisson arrivals at `rate_per_s` requests/s.

    In flight by Little's law: B = λ·(TTFT + (O-1)·T_step), solved by fixed-point iteration.
    """
    if rate_per_s <= 0:
        raise InputError(f"request rate must be positive, got {rate_per_s}")
    batch = 1.0
    for _ in range(60):
        point = at_batch(dep, eff, engine, lengths, batch)
        latency = point.ttft_s + (lengths.output_len - 1) * point.tpot_s
        new = 0.5 * batch + 0.5 * max(1.0, rate_per_s * latency)
        if abs(new - batch) < 1e-9 * batch:
            break
        batch = new
    return at_batch(dep, eff, engine, lengths, batch)


def at_latency_target(
    dep: Deployment,
    eff: Efficiency,
    engine: Engine,
    lengths: Lengths,
    tpot_s: float | None = None,
    ttft_s: float | None = None,
) -> OperatingPoint:
    """The largest batch whose time per output token and TTFT meet the targets.

    Raises `InputError` when even one request misses them.
    """

    def ok(p: OperatingPoint) -> bool:
        return (tpot_s is None or p.tpot_s <= tpot_s) and (ttft_s is None or p.ttft_s <= ttft_s)

    best = max_throughput(dep, eff, engine, lengths)
    if ok(best):
        return best
    low, high = 1, int(best.batch)
    if not ok(at_batch(dep, eff, engine, lengths, low)):
        raise InputError(
            f"{dep.arch.name} on {dep.num_gpus} x {dep.gpu.name} cannot meet the latency "
            "target even with one request in flight"
        )
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if ok(at_batch(dep, eff, engine, lengths, mid)) else (low, mid)
    return at_batch(dep, eff, engine, lengths, low)


def finite_burst(
    dep: Deployment,
    eff: Efficiency,
    engine: Engine,
    lengths: Lengths,
    requests: int,
    spread_outputs: bool = True,
) -> OperatingPoint:
    """`requests` requests arriving at once, served to the last token (a benchmark burst).

    With `spread_outputs`, output lengths are exponential with mean O (as in ShareGPT-like
    traces), so the batch drains: after k steps N·e^(-k/O) requests are still decoding and
    the last one ends near step O·ln(2N). The burst takes

        T = T_prefill(N·I) + Σ_k T_step(min(cap, N·e^(-k/O)))        tok/s = N·O / T

    where T_prefill is the compute time of all prompts and cap the batch limits. Without
    spread, every request has O tokens and T = T_prefill + O·T_step(min(cap, N)). The
    returned point has the burst's mean output tok/s and the step at the start.
    """
    if requests <= 0:
        raise InputError(f"requests must be positive, got {requests}")
    start = at_batch(dep, eff, engine, lengths, requests)
    cap = start.batch
    decode_only = Lengths(lengths.input_len, lengths.output_len, 0.999999)
    prefill = compute_time(dep, eff, 0, 0, requests * lengths.prefill_len, lengths.input_len)
    if not spread_outputs:
        steps = lengths.output_len * math.ceil(requests / cap)
        total = prefill + steps * _mixed_step(dep, eff, cap, decode_only).total_s
    else:
        total, k, mean = prefill, 0, float(lengths.output_len)
        while (left := requests * math.exp(-k / mean)) >= 0.5:
            total += _mixed_step(dep, eff, max(1.0, min(cap, left)), decode_only).total_s
            k += 1
    tok_s = requests * lengths.output_len / total
    return OperatingPoint(
        batch=cap,
        max_batch=start.max_batch,
        batch_limit=start.batch_limit,
        step=start.step,
        ttft_s=start.ttft_s,
        output_tok_s=tok_s,
        num_gpus=dep.num_gpus,
        gpu_s_per_input_token=start.gpu_s_per_input_token,
        gpu_s_per_output_token=dep.num_gpus / tok_s,
        reasons=[
            *start.reasons,
            f"burst of {requests} requests drains to the last token: mean output "
            f"{tok_s:,.0f} tok/s vs {start.output_tok_s:,.0f} at full batch",
        ],
    )
