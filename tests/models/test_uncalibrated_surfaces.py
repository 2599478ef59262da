"""Issue 18 acceptance: a configuration outside the calibration data warns on every surface.
MI300X (a vendor with one source) and gpt-oss (MXFP4 MoE, one row) through `perf predict`,
`selfhost compare` (per-GPU options and whole-node fleets, text and JSON) and
`unitecon audit`; the HTTP API is in tests/server/test_selfhost_coverage.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unitecon.cli.main import run

FIX = Path(__file__).parent / "fixtures"
CASES = {
    # model, GPU, precision, what the warning names
    "mi300x": ("Llama-3.1-70B", "MI300X", "fp8", "vendor amd"),
    "gpt-oss": ("gpt-oss-120b", "H100", "mxfp4", "mxfp4"),
}


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert run([*argv, "--json"]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


@pytest.mark.parametrize("case", CASES)
def test_perf_predict_warns(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    model, gpu, prec, why = CASES[case]
    argv = [
        "perf", "predict", "--model", model, "--gpu", gpu, "--precision", prec,
        "--gpus", "8" if gpu == "MI300X" else "1", "--input-len", "1000",
        "--output-len", "1000", "--max-throughput",
    ]  # fmt: skip
    r = _json(capsys, argv)
    assert r["calibrated"] is False and why in str(r["coverage_warning"])
    assert run(argv) == 0
    assert "UNCALIBRATED" in capsys.readouterr().out


@pytest.mark.parametrize("case", CASES)
def test_selfhost_compare_warns_on_options_and_fleets(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model, gpu, _, why = CASES[case]
    argv = [
        "selfhost", "compare", "--model", model, "--api-model", "openai:gpt-4.1",
        "--input-len", "1000", "--output-len", "500", "--cached-share", "0",
        "--peak-tps", "20000", "--gpu", gpu, "--cloud", "azure" if gpu == "MI300X" else "aws",
        "--top", "50",
    ]  # fmt: skip
    r = _json(capsys, argv)
    options = r["options"]
    assert isinstance(options, list)
    # every MI300X option, and every gpt-oss option in its released MXFP4, is flagged
    key = ("gpu_id", "mi300x") if gpu == "MI300X" else ("precision", "mxfp4")
    mine = [o for o in options if o[key[0]] == key[1]]
    assert mine and all(not o["calibrated"] and why in o["coverage_warning"] for o in mine)
    if not options[0]["calibrated"]:
        assert "UNCALIBRATED" in str(r["ranking_note"])
    fleets = r["fleets"]
    assert isinstance(fleets, dict)
    ours = [f for f in fleets["options"] if f[key[0]] == key[1]]
    assert ours and all(not f["calibrated"] and why in f["coverage_warning"] for f in ours)
    if not fleets["options"][0]["calibrated"]:
        assert "UNCALIBRATED" in str(fleets["ranking_note"])
    assert run(argv) == 0
    assert "UNCALIBRATED" in capsys.readouterr().out


@pytest.mark.parametrize("case", CASES)
def test_audit_warns(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    model, gpu, prec, why = CASES[case]
    argv = [
        "audit", "endpoint", "--metrics", str(FIX / "vllm_metrics_t0.prom"),
        "--metrics", str(FIX / "vllm_metrics_t1.prom"), "--interval", "60",
        "--model", model, "--gpu", gpu, "--precision", prec,
        "--gpus", "8" if gpu == "MI300X" else "1",
    ]  # fmt: skip
    r = _json(capsys, argv)
    audit = r["audits"][0]  # type: ignore[index]
    assert audit["calibrated"] is False and why in audit["coverage_warning"]
    assert run(argv) == 0
    assert "UNCALIBRATED" in capsys.readouterr().out
