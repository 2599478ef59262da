"""OTLP: the same spans as protobuf and as hand-written OTLP/HTTP JSON give identical events."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
from opentelemetry.proto.common.v1 import common_pb2 as cm
from opentelemetry.proto.trace.v1 import trace_pb2 as tr

from unitecon.ingest import decode_request, detect_format

TRACE = "5b8efff798038103d269b633813fc60c"
ROOT, LLM, HTTP = "eee19b7ec3c1b174", "eee19b7ec3c1b173", "eee19b7ec3c1b172"
START = 1_740_823_200_000_000_000  # 2025-03-01T10:00:00Z in ns

# (span id, parent, name, status code, attributes)
SPANS: list[tuple[str, str, str, int, dict[str, Any]]] = [
    (
        ROOT,
        "",
        "invoke_agent support",
        0,
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"},
    ),
    (
        LLM,
        ROOT,
        "chat gpt-4o",
        2,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 300,
            "gen_ai.usage.reasoning.output_tokens": 100,
            "gen_ai.response.time_to_first_chunk": 0.25,
            "gen_ai.agent.name": "support",
            "unitecon.customer.id": "acme",
            "gen_ai.input.messages": "[secret prompt]",
            "gen_ai.response.finish_reasons": ["stop", "length"],
            "app.flags": {"beta": True},
        },
    ),
    (HTTP, ROOT, "GET /", 0, {"http.method": "GET"}),
]
RESOURCE = {
    "service.name": "bot",
    "deployment.environment.name": "prod",
    "unitecon.customer.id": "resource-loses",
}


def _pb_value(v: Any) -> cm.AnyValue:
    if isinstance(v, bool):
        return cm.AnyValue(bool_value=v)
    if isinstance(v, int):
        return cm.AnyValue(int_value=v)
    if isinstance(v, float):
        return cm.AnyValue(double_value=v)
    if isinstance(v, list):
        return cm.AnyValue(array_value=cm.ArrayValue(values=[_pb_value(x) for x in v]))
    if isinstance(v, dict):
        return cm.AnyValue(kvlist_value=cm.KeyValueList(values=_pb_attrs(v)))
    return cm.AnyValue(string_value=v)


def _pb_attrs(d: dict[str, Any]) -> list[cm.KeyValue]:
    return [cm.KeyValue(key=k, value=_pb_value(v)) for k, v in d.items()]


def proto_body() -> bytes:
    spans = [
        tr.Span(
            trace_id=bytes.fromhex(TRACE),
            span_id=bytes.fromhex(sid),
            parent_span_id=bytes.fromhex(parent),
            name=name,
            kind=3,
            start_time_unix_nano=START + i * 1000,
            end_time_unix_nano=START + i * 1000 + 1_500_000_000,
            attributes=_pb_attrs(attrs),
            status=tr.Status(code=code),
        )
        for i, (sid, parent, name, code, attrs) in enumerate(SPANS)
    ]
    req = ts.ExportTraceServiceRequest(
        resource_spans=[
            tr.ResourceSpans(
                resource={"attributes": _pb_attrs(RESOURCE)},
                scope_spans=[tr.ScopeSpans(scope=cm.InstrumentationScope(name="x"), spans=spans)],
            )
        ]
    )
    return req.SerializeToString()


def _js_value(v: Any) -> dict[str, Any]:
    """OTLP/HTTP JSON: intValue as a decimal string, nested arrayValue / kvlistValue."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_js_value(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": _js_attrs(v)}}
    return {"stringValue": v}


def _js_attrs(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _js_value(v)} for k, v in d.items()]


def json_body() -> bytes:
    spans = [
        {
            "traceId": TRACE.upper() if i == 1 else TRACE,
            "spanId": sid,
            "parentSpanId": parent,
            "name": name,
            "kind": 3,
            "startTimeUnixNano": str(START + i * 1000),
            "endTimeUnixNano": START + i * 1000 + 1_500_000_000,  # a number is accepted too
            "attributes": _js_attrs(attrs),
            "status": {"code": code} if code else {},
        }
        for i, (sid, parent, name, code, attrs) in enumerate(SPANS)
    ]
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": _js_attrs(RESOURCE)},
                "scopeSpans": [{"scope": {"name": "x"}, "spans": spans}],
            }
        ]
    }
    return json.dumps(doc).encode()


def test_json_and_protobuf_give_identical_events() -> None:
    a = decode_request(proto_body(), "application/x-protobuf", None, "otlp-http")
    b = decode_request(json_body(), "application/json", None, "otlp-http")
    assert a.rejected == [] and b.rejected == []
    assert a.events.equals(b.events)
    assert a.events.num_rows == 2 and a.skipped == 1 and a.rows_read == 3


def test_span_attributes_map_to_fields() -> None:
    chunk = decode_request(gzip.compress(json_body()), "application/json", "gzip", "rx")
    root, llm = sorted(chunk.events.to_pylist(), key=lambda r: r["parent_span_id"] or "")
    assert root["operation"] == "invoke_agent" and root["task_id"] == TRACE
    assert llm["event_id"] == f"{TRACE}:{LLM}" and llm["source"] == f"rx#{LLM}"
    assert (llm["provider"], llm["model"]) == ("openai", "gpt-4o-2024-08-06")
    assert (
        llm["input_tokens"],
        llm["cache_read_tokens"],
        llm["output_tokens"],
        llm["reasoning_tokens"],
    ) == (1200, 1000, 300, 100)
    assert llm["status"] == "error" and llm["ttft_ms"] == 250.0
    assert llm["duration_ms"] == 1500.0
    assert (llm["customer_id"], llm["environment"], llm["agent"]) == ("acme", "prod", "support")
    assert llm["ts"].isoformat() == "2025-03-01T10:00:00.000001+00:00"  # START + 1000 ns
    # unmapped attributes as strings; mapped keys and message content are not copied
    assert dict(llm["tags"]) == {
        "app.flags": '{"beta": true}',
        "gen_ai.response.finish_reasons": '["stop", "length"]',
        "service.name": "bot",
    }


def test_files_and_bad_spans(tmp_path: Path, read) -> None:
    pb = tmp_path / "t.pb.gz"
    pb.write_bytes(gzip.compress(proto_body()))
    js = tmp_path / "t.json"
    js.write_bytes(json_body())
    assert (detect_format(pb), detect_format(js)) == ("otlp-proto", "otlp-json")
    assert read(pb).events.drop(["source"]).equals(read(js).events.drop(["source"]))
    bad = json.loads(json_body())
    span = bad["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
    span["attributes"][4] = {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "-3"}}
    lines = tmp_path / "lines.json"  # collector file exporter: one request per line
    lines.write_text(json.dumps(bad) + "\n{oops\n")
    res = read(lines)
    assert res.by_location() == {
        f"{lines}#{LLM}": "input_tokens: negative count '-3'",
        f"{lines}:2": "malformed JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    }
    assert len(res.rows) == 1


def test_undecodable_body_is_one_rejection() -> None:
    chunk = decode_request(b"\x00garbage", "application/x-protobuf", "gzip", "rx")
    assert chunk.events.num_rows == 0 and len(chunk.rejected) == 1
    assert chunk.rejected[0].reason.startswith("cannot decode the OTLP request body")
