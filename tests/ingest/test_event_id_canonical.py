"""An event without an id gets `sha256:` + the sha256 of its canonical form (docs/ingest.md,
"Event ids"), a text that does not depend on any engine's JSON.

The id is computed here a second way: in Python, with hashlib, from the form as the
documentation writes it (this file's `canonical` is that text turned into code, not a call
into the package), from the values the ledger stored; ingest must have stored that id.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from unitecon.ingest import read_path
from unitecon.ledger.schema import source_sql
from unitecon.ledger.store import Ledger

#: docs/ingest.md: the fields, in this order.
FIELDS = [
    "ts",
    "duration_ms",
    "ttft_ms",
    "trace_id",
    "span_id",
    "parent_span_id",
    "operation",
    "provider",
    "model",
    "endpoint",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "unit_type",
    "units",
    "service_tier",
    "batch",
    "status",
    "attempt",
    "accepted",
    "agent",
    "conversation_id",
    "task_id",
    "task_type",
    "customer_id",
    "user_id",
    "feature",
    "team",
    "environment",
    "tags",
    "sample_rate",
    "reported_cost",
]
INTS = {f for f in FIELDS if f.endswith("_tokens")} | {"attempt"}
FLOATS = {"duration_ms", "ttft_ms", "units", "sample_rate"}
BOOLS = {"batch", "accepted"}


def enc(text: str | None) -> str:
    return "~" if text is None else f"{len(text.encode('utf-8'))}:{text}"


def value_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if field == "ts":
        assert isinstance(value, datetime)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if field in INTS:
        return str(int(value))
    if field in FLOATS:
        return f"{float(value):.9f}"
    if field in BOOLS:
        return "true" if value else "false"
    if field == "reported_cost":
        return f"{Decimal(value):.12f}"
    if field == "tags":
        entries = sorted(dict(value).items())  # key order: Unicode code points
        return "".join(enc(k) + enc(v) for k, v in entries)
    return str(value)


def canonical(row: dict[str, Any]) -> str:
    lines = ["unitecon.event/1"]
    lines += [f"{f}={enc(value_text(f, row[f]))}" for f in FIELDS]
    return "\n".join(lines) + "\n"


def expected_id(row: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(row).encode("utf-8")).hexdigest()


RECORDS: list[dict[str, Any]] = [
    # the fewest fields: everything else takes its default (attempt 1, status ok, ...)
    {"ts": "2026-10-01T00:00:00Z", "provider": "openai", "model": "gpt-4o-mini"},
    # a time with an offset and a fraction, tokens, nulls given as such, a decimal cost
    {
        "ts": "2026-10-01T12:34:56.789+02:00",
        "provider": "OpenAI",
        "model": "gpt-4o",
        "input_tokens": 1200,
        "cache_read_tokens": 1000,
        "output_tokens": 35,
        "reasoning_tokens": 5,
        "duration_ms": 1234.5,
        "ttft_ms": None,
        "reported_cost": "0.0123",
        "sample_rate": 0.1,
        "accepted": False,
    },
    # tags (unsorted, unicode, an empty value) and unicode text, a batch tier
    {
        "ts": 1790000000,
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "customer_id": "Zürich-客户-🚀",
        "feature": "résumé",
        "service_tier": "batch",
        "tags": {"zeta": "1", "Alpha": "ü", "émoji": "🚀", "blank": ""},
        "units": 2,
    },
    # a self-hosted endpoint priced by duration, a per-unit operation
    {
        "ts": "2026-10-02 08:00:00",
        "endpoint": "llama-70b-h100",
        "duration_ms": 0.1,
        "operation": "web_search",
        "unit_type": "web_search",
        "units": 3.25,
        "attempt": 2,
        "status": "error",
        "trace_id": "t1",
    },
]


def _ids_and_rows(path: Path, tmp: Path) -> list[dict[str, Any]]:
    with Ledger(tmp / f"{path.name}.duckdb") as led:
        res = led.ingest(str(path), read_path(path))
        assert res.quarantined == 0, res.errors
        return led.rows("SELECT * FROM events ORDER BY source")


def _check(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == len(RECORDS)
    for row in rows:
        assert row["event_id"] == expected_id(row), canonical(row)


def test_ids_equal_the_documented_form_computed_in_python(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    rows = _ids_and_rows(path, tmp_path)
    _check(rows)
    # the stored values the form was computed from are the ones the records gave
    by_model = {r["model"]: r for r in rows}
    assert dict(by_model["claude-sonnet-4-5"]["tags"]) == RECORDS[2]["tags"]
    assert by_model["gpt-4o"]["reported_cost"] == Decimal("0.0123")
    assert by_model["gpt-4o"]["ts"] == datetime(2026, 10, 1, 10, 34, 56, 789000, tzinfo=UTC)


def test_one_canonical_text_by_hand() -> None:
    """The form of the first record, written out by hand from the documentation."""
    row = dict.fromkeys(FIELDS)
    row.update(
        ts=datetime(2026, 10, 1, tzinfo=UTC),
        operation="chat",
        provider="openai",
        model="gpt-4o-mini",
        status="ok",
        attempt=1,
        batch=False,
        units=0.0,
        sample_rate=1.0,
        **{f: 0 for f in INTS if f != "attempt"},
    )
    text = canonical(row)
    assert text.startswith("unitecon.event/1\nts=27:2026-10-01T00:00:00.000000Z\nduration_ms=~\n")
    assert "\nunits=11:0.000000000\n" in text and "\nbatch=5:false\n" in text
    assert "\nprovider=6:openai\n" in text and text.endswith("\nreported_cost=~\n")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_same_records_get_the_same_ids_from_csv_and_parquet(tmp_path: Path, fmt: str) -> None:
    """The form is of the validated values, so the source format does not change the id."""
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    want = sorted(r["event_id"] for r in _ids_and_rows(jsonl, tmp_path))
    names = sorted({k for r in RECORDS for k in r})
    path = tmp_path / f"events.{fmt}"
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(names)
            for r in RECORDS:
                w.writerow(
                    [
                        "" if r.get(n) is None else json.dumps(r[n]) if n == "tags" else r[n]
                        for n in names
                    ]
                )
    else:
        cols = {
            n: [
                None
                if r.get(n) is None
                else json.dumps(r[n])
                if n == "tags"
                else str(r[n]).lower()
                if isinstance(r[n], bool)
                else str(r[n])
                for r in RECORDS
            ]
            for n in names
        }
        pq.write_table(pa.table(cols), path)
    got = sorted(r["event_id"] for r in _ids_and_rows(path, tmp_path))
    assert got == want


def test_a_ledger_with_the_old_ids_is_rekeyed_so_reingest_adds_nothing(tmp_path: Path) -> None:
    """Before the canonical form an id was `sha256:` + sha256 of DuckDB's `to_json` of the
    record's content; migration 6 gives those events their canonical id (and leaves an id a
    source gave alone), so re-ingesting the same file after the upgrade adds nothing."""
    from unitecon.ledger import migrations

    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    db = tmp_path / "old.duckdb"
    with Ledger(db) as led:
        led.ingest(str(path), read_path(path))
        # as the earlier version stored them: the old formula over the stored row
        fields = ", ".join(f"{n} := {n}" for n in FIELDS)
        led.con.execute(
            f"UPDATE events SET event_id = 'sha256:' || sha256(to_json(struct_pack({fields})))"
        )
        led.con.execute(
            "INSERT INTO events SELECT * REPLACE ('sha256:given' AS event_id) FROM events LIMIT 1"
        )
        # and version 5's layout: the whole source text, no `source_row` (version 7)
        led.con.execute(f"UPDATE events SET source = {source_sql()}")
        led.con.execute("ALTER TABLE events DROP COLUMN source_row")
        led.con.execute("DELETE FROM schema_migrations WHERE version >= 6")
        old = {r["event_id"] for r in led.rows("SELECT event_id FROM events")}
    assert migrations.LATEST == 7
    with Ledger(db) as led:
        rows = led.rows("SELECT * FROM events WHERE event_id <> 'sha256:given'")
        _check(rows)
        assert not old & {r["event_id"] for r in rows}  # every old id was changed
        assert led.count() == len(RECORDS) + 1  # the given id kept
        res = led.ingest(str(path), read_path(path))
        assert (res.accepted, res.duplicates) == (0, len(RECORDS))
