"""What the reads of a page share (`server.shared.SharedWork`) and the engine's threads
while the service takes writes or not (`server.app.EngineThreads`)."""

from __future__ import annotations

import json
import threading
import time

import duckdb
import pytest
from fastapi.testclient import TestClient

from unitecon.analysis.answers import Filters
from unitecon.analysis.core import Analysis
from unitecon.config import Project
from unitecon.server.app import EngineThreads, LedgerView, Settings
from unitecon.server.shared import ROW_BYTES, SharedWork


def test_one_computation_per_key_while_others_wait() -> None:
    work = SharedWork(ttl_s=60)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> list[int]:
        calls.append(1)
        started.set()
        release.wait(10)
        return [42]

    got: list[list[int]] = []
    first = threading.Thread(target=lambda: got.append(work.get(("k",), slow)))
    first.start()
    started.wait(10)
    # asked while the first computes: waits for it, computes nothing
    second = threading.Thread(target=lambda: got.append(work.get(("k",), slow)))
    second.start()
    time.sleep(0.05)
    assert second.is_alive()
    release.set()
    first.join(10)
    second.join(10)
    assert calls == [1]
    assert got[0] is got[1] and got[0] == [42]
    assert (work.computed, work.shared) == (1, 1)
    assert work.get(("other",), lambda: [7]) == [7]  # another key: its own value
    assert work.computed == 2


def test_a_failed_computation_is_not_kept() -> None:
    work = SharedWork()

    def boom() -> int:
        raise RuntimeError("engine down")

    with pytest.raises(RuntimeError):
        work.get(("k",), boom)
    assert work.get(("k",), lambda: 3) == 3  # the next asker computes it


def test_kept_for_ttl_and_bounded_in_entries() -> None:
    work = SharedWork(ttl_s=0.05, max_entries=2)
    assert work.get(("a",), lambda: 1) == 1
    assert work.get(("a",), lambda: 2) == 1  # kept
    time.sleep(0.06)
    assert work.get(("a",), lambda: 3) == 3  # expired: computed again
    work.get(("b",), lambda: 0)
    work.get(("c",), lambda: 0)
    assert len(work) == 2  # "a", the least recently used, went first
    assert work.get(("a",), lambda: 4) == 4
    big = SharedWork(max_bytes=8 * ROW_BYTES)
    assert big.get(("x",), lambda: ([0, 1, 2, 3], 4)) == ([0, 1, 2, 3], 4)  # 5 rows: over half
    assert len(big) == 0 and big.bytes == 0
    for k in "abcdef":
        big.get((k,), lambda: [1, 2])  # 2 rows each
    assert big.bytes == 8 * ROW_BYTES and len(big) == 4  # the oldest two went first
    assert big.get(("a",), lambda: [9]) == [9]
    scoped = work.scoped("fingerprint", 7)
    assert scoped.get(("a",), lambda: 5) == 5  # another generation: another key


def _threads(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT current_setting('threads')").fetchone()
    assert row is not None
    return int(row[0])


def test_engine_threads_narrow_while_writing_and_widen_after() -> None:
    now = [1000.0]  # the clock, moved by hand: no sleep, no race with a loaded machine
    con = duckdb.connect()
    cur = con.cursor()  # a read's cursor: the setting is the database's, one for all
    t = EngineThreads(con, busy=1, idle=3, wide_after_s=30.0, clock=lambda: now[0])
    assert _threads(cur) == 3  # no write yet: every core for the reads
    t.committed(con)
    assert _threads(cur) == 1 and t.now == 1
    now[0] += 29.9
    t.reading(cur)  # a read within 30 s of a commit: the decoders keep their cores
    assert _threads(cur) == 1
    now[0] += 0.1
    t.reading(cur)  # 30 s after the last commit: every core again
    assert _threads(con) == 3 and t.now == 3


def test_settings_threads() -> None:
    import os

    cores = os.cpu_count() or 1
    s = Settings(decode_processes=cores)
    assert (s.duckdb_threads(), s.idle_threads()) == (1, cores)
    assert (
        Settings(ledger_threads=2).duckdb_threads(),
        Settings(ledger_threads=2).idle_threads(),
    ) == (
        2,
        2,
    )


def test_service_reads_share_and_commits_narrow(
    client: TestClient, hdr: dict[str, dict[str, str]]
) -> None:
    app = client.app
    work: SharedWork = app.state.shared  # type: ignore[attr-defined]
    h = hdr["read"]
    m = client.get("/api/v1/margins?by=customer", headers=h)
    assert m.status_code == 200
    computed = work.computed
    col = client.get("/api/v1/collapse", headers=h)
    assert col.status_code == 200
    assert work.computed == computed and work.shared >= 1  # the margin rows were shared
    # ... and the answers are those of an analysis of its own, sharing nothing
    view = LedgerView(app.state.ledger.con.cursor(), None)  # type: ignore[attr-defined]
    with Analysis(view, Project()) as a:
        alone = [a.margins(Filters(), "customer"), a.collapse(Filters())]
    for got, want in zip([m, col], alone, strict=True):
        assert got.json() == json.loads(want.model_dump_json())
    # /tasks: one answer for limits up to 100, cut to each
    t3 = client.get("/api/v1/tasks?limit=3", headers=h).json()
    t5 = client.get("/api/v1/tasks?limit=5", headers=h).json()
    assert len(t3["rows"]) == 3 and len(t5["rows"]) == 5 and t5["rows"][:3] == t3["rows"]
    costs = [float(r["cost"]) for r in t5["rows"]]
    assert costs == sorted(costs, reverse=True)
    # a commit: the engine's threads go to what the decoders leave; and a new generation,
    # so the margin rows are computed again, not shared from before the commit
    threads: EngineThreads = app.state.engine_threads  # type: ignore[attr-defined]
    assert threads.now == app.state.settings.idle_threads()  # type: ignore[attr-defined]
    threads._busy = 1  # as with decoder processes on every core but one (none start here)
    ev: dict[str, object] = {"event_id": "new-1", "ts": "2026-03-04T00:00:00Z"}
    ev |= {"model": "gpt-4o-mini", "provider": "openai", "input_tokens": 10}
    ev |= {"output_tokens": 2, "customer_id": "cust-9"}
    h_in = {**hdr["ingest"], "Content-Type": "application/json"}
    assert client.post("/api/v1/events", json=[ev], headers=h_in).status_code == 200
    deadline = time.monotonic() + 30  # committed behind the answer, then the hooks run
    while threads.now != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threads.now == 1
    after = client.get("/api/v1/margins?by=customer", headers={**h, "Cache-Control": "no-cache"})
    assert work.computed == computed + 1
    assert "cust-9" in after.text and "cust-9" not in m.text
