"""Answers kept across a restart of the service (`cache.KeptAnswers`, issue 23): a service
started again on an unchanged ledger answers its first reads at once, with the same answer
the events give; any write to the ledger (a late event, a re-sent one), another project or
other code retires the kept answer, and the first read computes it from the events again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.conftest import T0, build_ledger, event

from unitecon.config import Project
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.pricing.config import Discount, PricingConfig
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore
from unitecon.server.cache import KEPT_FILE, KeptAnswers, ReadCache, pack

URL = "/api/v1/costs?by=model"


def read(
    ledger_path: Path,
    store: KeyStore,
    h: dict[str, str],
    *,
    project: Project | None = None,
    url: str = URL,
    **kw: Any,
) -> tuple[Any, dict[str, str], ReadCache]:
    """One service start on `ledger_path`: the first read of `url`, its headers, the cache."""
    app = create_app(
        ledger_path, keys=store, project=project, settings=Settings(prewarm=False, **kw)
    )
    with TestClient(app) as client:
        r = client.get(url, headers=h)
        assert r.status_code == 200, r.text
        cache: ReadCache = client.app.state.read_cache  # type: ignore[attr-defined]
        return r.json(), dict(r.headers), cache


def add(ledger_path: Path, rows: list[dict[str, Any]]) -> None:
    """A write while no service runs (`unitecon ingest` would do the same)."""
    with Ledger(ledger_path) as ledger:
        ledger.ingest("late", [Chunk(schema.to_table(rows))])


def test_a_restarted_service_answers_from_the_kept_answer(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    first, _, cache = read(ledger_path, store, hdr["read"])
    assert cache.misses == 1 and cache.kept_hits == 0
    assert (ledger_path.parent / KEPT_FILE).exists()
    again, headers, cache = read(ledger_path, store, hdr["read"])
    assert cache.kept_hits == 1 and cache.misses == 0  # nothing computed
    assert headers["x-unitecon-fresh"] == "true"
    assert headers["x-unitecon-as-of"]  # when it was computed, before the restart
    # The same answer as the events give, worked out without keeping anything.
    computed, _, cache = read(ledger_path, store, hdr["read"], keep_answers=False)
    assert cache.misses == 1 and again == computed == first
    # And by hand: 12 calls of gpt-4o-mini, input 1000+i tokens, 200 output tokens each, at
    # USD 0.15 and 0.60 per million (OpenAI's price list): (12*1000 + 66) * 0.15e-6 +
    # 12 * 200 * 0.60e-6 = 0.0018099 + 0.00144 = 0.0032499, shown to 6 places (docs).
    assert Decimal(again["total_cost"]) == Decimal("0.003250")


def test_a_late_event_retires_the_kept_answer(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    before, _, _ = read(ledger_path, store, hdr["read"])
    # A call of the day before, arriving late: 1M input tokens at USD 0.15 per million.
    late = event(100, ts=T0 - dt.timedelta(days=1), input_tokens=1_000_000, output_tokens=0)
    add(ledger_path, [late])
    after, headers, cache = read(ledger_path, store, hdr["read"], kept_stale_s=0)
    assert cache.kept_hits == 0 and cache.misses == 1  # computed from the events again
    assert headers["x-unitecon-fresh"] == "true"
    assert Decimal(after["total_cost"]) - Decimal(before["total_cost"]) == Decimal("0.15")
    # The new answer is kept in turn.
    _, _, cache = read(ledger_path, store, hdr["read"])
    assert cache.kept_hits == 1


def test_after_a_write_a_recent_kept_answer_is_served_stale_then_refreshed(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    """A restart of a service that receives spans: the ledger has moved a little since the
    answers were kept. They are served at once, marked stale, and worked out again."""
    before, _, _ = read(ledger_path, store, hdr["read"])
    late = event(100, ts=T0 - dt.timedelta(days=1), input_tokens=1_000_000, output_tokens=0)
    add(ledger_path, [late])
    app = create_app(ledger_path, keys=store, settings=Settings(prewarm=False))
    with TestClient(app) as client:
        stale = client.get(URL, headers=hdr["read"])
        assert stale.json() == before
        assert stale.headers["x-unitecon-fresh"] == "false"
        assert stale.headers["x-unitecon-generation"] == "-1"  # before this service started
        cache: ReadCache = client.app.state.read_cache  # type: ignore[attr-defined]
        assert cache.kept_hits == 1 and cache.misses == 0
        # The command line beside the service asks with `no-cache` (cli/session.py): it
        # never gets the stale answer, whatever was kept.
        own = client.get(URL, headers={**hdr["read"], "Cache-Control": "no-cache"})
        assert own.headers["x-unitecon-fresh"] == "true"
        assert Decimal(own.json()["total_cost"]) - Decimal(before["total_cost"]) == Decimal("0.15")
        assert cache.wait_idle(60)  # the background refresh
        fresh = client.get(URL, headers=hdr["read"])
        assert fresh.headers["x-unitecon-fresh"] == "true"
        assert Decimal(fresh.json()["total_cost"]) - Decimal(before["total_cost"]) == Decimal(
            "0.15"
        )
    # Too old to stand in (kept_stale_s): the first read is worked out from the events.
    add(ledger_path, [event(101, ts=T0 - dt.timedelta(days=2), input_tokens=1_000_000)])
    _, headers, cache = read(ledger_path, store, hdr["read"], kept_stale_s=0)
    assert (cache.kept_hits, headers["x-unitecon-fresh"]) == (0, "true")


def test_a_resent_event_retires_it_too_and_the_answer_stays(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    before, _, _ = read(ledger_path, store, hdr["read"])
    add(ledger_path, [event(3)])  # sent again: the ledger keeps one copy (idempotent)
    after, _, cache = read(ledger_path, store, hdr["read"], kept_stale_s=0)
    assert cache.kept_hits == 0 and cache.misses == 1
    assert after == before


def test_another_project_never_gets_the_kept_answer(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    full, _, _ = read(ledger_path, store, hdr["read"])
    half_off = Project(pricing=PricingConfig(discounts=[Discount(percent=Decimal(50))]))
    half, _, cache = read(ledger_path, store, hdr["read"], project=half_off)
    assert cache.kept_hits == 0
    assert Decimal(half["total_cost"]) * 2 == Decimal(full["total_cost"])


def test_kept_answers_of_other_code_are_never_read(tmp_path: Path) -> None:
    kept = KeptAnswers(tmp_path / KEPT_FILE)
    kept.save("k", b"v", 1.0, "s")
    assert kept.load("k") == (b"v", 1.0, "s")
    other = KeptAnswers(tmp_path / KEPT_FILE)
    other.scope = "another unitecon"
    assert other.load("k") is None
    KeptAnswers(tmp_path / KEPT_FILE).save("k2", b"w", 2.0, "s")
    other.__init__(tmp_path / KEPT_FILE)  # type: ignore[misc]  # a new version starts: old ones go
    assert len(other) == 2  # (same code here: both stay)


def test_a_stamp_that_moved_means_computing_again(tmp_path: Path) -> None:
    stamp, calls = ["a"], []

    def compute() -> Any:
        calls.append(1)
        return pack(Project())

    def cache(stale_s: float = 3600.0) -> ReadCache:
        kept = KeptAnswers(tmp_path / KEPT_FILE)
        return ReadCache(
            background=False,
            kept=kept,
            stamp=lambda: stamp[0],
            kept_stale_s=stale_s,
            min_interval_s=0.0,
        )

    cache().get("k", compute)
    c = cache()
    c.get("k", compute)
    assert (len(calls), c.kept_hits) == (1, 1)
    stamp[0] = "b"  # the ledger or the catalog changed
    c = cache()
    a = c.get("k", compute)
    assert (len(calls), c.kept_hits, a.fresh, a.generation) == (1, 1, False, -1)
    assert c.run_pending() == 1  # a reader asked: refreshed
    assert (len(calls), c.get("k", compute).fresh) == (2, True)
    stamp[0] = "c"
    c = cache(stale_s=0)  # no stale answer stands in: computed first
    assert c.get("k", compute).fresh and (len(calls), c.kept_hits) == (3, 0)


def test_an_unusable_file_only_costs_the_keeping(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    (ledger_path.parent / KEPT_FILE).write_bytes(b"not a database" * 100)
    first, _, cache = read(ledger_path, store, hdr["read"])
    again, _, cache = read(ledger_path, store, hdr["read"])
    assert again == first and cache.misses == 1 and cache.kept_hits == 0


def test_every_kind_of_answer_is_kept(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]], make_event: Any
) -> None:
    """A rendered body (costs), a model (unit metrics) and a list of models (prices missing)."""
    add(ledger_path, [make_event(50, provider="acme", model="no-such-model")])
    for url in ("/api/v1/metrics/units?by=feature", "/api/v1/prices/missing"):
        first, _, _ = read(ledger_path, store, hdr["read"], url=url)
        again, _, cache = read(ledger_path, store, hdr["read"], url=url)
        assert (cache.kept_hits, cache.misses) == (1, 0), url
        assert again == first
    assert [m["model"] for m in first] == ["no-such-model"]
    # None missing: an empty list is an answer too (kept, not computed again).
    window = "/api/v1/prices/missing?until=2026-03-01"
    first, _, _ = read(ledger_path, store, hdr["read"], url=window)
    again, _, cache = read(ledger_path, store, hdr["read"], url=window)
    assert first == again == [] and (cache.kept_hits, cache.misses) == (1, 0)


WRITES = st.sampled_from(["late", "resent", "none"])


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    tokens=st.lists(st.integers(0, 5_000_000), min_size=1, max_size=6),
    writes=st.lists(WRITES, min_size=1, max_size=3),
    late_tokens=st.integers(1, 5_000_000),
)
def test_a_kept_answer_is_always_the_events_answer(
    tmp_path_factory: Any, tokens: list[int], writes: list[str], late_tokens: int
) -> None:
    """On randomized ledgers and sequences of writes between restarts, the first read of a
    restarted service is the answer computed from the events with nothing kept whenever it
    is marked current, and it is marked stale only after a write."""
    d = tmp_path_factory.mktemp("kept")
    rows = [event(i, input_tokens=t, customer_id=f"c{i % 2}") for i, t in enumerate(tokens)]
    path = build_ledger(d / "ledger.duckdb", rows)
    store = KeyStore(d / "keys.sqlite")
    h = {"Authorization": f"Bearer {store.create('read', 'p')[0]}"}
    url = "/api/v1/costs?by=customer,model"
    read(path, store, h, url=url)
    for n, w in enumerate(writes):
        if w == "late":
            add(path, [event(1000 + n, ts=T0 - dt.timedelta(days=n + 1), input_tokens=late_tokens)])
        elif w == "resent":
            add(path, [rows[0]])
        got, headers, cache = read(path, store, h, url=url)
        events, _, _ = read(path, store, h, url=url, keep_answers=False)
        assert cache.kept_hits == 1  # each start answers from what the one before kept
        if headers["x-unitecon-fresh"] == "true":
            assert got == events  # an answer served as current is the events' answer
        else:
            assert w != "none"  # marked stale only after a write
        # Never both stale and silent: an answer that differs is marked.
        assert got == events or headers["x-unitecon-fresh"] == "false"
        # With nothing served stale, the first read is always the events' answer.
        exact, _, _ = read(path, store, h, url=url, kept_stale_s=0)
        assert exact == events


def test_the_store_is_bounded_in_rows_and_bytes(tmp_path: Path) -> None:
    kept = KeptAnswers(tmp_path / KEPT_FILE, max_rows=5, max_bytes=4000)
    for i in range(16):  # pruned at the 16th save: the five most recent are left
        kept.save(f"k{i}", b"x" * 100, float(i), "s")
    assert len(kept) == 5 and kept.load("k15") is not None and kept.load("k10") is None
    kept.save("big", b"x" * 1001, 1.0, "s")  # over a quarter of max_bytes: not kept
    assert kept.load("big") is None
    for i in range(16):  # 900-byte answers: at most four fit in 4000 bytes
        kept.save(f"m{i}", b"y" * 900, float(i), "s")
    assert len(kept) == 4 and kept.load("m15") is not None
