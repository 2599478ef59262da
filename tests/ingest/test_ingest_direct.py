"""The ledger's direct read of a JSONL file gives exactly what the chunked read gives.

A plain JSONL file is read by DuckDB in one statement (`base.DirectRead`, as its own COPY would
read it) and kept only when nothing in it needs the chunked read: every line one valid record,
no key beyond the known fields, no id twice. Every file here is ingested both ways into fresh
ledgers and must give the same events (sources, tags, hashed ids), quarantine and lineage;
`IngestResult.direct` says which way was taken, so a clean file that stopped taking the direct
read would fail too.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.ingest import native, read_path
from unitecon.ingest import validate as v
from unitecon.ledger import store
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import source_sql
from unitecon.ledger.store import IngestResult, Ledger


@pytest.fixture(autouse=True)
def _whole_acceptance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look at no line before trying the direct read (`native._head_is_plain`), so that
    every file here meets the acceptance itself; the head check has its own test."""
    monkeypatch.setattr(native, "HEAD_BYTES", 1)


def _event(i: int, **extra: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "event_id": f"ev-{i}",
        "ts": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        "provider": "anthropic" if i % 2 else "openai",
        "model": "claude-sonnet-4-5" if i % 2 else "gpt-4o-mini",
        "input_tokens": 1000 + i,
        "cache_read_tokens": 10 * (i % 3),
        "output_tokens": 100 + i,
        "customer_id": f"c{i % 5}",
        "batch": i % 4 == 0,
    }
    rec.update(extra)
    return rec


def _compact(rec: dict[str, object]) -> str:
    return json.dumps(rec, separators=(",", ":"))


Snapshot = tuple[list[dict[str, Any]], list[tuple[str, str, str]], tuple[int, ...]]


def _snapshot(led: Ledger, res: IngestResult) -> Snapshot:
    events = led.rows(
        f"SELECT * EXCLUDE (ingest_id, source_row) REPLACE ({source_sql()} AS source) "
        "FROM events ORDER BY event_id"
    )
    quarantine = [(r["location"], r["reason"], r["raw"]) for r in led.quarantine()]
    counts = (res.rows_read, res.accepted, res.duplicates, res.quarantined)
    return events, quarantine, counts


def _chunked(path: Path) -> Iterator[Chunk]:
    yield from read_path(path, "jsonl")  # a plain generator: no direct read offered


def _both(path: Path, tmp: Path, before: Path | None = None) -> tuple[Snapshot, Snapshot, bool]:
    """Ingest `path` directly and chunked (each into a fresh ledger that first ingested
    `before`, chunked); the two snapshots and whether the direct read was kept."""
    out = []
    direct = False
    for how in ("direct", "chunked"):
        with Ledger(tmp / f"{how}-{path.name}.duckdb") as led:
            if before is not None:
                led.ingest(str(before), _chunked(before))
            chunks = read_path(path, "jsonl") if how == "direct" else _chunked(path)
            res = led.ingest(str(path), chunks)
            direct = direct or res.direct
            out.append(_snapshot(led, res))
    return out[0], out[1], direct


