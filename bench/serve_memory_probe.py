"""Where does `unitecon serve`'s memory go under dashboard reads? (issue 22, item 9)

`bench/serve_rss.py` sees the service's resident memory (VmRSS) only from outside. This
probe runs the same application in its own process (uvicorn in a thread, the settings of
`unitecon serve`), drives the same rounds of dashboard reads over HTTP, and after each round
reads every place memory can be held, from inside:

- `rss` / `anon`: VmRSS and the anonymous part of it (/proc/self/smaps_rollup) [MiB];
- `duck`: what DuckDB's buffer manager holds (`duckdb_memory()`, all tags) [MiB];
- `arrow`: bytes allocated by pyarrow's default memory pool [MiB];
- `malloc` / `heap` / `free`: glibc malloc's footprint (`mallinfo2`, every arena: arena +
  hblkhd), the bytes of it in use (uordblks + hblkhd) and free but kept (fordblks) [MiB];
- `blocks`: Python's allocated memory blocks (`sys.getallocatedblocks`) [thousands];
- `cache` / `entries`: the read cache's answers (bytes of them [MiB], how many);
- `sql`: compiled statements kept by `engine/duck.py`; then DuckDB's three largest memory
  tags [MiB] (`IN_MEMORY_TABLE` holds temporary tables, `BASE_TABLE` the ledger's blocks).

    .venv/bin/python bench/serve_memory_probe.py --home DEMO_HOME --rounds 30 --paths 6
    .venv/bin/python bench/serve_memory_probe.py --home DEMO_HOME --rounds 30 --trim-each

`--idle` samples once the read cache's background refreshes are done (and counts the
temporary tables and in-memory tables the read cursors hold); `--objects` prints the
Python types that grew each round, `--tracemalloc R1,R2` the allocations that grew between
two rounds; `--cache-entries` / `--sql-entries` shrink the read cache and the compiled-SQL
cache, to tell their filling from other growth.

`--no-release` runs the service without `Settings.release_memory` (as before the fix);
`--purge-each` / `--trim-each` purge DuckDB's jemalloc / call glibc's `malloc_trim(0)`
after each round: where RSS falls back, the growth was memory an allocator kept, not memory
in use. At the end it empties each allocator and cache in turn and prints what each handed
back. Not a test: results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from serve_rss import DASHBOARD, FILTERED

MIB = 1 << 20


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallinfo2.restype = MallInfo2


class Jemalloc:
    """The statistics of the jemalloc that DuckDB's Python wheel bundles (`duckdb_je_`)."""

    def __init__(self) -> None:
        import _duckdb  # type: ignore[import-not-found]

        self._ctl = ctypes.CDLL(_duckdb.__file__).duckdb_je_mallctl

    def stat(self, name: str) -> int:
        v, n = ctypes.c_size_t(0), ctypes.c_size_t(ctypes.sizeof(ctypes.c_size_t))
        self._ctl(name.encode(), ctypes.byref(v), ctypes.byref(n), None, ctypes.c_size_t(0))
        return int(v.value)

    def refresh(self) -> None:
        epoch = ctypes.c_uint64(1)
        self._ctl(b"epoch", None, None, ctypes.byref(epoch), ctypes.c_size_t(8))

    def purge(self) -> None:
        """Hand every arena's unused pages back (MALLCTL_ARENAS_ALL = 4096)."""
        self._ctl(b"arena.4096.purge", None, None, None, ctypes.c_size_t(0))


def smaps() -> dict[str, float]:
    out: dict[str, float] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        k, v = line.split(":", 1)
        out[k] = int(v.split()[0]) / 1024
    return out


