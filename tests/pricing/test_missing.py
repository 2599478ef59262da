"""Unknown models are never priced at $0: they are listed with their volume and the fix."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from unitecon.config import parse
from unitecon.errors import ConfigError
from unitecon.pricing import costs, missing_prices, priced_events


def _rows() -> list[dict[str, Any]]:
    day = datetime(2025, 9, 2, 8, tzinfo=UTC)
    return [
        {
            "ts": day,
            "provider": "acme",
            "model": "acme-large",
            "input_tokens": 1_000,
            "output_tokens": 50,
        },
        {
            "ts": day.replace(day=5),
            "provider": "acme",
            "model": "acme-large",
            "input_tokens": 3_000,
            "output_tokens": 150,
        },
        {
            "ts": day,
            "provider": "aws",
            "model": "claude-sonnet-4-5",
            "input_tokens": 10,
            "output_tokens": 1,
        },
        {"ts": day, "provider": "openai", "model": "gpt-4o", "input_tokens": 1_000_000},
        {
            "ts": day,
            "operation": "invoke_agent",
            "provider": "openai",
            "model": "gpt-4o",
            "input_tokens": 1_000_000,
        },
        {"ts": day, "endpoint": "llama-70b-h100", "model": "llama-3.3-70b", "input_tokens": 500},
        {"ts": day, "operation": "vector_query", "unit_type": "vector_query", "units": 3.0},
    ]


def test_statuses_and_null_cost(ledger: Any) -> None:
    got = priced_events(ledger(_rows())).order_by("event_id").to_pyarrow().to_pylist()
    status = [(r["price_status"], r["priced"], r["cost"]) for r in got]
    assert status == [
        ("missing", False, None),
        ("missing", False, None),
        ("missing", False, None),
        ("priced", True, Decimal("2.5")),  # 1M input at $2.50/Mtok
        ("structural", False, Decimal(0)),  # agent spans are never priced (leaf-only)
        ("endpoint", False, None),
        ("unit", False, None),
    ]


def test_missing_prices_lists_volume_and_snippet(ledger: Any) -> None:
    missing = missing_prices(ledger(_rows()))
    assert [(m.provider, m.model, m.events, m.input_tokens, m.output_tokens) for m in missing] == [
        ("acme", "acme-large", 2, 4_000, 200),
        ("aws", "claude-sonnet-4-5", 1, 10, 1),
    ]
    acme = missing[0]
    assert "acme" in acme.reason
    assert acme.first_seen.date().isoformat() == "2025-09-02"
    assert "since: 2025-09-02" in acme.snippet()
    # pasted as is, the snippet cannot price at $0: it names the line to fill in
    with pytest.raises(ConfigError, match=r"unitecon.yaml:6: pricing.models.0.input_mtok"):
        parse(acme.snippet(), "unitecon.yaml")


def test_filled_snippet_prices_the_model(ledger: Any) -> None:
    led = ledger(_rows())
    m = missing_prices(led)[0]
    text = (
        m.snippet()
        .replace("input_mtok: TODO", "input_mtok: 1")
        .replace("output_mtok: TODO", "output_mtok: 4")
    )
    config = parse(text).pricing
    assert [x.model for x in missing_prices(led, config)] == ["claude-sonnet-4-5"]
    total = costs(led, config, by=["model"]).to_pyarrow().to_pylist()
    acme = next(r for r in total if r["model"] == "acme-large")
    # 4,000 input at $1/Mtok + 200 output at $4/Mtok
    assert acme["cost"] == Decimal("0.004") + Decimal("0.0008")
    assert acme["unpriced"] == 0