def _write(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_text(end.join(lines) + end, encoding="utf-8")
    return path


CLEAN = {
    "compact": [_compact(_event(i)) for i in range(40)],
    "python separators, nulls": [json.dumps(_event(i, task_id=None)) for i in range(40)],
    "tags": [
        _compact(_event(1, tags={"region": "eu", "tier": "gold"})),
        _compact(_event(2, tags={"nested": {"a": 1, "b": None}, "n": 2})),
        _compact(_event(3, tags="plain text")),
        _compact(_event(4, tags=None)),
        json.dumps(_event(5, tags={"spaced": "yes"})),
    ],
    "ids hashed": [
        _compact({k: v for k, v in _event(i).items() if k != "event_id"}) for i in range(9)
    ],
    "every field": [
        _compact(
            _event(
                i,
                duration_ms=1234.5,
                ttft_ms=210.0,
                trace_id=f"t{i // 3}",
                span_id=f"s{i}",
                operation="chat",
                reasoning_tokens=5,
                service_tier="flex" if i % 3 else None,
                status="ok",
                attempt=1 + i % 2,
                accepted=bool(i % 2),
                agent="worker",
                conversation_id="conv-1",
                task_id=f"task-{i // 2}",
                task_type="triage",
                user_id="u1",
                feature="support",
                team="cx",
                environment="prod",
                sample_rate=0.5,
                reported_cost="0.0123",
            )
        )
        for i in range(12)
    ],
}


@pytest.mark.parametrize("name", list(CLEAN))
def test_a_clean_file_is_read_directly_with_the_same_result(tmp_path: Path, name: str) -> None:
    direct, chunked, used = _both(_write(tmp_path / "clean.jsonl", CLEAN[name]), tmp_path)
    assert used
    assert direct == chunked
    assert direct[2][1] == len(CLEAN[name])  # all accepted
    assert direct[0][0]["source"].startswith(str(tmp_path / "clean.jsonl") + ":")


def test_line_endings_last_line_and_empty_file(tmp_path: Path) -> None:
    lines = [_compact(_event(i)) for i in range(5)]
    for path, text in [
        (tmp_path / "crlf.jsonl", "\r\n".join(lines) + "\r\n"),
        (tmp_path / "open-end.jsonl", "\n".join(lines)),
        (tmp_path / "empty.jsonl", ""),
    ]:
        path.write_text(text, encoding="utf-8", newline="")
        direct, chunked, used = _both(path, tmp_path)
        assert used and direct == chunked, path.name
        if text:
            assert max(int(str(r["source"]).rsplit(":", 1)[1]) for r in direct[0]) == 5
        else:
            assert direct == ([], [], (0, 0, 0, 0))


def test_reingest_and_overlap_count_duplicates_the_same(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.jsonl", [_compact(_event(i)) for i in range(20)])
    again = _write(tmp_path / "b.jsonl", [_compact(_event(i)) for i in range(10, 30)])
    for before, path in [(first, first), (first, again)]:
        direct, chunked, used = _both(path, tmp_path, before=before)
        assert used and direct == chunked
        assert direct[2][2] == (20 if path == first else 10)  # duplicates


NOT_DIRECT = {
    "blank line": [_compact(_event(1)), "", _compact(_event(2))],
    "blank-only line": [_compact(_event(1)), "   ", _compact(_event(2))],
    "unknown key": [_compact(_event(1)), _compact(_event(2, region="eu"))],
    "unknown key, blank before its colon": [
        _compact(_event(1)),
        _compact(_event(2)).replace('"customer_id":', '"customer_id":"c","zone" :'),
    ],
    # a quote escaped as \u0022 is not counted as a key by the scan; the tags string's text
    # (with a plain quote) must not be counted either, or the unknown key would hide
    "escaped quote in tags string, unknown key": [
        _compact(_event(1)).replace('"batch":', '"tags":"\\u0022:x","batch":'),
        _compact(_event(2, region="eu")),
    ],
    "escaped quote in tags object, unknown key": [
        _compact(_event(1)).replace('"batch":', '"tags":{"k":"\\u0022:x"},"batch":'),
        _compact(_event(2, region="eu")),
    ],
    # `nan` (no quotes) is a value to DuckDB, not a null: a key with it is a key to count,
    # or it would cover for the unknown key on the next line
    "nan literal, unknown key": [
        _compact(_event(1)).replace('"batch":', '"team":nan,"batch":'),
        _compact(_event(2, region="eu")),
    ],
    "malformed": [_compact(_event(1)), '{"event_id": "x", ', _compact(_event(2))],
    "rejected line with an unknown key": [
        _compact(_event(1)),
        _compact(_event(2, x=1, input_tokens=-5)),
    ],
    "not an object": [_compact(_event(1)), "[1, 2]", "null", "7"],
    "same id, same content": [_compact(_event(1)), _compact(_event(1))],
    "same id, other content": [_compact(_event(1)), _compact(_event(1, output_tokens=7))],
}


@pytest.mark.parametrize("name", list(NOT_DIRECT))
def test_a_file_the_direct_read_cannot_vouch_for_is_read_in_chunks(
    tmp_path: Path, name: str
) -> None:
    direct, chunked, used = _both(_write(tmp_path / "odd.jsonl", NOT_DIRECT[name]), tmp_path)
    assert not used
    assert direct == chunked


REJECTED = {
    "negative count": [_compact(_event(1)), _compact(_event(2, input_tokens=-5))],
    "boolean count": [_compact(_event(1)), _compact(_event(2, input_tokens=True))],
    "cache above input": [_compact(_event(1, cache_read_tokens=5000)), _compact(_event(2))],
    "unknown status": [_compact(_event(1, status="exploded"))],
    "several, python separators": [
        json.dumps(_event(i, output_tokens=-i if i % 3 == 0 else i)) for i in range(1, 12)
    ],
}


@pytest.mark.parametrize("name", list(REJECTED))
def test_rejected_lines_get_the_chunked_reads_entries_in_a_direct_read(
    tmp_path: Path, name: str
) -> None:
    path = _write(tmp_path / "some-bad.jsonl", REJECTED[name])
    direct, chunked, used = _both(path, tmp_path)
    assert used
    assert direct == chunked
    assert direct[1] and all(raw for _, _, raw in direct[1])  # raw lines kept


def test_a_rejected_last_line_without_newline_and_too_many_rejections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "open-end.jsonl"
    lines = [_compact(_event(1)), _compact(_event(2)), _compact(_event(3, input_tokens=-1))]
    path.write_text("\n".join(lines), encoding="utf-8")
    direct, chunked, used = _both(path, tmp_path)
    assert used and direct == chunked
    assert [q[0] for q in direct[1]] == [f"{path}:3"]
    monkeypatch.setattr(Ledger, "MAX_REDO_LINES", 0)
    direct, chunked, used = _both(path, tmp_path / "again")
    assert not used and direct == chunked


def test_a_head_that_needs_the_chunked_read_skips_the_direct_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native, "HEAD_BYTES", 256 << 10)
    clean = [_compact(_event(i)) for i in range(3)]
    assert read_path(_write(tmp_path / "clean.jsonl", clean), "jsonl").direct() is not None
    for name, first in [
        ("tagged", _compact(_event(9, region="eu"))),
        ("blank", ""),
        ("malformed", '{"event_id": '),
        ("array", "[1]"),
        ("deep", "[" * 100_000 + "]" * 100_000),
    ]:
        path = _write(tmp_path / f"{name}.jsonl", [first, *clean])
        assert read_path(path, "jsonl").direct() is None, name


def test_bom_gzip_glob_name_and_long_line_are_read_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [_compact(_event(i)) for i in range(6)]
    text = ("\n".join(lines) + "\n").encode()
    cases = [
        (tmp_path / "bom.jsonl", b"\xef\xbb\xbf" + text),
        (tmp_path / "zipped.jsonl", gzip.compress(text)),
        (tmp_path / "name[1].jsonl", text),
    ]
    for path, data in cases:
        path.write_bytes(data)
        direct, chunked, used = _both(path, tmp_path)
        assert not used and direct == chunked, path.name
    monkeypatch.setattr(v, "MAX_RECORD_BYTES", 300)  # every line here is shorter ...
    long = _write(tmp_path / "long.jsonl", [*lines, _compact(_event(9, team="x" * 400))])
    direct, chunked, used = _both(long, tmp_path)  # ... but this one
    assert not used and direct == chunked
    assert [q[0] for q in direct[1]] == [f"{long}:7"]
    assert "over the limit of 300 bytes" in direct[1][0][1]


_field = st.one_of(
    st.none(),
    st.integers(0, 10**6),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {"i": st.integers(0, 50)},
            optional={
                "tags": st.one_of(
                    st.none(),
                    st.text(max_size=6),
                    st.dictionaries(st.text(max_size=4), _field, max_size=3),
                ),
                "customer_id": _field,
                "extra": _field,  # an unknown key
                "input_tokens": _field,
                "event_id": st.none(),  # no id: hashed from the content
            },
        ),
        min_size=1,
        max_size=8,
    ),
    spaced=st.booleans(),
)
def test_any_file_gives_the_same_ledger_both_ways(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]], spaced: bool
) -> None:
    tmp = tmp_path_factory.mktemp("any")
    lines = []
    for row in rows:
        rec = _event(row.pop("i"))
        for k, val in row.items():
            if k == "event_id":
                rec.pop("event_id")
            else:
                rec[k] = val
        lines.append(json.dumps(rec) if spaced else _compact(rec))
    direct, chunked, _ = _both(_write(tmp / "any.jsonl", lines), tmp)
    assert direct == chunked


