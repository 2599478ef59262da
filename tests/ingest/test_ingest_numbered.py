"""A Parquet file's valid rows go straight into `events` in one statement (`DirectRead.numbered`,
`Ledger._insert_numbered`), with the guarantees of the chunked read.

The chunked read (Arrow record batches, Python's reference path) is the reference, as in
test_ingest_direct_columnar.py: each file is ingested both ways into fresh ledgers, and the two
ledgers (events, quarantine with locations, reasons and raw rows, price keys, counts) must be
equal. The temporary-table road (`_read_direct_held`) is made to fail where the one-statement
road must have done the work, so the test knows which road wrote the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unitecon.ingest import read_path
from unitecon.ingest import validate as v
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import source_sql
from unitecon.ledger.store import IngestResult, Ledger

Snapshot = tuple[list[dict[str, Any]], list[tuple[str, str, str]], list[Any], tuple[int, ...]]


def _snapshot(led: Ledger, res: IngestResult) -> Snapshot:
    events = led.rows(
        "SELECT e.* EXCLUDE (ingest_id, price_key, source_row) "
        f"REPLACE ({source_sql('e')} AS source), k.* EXCLUDE (key_id) FROM events e "
        "JOIN price_keys k ON e.price_key = k.key_id ORDER BY event_id"
    )
    quarantine = [(r["location"], r["reason"], r["raw"]) for r in led.quarantine()]
    keys = led.rows("SELECT * EXCLUDE (key_id) FROM price_keys ORDER BY ALL")
    counts = (res.rows_read, res.accepted, res.duplicates, res.quarantined, res.conflicts)
    return events, quarantine, keys, counts


def _chunked(path: Path) -> Iterator[Chunk]:
    yield from read_path(path, "parquet")  # a plain generator: no direct read offered


def _both(
    path: Path, tmp: Path, before: Path | None = None
) -> tuple[Snapshot, Snapshot, IngestResult]:
    out, direct = [], None
    for how in ("direct", "chunked"):
        with Ledger(tmp / f"{how}-{path.name}.duckdb") as led:
            if before is not None:
                led.ingest(str(before), _chunked(before))
            chunks = read_path(path, "parquet") if how == "direct" else _chunked(path)
            res = led.ingest(str(path), chunks)
            direct = direct or res
            out.append(_snapshot(led, res))
    assert direct is not None
    return out[0], out[1], direct


@pytest.fixture
def one_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The temporary-table road fails: only the one-statement road can read directly."""

    def held(*_: object) -> bool:
        raise AssertionError("read through the temporary table")

    monkeypatch.setattr(Ledger, "_read_direct_held", held)


def _rows(n: int, start: int = 0, **over: list[Any]) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "event_id": [f"ev-{i}" for i in range(start, start + n)],
        "ts": pa.array([1_790_000_000_000_000 + i for i in range(n)], pa.timestamp("us", "UTC")),
        "provider": ["openai"] * n,
        "model": ["gpt-4o-mini" if i % 2 else "gpt-4o" for i in range(n)],
        "input_tokens": pa.array([100 + i for i in range(n)], pa.int64()),
        "output_tokens": pa.array([10] * n, pa.int32()),
        "duration_ms": pa.array([Decimal(f"{i}.5") for i in range(n)], pa.decimal128(21, 1)),
        "sample_rate": pa.array([Decimal("0.5") if i % 7 == 0 else None for i in range(n)]),
        "batch": [i % 4 == 0 for i in range(n)],
        "reported_cost": pa.array([Decimal("0.001234")] * n, pa.decimal128(38, 12)),
        "region": ["eu" if i % 3 else None for i in range(n)],
    }
    cols.update(over)
    return cols


def _parquet(path: Path, cols: dict[str, Any], row_group_size: int | None = 16) -> Path:
    pq.write_table(pa.table(cols), path, row_group_size=row_group_size)
    return path


def test_a_clean_parquet_is_written_in_one_statement(tmp_path: Path, one_statement: None) -> None:
    path = _parquet(tmp_path / "clean.parquet", _rows(50))
    direct, chunked, res = _both(path, tmp_path)
    assert res.direct and direct == chunked
    assert direct[3] == (50, 50, 0, 0, 0)
    by_id = {e["event_id"]: e for e in direct[0]}
    assert by_id["ev-7"]["source"] == f"{path}:row 8"  # rows count from 1
    assert by_id["ev-7"]["duration_ms"] == 7.5 and by_id["ev-7"]["sample_rate"] == 0.5
    assert by_id["ev-8"]["sample_rate"] == 1.0  # missing: 1


