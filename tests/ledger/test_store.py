"""The store: idempotent ingest, lineage, quarantine replacement, migrations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unitecon.errors import LedgerError
from unitecon.ledger import migrations
from unitecon.ledger.records import Chunk, Rejected
from unitecon.ledger.schema import EVENT_SCHEMA, to_table
from unitecon.ledger.store import Ledger


def _rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {
            "event_id": f"e{i}",
            "ts": datetime(2026, 1, 1 + i % 28, tzinfo=UTC),
            "provider": "openai",
            "model": "gpt-4o",
            "input_tokens": 100 + i,
            "output_tokens": 10,
            "source": f"f.jsonl:{i + 1}",
            "tags": [("k", str(i))],
        }
        for i in range(start, start + n)
    ]


def test_reingest_is_noop_and_lineage_recorded() -> None:
    with Ledger(":memory:") as ledger:
        first = ledger.ingest("f.jsonl", [Chunk(to_table(_rows(5)))], sha256="abc", fmt="jsonl")
        again = ledger.ingest("f.jsonl", [Chunk(to_table(_rows(5)))], sha256="abc", fmt="jsonl")
        assert (first.accepted, first.duplicates) == (5, 0)
        assert (again.accepted, again.duplicates) == (0, 5)
        assert ledger.count() == 5
        lineage = ledger.ingests()
        assert [r["status"] for r in lineage] == ["done", "done"]
        assert lineage[0]["sha256"] == "abc"
        assert lineage[1]["duplicates"] == 5


def test_duplicate_ids_within_a_chunk_are_counted_once() -> None:
    rows = _rows(3) + _rows(1)  # e0 twice
    with Ledger(":memory:") as ledger:
        res = ledger.ingest("f", [Chunk(to_table(rows))])
        assert (res.accepted, res.duplicates, ledger.count()) == (3, 1, 3)


def test_quarantine_is_replaced_when_the_source_is_ingested_again() -> None:
    bad = Rejected("f.jsonl:7", "input_tokens: -3 is negative", '{"input_tokens": -3}')
    with Ledger(":memory:") as ledger:
        ledger.ingest("f.jsonl", [Chunk(to_table(_rows(2)), [bad])])
        ledger.ingest("g.jsonl", [Chunk(to_table(_rows(1, 10)), [bad])])
        assert len(ledger.quarantine()) == 2
        ledger.ingest("f.jsonl", [Chunk(to_table(_rows(3)))])  # the fixed file
        left = ledger.quarantine()
        assert [r["source"] for r in left] == ["g.jsonl"]
        assert ledger.count() == 4


def test_failed_chunk_rolls_back(tmp_path: Path) -> None:
    def chunks() -> object:
        yield Chunk(to_table(_rows(2)))
        raise RuntimeError("killed")

    with Ledger(tmp_path / "l.duckdb") as ledger:
        with pytest.raises(RuntimeError):
            ledger.ingest("f", chunks())  # type: ignore[arg-type]
        assert ledger.count() == 2  # the committed chunk stays
        ledger.ingest("f", [Chunk(to_table(_rows(4)))])
        assert ledger.count() == 4  # the re-run completes it, no duplicates


def test_migrate_from_blank_gives_the_event_schema() -> None:
    con = duckdb.connect()
    assert migrations.migrate(con) == list(range(1, migrations.LATEST + 1))
    got = con.execute("SELECT * FROM events").fetch_arrow_table().schema
    assert got.names == [*EVENT_SCHEMA.names, "price_key", "source_row"]
    assert migrations.migrate(con) == []


def _catalog(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[object, ...]], ...]:
    """Everything the catalog says of a ledger's tables, and its recorded versions."""
    return (
        con.execute("SELECT table_name, sql FROM duckdb_tables() ORDER BY ALL").fetchall(),
        con.execute(
            "SELECT table_name, column_index, column_name, data_type, column_default, "
            "is_nullable, numeric_precision, numeric_scale FROM duckdb_columns() ORDER BY ALL"
        ).fetchall(),
        con.execute(
            "SELECT table_name, constraint_type, constraint_text, constraint_column_names "
            "FROM duckdb_constraints() ORDER BY ALL"
        ).fetchall(),
        con.execute("SELECT table_name, sql FROM duckdb_indexes() ORDER BY ALL").fetchall(),
        con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall(),
        con.execute("SELECT sequence_name FROM duckdb_sequences()").fetchall(),
        con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall(),
    )


