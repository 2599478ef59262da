"""Killing the ingest process mid-file, then re-running, gives the ledger of a clean run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from unitecon.cli.main import run
from unitecon.ledger.schema import source_sql
from unitecon.ledger.store import Ledger

KILL_AFTER_TWO_CHUNKS = """
import os, signal, sys
from pathlib import Path
import unitecon.ingest.native as native
from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger

native.CHUNK_ROWS = 100
path = Path(sys.argv[1])
seen = []

def die(res):
    seen.append(res.rows_read)
    if len(seen) == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # a real kill -9, mid-file

with Ledger() as ledger:
    ledger.ingest(str(path), read_path(path, "jsonl"), on_chunk=die)
"""


def _write_file(path: Path) -> None:
    lines = []
    for i in range(450):
        if i % 90 == 45:
            lines.append('{"event_id": "broken", ')  # malformed JSON line
            continue
        rec = {
            "event_id": f"ev-{i}",
            "ts": f"2026-10-{1 + i % 28:02d}T12:00:00Z",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 1000 + i,
            "output_tokens": 100,
            "customer_id": f"c{i % 7}",
        }
        if i % 100 == 70:
            rec["input_tokens"] = -5  # negative count
        lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _snapshot(home: Path) -> tuple[list[dict[str, object]], list[tuple[str, str]]]:
    with Ledger(home / "ledger.duckdb", read_only=True) as ledger:
        events = ledger.rows(
            f"SELECT * EXCLUDE (ingest_id, source_row) REPLACE ({source_sql()} AS source) "
            "FROM events ORDER BY event_id"
        )
        quarantine = sorted((str(r["location"]), str(r["reason"])) for r in ledger.quarantine())
    return events, quarantine


def test_kill_mid_file_then_rerun_equals_clean_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "usage.jsonl"
    _write_file(data)

    clean_home = tmp_path / "clean"
    monkeypatch.setenv("UNITECON_HOME", str(clean_home))
    assert run(["ingest", str(data), "--json"]) == 4  # stored, its bad records quarantined

    killed_home = tmp_path / "killed"
    env = {**os.environ, "UNITECON_HOME": str(killed_home)}
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_TWO_CHUNKS, str(data)], env=env, check=False
    )
    assert proc.returncode == -9  # it really died mid-file
    with Ledger(killed_home / "ledger.duckdb", read_only=True) as ledger:
        partial = ledger.count()
    assert 0 < partial < 441  # some chunks committed, not all

    monkeypatch.setenv("UNITECON_HOME", str(killed_home))
    assert run(["ingest", str(data), "--json"]) == 4  # stored, its bad records quarantined

    clean_events, clean_quarantine = _snapshot(clean_home)
    events, quarantine = _snapshot(killed_home)
    assert len(clean_events) == 450 - 5 - 4  # 5 malformed lines, 4 negative counts
    assert events == clean_events
    assert quarantine == clean_quarantine
    assert len(quarantine) == 9
