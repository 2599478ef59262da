"""The single writer: group commit, acknowledgement once durable (spool) or committed (no
spool), refusal when full, replay of the spool after a crash."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unitecon.ledger import schema
from unitecon.ledger.records import Chunk, Rejected
from unitecon.ledger.spool import Spool, Spooled, spool_dir
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


def held_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Ledger, threading.Event]:
    """A ledger whose writes wait until the returned event is set."""
    ledger = Ledger(tmp_path / "l.duckdb")
    gate = threading.Event()
    real = ledger.ingest

    def slow_ingest(*a: Any, **kw: Any) -> Any:
        gate.wait(10)
        return real(*a, **kw)

    monkeypatch.setattr(ledger, "ingest", slow_ingest)
    return ledger, gate


def test_ack_only_after_commit_and_refuse_when_full(
    chunk: MakeChunk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a spool, a request is answered after its commit."""
    ledger, gate = held_ledger(tmp_path, monkeypatch)
    writer = Writer(ledger, max_queue_rows=25, spool=False)
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


def test_ack_once_spooled_and_refuse_while_uncommitted(
    chunk: MakeChunk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the spool (the default for a ledger file), a request is answered once its batch
    is on disk, before the ledger commit; rows count against the queue until committed; a
    read waiting for its writes (`caught_up`) returns once they are committed."""
    ledger, gate = held_ledger(tmp_path, monkeypatch)
    writer = Writer(ledger, max_queue_rows=25)
    writer.start()
    spool = tmp_path / "l.duckdb.spool"

    async def main() -> None:
        done = await asyncio.wait_for(writer.submit(chunk(0, 20)), 5)
        assert done.rows == 20  # answered while the commit is held
        assert len(list(spool.glob("*.arrow"))) == 1
        assert not writer.caught_up(0.05)
        with pytest.raises(Overloaded):  # the 20 uncommitted rows still fill the queue
            await writer.submit(chunk(100, 10))
        gate.set()
        assert writer.caught_up(5)
        assert ledger.has_ingest(done.ingest_id)  # the lineage id chosen at spool time
        assert (await writer.submit(chunk(100, 10))).rows == 10

    asyncio.run(main())
    writer.stop()
    assert ledger.count() == 30 and writer.stats.spooled == 2
    assert writer.stats.requests_written == 2  # counted though answered before the commit
    assert list(spool.glob("*")) == []  # committed batches leave the spool
    ledger.close()


def test_failed_write_acknowledges_nothing(
    chunk: MakeChunk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")

    def broken(*a: Any, **kw: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(ledger, "ingest", broken)
    writer = Writer(ledger, spool=False)
    writer.start()

    async def main() -> None:
        with pytest.raises(Unavailable, match="ledger write failed"):
            await writer.submit(chunk(0, 5))

    asyncio.run(main())
    writer.stop()
    assert writer.stats.failed == 1 and "disk full" in (writer.stats.last_error or "")
    ledger.close()


def test_failed_spool_write_acknowledges_nothing(
    chunk: MakeChunk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    writer = Writer(ledger)
    assert writer.spool is not None

    def broken(*a: Any, **kw: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(writer.spool, "write", broken)
    writer.start()

    async def main() -> None:
        with pytest.raises(Unavailable, match="spool write failed"):
            await writer.submit(chunk(0, 5))

    asyncio.run(main())
    writer.stop()
    assert ledger.count() == 0 and writer.stats.failed == 1
    ledger.close()


def test_spooled_batch_is_retried_until_the_ledger_takes_it(
    chunk: MakeChunk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(tmp_path / "l.duckdb")
    real = ledger.ingest
    failures = [OSError("disk full"), OSError("disk full")]

    def flaky(*a: Any, **kw: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*a, **kw)

    monkeypatch.setattr(ledger, "ingest", flaky)
    writer = Writer(ledger)
    writer.start()

    async def main() -> int:
        return (await writer.submit(chunk(0, 5, rejected=1))).rows

    assert asyncio.run(main()) == 5  # acknowledged: it is in the spool
    assert writer.caught_up(10)
    writer.stop()
    assert writer.stats.commit_retries == 2 and writer.stats.failed == 0
    assert ledger.count() == 5 and len(ledger.quarantine()) == 1
    ledger.close()


def test_spool_left_by_a_crash_is_written_at_the_next_open(
    chunk: MakeChunk, tmp_path: Path
) -> None:
    """Batches acknowledged but not committed when the server died are in the ledger once it
    is next opened for writing (by the server or by `unitecon ingest`), once each: a batch
    whose lineage shows it committed is not written again, and replay is idempotent."""
    path = tmp_path / "l.duckdb"
    ledger = Ledger(path)
    spool = Spool(spool_dir(path))
    lost = Spooled(1, "a" * 32, "otlp-http/aaaa", chunk(0, 7, rejected=2))
    committed = Spooled(2, "b" * 32, "otlp-http/bbbb", chunk(7, 3))
    spool.write(lost)
    spool.write(committed)
    ledger.ingest(committed.source, [committed.chunk], ingest_id=committed.ingest_id)
    (spool.dir / ".000000000003-cccc.arrow.tmp").write_bytes(b"half")  # never acknowledged
    damaged = spool.dir / f"000000000004-{'d' * 32}.arrow"
    damaged.write_bytes(b"not arrow")  # damaged on disk: set aside, never lost or fatal
    ledger.close()

    with Ledger(path, read_only=True) as ro:  # a reader cannot write: not yet there
        assert ro.count() == 3
    ledger = Ledger(path)
    assert ledger.count() == 10 and len(ledger.quarantine()) == 2
    assert ledger.has_ingest(lost.ingest_id)
    assert [r["ingest_id"] for r in ledger.ingests()].count(committed.ingest_id) == 1
    assert [p.name for p in spool.dir.iterdir()] == [damaged.name + ".unreadable"]
    writer = Writer(ledger)  # nothing left for the server to replay
    writer.start()
    writer.stop()
    assert writer.stats.replayed == 0 and ledger.count() == 10
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
