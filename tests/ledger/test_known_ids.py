"""The in-memory stored-id hashes (`KnownIds`): never "not stored" for a stored id, and a
ledger that tracks them ends up exactly like one that scans for every batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unitecon.ledger import known
from unitecon.ledger.known import KnownIds
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rows(ids: list[int], tokens: int) -> Chunk:
    return Chunk(
        to_table(
            [
                {"event_id": f"e{i}", "ts": T0 + timedelta(minutes=i), "provider": "openai",
                 "model": "gpt-4o", "input_tokens": tokens, "output_tokens": 1,
                 "source": f"s:{n}"}
                for n, i in enumerate(ids, 1)
            ]
        )
    )  # fmt: skip


def test_hashes_are_found_before_and_after_a_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(known, "MERGE_AT", 4)
    k = KnownIds(np.sort(np.array([5, 1, 9], dtype=np.uint64)))
    probe = np.array([1, 2, 9, 10], dtype=np.uint64)
    assert k.maybe_stored(probe).tolist() == [True, False, True, False]
    k.add(np.array([2, 3], dtype=np.uint64))  # kept in the recent set
    assert k.maybe_stored(probe).tolist() == [True, True, True, False] and len(k) == 5
    k.add(np.array([10, 11], dtype=np.uint64))  # 4 recent: merged into the sorted array
    assert k.maybe_stored(probe).tolist() == [True, True, True, True] and len(k) == 7
    assert KnownIds(np.array([], dtype=np.uint64)).maybe_stored(probe).tolist() == [False] * 4


def test_loaded_from_the_ledger() -> None:
    with Ledger(":memory:") as led:
        led.ingest("a", [rows([1, 2, 3], 10)])
        led.track_ids()
        res = led.ingest("b", [rows([3, 4], 99)])  # e3 stored: the first one wins
        # e3 came again with other content: a conflict (quarantined), not a duplicate
        assert (res.accepted, res.duplicates, res.conflicts, res.quarantined) == (1, 0, 1, 1)
        got = led.rows("SELECT event_id, input_tokens FROM events ORDER BY event_id")
        assert [(r["event_id"], r["input_tokens"]) for r in got] == [
            ("e1", 10),
            ("e2", 10),
            ("e3", 10),
            ("e4", 99),
        ]


batches = st.lists(st.lists(st.integers(0, 40), min_size=1, max_size=12), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(batches)
def test_tracking_ids_changes_nothing(plan: list[list[int]]) -> None:
    """Any sequence of batches (repeats within and across batches, re-sent ids with other
    content) gives the same events, accepted and duplicate counts with and without the
    in-memory check."""
    out = []
    for track in (False, True):
        with Ledger(":memory:") as led:
            if track:
                led.track_ids()
            counts = [
                (r.accepted, r.duplicates)
                for n, ids in enumerate(plan)
                for r in [led.ingest(f"src{n}", [rows(ids, n)])]
            ]
            events = led.rows("SELECT event_id, input_tokens FROM events ORDER BY event_id")
            out.append((counts, events))
    assert out[0] == out[1]
