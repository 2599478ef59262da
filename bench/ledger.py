"""Ledger benchmark (`make bench`): pricing throughput against genai-prices and bare DuckDB.

    python bench/ledger.py                 # 10M events
    python bench/ledger.py --rows 200000   # a quick run

Prints, in one run:
  (a) genai-prices `calc_price` rows/s on a sample (100k by default), one call per event;
  (b) unitecon: price every event in the engine and sum cost by customer and day, with all
      price features active (tier cliffs, price history, cache reads/writes, separately priced
      reasoning, batch/flex/priority variants, time-of-day prices, a fallback provider);
  (c) a bare DuckDB aggregate of the same token columns by customer and day;
  (d) ingest rows/s against a bare DuckDB COPY of the same file (see `bench_ingest`);
and the ratios. Targets: (b) >= 1000x (a); (b) at most 4x slower than (c); peak RSS < 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from genai_prices import Usage, calc_price

from unitecon.ledger.schema import EVENT_SCHEMA
from unitecon.ledger.store import Ledger
from unitecon.pricing import costs

MODELS = [  # (provider, model, share): every price feature of the catalog is in play
    ("anthropic", "claude-sonnet-4-5", 0.22),  # tiers at 200k, cache read/write, batch
    ("openai", "gpt-4o-mini", 0.20),
    ("openai", "o3", 0.12),  # history 2025-06-10, flex/priority/batch from 2026-10
    ("google", "gemini-2.5-pro", 0.12),  # tiers at 200k
    ("google", "gemini-2.5-flash", 0.10),
    ("deepseek", "deepseek-chat", 0.08),  # time-of-day prices
    ("deepseek", "deepseek-v4-flash", 0.04),  # dated + time-of-day
    ("perplexity", "sonar-deep-research", 0.04),  # reasoning priced apart
    ("perplexity", "sonar-pro", 0.03),  # per-request price
    ("azure", "claude-sonnet-4-5", 0.05),  # fallback provider (variants ignored)
]
TIERS = np.array([None, None, None, "default", "flex", "priority"], dtype=object)
START = np.datetime64("2025-01-01T00:00:00", "us")
SPAN_US = 2 * 365 * 86_400 * 10**6
CHUNK = 1_000_000


def generate(n: int, seed: int = 42) -> Iterator[pa.Table]:
    """`n` events in chunks of EVENT_SCHEMA tables, vectorized (numpy), deterministic."""
    rng = np.random.default_rng(seed)
    shares = np.array([m[2] for m in MODELS])
    providers = np.array([m[0] for m in MODELS], dtype=object)
    models = np.array([m[1] for m in MODELS], dtype=object)
    customers = np.array([f"cust-{i:04d}" for i in range(500)], dtype=object)
    customer_p = 1 / np.arange(1, 501) ** 1.1  # heavy-tailed: a few power users
    customer_p /= customer_p.sum()
    for start in range(0, n, CHUNK):
        k = min(CHUNK, n - start)
        m = rng.choice(len(MODELS), k, p=shares / shares.sum())
        inp = np.minimum(rng.lognormal(8.5, 1.6, k), 900_000).astype(np.int64)
        cache_read = (inp * rng.random(k) * (rng.random(k) < 0.5)).astype(np.int64)
        cache_write = ((inp - cache_read) * rng.random(k) * (rng.random(k) < 0.2)).astype(np.int64)
        out = np.minimum(rng.lognormal(6, 1.2, k), 60_000).astype(np.int64)
        reasoning = (out * rng.random(k) * (rng.random(k) < 0.4)).astype(np.int64)
        ts = START + rng.integers(0, SPAN_US, k).astype("timedelta64[us]")
        ids = np.char.add("ev-", np.arange(start, start + k).astype(str))
        cols: dict[str, Any] = {
            "event_id": pa.array(ids, pa.string()),
            "ts": pa.array(ts, pa.timestamp("us")).cast(EVENT_SCHEMA.field("ts").type),
            "operation": pa.array(np.full(k, "chat", dtype=object), pa.string()),
            "provider": pa.array(providers[m], pa.string()),
            "model": pa.array(models[m], pa.string()),
            "input_tokens": inp,
            "cache_read_tokens": cache_read,
            "cache_write_tokens": cache_write,
            "output_tokens": out,
            "reasoning_tokens": reasoning,
            "units": np.zeros(k),
            "service_tier": pa.array(TIERS[rng.integers(0, len(TIERS), k)], pa.string()),
            "batch": rng.random(k) < 0.15,
            "status": pa.array(np.full(k, "ok", dtype=object), pa.string()),
            "attempt": np.ones(k, dtype=np.int32),
            "customer_id": pa.array(customers[rng.choice(500, k, p=customer_p)], pa.string()),
            "sample_rate": np.ones(k),
            "source": pa.array(np.full(k, "bench", dtype=object), pa.string()),
            "ingest_id": pa.array(np.full(k, "bench", dtype=object), pa.string()),
        }
        arrays = [
            pa.array(cols[f.name], f.type) if f.name in cols else pa.nulls(k, f.type)
            for f in EVENT_SCHEMA
        ]
        yield pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def build_ledger(path: Path, n: int, memory_limit: str) -> Ledger:
    """A ledger file with `n` generated events (written directly: ingest is measured in (d)),
    DuckDB held to `memory_limit` from the start."""
    led = Ledger(path)
    led.con.execute(f"SET memory_limit = '{memory_limit}'")
    for chunk in generate(n):
        led._append(chunk)
    led.con.execute("CHECKPOINT")
    return led


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_calc_price(sample: pa.Table) -> float:
    """(a) genai-prices, one `calc_price` per event, as a per-row integration would do."""
    rows = sample.to_pylist()
    t0 = time.perf_counter()
    for r in rows:
        ctx = {}
        if r["batch"]:
            ctx["processing"] = "batch"
        if r["service_tier"]:
            ctx["service_tier"] = r["service_tier"]
        usage = Usage(
            input_tokens=r["input_tokens"],
            cache_read_tokens=r["cache_read_tokens"],
            cache_write_tokens=r["cache_write_tokens"],
            output_tokens=r["output_tokens"],
            output_reasoning_tokens=r["reasoning_tokens"],
        )
        calc_price(
            usage,
            r["model"],
            provider_id=r["provider"],
            genai_request_timestamp=r["ts"],
            price_context=ctx or None,
        )
    return len(rows) / (time.perf_counter() - t0)


BARE_EPOCH_SQL = """
SELECT customer_id, epoch_us(ts) // 86400000000 AS day, count(*) AS events,
       sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(output_tokens), sum(reasoning_tokens)
