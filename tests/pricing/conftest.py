"""Fixtures for the pricing tests: a ledger from rows, and genai-prices as the reference."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from genai_reference import Row

from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger


@pytest.fixture
def ledger() -> Iterator[Callable[[list[Row]], Ledger]]:
    """`ledger(rows)`: an in-memory ledger holding `rows` (schema defaults fill the rest)."""
    opened: list[Ledger] = []

    def make(rows: list[Row]) -> Ledger:
        led = Ledger(":memory:")
        for i, r in enumerate(rows):
            r.setdefault("event_id", f"e{i}")
            r.setdefault("source", f"test:{i + 1}")
        led.ingest("test", [Chunk(schema.to_table(rows))])
        opened.append(led)
        return led

    yield make
    for led in opened:
        led.close()


@pytest.fixture(autouse=True, params=["lookup", "join"])
def pricing_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every pricing test runs on both ways the engine finds an event's price row: by array
    lookup on the ledger's price keys (the default) and by the join (other backends)."""
    from unitecon.pricing import engine

    monkeypatch.setattr(engine, "USE_LOOKUP", request.param == "lookup")
    return str(request.param)
