"""The read cache: an answer is reused only while the ledger is unchanged."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from fastapi.testclient import TestClient

from unitecon.server.cache import ReadCache


def test_cached_answer_changes_with_every_commit(
    client: TestClient, hdr: dict[str, dict[str, str]]
) -> None:
    url = "/api/v1/costs?by=model"
    before = client.get(url, headers=hdr["read"]).json()
    cache: ReadCache = client.app.state.read_cache  # type: ignore[attr-defined]
    assert client.get(url, headers=hdr["read"]).json() == before
    assert cache.hits == 1
    event = {
        "event_id": "cache-1",
        "ts": "2026-03-04T00:00:00Z",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "input_tokens": 1_000_000,
        "output_tokens": 0,
    }
    h = {**hdr["ingest"], "Content-Type": "application/json"}
    assert client.post("/api/v1/events", json=[event], headers=h).status_code == 200
    after = client.get(url, headers=hdr["read"]).json()
    # gpt-4o-mini input: USD 0.15 per million tokens (OpenAI price list)
    assert Decimal(after["total_cost"]) - Decimal(before["total_cost"]) == Decimal("0.15")
    other = client.get("/api/v1/costs?by=feature", headers=hdr["read"]).json()
    assert other["by"] == ["feature"]  # the query string is part of the key


def test_concurrent_identical_reads_compute_once() -> None:
    cache, calls = ReadCache(ttl_s=60), []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(cache.get("k", slow))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [42] * 4 and len(calls) == 1


def test_entries_expire_and_are_bounded() -> None:
    cache = ReadCache(ttl_s=0.05, max_entries=2)
    assert cache.get("a", lambda: 1) == 1
    assert cache.get("a", lambda: 2) == 1
    time.sleep(0.06)
    assert cache.get("a", lambda: 3) == 3
    cache.get("b", lambda: 0)
    cache.get("c", lambda: 0)
    assert cache.get("a", lambda: 4) == 4  # "a" was the least recent: evicted
    assert ReadCache(ttl_s=0).get("x", lambda: 5) == 5
