"""The fast OTLP decoding against its definition.

The readers and the receiver build candidate rows with `proto_rows` / `span_rows` and
`candidate_table` (column by column, resource attributes read once per resource). The
definition stays `candidate` per span and `pa.Table.from_pylist`: these tests hold the two to
the same tables for protobuf and JSON bodies (the load benchmark's spans, the SDK's GenAI
spans with agent trees, the demo's traces, and hand-made tricky spans), to the same events
and rejections (raw text included) after validation, and check the tricky values by hand.
"""

from __future__ import annotations

import base64
import json
import math
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
from opentelemetry.proto.common.v1 import common_pb2 as cm
from opentelemetry.proto.resource.v1 import resource_pb2 as rs
from opentelemetry.proto.trace.v1 import trace_pb2 as tr
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from unitecon.ingest import decode_request
from unitecon.ingest import otlp as o
from unitecon.ingest import validate as v
from unitecon.server.decode import CANDIDATE_SCHEMA, decode_otlp

PB, JS = "application/x-protobuf", "application/json"
SOURCE = "otlp-http"


# -- the definition --------------------------------------------------------------------------------
def spans_of(body: bytes, content_type: str) -> list[o.Span]:
    if content_type == JS:
        return list(o.spans_from_json(json.loads(body)))
    return list(o.spans_from_proto(body))


def reference(spans: list[o.Span], source: str) -> tuple[pa.Table, int]:
    rows = [o.candidate(s, pos, source) for pos, s in enumerate(spans, 1) if o.is_genai(s)]
    return pa.Table.from_pylist(rows, schema=CANDIDATE_SCHEMA), len(spans) - len(rows)


def assert_same(body: bytes, content_type: str) -> pa.Table:
    """decode_otlp (the receiver) and decode_request (the ingest stage) give what the
    definition gives; returns the candidate table."""
    want, skipped = reference(spans_of(body, content_type), SOURCE)
    got = decode_otlp(body, content_type, SOURCE)
    assert got.candidates.schema.equals(CANDIDATE_SCHEMA)
    assert got.candidates.equals(want)
    assert got.candidates.to_pylist() == want.to_pylist()
    assert got.skipped == skipped
    # the ingest stage: validated events and rejections (raw text) as the definition's
    chunk = decode_request(body, content_type, None, SOURCE)
    locate = lambda pos: f"{SOURCE} (span {pos})"  # noqa: E731 (SpanBatcher's)
    events, rejected = v.validate(want, v.Validator(locate=locate), v.connect())
    assert chunk.events.equals(events)
    assert chunk.rejected == rejected
    assert (chunk.skipped, chunk.rows_read) == (skipped, events.num_rows + len(rejected) + skipped)
    return got.candidates


# -- encodings ------------------------------------------------------------------------------------
def json_of(body: bytes) -> bytes:
    """A protobuf request as OTLP/HTTP JSON (hex ids, integer enums, int64 as strings)."""
    doc = json_format.MessageToDict(
        ts.ExportTraceServiceRequest.FromString(body), use_integers_for_enums=True
    )
    for r in doc.get("resourceSpans", []):
        for ss in r.get("scopeSpans", []):
            for s in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        s[key] = base64.b64decode(s[key]).hex()
    return json.dumps(doc).encode()


def proto_of(body: bytes) -> bytes:
    """An OTLP/HTTP JSON request as protobuf."""
    doc = json.loads(body)
    for r in doc.get("resourceSpans", []):
        for ss in r.get("scopeSpans", []):
            for s in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in s:
                        s[key] = base64.b64encode(bytes.fromhex(s[key])).decode()
    req = json_format.ParseDict(doc, ts.ExportTraceServiceRequest())
    return bytes(req.SerializeToString())


