"""Memory of `unitecon serve` under dashboard reads: is it bounded? (issue 22, item 9)

Runs `unitecon serve` on a ledger (default: the demo's, built first under a temporary
UNITECON_HOME with `unitecon demo --no-tour`), then drives `--rounds` rounds of the
dashboard's reads (the queries of `server/warm.py`, as the dashboard's pages send them).
Each round moves the `since` date by a day (`--vary`, the default), so every round asks
questions the read cache has not seen and the engine computes them: the worst case, what a
holder of a read key can drive. After each round it records the server process's resident
memory (VmRSS, /proc) and prints the curve, and a summary: RSS after the warm-up rounds, at
the end, the peak and the mean; the least-squares slope after warm-up (MiB per round) and the
drift it implies over those rounds; the mean of the last 20 rounds against rounds 10-30;
and whether the curve is flat: both within 5 % of the mean (`flatness`).

    .venv/bin/python bench/serve_rss.py                   # demo ledger, 100 rounds
    .venv/bin/python bench/serve_rss.py --home DIR --rounds 30 --no-vary
    .venv/bin/python bench/serve_rss.py --home DIR --rounds 20 --paths 6 --memory-limit 1GB

Not a test: it takes minutes and the whole machine. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent / "unitecon"

#: The dashboard's reads (server/warm.py), as paths with their query strings.
DASHBOARD = [
    "/api/v1/filters",
    "/api/v1/costs?by=day,model&limit=0",
    "/api/v1/costs?by=feature&limit=10",
    "/api/v1/costs?by=customer&limit=10",
    "/api/v1/metrics/units?by=month",
    "/api/v1/prices/missing",
    "/api/v1/metrics/units?by=feature",
    "/api/v1/metrics/units?by=feature&loaded=true",
    "/api/v1/tasks?limit=20",
    "/api/v1/margins?by=customer",
    "/api/v1/collapse",
    "/api/v1/costs?by=agent&limit=0",
    "/api/v1/endpoints",
    "/api/v1/budgets",
    "/api/v1/alerts?days=7",
    "/api/v1/anomalies?top=50",
    "/api/v1/runaway?top=20",
    "/api/v1/coverage",
    "/api/v1/costs?by=model&limit=0",
]
#: Paths that take the `since` filter.
FILTERED = ("costs", "metrics", "tasks", "margins", "collapse", "endpoints", "anomalies")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(argv: list[str], env: dict[str, str]) -> str:
    out = subprocess.run([str(BIN), *argv], env=env, check=True, capture_output=True, text=True)
    return out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, key: str) -> tuple[int, int]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status, len(r.read())
    except urllib.error.HTTPError as e:
        return e.code, 0


#: "Flat": the drift after warm-up within this share of the mean RSS (see `flatness`).
LIMIT = 0.05


def flatness(samples: list[tuple[int, float, float]], warmup: int) -> dict[str, Any]:
    """Whether RSS is flat after `warmup` rounds: the least-squares slope over the rounds
    from `warmup` [MiB/round] times their number (the drift the slope implies) within
    `LIMIT` of their mean, and the mean of the last 20 rounds within `LIMIT` of the mean of
    rounds 10-30 (or of the first third of the tail, for shorter runs)."""
    tail = [s for s in samples if s[0] >= warmup]
    n = len(tail)
    mean_x = sum(s[0] for s in tail) / n
    mean_y = sum(s[2] for s in tail) / n
    den = sum((s[0] - mean_x) ** 2 for s in tail) or 1.0
    slope = sum((s[0] - mean_x) * (s[2] - mean_y) for s in tail) / den
    drift = slope * (tail[-1][0] - tail[0][0])
    last = samples[-1][0]
    lo, hi = (10, 30) if last >= 60 else (warmup, warmup + max(1, (last - warmup) // 3))
    early = [s[2] for s in samples if lo <= s[0] <= hi]
    late_n = min(20, max(1, (last - warmup) // 3))
    late = [s[2] for s in samples[-late_n:]]
    e, la = sum(early) / len(early), sum(late) / len(late)
    return {
        "at_warmup": tail[0][2],
        "mean": mean_y,
        "slope": slope,
        "drift": drift,
        "early": e,
        "early_span": f"{lo}-{hi}",
        "late": la,
        "late_n": late_n,
        "flat": abs(drift) <= LIMIT * mean_y and abs(la - e) <= LIMIT * e,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="UNITECON_HOME holding ledger.duckdb")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10, help="rounds before the tail's slope")
    ap.add_argument("--vary", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--days", type=int, default=60, help="demo days, when building one")
    ap.add_argument("--paths", type=int, default=len(DASHBOARD), help="the first N reads only")
    ap.add_argument("--memory-limit", help="UNITECON_MEMORY_LIMIT for the service, e.g. 1GB")
    ap.add_argument("--json", type=Path, help="also write the samples here")
    args = ap.parse_args()

    env = dict(os.environ)
    if args.memory_limit:
        env["UNITECON_MEMORY_LIMIT"] = args.memory_limit
    paths = DASHBOARD[: args.paths]
    home = args.home
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="unitecon-rss-"))
        env["UNITECON_HOME"] = str(home)
        t = time.perf_counter()
        run(["demo", "--no-tour", "--days", str(args.days), "--json"], env)
        print(f"demo ledger built in {time.perf_counter() - t:.0f} s under {home}")
    env["UNITECON_HOME"] = str(home)
    key = json.loads(run(["keys", "create", "read", "--name", "rss-bench", "--json"], env))["key"]
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if get(base + "/api/v1/health", key)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.5)
        samples = [(0, 0.0, rss_mib(server.pid))]
        print(f"serving on {base}, pid {server.pid}, RSS at start {samples[0][2]:.0f} MiB")
        print("round  seconds  RSS MiB  errors")
        start = time.perf_counter()
        day0 = dt.date(2000, 1, 1)
        for r in range(1, args.rounds + 1):
            errors = 0
            since = (day0 + dt.timedelta(days=r)).isoformat()
            for path in paths:
                if args.vary and any(f"/{p}" in path for p in FILTERED):
                    path += ("&" if "?" in path else "?") + f"since={since}"
                status, _ = get(base + path, key)
                errors += status >= 400
            samples.append((r, time.perf_counter() - start, rss_mib(server.pid)))
            print(f"{r:5d}  {samples[-1][1]:7.1f}  {samples[-1][2]:7.0f}  {errors:6d}", flush=True)
        flat = flatness(samples, args.warmup)
        print(
            f"\nRSS: start {samples[0][2]:.0f} MiB, after round {args.warmup} "
            f"{flat['at_warmup']:.0f} MiB, end {samples[-1][2]:.0f} MiB, peak "
            f"{max(s[2] for s in samples):.0f} MiB, mean {flat['mean']:.0f} MiB "
            f"(rounds {args.warmup}-{args.rounds})"
        )
        print(
            f"slope {flat['slope']:+.2f} MiB/round over rounds {args.warmup}-{args.rounds} "
            f"({flat['drift']:+.0f} MiB in all); mean of rounds {flat['early_span']} "
            f"{flat['early']:.0f} MiB, of the last {flat['late_n']} {flat['late']:.0f} MiB "
            f"({flat['late'] - flat['early']:+.0f} MiB)"
        )
        print(
            "flat" if flat["flat"] else "NOT flat",
            f"(flat: the tail's drift, slope x rounds, and the last {flat['late_n']} rounds' "
            f"mean against rounds {flat['early_span']} each within {LIMIT:.0%} of the mean)",
        )
        if args.json:
            args.json.write_text(json.dumps({"samples": samples, "flatness": flat}))
    finally:
        server.terminate()
        server.wait(60)


if __name__ == "__main__":
    main()
