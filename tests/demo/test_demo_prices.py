"""Every API model the demo uses prices in genai-prices, except the deliberate fine-tune."""

from __future__ import annotations

from datetime import datetime

import pytest
from demo_helpers import Demo
from genai_prices import Usage, calc_price

from unitecon.demo import API_MODELS, MISSING_MODELS


def _used(demo: Demo) -> dict[tuple[str, str], str]:
    """(provider, model) -> one timestamp, for every token-priced call (not self-hosted)."""
    used: dict[tuple[str, str], str] = {}
    for r in demo.native:
        if r.get("model") and not r.get("endpoint"):
            used.setdefault((r["provider"], r["model"]), r["ts"])
    for sp in demo.spans:
        a = sp["attrs"]
        if "gen_ai.response.model" in a:
            ts = datetime.fromtimestamp(int(sp["startTimeUnixNano"]) / 1e9).isoformat() + "Z"
            used.setdefault((a["gen_ai.provider.name"], a["gen_ai.response.model"]), ts)
    return used


def test_models_used_are_the_catalog(demo: Demo) -> None:
    used = set(_used(demo))
    expected = {(m.provider, m.response) for m in (*API_MODELS, *MISSING_MODELS)}
    assert used == expected
    assert len(API_MODELS) >= 6
    assert {m.provider for m in API_MODELS} == {"openai", "anthropic", "google"}


@pytest.mark.parametrize("model", API_MODELS, ids=lambda m: m.response)
def test_api_model_prices(demo: Demo, model: object) -> None:
    from unitecon.demo import Model

    assert isinstance(model, Model)
    ts = datetime.fromisoformat(
        _used(demo)[(model.provider, model.response)].replace("Z", "+00:00")
    )
    price = calc_price(
        Usage(input_tokens=1_000, output_tokens=100),
        model.response,
        provider_id=model.provider,
        genai_request_timestamp=ts,
    )
    assert price.total_price > 0


@pytest.mark.parametrize("model", MISSING_MODELS, ids=lambda m: m.response)
def test_fine_tune_is_missing(model: object) -> None:
    from unitecon.demo import Model

    assert isinstance(model, Model)
    with pytest.raises(LookupError):
        calc_price(Usage(input_tokens=1_000), model.response, provider_id=model.provider)


def test_missing_model_is_rare(demo: Demo) -> None:
    missing = {m.response for m in MISSING_MODELS}
    n = sum(sp["attrs"].get("gen_ai.response.model") in missing for sp in demo.spans)
    assert 20 <= n <= 0.01 * len(demo.spans)
