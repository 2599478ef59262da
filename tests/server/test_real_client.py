"""A real client: the OpenTelemetry SDK's OTLP/HTTP exporter sends GenAI spans (agent trees
included) to a running server on loopback; the costs the read API then reports equal those of
pricing the same spans from a file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from unitecon.economics.costs import costs_by
from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger
from unitecon.pricing import priced_events
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore

TASKS = 4


def chat(tracer: Any, model: str, tokens: int, cached: int = 0) -> None:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": tokens,
        "gen_ai.usage.cache_read.input_tokens": cached,
        "gen_ai.usage.output_tokens": tokens // 10,
    }
    with tracer.start_as_current_span(f"chat {model}", attributes=attrs):
        pass


def agent(tracer: Any, name: str) -> Any:
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name}
    return tracer.start_as_current_span(f"invoke_agent {name}", attributes=attrs)


def emit(tracer: Any) -> None:
    """Per task: supervisor -> (chat, tool, researcher -> (2 chats)); plus one lone call."""
    for i in range(TASKS):
        with agent(tracer, "supervisor"):
            chat(tracer, "gpt-4o", 2000 + i, cached=500)
            tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
            with tracer.start_as_current_span("execute_tool search", attributes=tool):
                pass
            with agent(tracer, "researcher"):
                chat(tracer, "gpt-4o-mini", 8000)
                chat(tracer, "gpt-4o-mini", 3000 + i)
    chat(tracer, "gpt-4.1", 1234)
    bad = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
           "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": -3}  # fmt: skip
    with tracer.start_as_current_span("chat gpt-4o", attributes=bad):
        pass


def file_costs(spans: Any, tmp_path: Path) -> dict[str, Decimal]:
    """The same spans, written as an OTLP protobuf file and priced through the file reader."""
    path = tmp_path / "spans.pb"
    path.write_bytes(encode_spans(spans).SerializeToString())
    with Ledger(tmp_path / "file.duckdb") as ledger:
        ledger.ingest(str(path), read_path(path, "otlp-proto"))
        rows = costs_by(priced_events(ledger), ["model"])
    return {r["model"]: r["cost"] for r in rows}


def test_sdk_exporter_to_running_server(tmp_path: Path, serve: Any) -> None:
    store = KeyStore(tmp_path / "keys.sqlite")
    ingest, _ = store.create("ingest", "sdk")
    read, _ = store.create("read", "test")
    # As `unitecon serve` runs it: decoder processes where there are 2 cores or more.
    settings = Settings(decode_processes=Settings.default_decode_processes())
    app = create_app(tmp_path / "server.duckdb", keys=store, settings=settings)
    memory = InMemorySpanExporter()
    with serve(app) as url:
        exporter = OTLPSpanExporter(
            endpoint=f"{url}/v1/traces",
            headers={"authorization": f"Bearer {ingest}"},
            compression=Compression.Gzip,
        )
        resource = Resource.create({"service.name": "helpdesk", "unitecon.feature": "support"})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=7))
        provider.add_span_processor(SimpleSpanProcessor(memory))
        emit(provider.get_tracer("test"))
        assert provider.force_flush(30_000)
        provider.shutdown()

        # no-cache: read our own writes (the answer prewarmed at start predates them)
        h = {"Authorization": f"Bearer {read}", "Cache-Control": "no-cache"}
        with httpx.Client(base_url=url, headers=h, timeout=300) as client:
            got = client.get("/api/v1/costs", params={"by": "model"}).json()
            tasks = client.get("/api/v1/tasks", params={"limit": 10}).json()
            tree_id = next(t["task"] for t in tasks["rows"] if t["agents"] == 2)
            tree = client.get(f"/api/v1/tasks/{tree_id}").json()
            quarantine = client.get("/api/v1/quarantine").json()
            page = client.get("/tasks")

    spans = memory.get_finished_spans()
    want = file_costs(spans, tmp_path)
    by_model = {r["dims"]["model"]: Decimal(r["cost"]) for r in got["rows"]}
    # JSON money is rounded half-even to the micro-dollar (docs/metrics.md)
    micro = Decimal("0.000001")
    assert by_model == {k: v.quantize(micro) for k, v in want.items()}
    assert all(v > 0 for k, v in want.items() if k)
    assert Decimal(got["total_cost"]) == sum(want.values()).quantize(micro)
    assert sum(r["events"] for r in got["rows"]) == len(spans) - 1  # the bad span is out

    root = tree["roots"][0]
    assert root["label"] == "invoke_agent supervisor"
    researcher = next(c for c in root["children"] if c["operation"] == "invoke_agent")
    assert len(researcher["children"]) == 2
    assert Decimal(tree["cost"]) == Decimal(root["inclusive_cost"]) > 0
    assert tree["calls"] == 4  # 3 chats + the tool; agents are structure

    assert quarantine["total"] == 1 and "input_tokens" in quarantine["records"][0]["reason"]
    assert page.status_code == 200 and "Agents &amp; tasks" in page.text
