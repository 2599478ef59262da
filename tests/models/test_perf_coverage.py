"""Calibration coverage: every prediction carries a band, and a configuration outside the
calibration data (MI300X, gpt-oss's MXFP4 MoE, FP4, an engine without rows) warns in the
model, the CLI, the HTTP API and `selfhost compare`, which never ranks such an option
first without saying so."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest

from unitecon.cli.main import run
from unitecon.models import selfhost
from unitecon.models.perf import calibrate, coverage
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import Lengths

BALANCED = Lengths(1000, 1000)


def test_calibrated_configuration_has_a_narrow_band_and_no_warning() -> None:
    # Llama-3.1-8B BF16 on one H100 with TensorRT-LLM: 15 H100 rows, 11 BF16, 21 dense.
    c = coverage.assess(deployment("Llama-3.1-8B", "H100", 1), "trtllm", BALANCED)
    assert c.calibrated and c.warning is None
    # band = exp(+-w_cal) with w_cal the held-out p80 |log error| (between 5% and 40%)
    assert 0.6 < c.low < 0.96 and 1.04 < c.high < 1.5
    assert c.low * c.high == pytest.approx(1.0)  # symmetric in log without gaps


def test_mi300x_is_uncalibrated_and_says_why() -> None:
    # AMD's own vLLM results are the only AMD source: 6 rows, 1 source -> still a gap.
    c = coverage.assess(deployment("Llama-3.1-70B", "MI300X", 1, "fp8"), "vllm", BALANCED)
    assert not c.calibrated
    text = c.warning or ""
    assert "vendor amd: 6 calibration rows from 1 source" in text
    c = coverage.assess(deployment("Llama-3.1-70B", "MI300X", 1, "fp8"), "sglang", BALANCED)
    assert "engine sglang: 1 calibration row" in (c.warning or "")
    # gaps: vendor ln2, engine ln1.35 -> w_gap = sqrt(sum of squares)
    w_gap = math.sqrt(math.log(2) ** 2 + math.log(1.35) ** 2)
    w_cal = -math.log(
        coverage.assess(deployment("Llama-3.1-8B", "H100", 1), "trtllm", BALANCED).low
    )
    assert c.low == pytest.approx(math.exp(-(w_cal + w_gap)))
    assert c.high == pytest.approx(math.exp(w_cal + w_gap / 2))
    assert c.low < 0.5  # the held-out MI300X rows were 2x too optimistic


def test_gpt_oss_mxfp4_moe_is_uncalibrated() -> None:
    c = coverage.assess(deployment("gpt-oss-120b", "H100", 1, "mxfp4"), "vllm", BALANCED)
    assert not c.calibrated
    assert "weights mxfp4: 1 calibration row" in (c.warning or "")


def test_nvfp4_weights_default_to_fp8_kv_cache() -> None:
    # NVIDIA's NVFP4 checkpoints set kv_cache_quant_algo FP8; the KV halves vs BF16.
    dep = deployment("Llama-3.1-405B", "B200", 8, "fp4")
    assert dep.kv.name == "fp8"
    assert deployment("gpt-oss-120b", "H100", 1, "mxfp4").kv.name == "bf16"  # vLLM 'auto'
    assert "weights fp4: no calibration row" in (
        coverage.assess(dep, "trtllm", BALANCED).warning or ""
    )


def test_long_context_is_a_regime_gap() -> None:
    c = coverage.assess(deployment("Llama-3.1-8B", "H100", 1), "trtllm", Lengths(30_000, 500))
    assert "regime long context" in (c.warning or "")


def _compare(gpus: list[str]) -> selfhost.Comparison:
    deps = [deployment("Llama-3.1-70B", g, n, "fp8") for g in gpus for n in (1, 2, 4)]
    prices = {"h100-sxm": Decimal("2.50"), "mi300x": Decimal("1.00")}
    w = selfhost.Workload(1000, 500, 0.0, peak_tokens_per_s=20_000)
    return selfhost.compare(
        w, "Llama-3.1-70B", "openai:gpt-4.1", on_demand_usd_h=prices, deployments=deps
    )


def test_compare_never_ranks_uncalibrated_first_silently() -> None:
    # MI300X at $1.00/GPU-h is far cheaper on paper than H100 at $2.50.
    c = _compare(["H100", "MI300X"])
    first = c.options[0]
    if first.calibrated:
        assert c.ranking_note is None
    else:
        note = c.ranking_note or ""
        assert "UNCALIBRATED" in note and "cheapest calibrated option" in note
    for o in c.options:
        assert o.calibrated == (o.gpu_id != "mi300x")
        assert (o.coverage.warning is None) == o.calibrated
    # ranked on the low end of each band
    keys = [o.conservative_monthly_usd for o in c.options]
    assert keys == sorted(keys)


def test_compare_cli_and_api_show_the_warning(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "selfhost", "compare", "--model", "Llama-3.1-70B", "--api-model", "openai:gpt-4.1",
        "--input-len", "1000", "--output-len", "500", "--cached-share", "0",
        "--peak-tps", "20000", "--gpu", "MI300X", "--gpu-price", "mi300x=0.50",
    ]  # fmt: skip
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "UNCALIBRATED" in out and "ranked first on an UNCALIBRATED prediction" in out
    assert run([*argv, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["ranking_note"] and not r["options"][0]["calibrated"]
    assert "vendor amd" in r["options"][0]["coverage_warning"]


def test_predict_cli_band_and_warning_for_gpt_oss(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "perf", "predict", "--model", "gpt-oss-120b", "--gpu", "H100", "--precision", "mxfp4",
        "--input-len", "1000", "--output-len", "1000", "--max-throughput", "--engine", "vllm",
    ]  # fmt: skip
    assert run([*argv, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    low, high = r["output_tok_s_band"]
    assert low < r["output_tok_s"] < high and r["calibrated"] is False
    assert any("mxfp4" in g for g in r["coverage_gaps"])
    assert run(argv) == 0
    assert "UNCALIBRATED" in capsys.readouterr().out


def test_every_calibration_row_is_counted() -> None:
    counts = coverage.row_counts()
    assert sum(counts["GPU"].values()) == len(calibrate.rows())
