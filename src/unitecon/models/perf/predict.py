"""The common path: names in, an operating point out (pvlib's `ModelChain` in miniature)."""

from __future__ import annotations

from unitecon.errors import InputError
from unitecon.models.perf.catalog import (
    Architecture,
    Gpu,
    Precision,
    find_architecture,
    find_gpu,
    precision,
)
from unitecon.models.perf.step import Deployment


def math_precision(weights: Precision, gpu: Gpu) -> Precision:
    """Precision the matmuls run in: the weights' own if activations can use it and the GPU
    has tensor cores for it (FP8 on H100, FP4 on B200), otherwise BF16 (weight-only
    quantization, e.g. INT4 AWQ or FP8 weights on an A100)."""
    if weights.for_activations and weights.peak_key in gpu.peak_flop_s:
        return weights
    return precision("bf16", "activations")


def default_kv_precision(weights: Precision) -> Precision:
    """KV cache format when none is given: FP8 with FP8 or NVFP4 weights (TensorRT-LLM's FP8
    recipe, as in the calibration table; NVIDIA's NVFP4 checkpoints, e.g.
    `nvidia/Llama-3.1-405B-Instruct-FP4`, set `kv_cache_quant_algo: FP8`), otherwise BF16
    (vLLM's `--kv-cache-dtype auto`: the model's dtype, also for gpt-oss's MXFP4)."""
    return precision("fp8" if weights.name in ("fp8", "fp4") else "bf16", "kv")


def deployment(
    model: str | Architecture,
    gpu: str | Gpu,
    num_gpus: int,
    weight_precision: str = "bf16",
    kv_precision: str | None = None,
) -> Deployment:
    """Resolve names (or custom files) into a `Deployment` with tensor parallelism `num_gpus`."""
    if num_gpus <= 0:
        raise InputError(f"number of GPUs must be positive, got {num_gpus}")
    a = model if isinstance(model, Architecture) else find_architecture(model)
    g = gpu if isinstance(gpu, Gpu) else find_gpu(gpu)
    w = precision(weight_precision, "weights")
    kv = precision(kv_precision, "kv") if kv_precision else default_kv_precision(w)
    return Deployment(a, g, num_gpus, w, math_precision(w, g), kv)