def test_rejected_rows_are_quarantined_and_their_own_keys_not_kept(
    tmp_path: Path, one_statement: None
) -> None:
    n = 60
    bad = {3: "anthropic", 17: "openai", 40: "mistral"}  # rows 4, 18, 41
    cols = _rows(
        n,
        input_tokens=pa.array([-1 if i in bad else 100 for i in range(n)]),
        provider=[bad.get(i, "openai") for i in range(n)],
        model=["claude-only-here" if i == 3 else "gpt-4o" for i in range(n)],
    )
    path = _parquet(tmp_path / "bad.parquet", cols)
    direct, chunked, res = _both(path, tmp_path)
    assert res.direct and direct == chunked
    assert sorted(q[0] for q in direct[1]) == sorted(f"{path}:row {i + 1}" for i in bad)
    assert all(q[1] == "input_tokens: negative count '-1'" for q in direct[1])
    # the keys: only those of stored events (openai gpt-4o, batch or not)
    assert {(k["provider"], k["model"]) for k in direct[2]} == {("openai", "gpt-4o")}


def test_a_second_file_with_new_ids_is_written_in_one_statement(
    tmp_path: Path, one_statement: None
) -> None:
    first = _parquet(tmp_path / "a.parquet", _rows(20))
    second = _parquet(tmp_path / "b.parquet", _rows(20, start=20))
    direct, chunked, res = _both(second, tmp_path, before=first)
    assert res.direct and direct == chunked
    assert direct[3] == (20, 20, 0, 0, 0) and len(direct[0]) == 40


def test_stored_ids_go_through_the_anti_join_and_conflict_report(tmp_path: Path) -> None:
    first = _parquet(tmp_path / "a.parquet", _rows(20))
    again = _parquet(tmp_path / "again.parquet", _rows(20))
    direct, chunked, res = _both(again, tmp_path / "again", before=first)
    assert res.direct and direct == chunked
    assert direct[3] == (20, 0, 20, 0, 0)  # re-ingest: adds nothing
    # ids 10-29: 10-19 stored; the odd ones among them (gpt-4o-mini) now say gpt-4o
    table = pa.table(_rows(30)).slice(10, 20)
    at = table.schema.get_field_index("model")
    path = tmp_path / "changed.parquet"
    pq.write_table(table.set_column(at, "model", pa.array(["gpt-4o"] * 20)), path)
    direct, chunked, res = _both(path, tmp_path / "changed", before=first)
    assert res.direct and direct == chunked
    # 20 rows: 10 new, 5 duplicates (ev-10, 12, ..., 18), 5 conflicts (ev-11, 13, ..., 19)
    assert direct[3] == (20, 10, 5, 5, 5)
    got = {q[0]: q[1] for q in direct[1]}
    assert sorted(got) == sorted(f"{path}:row {i - 9}" for i in range(11, 20, 2))
    for i in range(11, 20, 2):
        stored = f"event_id: 'ev-{i}' is already stored with different content"
        assert got[f"{path}:row {i - 9}"].startswith(stored)


def test_ids_computed_from_the_content_are_checked_against_the_ledger(tmp_path: Path) -> None:
    cols = _rows(12)
    del cols["event_id"]
    path = _parquet(tmp_path / "noid.parquet", cols)
    direct, chunked, res = _both(path, tmp_path / "again", before=path)
    assert res.direct and direct == chunked and direct[3] == (12, 0, 12, 0, 0)


def test_an_id_given_twice_in_the_file_is_read_in_chunks(tmp_path: Path) -> None:
    ids = [f"ev-{i}" for i in range(20)]
    ids[15] = "ev-3"  # same id, other content: the chunked read says which row came first
    path = _parquet(tmp_path / "twice.parquet", _rows(20, event_id=ids))
    direct, chunked, res = _both(path, tmp_path)
    assert not res.direct and direct == chunked
    assert [q[0] for q in direct[1]] == [f"{path}:row 16"]


#: Two distinct ids with the same DuckDB `hash()` (tests/ingest/test_ingest_id_hash.py).
COLLIDING = (
    "0000000000000001000000000000003b:0000000000018879",
    "00000000000000010000000000000035:0000000000018849",
)


@pytest.mark.parametrize("sorted_ids", [1 << 24, 0], ids=["sorted-in-memory", "counted-by-duckdb"])
def test_two_ids_with_one_hash_are_both_written_in_one_statement(
    tmp_path: Path, one_statement: None, monkeypatch: pytest.MonkeyPatch, sorted_ids: int
) -> None:
    """The in-file distinct-id check compares hashes first; two distinct ids whose hashes
    meet are then counted as ids, so both are kept, whether the hashes were sorted in
    memory or counted by DuckDB (a file over `SORTED_IDS` records)."""
    from unitecon.ledger import store

    monkeypatch.setattr(store, "SORTED_IDS", sorted_ids)
    ids = [f"ev-{i}" for i in range(30)]
    ids[4], ids[21] = COLLIDING
    path = _parquet(tmp_path / "collide.parquet", _rows(30, event_id=ids))
    direct, chunked, res = _both(path, tmp_path)
    assert res.direct and direct == chunked
    assert direct[3] == (30, 30, 0, 0, 0)
    assert {e["event_id"] for e in direct[0]} >= set(COLLIDING)


