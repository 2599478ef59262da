"""Load benchmark of the service (not a test): OTLP exporters, or API reads on a big ledger.

    .venv/bin/python bench/server.py --exporters 16 --spans-per-request 64 --seconds 20
    .venv/bin/python bench/server.py --exporters 16 --spans-per-request 512 --rate 5000
    .venv/bin/python bench/server.py --reads --events 10000000 --ledger /tmp/big.duckdb

Starts the service in a child process (uvicorn on a free loopback port, a fresh ledger in a
temporary directory), then N asyncio exporters POST pre-encoded OTLP protobuf requests (GenAI
chat spans with unique ids), for a bounded time and a bounded number of requests. A 503/429
is retried after its Retry-After, as the OpenTelemetry exporters do. It prints sustained
spans/s, p50/p99 request latency, and, after a graceful shutdown, checks that the ledger
holds exactly the spans that were acknowledged.

Two ways to load the server:

* closed loop (default, `--rate 0`): each exporter sends its next request as soon as the
  previous one is acknowledged. This measures capacity; the latency it shows is then set by
  the number of spans in flight (exporters x spans per request) divided by the throughput
  (Little's law), not by the server alone.
* open loop (`--rate R`): the exporters together offer R spans/s, as N application processes
  do whose OpenTelemetry BatchSpanProcessor exports a batch of `--spans-per-request` spans
  each `spans-per-request x N / R` seconds (one export in flight at a time: a late answer
  delays the next export, which then goes at once). The exporters start at random phases.
  This measures the latency at a given load. Matching real SDK settings:
  `--spans-per-request 512` is the SDK default `max_export_batch_size` (a process producing
  512 spans within the default 5 s `schedule_delay` exports full 512-span batches);
  `--spans-per-request 64 --exporters 16 --rate 5000` is 16 processes at about 310 spans/s
  each with `OTEL_BSP_SCHEDULE_DELAY=200` (a batch every 200 ms holds about 64 spans).

Encoded request bodies are cached in the temporary directory (`--no-cache` to re-encode):
encoding is slow pure-Python protobuf work that says nothing about the server.

`--reads` measures the read API instead: it builds a ledger of `--events` generated events
with `bench/ledger.py`'s `build_ledger` (or reuses the file at `--ledger`), starts the
service on it and times the main read endpoints (costs by dimension, unit metrics, margins):
the first request, `--read-requests` sequential requests each, then the same number from
`--readers` concurrent clients, and prints p50/p95 per endpoint. `--ingest-rate R` keeps
exporters sending R spans/s while the reads are timed (reads during live ingest).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MODELS = [("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5")]


def _attr(key: str, value: str | int) -> object:
    from opentelemetry.proto.common.v1 import common_pb2 as c

    v = c.AnyValue(int_value=value) if isinstance(value, int) else c.AnyValue(string_value=value)
    return c.KeyValue(key=key, value=v)


def encode_request(seq: int, spans: int, rng: random.Random) -> bytes:
    """One ExportTraceServiceRequest of `spans` GenAI chat spans with ids unique to `seq`."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
    from opentelemetry.proto.resource.v1 import resource_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    now = time.time_ns()
    out = []
    for i in range(spans):
        provider, model = MODELS[i % len(MODELS)]
        start = now - rng.randrange(10**9, 3600 * 10**9)
        out.append(
            trace_pb2.Span(
                trace_id=seq.to_bytes(8, "big") + (i // 8).to_bytes(8, "big"),
                span_id=(seq * 100_000 + i + 1).to_bytes(8, "big"),
                name=f"chat {model}",
                kind=trace_pb2.Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=start,
                end_time_unix_nano=start + rng.randrange(10**8, 5 * 10**9),
                attributes=[
                    _attr("gen_ai.operation.name", "chat"),
                    _attr("gen_ai.provider.name", provider),
                    _attr("gen_ai.request.model", model),
                    _attr("gen_ai.usage.input_tokens", rng.randrange(100, 8000)),
                    _attr("gen_ai.usage.output_tokens", rng.randrange(10, 800)),
                    _attr("unitecon.customer.id", f"c{rng.randrange(200):04d}"),
                ],
            )
        )
    resource = resource_pb2.Resource(
        attributes=[_attr("service.name", "bench"), _attr("unitecon.feature", "search")]
    )
    req = ts.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=resource, scope_spans=[trace_pb2.ScopeSpans(spans=out)]
            )
        ]
    )
    return bytes(req.SerializeToString())


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    acked_spans: int = 0
    rejected_spans: int = 0
    retries: int = 0
    failures: int = 0
    late: int = 0
    wall_s: float = 0.0
    server_cpu_s: float = 0.0


