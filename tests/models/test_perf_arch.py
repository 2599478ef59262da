"""Hand-checked sizes: parameters, weight bytes, KV bytes per token, critical batch.

Expected values are worked out from the Hugging Face configs (dims in models.csv) or copied
from the published columns of shared/data/models.csv, never from the code's output.
"""

from __future__ import annotations

import pytest

from unitecon.models.perf import arch
from unitecon.models.perf.catalog import find_architecture, precision
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.step import Deployment, critical_batch


def test_llama_8b_weight_bytes_bf16() -> None:
    # embeddings 128256·4096 = 525,336,576 (x2, untied); per layer: attention
    # 2·4096·4096 + 2·4096·1024 = 41,943,040, FFN 3·4096·14336 = 176,160,768.
    params = 32 * (41_943_040 + 176_160_768) + 2 * 525_336_576
    assert params == 8_029_995_008
    a = find_architecture("Llama-3.1-8B")
    assert arch.total_params(a) == params
    # 16.06 GB: the roofline note of calibration row trt014-8b-h100-qps2
    assert arch.weight_bytes(a, 2) == pytest.approx(16.06e9, rel=1e-3)


@pytest.mark.parametrize(
    ("model", "published_b"),
    [  # total_params_b column of models.csv (recomputed from the configs by its authors)
        ("Llama-3.1-8B", 8.03),
        ("Llama-3.1-70B", 70.55),
        ("Llama-3.1-405B", 405.85),
        ("Mixtral-8x7B", 46.7),
        ("Qwen3-235B-A22B", 235.1),
        ("gpt-oss-120b", 116.8),
        ("DeepSeek-V3", 671),
        ("Gemma-3-4B", 3.88),  # text path (the 4.3 total includes the vision tower)
    ],
)
def test_total_params_match_published(model: str, published_b: float) -> None:
    assert arch.total_params(find_architecture(model)) / 1e9 == pytest.approx(published_b, rel=5e-3)


def test_mixtral_active_params() -> None:
    # models.csv: 12.88B active = 2 of 8 experts + attention + both embeddings; the model's
    # active count leaves out the input embedding (a lookup, 32000·4096 = 131,072,000).
    a = find_architecture("Mixtral-8x7B")
    assert (arch.active_params(a) + 131_072_000) / 1e9 == pytest.approx(12.88, rel=5e-3)


@pytest.mark.parametrize(
    ("model", "kv_bytes_bf16"),
    [  # kv_cache_bytes_per_token_bf16 column of models.csv
        ("Llama-3.1-8B", 131_072),  # GQA: 2·8·128·32·2
        ("Llama-3.1-70B", 327_680),  # 2·8·128·80·2
        ("Qwen2.5-7B", 57_344),  # 2·4·128·28·2
        ("Qwen3-235B-A22B", 192_512),  # head_dim 128 != hidden/heads = 64
        ("DeepSeek-V3", 70_272),  # MLA latent: 61·(512+64)·2
        ("Gemma-3-4B", 139_264),  # all layers global: 2·4·256·34·2
        ("gpt-oss-120b", 73_728),  # all layers full: 2·8·64·36·2
    ],
)
def test_kv_bytes_per_token(model: str, kv_bytes_bf16: int) -> None:
    a = find_architecture(model)
    assert arch.kv_bytes_per_token(a, 2) == kv_bytes_bf16
    assert arch.kv_bytes_per_token(a, 1) == kv_bytes_bf16 / 2  # FP8 KV halves it


def test_windowed_kv_gemma3_4b_at_32k() -> None:
    # 5 global layers keep all 32768 tokens, 29 local layers keep 1024; per layer and token
    # 2·4·256·2 = 4096 B (models.csv: "~20480 (5 global layers) + 29 local ... 1024")
    a = find_architecture("Gemma-3-4B")
    expected = 5 * 4096 * 32768 + 29 * 4096 * 1024
    assert arch.kv_bytes_per_sequence(a, 2, 32768) == expected
    assert arch.kv_bytes_per_sequence(a, 2, 500) == 139_264 * 500  # under the window


def test_windowed_kv_mistral_and_gpt_oss() -> None:
    mistral = find_architecture("Mistral-7B")  # v0.1: window 4096 on all 32 layers
    assert arch.kv_bytes_per_sequence(mistral, 2, 8192) == 131_072 * 4096
    oss = find_architecture("gpt-oss-120b")  # 18 full layers + 18 with a 128-token window
    per_layer = 2 * 8 * 64 * 2
    assert arch.kv_bytes_per_sequence(oss, 2, 10_000) == per_layer * (18 * 10_000 + 18 * 128)


def test_moe_expert_coverage_grows_with_batch() -> None:
    a = find_architecture("Mixtral-8x7B")  # top-2 of 8
    assert arch.expert_coverage(a, 1) == pytest.approx(2 / 8)
    assert arch.expert_coverage(a, 2) == pytest.approx(1 - 0.75**2)
    assert arch.expert_coverage(a, 256) == pytest.approx(1.0)
    one = arch.weights_touched_bytes(a, 1, 1)
    many = arch.weights_touched_bytes(a, 1, 256)
    assert one < many == pytest.approx(arch.weight_bytes(a, 1) - 32000 * 4096)


def test_critical_batch_h100() -> None:
    # 989e12 FLOP/s · 2 B / (2 · 3.35e12 B/s) = 295.2 (issue 3 and perf-notes §7)
    assert critical_batch(deployment("Llama-3.1-8B", "H100", 1, "bf16")) == pytest.approx(
        295.2, abs=0.1
    )
    # FP8 weights on FP8 tensor cores: 1979e12 · 1 / 6.7e12 = 295.4
    assert critical_batch(deployment("Llama-3.1-8B", "H100", 1, "fp8")) == pytest.approx(
        295.4, abs=0.1
    )


def test_critical_batch_weight_only_fp8() -> None:
    # perf-notes §7: ≈148 for weight-only FP8 with BF16 math on an H100 (989e12·1/6.7e12)
    base = deployment("Llama-3.1-8B", "H100", 1, "fp8")
    dep = Deployment(
        base.arch, base.gpu, 1, base.weights, precision("bf16", "activations"), base.kv
    )
    assert critical_batch(dep) == pytest.approx(147.6, abs=0.1)


def test_weight_only_precisions_use_bf16_math() -> None:
    assert deployment("Llama-3.1-8B", "H100", 1, "int4").activations.name == "bf16"
    assert deployment("Llama-3.1-8B", "A100", 1, "fp8").activations.name == "bf16"  # no FP8 cores
    assert deployment("Llama-3.1-8B", "B200", 1, "fp4").activations.name == "fp4"