def test_progress_grows_while_duckdb_reads_then_lineage_counts_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "PROGRESS_SECONDS", 0.001)
    path = _write(tmp_path / "big.jsonl", [_compact(_event(i)) for i in range(30_000)])
    seen: list[int] = []
    with Ledger(tmp_path / "l.duckdb") as led:
        res = led.ingest(
            str(path), read_path(path, "jsonl"), on_chunk=lambda r: seen.append(r.rows_read)
        )
        assert res.direct and (res.rows_read, res.accepted) == (30_000, 30_000)
        assert led.rows("SELECT rows_read FROM ingests") == [{"rows_read": 30_000}]
        # DuckDB's progress setting is back to what it was; its own bar never prints
        assert led.rows("SELECT current_setting('enable_progress_bar_print') AS p") == [
            {"p": False}
        ]
    assert seen[-1] == 30_000 and seen == sorted(seen) and len(seen) > 1


KILL_INSIDE_THE_DIRECT_WRITE = """
import os, signal, sys
from pathlib import Path
from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger

path = Path(sys.argv[1])

def die(self):  # called inside the write's transaction, after the quarantine is cleared
    os.kill(os.getpid(), signal.SIGKILL)

with Ledger() as ledger:
    Ledger.count = die
    ledger.ingest(str(path), read_path(path, "jsonl"))
"""


def test_killed_inside_the_direct_write_then_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    path = _write(tmp_path / "clean.jsonl", [_compact(_event(i)) for i in range(30)])
    bad = _write(tmp_path / "bad.jsonl", ['{"x": ', _compact(_event(99))])
    home = tmp_path / "killed"
    with Ledger(home / "ledger.duckdb") as led:  # a ledger with a quarantine entry to keep
        led.ingest(str(path), _chunked(bad))
        held = led.quarantine()
    env = {**os.environ, "UNITECON_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-c", KILL_INSIDE_THE_DIRECT_WRITE, str(path)], env=env, check=False
    )
    assert proc.returncode == -9
    with Ledger(home / "ledger.duckdb") as led:
        assert led.quarantine() == held  # the cleared quarantine was never committed
        assert led.count() == 1
        res = led.ingest(str(path), read_path(path, "jsonl"))
        assert res.direct and res.accepted == 30
        got = _snapshot(led, res)
    with Ledger(tmp_path / "clean.duckdb") as led:
        led.ingest(str(path), _chunked(bad))
        want = _snapshot(led, led.ingest(str(path), read_path(path, "jsonl")))
    assert got == want
