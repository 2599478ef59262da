"""The OTLP/HTTP receiver: protobuf and JSON, gzip or plain, partial success, idempotence."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts

from unitecon.server.app import Settings

TRACE = "5b8efff798038103d269b633813fc60c"
#: Both decoding paths: in the server process (the writer validates queued requests
#: together) and in a decoder process (decoded and validated there: `unitecon serve`).
BOTH_PATHS = pytest.mark.parametrize(
    "settings",
    [Settings(prewarm=False), Settings(prewarm=False, decode_processes=1)],
    ids=["in-process", "decoder-process"],
)


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def span(span_id: str, parent: str | None, op: str, **attrs: Any) -> dict[str, Any]:
    a = [
        attr("gen_ai.operation.name", op),
        *(attr(k.replace("__", "."), v) for k, v in attrs.items()),
    ]
    s = {
        "traceId": TRACE,
        "spanId": span_id,
        "name": op,
        "kind": 3,
        "startTimeUnixNano": "1772442000000000000",
        "endTimeUnixNano": "1772442001500000000",
        "attributes": a,
    }
    if parent:
        s["parentSpanId"] = parent
    return s


def request(spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        attr("service.name", "checkout"),
                        attr("unitecon.customer.id", "acme"),
                    ]
                },
                "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
            }
        ]
    }


def chat(span_id: str, parent: str | None, tokens: int) -> dict[str, Any]:
    return span(
        span_id,
        parent,
        "chat",
        gen_ai__provider__name="openai",
        gen_ai__request__model="gpt-4o-mini",
        gen_ai__usage__input_tokens=tokens,
        gen_ai__usage__output_tokens=50,
    )


GOOD = request(
    [
        span("eee19b7ec3c1b174", None, "invoke_agent", gen_ai__agent__name="planner"),
        chat("eee19b7ec3c1b175", "eee19b7ec3c1b174", 1200),
        chat("eee19b7ec3c1b176", "eee19b7ec3c1b174", 800),
    ]
)
BAD = request(
    [
        chat("eee19b7ec3c1b177", None, 1000),
        span(
            "eee19b7ec3c1b178",
            None,
            "chat",
            gen_ai__provider__name="openai",
            gen_ai__request__model="gpt-4o-mini",
            gen_ai__usage__input_tokens=-5,
        ),
    ]
)


def to_proto(doc: dict[str, Any]) -> bytes:
    """The same request in protobuf (ids converted from OTLP-JSON hex)."""
    d = json.loads(json.dumps(doc))
    for rs in d["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in s:
                        import base64

                        s[k] = base64.b64encode(bytes.fromhex(s[k])).decode()
    msg = json_format.ParseDict(d, ts.ExportTraceServiceRequest())
    return bytes(msg.SerializeToString())


@pytest.mark.parametrize("encoding", ["json", "protobuf"])
@pytest.mark.parametrize("gz", [False, True])
def test_receive_ok(
    client: TestClient, hdr: dict[str, dict[str, str]], encoding: str, gz: bool
) -> None:
    body = json.dumps(GOOD).encode() if encoding == "json" else to_proto(GOOD)
    ct = "application/json" if encoding == "json" else "application/x-protobuf"
    h = {**hdr["ingest"], "Content-Type": ct}
    if gz:
        body, h["Content-Encoding"] = gzip.compress(body), "gzip"
    r = client.post("/v1/traces", content=body, headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(ct)
    if encoding == "json":
        assert r.json() == {}
    else:
        assert not ts.ExportTraceServiceResponse.FromString(r.content).HasField("partial_success")
    writer = client.app.state.writer  # type: ignore[attr-defined]
    assert writer.caught_up(10) and writer.stats.rows_written == 3
    r2 = client.post("/v1/traces", content=body, headers=h)  # an exporter retry
    assert r2.status_code == 200
    q = client.get(f"/api/v1/tasks/{TRACE}", headers=hdr["read"]).json()
    assert q["calls"] == 2 and q["roots"][0]["operation"] == "invoke_agent"
    assert len(q["roots"][0]["children"]) == 2


@BOTH_PATHS
@pytest.mark.parametrize("encoding", ["json", "protobuf"])
def test_partial_success_quarantines(
    client: TestClient, hdr: dict[str, dict[str, str]], encoding: str
) -> None:
    body = json.dumps(BAD).encode() if encoding == "json" else to_proto(BAD)
    ct = "application/json" if encoding == "json" else "application/x-protobuf"
    r = client.post("/v1/traces", content=body, headers={**hdr["ingest"], "Content-Type": ct})
    assert r.status_code == 200, r.text
    if encoding == "json":
        ps = r.json()["partialSuccess"]
        rejected, message = int(ps["rejectedSpans"]), ps["errorMessage"]
    else:
        msg = ts.ExportTraceServiceResponse.FromString(r.content).partial_success
        rejected, message = msg.rejected_spans, msg.error_message
    assert rejected == 1
    assert "eee19b7ec3c1b178" in message and "unitecon quarantine" in message
    q = client.get("/api/v1/quarantine", headers=hdr["read"]).json()
    assert q["total"] == 1 and q["records"][0]["location"].endswith("#eee19b7ec3c1b178")


@BOTH_PATHS
@pytest.mark.parametrize(
    ("ct", "body"),
    [("application/json", b"{not json"), ("application/x-protobuf", b"\xff\xff\xff\xff")],
)
def test_undecodable_body_is_422_and_not_stored(
    client: TestClient, hdr: dict[str, dict[str, str]], ct: str, body: bytes
) -> None:
    r = client.post("/v1/traces", content=body, headers={**hdr["ingest"], "Content-Type": ct})
    assert r.status_code == 422
    q = client.get("/api/v1/quarantine", headers=hdr["read"]).json()
    assert q["total"] == 0
