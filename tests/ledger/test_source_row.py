"""Schema version 7: a directly read record's number in `events.source_row`, its file's
location prefix in `source`. A ledger in the old layout (the whole `file:row N` text in
`source`, as every version before 7 stored it) opens and reads the same answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from unitecon.analysis.answers import Filters
from unitecon.analysis.core import Analysis
from unitecon.config import Project
from unitecon.ingest import read_path
from unitecon.ledger import lake
from unitecon.ledger.schema import source_sql
from unitecon.ledger.store import Ledger
from unitecon.pricing.engine import ledger_events, usage_missing_calls


def _parquet(path: Path) -> Path:
    """Six calls: rows 1-4 with usage, rows 5-6 (ids e4, e5) a model call without any."""
    n = 6
    pq.write_table(
        pa.table(
            {
                "event_id": [f"e{i}" for i in range(n)],
                "ts": [f"2026-10-01T00:0{i}:00Z" for i in range(n)],
                "operation": ["chat"] * n,
                "provider": ["openai"] * n,
                "model": ["gpt-4o-mini"] * n,
                "input_tokens": [100, 200, 300, 400, 0, 0],
                "output_tokens": [10, 20, 30, 40, 0, 0],
                "feature": ["a", "a", None, "b", "b", None],
            }
        ),
        path,
    )
    return path


def _answers(ledger: Ledger, tmp: Path) -> dict[str, Any]:
    sources = sorted(ledger_events(ledger).select("source").to_pyarrow().column(0).to_pylist())
    missing = [(m.source, m.model, m.events, m.calls) for m in usage_missing_calls(ledger)]
    with Analysis(ledger, Project()) as a:
        coverage = a.coverage(Filters()).model_dump(mode="json")
    root = tmp / "lake"
    lake.export(ledger, root)
    exported = sorted(
        pq.read_table(root / "events", columns=["source"]).column("source").to_pylist()
    )
    return {"sources": sources, "missing": missing, "coverage": coverage, "lake": exported}


def test_a_parquet_row_keeps_its_number_as_an_integer(tmp_path: Path) -> None:
    f = _parquet(tmp_path / "ev.parquet")
    with Ledger(tmp_path / "l.duckdb") as ledger:
        res = ledger.ingest(str(f), read_path(f), fmt="parquet")
        assert res.direct and res.accepted == 6
        stored = ledger.rows("SELECT source, source_row FROM events ORDER BY event_id")
        assert stored == [{"source": f"{f}:row ", "source_row": i + 1} for i in range(6)]
        # the text as it was always given: `file:row N`, rows counted from 1
        text = ledger.rows(f"SELECT {source_sql()} AS s FROM events ORDER BY event_id")
        assert [r["s"] for r in text] == [f"{f}:row {i}" for i in range(1, 7)]
        # the two calls without usage are named by their file, as before
        assert [(m.source, m.events, m.calls) for m in usage_missing_calls(ledger)] == [
            (str(f), 2, 6)
        ]


def test_a_ledger_in_the_old_layout_reads_the_same_answers(tmp_path: Path) -> None:
    f = _parquet(tmp_path / "ev.parquet")
    new, old = tmp_path / "new.duckdb", tmp_path / "old.duckdb"
    with Ledger(new) as ledger:
        ledger.ingest(str(f), read_path(f), fmt="parquet")
        want = _answers(ledger, tmp_path / "a")
    with Ledger(old) as ledger:
        ledger.ingest(str(f), read_path(f), fmt="parquet")
        # back to version 6's layout: the whole text in `source`, no `source_row`
        ledger.con.execute(f"UPDATE events SET source = {source_sql()}")
        ledger.con.execute("ALTER TABLE events DROP COLUMN source_row")
        ledger.con.execute("DELETE FROM schema_migrations WHERE version >= 7")
    with Ledger(old) as ledger:  # migrated to 7: the old rows keep their text
        assert ledger.rows("SELECT count(source_row) AS n FROM events") == [{"n": 0}]
        assert _answers(ledger, tmp_path / "b") == want
        # a record of the old rows sent again with other content names where they came from
        g = tmp_path / "again.parquet"
        t = pq.read_table(f).slice(0, 1)
        pq.write_table(t.set_column(5, "input_tokens", pa.array([999])), g)
        res = ledger.ingest(str(g), read_path(g), fmt="parquet")
        assert res.accepted == 0 and res.conflicts == 1
        assert f"(first from {f}:row 1)" in str(res.errors[0])
    assert want["sources"] == sorted(f"{f}:row {i}" for i in range(1, 7))
    assert want["missing"] == [(str(f), "gpt-4o-mini", 2, 6)]


def test_a_read_of_a_ledger_an_older_unitecon_wrote_migrates_it(tmp_path: Path) -> None:
    """After an upgrade the first command is often a read (`unitecon costs`): it migrates
    the ledger (as a write would) and answers, instead of asking for an ingest first."""
    f = _parquet(tmp_path / "ev.parquet")
    old = tmp_path / "old.duckdb"
    with Ledger(old) as ledger:
        ledger.ingest(str(f), read_path(f), fmt="parquet")
        ledger.con.execute(f"UPDATE events SET source = {source_sql()}")
        ledger.con.execute("ALTER TABLE events DROP COLUMN source_row")
        ledger.con.execute("DELETE FROM schema_migrations WHERE version >= 7")
    with Ledger(old, read_only=True) as ledger:
        got = sorted(ledger_events(ledger).select("source").to_pyarrow().column(0).to_pylist())
        versions = ledger.rows("SELECT max(version) AS v FROM schema_migrations")
    assert got == sorted(f"{f}:row {i}" for i in range(1, 7))
    assert versions == [{"v": 7}]
