"""The dashboard as its user waits for it: first and second read of every page (issue 23).

Starts `unitecon serve` on a ledger (`--home`, e.g. the 10M-event ledger `bench/scale.py
--events 10000000 --no-spark --keep` leaves under its work directory), waits until it answers
`/api/v1/health`, then asks each page's reads exactly as `server/static/app.js` sends them
(same endpoints, same parameters), page after page, once (first read) and again (second
read), and prints each read's latency as the browser would see it (HTTP round trip on
localhost, the whole JSON body read), with the p50/p95/max per pass.

Two questions, both measured (`--mode`):

- `default`: the pages with no filter, as a visitor opens them. The service computes these
  answers in the background when it starts (`server/warm.py`, prewarm); a visitor who comes
  before that has finished waits for the computation. `--wait-prewarm` first waits until
  every default answer is computed (asks them once, untimed) -- the steady state of a
  service that has run for a while -- and without it the first pass starts the moment the
  service is up: the worst case, a visitor at the door when it opens.
- `filtered`: the same pages with `since`/`until` set to a month nobody asked for yet: the
  first read of a new question is computed on demand, nothing was prepared for it (with
  `--wait-prewarm`, once the background work of the start is over, so nothing competes;
  with `--no-prewarm`, the service does no background work at start at all).

    .venv/bin/python bench/dashboard.py --home /tmp/s10m/ledger --mode filtered
    .venv/bin/python bench/dashboard.py --home COPY --mode filtered --no-prewarm --since 2026-05-01
    .venv/bin/python bench/dashboard.py --home DEMO_HOME --mode default --wait-prewarm
    .venv/bin/python bench/dashboard.py --home COPY --mode default --restart

`--restart`: the service is started once before, every page asked (untimed) and the service
stopped; the measured one is a restart (a deploy, a crash) on a ledger nobody has written
since, which answers from the answers kept beside the ledger (`server/cache.KeptAnswers`).
`--write-between FILE` ingests FILE between the two: the kept answers are then of an
earlier ledger state, served marked stale (`X-Unitecon-Fresh: false`) while refreshed.

Not a test: it takes minutes and the whole machine. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from serve_rss import BIN, free_port, rss_mib, run  # bench/ sibling

#: The dashboard's pages and the reads each one sends (static/app.js), in its order.
PAGES: dict[str, list[str]] = {
    "overview": [
        "filters",
        "costs?by=day,model",
        "costs?by=feature&limit=10",
        "costs?by=customer&limit=10",
        "metrics/units?by=month",
        "prices/missing",
    ],
    "units": [
        "metrics/units?by=feature",
        "metrics/units?by=feature&loaded=true",
        "asymmetry?by=model",
        "asymmetry?by=feature",
        "tasks?limit=20",
    ],
    "customers": ["margins?by=customer", "collapse"],
    "tasks": ["tasks?limit=25", "costs?by=agent"],
    "endpoints": ["endpoints"],
    "budgets": ["budgets", "anomalies", "runaway?top=20", "coverage", "reconcile?limit=500"],
}
#: Reads that take the window filter (the rest ignore it, as the dashboard's do).
WINDOWED: tuple[str, ...] = ("costs", "metrics", "asymmetry", "tasks", "margins", "collapse")
WINDOWED += ("endpoints", "anomalies", "runaway", "coverage", "reconcile", "prices")


#: How many answers came marked stale (`X-Unitecon-Fresh: false`), per pass.
STALE: dict[str, int] = {}


def timed_get(url: str, key: str, tally: str = "") -> tuple[int, float]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=3600) as r:
            r.read()
            status = r.status
            if r.headers.get("X-Unitecon-Fresh") == "false":
                STALE[tally] = STALE.get(tally, 0) + 1
    except urllib.error.HTTPError as e:
        e.read()
        status = e.code
    return status, time.perf_counter() - t


def read_pages(
    base: str, key: str, window: str, tally: str = ""
) -> list[tuple[str, str, int, float]]:
    """Every page's reads once, in order: (page, read, status, seconds)."""
    out = []
    for page, reads in PAGES.items():
        for path in reads:
            url = path
            if window and any(path.startswith(w) for w in WINDOWED):
                url += ("&" if "?" in path else "?") + window
            status, s = timed_get(base + url, key, tally)
            out.append((page, path, status, s))
    return out


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="UNITECON_HOME with ledger.duckdb")
    ap.add_argument("--mode", choices=["default", "filtered"], default="filtered")
    ap.add_argument("--since", default=None, help="filtered: first day (default: last month)")
    ap.add_argument(
        "--wait-prewarm", action="store_true", help="first wait for the default answers"
    )
    ap.add_argument(
        "--no-prewarm",
        action="store_true",
        help="serve with --no-prewarm: no background work at start competes with the reads",
    )
    ap.add_argument(
        "--restart",
        action="store_true",
        help="first run the service once, ask every page (untimed) and stop it: the measured "
        "service is a restart on a ledger nobody has written since (answers kept beside it)",
    )
    ap.add_argument(
        "--write-between",
        type=Path,
        metavar="FILE",
        help="with --restart: `unitecon ingest FILE` between the two runs (a deploy of a "
        "service that receives spans: the kept answers are of an earlier ledger state)",
    )
    ap.add_argument("--json", type=Path, help="also write the latencies here")
    args = ap.parse_args()

    env = {**os.environ, "UNITECON_HOME": str(args.home)}
    key = json.loads(run(["keys", "create", "read", "--name", "dash-bench", "--json"], env))["key"]
    if args.restart:
        server, base = start(env, key, no_prewarm=True)
        try:
            t = time.perf_counter()
            read_pages(base, key, "")
            print(f"an earlier run answered every page: {time.perf_counter() - t:.1f} s")
        finally:
            server.terminate()
            server.wait(60)
        if args.write_between:
            run(["ingest", str(args.write_between)], env)
            print(f"ingested {args.write_between} while no service ran: the ledger moved")
    server, base = start(env, key, no_prewarm=args.no_prewarm)
    try:
        if args.wait_prewarm:
            t = time.perf_counter()
            read_pages(base, key, "")
            print(f"waited for the default answers: {time.perf_counter() - t:.1f} s")
        window = ""
        if args.mode == "filtered":
            since, until = _window(args, env)
            window = f"since={since}&until={until}"
            print(f"window: {since} .. {until} (a question nobody asked yet)")
        passes = {name: read_pages(base, key, window, name) for name in ("first", "second")}
        print(f"\n{'page':10s} {'read':40s} {'first s':>9s} {'second s':>9s}  status")
        for (page, path, st1, s1), (_, _, st2, s2) in zip(*passes.values(), strict=True):
            print(f"{page:10s} {path:40s} {s1:9.3f} {s2:9.3f}  {st1}/{st2}")
        for name, rows in passes.items():
            xs = [r[3] for r in rows]
            print(
                f"{name} read: p50 {pct(xs, 0.5):.3f} s, p95 {pct(xs, 0.95):.3f} s, "
                f"max {max(xs):.3f} s over {len(xs)} reads, errors "
                f"{sum(r[2] >= 400 for r in rows)}, marked stale {STALE.get(name, 0)}"
            )
        print(f"service RSS at the end: {rss_mib(server.pid):.0f} MiB")
        if args.json:
            args.json.write_text(json.dumps(passes))
    finally:
        server.terminate()
        server.wait(60)


def start(env: dict[str, str], key: str, *, no_prewarm: bool) -> tuple[Any, str]:
    """`unitecon serve` on a free port, once it answers: (process, API base URL)."""
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), *(["--no-prewarm"] * no_prewarm)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1/"
    while True:
        try:
            if timed_get(base + "health", key)[0] == 200:
                break
        except OSError:
            pass
        if time.perf_counter() - started > 300 or server.poll() is not None:
            server.terminate()
            raise SystemExit("the service did not start")
        time.sleep(0.2)
    print(f"service up in {time.perf_counter() - started:.1f} s (pid {server.pid})")
    return server, base


def _window(args: argparse.Namespace, env: dict[str, str]) -> tuple[str, str]:
    """`--since` and a month after it, else the ledger's last whole month."""
    import datetime as dt

    if args.since:
        since = dt.date.fromisoformat(args.since)
    else:
        out = json.loads(run(["costs", "--by", "month", "--json"], env))
        months = sorted(r["dims"]["month"] for r in out["rows"])
        since = dt.date.fromisoformat(months[-2] if len(months) > 1 else months[-1])
    until = (since.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return since.isoformat(), until.isoformat()


if __name__ == "__main__":
    main()
