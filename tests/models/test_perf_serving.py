"""Step times, capacity and operating points, checked by hand with unit efficiencies."""

from __future__ import annotations

import pytest

from unitecon.errors import InputError
from unitecon.models.perf import serving
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import Engine, Lengths
from unitecon.models.perf.step import (
    Efficiency,
    comm_time,
    compute_time,
    kv_time,
    memory_time,
    step_time,
)

# Speed of light: no derating, no overheads, no reserve (hand arithmetic stays exact).
IDEAL = Efficiency(
    bandwidth=1.0,
    compute=1.0,
    kv_bandwidth=1.0,
    step_overhead_s=0.0,
    allreduce_latency_s=0.0,
    link=1.0,
    request_overhead_s=0.0,
    reserve_gib=0.0,
)
LLAMA8_ALWAYS_ON = 8_029_995_008 - 525_336_576  # all weights but the input embedding


def test_memory_time_batch_one_reads_the_weights() -> None:
    dep = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    # context 0: no KV; weights 7,504,658,432 params · 2 B / 3.35e12 B/s = 4.480 ms
    assert memory_time(dep, IDEAL, 1, 0) == pytest.approx(LLAMA8_ALWAYS_ON * 2 / 3.35e12)
    # the weights' roof does not depend on the context; the KV reads are the attention's:
    # 1000 tokens · 131,072 B for each of 4 sequences
    assert memory_time(dep, IDEAL, 4, 1000) == memory_time(dep, IDEAL, 4, 0)
    assert kv_time(dep, IDEAL, 4, 1000) == pytest.approx(4 * 1000 * 131_072 / 3.35e12)


def test_compute_time_dense_flops() -> None:
    dep = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    # 2 FLOP per active parameter per token at 989 TFLOP/s; context 0 adds no attention
    assert compute_time(dep, IDEAL, 256, 0) == pytest.approx(2 * LLAMA8_ALWAYS_ON * 256 / 989e12)
    # attention: 4·n_q·d_h = 4·32·128 FLOP per cached token per layer, 32 layers, 1000 tokens
    extra = compute_time(dep, IDEAL, 1, 1000) - compute_time(dep, IDEAL, 1, 0)
    assert extra == pytest.approx(4 * 32 * 128 * 32 * 1000 / 989e12)


def test_tensor_parallel_all_reduce_time() -> None:
    dep = deployment("Llama-3.1-70B", "H100", 2, "bf16")
    # 2 all-reduces x 80 layers; ring moves 2(N-1)/N = 1 x 100 tokens · 8192 · 2 B over 450 GB/s
    assert comm_time(dep, IDEAL, 100) == pytest.approx(160 * 100 * 8192 * 2 / 450e9)
    assert comm_time(deployment("Llama-3.1-8B", "H100", 1), IDEAL, 100) == 0.0


def test_step_takes_the_larger_roof_plus_the_rest() -> None:
    dep = deployment("Llama-3.1-70B", "H100", 4, "bf16")
    eff = Efficiency(step_overhead_s=2e-3, layer_overhead_s=10e-6)
    s = step_time(dep, eff, 8, 500)
    # GEMMs (larger roof) + attention kernels + all-reduces + 2 ms + 80 layers x 10 µs
    gemms = max(s.memory_s, s.compute_s)
    assert s.total_s == pytest.approx(gemms + s.attention_s + s.comm_s + 2e-3 + 80 * 10e-6)
    assert s.bound == "memory"  # 8 sequences is far below the critical batch
    assert step_time(dep, eff, 2048, 100).bound == "compute"


