"""`unitecon ingest` as a user runs it, beside the bare DuckDB read of the same file.

N synthetic events with every price feature (cache reads, 5-minute and 1-hour cache writes,
reasoning, batch, service tiers, self-hosted endpoints priced by duration, per-unit
operations, tags, sampled events) are generated with DuckDB SQL and written once as Parquet,
CSV and JSONL. For each format, in the same run and alternately, each as a fresh subprocess
into a fresh directory:

- bare: `python -c` that opens a new DuckDB file and runs
  `CREATE TABLE t AS SELECT * FROM read_parquet(f)` (`read_csv(f)`, `read_json(f)`);
- unitecon: `unitecon ingest f --json` into an empty `UNITECON_HOME`, then the same command
  again (idempotency: the second run must add nothing).

Printed per format: wall time (best of `--runs`), CPU time of the child (user + system),
peak RSS of the child (`wait4`), and the ratios unitecon / bare of wall and CPU time. Every
ingest must accept all N events, read directly (`direct` in its lineage), and the re-run must
accept 0.

    .venv/bin/python bench/ingest.py [--rows 5000000] [--runs 2] [--formats parquet,csv,jsonl]

`--file F.parquet` measures an existing Parquet file instead (a copy of it, in the work
directory; `--rows` becomes its row count): bench/scale.py's files are cheap to read (15
columns, no nulls), so the fixed and per-row costs of `unitecon ingest` weigh more there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

#: Events per model: (provider, model, share). Prices differ by tier, cache, batch, time.
MODELS = [
    ("openai", "gpt-4o", 18),
    ("openai", "gpt-4o-mini", 20),
    ("openai", "o3", 6),
    ("anthropic", "claude-sonnet-4-5", 14),
    ("anthropic", "claude-opus-4-1", 4),
    ("google", "gemini-2.5-pro", 6),
    ("google", "gemini-2.5-flash", 10),
    ("deepseek", "deepseek-chat", 8),
    ("perplexity", "sonar-pro", 3),
    ("azure", "claude-sonnet-4-5", 3),
]


def generate_sql(n: int) -> str:
    """A query of `n` events (deterministic in the row number) with every price feature:
    8% self-hosted endpoints (priced by duration), 4% per-unit operations (web searches),
    the rest token-priced chat across providers with cache reads and writes (1-hour ones
    too), reasoning, batch and service tiers; a few sampled events and tags."""
    weights = [w for _, _, w in MODELS]
    total = sum(weights)
    cases, acc = [], 0
    for (prov, model, w), i in zip(MODELS, range(len(MODELS)), strict=True):
        acc += w
        cases.append((acc * 1000 // total, prov, model, i))
    prov_case = " ".join(f"WHEN m < {c} THEN '{p}'" for c, p, _, _ in cases)
    model_case = " ".join(f"WHEN m < {c} THEN '{mo}'" for c, _, mo, _ in cases)
    h = "hash(i)"
    return f"""
    WITH base AS (
      SELECT i, ({h} % 1000)::INTEGER AS m, ({h} >> 10) % 100 AS kind,
             (({h} >> 20) % 1000000)::BIGINT AS r1, (({h} >> 40) % 1000000)::BIGINT AS r2
      FROM range({n}) t(i)
    ), tok AS (
      SELECT *, 200 + (r1 * r1) % 120000 AS inp, 20 + (r2 * 7) % 8000 AS outp FROM base
    )
    SELECT
      'ev-' || i AS event_id,
      TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_microseconds((i * 37 + r1) % 63072000000000)
        AS ts,
      CASE WHEN kind < 8 THEN 500.0 + r1 % 20000 ELSE 300.0 + r2 % 9000 END AS duration_ms,
      CASE WHEN kind < 60 THEN 100.0 + r2 % 900 END AS ttft_ms,
      't-' || (i // 4) AS trace_id,
      's-' || i AS span_id,
      CASE WHEN i % 4 <> 0 THEN 's-' || (i - i % 4) END AS parent_span_id,
      CASE WHEN kind BETWEEN 8 AND 11 THEN 'web_search' ELSE 'chat' END AS operation,
      CASE WHEN kind < 8 THEN NULL WHEN kind BETWEEN 8 AND 11 THEN 'openai' ELSE
        CASE {prov_case} END END AS provider,
      CASE WHEN kind < 12 THEN NULL ELSE CASE {model_case} END END AS model,
      CASE WHEN kind < 8 THEN 'llama-70b-h100' END AS endpoint,
      CASE WHEN kind BETWEEN 8 AND 11 THEN 0 ELSE inp END AS input_tokens,
      CASE WHEN kind >= 12 AND r2 % 2 = 0 THEN inp * (r1 % 90) // 100 ELSE 0 END
        AS cache_read_tokens,
      CASE WHEN kind >= 12 AND r2 % 5 = 0 THEN inp * (r2 % 9) // 100 ELSE 0 END
        AS cache_write_tokens,
      CASE WHEN kind >= 12 AND r2 % 10 = 0 THEN inp * (r2 % 9) // 200 ELSE 0 END
        AS cache_write_1h_tokens,
      CASE WHEN kind BETWEEN 8 AND 11 THEN 0 ELSE outp END AS output_tokens,
      CASE WHEN kind >= 12 AND r1 % 5 < 2 THEN outp * (r2 % 80) // 100 ELSE 0 END
        AS reasoning_tokens,
      CASE WHEN kind BETWEEN 8 AND 11 THEN 'web_search' END AS unit_type,
      CASE WHEN kind BETWEEN 8 AND 11 THEN 1.0 + r1 % 3 ELSE 0.0 END AS units,
      CASE WHEN kind >= 12 THEN ['default', 'flex', 'priority', NULL, NULL, NULL][1 + r1 % 6]
        END AS service_tier,
      kind >= 12 AND r2 % 7 = 0 AS batch,
      CASE WHEN r1 % 50 = 0 THEN 'error' ELSE 'ok' END AS status,
      1 + (r1 % 50 = 0)::INTEGER AS attempt,
      CASE WHEN r2 % 3 = 0 THEN r2 % 2 = 0 END AS accepted,
      ['planner', 'worker', 'critic'][1 + i % 3] AS agent,
      'conv-' || (i // 20) AS conversation_id,
      'task-' || (i // 4) AS task_id,
      ['triage', 'summarize', 'code'][1 + r2 % 3] AS task_type,
      'cust-' || lpad((r1 % 500)::VARCHAR, 4, '0') AS customer_id,
      'user-' || (r2 % 5000) AS user_id,
      ['support', 'search', 'drafting', 'agent'][1 + r1 % 4] AS feature,
      ['cx', 'growth', 'platform'][1 + r2 % 3] AS team,
      CASE WHEN r1 % 10 = 0 THEN 'staging' ELSE 'prod' END AS environment,
      CASE WHEN r2 % 10 = 0 THEN MAP {{'region': 'eu', 'plan': 'pro'}} END AS tags,
      CASE WHEN r1 % 20 = 0 THEN 0.5 ELSE 1.0 END AS sample_rate,
      CASE WHEN r2 % 25 = 0 THEN (r1 % 100000) / 1e7 END::DECIMAL(38, 12) AS reported_cost
    FROM tok
    """


def write_files(n: int, workdir: Path, formats: list[str]) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE ev AS {generate_sql(n)}")
    for fmt in formats:
        path = workdir / f"events.{fmt}"
        opts = {"parquet": "FORMAT PARQUET", "csv": "FORMAT CSV, HEADER", "jsonl": "FORMAT JSON"}
        # the tags map as a JSON object in the text formats (as a user's export writes it)
        sel = "*" if fmt == "parquet" else "* REPLACE (to_json(tags) AS tags)"
        con.execute(f"COPY (SELECT {sel} FROM ev) TO '{path}' ({opts[fmt]})")
    con.close()


BARE_READ = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, int, str, str]:
    """(wall s, CPU s, peak RSS MB, exit code, stdout, stderr) of one child process (its
    own rusage, `wait4`; its output goes to files, so a long one cannot block it)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, code, text, errors


def run_child(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MB, stdout) of one child process that must succeed (exit 0,
    or 4: some records quarantined)."""
    wall, cpu, rss, code, text, errors = measure(argv, env)
    if code not in (0, 4):
        sys.stderr.write(errors[-2000:])
        raise SystemExit(f"{argv[:3]} exited {code}")
    return wall, cpu, rss, text


def bare(fmt: str, path: Path, workdir: Path) -> tuple[float, float, float]:
    db = workdir / f"bare-{fmt}.duckdb"
    db.unlink(missing_ok=True)
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
        f'c.execute("CREATE TABLE t AS SELECT * FROM {BARE_READ[fmt]}(\'" + sys.argv[2] + "\')")'
    )
    wall, cpu, rss, _ = run_child(
        [sys.executable, "-c", code, str(db), str(path)], dict(os.environ)
    )
    db.unlink(missing_ok=True)
    return wall, cpu, rss


def ingest(path: Path, home: Path, n: int) -> tuple[float, float, float, float]:
    """(wall, CPU, RSS, wall of the re-run) of `unitecon ingest` into an empty home."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "UNITECON_HOME": str(home)}
    unitecon = str(Path(sys.executable).with_name("unitecon"))
    wall, cpu, rss, out = run_child([unitecon, "ingest", str(path), "--json"], env)
    first = _result(out)
    if not first["direct"]:
        raise SystemExit(f"ingest of {path.name} was not read directly: {out[:500]}")
    if first["accepted"] != n or first.get("quarantined"):
        raise SystemExit(
            f"ingest of {path.name} accepted {first['accepted']:,} of {n:,}: {out[:500]}"
        )
    again, _, _, out = run_child([unitecon, "ingest", str(path), "--json"], env)
    second = _result(out)
    if second["accepted"] != 0 or second["duplicates"] != n:
        raise SystemExit(f"re-ingest of {path.name} was not idempotent: {out[:500]}")
    with duckdb.connect(str(home / "ledger.duckdb"), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None and row[0] == n, row
    return wall, cpu, rss, again


def _result(out: str) -> dict[str, int]:
    items = json.loads(out)
    keys = ("accepted", "duplicates", "quarantined", "direct")
    return {k: sum(int(x.get(k, 0)) for x in items) for k in keys}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--formats", default="parquet,csv,jsonl")
    ap.add_argument("--workdir", type=Path, help="kept after the run; files there reused")
    ap.add_argument("--file", type=Path, help="an existing Parquet file to measure (copied)")
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    formats = args.formats.split(",")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="unitecon-bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.file is not None:
        formats = ["parquet"]
        copy = workdir / "events.parquet"
        shutil.copyfile(args.file, copy)
        args.rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{copy}')").fetchone()[0]  # type: ignore[index]
        (workdir / f"rows-{args.rows}").touch()
    if args.generate_only:
        write_files(args.rows, workdir, formats)
        return 0
    t0 = time.perf_counter()
    files = {f: workdir / f"events.{f}" for f in formats}
    stamp = workdir / f"rows-{args.rows}"
    if not (stamp.exists() and all(p.exists() for p in files.values())):
        # in a child: this process stays small, so a child's peak RSS is its own (a forked
        # child's high-water mark starts at its parent's size)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate-only",
                "--rows",
                str(args.rows),
                "--formats",
                ",".join(formats),
                "--workdir",
                str(workdir),
            ],
            check=True,
        )
        stamp.touch()
    sizes = ", ".join(f"{f} {p.stat().st_size / 1e6:,.0f} MB" for f, p in files.items())
    print(f"{args.rows:,} events written in {time.perf_counter() - t0:.1f} s ({sizes})")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(
        "| format | bare wall / CPU / RSS | unitecon wall / CPU / RSS | wall ratio | CPU ratio |",
        end="",
    )
    print(" re-run |")
    print("|---|---|---|---|---|---|")
    for fmt, path in files.items():
        b_best, u_best = None, None
        for _ in range(args.runs):
            b = bare(fmt, path, workdir)
            u = ingest(path, workdir / f"home-{fmt}", args.rows)
            b_best = b if b_best is None or b[0] < b_best[0] else b_best
            u_best = u if u_best is None or u[0] < u_best[0] else u_best
        assert b_best is not None and u_best is not None
        print(
            f"| {fmt} | {b_best[0]:.2f} s / {b_best[1]:.2f} s / {b_best[2]:,.0f} MB "
            f"| {u_best[0]:.2f} s / {u_best[1]:.2f} s / {u_best[2]:,.0f} MB "
            f"| {u_best[0] / b_best[0]:.2f}x | {u_best[1] / b_best[1]:.2f}x | {u_best[3]:.2f} s |",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
