"""Issue 17, item 4: the unit metrics as the seed report defines them, on the hand-worked
support task of test_attr_handworked.py (its docstring has the tree and the rate card).

Support's leaf calls (variable cost):
    model calls (chat): s2 0.010 (1,000 in + 200 out), s4 0.020 (2,000 in), s5 0.030
        (2,000 in), s9 0.040, s10 0.040 (API, token-priced), s8 0.0018 (self-hosted llama,
        1.8 GPU-s, 1,000 in + 300 out)
    not model calls: s6 vector_query 0.002, s11 human_review 1.500
"""

from __future__ import annotations

from decimal import Decimal as D

from priced_rows import MakePriced
from test_attr_handworked import _costed

from unitecon.attribution.endpoints import endpoint_usage
from unitecon.economics.metrics import endpoint_metrics, unit_rows

P = D("1e-12")


def _floor(x: D) -> D:
    return x.quantize(P, "ROUND_FLOOR")


def test_seed_definitions(make_priced: MakePriced) -> None:
    c, project = _costed(make_priced)
    rows, _ = unit_rows(c, project, "feature")
    m = {r.key: r.metrics() for r in rows}["support"]
    # Cost per 1k tokens counts the self-hosted call and its GPU cost:
    #   cost   0.010 + 0.020 + 0.030 + 0.040 + 0.040 + 0.0018 = 0.1418
    #   tokens 1,200 + 2,000 + 2,000 + 0 + 0 + 1,300 = 6,500
    #   0.1418 / 6,500 x 1,000 = 0.021815384615... (API calls only: 0.140 / 5,200 x 1,000
    #   = 0.026923..., the old figure, now `cost_per_1k_api_tokens`)
    assert m["model_tokens"] == 6500 and m["model_cost"] == D("0.1418")
    assert m["cost_per_1k_tokens"] == _floor(D("0.1418") / 6500 * 1000)
    assert m["cost_per_1k_api_tokens"] == _floor(D("0.140") / 5200 * 1000)
    # Cost per inference: the 6 model calls' own cost, 0.1418 / 6 x 1,000 = 23.6333...
    # (not the task's 1.6438 with review and vector query: 273.97)
    assert m["inferences"] == 6
    assert m["cost_per_1000_inferences"] == _floor(D("0.1418") / 6 * 1000)
    # GPU-seconds per generated token: 1.8 GPU-s / 300 output tokens = 0.006
    # (per input + output token: 1.8 / 1,300 = 0.0013846...)
    assert m["gpu_seconds_per_output_token"] == D("0.006")
    assert m["gpu_seconds_per_input_output_token"] == _floor(D("1.8") / 1300)


def test_endpoint_gpu_seconds_per_generated_token(make_priced: MakePriced) -> None:
    c, project = _costed(make_priced)
    (u,) = endpoint_usage(c, project)
    m = endpoint_metrics(u)
    assert m["gpu_seconds_per_output_token"] == D("0.006")  # 1.8 / 300


def test_endpoint_words_and_period(make_priced: MakePriced) -> None:
    """Issue 17, item 8: the window on the row, measured vs configured rates, and
    "provisioned" (idle included) instead of "loaded" (which means + fixed elsewhere).
    llama: 1 GPU at $3.60/h over the window 2026-03-02 (1 day) = $86.40; the call's 300
    output tokens in 1.8 s measured = 166.67 tok/s; configured 5,000 prefill / 40 decode."""
    import datetime as dt

    c, project = _costed(make_priced)
    (u,) = endpoint_usage(c, project)
    m = endpoint_metrics(u, c.window)
    assert (m["since"], m["until"], m["days"]) == (
        dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
        1,
    )
    assert m["cost"] == D("86.4")
    assert m["measured_output_tokens_per_s"] == round(300 / 1.8, 2)
    assert (m["configured_prefill_tokens_per_s"], m["configured_decode_tokens_per_s"]) == (
        5000,
        40,
    )
    assert not any(k.startswith("loaded") for k in m)
    # provisioned $/M out = 86.40 x (1 - s) / 300 x 10^6, s = 0.2 / 7.7 (configured split)
    s = D(repr(round(0.2 / 7.7, 9)))
    assert m["provisioned_usd_per_mtok_output"] == _floor(D("86.4") * (1 - s) / 300 * 10**6)
