"""Fin.ai, "Cost of Serving LLMs" (2025-09-10): a small open model (Gemma 3 4B) self-hosted
at about 4% of the GPT-4.1 API, a 235B model (Qwen3-235B-A22B) at about 217%. Reproduced
within +-25% under these stated assumptions (Fin's per-instance throughputs, latency target
and traffic are not public, so each unknown is an assumption here):

- AWS 8-GPU nodes only (p5.48xlarge, p5en.48xlarge, p4de.24xlarge, g6e/g6/g5.48xlarge), the
  cheapest fleet per model; 1-year reserved node prices; fleet sized to the peak tokens/s
  at 80% target utilization (Fin: "reserved instances needed to serve existing traffic");
  no people cost (Fin compares instance bills with API bills);
- the open checkpoints as released, in BF16; TensorRT-LLM-class serving (the calibrated
  engine);
- GPT-4.1 at list price (genai-prices), a support mix of 1,500 input tokens (half cached)
  and 300 output tokens; peak minute / monthly mean load 3;
- each instance runs at its maximum *sustainable* throughput (Fin's sizing input): a latency
  target of 50 ms per output token and 2 s to first token for both models, and for the
  235B MoE at most 40 concurrent requests per replica (`--max-num-seqs 40`), standing in
  for Fin's unpublished interactive target (the value is chosen, like the traffic level
  below; it is the one knob of the big model's ratio);
- the traffic level: the lowest peak (of 100k-1.6M tokens/s) at which the small model's
  ratio has settled (one more node per extra peak), 400k tokens/s.

WHY THIS FORM (robust) AND NOT A TIGHTER TPOT TARGET (fragile): a 235B MoE's time per
token rises with the batch only until a step reads all 128 experts (~25 ms here) and is
flat after it, so under a per-token target near that plateau the batch, and the ratio, jump:
this fit gives 540% at 25 ms, 288% at 26 ms, 131% at 28 ms, 92% at 30 ms (the previous fit
gave 218% at 25 ms). With the concurrency fixed, the ratio is proportional to the model's
step time at that batch, so a refit moves it by about as much as the model's calibration
error (~10%), not by 2x; `test_big_model_ratio_moves_smoothly_with_the_assumption` checks
it. The small model's ratio is flat: it runs at full batch whatever the target, and past
one node its cost grows with the traffic like the API's.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from unitecon.models import instances, selfhost
from unitecon.models.perf.serving import Engine

AWS_8 = [s for s in instances.cloud_shapes() if s.cloud == "aws" and s.gpus == 8]
SLO = selfhost.Slo(tpot_s=0.050, ttft_s=2.0)
PEAK = 400_000  # tokens/s (input + output) in the peak minute
BIG_CONCURRENCY = 40


def _ratio(
    model: str, peak: float, max_seqs: int | None = None, slo: selfhost.Slo = SLO
) -> Decimal:
    w = selfhost.Workload(1500, 300, 0.5, peak_tokens_per_s=peak, peak_to_average=3)
    c = selfhost.compare_fleets(
        w,
        model,
        "openai:gpt-4.1",
        shapes=AWS_8,
        plan="reserved_1y",
        precisions=("bf16",),
        slo=slo,
        engine=Engine(max_batch=max_seqs),
    )
    cheapest = min(c.fleets, key=lambda f: f.monthly_usd["reserved_1y"])
    return c.ratio(cheapest)


@pytest.mark.slow
def test_fin_headline_ratios_within_25_percent() -> None:
    small = _ratio("Gemma-3-4B", PEAK)
    assert Decimal("0.03") <= small <= Decimal("0.05"), small  # 4% +-25%
    big = _ratio("Qwen3-235B-A22B", PEAK, BIG_CONCURRENCY)
    assert Decimal("2.17") * Decimal("0.75") <= big <= Decimal("2.17") * Decimal("1.25"), big


@pytest.mark.slow
def test_small_model_ratio_has_settled_at_this_traffic() -> None:
    # Past one node the small model's fleet grows with the peak as the API bill does, so its
    # ratio is the same at 2x and 4x the traffic (and at a 100 ms target).
    base = _ratio("Gemma-3-4B", PEAK)
    assert _ratio("Gemma-3-4B", 2 * PEAK) == pytest.approx(base, rel=Decimal("0.05"))
    assert _ratio("Gemma-3-4B", 4 * PEAK) == pytest.approx(base, rel=Decimal("0.05"))
    loose = selfhost.Slo(tpot_s=0.1, ttft_s=2.0)
    assert _ratio("Gemma-3-4B", PEAK, slo=loose) == pytest.approx(base, rel=Decimal("0.05"))


@pytest.mark.slow
def test_big_model_ratio_moves_smoothly_with_the_assumption() -> None:
    # +-20% on the concurrency moves the ratio by about -+20% (fleet size ~ 1/concurrency
    # while the step time barely changes), never by the 2x jumps of a per-token target.
    at = {n: float(_ratio("Qwen3-235B-A22B", PEAK, n)) for n in (32, 40, 48)}
    assert at[32] > at[40] > at[48]
    assert 1.1 < at[32] / at[40] < 1.4 and 1.1 < at[40] / at[48] < 1.4, at


@pytest.mark.slow
@pytest.mark.parametrize("tpot_ms", [24, 26, 30])
def test_the_answer_flips_with_model_size(tpot_ms: int) -> None:
    # Whatever the interactive target, the small model is a few % of the API and the
    # 235B model a large multiple of the small one's share.
    slo = selfhost.Slo(tpot_ms / 1000, 2.0)
    small, big = _ratio("Gemma-3-4B", PEAK, slo=slo), _ratio("Qwen3-235B-A22B", PEAK, slo=slo)
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
