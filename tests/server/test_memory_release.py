"""The service hands the memory its reads freed back to the system (issue 22, item 9).

DuckDB's wheel allocates through its own jemalloc, which kept 0.4-0.7 GiB of freed pages
resident in the service between rounds of dashboard reads (`bench/serve_memory_probe.py`).
`engine.release_memory` purges them; the service calls it after each read.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from unitecon import engine
from unitecon.server import app as app_mod
from unitecon.server.app import Reads, Settings, create_app
from unitecon.server.auth import KeyStore

MIB = 1 << 20


def _rss() -> int:
    """This process's resident memory from the kernel [bytes] (independent of DuckDB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and the wheel's jemalloc")
def test_release_memory_gives_freed_engine_pages_back() -> None:
    con = duckdb.connect()
    con.execute("SET threads = 1")
    engine.release_memory()
    # 20 million BIGINTs: 20e6 * 8 bytes = 160 MB (153 MiB) in the engine's memory
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(20000000)")
    con.execute("DROP TABLE t")  # freed, but the allocator keeps the pages
    before = _rss()
    assert engine.release_memory() is True
    after = _rss()
    # at least 100 of the 153 MiB go back (pages of other allocations may share a few)
    assert before - after >= 100 * MIB, (before / MIB, after / MIB)
    con.close()


def test_reads_release_after_each_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(app_mod.engine, "release_memory", lambda: calls.append(1) or True)
    reads = Reads(cast(Any, None))
    with reads.reading():
        with reads.reading():
            pass
        assert calls == [1]  # the inner read ended: released though another still runs
    assert calls == [1, 1] and reads.releases == 2
    with pytest.raises(ValueError), reads.reading():
        raise ValueError("a failed read")
    assert calls == [1, 1, 1]  # a failed read's memory goes back too
    off = Reads(cast(Any, None), release_memory=False)
    with off.reading():
        pass
    assert calls == [1, 1, 1] and off.releases == 0


def test_a_read_request_releases_the_engine_memory(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    app = create_app(ledger_path, keys=store, settings=Settings(prewarm=False))
    with TestClient(app) as client:
        before = app.state.reads.releases
        r = client.get("/api/v1/costs?by=model", headers=hdr["read"])
        assert r.status_code == 200
        assert app.state.reads.releases == before + 1


def test_answers_are_kept_packed() -> None:
    """The read cache keeps an answer model pickled and compressed (`cache.pack`): its size
    is the packed bytes, and each reader gets back a new, equal, exact model."""
    import pickle
    import zlib

    from unitecon.analysis.answers import CostRow, Costs, Filters
    from unitecon.server.cache import Packed, pack, size_of, unpack

    rows = [
        CostRow(
            dims={"model": f"m{i}"},
            cost=Decimal("0.0000001234"),  # below the micro-dollar: JSON would round it
            events=i,
            input_tokens=10 * i,
            output_tokens=i,
            unpriced_events=0,
        )
        for i in range(500)
    ]
    value = Costs(by=["model"], filters=Filters(), total_cost=Decimal("0.0000617"), rows=rows)
    kept = pack(value)
    assert isinstance(kept, Packed)
    assert pickle.loads(zlib.decompress(kept.data)) == value  # a second path: by hand
    assert size_of(kept) == len(kept.data)
    assert size_of(kept) < len(value.model_dump_json()) / 4  # 500 alike rows compress
    back = unpack(kept)
    assert back == value and back is not value
    assert back.rows[0].cost == Decimal("0.0000001234")  # exact, not rounded

    class Local(BaseModel):  # cannot be pickled (defined in a function): kept as it is
        n: int

    local = Local(n=1)
    assert pack(local) is local and unpack(local) is local
    assert pack("not a model") == "not a model"


def test_the_service_keeps_answers_packed(
    ledger_path: Path, store: KeyStore, hdr: dict[str, dict[str, str]]
) -> None:
    from unitecon.server.cache import Packed

    app = create_app(ledger_path, keys=store, settings=Settings(prewarm=False))
    with TestClient(app) as client:
        # an answer model (costs is kept as its JSON text already: `api.costs`)
        r = client.get("/api/v1/metrics/units?by=feature", headers=hdr["read"])
        assert r.status_code == 200
        again = client.get("/api/v1/metrics/units?by=feature", headers=hdr["read"])
        assert again.json() == r.json()  # a cached answer, unpacked
        (entry,) = app.state.read_cache._entries.values()
        assert isinstance(entry.answer.value, Packed)
        assert entry.size == len(entry.answer.value.data)
        text = client.get("/api/v1/costs?by=model", headers=hdr["read"])
        assert text.status_code == 200
        kept = [e.answer.value for e in app.state.read_cache._entries.values()]
        assert any(isinstance(v, bytes) and v == text.content for v in kept)
