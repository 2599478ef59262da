"""The read cache: latest answers served at once, refreshed in the background after commits."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unitecon.config import Project
from unitecon.pricing.config import Discount, PricingConfig
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore
from unitecon.server.cache import ReadCache


class Counter:
    """A compute function returning "v1", "v2", ... and counting its calls."""

    def __init__(self, fail_from: int | None = None) -> None:
        self.calls = 0
        self.fail_from = fail_from

    def __call__(self) -> str:
        self.calls += 1
        if self.fail_from is not None and self.calls >= self.fail_from:
            raise RuntimeError("the ledger is on fire")
        return f"v{self.calls}"


def manual(gen: list[int], **kw: Any) -> ReadCache:
    """A cache without its thread (`run_pending` does the background work); `gen[0]` is the
    ledger generation."""
    kw.setdefault("min_interval_s", 0.0)
    return ReadCache(lambda: gen[0], background=False, **kw)


def test_first_read_computes_then_the_answer_is_reused() -> None:
    gen, compute = [0], Counter()
    cache = manual(gen)
    first = cache.get("k", compute)
    again = cache.get("k", compute)
    assert (first.value, again.value, compute.calls) == ("v1", "v1", 1)
    assert again.fresh and again.generation == 0
    assert cache.run_pending() == 0  # nothing changed: nothing to refresh


def test_after_a_commit_the_old_answer_is_served_until_the_new_one_is_done() -> None:
    gen, compute = [0], Counter()
    cache = manual(gen)
    cache.get("k", compute)
    gen[0] = 1  # a commit
    stale = cache.get("k", compute)
    assert (stale.value, stale.generation, stale.fresh) == ("v1", 0, False)
    assert compute.calls == 1  # the read did not wait for a new computation
    assert cache.run_pending() == 1
    new = cache.get("k", compute)
    assert (new.value, new.generation, new.fresh) == ("v2", 1, True)


def test_no_cache_read_sees_every_commit() -> None:
    gen, compute = [0], Counter()
    cache = manual(gen)
    cache.get("k", compute)
    assert cache.get("k", compute, fresh=True).value == "v1"  # still current: reused
    gen[0] = 3
    got = cache.get("k", compute, fresh=True)
    assert (got.value, got.generation) == ("v2", 3)
    assert cache.get("k", compute).value == "v2"  # and kept for the others


def test_answers_never_cross_keys() -> None:
    cache = manual([0])
    assert cache.get(("p1", "costs", "by=model"), lambda: "A").value == "A"
    assert cache.get(("p2", "costs", "by=model"), lambda: "B").value == "B"
    assert cache.get(("p1", "costs", "by=day"), lambda: "C").value == "C"
    assert cache.get(("p1", "costs", "by=model"), lambda: "D").value == "A"


def test_concurrent_first_reads_compute_once() -> None:
    cache = manual([0])
    entered, release, calls = threading.Event(), threading.Event(), []

    def slow() -> int:
        calls.append(1)
        entered.set()
        release.wait(10)
        return 42

    out: list[int] = []
    threads = [threading.Thread(target=lambda: out.append(cache.get("k", slow).value))]
    threads[0].start()
    assert entered.wait(10)
    threads += [
        threading.Thread(target=lambda: out.append(cache.get("k", slow).value)) for _ in range(3)
    ]
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(10)
    assert out == [42] * 4 and len(calls) == 1


def test_a_prewarmed_answer_is_refreshed_once_someone_reads_it() -> None:
    gen, compute = [0], Counter()
    cache = manual(gen)
    cache.prewarm([lambda: cache.get("k", compute)])
    assert cache.run_pending() == 1 and compute.calls == 1
    gen[0] = 1
    assert cache.run_pending() == 0  # nobody has read it: no recomputation per commit
    got = cache.get("k", compute)
    assert (got.value, got.fresh, compute.calls) == ("v1", False, 1)  # at once, marked
    assert cache.run_pending() == 1
    assert cache.get("k", compute).value == "v2"


def test_a_failed_refresh_keeps_the_previous_answer() -> None:
    gen, compute = [0], Counter(fail_from=2)
    cache = manual(gen)
    cache.get("k", compute)
    gen[0] = 1
    cache.run_pending()
    got = cache.get("k", compute)
    assert (got.value, got.fresh, cache.failures) == ("v1", False, 1)


def test_a_failed_first_read_is_not_kept() -> None:
    cache = manual([0])
    with pytest.raises(RuntimeError):
        cache.get("k", Counter(fail_from=1))
    assert len(cache) == 0
    assert cache.get("k", lambda: "ok").value == "ok"


def test_idle_answers_are_dropped_and_the_count_is_bounded() -> None:
    cache = manual([0], max_entries=2)
    for k in "abc":
        cache.get(k, lambda k=k: k)  # type: ignore[misc]
    assert len(cache) == 2 and cache.get("a", lambda: "new").value == "new"  # "a" was out
    idle = manual([0], idle_s=0.0)
    idle.get("k", lambda: 1)
    idle.run_pending()
    assert len(idle) == 0  # not read since: dropped, not refreshed


def test_disabled_cache_computes_every_time() -> None:
    compute = Counter()
    cache = ReadCache(enabled=False)
    assert [cache.get("k", compute).value for _ in range(2)] == ["v1", "v2"]


def test_background_thread_replaces_the_answer_after_a_commit() -> None:
    gen, compute = [0], Counter()
    cache = ReadCache(lambda: gen[0], min_interval_s=0.0)
    try:
        assert cache.get("k", compute).value == "v1"
        gen[0] = 1
        cache.changed()
        assert cache.wait_idle(30)
        got = cache.get("k", compute)
        assert (got.value, got.generation, got.fresh) == ("v2", 1, True)
    finally:
        cache.close()


# -- through the API --------------------------------------------------------------------------
EVENT = {
    "ts": "2026-03-04T00:00:00Z",
    "model": "gpt-4o-mini",
    "provider": "openai",
    "input_tokens": 1_000_000,
    "output_tokens": 0,
}


def post_event(client: TestClient, hdr: dict[str, dict[str, str]], event_id: str) -> None:
    h = {**hdr["ingest"], "Content-Type": "application/json"}
    r = client.post("/api/v1/events", json=[{**EVENT, "event_id": event_id}], headers=h)
    assert r.status_code == 200, r.text
    # Answered once spooled; wait for the commit, as the ledger generation counts commits.
    assert client.app.state.writer.caught_up(10)  # type: ignore[attr-defined]


def test_api_serves_the_last_answer_with_its_generation(
    client: TestClient, hdr: dict[str, dict[str, str]]
) -> None:
    url = "/api/v1/costs?by=model"
    cache: ReadCache = client.app.state.read_cache  # type: ignore[attr-defined]
    first = client.get(url, headers=hdr["read"])
    assert first.headers["X-Unitecon-Generation"] == "0"
    assert first.headers["X-Unitecon-Fresh"] == "true"
    before = Decimal(first.json()["total_cost"])
    with cache.hold():  # no background refresh until the end of the block
        post_event(client, hdr, "cache-1")
        stale = client.get(url, headers=hdr["read"])
        assert stale.json() == first.json()  # served at once, from before the commit
        assert stale.headers["X-Unitecon-Generation"] == "0"
        assert stale.headers["X-Unitecon-Ledger-Generation"] == "1"
        assert stale.headers["X-Unitecon-Fresh"] == "false"
        # Cache-Control: no-cache reads its own writes.
        own = client.get(url, headers={**hdr["read"], "Cache-Control": "no-cache"})
        assert own.headers["X-Unitecon-Generation"] == "1"
        # gpt-4o-mini input: USD 0.15 per million tokens (OpenAI price list)
        assert Decimal(own.json()["total_cost"]) - before == Decimal("0.15")
        post_event(client, hdr, "cache-2")
    assert cache.wait_idle(60)
    after = client.get(url, headers=hdr["read"])
    assert after.headers["X-Unitecon-Generation"] == "2"
    assert after.headers["X-Unitecon-Fresh"] == "true"
    assert Decimal(after.json()["total_cost"]) - before == Decimal("0.30")
    other = client.get("/api/v1/costs?by=feature", headers=hdr["read"]).json()
    assert other["by"] == ["feature"]  # the parameters are part of the key


def test_another_project_config_never_gets_the_cached_answer(
    client: TestClient, hdr: dict[str, dict[str, str]]
) -> None:
    url = "/api/v1/costs?by=model"
    before = Decimal(client.get(url, headers=hdr["read"]).json()["total_cost"])
    app: Any = client.app
    app.state.project = Project(pricing=PricingConfig(discounts=[Discount(percent=Decimal(50))]))
    half = Decimal(client.get(url, headers=hdr["read"]).json()["total_cost"])
    assert before > 0 and half * 2 == before  # 50 % off every price
    app.state.project = Project()
    assert Decimal(client.get(url, headers=hdr["read"]).json()["total_cost"]) == before


def test_start_prewarms_the_dashboard_reads(ledger_path: Path, store: KeyStore) -> None:
    read, _ = store.create("read", "dash")
    app = create_app(ledger_path, keys=store, settings=Settings(prewarm=True))
    with TestClient(app) as client:
        cache: ReadCache = client.app.state.read_cache  # type: ignore[attr-defined]
        assert cache.wait_idle(120)
        computed = cache.misses
        h = {"Authorization": f"Bearer {read}"}
        # The overview page's first request (static/app.js), then the units page's.
        for url in ("/api/v1/costs?by=day%2Cmodel", "/api/v1/metrics/units?by=feature&loaded=true"):
            r = client.get(url, headers=h)
            assert r.status_code == 200 and r.headers["X-Unitecon-Fresh"] == "true"
        assert cache.misses == computed  # both were ready: nothing computed for them
        assert len(cache) >= 12