async def worker(
    client: httpx.AsyncClient,
    url: str,
    key: str,
    bodies: asyncio.Queue[bytes],
    spans: int,
    deadline: float,
    res: Result,
    period: float = 0.0,
    phase: float = 0.0,
) -> None:
    """One exporter. `period` > 0: one export every `period` seconds from `phase` on (open
    loop, one export in flight at a time); 0: the next export as soon as one is answered."""
    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {key}"}
    async with client:
        due = time.monotonic() + phase
        while time.monotonic() < deadline:
            if period:
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif wait < -period:
                    res.late += 1  # the previous export took longer than the period
                due = max(due + period, time.monotonic())
                if time.monotonic() >= deadline:
                    return
            try:
                body = bodies.get_nowait()
            except asyncio.QueueEmpty:
                return
            while True:
                t0 = time.perf_counter()
                r = await client.post(url, content=body, headers=headers)
                if r.status_code in (429, 503):
                    res.retries += 1
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                    continue
                break
            res.latencies.append(time.perf_counter() - t0)
            res.sent_at.append(t0)
            if r.status_code == 200:
                res.acked_spans += spans
                res.rejected_spans += rejected(r.content)
            else:
                res.failures += 1


def rejected(body: bytes) -> int:
    """Spans the server reported as rejected (partial success) in its answer."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts

    return int(ts.ExportTraceServiceResponse.FromString(body).partial_success.rejected_spans)


#: The main read endpoints, as the dashboard calls them.
READS = {
    "costs by model": "/api/v1/costs?by=model",
    "costs by day,feature": "/api/v1/costs?by=day,feature",
    "unit metrics by feature": "/api/v1/metrics/units?by=feature",
    "margins by customer": "/api/v1/margins?by=customer",
}


def reads(a: argparse.Namespace) -> None:
    """Time the read endpoints on a ledger of `a.events` events (built once, reusable)."""
    from unitecon.ledger.store import Ledger
    from unitecon.server.auth import KeyStore

    with tempfile.TemporaryDirectory(prefix="unitecon-bench-") as tmp:
        path = a.ledger or Path(tmp) / "ledger.duckdb"
        if not path.exists():
            sys.path.insert(0, str(Path(__file__).parent))
            from ledger import build_ledger  # bench/ledger.py

            t0 = time.perf_counter()
            build_ledger(path, a.events).close()
            print(f"built {a.events:,} events in {path} in {time.perf_counter() - t0:.0f} s")
        with Ledger(path) as lg:  # opened for writing: migrated if it is an older schema
            print(f"ledger {path}: {lg.count():,} events")
        keys = Path(tmp) / "keys.sqlite"
        key, _ = KeyStore(keys).create("read", "bench")
        ingest, _ = KeyStore(keys).create("ingest", "bench")
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                str(path),
                str(keys),
                str(port),
                str(a.decode_processes),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1", "UNITECON_BENCH_PREWARM": "1"},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url, proc)
            asyncio.run(time_reads(url, key, ingest, a))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(300)


async def time_reads(url: str, key: str, ingest: str, a: argparse.Namespace) -> None:
    """First request of each read (the server has just started: prewarmed or not), then
    steady p50/p95, sequential and concurrent; with `--ingest-rate`, again while exporters
    send spans (answers then lag the ledger: the share served stale is shown)."""
    import httpx

    n, readers = a.read_requests, a.readers
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=900) as client:
        stale: list[int] = []

        async def get(path: str) -> float:
            t0 = time.perf_counter()
            r = await client.get(path)
            if r.status_code != 200:
                raise SystemExit(f"GET {path}: {r.status_code} {r.text[:300]}")
            took = time.perf_counter() - t0
            stale.append(r.headers.get("x-unitecon-fresh") == "false")
            return took

        async def one(p: str, s: asyncio.Semaphore) -> float:
            async with s:
                return await get(p)

        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for name, path in READS.items():
            first = await get(path)
            print(f"{name:24} first request {first * 1e3:8.0f} ms")
        for name, path in READS.items():
            seq = [await get(path) for _ in range(n)]
            sem = asyncio.Semaphore(readers)
            conc = list(await asyncio.gather(*(one(path, sem) for _ in range(n))))
            print(f"{name:24} {n} sequential: p50 {pct(seq, 0.5) * 1e3:6.0f} "
                  f"p95 {pct(seq, 0.95) * 1e3:6.0f} ms | {n} by {readers} concurrent: "
                  f"p50 {pct(conc, 0.5) * 1e3:6.0f} p95 {pct(conc, 0.95) * 1e3:6.0f} "
                  "ms")  # fmt: skip
        if not a.ingest_rate:
            return
        spans = a.spans_per_request
        bodies = encoded(int(a.ingest_rate * a.seconds / spans) + 16, spans, a.seed + 1)
        q: asyncio.Queue[bytes] = asyncio.Queue()
        for b in bodies:
            q.put_nowait(b)
        res, exporters = Result(), 4
        deadline = time.monotonic() + a.seconds
        period = spans * exporters / a.ingest_rate
        load = [
            asyncio.create_task(
                worker(
                    httpx.AsyncClient(timeout=30),
                    f"{url}/v1/traces",
                    ingest,
                    q,
                    spans,
                    deadline,
                    res,
                    period,
                    i * period / 4,
                )
            )
            for i in range(exporters)
        ]
        during: list[float] = []
        stale.clear()
        while time.monotonic() < deadline:
            for path in READS.values():
                during.append(await get(path))
            await asyncio.sleep(0.05)
        await asyncio.gather(*load)
        print(f"during ingest of {a.ingest_rate:,.0f} spans/s offered "
              f"({res.acked_spans / a.seconds:,.0f} acknowledged/s, p99 "
              f"{pct(res.latencies, 0.99) * 1e3:.0f} ms): {len(during)} reads of all four, "
              f"p50 {pct(during, 0.5) * 1e3:.0f} p95 {pct(during, 0.95) * 1e3:.0f} ms; "
              f"{sum(stale)} of them served an answer older than the last commit; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip


def child(ledger: str, keys: str, port: int, decoders: int) -> None:
    """The server process."""
    import uvicorn

    from unitecon.server.app import Settings, create_app

    threads = int(os.environ.get("UNITECON_BENCH_DECODE_THREADS", "1"))
    # The dashboard prewarm only with --reads: in the ingest runs it would take the cores
    # from the writer during the first seconds (a server starts once; a bench run often).
    prewarm = os.environ.get("UNITECON_BENCH_PREWARM") == "1"
    settings = Settings(decode_processes=decoders, decode_threads=threads, prewarm=prewarm)
    if os.environ.get("UNITECON_BENCH_CHECKPOINT_MIB"):  # experiment: checkpoint interval
        mib = int(os.environ["UNITECON_BENCH_CHECKPOINT_MIB"])
        settings = dataclasses.replace(settings, checkpoint_wal_bytes=mib << 20)
    app = create_app(ledger, keys=keys, settings=settings)
    if os.environ.get("UNITECON_BENCH_SWITCH"):  # experiment: the GIL's switch interval
        sys.setswitchinterval(float(os.environ["UNITECON_BENCH_SWITCH"]))
    profile = os.environ.get("UNITECON_BENCH_PROFILE")  # a file: CPU profile (needs yappi)
    if profile:
        import yappi  # type: ignore[import-not-found]

        yappi.set_clock_type("cpu")
        yappi.start()
    served: list[float] = []
    asgi: Any = app
    if os.environ.get("UNITECON_BENCH_SERVER_TIMES"):  # diagnosis: time inside the server
        inner = app

        async def timed(scope: Any, receive: Any, send: Any) -> None:
            t0 = time.perf_counter()
            await inner(scope, receive, send)
            if scope["type"] == "http":
                served.append(time.perf_counter() - t0)

        asgi = timed
    uvicorn.run(asgi, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    if served:
        served.sort()
        print(f"inside the server: p50 {pct(served, 0.5) * 1e3:.0f} ms, p99 "
              f"{pct(served, 0.99) * 1e3:.0f} ms, max {served[-1] * 1e3:.0f} ms")  # fmt: skip
    if profile:
        yappi.stop()
        yappi.get_func_stats().save(profile, type="pstat")
        per_thread = sorted(yappi.get_thread_stats(), key=lambda t: -t.ttot)
        print("CPU by thread:", ", ".join(f"{t.name} {t.ttot:.1f} s" for t in per_thread[:8]))
    rc = app.state.read_cache
    print(f"read cache: {rc.hits} fresh answers, {rc.stale_hits} older than the last commit, "
          f"{rc.misses} computed by a request, {rc.refreshes} refreshed in the "
          "background")  # fmt: skip
    st = app.state.writer.stats
    if st.checkpoint_log:
        t0 = st.checkpoint_log[0][0]
        print("checkpoints (start, seconds): " + ", ".join(
            f"+{t - t0:.1f} {d:.2f}" for t, d in st.checkpoint_log))  # fmt: skip
    each = st.rows_written / max(st.batches, 1)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"server writer: {st.batches} transactions, {each:,.0f} spans each; "
          f"committing {st.busy_s:.1f} s ({st.commit_cpu_s:.1f} s CPU), validating "
          f"{st.validate_s:.1f} s ({st.validate_cpu_s:.1f} s CPU); {st.checkpoints} "
          f"checkpoints between batches ({st.checkpoint_s:.1f} s); {st.spooled} batches "
          f"spooled ({st.spool_s:.1f} s, longest {st.spool_max_s * 1e3:.0f} ms), "
          f"{st.commit_retries} commit retries; "
          f"server process CPU {cpu.ru_utime:.1f} s user + {cpu.ru_stime:.1f} s system, "
          f"{cpu.ru_nvcsw:,} + {cpu.ru_nivcsw:,} context switches")  # fmt: skip


def cpu_s(pid: int) -> float:
    """CPU time (user + system) a process and its live child processes (the decoders) have
    used so far [s] (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return own + sum(cpu_s(int(c)) for c in children)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start in 60 s")


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=1000, method="inclusive")[int(q * 1000) - 1] if xs else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--exporters", type=int, default=16, help="concurrent clients")
    ap.add_argument("--spans-per-request", type=int, default=64)
    ap.add_argument("--requests", type=int, default=600, help="at most this many requests")
    ap.add_argument("--seconds", type=float, default=20, help="at most this long")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--decode-processes",
        type=int,
        default=None,
        help="server decoder processes (default: as `unitecon serve`, 1 on 2+ cores)",
    )
    ap.add_argument(
        "--rate", type=float, default=0, help="offered spans/s, all exporters (0: closed loop)"
    )
    ap.add_argument("--no-cache", action="store_true", help="encode the bodies anew")
    ap.add_argument("--reads", action="store_true", help="measure API reads, not ingest")
    ap.add_argument("--events", type=int, default=10_000_000, help="--reads: ledger size")
    ap.add_argument("--ledger", type=Path, help="--reads: ledger file to reuse (or build)")
    ap.add_argument(
        "--base-ledger",
        type=Path,
        help="ingest: start from a copy of this ledger (e.g. 10M events), not an empty one",
    )
    ap.add_argument("--read-requests", type=int, default=20, help="--reads: per endpoint")
    ap.add_argument("--readers", type=int, default=4, help="--reads: concurrent clients")
    ap.add_argument(
        "--ingest-rate", type=float, default=0, help="--reads: spans/s sent during the reads"
    )
    a = ap.parse_args()
    if a.decode_processes is None:
        from unitecon.server.app import Settings

        a.decode_processes = Settings.default_decode_processes()
    if a.reads:
        reads(a)
        return

    from unitecon.ledger.store import Ledger
    from unitecon.server.auth import KeyStore

    bodies = encoded(a.requests, a.spans_per_request, a.seed, cache=not a.no_cache)

    with tempfile.TemporaryDirectory(prefix="unitecon-bench-") as tmp:
        ledger, keys = Path(tmp) / "ledger.duckdb", Path(tmp) / "keys.sqlite"
        before = 0
        if a.base_ledger:
            shutil.copyfile(a.base_ledger, ledger)
            with Ledger(ledger) as lg:  # migrated (and its log checkpointed) before the clock
                before = lg.count()
            print(f"starting from a copy of {a.base_ledger}: {before:,} events")
        key, _ = KeyStore(keys).create("ingest", "bench")
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                str(ledger),
                str(keys),
                str(port),
                str(a.decode_processes),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url, proc)
            cpu0 = cpu_s(proc.pid)
            res = asyncio.run(run_load(url, key, bodies, a))
            res.server_cpu_s = cpu_s(proc.pid) - cpu0
        finally:
            proc.send_signal(signal.SIGINT)  # graceful: the writer drains before exit
            proc.wait(120)
        with Ledger(ledger, read_only=True) as lg:
            stored = lg.count() - before
            quarantined = len(lg.quarantine())
    report(res, stored, quarantined, a)


