"""Fixtures of the service tests: a small ledger, API keys of each kind, a test client."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def event(i: int, **kw: Any) -> dict[str, Any]:
    """A priced-looking chat call; `kw` overrides fields."""
    row: dict[str, Any] = {
        "event_id": f"ev-{i}",
        "ts": T0 + dt.timedelta(hours=i),
        "trace_id": f"{i:032x}",
        "span_id": f"{i:016x}",
        "operation": "chat",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 1000 + i,
        "output_tokens": 200,
        "customer_id": f"cust-{i % 3}",
        "feature": ["search", "support"][i % 2],
        "source": f"test:{i}",
    }
    row.update(kw)
    return row


def build_ledger(path: Path, rows: list[dict[str, Any]]) -> Path:
    with Ledger(path) as ledger:
        ledger.ingest("test", [Chunk(schema.to_table(rows))])
    return path


@pytest.fixture
def make_event() -> Any:
    """The `event(i, **overrides)` row builder."""
    return event


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return build_ledger(tmp_path / "ledger.duckdb", [event(i) for i in range(12)])


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys.sqlite")


@pytest.fixture
def keys(store: KeyStore) -> dict[str, str]:
    return {kind: store.create(kind, f"test {kind}")[0] for kind in ("ingest", "read", "admin")}


@pytest.fixture
def hdr(keys: dict[str, str]) -> dict[str, dict[str, str]]:
    """Kind -> request headers carrying a key of that kind."""
    return {kind: {"Authorization": f"Bearer {key}"} for kind, key in keys.items()}


@pytest.fixture
def settings() -> Settings:
    # No background prewarm of the dashboard's reads: a test that writes and then reads
    # must not race with it (test_read_cache.py tests the prewarm itself).
    return Settings(prewarm=False)


@pytest.fixture
def client(ledger_path: Path, store: KeyStore, settings: Settings) -> Iterator[TestClient]:
    app = create_app(ledger_path, keys=store, settings=settings)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port in a thread; yield its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="session")
def serve() -> Any:
    """`with serve(app) as url:` runs the app on loopback."""
    return live_server
