"""Distinct event ids are never taken for duplicates.

DuckDB's `hash()` collides on structured strings: these two OTLP ids (found by a load test,
where 582 of 71,680 distinct spans were lost) have the same `hash()`. The in-file duplicate
check must keep both.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from unitecon.ingest import read_path

A = "0000000000000001000000000000003b:0000000000018879"
B = "00000000000000010000000000000035:0000000000018849"


def test_duckdb_hash_really_collides_here() -> None:
    got = duckdb.connect().execute("SELECT hash(?) = hash(?)", [A, B]).fetchone()
    assert got is not None and got[0] is True


def test_both_records_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    rows = [
        {
            "event_id": eid,
            "ts": "2026-10-01T00:00:00Z",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 10 + i,
            "output_tokens": 1,
        }
        for i, eid in enumerate((A, B))
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    chunks = list(read_path(path, "jsonl"))
    assert sum(c.events.num_rows for c in chunks) == 2
    assert [r for c in chunks for r in c.rejected] == []
