"""A feature's measured token mix and peak load (for `selfhost compare --from-ledger`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from unitecon.economics.workload import measured_workload
from unitecon.errors import UniteconError
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger


def _ledger() -> Ledger:
    t0 = datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC)
    t1 = datetime(2026, 10, 1, 12, 10, 0, tzinfo=UTC)
    calls = [  # (ts, input, cached, output)
        (t0, 1000, 500, 100),
        (t0.replace(second=20), 2000, 0, 200),
        (t0.replace(second=40), 3000, 1500, 300),
        (t1, 600, 0, 60),
    ]
    rows = [
        {"event_id": f"e{i}", "ts": ts, "provider": "openai", "model": "gpt-4o",
         "input_tokens": i_, "cache_read_tokens": c, "output_tokens": o, "feature": "f",
         "source": f"t:{i}"}
        for i, (ts, i_, c, o) in enumerate(calls)
    ]  # fmt: skip
    rows.append(  # structure and other features never count
        {"event_id": "agent", "ts": t0, "operation": "invoke_agent", "input_tokens": 9999,
         "feature": "f", "source": "t:9"}
    )  # fmt: skip
    ledger = Ledger(":memory:")
    ledger.ingest("t", [Chunk(to_table(rows))])
    return ledger


def test_mix_and_peak_by_hand() -> None:
    """4 calls: input (1000+2000+3000+600)/4 = 1650, output 660/4 = 165, cached
    2000/6600 = 0.30303; the busiest minute holds 6,600 tokens = 110 tok/s; 7,260 tokens over
    the 600 s between first and last call = 12.1 tok/s, so peak/average = 110/12.1 = 9.0909."""
    with _ledger() as ledger:
        w = measured_workload(ledger, "f")
    assert (w.input_len, w.output_len) == (1650, 165)
    assert w.cached_share == pytest.approx(2000 / 6600)
    assert w.peak_tokens_per_s == pytest.approx(110.0)
    assert w.peak_to_average == pytest.approx(110 / 12.1)


def test_unknown_feature_lists_the_features() -> None:
    with _ledger() as ledger, pytest.raises(UniteconError, match="Features: f"):
        measured_workload(ledger, "nope")
