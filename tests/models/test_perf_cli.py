"""`unitecon perf ...` and `unitecon selfhost ...` through `run(argv)`, as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from unitecon.cli.main import run

PREDICT = [
    "perf",
    "predict",
    "--model",
    "Llama-3.1-8B",
    "--gpu",
    "H100",
    "--input-len",
    "1000",
    "--output-len",
    "200",
]


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert run([*argv, "--json"]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_predict_json(capsys: pytest.CaptureFixture[str]) -> None:
    r = _json(capsys, [*PREDICT, "--concurrency", "16", "--gpu-price", "2.10"])
    assert r["batch"] == 16 and r["bound"] == "memory"
    assert r["usd_per_gpu_hour"] == "2.10"  # money is a decimal string
    assert isinstance(r["usd_per_mtok_output"], str)
    # 16 sequences / TPOT
    assert r["output_tok_s"] == pytest.approx(16 / (r["tpot_ms"] / 1e3), rel=1e-2)  # type: ignore[operator]


def test_predict_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*PREDICT, "--max-throughput"]) == 0
    out = capsys.readouterr().out
    for label in (
        "output tokens/s (total)",
        "per GPU",
        "time to first token",
        "time per output token",
        "max batch",
        "bound",
        "GPU-s per output token",
        "$/M output tokens",
    ):
        assert label in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--gpu", "H10"], "Did you mean: H100"),
        (["--model", "Llama-3.1-8"], "Did you mean: Llama-3.1-8B"),
        (["--model", "Llama-3.1-70B"], "does not fit"),
        (["--input-len", "0"], "input length must be a positive"),
        (["--output-len", "-4"], "output length must be a positive"),
        (["--precision", "int3"], "Unknown precision 'int3'"),
        (["--gpus", "0"], "number of GPUs must be positive"),
        (["--model", "missing.yaml"], "cannot read"),
    ],
)
def test_predict_errors_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run([*PREDICT, "--concurrency", "4", *argv]) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert message in err and "Traceback" not in err


def test_predict_needs_exactly_one_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(PREDICT) == 2
    assert run([*PREDICT, "--concurrency", "4", "--max-throughput"]) == 2
    assert "exactly one of" in capsys.readouterr().err


def test_custom_model_and_gpu_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a custom architecture in models.csv column names (a small MoE with windowed layers)
    model = {
        "model": "tiny-moe",
        "layers": 4,
        "hidden_size": 1024,
        "num_attention_heads": 8,
        "num_kv_heads": 2,
        "head_dim": 128,
        "vocab_size": 32000,
        "moe_intermediate_size": 512,
        "num_routed_experts": 16,
        "experts_per_token": 2,
        "sliding_window": 256,
        "window_layers": 2,
        "tie_word_embeddings": True,
    }
    gpu = {
        "gpu": "My accelerator",
        "memory_gb": 32,
        "mem_bandwidth_tb_s": 1.0,
        "bf16_dense_tflops": 200,
        "interconnect": "PCIe Gen5",
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(model))
    (tmp_path / "g.json").write_text(json.dumps(gpu))
    r = _json(
        capsys,
        [
            "perf",
            "predict",
            "--model",
            str(tmp_path / "m.yaml"),
            "--gpu",
            str(tmp_path / "g.json"),
            "--input-len",
            "100",
            "--output-len",
            "50",
            "--concurrency",
            "2",
            "--gpu-price",
            "1",
        ],
    )
    assert r["model"] == "tiny-moe" and r["gpu"] == "My accelerator"


def test_custom_file_with_unknown_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "g.yaml").write_text(
        "gpu: x\nmemory_gb: 10\nmem_bandwidth_tb_s: 1\nbf16_dense_tflops: 100\nbandwith: 3\n"
    )
    assert run([*PREDICT, "--concurrency", "1", "--gpu", str(tmp_path / "g.yaml")]) == 2
    assert "bandwith" in capsys.readouterr().err


def test_selfhost_compare_json(capsys: pytest.CaptureFixture[str]) -> None:
    r = _json(
        capsys,
        [
            "selfhost",
            "compare",
            "--model",
            "Llama-3.1-8B",
            "--api-model",
            "openai:gpt-4.1-mini",
            "--input-len",
            "800",
            "--output-len",
            "200",
            "--cached-share",
            "0.25",
            "--peak-tps",
            "5000",
            "--gpu",
            "H100",
            "--gpu",
            "L40S",
            "--gpu-price",
            "h100-sxm=2.10",
            "--top",
            "3",
        ],
    )
    assert r["api_model"] == "openai:gpt-4.1-mini"
    options = r["options"]
    assert isinstance(options, list) and 0 < len(options) <= 3
    costs = [float(o["conservative_monthly_usd"]) for o in options]
    assert costs == sorted(costs)  # ranked on the low end of each throughput band
    assert all("calibrated" in o and len(o["throughput_band"]) == 2 for o in options)


def test_selfhost_compare_text_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "selfhost",
        "compare",
        "--model",
        "Llama-3.1-8B",
        "--input-len",
        "800",
        "--output-len",
        "200",
        "--cached-share",
        "0",
        "--peak-tps",
        "5000",
        "--gpu",
        "H100",
    ]
    assert run([*base, "--api-model", "openai:gpt-4.1-mini"]) == 0
    assert "Cheapest meeting the SLO" in capsys.readouterr().out
    assert run([*base, "--api-model", "nope-model"]) == 2
    assert run([*base, "--api-model", "gpt-4.1", "--gpu-price", "h100"]) == 2
    assert run([*base, "--api-model", "gpt-4.1", "--plan", "weekly"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_selfhost_compare_shows_shapes_pricing_and_people(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        "selfhost", "compare", "--model", "Llama-3.1-8B", "--api-model", "openai:gpt-4.1",
        "--input-len", "800", "--output-len", "200", "--cached-share", "0",
        "--peak-tps", "50000", "--cloud", "aws", "--pricing", "reserved_3y",
        "--mlops-fte", "1",
    ]  # fmt: skip
    r = _json(capsys, argv)
    fleets = r["fleets"]
    assert isinstance(fleets, dict) and fleets["pricing"] == "reserved_3y"
    assert fleets["people_monthly_usd"] == "20833.33"  # 1 FTE x 250,000 / 12
    o = fleets["options"][0]
    assert o["cloud"] == "aws" and o["gpus_per_node"] in (1, 8)
    # every price says where it comes from, or that it has no source and where to check it
    if o["price_status"] == "sourced":
        assert o["price_source"].startswith("https://") and o["price_seen"]
    else:
        assert o["price_status"] == "unsourced" and o["price_check_at"].startswith("https://")
    # total = nodes x node $/h x 730 + people
    nodes = float(o["nodes"]) * float(o["node_usd_per_hour"]) * 730
    assert float(o["total_monthly_usd"]) == pytest.approx(nodes + 20833.33, abs=1.0)
    assert run(argv) == 0
    assert "Fleets of whole nodes" in capsys.readouterr().out
