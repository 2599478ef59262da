"""A kill -9 inside the direct read of a CSV or Parquet file (after its rows are inserted,
before the commit) leaves nothing of it; the next run gives the ledger of a clean run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from unitecon.cli.main import run
from unitecon.ingest import read_path
from unitecon.ledger.schema import source_sql
from unitecon.ledger.store import Ledger

KILL_BEFORE_COMMIT = """
import os, signal, sys
from pathlib import Path
from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger

def die(self, res, rejected):  # called after the INSERT, before the COMMIT
    os.kill(os.getpid(), signal.SIGKILL)

Ledger._quarantine = die
path = Path(sys.argv[1])
with Ledger() as ledger:
    ledger.ingest(str(path), read_path(path))
"""

N = 300


def _write(path: Path) -> None:
    cols = {
        "event_id": [f"ev-{i}" for i in range(N)],
        "ts": [f"2026-10-{1 + i % 28:02d}T12:00:00Z" for i in range(N)],
        "provider": ["openai"] * N,
        "model": ["gpt-4o-mini"] * N,
        "input_tokens": [str(-5 if i % 100 == 70 else 1000 + i) for i in range(N)],
        "customer_id": [f"c{i % 7}" for i in range(N)],
    }
    if path.suffix == ".parquet":
        pq.write_table(pa.table(cols), path)
    else:
        lines = [",".join(cols), *(",".join(v[i] for v in cols.values()) for i in range(N))]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _snapshot(home: Path) -> tuple[list[dict[str, object]], list[tuple[str, str]]]:
    with Ledger(home / "ledger.duckdb", read_only=True) as ledger:
        events = ledger.rows(
            f"SELECT * EXCLUDE (ingest_id, source_row) REPLACE ({source_sql()} AS source) "
            "FROM events ORDER BY event_id"
        )
        quarantine = sorted((str(r["location"]), str(r["reason"])) for r in ledger.quarantine())
    return events, quarantine


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_kill_inside_the_direct_write_then_rerun_equals_clean_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    data = tmp_path / f"usage{suffix}"
    _write(data)
    clean = tmp_path / "clean"
    monkeypatch.setenv("UNITECON_HOME", str(clean))
    assert run(["ingest", str(data), "--json"]) == 4  # stored, 3 negative counts quarantined

    with Ledger(tmp_path / "check.duckdb") as ledger:  # the road the kill interrupts
        assert ledger.ingest(str(data), read_path(data)).direct

    killed = tmp_path / "killed"
    env = {**os.environ, "UNITECON_HOME": str(killed)}
    proc = subprocess.run([sys.executable, "-c", KILL_BEFORE_COMMIT, str(data)], env=env)
    assert proc.returncode == -9
    with Ledger(killed / "ledger.duckdb") as ledger:  # opened for writing: marks the lineage
        assert ledger.count() == 0
        assert [r["status"] for r in ledger.ingests()] == ["interrupted"]
    monkeypatch.setenv("UNITECON_HOME", str(killed))
    assert run(["ingest", str(data), "--json"]) == 4
    events, quarantine = _snapshot(killed)
    assert (events, quarantine) == _snapshot(clean)
    assert len(events) == N - 3 and len(quarantine) == 3