def get(url: str, key: str) -> int:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="UNITECON_HOME with ledger.duckdb")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--paths", type=int, default=6, help="the first N dashboard reads only")
    ap.add_argument("--trim-each", action="store_true", help="malloc_trim(0) after each round")
    ap.add_argument(
        "--release",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the service's Settings.release_memory (DuckDB's freed memory handed back)",
    )
    ap.add_argument("--memory-limit", help="UNITECON_MEMORY_LIMIT, e.g. 1GB")
    ap.add_argument("--port", type=int, default=18431)
    ap.add_argument("--purge-each", action="store_true", help="purge jemalloc after each round")
    ap.add_argument("--duck-sql", action="append", default=[], help="run on the ledger at start")
    ap.add_argument("--json", type=Path, help="also write the samples here")
    ap.add_argument(
        "--idle", action="store_true", help="sample once the read cache's refreshes are done"
    )
    ap.add_argument(
        "--objects", action="store_true", help="print the Python object types that grew"
    )
    ap.add_argument(
        "--tracemalloc",
        metavar="R1,R2",
        help="trace Python allocations; print the top growth between rounds R1 and R2",
    )
    ap.add_argument("--cache-entries", type=int, help="the read cache's max_entries")
    ap.add_argument("--sql-entries", type=int, help="compiled statements kept in memory")
    return ap.parse_args()


def diagnose(
    r: int,
    args: argparse.Namespace,
    last_types: Counter[str],
    trace_at: list[int],
    snaps: dict[int, Any],
) -> Counter[str]:
    """After round `r`: the Python object types that grew (`--objects`), the allocations
    that grew between the two `--tracemalloc` rounds. Returns the object counts."""
    if args.objects and r > 0:
        gc.collect()
        now_types = Counter(type(o).__qualname__ for o in gc.get_objects())
        if r > 1:
            grew = (now_types - last_types).most_common(8)
            print("   grew:", ", ".join(f"{k}+{v}" for k, v in grew), flush=True)
        last_types = now_types
    if r in trace_at:
        import tracemalloc

        snaps[r] = tracemalloc.take_snapshot()
        if len(snaps) == 2:
            a, b = (snaps[k] for k in sorted(snaps))
            for stat in b.compare_to(a, "traceback")[:12]:
                print(f"   {stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d} blocks")
                for line in stat.traceback.format()[-8:]:
                    print("      ", line)
    return last_types


def cursors(app: Any, idle: bool) -> tuple[list[Any], int, int]:
    """The service's read cursors, the temporary tables and views they hold (counted only
    when `idle`: a cursor is not for two threads at once), and Ibis' in-memory tables."""
    from unitecon import engine

    views = list(app.state.reads._views)
    temps = 0
    for v in views if idle else []:
        with contextlib.suppress(Exception):
            temps += engine.temp_objects(v.con)
    memtables = sum(len(getattr(v._ibis, "_memtables", ()) or ()) for v in views if v._ibis)
    return views, temps, memtables


def drive(base: str, key: str, since: str, paths: int) -> None:
    """One round: the first `paths` dashboard reads, the filtered ones from `since`."""
    for path in DASHBOARD[:paths]:
        if any(f"/{p}" in path for p in FILTERED):
            path += ("&" if "?" in path else "?") + f"since={since}"
        status = get(base + path, key)
        if status >= 400:
            print(f"  {path}: {status}", flush=True)