def test_max_batch_from_kv_capacity() -> None:
    dep = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    # (80 GiB - 16,059,990,016 B) · 0.9 / (2000 tokens · 131,072 B) = 239.8
    free = 80 * 2**30 - 16_059_990_016
    assert (
        serving.max_batch(dep, IDEAL, Engine(), Lengths(1000, 1000))
        == int(0.9 * free // (2000 * 131_072))
        == 239
    )


def test_kv_replicated_when_tp_exceeds_kv_heads() -> None:
    # Qwen3-235B has 4 KV heads: on 8 GPUs each KV head is held twice
    dep = deployment("Qwen3-235B-A22B", "H200", 8, "fp8")
    assert serving.kv_shards(dep) == 4
    assert serving.kv_shards(deployment("DeepSeek-V3", "H200", 8, "fp8")) == 1  # MLA latent


def test_model_that_does_not_fit_says_so() -> None:
    dep = deployment("Llama-3.1-70B", "H100", 1, "bf16")
    with pytest.raises(InputError, match=r"does not fit on 1 x H100.*Use more GPUs"):
        serving.max_throughput(dep, IDEAL, Engine(), Lengths(100, 100))


def test_no_room_for_one_sequence_says_so() -> None:
    dep = deployment("Llama-3.1-70B", "H100", 1, "fp8")
    with pytest.raises(InputError, match="no room for the KV cache"):
        serving.max_throughput(dep, Efficiency(), Engine(), Lengths(100_000, 100_000))


@pytest.mark.parametrize(("i", "o"), [(0, 10), (10, 0), (-5, 10)])
def test_lengths_must_be_positive(i: int, o: int) -> None:
    with pytest.raises(InputError, match="must be a positive number of tokens"):
        Lengths(i, o)


def test_gpu_seconds_add_up_to_the_replica_time() -> None:
    dep = deployment("Llama-3.1-70B", "H100", 4, "fp8")
    lengths = Lengths(2000, 250)
    p = serving.at_concurrency(dep, Efficiency(), Engine(), lengths, 64)
    per_request = 2000 * p.gpu_s_per_input_token + 250 * p.gpu_s_per_output_token
    assert per_request == pytest.approx(4 * p.tpot_s * 250 / 64)
    assert p.output_tok_s == pytest.approx(64 / p.tpot_s)


def test_latency_target_is_the_largest_batch_that_meets_it() -> None:
    dep = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    eff, engine, lengths = Efficiency(), Engine(), Lengths(1000, 200)
    p = serving.at_latency_target(dep, eff, engine, lengths, tpot_s=0.02)
    assert p.tpot_s <= 0.02
    assert serving.at_batch(dep, eff, engine, lengths, p.batch + 1).tpot_s > 0.02
    with pytest.raises(InputError, match="cannot meet the latency target"):
        serving.at_latency_target(dep, eff, engine, lengths, tpot_s=0.001)


def test_request_rate_obeys_littles_law() -> None:
    dep = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    lengths = Lengths(467, 256)
    p = serving.at_request_rate(dep, Efficiency(), Engine(), lengths, 16)
    in_flight = 16 * (p.ttft_s + 255 * p.tpot_s)
    assert p.batch == pytest.approx(in_flight, rel=0.02)


def test_prefix_cache_cuts_prefill_work() -> None:
    dep = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    cold = serving.at_concurrency(dep, Efficiency(), Engine(), Lengths(4000, 200), 32)
    warm = serving.at_concurrency(dep, Efficiency(), Engine(), Lengths(4000, 200, 0.75), 32)
    assert warm.output_tok_s > cold.output_tok_s
    assert warm.gpu_s_per_input_token < cold.gpu_s_per_input_token


def test_attention_kv_reads_add_to_the_gemms() -> None:
    # Llama-3.1-8B BF16 on one H100 at ideal efficiency: KV per token 32 layers x 2 x 8 heads
    # x 128 x 2 B = 131,072 B; 100 sequences at context 1,000 read 100 x 1000 x 131,072 B =
    # 13.1 GB in 13.1e9 / 3.35e12 = 3.91 ms, on top of the weights' roof (7.50e9 params
    # touched, the embedding is a gather, x 2 B / 3.35e12 = 4.48 ms > 100 x 15 GFLOP / 989e12).
    dep = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    ideal = Efficiency(bandwidth=1, kv_bandwidth=1, compute=1, step_overhead_s=0)
    s = step_time(dep, ideal, 100, 1000)
    assert s.kv_s == pytest.approx(100 * 1000 * 131072 / 3.35e12)
    assert s.attention_s == s.kv_s  # attention math (~0.3 ms) is under its reads
    assert s.memory_s == pytest.approx(LLAMA8_ALWAYS_ON * 2 / 3.35e12)
    assert s.total_s == pytest.approx(s.memory_s + s.kv_s)
    assert s.bound == "memory"


def test_low_precision_realizes_part_of_its_nominal_speedup() -> None:
    # FP8 on an H100: nominal 1979 / 989 = 2.0x; with γ = 0.5 the realized peak is
    # 989 · 2.0^0.5 = 1399 TFLOP/s, with γ = 1 the datasheet's 1979.
    dep = deployment("Llama-3.1-8B", "H100", 1, "fp8")
    assert dep.effective_peak_flop_s(Efficiency(lowp_exponent=1.0)) == pytest.approx(1979e12)
    half = dep.effective_peak_flop_s(Efficiency(lowp_exponent=0.5))
    assert half == pytest.approx(989e12 * (1979 / 989) ** 0.5)
    bf16 = deployment("Llama-3.1-8B", "H100", 1, "bf16")
    assert bf16.effective_peak_flop_s(Efficiency(lowp_exponent=0.5)) == pytest.approx(989e12)
