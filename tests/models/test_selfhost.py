"""Self-host economics, checked against hand arithmetic and the genai-prices rate card."""

from __future__ import annotations

from decimal import Decimal

import pytest

from unitecon.errors import InputError, LookupFailed
from unitecon.models import selfhost
from unitecon.models.perf.predict import deployment


def test_usd_per_mtok() -> None:
    # 1e6 tokens · 0.001 GPU-s · $2.10 / 3600 s = $0.58333 per M tokens
    assert selfhost.usd_per_mtok(0.001, Decimal("2.10"), 1.0) == Decimal("0.5833")
    assert selfhost.usd_per_mtok(0.001, Decimal("2.10"), 0.5) == Decimal("1.1667")
    with pytest.raises(InputError, match="utilization"):
        selfhost.usd_per_mtok(0.001, Decimal("2.10"), 0)


def test_replicas_are_sized_for_the_peak() -> None:
    assert selfhost.replicas_for_peak(20_000, 6_000) == 4
    assert selfhost.replicas_for_peak(12_000, 6_000) == 2
    assert selfhost.replicas_for_peak(1, 6_000) == 1


def test_monthly_cost_is_exact_decimal() -> None:
    # 2 replicas · 4 GPUs · $2.10 · 730 h = $12,264.00
    assert selfhost.monthly_cost(2, 4, Decimal("2.10")) == Decimal("12264.00")


def test_rate_plans() -> None:
    rates = selfhost.RatePlans().rates(Decimal("4.00"))
    assert rates == {
        "on_demand": Decimal("4.00"),
        "reserved": Decimal("2.000"),
        "spot": Decimal("1.4000"),
    }


def test_api_price_for_the_mix() -> None:
    # genai-prices openai gpt-4.1: $2/M input, $0.50/M cache read, $8/M output.
    # 1000 input of which 500 cached, 300 output: 500·2 + 500·0.5 + 300·8 = $3650 per 1e6
    # requests = $0.00365 per request of 1300 tokens.
    w = selfhost.Workload(1000, 300, 0.5, peak_tokens_per_s=1000)
    price = selfhost.api_price("openai:gpt-4.1", w)
    assert (price.provider, price.model) == ("openai", "gpt-4.1")
    assert price.usd_per_mtok_blended == Decimal(3650) / Decimal(1300)


def test_unknown_api_model() -> None:
    w = selfhost.Workload(1000, 300, 0.5, peak_tokens_per_s=1000)
    with pytest.raises(LookupFailed, match="Unknown API model"):
        selfhost.api_price("openai:gpt-99", w)


def test_monthly_tokens_from_peak() -> None:
    # 3000 tok/s peak / 3 = 1000 tok/s average · 730 h · 3600 s
    assert selfhost.Workload(100, 10, 0, 3000, 3).monthly_tokens == 2_628_000_000


def test_compare_ranks_configs_and_breaks_even() -> None:
    w = selfhost.Workload(2000, 300, 0.5, peak_tokens_per_s=20_000)
    deps = [deployment("Llama-3.1-70B", g, n, "fp8") for g in ("H100", "H200") for n in (1, 2, 4)]
    prices = {"h100-sxm": Decimal("2.00"), "h200": Decimal("3.00")}
    c = selfhost.compare(
        w, "Llama-3.1-70B", "openai:gpt-4.1", on_demand_usd_h=prices, deployments=deps
    )
    costs = [o.conservative_monthly_usd for o in c.options]
    assert costs == sorted(costs) and c.cheapest is c.options[0]
    for o in c.options:
        assert o.point.tpot_s <= 0.05 and o.point.ttft_s <= 2.0
        assert o.replicas * o.tokens_per_s_per_replica >= 20_000
        gpu_h = Decimal("2.00") if o.gpu_id == "h100-sxm" else Decimal("3.00")
        assert o.monthly_usd["on_demand"] == o.replicas * o.num_gpus * gpu_h * 730
        # break-even volume x API price = the fleet's monthly cost
        be = float(o.break_even_mtok_per_month * c.api.usd_per_mtok_blended)
        assert be == pytest.approx(float(o.monthly_usd["reserved"]), rel=1e-4)
    # API at 17,520 M tokens/month (20k/3 tok/s x 730 h) x $2.1304/M
    assert c.api_monthly_usd == selfhost.money(c.api.usd_per_mtok_blended * Decimal("17520"))


def test_mismatch_warning_for_memory_bound_point_on_compute_gpu() -> None:
    from unitecon.models.perf import calibrate
    from unitecon.models.perf.serving import Engine, Lengths, at_concurrency

    eff = calibrate.fitted()
    dep = deployment("Llama-3.1-70B", "B200", 1, "fp8")  # 4.5 PFLOP/s, 8 TB/s
    small = at_concurrency(dep, eff, Engine(), Lengths(500, 500), 4)
    assert "memory-bound" in (selfhost.mismatch_warning(dep, small, eff) or "")
    big = at_concurrency(dep, eff, Engine(), Lengths(4000, 200), 256)
    assert selfhost.mismatch_warning(dep, big, eff) is None
