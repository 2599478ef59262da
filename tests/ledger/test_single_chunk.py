"""A one-chunk ingest (the service's batches) is one transaction: lineage and rows together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from unitecon.ledger.records import Chunk, Rejected
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger

ROWS = [
    {"event_id": "a", "ts": datetime(2026, 1, 1, tzinfo=UTC), "provider": "openai",
     "model": "gpt-4o", "input_tokens": 10, "output_tokens": 1, "source": "s:1"},
]  # fmt: skip


def test_one_chunk_writes_rows_lineage_and_quarantine() -> None:
    with Ledger(":memory:") as led:
        res = led.ingest("s", [Chunk(to_table(ROWS), [Rejected("s:2", "bad", "{")])])
        assert (res.accepted, res.quarantined) == (1, 1)
        [lineage] = led.ingests()
        assert (lineage["status"], lineage["accepted"], lineage["quarantined"]) == ("done", 1, 1)
        assert led.count() == 1 and len(led.quarantine()) == 1


def test_a_failed_one_chunk_ingest_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    with Ledger(":memory:") as led:

        def boom(*_: Any) -> int:
            raise RuntimeError("disk full")

        monkeypatch.setattr(led, "_insert_new", boom)
        with pytest.raises(RuntimeError):
            led.ingest("s", [Chunk(to_table(ROWS), [Rejected("s:2", "bad", "{")])])
        assert led.ingests() == [] and led.count() == 0 and led.quarantine() == []