def encoded(requests: int, spans: int, seed: int, *, cache: bool = True) -> list[bytes]:
    """`requests` request bodies of `spans` spans (unique ids), cached on disk by shape."""
    path = Path(tempfile.gettempdir()) / "unitecon-bench-bodies" / f"{requests}x{spans}-{seed}"
    if cache and path.exists():
        data, bodies, at = path.read_bytes(), [], 0
        while at < len(data):
            n = int.from_bytes(data[at : at + 4], "big")
            bodies.append(data[at + 4 : at + 4 + n])
            at += 4 + n
        print(f"{requests} requests x {spans} spans from {path}")
        return bodies
    rng = random.Random(seed)
    t0 = time.perf_counter()
    bodies = [encode_request(i + 1, spans, rng) for i in range(requests)]
    mib = sum(map(len, bodies)) / 2**20
    print(f"encoded {requests} requests x {spans} spans ({mib:.1f} MiB) "
          f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    if cache:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(b"".join(len(b).to_bytes(4, "big") + b for b in bodies))
        tmp.replace(path)
    return bodies


async def run_load(url: str, key: str, bodies: list[bytes], a: argparse.Namespace) -> Result:
    q: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        q.put_nowait(b)
    res = Result()
    # The clients first (each loads a TLS context: ~30 ms of CPU that would otherwise fall
    # on the first requests), then the clock.
    clients = [httpx.AsyncClient(timeout=30) for _ in range(a.exporters)]
    start = time.monotonic()
    deadline = start + a.seconds
    # Open loop: each exporter sends spans_per_request spans every `period` seconds.
    period = a.spans_per_request * a.exporters / a.rate if a.rate else 0.0
    rng = random.Random(a.seed)
    await asyncio.gather(
        *(
            worker(
                clients[i],
                f"{url}/v1/traces",
                key,
                q,
                a.spans_per_request,
                deadline,
                res,
                period,
                rng.uniform(0, period),
            )
            for i in range(a.exporters)
        )
    )
    res.wall_s = time.monotonic() - start
    return res


def report(res: Result, stored: int, quarantined: int, a: argparse.Namespace) -> None:
    wall = res.wall_s
    lat = sorted(res.latencies) or [0.0]
    load = f"open loop, offered {a.rate:,.0f} spans/s" if a.rate else "closed loop"
    print(f"exporters={a.exporters} spans/request={a.spans_per_request} {load} "
          f"decode processes={a.decode_processes} wall={wall:.1f} s; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"acknowledged: {res.acked_spans:,} spans in {len(res.latencies):,} requests, "
          f"{res.rejected_spans:,} of them rejected (partial success); "
          f"{res.retries} requests retried after 503, {res.failures} failed")  # fmt: skip
    if a.rate:
        print(f"{res.late} exports sent late (more than one period behind their schedule)")
    per_span = res.server_cpu_s / max(res.acked_spans, 1) * 1e6
    print(f"sustained: {res.acked_spans / wall:,.0f} spans/s; server CPU during the load "
          f"{res.server_cpu_s:.1f} s ({per_span:.0f} us per span)")  # fmt: skip
    print(f"latency: p50 {pct(lat, 0.5) * 1e3:.0f} ms, p99 {pct(lat, 0.99) * 1e3:.0f} ms, "
          f"max {lat[-1] * 1e3:.0f} ms")  # fmt: skip
    if res.sent_at:  # the slowest requests, and when they were sent
        t0 = min(res.sent_at)
        slow = sorted(zip(res.latencies, res.sent_at, strict=True), reverse=True)[:5]
        print("slowest: " + ", ".join(f"{x * 1e3:.0f} ms at +{t - t0:.1f} s" for x, t in slow))
        if os.environ.get("UNITECON_BENCH_FIRST"):
            first = sorted(zip(res.sent_at, res.latencies, strict=True))[:24]
            print("first: " + ", ".join(f"+{t - t0:.2f}s {x * 1e3:.0f}" for t, x in first))
    accepted = res.acked_spans - res.rejected_spans
    ok = stored == accepted and quarantined == res.rejected_spans
    print(f"ledger holds {stored:,} events and {quarantined:,} quarantined records: "
          f"{'equal to' if ok else 'DIFFERENT from'} the acknowledged spans")  # fmt: skip
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
