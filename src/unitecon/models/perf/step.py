"""One engine step on one tensor-parallel replica: weights, attention, communication, overhead.

A step processes `batch` decoding sequences at mean context `context` plus `prefill_tokens`
prompt tokens of prompts `prompt_len` long (chunked prefill mixes them in, as continuous
batching engines do). Per-operator roofline (LLM-Viewer, `shared/design/perf-notes.md` §2.1),
with the operators grouped as the engines launch them:

    T_lin  = max(W_touched(T) / (N·BW·η_bw),  T·2·P_active / (N·peak_eff·η_fl))   GEMMs
    T_attn = max(B·KV(c) / (N·BW·η_bw),  F_attn / (N·peak_eff·η_fl))             attention
    T_comm = [N>1]·2L·(α + 2(N-1)/N·T·d·2 B / (link·η_link))     (Megatron: 2 all-reduces/layer)
    T_step = T_lin + T_attn + T_comm + t_step + L·t_layer

with T = B + P tokens in the step. The attention kernels run between the GEMMs, so the
KV-cache reads do not hide under the GEMMs' FLOPs (the earlier max(W + KV, F) did assume
they do, and over-predicted long-context throughput at large batch).
`peak_eff = peak_bf16 · (peak_prec / peak_bf16)^γ`: the 8- and 4-bit tensor cores' nominal
2x and 4x over BF16 are only partly realized end to end (quantize/dequantize, scales,
epilogues, attention in 16 bit), γ fitted (1 = the datasheet's ratio). Units: seconds,
bytes, FLOP.
"""

from __future__ import annotations

from dataclasses import dataclass

from unitecon.models.perf import arch
from unitecon.models.perf.catalog import Architecture, Gpu, Precision

ALLREDUCE_BYTES = 2  # activations are all-reduced in 16-bit even with FP8 GEMMs


@dataclass(frozen=True)
class Efficiency:
    """Fitted derating factors (see `scripts/fit_perf.py` and `docs/perf-model.md`).

    Defaults are the perf-notes starting points; `calibrate.fitted()` loads the fitted ones.
    """

    bandwidth: float = 0.75
    """Achieved / peak memory bandwidth η_bw [-]."""
    compute: float = 0.5
    """Achieved / dense peak FLOP/s η_fl [-]."""
    kv_bandwidth: float = 0.75
    """Achieved / peak memory bandwidth of the attention kernels' KV-cache reads η_kv [-]:
    paged attention streams many sequences' pages at once, unlike the weight reads of a
    small-batch GEMM, so it may run closer to the peak."""
    step_overhead_s: float = 1.5e-3
    """Fixed scheduler time per engine step, whatever the model [s]."""
    layer_overhead_s: float = 0.0
    """Launch and synchronization time per layer per step t_layer [s]: a step runs a few
    kernels per layer whose fixed latencies add up with depth (perf-notes §1: 4 launches
    and up to 4 all-reduces per layer, each 7-30 µs), so a step costs
    t_step + L·t_layer outside the roofs."""
    allreduce_latency_s: float = 10e-6
    """Latency α of one all-reduce [s]."""
    link: float = 0.7
    """Achieved / nominal per-direction link bandwidth η_link [-]."""
    request_overhead_s: float = 5e-3
    """Fixed time to first token outside the GPU (tokenize, queue, respond) [s]."""
    reserve_gib: float = 3.0
    """Per-GPU memory kept from the KV cache (CUDA context, activations) [GiB]."""
    amd_bandwidth: float = 1.0
    """AMD Instinct + ROCm stack: achieved bandwidth relative to the NVIDIA stack's [-]."""
    amd_compute: float = 1.0
    """AMD Instinct + ROCm stack: achieved FLOP/s relative to the NVIDIA stack's [-]."""
    amd_link: float = 1.0
    """AMD Infinity Fabric + RCCL: achieved all-reduce bandwidth relative to NVLink + NCCL's
    (on the nominal link figures of the catalog) [-]."""
    lowp_exponent: float = 1.0
    """γ: a low-precision math format realizes (peak_prec / peak_bf16)^γ of the BF16 speed [-]."""
    fp4_moe: float = 1.0
    """Achieved / nominal bandwidth of 4-bit expert weights dequantized in the MoE kernel on
    a GPU without FP4 tensor cores (MXFP4 on Hopper) η_fp4moe [-]."""


