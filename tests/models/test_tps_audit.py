"""The TPS audit: observations from spans and from engine metrics (fixtures written from
the engines' documented metric names, with values whose means and rates are worked out by
hand below), and the binding-constraint rules on constructed cases with a known answer."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon.cli.main import run
from unitecon.errors import InputError
from unitecon.models import tps
from unitecon.models.perf import calibrate
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import Engine, Lengths, at_concurrency, max_throughput
from unitecon.models.tps.audit import usd_per_mtok

FIX = Path(__file__).parent / "fixtures"
EFF = calibrate.fitted()
PRICE = Decimal("2.50")


def _text(name: str) -> str:
    return (FIX / name).read_text()


# ---- observations -------------------------------------------------------------------


def test_spans_concurrency_peak_and_tpot() -> None:
    spans = [
        tps.Span(0.0, 10.0, 1.0, 100, 10),  # TPOT (10 - 1) / (10 - 1) = 1.0 s
        tps.Span(5.0, 10.0, 1.0, 100, 10),  # overlaps the first from 5 to 10
        tps.Span(20.0, 10.0, 2.5, 100, 16),  # TPOT (10 - 2.5) / 15 = 0.5 s
    ]
    o = tps.from_spans(spans)
    assert o.concurrency == pytest.approx(30 / 30)  # Σ duration 30 s over a 30 s window
    assert o.peak_concurrency == 2
    assert o.output_tok_s == pytest.approx(36 / 30)
    assert o.ttft_s == pytest.approx((1 + 1 + 2.5) / 3)
    assert o.tpot_s == pytest.approx((1.0 + 1.0 + 0.5) / 3)
    assert (o.input_len, o.output_len) == (100, 12)


def test_vllm_two_scrapes_give_rates_and_interval_means() -> None:
    o = tps.from_metrics([_text("vllm_metrics_t0.prom"), _text("vllm_metrics_t1.prom")], 60)
    assert o.source == "metrics (vllm)"
    assert o.output_tok_s == pytest.approx((212_000 - 200_000) / 60)  # 200 tok/s
    assert o.input_tok_s == pytest.approx((1_060_000 - 1_000_000) / 60)
    assert o.ttft_s == pytest.approx((54.8 - 50.0) / (1060 - 1000))  # 0.08 s
    assert o.tpot_s == pytest.approx((3343.2 - 2985.0) / (210_940 - 199_000))  # 0.03 s
    assert (o.concurrency, o.waiting, o.kv_usage) == (24, 3, 0.95)  # last scrape's gauges
    assert (o.input_len, o.output_len) == (1000, 200)  # 60,000 / 60 and 12,000 / 60


def test_sglang_one_scrape_uses_its_throughput_gauge() -> None:
    o = tps.from_metrics([_text("sglang_metrics.prom")])
    assert o.output_tok_s == 2765.4  # sglang:gen_throughput
    assert o.ttft_s == pytest.approx(595.5 / 160)
    assert o.tpot_s == pytest.approx(1288.2 / 163_680)
    assert (o.input_len, o.output_len) == (512, 1024)  # 81,920 / 160 and 163,840 / 160
    assert o.kv_usage == 0.12


def test_tgi_one_scrape_little_law() -> None:
    o = tps.from_metrics([_text("tgi_metrics.prom")])
    assert o.output_tok_s == pytest.approx(8 / (2.0 / 100))  # running / mean TPOT = 400
    assert o.ttft_s == pytest.approx(2.5 / 100)  # queue wait: TGI has no TTFT histogram
    assert (o.input_len, o.output_len) == (500, 200)
    assert any("TGI exports no TTFT" in n for n in o.notes)


def test_bad_metrics_say_so() -> None:
    with pytest.raises(InputError, match="no vllm:, sglang: or tgi_"):
        tps.from_metrics(["# TYPE foo counter\nfoo_total 1\n"])
    with pytest.raises(InputError, match="--interval"):
        tps.from_metrics([_text("tgi_metrics.prom"), _text("tgi_metrics.prom")])


# ---- binding constraint on constructed cases ------------------------------------------


def _obs(point: object, conc: float, lengths: Lengths, **kw: object) -> tps.Observed:
    args = {
        "source": "constructed",
        "output_tok_s": point.output_tok_s,  # type: ignore[attr-defined]
        "input_tok_s": 0.0,
        "ttft_s": point.ttft_s,  # type: ignore[attr-defined]
        "tpot_s": point.tpot_s,  # type: ignore[attr-defined]
        "concurrency": conc,
        "input_len": lengths.input_len,
        "output_len": lengths.output_len,
    }
    args.update(kw)
    return tps.Observed(**args)  # type: ignore[arg-type]


def test_light_load_is_bound_by_arrivals() -> None:
    dep, eng, lengths = deployment("Llama-3.1-8B", "H100", 1, "fp8"), Engine(), Lengths(1000, 200)
    p = at_concurrency(dep, EFF, eng, lengths, 2)
    a = tps.audit(_obs(p, 2, lengths, kv_usage=0.01), dep, EFF, eng, PRICE)
    assert a.binding == "queueing/arrivals"
    top = max_throughput(dep, EFF, eng, lengths)
    first = a.bottlenecks[0]
    assert first.constraint == "queueing/arrivals"
    assert first.gain == pytest.approx(top.output_tok_s / p.output_tok_s)
    # $/M output tokens = 1 GPU x $2.50 / 3600 / tok/s x 1e6, before and after
    assert float(first.usd_per_mtok_before) == pytest.approx(
        2.5 / 3600 / p.output_tok_s * 1e6, rel=1e-3
    )
    assert float(first.usd_per_mtok_after) == pytest.approx(
        2.5 / 3600 / top.output_tok_s * 1e6, rel=1e-3
    )


def test_slow_tokens_at_load_are_io_outside_the_gpu() -> None:
    dep, eng, lengths = deployment("Llama-3.1-8B", "H100", 1, "fp8"), Engine(), Lengths(1000, 200)
    p = at_concurrency(dep, EFF, eng, lengths, 200)
    # TPOT 3x the GPU step's: the I/O rule comes before the light-load rule
    obs = _obs(p, 200, lengths, tpot_s=3 * p.tpot_s, output_tok_s=p.output_tok_s / 3)
    a = tps.audit(obs, dep, EFF, eng, PRICE)
    assert a.binding == "I/O outside the GPU"
    io = next(b for b in a.bottlenecks if b.constraint == "I/O outside the GPU")
    assert io.gain == pytest.approx(3.0)
    assert io.output_tok_s_after == pytest.approx(p.output_tok_s)


def test_full_kv_cache_with_a_queue_is_kv_capacity() -> None:
    # Llama-3.1-70B FP8 on one H100: 66 GiB of weights leave ~10 sequences of KV.
    dep, eng, lengths = deployment("Llama-3.1-70B", "H100", 1, "fp8"), Engine(), Lengths(1000, 1000)
    top = max_throughput(dep, EFF, eng, lengths)
    assert top.batch_limit == "KV-cache capacity"
    obs = _obs(top, top.batch, lengths, waiting=40, kv_usage=0.98)
    a = tps.audit(obs, dep, EFF, eng, PRICE)
    assert a.binding == "KV capacity"
    kv = next(b for b in a.bottlenecks if b.constraint == "KV capacity")
    # KV already FP8: the gain is per GPU with two GPUs per replica
    two = max_throughput(deployment("Llama-3.1-70B", "H100", 2, "fp8"), EFF, eng, lengths)
    assert kv.gain == pytest.approx(two.output_tok_s / 2 / top.output_tok_s)
    assert kv.gain > 1.5


def test_a_queue_with_free_kv_is_the_engine_limit() -> None:
    dep, eng, lengths = deployment("Llama-3.1-8B", "H100", 1, "fp8"), Engine(), Lengths(500, 500)
    p = at_concurrency(dep, EFF, eng, lengths, 64)
    a = tps.audit(_obs(p, 64, lengths, waiting=30, kv_usage=0.3), dep, EFF, eng, PRICE)
    assert a.binding == "queueing/arrivals"
    assert a.bottlenecks[0].name == "engine batch limit with KV cache to spare"


@pytest.mark.parametrize(
    ("model", "prec", "lengths", "roof"),
    [
        ("Llama-3.1-70B", "fp8", Lengths(1000, 1000), "memory bandwidth"),  # KV-starved batch
        ("Llama-3.1-8B", "fp8", Lengths(2000, 128), "compute"),  # prefill-heavy, big batch
    ],
)
def test_running_at_the_roof_names_the_roof(
    model: str, prec: str, lengths: Lengths, roof: str
) -> None:
    dep, eng = deployment(model, "H100", 1, prec), Engine()
    top = max_throughput(dep, EFF, eng, lengths)
    assert top.bound == roof.split()[0]  # the premise: the model's roof at full batch
    a = tps.audit(_obs(top, top.batch, lengths, kv_usage=0.8), dep, EFF, eng, PRICE)
    assert a.binding == roof
    assert a.share_of_ceiling == pytest.approx(1.0)


def test_bf16_weights_on_an_fp8_gpu_is_a_bottleneck() -> None:
    dep, eng, lengths = deployment("Llama-3.1-8B", "H100", 1), Engine(), Lengths(1000, 200)
    top = max_throughput(dep, EFF, eng, lengths)
    a = tps.audit(_obs(top, top.batch, lengths, kv_usage=0.8), dep, EFF, eng, PRICE)
    fp8 = next(b for b in a.bottlenecks if "BF16 weights" in b.name)
    assert fp8.gain > 1.2


def test_usd_per_mtok() -> None:
    # 2 GPUs x $2.10 / 3600 s / 941 tok/s x 1e6 = $1.2398 per million output tokens
    assert usd_per_mtok(2, Decimal("2.10"), 941) == Decimal("1.2398")


# ---- the command -----------------------------------------------------------------------


def test_audit_cli_on_vllm_fixtures(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "audit", "vllm-prod", "--metrics", str(FIX / "vllm_metrics_t0.prom"),
        "--metrics", str(FIX / "vllm_metrics_t1.prom"), "--interval", "60",
        "--model", "Llama-3.1-8B", "--gpu", "H100", "--gpu-price", "2.50",
    ]  # fmt: skip
    assert run([*argv, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)["audits"][0]
    assert r["source"] == "metrics (vllm)" and r["binding_constraint"] == "KV capacity"
    assert r["observed"]["output_tok_s"] == 200.0 and r["observed"]["tpot_ms"] == 30.0
    assert len(r["bottlenecks"]) <= 3
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "Binding constraint: KV capacity" in out and "Top bottlenecks" in out


def test_audit_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "audit.html"
    argv = [
        "audit", "tgi", "--metrics", str(FIX / "tgi_metrics.prom"), "--model",
        "Llama-3.1-8B", "--gpu", "L40S", "--chart", str(path),
    ]  # fmt: skip
    assert run(argv) == 0
    assert "plotly" in path.read_text()[:200_000].lower()


def test_audit_cli_sglang_gpt_oss_warns_uncalibrated(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "audit", "oss", "--metrics", str(FIX / "sglang_metrics.prom"), "--model",
        "gpt-oss-20b", "--gpu", "H100", "--precision", "mxfp4", "--json",
    ]  # fmt: skip
    assert run(argv) == 0
    r = json.loads(capsys.readouterr().out)["audits"][0]
    assert r["calibrated"] is False and "mxfp4" in r["coverage_warning"]


def test_audit_cli_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "m.prom"
    bad.write_text("not metrics at all {{{\n")
    assert (
        run(["audit", "x", "--metrics", str(bad), "--model", "Llama-3.1-8B", "--gpu", "H100"]) == 2
    )
    assert run(["audit", "x", "--metrics", str(tmp_path / "missing.prom")]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
def test_audit_on_the_demo_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    # The demo's self-hosted endpoint (Llama 3.3 70B FP8 on 2 x H100, light traffic):
    # its spans carry durations and TTFT; the finding is the idle GPUs.
    from unitecon.pipeline import run_demo

    run_demo(days=7, customers=10, quiet=True)
    capsys.readouterr()
    assert run(["audit", "llama-70b-h100", "--precision", "fp8", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)["audits"][0]
    assert r["source"] == "spans" and r["model"] == "Llama-3.1-70B" and r["num_gpus"] == 2
    assert r["observed"]["requests"] > 0 and r["observed"]["tpot_ms"] > 0
    assert r["binding_constraint"] == "queueing/arrivals"
    assert r["share_of_max"] < 0.05
    assert r["bottlenecks"][0]["constraint"] == "queueing/arrivals"
