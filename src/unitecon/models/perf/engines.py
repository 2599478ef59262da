"""Serving engines as the model sees them: their scheduling defaults, one place.

Each engine caps the decode batch (sequences per step) and the tokens per step (the chunked
prefill budget), and gives the KV cache a share of memory. The defaults below are each
engine's own, read from its source; `Engine(name=...)` picks them, explicit values win.

- `trtllm`: tokens per step as trtllm-bench sets them, the KV-limited batch x (1 + I/O)
  within 2,048 to 32,768; sequences KV-limited (<= 4,096); KV gets 0.9 of free memory
  (`tensorrt_llm/bench/build/tuning.py`, `finetune_setting`).
- `vllm`: 8,192 tokens per step and 1,024 sequences on GPUs with >= 70 GiB other than
  A100, else 2,048 and 256 (API server); KV and weights within 0.9 of total memory
  (`vllm/engine/arg_utils.py`, `get_batch_defaults`).
- `sglang`: `chunked_prefill_size` 2,048 (< 35 GiB), 4,096 (< 60), 8,192 (< 160), else
  16,384; 0.88 of total memory (`sglang/srt/server_args.py`; approximate, varies by release).
- `tgi`: `--max-batch-prefill-tokens` 4,096; 0.9 of total memory (approximate).

The engine also names the calibration coverage (`coverage.py`): only `trtllm` and
`sglang` rows are in the calibration table; `vllm` and `tgi` run at the same fitted
efficiency, flagged as uncalibrated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from unitecon.errors import InputError
from unitecon.models.perf.catalog import GIB, Gpu

ENGINES = ("trtllm", "vllm", "sglang", "tgi")
_ALIASES = {
    "tensorrt-llm": "trtllm",
    "tensorrtllm": "trtllm",
    "trt-llm": "trtllm",
    "trt": "trtllm",
    "nim": "trtllm",
    "text-generation-inference": "tgi",
}
TRTLLM_MIN_TOKENS = 2048
TRTLLM_MAX_TOKENS = 32768
TRTLLM_MAX_BATCH = 4096


def engine_name(text: str) -> str:
    """Canonical engine name from free text ('TensorRT-LLM+Triton' -> 'trtllm')."""
    low = text.strip().lower()
    for name in ENGINES:
        if low.startswith(name):
            return name
    for alias, name in _ALIASES.items():
        if low.startswith(alias):
            return name
    raise InputError(f"unknown serving engine {text!r}; use one of {', '.join(ENGINES)}")


@dataclass(frozen=True)
class EngineDefaults:
    """An engine's limits for one GPU type, before the KV cache is known."""

    max_batch: int
    tokens_per_step: int | None
    """None: follows the KV-limited batch (trtllm-bench's heuristic)."""
    kv_mem_fraction: float
    kv_of_total: bool
    """True: the fraction is of total memory (weights inside it), as vLLM and SGLang do."""


def defaults(name: str, gpu: Gpu) -> EngineDefaults:
    """The engine's scheduling defaults on `gpu` (table in the module docstring)."""
    mem_gib = gpu.memory_bytes / GIB
    if name == "vllm":
        big = mem_gib >= 70 and "a100" not in gpu.key.lower()
        return EngineDefaults(1024 if big else 256, 8192 if big else 2048, 0.9, True)
    if name == "sglang":
        budget = 2048 if mem_gib < 35 else 4096 if mem_gib < 60 else 8192
        return EngineDefaults(4096, budget if mem_gib < 160 else 16384, 0.88, True)
    if name == "tgi":
        return EngineDefaults(4096, 4096, 0.9, True)
    return EngineDefaults(2048, None, 0.9, False)


def trtllm_tokens_per_step(kv_requests: float, input_len: float, output_len: float) -> int:
    """trtllm-bench's `max_num_tokens` = KV-limited requests x (1 + I/O), in [2048, 32768].

    Rounded up as `finetune_setting` does (to 256 below 4,096, 512 below 8,192, else 1,024).
    """
    raw = min(min(kv_requests, TRTLLM_MAX_BATCH) * (1 + input_len / output_len), 32768)
    if raw < 4096:
        return max(TRTLLM_MIN_TOKENS, 256 * math.ceil(raw / 256))
    step = 512 if raw < 8192 else 1024
    return int(step * math.ceil(raw / step))
