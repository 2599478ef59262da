"""The service under hostile and careless requests (issue 22, items 6, 7, 9, 10, 11): every
client mistake is a 4xx in the shared error shape, never a 500; a connection stays usable
after an error; a slow body is cut off; the read cache has a size bound; /health reports
the disk and the ledger. Ends with a hypothesis fuzz of paths, parameters and bodies."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import time
from collections import namedtuple
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.ledger.store import Ledger
from unitecon.server import health as health_mod
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore
from unitecon.server.cache import ReadCache

JSON = "application/json"


def _span(i: int, **over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "traceId": "0" * 31 + "1",
        "spanId": f"{i:016x}",
        "name": "chat gpt-4o",
        "startTimeUnixNano": "1740823200000000000",
        "endTimeUnixNano": "1740823201000000000",
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
        ],
    }
    s.update(over)
    return s


def _doc(spans: list[dict[str, Any]]) -> bytes:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()


# -- 10. client mistakes are 4xx -----------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b'[{"ts": "\xff"}]',  # invalid UTF-8 in a JSON array
        b"[" * 100_000,  # nested too deep for the parser
    ],
)
def test_events_bodies_that_are_not_json_are_422(
    client: TestClient, hdr: dict[str, dict[str, str]], body: bytes
) -> None:
    r = client.post("/api/v1/events", content=body, headers={**hdr["ingest"], "content-type": JSON})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_body"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/costs?customer=%00",
        "/api/v1/costs?feature=a%1bb",
        "/api/v1/tasks/%00",
        "/api/v1/costs?by=model,model",
        "/api/v1/costs?customer=%ff%fe",
    ],
)
def test_bad_parameters_are_422(
    client: TestClient, hdr: dict[str, dict[str, str]], path: str
) -> None:
    r = client.get(path, headers=hdr["read"])
    assert r.status_code == 422, r.text
    assert set(r.json()["error"]) == {"status", "code", "message", "details"}


# -- 6, 7. OTLP JSON: a bad span costs only itself ---------------------------------------------
def test_otlp_json_bad_span_values_are_per_span(
    client: TestClient, hdr: dict[str, dict[str, str]], ledger_path: Path
) -> None:
    bad = [
        _span(100, startTimeUnixNano="abc"),
        _span(101, attributes=[{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "NaN"}}]),
        _span(102, attributes=[{"key": "x", "value": {"bytesValue": "!!"}}]),
        _span(103, attributes={"not": "a list"}),
    ]
    body = _doc([_span(i) for i in range(1, 6)] + bad)
    r = client.post("/v1/traces", content=body, headers={**hdr["ingest"], "content-type": JSON})
    assert r.status_code == 200
    assert r.json()["partialSuccess"]["rejectedSpans"] == "4"
    q = client.get("/api/v1/quarantine", headers={**hdr["read"], "cache-control": "no-cache"})
    reasons = {x["location"]: x["reason"] for x in q.json()["records"]}
    assert "startTimeUnixNano: expected an integer" in reasons[f"otlp-http#{100:016x}"]
    assert "intValue: expected an integer" in reasons[f"otlp-http#{101:016x}"]


def test_otlp_json_nested_too_deep_is_422(
    client: TestClient, hdr: dict[str, dict[str, str]]
) -> None:
    body = b'{"resourceSpans": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    r = client.post("/v1/traces", content=body, headers={**hdr["ingest"], "content-type": JSON})
    assert r.status_code == 422


# -- 10. the connection stays usable after an error; slow bodies are cut off --------------------
def _app(ledger_path: Path, store: KeyStore, **kw: Any) -> Any:
    app = create_app(ledger_path, keys=store, settings=Settings(prewarm=False, **kw))

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    return app


def test_keep_alive_survives_a_500(ledger_path: Path, store: KeyStore, serve: Any) -> None:
    with serve(_app(ledger_path, store)) as url:
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/boom")
        r = conn.getresponse()
        assert r.status == 500 and json.loads(r.read())["error"]["code"] == "internal_error"
        sock = conn.sock
        conn.request("GET", "/api/v1/health")  # the same connection, not a new one
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read())["status"] in ("ok", "degraded")
        assert conn.sock is sock
        conn.close()


def test_a_stalled_body_is_answered_408(
    ledger_path: Path, store: KeyStore, keys: dict[str, str], serve: Any
) -> None:
    with serve(_app(ledger_path, store, body_timeout_s=1.0)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {keys['ingest']}\r\n".encode()
                + b"Content-Length: 1000\r\n\r\n[{"
            )
            started = time.monotonic()
            reply = s.recv(65536)
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert time.monotonic() - started < 5


# -- 11. /health: disk and ledger ---------------------------------------------------------------
def test_health_reports_disk_and_ledger(client: TestClient) -> None:
    h = client.get("/api/v1/health").json()
    assert h["disk_free_bytes"] > 0 and h["disk_total_bytes"] >= h["disk_free_bytes"]
    assert h["ledger_bytes"] > 0 and h["ledger_ok"] and h["writer_running"]
    assert "ledger.duckdb" not in json.dumps(h)  # no path


def test_health_is_failing_when_the_disk_is_full(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(100 << 30, 100 << 30, 1 << 20))
    r = client.get("/api/v1/health")
    assert r.status_code == 503
    h = r.json()
    assert h["status"] == "failing" and "full" in h["problems"][0]
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(100 << 30, 99 << 30, 512 << 20))
    h = client.get("/api/v1/health").json()
    assert h["status"] == "degraded" and "nearly full" in h["problems"][0]
    assert health_mod.FAILING_FREE_BYTES < 512 << 20 < health_mod.DEGRADED_FREE_BYTES


# -- 9. the read cache has a size bound --------------------------------------------------------
def test_read_cache_is_bounded_in_bytes() -> None:
    cache = ReadCache(max_bytes=1_000, background=False)
    for i in range(10):  # each answer's JSON is 400 bytes: at most 2 fit in 1,000
        cache.get(("q", i), lambda: "x" * 400)
        assert cache.bytes <= 1_000
    assert len(cache) == 2 and cache.bytes == 800
    cache.get("huge", lambda: "y" * 5_000)  # larger than the bound: served, not kept
    assert cache.bytes <= 1_000
    assert "huge" not in cache._entries


# -- the fuzz: no client input gets a 500 -----------------------------------------------------
READ_PATHS = [
    "/api/v1/costs",
    "/api/v1/filters",
    "/api/v1/quarantine",
    "/api/v1/metrics/units",
    "/api/v1/tasks",
    "/api/v1/margins",
    "/api/v1/anomalies",
    "/api/v1/coverage",
    "/api/v1/alerts",
    "/api/v1/prices/missing",
]
PARAMS = ["by", "since", "until", "customer", "feature", "limit", "model", "days", "top"]
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["model,model", "2025-02-30", "-1", "1e400", "%00", "day,feature", ""]),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    ).map(lambda v: json.dumps(v).encode()),
)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.server.conftest import build_ledger, event

    tmp = tmp_path_factory.mktemp("fuzz")
    path = build_ledger(tmp / "ledger.duckdb", [event(i) for i in range(12)])
    store = KeyStore(tmp / "keys.sqlite")
    read = store.create("read", "fuzz")[0]
    ingest = store.create("ingest", "fuzz")[0]
    app = create_app(path, keys=store, settings=Settings(prewarm=False, read_cache=False))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {read}"}, {"Authorization": f"Bearer {ingest}"}
    Ledger(path).close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(READ_PATHS),
    query=st.dictionaries(st.sampled_from(PARAMS), texts, max_size=3),
    post=st.sampled_from(["/api/v1/events", "/v1/traces"]),
    ctype=st.sampled_from([JSON, "application/x-ndjson", "application/x-protobuf", "text/plain"]),
    body=bodies,
)
def test_fuzz_no_request_gets_a_500(
    fuzz_client: Any, path: str, query: dict[str, str], post: str, ctype: str, body: bytes
) -> None:
    c, read, ingest = fuzz_client
    r = c.get(path, params=query, headers=read)
    assert r.status_code < 500, (path, query, r.text[:300])
    r = c.post(post, content=body, headers={**ingest, "content-type": ctype})
    assert r.status_code < 500 or r.status_code == 503, (post, ctype, body[:80], r.text[:300])


def test_a_slow_request_head_is_cut_off(
    ledger_path: Path, store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that connects and sends its headers too slowly (slow loris) is disconnected;
    a normal request on the same server still works."""
    import threading

    import uvicorn
    from tests.server.conftest import free_port

    from unitecon.server import protocol

    monkeypatch.setattr(protocol, "HEADER_TIMEOUT_S", 1.0)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            _app(ledger_path, store),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            http=protocol.TimedHttpToolsProtocol,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # never finished
            started = time.monotonic()
            assert s.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 5
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            time.sleep(0.5)  # idle a little, then a whole request in time
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(30)