@pytest.mark.parametrize("sorted_ids", [1 << 24, 0], ids=["sorted-in-memory", "counted-by-duckdb"])
def test_an_id_given_twice_is_found_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sorted_ids: int
) -> None:
    from unitecon.ledger import store

    monkeypatch.setattr(store, "SORTED_IDS", sorted_ids)
    ids = [f"ev-{i}" for i in range(20)]
    ids[19] = "ev-0"  # the first and the last row
    path = _parquet(tmp_path / "twice.parquet", _rows(20, event_id=ids))
    direct, chunked, res = _both(path, tmp_path)
    assert not res.direct and direct == chunked
    assert [q[0] for q in direct[1]] == [f"{path}:row 20"]


def test_a_column_named_file_row_number_takes_the_held_road(tmp_path: Path) -> None:
    cols = _rows(10, file_row_number=list(range(100, 110)))
    path = _parquet(tmp_path / "frn.parquet", cols)
    direct, chunked, res = _both(path, tmp_path)
    assert res.direct and direct == chunked
    assert direct[0][0]["source"] == f"{path}:row 1"
    assert dict(direct[0][0]["tags"])["file_row_number"] == "100"


# -- decimals read as numbers --------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    scale=st.integers(0, 24),
    digits=st.integers(1, 38),
    values=st.lists(st.integers(-(10**38) + 1, 10**38 - 1), min_size=1, max_size=20),
)
def test_a_decimal_column_reads_as_its_text_would(
    scale: int, digits: int, values: list[int]
) -> None:
    """Each decimal becomes the double nearest its exact value: Python's float() of the
    Decimal (correctly rounded) is the reference, whichever cast the SQL picks."""
    precision = max(digits, scale, 1)
    unscaled = [x % (10**precision) * (1 if x >= 0 else -1) for x in values]
    unscaled += [2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1]
    unscaled = [u for u in unscaled if abs(u) < 10**precision]
    exact = [Decimal(f"{u}E-{scale}") for u in unscaled]  # exact (no context rounding)
    arr = pa.array([str(d) for d in exact]).cast(pa.decimal128(precision, scale))
    n = len(exact)
    cand = pa.table(
        {
            "_pos": pa.array(range(n), pa.int64()),
            "event_id": [f"e{i}" for i in range(n)],
            "ts": ["2026-10-01T00:00:00Z"] * n,
            "model": ["gpt-4o"] * n,
            "duration_ms": arr,
            "ttft_ms": arr,
        }
    )
    events, rejected = v.validate(cand)
    got = events.column("duration_ms").to_pylist()
    want = [float(d) for d in exact]
    assert len(got) + len(rejected) == n
    # over the 30-day limit or negative: rejected; the others read exactly
    kept = [w for w in want if 0 <= w <= v.MAX_DURATION_MS]
    assert sorted(got) == sorted(kept)


def test_the_keys_of_the_distinct_key_values_are_those_of_every_row(
    tmp_path: Path, one_statement: None
) -> None:
    """`DirectRead.keys` (the distinct values of the key fields, validated) gives the keys
    the validation of every row gives, and the ledger keys each event as the chunked read
    does: provider aliases and case, a tier alias, batch from the tier, empty text, a
    structural operation, an endpoint, and a batch given as text."""
    import duckdb

    from unitecon.ingest import native
    from unitecon.ledger import migrations

    provider = ["OpenAI", "openai", "gcp.gemini", "", None, "Azure.AI.OpenAI", "anthropic"]
    model = ["gpt-4o", "GPT-4o", "", None, "gemini-2.5-pro", "claude-sonnet-4-5"]
    tier = ["standard", "batch", "Flex", "", None, "priority"]
    op = ["chat", "invoke_agent", "", None, "workflow", "embeddings"]
    batch = ["true", "false", None, "TRUE"]
    endpoint = [None, None, "llama-70b"]
    n = 200
    cols = _rows(
        n,
        provider=[provider[i % len(provider)] for i in range(n)],
        model=[model[i * 7 % len(model)] for i in range(n)],
        service_tier=[tier[i * 5 % len(tier)] for i in range(n)],
        operation=[op[i * 3 % len(op)] for i in range(n)],
        batch=[batch[i * 11 % len(batch)] for i in range(n)],
        endpoint=[endpoint[i % len(endpoint)] for i in range(n)],
    )
    path = _parquet(tmp_path / "keys.parquet", cols)
    plan = native.read_parquet(path).direct()
    assert plan is not None and plan.keys is not None and plan.numbered is not None
    con = v.connect()
    keyed = f"SELECT DISTINCT {migrations.key_columns_sql()} FROM ({{}}) ORDER BY ALL"
    every_row = con.execute(keyed.format(plan.numbered)).fetchall()
    distinct = con.execute(keyed.format(plan.keys)).fetchall()
    assert distinct == every_row
    assert len(every_row) > 20  # the values above make many keys
    # the distinct values read fewer rows than the file has
    raw = duckdb.sql(
        f"SELECT count(*) FROM (SELECT DISTINCT provider, model, service_tier, operation, "
        f"batch, endpoint FROM read_parquet('{path}'))"
    ).fetchone()
    assert raw is not None and raw[0] < n
    direct, chunked, res = _both(path, tmp_path)
    assert res.direct and direct == chunked