@dataclass(frozen=True)
class Deployment:
    """A model on N GPUs with tensor parallelism N, and the number formats used."""

    arch: Architecture
    gpu: Gpu
    num_gpus: int
    weights: Precision
    activations: Precision
    kv: Precision

    @property
    def dense_bytes_per_value(self) -> float:
        """Bytes per non-expert weight: BF16 beside MXFP4 experts (gpt-oss), else the
        weights' format."""
        if self.weights.name == "mxfp4" and self.arch.is_moe:
            return 2.0
        return self.weights.bytes_per_value

    @property
    def dequantized_moe(self) -> bool:
        """4-bit experts the GPU cannot multiply natively (dequantized inside the kernel)."""
        return (
            self.arch.is_moe
            and self.weights.bytes_per_value < 1
            and self.activations.name != self.weights.name
        )

    @property
    def resident_weight_bytes(self) -> float:
        """All weights in memory [B] (experts in the weights' format, the rest as above)."""
        return arch.weight_bytes(
            self.arch, self.dense_bytes_per_value, self.weights.bytes_per_value
        )

    @property
    def peak_flop_s(self) -> float:
        """Dense peak of the math precision on one GPU [FLOP/s] (BF16 if unsupported)."""
        key = self.activations.peak_key or "bf16"
        return self.gpu.peak_flop_s.get(key, self.gpu.peak_flop_s["bf16"])

    def effective_peak_flop_s(self, eff: Efficiency) -> float:
        """peak_bf16 · (peak / peak_bf16)^γ [FLOP/s]: the realized low-precision speedup."""
        bf16 = self.gpu.peak_flop_s["bf16"]
        return float(bf16 * (self.peak_flop_s / bf16) ** eff.lowp_exponent)


@dataclass(frozen=True)
class StepTime:
    """Parts of one step [s] and which roof sets it.

    `memory_s` and `compute_s` are the GEMMs' two roofs (weight reads, matmul FLOPs);
    `attention_s` the attention kernels (KV-cache reads or attention FLOPs, whichever is
    longer), `kv_s` the KV-read part of it.
    """

    memory_s: float
    compute_s: float
    comm_s: float
    overhead_s: float
    attention_s: float = 0.0
    kv_s: float = 0.0

    @property
    def total_s(self) -> float:
        return max(self.memory_s, self.compute_s) + self.attention_s + self.comm_s + self.overhead_s

    @property
    def bytes_s(self) -> float:
        """Time the step's memory traffic takes: weights + KV cache [s]."""
        return self.memory_s + self.kv_s

    @property
    def flops_s(self) -> float:
        """Time the step's FLOPs take: GEMMs + attention math [s]."""
        return self.compute_s + (self.attention_s if self.attention_s > self.kv_s else 0.0)

    @property
    def bound(self) -> str:
        return "memory" if self.bytes_s >= self.flops_s else "compute"


def _bandwidth(dep: Deployment, eff: Efficiency) -> float:
    """Achieved memory bandwidth of the replica [B/s] = N·BW·η_bw (· vendor factor)."""
    return dep.num_gpus * dep.gpu.bandwidth_b_s * eff.bandwidth * vendor_factor(dep, eff, "bw")


def _flop_rate(dep: Deployment, eff: Efficiency) -> float:
    """Achieved FLOP/s of the replica = N·peak_eff·η_fl (· vendor factor)."""
    peak = dep.effective_peak_flop_s(eff)
    return dep.num_gpus * peak * eff.compute * vendor_factor(dep, eff, "fl")


def memory_time(
    dep: Deployment, eff: Efficiency, batch: float, context: float, prefill_tokens: float = 0.0
) -> float:
    """GEMMs' memory roof [s] = W_touched(B+P) / (N·BW·η_bw).

    W_touched includes the MoE expert coverage of the step's tokens.
    4-bit experts dequantized in the kernel (MXFP4 on Hopper) move at η_fp4moe of that rate.
    """
    tokens = batch + prefill_tokens
    always_on = arch.always_on_params(dep.arch) * dep.dense_bytes_per_value
    experts = arch.touched_expert_bytes(dep.arch, dep.weights.bytes_per_value, tokens)
    if dep.dequantized_moe:
        experts /= eff.fp4_moe
    return (always_on + experts) / _bandwidth(dep, eff)


