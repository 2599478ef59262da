"""`content_stamp`: every kind of write of the ledger moves it, a read never does (the service
keeps answers across restarts while it is unchanged: `server/cache.KeptAnswers`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from unitecon.billing import import_lines, read_bill
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

BILLS = Path(__file__).parents[1] / "billing" / "fixtures"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def row(i: int, **kw: Any) -> dict[str, Any]:
    return {
        "event_id": f"ev-{i}",
        "ts": T0 + dt.timedelta(hours=i),
        "operation": "chat",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 100,
        "output_tokens": 10,
        **kw,
    }


def stamp(path: Path, *, read_only: bool = False) -> str:
    with Ledger(path, read_only=read_only) as ledger:
        return ledger.stamp()


def test_every_write_moves_the_stamp_and_reads_do_not(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    seen: list[str] = []

    def write(fn: Any) -> None:
        with Ledger(path) as ledger:
            fn(ledger)
        s = stamp(path)
        assert s not in seen  # a new state
        assert stamp(path, read_only=True) == stamp(path) == s  # opening is not writing
        seen.append(s)

    write(lambda lg: None)  # a new, empty ledger
    write(lambda lg: lg.ingest("a", [Chunk(schema.to_table([row(1), row(2)]))]))
    # A late event: same table sizes elsewhere, one more event.
    write(lambda lg: lg.ingest("b", [Chunk(schema.to_table([row(0, ts=T0 - dt.timedelta(1))]))]))
    # Re-sent: nothing is added, but the ledger records that it was sent.
    write(lambda lg: lg.ingest("a", [Chunk(schema.to_table([row(1), row(2)]))]))
    write(lambda lg: lg.forget("b"))

    def bill(lg: Ledger) -> None:
        fmt, lines = read_bill(BILLS / "invoice.csv")
        import_lines(lg.con, "invoice.csv", fmt, lines)

    write(bill)
