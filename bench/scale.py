"""Scale benchmark (not a test): the embedded ledger at 100M events, Spark local at 10M.

    .venv/bin/python bench/scale.py --events 100000000 --spark-events 10000000
    .venv/bin/python bench/scale.py --events 1000000 --spark-events 1000000   # a quick run

(a) `--events` synthetic events with every price feature of the catalog (the model mix of
    `bench/ledger.py`: tier cliffs, price history, cache reads/writes, reasoning priced
    apart, batch/flex/priority, time-of-day prices, a per-request price, a fallback
    provider) are generated as Parquet by DuckDB SQL, `--chunk` events a file, then
    `unitecon ingest` (the real reader, validation, dedupe, lineage) stores them in a fresh
    embedded ledger: ingest rate. Then, in the same run and on the same ledger,
    `unitecon costs --by customer,day --json` end to end against a bare DuckDB aggregate of
    the same token columns by customer and day (a fresh `python -c "import duckdb ..."`
    process). Each command runs as a subprocess; its peak RSS is the largest sum of the
    resident sets of its process tree, polled from /proc every 0.2 s (the JVM of Spark
    included). Bound: < 12 GB.
(b) The first `--spark-events` of the same events in a ledger of their own (the ledger of
    (a) when the sizes are equal), `unitecon export --lake`, then the same question on
    DuckDB and on Spark local (`UNITECON_ENGINE=spark`): totals equal to the digit, every
    customer-day equal, and the time ratio.

Everything is written under `--workdir` (default /tmp/scale), removed at the end unless
`--keep`. Figures are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from ledger import MODELS  # bench/ledger.py: the same mix, every price feature

ROOT = Path(__file__).resolve().parent.parent
UNITECON = [str(Path(sys.executable).parent / "unitecon")]
LIMIT_RSS = 12 * 1024**3


FEATURES = ["support", "rag-search", "coding", "summarize", "extract", "agent"]
CUSTOMERS = 500
DAYS = 730  # 2025-01-01 .. 2026-12-31


def _u(i: str, salt: int) -> str:
    """A uniform number in [0, 1) from the event number and a salt (deterministic)."""
    return f"((hash({i}, {salt}) % 1000000007) / 1000000007.0)"


def chunk_sql(lo: int, hi: int) -> str:
    """Events lo..hi-1 as one SELECT in the native event columns."""
    acc, model_case = 0.0, []
    for k, (prov, model, share) in enumerate(MODELS):
        acc += share
        last = k == len(MODELS) - 1
        cond = "ELSE" if last else f"WHEN m < {acc:.4f} THEN"
        model_case.append((cond, prov, model))
    prov = " ".join(f"{c} '{p}'" for c, p, _ in model_case)
    mod = " ".join(f"{c} '{m}'" for c, _, m in model_case)
    # lognormal via Box-Muller of two uniforms; customers heavy-tailed (u^3)
    z = f"(sqrt(-2 * ln(greatest({_u('i', 3)}, 1e-12))) * cos(2 * pi() * {_u('i', 4)}))"
    z2 = f"(sqrt(-2 * ln(greatest({_u('i', 5)}, 1e-12))) * cos(2 * pi() * {_u('i', 6)}))"
    return f"""
    WITH base AS (
      SELECT i, {_u("i", 1)} AS m, {_u("i", 2)} AS c,
             least(CAST(exp(8.5 + 1.6 * {z}) AS BIGINT), 900000) AS inp,
             least(CAST(exp(6 + 1.2 * {z2}) AS BIGINT), 60000) AS outp,
             {_u("i", 7)} AS r1, {_u("i", 8)} AS r2, {_u("i", 9)} AS r3, {_u("i", 10)} AS r4
      FROM range({lo}, {hi}) t(i)
    ), picked AS (
      SELECT *, CASE {prov} END AS provider, CASE {mod} END AS model,
             CAST(inp * r1 * (r2 < 0.5)::INT AS BIGINT) AS cache_read
      FROM base
    )
    SELECT 'ev-' || i AS event_id,
           TIMESTAMPTZ '2025-01-01 00:00:00+00'
             + to_microseconds(CAST(hash(i, 11) % {DAYS * 86_400_000_000} AS BIGINT)) AS ts,
           'chat' AS operation, provider, model,
           inp AS input_tokens, cache_read AS cache_read_tokens,
           CAST((inp - cache_read) * r3 * (r4 < 0.2)::INT AS BIGINT) AS cache_write_tokens,
           outp AS output_tokens,
           CAST(outp * r1 * (r3 < 0.4)::INT AS BIGINT) AS reasoning_tokens,
           [NULL, NULL, NULL, 'default', 'flex', 'priority'][1 + CAST(hash(i, 12) % 6 AS INT)]
             AS service_tier,
           {_u("i", 13)} < 0.15 AS batch,
           'cust-' || lpad(CAST(CAST(floor({CUSTOMERS} * c * c * c) AS INT) AS VARCHAR), 4, '0')
             AS customer_id,
           {FEATURES!r}[1 + CAST(hash(i, 14) % {len(FEATURES)} AS INT)] AS feature,
           'task-' || (i // 4) AS task_id
    FROM picked
    """


def generate(out: Path, n: int, chunk: int) -> list[Path]:
    """`n` events as Parquet files of `chunk` events (kept between runs of the same sizes)."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        path = out / f"events-{lo:011d}-{hi:011d}.parquet"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            con.execute(f"COPY ({chunk_sql(lo, hi)}) TO '{tmp}' (FORMAT PARQUET)")
            tmp.rename(path)
        files.append(path)
        print(f"  generated {hi:,} / {n:,} events", flush=True)
    con.close()
    return files


# -- running and measuring a command ---------------------------------------------------------
def _tree_rss(pid: int) -> int:
    """Bytes resident in `pid` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = pages * page
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    peak_rss: int
    stdout: str
    stderr: str
    rc: int


def run(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `argv`, polling its process tree's resident set every 0.2 s."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = [0]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(p.pid))
            done.wait(0.2)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    th.join()
    if p.returncode not in (0, 4):
        sys.stderr.write(f"{' '.join(argv)} exited {p.returncode}\n{out[-2000:]}{err[-2000:]}")
    return Run(wall, cpu, peak[0], out, err, p.returncode)


BARE = (
    "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
    "c.execute(\"SET TimeZone='UTC'\"); c.execute('SET enable_progress_bar=false'); "
    "r=c.execute('SELECT customer_id, CAST(ts AS DATE) AS day, count(*), sum(input_tokens), "
    "sum(cache_read_tokens), sum(cache_write_tokens), sum(output_tokens), "
    "sum(reasoning_tokens) FROM events GROUP BY 1, 2').fetchall(); print(len(r))"
)


def gb(b: int) -> str:
    return f"{b / 1024**3:.2f} GB"


def costs(home: Path, engine: str, env: dict[str, str]) -> tuple[Run, dict[str, Any]]:
    e = {**env, "UNITECON_HOME": str(home), "UNITECON_ENGINE": engine}
    r = run([*UNITECON, "costs", "--by", "customer,day", "--limit", "0", "--json"], e, home)
    if r.rc:
        raise SystemExit(f"costs on {engine} failed")
    return r, json.loads(r.stdout)


def ledger_of(home: Path, files: list[Path], env: dict[str, str]) -> Run:
    """A fresh ledger at `home` with the events of `files`, through `unitecon ingest`."""
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    e = {**env, "UNITECON_HOME": str(home)}
    r = run([*UNITECON, "ingest", *map(str, files), "--json"], e, home)
    if r.rc:
        raise SystemExit("ingest failed")
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000_000, help="events in the ledger")
    ap.add_argument("--spark-events", type=int, default=10_000_000, help="events for Spark")
    ap.add_argument("--chunk", type=int, default=5_000_000, help="events per Parquet file")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/scale"))
    ap.add_argument("--no-spark", action="store_true", help="skip (b)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)
    if args.spark_events > args.events:
        raise SystemExit("--spark-events must be at most --events")
    if args.events % args.chunk and args.events > args.chunk:
        raise SystemExit("--events must be a multiple of --chunk")
    chunk = min(args.chunk, args.spark_events, args.events)
    if args.spark_events % chunk or args.events % chunk:
        raise SystemExit("--events and --spark-events must be multiples of --chunk")
    w: Path = args.workdir
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("UNITECON_ENGINE", None)
    print(f"bench/scale.py --events {args.events:,} --spark-events {args.spark_events:,}")
    print(f"  load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    try:
        t0 = time.perf_counter()
        files = generate(w / "parquet", args.events, chunk)
        gen_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in files)
        print(f"(a) generated {args.events:,} events in {gen_s:.0f} s ({gb(size)} of Parquet)")

        big = w / "ledger"
        ing = ledger_of(big, files, env)
        db = big / "ledger.duckdb"
        print(
            f"    ingest: {ing.wall_s:.0f} s ({ing.cpu_s:.0f} CPU s), "
            f"{args.events / ing.wall_s:,.0f} events/s, "
            f"peak RSS {gb(ing.peak_rss)}, ledger {gb(db.stat().st_size)}"
        )
        r_costs, ans = costs(big, "duckdb", env)
        bare = run([sys.executable, "-c", BARE, str(db)], env, big)
        groups = int(bare.stdout.strip().splitlines()[-1])
        print(
            f"    costs --by customer,day --json: {r_costs.wall_s:.1f} s "
            f"({r_costs.cpu_s:.1f} CPU s), peak RSS "
            f"{gb(r_costs.peak_rss)}, {len(ans['rows']):,} rows, total ${ans['total_cost']}"
        )
        print(
            f"    bare DuckDB token aggregate: {bare.wall_s:.1f} s ({bare.cpu_s:.1f} CPU s), "
            "peak RSS "
            f"{gb(bare.peak_rss)}, {groups:,} groups; costs is "
            f"{r_costs.wall_s / bare.wall_s:.1f}x the bare aggregate (CPU "
            f"{r_costs.cpu_s / bare.cpu_s:.1f}x)"
        )
        peak = max(ing.peak_rss, r_costs.peak_rss, bare.peak_rss)
        ok = peak < LIMIT_RSS and len(ans["rows"]) == groups
        print(f"    peak RSS of any command {gb(peak)} (bound 12 GB): {'met' if ok else 'MISSED'}")

        if not args.no_spark:
            n = args.spark_events
            home = big
            if n != args.events:
                home = w / "ledger-spark"
                r = ledger_of(home, files[: n // chunk], env)
                print(f"(b) a ledger of the first {n:,} events: ingest {r.wall_s:.0f} s")
                d_run, duck = costs(home, "duckdb", env)
            else:
                print(f"(b) the ledger of (a), {n:,} events")
                d_run, duck = r_costs, ans
            e = {**env, "UNITECON_HOME": str(home)}
            ex = run([*UNITECON, "export", "--lake", str(home / "lake")], e, home)
            if ex.rc:
                raise SystemExit("export failed")
            print(f"    export --lake: {ex.wall_s:.0f} s")
            s_run, spark = costs(home, "spark", env)
            same_total = Decimal(spark["total_cost"]) == Decimal(duck["total_cost"])
            same_rows = spark["rows"] == duck["rows"]
            noise = [ln for ln in s_run.stderr.splitlines() if ln.strip()]
            print(
                f"    DuckDB {d_run.wall_s:.1f} s ({d_run.cpu_s:.1f} CPU s, peak RSS "
                f"{gb(d_run.peak_rss)}), Spark local {s_run.wall_s:.1f} s ({s_run.cpu_s:.1f} "
                f"CPU s, peak RSS {gb(s_run.peak_rss)}, JVM included): Spark takes "
                f"{s_run.wall_s / d_run.wall_s:.1f}x"
            )
            print(
                f"    totals: DuckDB ${duck['total_cost']}, Spark ${spark['total_cost']}: "
                f"{'equal' if same_total else 'DIFFERENT'}; {len(duck['rows']):,} customer-days "
                f"{'all equal' if same_rows else 'DIFFER'}; Spark stderr lines: {len(noise)}"
            )
            ok = ok and same_total and same_rows and s_run.peak_rss < LIMIT_RSS
        print(f"  load average at end: {os.getloadavg()[0]:.1f}")
        print("all met" if ok else "SOMETHING MISSED")
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