def test_a_blank_ledger_made_at_the_latest_version_is_what_the_migrations_make() -> None:
    """A blank database is made at LATEST by `LATEST_TABLES` alone; the migrations, run one
    after the other from version 1, make the same tables, columns, constraints and versions."""
    made = duckdb.connect()
    assert migrations.migrate(made) == list(range(1, migrations.LATEST + 1))
    stepped = duckdb.connect()
    migrations.migrate(stepped, target=1)  # (below LATEST: the migrations themselves)
    assert migrations.migrate(stepped) == list(range(2, migrations.LATEST + 1))
    assert _catalog(made) == _catalog(stepped)
    assert len(_catalog(made)[0]) == 7 and len(_catalog(made)[6]) == migrations.LATEST


def test_migrate_from_version_1_keeps_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrations.migrate(con, target=1)
    con.execute(
        "INSERT INTO events (event_id, ts, operation, input_tokens, cache_read_tokens, "
        "cache_write_tokens, output_tokens, reasoning_tokens, units, batch, status, attempt, "
        "sample_rate, source, ingest_id, task_id) VALUES ('old', TIMESTAMPTZ '2025-03-01 "
        "00:00:00+00', 'chat', 7, 0, 0, 3, 0, 0, false, 'ok', 1, 1.0, 'x:1', 'i', 't1')"
    )
    con.close()
    with Ledger(path) as ledger:
        table = ledger.con.execute("SELECT * FROM events").fetch_arrow_table()
        assert table.schema.names == [*EVENT_SCHEMA.names, "price_key", "source_row"]
        row = table.to_pylist()[0]
        assert (row["event_id"], row["input_tokens"], row["task_id"]) == ("old", 7, "t1")
        assert row["task_type"] is None
        # the old row got its price key: no provider, model or tier, not batch, a chat
        assert ledger.rows("SELECT * EXCLUDE (key_id) FROM price_keys") == [
            {
                "provider": "",
                "model": "",
                "batch": False,
                "service_tier": "",
                "structural": False,
                "has_endpoint": False,
            }
        ]
        assert row["price_key"] == ledger.rows("SELECT key_id FROM price_keys")[0]["key_id"]
        # and new rows still go in, keyed
        ledger.ingest("new", [Chunk(to_table(_rows(1)))])
        assert ledger.count() == 2
        assert ledger.rows("SELECT count(*) AS n FROM events WHERE price_key IS NULL") == [{"n": 0}]


def test_migrate_from_version_2_keys_every_event(tmp_path: Path) -> None:
    """Events stored before price keys get the key of their provider, model, batch, tier,
    structural operation and endpoint; events that differ in any of them do not share one."""
    path = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(path))
    migrations.migrate(con, target=2)
    assert migrations.current_version(con) == 2
    rows = [
        ("a", "openai", "gpt-4o", False, None, "chat", None),
        ("b", "openai", "gpt-4o", False, None, "chat", None),  # same key as a
        ("c", "openai", "gpt-4o", True, None, "chat", None),  # batch
        ("d", "openai", "gpt-4o", False, "flex", "chat", None),  # tier
        ("e", "openai", "gpt-4o", False, None, "invoke_agent", None),  # structural
        ("f", "openai", "gpt-4o", False, None, "chat", "vllm-1"),  # self-hosted endpoint
        ("g", None, "gpt-4o", False, None, "chat", None),  # no provider
    ]
    for eid, provider, model, batch, tier, op, endpoint in rows:
        con.execute(
            "INSERT INTO events (event_id, ts, operation, provider, model, endpoint, "
            "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
            "reasoning_tokens, units, service_tier, batch, status, attempt, sample_rate, "
            "source, ingest_id) VALUES (?, TIMESTAMPTZ '2025-03-01 00:00:00+00', ?, ?, ?, ?, "
            "1, 0, 0, 1, 0, 0, ?, ?, 'ok', 1, 1.0, 'x:1', 'i')",
            [eid, op, provider, model, endpoint, tier, batch],
        )
    con.close()
    with Ledger(path) as ledger:
        keys = {
            r["event_id"]: r["price_key"]
            for r in ledger.rows("SELECT event_id, price_key FROM events")
        }
    assert None not in keys.values()
    assert keys["a"] == keys["b"]
    assert len({keys[k] for k in "acdefg"}) == 6


