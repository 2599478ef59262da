"""Fin.ai, "Cost of Serving LLMs" (2025-09-10): a small open model (Gemma 3 4B) self-hosted
at about 4% of the GPT-4.1 API, a 235B model (Qwen3-235B-A22B) at about 217%. Reproduced
within +-25% under these stated assumptions:

- AWS 8-GPU nodes only (p5.48xlarge, p5en.48xlarge, p4de.24xlarge, g6e/g6/g5.48xlarge), the
  cheapest fleet per model; 1-year reserved node prices; fleet sized to the peak tokens/s
  at 80% target utilization (Fin: "reserved instances needed to serve existing traffic");
- the open checkpoints as released, in BF16; TensorRT-LLM-class serving;
- GPT-4.1 at list price (genai-prices), a support mix of 1,500 input tokens (half cached)
  and 300 output tokens; peak minute / monthly mean load 3;
- an interactive latency target: 25 ms per output token (40 tokens/s per user), 2 s to
  first token;
- the traffic level at which the small model lands near 4% (searched below).

HOW FRAGILE: the 235B ratio is a steep function of the latency target, because under it
the 8-GPU replica's batch collapses: 397% at 24 ms, 218% at 25 ms, 153% at 26 ms, 100% at
28 ms, 74% at 30 ms (this fit; each refit of the efficiency factors moves these). What is
robust is the flip with model size (`test_the_answer_flips_with_model_size`); the headline
pair needs a target near 25 ms.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from unitecon.models import instances, selfhost

AWS_8 = [s for s in instances.cloud_shapes() if s.cloud == "aws" and s.gpus == 8]
SLO = selfhost.Slo(tpot_s=0.025, ttft_s=2.0)


def _ratio(model: str, peak: float, slo: selfhost.Slo = SLO) -> Decimal:
    w = selfhost.Workload(1500, 300, 0.5, peak_tokens_per_s=peak, peak_to_average=3)
    c = selfhost.compare_fleets(
        w,
        model,
        "openai:gpt-4.1",
        shapes=AWS_8,
        plan="reserved_1y",
        precisions=("bf16",),
        slo=slo,
    )
    cheapest = min(c.fleets, key=lambda f: f.monthly_usd["reserved_1y"])
    return c.ratio(cheapest)


@pytest.mark.slow
def test_fin_headline_ratios_within_25_percent() -> None:
    peaks = [100_000, 200_000, 400_000, 800_000]
    small = {p: _ratio("Gemma-3-4B", p) for p in peaks}
    peak = min(peaks, key=lambda p: abs(small[p] - Decimal("0.04")))
    assert Decimal("0.03") <= small[peak] <= Decimal("0.05"), small  # 4% +-25%
    big = _ratio("Qwen3-235B-A22B", peak)
    assert Decimal("2.17") * Decimal("0.75") <= big <= Decimal("2.17") * Decimal("1.25"), big


@pytest.mark.slow
@pytest.mark.parametrize("tpot_ms", [24, 26, 30])
def test_the_answer_flips_with_model_size(tpot_ms: int) -> None:
    # Whatever the interactive target, the small model is a few % of the API and the
    # 235B model a large multiple of the small one's share.
    slo = selfhost.Slo(tpot_ms / 1000, 2.0)
    small, big = _ratio("Gemma-3-4B", 400_000, slo), _ratio("Qwen3-235B-A22B", 400_000, slo)
    assert small < Decimal("0.10") and big > Decimal("0.5") and big > 10 * small


def test_people_cost_is_added_per_month() -> None:
    people = selfhost.People(Decimal("1.5"), Decimal("240000"))
    assert people.monthly_usd == Decimal("30000.00")  # 1.5 x 240,000 / 12


def test_nodes_are_sized_for_the_peak_at_target_utilization() -> None:
    # 100k tok/s peak, 12k tok/s per 2-GPU replica at 80%: ceil(100/(12*0.8)) = 11 replicas;
    # 4 replicas per 8-GPU node -> ceil(11/4) = 3 nodes.
    assert instances.nodes_for_peak(100_000, 12_000, 2, 8, 0.8) == (11, 3)


def test_p5_prices_are_the_dated_list() -> None:
    p5 = next(s for s in instances.cloud_shapes() if s.instance == "p5.48xlarge")
    assert p5.gpus == 8 and p5.usd_h["on_demand"] == Decimal("98.32")
    assert p5.usd_h["reserved_3y"] == Decimal("43.16") and "spot" in p5.derived
    # a node-month on 1y reserve: 57.63 x 730
    assert instances.monthly(1, p5.usd_h["reserved_1y"]) == Decimal("42069.90")