def any_value(x: Any) -> cm.AnyValue:
    if x is None:
        return cm.AnyValue()
    if isinstance(x, bool):
        return cm.AnyValue(bool_value=x)
    if isinstance(x, int):
        return cm.AnyValue(int_value=x)
    if isinstance(x, float):
        return cm.AnyValue(double_value=x)
    if isinstance(x, bytes):
        return cm.AnyValue(bytes_value=x)
    if isinstance(x, list):
        return cm.AnyValue(array_value=cm.ArrayValue(values=[any_value(y) for y in x]))
    if isinstance(x, dict):
        return cm.AnyValue(kvlist_value=cm.KeyValueList(values=key_values(list(x.items()))))
    return cm.AnyValue(string_value=x)


def key_values(pairs: list[tuple[str, Any]]) -> list[cm.KeyValue]:
    return [cm.KeyValue(key=k, value=any_value(x)) for k, x in pairs]


# -- data sets ------------------------------------------------------------------------------------
def bench_body(n: int = 512, seed: int = 1) -> bytes:
    """The load benchmark's shape (bench/server.py): 6 span and 2 resource attributes."""
    rng = random.Random(seed)
    models = [("openai", "gpt-4o-mini"), ("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5")]
    spans = []
    for i in range(n):
        provider, model = models[i % 3]
        start = 1_760_000_000_000_000_000 + rng.randrange(10**9, 3600 * 10**9)
        attrs = [
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.provider.name", provider),
            ("gen_ai.request.model", model),
            ("gen_ai.usage.input_tokens", rng.randrange(100, 8000)),
            ("gen_ai.usage.output_tokens", rng.randrange(10, 800)),
            ("unitecon.customer.id", f"c{rng.randrange(200):04d}"),
        ]
        spans.append(
            tr.Span(
                trace_id=(i // 8).to_bytes(16, "big"),
                span_id=(i + 1).to_bytes(8, "big"),
                name=f"chat {model}",
                kind=tr.Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=start,
                end_time_unix_nano=start + rng.randrange(10**8, 5 * 10**9),
                attributes=key_values(attrs),
            )
        )
    resource = rs.Resource(
        attributes=key_values([("service.name", "bench"), ("unitecon.feature", "search")])
    )
    req = ts.ExportTraceServiceRequest(
        resource_spans=[
            tr.ResourceSpans(resource=resource, scope_spans=[tr.ScopeSpans(spans=spans)])
        ]
    )
    return bytes(req.SerializeToString())


def sdk_body() -> bytes:
    """GenAI spans as the OpenTelemetry SDK encodes them: agent trees, tools, a bad span."""
    exporter = InMemorySpanExporter()
    resource = Resource.create(
        {
            "service.name": "agents",
            "deployment.environment.name": "prod",
            "unitecon.feature": "support",
            "team.name": "ai",
            "cloud.region": "eu-west-1",
        }
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    def chat(model: str, tokens: int, **extra: Any) -> None:
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "gen_ai.response.model": model,
            "gen_ai.usage.input_tokens": tokens,
            "gen_ai.usage.cache_read.input_tokens": tokens // 4,
            "gen_ai.usage.output_tokens": tokens // 10,
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.response.time_to_first_chunk": 0.125,
            "unitecon.customer.id": "acme",
            **extra,
        }
        with tracer.start_as_current_span(f"chat {model}", attributes=attrs):
            pass

    for i in range(6):
        agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "supervisor"}
        with tracer.start_as_current_span("invoke_agent supervisor", attributes=agent):
            chat("gpt-4o", 2000 + i, **{"unitecon.task.id": f"t{i}", "unitecon.attempt": i})
            tool = {"gen_ai.tool.name": "search", "gen_ai.tool.call.id": f"call-{i}"}
            with tracer.start_as_current_span("execute_tool search", attributes=tool):
                pass
            with tracer.start_as_current_span("GET /search", attributes={"http.method": "GET"}):
                pass
            sub = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher"}
            with tracer.start_as_current_span("invoke_agent researcher", attributes=sub):
                chat("gpt-4o-mini", 8000, **{"unitecon.accepted": i % 2 == 0})
                chat("gpt-4o-mini", -3)  # rejected: negative count
    provider.shutdown()
    return bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())


TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
RESOURCE: list[tuple[str, Any]] = [
    ("service.name", "svc"),
    ("unitecon.customer.id", "res-customer"),  # the preferred key: beats a span's customer.id
    ("unitecon.feature", "res-feature"),  # the span's own value for the key wins
    ("unitecon.team", "res-team"),  # the span sets the key without a value: hidden
    ("deployment.environment", "staging"),
    ("res.flag", True),
    ("res.none", None),
    ("gen_ai.response.time_to_first_chunk", 2),
    ("app.shadowed", "res"),
    ("app.hidden", "res"),
]
LONG = "x" * 2500 + ' ü "q" \n'
# (span id, parent, name, status code, start, attributes)
TRICKY: list[tuple[bytes, bytes, str, int, int, list[tuple[str, Any]]]] = [
    (
        b"\x00\x00\x00\x00\x00\x00\x00\x01",
        b"",
        'chat gpt-4o ü "quoted"',
        2,
        1_740_823_200_000_000_000,
        [
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.system", "openai"),  # deprecated alias alone
            ("gen_ai.request.model", "gpt-4o"),
            ("gen_ai.response.model", "gpt-4o-2024-08-06"),
            ("gen_ai.usage.prompt_tokens", 1200),
            ("gen_ai.usage.completion_tokens", 300),
            ("customer.id", "span-customer"),
            ("unitecon.feature", "span-feature"),
            ("unitecon.team", None),
            ("team.name", "span-team"),
            ("gen_ai.response.time_to_first_chunk", 0.25),
            ("gen_ai.input.messages", LONG),
            ("gen_ai.response.finish_reasons", ["stop", "length"]),
            ("app.kv", {"b": 1, "a": [True, 2.5], "c": None}),
            ("app.bytes", b"\x01\xff"),
            ("app.shadowed", "span"),
            ("app.hidden", None),
            ("error.type", "timeout"),
            ("unitecon.accepted", True),
            ("unitecon.batch", False),
            ("unitecon.units", 1.5),
            ("app.empty", ""),
            ("app.nan", math.nan),
            ("app.big", 2**63 - 1),
        ],
    ),
    (
        b"\x00\x00\x00\x00\x00\x00\x00\x02",
        b"\x00\x00\x00\x00\x00\x00\x00\x01",
        "text_completion legacy",
        0,
        1_740_823_200_000_001_000,
        [
            ("gen_ai.provider.name", "anthropic"),
            ("gen_ai.system", "ignored"),
            ("gen_ai.usage.input_tokens", 5),
            ("gen_ai.usage.prompt_tokens", 99),
            ("gen_ai.response.time_to_first_chunk", "0.5"),
            ("unitecon.customer.id", "span-wins"),
            ("openai.request.service_tier", "auto"),
            ("gen_ai.openai.request.service_tier", "flex"),
        ],
    ),
    (
        b"\x00\x00\x00\x00\x00\x00\x00\x03",
        b"\x00\x00\x00\x00\x00\x00\x00\x01",
        "execute_tool search",
        0,
        1_740_823_200_000_002_000,
        [("gen_ai.tool.name", "search"), ("unitecon.task.id", "t1")],
    ),
    (b"\x00\x00\x00\x00\x00\x00\x00\x04", b"", "GET /", 0, 1, [("http.method", "GET")]),
    (b"\x00\x00\x00\x00\x00\x00\x00\x05", b"", "weird name", 0, 0, [("unitecon.task.id", "t2")]),
    (b"\x01\x02", b"", "chat bad id", 0, 5, [("gen_ai.operation.name", "chat")]),
    (
        b"\x00\x00\x00\x00\x00\x00\x00\x07",
        b"",
        "chat",
        0,
        7,
        [
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.provider.name", "openai"),
            ("gen_ai.request.model", "gpt-4o"),
            ("gen_ai.usage.input_tokens", -3),  # rejected by the validation
            ("gen_ai.input.messages", LONG),
        ],
    ),
    (
        b"\x00\x00\x00\x00\x00\x00\x00\x08",
        b"",
        "dup",
        0,
        8,
        [
            ("gen_ai.operation.name", "chat"),
            ("app.dup", "first"),
            ("gen_ai.operation.name", "embeddings"),  # a repeated key: the last value wins
            ("gen_ai.response.time_to_first_chunk", 3),
        ],
    ),
    (
        b"\x00\x00\x00\x00\x00\x00\x00\x09",
        b"",
        "chat",
        0,
        9,
        [("gen_ai.operation.name", "chat"), ("gen_ai.response.time_to_first_chunk", True)],
    ),
]