def test_migrate_from_version_4_adds_1h_writes_and_rekeys_new_structural(tmp_path: Path) -> None:
    """Version 5: events keep their rows with 0 one-hour cache writes; an event whose
    operation was already `span` or `duplicate` becomes structural (re-keyed)."""
    path = tmp_path / "v4.duckdb"
    with Ledger(path) as ledger:
        ledger.ingest("x", [Chunk(to_table(_rows(2)))])
        ledger.con.execute("UPDATE events SET operation = 'span' WHERE event_id = 'e1'")
        ledger.con.execute("ALTER TABLE events DROP COLUMN cache_write_1h_tokens")
        ledger.con.execute("ALTER TABLE ingests DROP COLUMN merged")
        ledger.con.execute("ALTER TABLE events DROP COLUMN source_row")
        ledger.con.execute("DELETE FROM schema_migrations WHERE version >= 5")
    with Ledger(path) as ledger:
        got = ledger.rows(
            "SELECT e.event_id, e.cache_write_1h_tokens AS w, k.structural FROM events e "
            "JOIN price_keys k ON e.price_key = k.key_id ORDER BY 1"
        )
        names = ledger.con.execute("SELECT * FROM events").fetch_arrow_table().schema.names
    assert names == [*EVENT_SCHEMA.names, "price_key", "source_row"]
    assert [(r["event_id"], r["w"], r["structural"]) for r in got] == [
        ("e0", 0, False),
        ("e1", 0, True),
    ]


def test_newer_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Ledger(path) as ledger:
        ledger.con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'x')")
    with pytest.raises(LedgerError, match="newer"):
        Ledger(path)


def test_missing_ledger_read_only_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="unitecon demo"):
        Ledger(tmp_path / "none.duckdb", read_only=True)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=5),
)
def test_property_reingest_any_order_and_chunking_is_noop(ids: list[int], parts: int) -> None:
    """Whatever the chunking and repetition, the ledger holds each id once; re-ingest adds 0."""
    rows = [_rows(1, i)[0] for i in ids]
    size = max(1, len(rows) // parts)
    chunks = [Chunk(to_table(rows[i : i + size])) for i in range(0, len(rows), size)]
    with Ledger(":memory:") as ledger:
        ledger.ingest("a", chunks)
        before = ledger.con.execute("SELECT * FROM events ORDER BY event_id").fetch_arrow_table()
        assert before.num_rows == len(set(ids))
        res = ledger.ingest("a", [Chunk(to_table(rows))])
        assert res.accepted == 0
        after = ledger.con.execute("SELECT * FROM events ORDER BY event_id").fetch_arrow_table()
        assert after.drop(["ingest_id"]).equals(before.drop(["ingest_id"]))
        assert isinstance(after, pa.Table)


def test_read_only_open_of_a_current_ledger(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    with Ledger(path) as ledger:
        ledger.ingest("f", [Chunk(to_table(_rows(2)))])
    with Ledger(path, read_only=True) as ledger:
        assert ledger.count() == 2


def test_reader_error_reaches_the_caller_after_committed_chunks() -> None:
    """Chunks are read one ahead in a background thread; a reader's error is raised in the
    caller's thread, and the chunks before it stay committed."""

    def chunks() -> Iterator[Chunk]:
        yield Chunk(to_table(_rows(3)))
        raise ValueError("disk on fire")

    with Ledger(":memory:") as ledger:
        with pytest.raises(ValueError, match="disk on fire"):
            ledger.ingest("f.jsonl", chunks())
        assert ledger.count() == 3


def test_writer_error_stops_the_reader() -> None:
    read: list[int] = []

    def chunks() -> Iterator[Chunk]:
        for i in range(100):
            read.append(i)
            yield Chunk(to_table(_rows(1, start=i)))

    with Ledger(":memory:") as ledger:

        def fail(res: object) -> None:
            raise RuntimeError("stop")

        with pytest.raises(RuntimeError, match="stop"):
            ledger.ingest("f.jsonl", chunks(), on_chunk=fail)
        assert ledger.count() == 1
    assert len(read) <= 3  # the one written, at most one waiting and one being read
