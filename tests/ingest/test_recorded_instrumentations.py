"""Exports recorded once from real instrumentations that cannot be installed beside the dev
extra (the recipe beside each: tests/ingest/live/record_*.py), with the library's version in
the file name.

- `traceloop-sdk-0.62.4-openai-3.51.0.pb`: OpenLLMetry's SDK on the OpenAI SDK against the
  fake provider (tests/ingest/live/fake_provider.py), customer, user and session set with
  `Traceloop.set_association_properties` (`traceloop.association.properties.*`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from genai_prices import Usage, calc_price

from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger
from unitecon.pricing.engine import priced_events

FIXTURES = Path(__file__).parent / "fixtures"


def test_openllmetry_association_properties() -> None:
    path = FIXTURES / "traceloop-sdk-0.62.4-openai-3.51.0.pb"
    with Ledger(":memory:") as ledger:
        ledger.ingest(str(path), read_path(path))
        assert ledger.quarantine() == []
        rows = priced_events(ledger).to_pyarrow().to_pylist()
    # the truth: genai-prices on the usage the fake provider returned, worked by hand:
    # gpt-4o: 176 x $2.50 + 1,024 x $1.25 + 300 x $10 per million = $0.00472
    want = calc_price(
        Usage(input_tokens=1200, cache_read_tokens=1024, output_tokens=300),
        "gpt-4o-2024-08-06",
        provider_id="openai",
    ).total_price
    assert want == Decimal("0.00472")
    (call,) = [r for r in rows if r["price_status"] == "priced"]
    assert call["cost"] == want
    # OpenLLMetry's association properties on every span: customer, user, session
    assert {(r["customer_id"], r["user_id"], r["conversation_id"]) for r in rows} == {
        ("acme", "acme-u1", "sess-1")
    }
    # the workflow span is a tree node, never a cost
    (root,) = [r for r in rows if r["parent_span_id"] is None]
    assert root["cost"] == 0 and root["price_status"] == "structural"
