"""Load benchmark of the service (not a test): OTLP exporters, or API reads on a big ledger.

    .venv/bin/python bench/server.py --exporters 16 --spans-per-request 64 --seconds 20
    .venv/bin/python bench/server.py --reads --events 10000000 --ledger /tmp/big.duckdb

Starts the service in a child process (uvicorn on a free loopback port, a fresh ledger in a
temporary directory), then N asyncio workers POST pre-encoded OTLP protobuf requests (GenAI
chat spans with unique ids) as fast as the server acknowledges them, for a bounded time and a
bounded number of requests. A 503/429 is retried after its Retry-After, as the OpenTelemetry
exporters do. It prints sustained spans/s, p50/p99 request latency, and, after a graceful
shutdown, checks that the ledger holds exactly the spans that were acknowledged.

Exporter settings: a real deployment that wants low latency runs many application processes,
each with one BatchSpanProcessor (one export in flight at a time) whose
`max_export_batch_size` is cut from the default 512 to 64 and `schedule_delay_millis` from
5000 to 200 (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE=64`, `OTEL_BSP_SCHEDULE_DELAY=200`): spans are
exported sooner and each request carries fewer of them, so fewer spans wait per request.
The defaults (`--exporters 16 --spans-per-request 64`) model 16 such processes.

`--reads` measures the read API instead: it builds a ledger of `--events` generated events
with `bench/ledger.py`'s `build_ledger` (or reuses the file at `--ledger`), starts the
service on it and times the main read endpoints (costs by dimension, unit metrics, margins):
`--read-requests` sequential requests each, then the same number from `--readers`
concurrent clients, and prints p50/p95 per endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

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
    acked_spans: int = 0
    rejected_spans: int = 0
    retries: int = 0
    failures: int = 0
    wall_s: float = 0.0


async def worker(
    url: str, key: str, bodies: asyncio.Queue[bytes], spans: int, deadline: float, res: Result
) -> None:
    import httpx

    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() < deadline:
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
        with Ledger(path, read_only=True) as lg:
            print(f"ledger {path}: {lg.count():,} events")
        keys = Path(tmp) / "keys.sqlite"
        key, _ = KeyStore(keys).create("read", "bench")
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(path), str(keys), str(port), "0"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_up(url, proc)
            asyncio.run(time_reads(url, key, a.read_requests, a.readers))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(120)


async def time_reads(url: str, key: str, n: int, readers: int) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client:

        async def get(path: str) -> float:
            t0 = time.perf_counter()
            r = await client.get(path)
            if r.status_code != 200:
                raise SystemExit(f"GET {path}: {r.status_code} {r.text[:300]}")
            return time.perf_counter() - t0

        for name, path in READS.items():
            first = await get(path)
            seq = [await get(path) for _ in range(n)]
            sem = asyncio.Semaphore(readers)

            async def one(p: str, s: asyncio.Semaphore) -> float:
                async with s:
                    return await get(p)

            conc = list(await asyncio.gather(*(one(path, sem) for _ in range(n))))
            print(f"{name:24} first {first * 1e3:7.0f} ms | {n} sequential: "
                  f"p50 {pct(seq, 0.5) * 1e3:6.0f} p95 {pct(seq, 0.95) * 1e3:6.0f} ms | "
                  f"{n} by {readers} concurrent: p50 {pct(conc, 0.5) * 1e3:6.0f} "
                  f"p95 {pct(conc, 0.95) * 1e3:6.0f} ms")  # fmt: skip


def child(ledger: str, keys: str, port: int, decoders: int) -> None:
    """The server process."""
    import uvicorn

    from unitecon.server.app import Settings, create_app

    app = create_app(ledger, keys=keys, settings=Settings(decode_processes=decoders))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    st = app.state.writer.stats
    each = st.rows_written / max(st.batches, 1)
    print(f"server writer: {st.batches} transactions, {each:,.0f} spans each; "
          f"busy {st.busy_s:.1f} s, validating {st.validate_s:.1f} s of it")  # fmt: skip


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
    ap.add_argument("--decode-processes", type=int, default=0, help="server decoder processes")
    ap.add_argument("--reads", action="store_true", help="measure API reads, not ingest")
    ap.add_argument("--events", type=int, default=10_000_000, help="--reads: ledger size")
    ap.add_argument("--ledger", type=Path, help="--reads: ledger file to reuse (or build)")
    ap.add_argument("--read-requests", type=int, default=20, help="--reads: per endpoint")
    ap.add_argument("--readers", type=int, default=4, help="--reads: concurrent clients")
    a = ap.parse_args()
    if a.reads:
        reads(a)
        return

    from unitecon.ledger.store import Ledger
    from unitecon.server.auth import KeyStore

    rng = random.Random(a.seed)
    t0 = time.perf_counter()
    bodies = [encode_request(i + 1, a.spans_per_request, rng) for i in range(a.requests)]
    mib = sum(map(len, bodies)) / 2**20
    took = time.perf_counter() - t0
    print(f"encoded {a.requests} requests x {a.spans_per_request} spans ({mib:.1f} MiB) "
          f"in {took:.1f} s")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="unitecon-bench-") as tmp:
        ledger, keys = Path(tmp) / "ledger.duckdb", Path(tmp) / "keys.sqlite"
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
            res = asyncio.run(run_load(url, key, bodies, a))
        finally:
            proc.send_signal(signal.SIGINT)  # graceful: the writer drains before exit
            proc.wait(120)
        with Ledger(ledger, read_only=True) as lg:
            stored = lg.count()
            quarantined = len(lg.quarantine())
    report(res, stored, quarantined, a)


async def run_load(url: str, key: str, bodies: list[bytes], a: argparse.Namespace) -> Result:
    q: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        q.put_nowait(b)
    res = Result()
    start = time.monotonic()
    deadline = start + a.seconds
    await asyncio.gather(
        *(
            worker(f"{url}/v1/traces", key, q, a.spans_per_request, deadline, res)
            for _ in range(a.exporters)
        )
    )
    res.wall_s = time.monotonic() - start
    return res


def report(res: Result, stored: int, quarantined: int, a: argparse.Namespace) -> None:
    wall = res.wall_s
    lat = sorted(res.latencies) or [0.0]
    print(f"exporters={a.exporters} spans/request={a.spans_per_request} "
          f"decode processes={a.decode_processes} wall={wall:.1f} s")  # fmt: skip
    print(f"acknowledged: {res.acked_spans:,} spans in {len(res.latencies):,} requests, "
          f"{res.rejected_spans:,} of them rejected (partial success); "
          f"{res.retries} requests retried after 503, {res.failures} failed")  # fmt: skip
    print(f"sustained: {res.acked_spans / wall:,.0f} spans/s")
    print(f"latency: p50 {pct(lat, 0.5) * 1e3:.0f} ms, p99 {pct(lat, 0.99) * 1e3:.0f} ms, "
          f"max {lat[-1] * 1e3:.0f} ms")  # fmt: skip
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
