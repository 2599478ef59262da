"""CSV and Parquet: same checks, locations `file:line` and `file:row N`."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CSV = (
    "event_id,ts,model,input_tokens,cache_read_tokens,customer_id,region\n"
    "c1,2025-03-01T10:00:00Z,gpt-4o,100,20,acme,eu\n"
    'c2,2025-03-01T10:00:00Z,"gpt-4o",abc,0,"multi\nline",us\n'
    "c3,2025-03-01T10:00:00Z,gpt-4o,10,20,acme,us\n"
    "c4,2025-03-01T10:00:00Z,gpt-4o,10\n"
    "\n"
    "c5,1740823200000,gpt-4o,7,,beta,\n"
)


def test_csv(tmp_path: Path, read) -> None:
    f = tmp_path / "e.csv"
    f.write_text(CSV)
    res = read(f)
    assert res.by_location() == {
        f"{f}:3": "input_tokens: expected a whole number, got 'abc'",
        f"{f}:5": "cache_read_tokens (20) exceeds input_tokens (10); input_tokens must "
        "include cache reads and writes",
        f"{f}:6": "expected 7 fields (as in the header), got 4",
    }
    rows = {r["event_id"]: r for r in res.rows}
    assert sorted(rows) == ["c1", "c5"]
    assert (rows["c1"]["source"], dict(rows["c1"]["tags"])) == (f"{f}:2", {"region": "eu"})
    assert rows["c5"]["source"] == f"{f}:8" and rows["c5"]["tags"] is None
    assert rows["c5"]["ts"].isoformat() == "2025-03-01T10:00:00+00:00"


def test_parquet_typed_columns(tmp_path: Path, read) -> None:
    f = tmp_path / "e.parquet"
    table = pa.table(
        {
            "ts": pa.array([1740823200, 1740823200, None], pa.int64()),
            "model": ["gpt-4o", "gpt-4o", "gpt-4o"],
            "input_tokens": pa.array([5, -1, 5], pa.int64()),
            "batch": [True, False, False],
            "plan": ["pro", None, "free"],
        }
    )
    pq.write_table(table, f)
    res = read(f)
    assert res.by_location() == {
        f"{f}:row 2": "input_tokens: negative count '-1'",
        f"{f}:row 3": "ts: missing (required)",
    }
    (row,) = res.rows
    assert (row["batch"], dict(row["tags"]), row["source"]) == (True, {"plan": "pro"}, f"{f}:row 1")
    assert res.rejected[0].raw.startswith('{"ts": 1740823200')
