"""The single writer: group commit, acknowledgement after commit, refusal when full."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unitecon.ingest.base import Chunk, Rejected
from unitecon.ledger import schema
from unitecon.ledger.store import Ledger
from unitecon.server.errors import Overloaded, Unavailable
from unitecon.server.writer import Writer

MakeChunk = Callable[..., Chunk]


@pytest.fixture
def chunk(make_event: Callable[[int], dict[str, Any]]) -> MakeChunk:
    def build(start: int, n: int, rejected: int = 0) -> Chunk:
        rows = [make_event(i) for i in range(start, start + n)]
        bad = [Rejected(f"otlp-http#{i:016x}", "negative tokens", "{}") for i in range(rejected)]
        return Chunk(schema.to_table(rows), bad)

    return build


def test_many_concurrent_requests_all_committed(chunk: MakeChunk, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    writer = Writer(ledger, max_batch_rows=500)
    writer.start()

    async def main() -> list[Any]:
        jobs = [writer.submit(chunk(i * 10, 10, rejected=i % 2)) for i in range(100)]
        return list(await asyncio.gather(*jobs))

    done = asyncio.run(main())
    writer.stop()
    assert sum(d.rows for d in done) == 1000 and sum(d.rejected for d in done) == 50
    assert ledger.count() == 1000
    assert len(ledger.quarantine()) == 50
    assert writer.stats.batches < 100  # queued requests were committed together
    ledger.close()


def test_ack_only_after_commit_and_refuse_when_full(
    chunk: MakeChunk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    gate = threading.Event()
    real = ledger.ingest

    def slow_ingest(*a: Any, **kw: Any) -> Any:
        gate.wait(10)
        return real(*a, **kw)

    monkeypatch.setattr(ledger, "ingest", slow_ingest)
    writer = Writer(ledger, max_queue_rows=25)
    writer.start()

    async def main() -> None:
        first = asyncio.ensure_future(writer.submit(chunk(0, 20)))
        await asyncio.sleep(0.05)
        assert not first.done()  # not acknowledged before the commit
        with pytest.raises(Overloaded) as e:
            await writer.submit(chunk(100, 10))
        assert e.value.headers["Retry-After"] == "1"
        gate.set()
        assert (await first).rows == 20
        assert (await writer.submit(chunk(100, 10))).rows == 10

    asyncio.run(main())
    writer.stop()
    assert ledger.count() == 30 and writer.stats.refused == 1
    ledger.close()


def test_failed_write_acknowledges_nothing(
    chunk: MakeChunk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")

    def broken(*a: Any, **kw: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(ledger, "ingest", broken)
    writer = Writer(ledger)
    writer.start()

    async def main() -> None:
        with pytest.raises(Unavailable, match="ledger write failed"):
            await writer.submit(chunk(0, 5))

    asyncio.run(main())
    writer.stop()
    assert writer.stats.failed == 1 and "disk full" in (writer.stats.last_error or "")
    ledger.close()


def test_stop_drains_and_then_refuses(chunk: MakeChunk, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    writer = Writer(ledger)
    writer.start()

    async def main() -> None:
        await writer.submit(chunk(0, 5))
        writer.stop()
        with pytest.raises(Unavailable, match="shutting down"):
            await writer.submit(chunk(5, 5))

    asyncio.run(main())
    assert ledger.count() == 5
    ledger.close()
