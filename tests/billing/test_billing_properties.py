"""Financial invariants of the bill store: importing is idempotent whatever the lines, a
bucket is counted once whatever the order of downloads, and migration 4 adds the bill
tables to an older ledger without touching its events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from unitecon.billing import BillLine, import_lines
from unitecon.ledger import migrations
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger

D0 = datetime(2026, 11, 1, tzinfo=UTC)

line = st.builds(
    lambda day, model, amount, provider: BillLine(
        "invoice_csv", "cost", provider, D0 + timedelta(days=day),
        D0 + timedelta(days=day + 1), f"f.csv:{day}", model=model, sku=model, amount=amount,
    ),
    day=st.integers(0, 4),
    model=st.sampled_from(["gpt-4o", "gpt-4o-mini", "o3"]),
    amount=st.decimals(0, 1000, places=6),
    provider=st.sampled_from(["openai", "anthropic"]),
)  # fmt: skip


def _total(ledger: Ledger) -> tuple[int, Decimal]:
    n, total = ledger.con.execute("SELECT count(*), sum(amount) FROM bill_lines").fetchone()  # type: ignore[misc]
    return int(n), Decimal(total or 0)


@settings(max_examples=40, deadline=None)
@given(st.lists(line, max_size=25))
def test_reimport_is_a_noop(lines: list[BillLine]) -> None:
    with Ledger(":memory:") as ledger:
        import_lines(ledger.con, "f.csv", "invoice_csv", lines)
        first = _total(ledger)
        again = import_lines(ledger.con, "f.csv", "invoice_csv", lines)
        assert _total(ledger) == first
        assert first == (len(lines), sum((x.amount or Decimal(0) for x in lines), Decimal(0)))
        assert again.buckets_new == again.buckets_replaced == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(line, max_size=20), st.lists(line, max_size=20))
def test_the_last_download_of_a_bucket_wins(old: list[BillLine], new: list[BillLine]) -> None:
    """Each bucket (provider, day) holds the lines of the last file that had it."""
    with Ledger(":memory:") as ledger:
        import_lines(ledger.con, "old.csv", "invoice_csv", old)
        import_lines(ledger.con, "new.csv", "invoice_csv", new)
        newer = {x.bucket for x in new}
        expected = [x for x in old if x.bucket not in newer] + new
        assert _total(ledger) == (
            len(expected),
            sum((x.amount or Decimal(0) for x in expected), Decimal(0)),
        )


def test_migration_4_on_a_version_3_ledger(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    with Ledger(path) as ledger:
        ledger.ingest("x", [Chunk(to_table([{"event_id": "a", "ts": D0, "provider": "openai",
                                              "model": "gpt-4o", "source": "x:1"}]))])  # fmt: skip
        ledger.con.execute("DROP TABLE bill_lines")
        ledger.con.execute("DROP TABLE bill_imports")
        # and what the migrations after 4 added
        ledger.con.execute("ALTER TABLE events DROP COLUMN cache_write_1h_tokens")
        ledger.con.execute("ALTER TABLE ingests DROP COLUMN merged")
        ledger.con.execute("ALTER TABLE events DROP COLUMN source_row")
        ledger.con.execute("DELETE FROM schema_migrations WHERE version >= 4")
    con = duckdb.connect(str(path))
    assert migrations.current_version(con) == 3
    con.close()
    with Ledger(path) as ledger:
        assert migrations.current_version(ledger.con) == migrations.LATEST
        assert ledger.count() == 1
        assert ledger.con.execute("SELECT count(*) FROM bill_lines").fetchone() == (0,)