def main() -> None:
    args = parse()
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(8)
    trace_at = [int(r) for r in (args.tracemalloc or "").split(",") if r]
    snaps: dict[int, Any] = {}

    os.environ["UNITECON_HOME"] = str(args.home)
    if args.memory_limit:
        os.environ["UNITECON_MEMORY_LIMIT"] = args.memory_limit
    import pyarrow as pa
    import uvicorn

    from unitecon import config as cfg
    from unitecon.engine import duck
    from unitecon.server.app import Settings, create_app
    from unitecon.server.auth import KeyStore

    ledger = args.home / "ledger.duckdb"
    store = KeyStore.beside(ledger)
    key, _ = store.create("read", name="memory-probe")
    config_path = cfg.find(args.home / "unitecon.yaml")
    project = cfg.load(config_path)
    settings = Settings(
        decode_processes=Settings.default_decode_processes(),
        release_memory=args.release,
    )
    app = create_app(ledger, project, keys=store, settings=settings, config_path=config_path)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{args.port}"
    while not server.started:
        time.sleep(0.2)
    for sql in args.duck_sql:
        app.state.ledger.con.execute(sql)
    je = Jemalloc()
    if args.cache_entries is not None:
        app.state.read_cache.max_entries = args.cache_entries
    if args.sql_entries is not None:
        duck.MAX_MEMORY = args.sql_entries

    def sample(r: int) -> dict[str, Any]:
        cur = app.state.ledger.con.cursor()
        try:
            tags = cur.execute(
                "SELECT tag, memory_usage_bytes FROM duckdb_memory() "
                "WHERE memory_usage_bytes > 0 ORDER BY 2 DESC"
            ).fetchall()
        finally:
            cur.close()
        duck_total = sum(int(b) for _, b in tags)
        views, temps, memtables = cursors(app, args.idle)
        m = LIBC.mallinfo2()
        je.refresh()
        s = smaps()
        cache = app.state.read_cache
        return {
            "round": r,
            "rss": s["Rss"],
            "anon": s["Anonymous"],
            "lazy": s.get("LazyFree", 0.0),
            "je_used": je.stat("stats.allocated") / MIB,
            "je_rss": je.stat("stats.resident") / MIB,
            "duck": duck_total / MIB,
            "arrow": pa.total_allocated_bytes() / MIB,
            "heap": (m.uordblks + m.hblkhd) / MIB,
            "free": m.fordblks / MIB,
            "malloc": (m.arena + m.hblkhd) / MIB,
            "blocks": sys.getallocatedblocks() / 1000,
            "cache": cache.bytes / MIB,
            "entries": len(cache._entries),
            "sql": len(duck.CACHE._mem),
            "views": len(views),
            "threads": threading.active_count(),
            "temps": temps,
            "memtbl": memtables,
            "gcobj": len(gc.get_objects()) / 1000,
            "tags": " ".join(f"{t}={int(b) / MIB:.0f}" for t, b in tags[:3]),
        }

    cols = [
        "round",
        "rss",
        "anon",
        "lazy",
        "duck",
        "je_used",
        "je_rss",
        "arrow",
        "malloc",
        "heap",
        "free",
        "blocks",
        "cache",
    ]
    cols += ["entries", "sql", "views", "threads", "temps", "memtbl", "gcobj"]
    print(f"pyarrow pool: {pa.default_memory_pool().backend_name}", flush=True)
    print("  ".join(f"{c:>7}" for c in cols), flush=True)
    samples = []
    last_types: Counter[str] = Counter()
    idle_s = 0.0
    day0 = dt.date(2000, 1, 1)
    try:
        for r in range(0, args.rounds + 1):
            if r > 0:
                drive(base, key, (day0 + dt.timedelta(days=r)).isoformat(), args.paths)
                if args.trim_each:
                    LIBC.malloc_trim(0)
                if args.purge_each:
                    je.purge()
            if args.idle:
                t_idle = time.monotonic()
                app.state.read_cache.wait_idle(600)
                idle_s = time.monotonic() - t_idle
            last_types = diagnose(r, args, last_types, trace_at, snaps)
            s = sample(r)
            samples.append(s)
            extra = f" idle wait {idle_s:.0f}s" if args.idle and r > 0 else ""
            print("  ".join(f"{s[c]:7.0f}" for c in cols), " ", s["tags"], extra, flush=True)

        def step(what: str, do: Any) -> None:
            before, blocks = smaps()["Rss"], sys.getallocatedblocks()
            do()
            after = smaps()["Rss"]
            print(
                f"{what}: RSS {before:.0f} -> {after:.0f} MiB, Python blocks "
                f"{blocks / 1000:.0f}k -> {sys.getallocatedblocks() / 1000:.0f}k",
                flush=True,
            )

        step("jemalloc purge (DuckDB)", je.purge)
        step("malloc_trim(0) (glibc)", lambda: LIBC.malloc_trim(0))
        step(
            "read cache emptied, gc", lambda: (app.state.read_cache._entries.clear(), gc.collect())
        )
        step("SQL cache emptied, gc", lambda: (duck.CACHE._mem.clear(), gc.collect()))
        step("malloc_trim(0) again", lambda: LIBC.malloc_trim(0))
        if args.json:
            args.json.write_text(json.dumps(samples))
    finally:
        server.should_exit = True
        thread.join(60)


if __name__ == "__main__":
    main()