FROM events GROUP BY ALL
"""
BARE_SQL = """
SELECT customer_id, CAST(ts AS DATE) AS day, count(*) AS events,
       sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
       sum(output_tokens), sum(reasoning_tokens)
FROM events GROUP BY customer_id, CAST(ts AS DATE)
"""


def bench_ingest(led: Ledger, workdir: Path, n: int) -> dict[str, Any]:
    """(d) `unitecon ingest` rows/s against a bare DuckDB `COPY` of the same JSONL file.

    The first `n` events of the benchmark ledger are written as native JSONL; then, each into
    a fresh database, (1) `COPY t FROM file (FORMAT JSON)` into a table of the event columns
    and (2) the real reader + `Ledger.ingest` (validation, quarantine, dedupe, lineage).
    Target: (2) takes at most 2x (1).
    """
    import duckdb

    from unitecon.ingest import read_path

    path = workdir / "events.jsonl"
    led.con.execute(
        "COPY (SELECT * EXCLUDE (source, ingest_id, price_key) FROM events "
        f"ORDER BY rowid LIMIT {n}) TO '{path}' (FORMAT JSON)"
    )
    bare = duckdb.connect(str(workdir / "copy.duckdb"))
    bare.execute("SET TimeZone = 'UTC'")
    bare.register("_events", led.con.execute("SELECT * FROM events LIMIT 0").to_arrow_table())
    bare.execute("CREATE TABLE t AS SELECT * EXCLUDE (source, ingest_id, price_key) FROM _events")
    t0 = time.perf_counter()
    bare.execute(f"COPY t FROM '{path}' (FORMAT JSON)")
    t_copy = time.perf_counter() - t0
    bare.close()
    with Ledger(workdir / "ingest.duckdb") as fresh:
        t0 = time.perf_counter()
        res = fresh.ingest(str(path), read_path(path, "jsonl"))
        t_ingest = time.perf_counter() - t0
        # the file holds ev-0, ev-1, ... in order: each event's source must name its line
        row = fresh.con.execute(
            "SELECT count(*) FILTER (WHERE CAST(split_part(source, ':', -1) AS BIGINT) "
            "<> CAST(substr(event_id, 4) AS BIGINT) + 1) FROM events"
        ).fetchone()
    if row is None or row[0]:
        raise SystemExit(f"ingest gave {row and row[0]} events the wrong line as source")
    if res.accepted != n:
        raise SystemExit(f"ingest accepted {res.accepted:,} of {n:,} rows: {res.errors[:3]}")
    return {"ingest_rows_s": n / t_ingest, "copy_rows_s": n / t_copy, "direct": res.direct}


def bench_unit_metrics(led: Ledger, runs: int) -> float:
    """(e) seconds for the unit metrics per customer (variable cost, allocation, metrics)."""
    from unitecon.attribution.costed import variable_costs
    from unitecon.config import Project
    from unitecon.economics.metrics import unit_rows
    from unitecon.pricing import priced_events

    project = Project()

    def run() -> Any:
        c = variable_costs(priced_events(led, project), project)
        try:
            return unit_rows(c, project, "customer")
        finally:
            c.release()

    seconds, _ = best_of(runs, run)
    return seconds


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="events to generate")
    ap.add_argument("--sample", type=int, default=100_000, help="calc_price sample size")
    ap.add_argument("--ingest-rows", type=int, default=1_000_000, help="rows for (d)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of (b) and (c); best")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = default)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="unitecon-bench-") as tmp:
        t0 = time.perf_counter()
        led = build_ledger(Path(tmp) / "ledger.duckdb", args.rows, args.memory_limit)
        if args.threads:
            led.con.execute(f"SET threads = {args.threads}")
        threads = led.con.execute("SELECT current_setting('threads')").fetchone()
        print(
            f"generated {args.rows:,} events in {time.perf_counter() - t0:.1f} s "
            f"(DuckDB threads={threads[0] if threads else '?'}, "
            f"memory_limit={args.memory_limit}; peak RSS so far {peak_rss_mb():,.0f} MB)"
        )

        sample = led.con.execute(
            f"SELECT * FROM events USING SAMPLE {min(args.sample, args.rows)} ROWS (reservoir, 1)"
        ).to_arrow_table()
        a = bench_calc_price(sample)
        print(f"(a) genai-prices calc_price      {a:>14,.0f} rows/s  ({sample.num_rows:,} rows)")
        print(f"    peak RSS so far {peak_rss_mb():,.0f} MB")

        def priced() -> pa.Table:
            return costs(led, by=["customer_id", "day"]).to_pyarrow()

        tb, out_b = best_of(args.runs, priced)
        b = args.rows / tb
        print(
            f"(b) unitecon price + aggregate    {b:>14,.0f} rows/s  ({tb:.2f} s, "
            f"{out_b.num_rows:,} customer-days)"
        )
        tc1, out_c = best_of(args.runs, lambda: led.con.execute(BARE_SQL).to_arrow_table())
        tc2, _ = best_of(args.runs, lambda: led.con.execute(BARE_EPOCH_SQL).to_arrow_table())
        tc = min(tc1, tc2)  # compare with the faster way to write the bare query
        c = args.rows / tc
        print(
            f"(c) bare DuckDB token aggregate   {c:>14,.0f} rows/s  (CAST(ts AS DATE) "
            f"{tc1:.2f} s, epoch_us day {tc2:.2f} s; {out_c.num_rows:,} customer-days)"
        )
        unpriced = sum(out_b.column("unpriced").to_pylist())
        total = sum(x for x in out_b.column("cost").to_pylist() if x is not None)
        print(f"    total cost ${total:,.2f}, unpriced events {unpriced:,}")
        print(f"    peak RSS so far {peak_rss_mb():,.0f} MB")
        m = min(args.rows, args.ingest_rows)
        ingest = bench_ingest(led, Path(tmp), m)
        ingest_ratio = ingest["copy_rows_s"] / ingest["ingest_rows_s"]
        print(
            f"(d) ingest {ingest['ingest_rows_s']:,.0f} rows/s, "
            f"bare COPY {ingest['copy_rows_s']:,.0f} rows/s ({m:,} rows of JSONL): "
            f"{ingest_ratio:.2f}x slower (target <= 2x; "
            f"{'read directly' if ingest['direct'] else 'read in chunks'})"
        )
        print(f"    peak RSS so far {peak_rss_mb():,.0f} MB")
        te = bench_unit_metrics(led, args.runs)
        print(
            f"(e) unit metrics by customer      {args.rows / te:>14,.0f} rows/s  ({te:.2f} s): "
            f"{te / tb:.2f}x (b) (target <= 3x)"
        )
        led.close()

    rss = peak_rss_mb()
    print(
        f"ratios: (b)/(a) = {b / a:,.0f}x (target >= 1000x); "
        f"(b) is {tb / tc:.2f}x slower than (c) (target <= 4x); "
        f"peak RSS {rss:,.0f} MB (target < 2048 MB)"
    )
    ok = b / a >= 1000 and tb / tc <= 4 and rss < 2048 and ingest_ratio <= 2 and te / tb <= 3
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
