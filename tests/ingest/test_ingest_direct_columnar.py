"""The ledger's direct read of a CSV or Parquet file gives exactly what the chunked read gives.

As for JSONL (test_ingest_direct.py): `read_path` offers a direct read (DuckDB's `read_csv` /
`read_parquet` into the same validation query, `native.CsvChunks.direct`,
`native.ParquetChunks.direct`); the chunked read (Python's csv module, Arrow record batches)
is the reference. Each file is ingested both ways into fresh ledgers and the two ledgers
(events, quarantine with locations, reasons and raw records, counts) must be equal; the
test also says which files must be read directly and which must fall back.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.ingest import read_path
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import source_sql
from unitecon.ledger.store import IngestResult, Ledger

Snapshot = tuple[list[dict[str, Any]], list[tuple[str, str, str]], tuple[int, ...]]


def _snapshot(led: Ledger, res: IngestResult) -> Snapshot:
    events = led.rows(
        f"SELECT * EXCLUDE (ingest_id, source_row) REPLACE ({source_sql()} AS source) "
        "FROM events ORDER BY event_id"
    )
    quarantine = [(r["location"], r["reason"], r["raw"]) for r in led.quarantine()]
    return events, quarantine, (res.rows_read, res.accepted, res.duplicates, res.quarantined)


def _chunked(path: Path, fmt: str) -> Iterator[Chunk]:
    yield from read_path(path, fmt)  # a plain generator: no direct read offered


def _both(
    path: Path, tmp: Path, fmt: str, before: Path | None = None
) -> tuple[Snapshot, Snapshot, bool]:
    out, direct = [], False
    for how in ("direct", "chunked"):
        with Ledger(tmp / f"{how}-{path.name}.duckdb") as led:
            if before is not None:
                led.ingest(str(before), _chunked(before, fmt))
            chunks = read_path(path, fmt) if how == "direct" else _chunked(path, fmt)
            res = led.ingest(str(path), chunks)
            direct = direct or res.direct
            out.append(_snapshot(led, res))
    return out[0], out[1], direct


HEADER = ["event_id", "ts", "provider", "model", "input_tokens", "output_tokens", "region"]


def _row(i: int, **over: str) -> list[str]:
    row = dict(
        zip(
            HEADER,
            [
                f"ev-{i}",
                f"2026-10-01T00:00:{i % 60:02d}Z",
                "openai",
                "gpt-4o-mini",
                str(100 + i),
                "10",
                "eu" if i % 3 else "",
            ],
            strict=True,
        )
    )
    row.update(over)
    return [row[h] for h in HEADER]


def _csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, end: str = "\n") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=end).writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


# -- CSV -----------------------------------------------------------------------------------------
def test_a_clean_csv_is_read_directly_with_the_same_result(tmp_path: Path) -> None:
    rows = [_row(i) for i in range(30)]
    rows[4] = _row(4, region='say "hi", then go')  # quotes and a comma in a quoted cell
    rows[5] = _row(5, provider="")  # an empty cell is missing
    header = [*HEADER, "tags", "_ignored", "ts"]  # a tags column, an ignored one, a repeat
    rows = [[*r, json.dumps({"k": f"v{i}"}), "x", "not read"] for i, r in enumerate(rows)]
    for end in ("\n", "\r\n"):
        path = _csv(tmp_path / f"clean{len(end)}.csv", rows, header, end)
        direct, chunked, used = _both(path, tmp_path, "csv")
        assert used and direct == chunked
        assert direct[2] == (30, 30, 0, 0)  # a model without a provider is enough
        by_id = {e["event_id"]: e for e in direct[0]}
        assert dict(by_id["ev-4"]["tags"]) == {"k": "v4", "region": 'say "hi", then go'}
        assert by_id["ev-7"]["source"] == f"{path}:9"  # line 9: the header is line 1


def test_rejected_csv_rows_keep_their_line_reason_and_raw_text(tmp_path: Path) -> None:
    rows = [_row(i) for i in range(20)]
    rows[2] = _row(2, input_tokens="-5")
    rows[10] = _row(10, ts="yesterday")
    rows[11] = _row(11, output_tokens="1.5")
    path = _csv(tmp_path / "bad.csv", rows)
    direct, chunked, used = _both(path, tmp_path, "csv")
    assert used and direct == chunked
    got = {q[0]: q for q in direct[1]}
    assert sorted(got) == sorted([f"{path}:4", f"{path}:12", f"{path}:13"])
    assert got[f"{path}:4"][1].startswith("input_tokens: negative count")
    assert got[f"{path}:4"][2] == ",".join(rows[2])


BAD_CSV = {
    "quoted newline": 'ev-9,2026-10-01T00:00:00Z,openai,gpt-4o-mini,5,1,"two\nlines"\n',
    "blank line": "\n",
    "short row": "ev-9,2026-10-01T00:00:00Z\n",
    "long row": "ev-9,2026-10-01T00:00:00Z,openai,gpt-4o-mini,5,1,eu,extra\n",
    "stray quote": 'ev-9,2026-10-01T00:00:00Z,open"ai,gpt-4o-mini,5,1,eu\n',
    "quote after a quoted cell": 'ev-9,2026-10-01T00:00:00Z,"open"ai,gpt-4o-mini,5,1,eu\n',
    "lone CR": "ev-9,2026-10-01T00:00:00Z,openai,gpt-4o-mini,5,1,eu\r",
    "NUL": "ev-9,2026-10-01T00:00:00Z,open\0ai,gpt-4o-mini,5,1,eu\n",
    "a duplicate id, other content": "ev-1,2026-10-01T00:00:00Z,openai,gpt-4o,5,1,eu\n",
    "spaces": "ev-9 , 2026-10-01T00:00:00Z ,openai, gpt-4o-mini,5 , 1,\n",
    "empty fields past the last": "ev-9,2026-10-01T00:00:00Z,openai,gpt-4o-mini,5,1,,,\n",
    "a quoted comma": 'ev-9,2026-10-01T00:00:00Z,openai,"gpt,4o",5,1,eu\n',
}


@pytest.mark.parametrize("name", list(BAD_CSV))
def test_an_odd_csv_gives_the_chunked_result(tmp_path: Path, name: str) -> None:
    text = "".join(",".join(r) + "\n" for r in [HEADER, *[_row(i) for i in range(6)]])
    path = tmp_path / "odd.csv"
    path.write_bytes((text + BAD_CSV[name] + ",".join(_row(7)) + "\n").encode())
    direct, chunked, used = _both(path, tmp_path, "csv")
    assert direct == chunked
    # spaces are kept, both ways; a quoted comma is no field's end: read directly
    assert used == (name in ("spaces", "a quoted comma")), name


def test_csv_bad_utf8_bom_gzip_and_header_only(tmp_path: Path) -> None:
    text = "".join(",".join(r) + "\n" for r in [HEADER, *[_row(i) for i in range(4)]])
    cases = {
        "bad-utf8.csv": text.encode() + b"ev-9,2026-10-01T00:00:00Z,op\xffenai,m,1,1,\n",
        "bom.csv": b"\xef\xbb\xbf" + text.encode(),
        "header-only.csv": (",".join(HEADER) + "\n").encode(),
        "no-newline.csv": text.encode().rstrip(b"\n"),
        "gz.csv.gz": gzip.compress(text.encode()),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        direct, chunked, used = _both(path, tmp_path, "csv")
        assert direct == chunked, name
        assert used == (name in ("bom.csv", "header-only.csv", "no-newline.csv")), name


def test_csv_reingest_and_overlap_count_duplicates_the_same(tmp_path: Path) -> None:
    first = _csv(tmp_path / "a.csv", [_row(i) for i in range(20)])
    second = _csv(tmp_path / "b.csv", [_row(i) for i in range(10, 30)])
    third = _csv(tmp_path / "c.csv", [_row(i, model="gpt-4o") for i in range(25, 28)])
    for path, dups in ((first, 20), (second, 10)):
        direct, chunked, used = _both(path, tmp_path / path.stem, "csv", before=first)
        assert used and direct == chunked
        assert direct[2][2] == dups
    direct, chunked, used = _both(third, tmp_path / "c", "csv", before=second)
    assert used and direct == chunked
    assert sorted(q[1][:18] for q in direct[1]) == [f"event_id: 'ev-{i}' " for i in (25, 26, 27)]


_cell = st.one_of(
    st.sampled_from(["", "1", "-2", "openai", "2026-10-01T00:00:00Z", " x ", "1e3", "NaN"]),
    st.text(st.sampled_from('ab,"\n\r 1é'), max_size=5),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_cell, min_size=6, max_size=8), min_size=1, max_size=6),
    quote_all=st.booleans(),
)
def test_any_csv_gives_the_same_ledger_both_ways(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], quote_all: bool
) -> None:
    tmp = tmp_path_factory.mktemp("anycsv")
    header = ["ts", "provider", "model", "input_tokens", "customer_id", "extra", "units"]
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(["2026-10-01T00:00:00Z", "openai", *r])
    path = tmp / "any.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    direct, chunked, _ = _both(path, tmp, "csv")
    assert direct == chunked


# -- Parquet -------------------------------------------------------------------------------------
def _parquet(path: Path, cols: dict[str, Any], row_group_size: int | None = None) -> Path:
    pq.write_table(pa.table(cols), path, row_group_size=row_group_size)
    return path


def _typed(n: int) -> dict[str, Any]:
    return {
        "event_id": [f"ev-{i}" for i in range(n)],
        "ts": pa.array([1_790_000_000_000_000 + i for i in range(n)], pa.timestamp("us", "UTC")),
        "provider": ["openai"] * n,
        "model": ["gpt-4o-mini" if i % 2 else "gpt-4o" for i in range(n)],
        "input_tokens": pa.array([100 + i for i in range(n)], pa.int64()),
        "output_tokens": pa.array([10] * n, pa.int32()),
        "duration_ms": [float(i) for i in range(n)],
        "batch": [i % 4 == 0 for i in range(n)],
        "tags": pa.array(
            [[("k", str(i))] if i % 5 else None for i in range(n)],
            pa.map_(pa.string(), pa.string()),
        ),
        "region": ["eu" if i % 3 else None for i in range(n)],
        "_private": [1] * n,
    }


def test_a_typed_parquet_is_read_directly_with_the_same_result(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "typed.parquet", _typed(50), row_group_size=16)
    direct, chunked, used = _both(path, tmp_path, "parquet")
    assert used and direct == chunked
    assert direct[2] == (50, 50, 0, 0)
    by_id = {e["event_id"]: e for e in direct[0]}
    assert by_id["ev-7"]["source"] == f"{path}:row 8"
    assert dict(by_id["ev-7"]["tags"]) == {"k": "7", "region": "eu"}


def test_rejected_parquet_rows_in_several_row_groups(tmp_path: Path) -> None:
    cols = _typed(60)
    cols["input_tokens"] = pa.array([-1 if i in (3, 17, 40) else 100 for i in range(60)])
    path = _parquet(tmp_path / "bad.parquet", cols, row_group_size=16)
    direct, chunked, used = _both(path, tmp_path, "parquet")
    assert used and direct == chunked
    got = {q[0]: q for q in direct[1]}
    assert sorted(got) == sorted(f"{path}:row {i + 1}" for i in (3, 17, 40))
    assert json.loads(got[f"{path}:row 18"][2])["event_id"] == "ev-17"  # the row as JSON


def test_parquet_of_text_columns_without_ids(tmp_path: Path) -> None:
    n = 12
    cols = {
        "ts": [f"2026-10-01T00:00:{i:02d}Z" for i in range(n)],
        "provider": ["openai"] * n,
        "model": ["gpt-4o-mini"] * n,
        "input_tokens": [str(i) if i != 5 else "many" for i in range(n)],
        "units": [None] * n,
    }
    path = _parquet(tmp_path / "text.parquet", cols)
    direct, chunked, used = _both(path, tmp_path, "parquet")
    assert used and direct == chunked
    assert all(e["event_id"].startswith("sha256:") for e in direct[0])
    # reingest: every id already stored
    direct, chunked, used = _both(path, tmp_path / "again", "parquet", before=path)
    assert used and direct == chunked and direct[2][2] == n - 1


def test_parquet_the_direct_read_cannot_take(tmp_path: Path) -> None:
    n = 6
    base = {"ts": [f"2026-10-01T00:00:0{i}Z" for i in range(n)], "model": ["gpt-4o"] * n}
    cases = {
        "case.parquet": {**base, "Provider": ["x"] * n, "provider": ["openai"] * n},
        "nested.parquet": {**base, "provider": ["openai"] * n, "customer_id": [{"a": 1}] * n},
        "gz.parquet": {**base, "provider": ["openai"] * n},
    }
    for name, cols in cases.items():
        path = _parquet(tmp_path / name, cols)
        if name == "gz.parquet":
            path.write_bytes(gzip.compress(path.read_bytes()))
        direct, chunked, used = _both(path, tmp_path, "parquet")
        assert direct == chunked, name
        assert used == (name == "nested.parquet"), name
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 not really")
    direct, chunked, used = _both(bad, tmp_path, "parquet")
    assert not used and direct == chunked and direct[1][0][1].startswith("cannot read as Parquet")