def tricky_body() -> bytes:
    spans = [
        tr.Span(
            trace_id=TRACE if sid != b"\x01\x02" else b"",
            span_id=sid,
            parent_span_id=parent,
            name=name,
            start_time_unix_nano=start,
            end_time_unix_nano=start + 1_500_000_000 if start else 0,
            attributes=key_values(attrs),
            status=tr.Status(code=code),  # type: ignore[arg-type]
        )
        for sid, parent, name, code, start, attrs in TRICKY
    ]
    other = tr.Span(
        trace_id=TRACE,
        span_id=b"\x00\x00\x00\x00\x00\x00\x00\x0a",
        parent_span_id=b"\x00\x00\x00\x00\x00\x00\x00\x01",
        name="embeddings e",
        start_time_unix_nano=10,
        end_time_unix_nano=20,
        attributes=key_values(
            [("gen_ai.operation.name", "embeddings"), ("deployment.environment.name", "prod")]
        ),
    )
    req = ts.ExportTraceServiceRequest(
        resource_spans=[
            tr.ResourceSpans(
                resource=rs.Resource(attributes=key_values(RESOURCE)),
                scope_spans=[tr.ScopeSpans(spans=spans[:4]), tr.ScopeSpans(spans=spans[4:])],
            ),
            tr.ResourceSpans(resource=rs.Resource(), scope_spans=[tr.ScopeSpans(spans=[other])]),
        ]
    )
    return bytes(req.SerializeToString())


