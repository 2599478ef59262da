"""One JSON error shape for the whole API (locked here), and OTLP's protobuf Status.

Every 4xx/5xx is `{"error": {"status", "code", "message", "details"}}` with `status` equal to
the HTTP status; a protobuf OTLP request gets a protobuf `google.rpc.Status` instead.
"""

from __future__ import annotations

import gzip
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.rpc import status_pb2

from unitecon.server.app import Settings
from unitecon.server.errors import Overloaded

SHAPE = {"status", "code", "message", "details"}
JSON = {"Content-Type": "application/json"}
PROTO = {"Content-Type": "application/x-protobuf"}


def assert_shape(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == SHAPE
    assert err["status"] == status and err["code"] == code
    assert isinstance(err["message"], str) and len(err["message"]) > 10
    assert isinstance(err["details"], list)
    return dict(err)


@pytest.fixture
def settings() -> Settings:
    return Settings(max_body_bytes=4096)


def test_401(client: TestClient) -> None:
    assert_shape(client.get("/api/v1/costs"), 401, "unauthorized")


def test_403(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    err = assert_shape(client.get("/api/v1/costs", headers=hdr["ingest"]), 403, "forbidden")
    assert "needs a read or admin key" in err["message"]


def test_404(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    assert_shape(client.get("/api/v1/nope", headers=hdr["read"]), 404, "not_found")


def test_405(client: TestClient) -> None:
    assert_shape(client.get("/v1/traces"), 405, "method_not_allowed")


def test_413_declared_and_streamed(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    h = {**hdr["ingest"], **JSON}
    err = assert_shape(
        client.post("/v1/traces", content=b"x" * 5000, headers=h), 413, "payload_too_large"
    )
    assert "4,096 bytes" in err["message"]

    def chunks() -> Any:
        for _ in range(10):
            yield b"y" * 1000

    assert_shape(client.post("/v1/traces", content=chunks(), headers=h), 413, "payload_too_large")


def test_413_gzip_bomb(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    bomb = gzip.compress(b"{" + b" " * 1_000_000 + b"}")
    assert len(bomb) < 4096
    h = {**hdr["ingest"], **JSON, "Content-Encoding": "gzip"}
    err = assert_shape(client.post("/v1/traces", content=bomb, headers=h), 413, "payload_too_large")
    assert "decompressed" in err["message"]


def test_415_type_and_encoding(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    h = {**hdr["ingest"], "Content-Type": "text/plain"}
    err = assert_shape(
        client.post("/v1/traces", content=b"{}", headers=h), 415, "unsupported_media_type"
    )
    assert "application/x-protobuf" in err["message"]
    h = {**hdr["ingest"], **JSON, "Content-Encoding": "br"}
    assert_shape(client.post("/v1/traces", content=b"{}", headers=h), 415, "unsupported_media_type")
    h = {**hdr["ingest"], "Content-Type": "text/csv"}
    assert_shape(
        client.post("/api/v1/events", content=b"a,b", headers=h), 415, "unsupported_media_type"
    )


def test_422_body_and_params(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    h = {**hdr["ingest"], **JSON, "Content-Encoding": "gzip"}
    assert_shape(client.post("/v1/traces", content=b"not gzip", headers=h), 422, "invalid_body")
    r = client.get("/api/v1/costs?since=yesterday", headers=hdr["read"])
    err = assert_shape(r, 422, "invalid_request")
    assert err["details"] and err["details"][0]["loc"] == "query.since"
    r = client.get("/api/v1/costs?since=2026-03-05&until=2026-03-01", headers=hdr["read"])
    assert_shape(r, 422, "invalid_body")


def test_503_overloaded_has_retry_after(
    client: TestClient, hdr: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def full(*a: Any) -> Any:
        raise Overloaded("The ingest queue is full (9 spans waiting to be written).")

    writer = client.app.state.writer  # type: ignore[attr-defined]
    monkeypatch.setattr(writer, "_submit", full)
    one_span = SimpleNamespace(candidates=SimpleNamespace(num_rows=1))
    monkeypatch.setattr("unitecon.server.otlp.decode_otlp", lambda *a: one_span)
    r = client.post("/v1/traces", content=b"{}", headers={**hdr["ingest"], **JSON})
    assert_shape(r, 503, "overloaded")
    assert r.headers["retry-after"] == "1"
    r = client.post("/v1/traces", content=b"", headers={**hdr["ingest"], **PROTO})
    assert r.status_code == 503 and r.headers["retry-after"] == "1"


def test_otlp_protobuf_errors_are_rpc_status(client: TestClient) -> None:
    r = client.post("/v1/traces", content=b"", headers=PROTO)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/x-protobuf"
    status = status_pb2.Status.FromString(r.content)
    assert status.code == 16 and "No API key" in status.message