def kv_time(dep: Deployment, eff: Efficiency, batch: float, context: float) -> float:
    """Attention's memory roof [s] = B·KV_seq(c) / (N·BW·η_kv) (window caps applied)."""
    kv = batch * arch.kv_bytes_per_sequence(dep.arch, dep.kv.bytes_per_value, context)
    return kv / _bandwidth(dep, eff) * eff.bandwidth / eff.kv_bandwidth


def compute_time(
    dep: Deployment,
    eff: Efficiency,
    batch: float,
    context: float,
    prefill_tokens: float = 0.0,
    prompt_len: float = 0.0,
) -> float:
    """All FLOPs [s] = (B·F_dec(c) + P·F_pf(S)) / (N·peak_eff·η_fl).

    F_dec = 2·P_active + attention over the cache; F_pf = 2·P_active + causal attention.
    """
    flops = batch * arch.decode_flops(dep.arch, context)
    if prefill_tokens:
        flops += prefill_tokens * arch.prefill_flops_per_token(dep.arch, prompt_len)
    return flops / _flop_rate(dep, eff)


def attention_flops(
    dep: Deployment, batch: float, context: float, prefill_tokens: float, prompt_len: float
) -> float:
    """Attention FLOPs of the step [FLOP]: decode over the cache + causal prefill."""
    per = arch.attention_flops_per_ctx(dep.arch)
    flops = batch * per * arch.attended_tokens(dep.arch, context)
    if prefill_tokens:
        flops += prefill_tokens * per * arch.attended_tokens(dep.arch, prompt_len / 2)
    return flops


def vendor_factor(dep: Deployment, eff: Efficiency, kind: str) -> float:
    """The vendor stack's efficiency relative to NVIDIA's (1 on NVIDIA GPUs)."""
    if dep.gpu.vendor != "amd":
        return 1.0
    return {"bw": eff.amd_bandwidth, "fl": eff.amd_compute, "link": eff.amd_link}[kind]


def comm_time(dep: Deployment, eff: Efficiency, tokens: float) -> float:
    """Tensor-parallel all-reduces [s] = 2L·(α + 2(N-1)/N·T·d·2 B / (link·η_link)); 0 if N=1.

    Ring all-reduce (NCCL; GenZ `collective_times.py`), two per layer (Megatron-LM).
    """
    n = dep.num_gpus
    if n == 1:
        return 0.0
    payload = tokens * dep.arch.hidden * ALLREDUCE_BYTES
    link = dep.gpu.link_b_s * eff.link * vendor_factor(dep, eff, "link")
    transfer = 2 * (n - 1) / n * payload / link
    return 2 * dep.arch.layers * (eff.allreduce_latency_s + transfer)


def step_time(
    dep: Deployment,
    eff: Efficiency,
    batch: float,
    context: float,
    prefill_tokens: float = 0.0,
    prompt_len: float = 0.0,
) -> StepTime:
    """One step [s]: GEMMs (max of weights and FLOPs) + attention (max of KV reads and
    FLOPs) + all-reduces + fixed overhead."""
    attn_flops = attention_flops(dep, batch, context, prefill_tokens, prompt_len)
    all_flops = compute_time(dep, eff, batch, context, prefill_tokens, prompt_len)
    attn_s = attn_flops / _flop_rate(dep, eff)
    kv_s = kv_time(dep, eff, batch, context)
    return StepTime(
        memory_s=memory_time(dep, eff, batch, context, prefill_tokens),
        compute_s=all_flops - attn_s,
        comm_s=comm_time(dep, eff, batch + prefill_tokens),
        overhead_s=eff.step_overhead_s + dep.arch.layers * eff.layer_overhead_s,
        attention_s=max(kv_s, attn_s),
        kv_s=kv_s,
    )


def prefill_time(
    dep: Deployment, eff: Efficiency, prompt_len: float, tokens: float, batch: float = 0
) -> float:
    """Time of the step that computes `tokens` of a `prompt_len` prompt (the rest comes from
    the prefix cache) next to `batch` decoding sequences [s]."""
    return step_time(dep, eff, batch, prompt_len, tokens, prompt_len).total_s


def critical_batch(dep: Deployment) -> float:
    """Batch where weight reads and weight FLOPs take equal time [sequences].

    B* = peak · bytes per weight / (2 · BW) (JAX scaling book, "serving"): ≈ 295 for BF16 on
    an H100 SXM (989e12 · 2 / (2 · 3.35e12)).
    """
    return dep.peak_flop_s * dep.weights.bytes_per_value / (2 * dep.gpu.bandwidth_b_s)