@pytest.fixture(scope="module")
def demo_bodies(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The demo's OTLP JSON files (agent trees, 10 resource attributes)."""
    from unitecon.demo.generate import generate

    files = generate(tmp_path_factory.mktemp("demo"), days=7, customers=10)
    return [p.read_bytes() for p in files.otlp]


# -- sameness -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [bench_body, sdk_body, tricky_body])
def test_protobuf_and_json_decode_as_the_definition(make: Any) -> None:
    body = make()
    a = assert_same(body, PB)
    b = assert_same(json_of(body), JS)
    assert a.num_rows > 0 and a.drop(["_error"]).equals(b.drop(["_error"]))  # id messages differ


def test_demo_traces_decode_as_the_definition(demo_bodies: list[bytes]) -> None:
    rows = 0
    for body in demo_bodies[:3]:
        rows += assert_same(body, JS).num_rows
        assert_same(proto_of(body), PB)
    assert rows > 100


def test_files_read_as_the_definition(demo_bodies: list[bytes], tmp_path: Path) -> None:
    """The file readers (SpanBatcher) give the events and rejections the definition gives."""
    bodies = [*demo_bodies[:2], json_of(tricky_body()), json_of(sdk_body())]
    lines = tmp_path / "spans.jsonl"
    lines.write_bytes(b"\n".join(json.dumps(json.loads(b)).encode() for b in bodies) + b"\n")
    pb = tmp_path / "spans.pb"
    req = ts.ExportTraceServiceRequest()
    for b in bodies:
        req.MergeFromString(proto_of(b))
    pb.write_bytes(req.SerializeToString())
    for path, read, spans in (
        (lines, o.read_otlp_json, [s for b in bodies for s in spans_of(b, JS)]),
        (pb, o.read_otlp_proto, spans_of(pb.read_bytes(), PB)),
    ):
        (chunk,) = list(read(path))
        want, skipped = reference(spans, str(path))
        locate = lambda pos, p=path: f"{p} (span {pos})"  # noqa: E731
        events, rejected = v.validate(want, v.Validator(locate=locate), v.connect())
        assert chunk.events.equals(events) and chunk.rejected == rejected
        assert len(rejected) >= 2 and chunk.skipped == skipped > 0


def test_valid_spans_never_need_the_definition(
    demo_bodies: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`span_rows` hands a span to `candidate` only for what OTLP does not allow."""

    def boom(*_: Any) -> dict[str, Any]:
        raise AssertionError("the fast path fell back to candidate()")

    monkeypatch.setattr(o, "candidate", boom)
    for body in [demo_bodies[0], json_of(tricky_body()), json_of(sdk_body())]:
        assert list(o.span_rows(spans_of(body, JS)))
        assert list(o.proto_rows(o.parse_proto(proto_of(body))))


# -- JSON that OTLP does not allow: the same values, or the same error --------------------------
def _json_request(attrs: list[dict[str, Any]], resource: list[dict[str, Any]]) -> bytes:
    span = {
        "traceId": TRACE.hex().upper(),  # ids are read case-insensitively
        "spanId": "00000000000000AA",
        "name": "chat",
        "startTimeUnixNano": 5,  # a number is accepted too
        "endTimeUnixNano": "7",
        "attributes": [{"key": "gen_ai.operation.name", "value": {"intValue": 3}}, *attrs],
    }
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": resource},
                "instrumentationLibrarySpans": [{"spans": [span, {"spanId": "zz"}]}],
            }
        ]
    }
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("attrs", "resource"),
    [
        ([{"key": 5}], []),  # a key that is not a string, without a value: kept in _raw
        ([], [{"key": 5}, {"key": "service.name", "value": {"stringValue": "s"}}]),
        ([{"key": 5, "value": {"stringValue": "a"}}], []),
        ([{"key": 5, "value": {"stringValue": "a"}}, {"key": "z", "value": {}}], []),
        (
            [
                {"key": "z", "value": {"stringValue": "b"}},
                {"key": None, "value": {"stringValue": "a"}},
            ],
            [],
        ),
        ([], [{"key": 5, "value": {"boolValue": True}}]),
        (
            [
                {
                    "key": "app.kv",
                    "value": {
                        "kvlistValue": {
                            "values": [
                                {"key": 1, "value": {"intValue": "1"}},
                                {"key": "a", "value": {"intValue": "2"}},
                            ]
                        }
                    },
                }
            ],
            [],
        ),
        ([{"key": "app.kv", "value": {"kvlistValue": {"values": [{"key": 1}]}}}], []),
        ([], [{"key": "unitecon.team", "value": {"kvlistValue": {"values": [{"key": 1}]}}}]),
    ],
)
def test_json_outside_otlp_decodes_or_fails_as_the_definition(
    attrs: list[dict[str, Any]], resource: list[dict[str, Any]]
) -> None:
    body = _json_request(attrs, resource)
    try:
        want: Any = reference(spans_of(body, JS), SOURCE)
    except Exception as e:
        want = type(e)
    try:
        d = decode_otlp(body, JS, SOURCE)
        got: Any = (d.candidates, d.skipped)
    except Exception as e:
        got = type(e)
    if isinstance(want, type):
        assert got is want
    else:
        assert got[0].equals(want[0]) and got[1] == want[1]


# -- the values, by hand --------------------------------------------------------------------------
def test_tricky_values() -> None:
    body = tricky_body()
    for table in (decode_otlp(body, PB, SOURCE).candidates, assert_same(json_of(body), JS)):
        rows = {r["span_id"]: r for r in table.to_pylist()}
        assert "0000000000000004" not in rows  # GET /: not GenAI, skipped
        llm, legacy, tool = (rows[f"{i:016x}"] for i in (1, 2, 3))
        trace = TRACE.hex()
        assert llm["event_id"] == f"{trace}:0000000000000001" and llm["_pos"] == 1
        assert llm["_loc"] == f"{SOURCE}#0000000000000001" and llm["parent_span_id"] is None
        assert (llm["ts"], llm["duration_ms"]) == ("1740823200000000000", "1500.0")
        assert (llm["provider"], llm["model"]) == ("openai", "gpt-4o-2024-08-06")
        assert (llm["input_tokens"], llm["output_tokens"]) == ("1200", "300")
        # preference first: the resource's unitecon.customer.id beats the span's customer.id;
        # for the same key the span wins, and a span key without a value hides the resource's
        assert llm["customer_id"] == "res-customer" and llm["feature"] == "span-feature"
        assert llm["team"] == "span-team" and llm["environment"] == "staging"
        assert (llm["ttft_ms"], llm["status"], llm["operation"]) == ("250.0", "error", "chat")
        assert (llm["accepted"], llm["batch"], llm["units"]) == ("true", "false", "1.5")
        assert llm["tags"] is None and llm["_error"] is None and llm["_size"] is None
        assert dict(llm["_extra"]) == {
            "app.big": "9223372036854775807",
            "app.bytes": "01ff",
            "app.empty": "",
            "app.kv": '{"a": [true, 2.5], "b": 1, "c": null}',
            "app.nan": "nan",
            "app.shadowed": "span",
            "error.type": "timeout",
            "gen_ai.response.finish_reasons": '["stop", "length"]',
            "res.flag": "true",
            "service.name": "svc",
        }
        assert [k for k, _ in llm["_extra"]] == sorted(dict(llm["_extra"]))
        raw = llm["_raw"]
        assert len(raw) == v.MAX_RAW_CHARS
        assert raw.startswith(
            f'{{"traceId": "{trace}", "spanId": "0000000000000001", "parentSpanId": null, '
            '"name": "chat gpt-4o \\u00fc \\"quoted\\"", "startTimeUnixNano": '
            '1740823200000000000, "endTimeUnixNano": 1740823201500000000, "status": 2, '
            '"attributes": {"gen_ai.operation.name": "chat", "gen_ai.system": "openai", '
        )
        assert '"unitecon.team": null' in raw and '"gen_ai.input.messages": "xxx' in raw
        assert legacy["operation"] == "text_completion" and legacy["provider"] == "anthropic"
        assert (legacy["input_tokens"], legacy["ttft_ms"]) == ("5", "0.5")
        assert (legacy["customer_id"], legacy["service_tier"]) == ("span-wins", "auto")
        assert legacy["parent_span_id"] == "0000000000000001" and legacy["status"] == "ok"
        assert (tool["operation"], tool["task_id"], tool["_pos"]) == ("execute_tool", "t1", 3)
        weird = rows["0000000000000005"]
        # no operation, model or usage: a tree node (`otlp.conventions`), not a call
        assert (weird["operation"], weird["ts"], weird["duration_ms"]) == ("span", None, None)
        assert weird["ttft_ms"] == "2000"  # from the resource
        bad = rows["0102"]
        assert bad["trace_id"] == "" and bad["_error"] is not None
        assert rows["0000000000000008"]["operation"] == "embeddings"
        assert rows["0000000000000008"]["ttft_ms"] == "3000"
        assert (
            '"gen_ai.operation.name": "embeddings", "app.dup": "first"'
            in (rows["0000000000000008"]["_raw"])
        )
        assert rows["0000000000000009"]["ttft_ms"] == "1000"  # True * 1000, as ever
        emb = rows["000000000000000a"]
        assert emb["environment"] == "prod" and emb["_extra"] is None and emb["_pos"] == 10


def test_empty_request() -> None:
    for body, ct in ((b"", PB), (b"{}", JS)):
        d = decode_otlp(body, ct, SOURCE)
        assert d.candidates.num_rows == 0 and d.skipped == 0
        assert d.candidates.equals(CANDIDATE_SCHEMA.empty_table())
