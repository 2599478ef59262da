"""Where a Parquet ingest spends its time: each DuckDB statement of `Ledger.ingest` over one
file, into a fresh ledger, with its wall and CPU time (the process's, so DuckDB's threads
included), beside the bare `CREATE TABLE t AS SELECT * FROM read_parquet(f)` in the same
process. Statements under 50 ms are not listed.

    .venv/bin/python bench/ingest_statements.py FILE.parquet [--no-bare]

(docs/benchmarks.md, "Session 11: Parquet ingest on a cheap file").
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb


class _Timed:
    """A DuckDB connection whose `execute` prints the statements that took 50 ms or more."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, params: Any = None) -> _Timed:
        wall, cpu = time.perf_counter(), time.process_time()
        self._con.execute(sql, params)
        wall = time.perf_counter() - wall
        if wall >= 0.05:
            text = " ".join(sql.split())[:100]
            print(f"  {wall:6.2f} s wall {time.process_time() - cpu:6.2f} s CPU  {text}")
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", type=Path)
    ap.add_argument("--no-bare", action="store_true")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="unitecon-statements-"))
    os.environ["UNITECON_HOME"] = str(home)
    try:
        if not args.no_bare:
            con = duckdb.connect(str(home / "bare.duckdb"))
            wall, cpu = time.perf_counter(), time.process_time()
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{args.file}')")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"bare CREATE TABLE: {wall:.2f} s wall {cpu:.2f} s CPU")
            con.close()
        from unitecon.ingest import native
        from unitecon.ledger import store

        wall, cpu = time.perf_counter(), time.process_time()
        ledger = store.Ledger()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"open (and migrate) a new ledger: {wall:.2f} s wall {cpu:.2f} s CPU")
        ledger.con = _Timed(ledger.con)  # type: ignore[assignment]
        wall, cpu = time.perf_counter(), time.process_time()
        res = ledger.ingest(str(args.file), native.read_parquet(args.file), fmt="parquet")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"ingest: {wall:.2f} s wall {cpu:.2f} s CPU, {res.accepted:,} accepted, "
            f"direct={res.direct}"
        )
        ledger.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
