"""Record OpenLLMetry's association properties from a real run, once:
tests/ingest/fixtures/traceloop-sdk-0.62.4-openai-3.51.0.pb.

`traceloop-sdk` 0.62.4 cannot be installed beside the dev extra (its pinned
`opentelemetry-instrumentation-threading` has no release for the SDK's 0.66b2
instrumentation base, and pip finds no solution), so it is run from a separate venv:

    python3 -m venv /tmp/tl && /tmp/tl/bin/pip install opentelemetry-sdk==1.45.2 \
        opentelemetry-exporter-otlp-proto-http==1.45.2 \
        opentelemetry-exporter-otlp-proto-grpc==1.45.2 \
        openai==3.51.0 opentelemetry-instrumentation-openai==0.62.4 aiohttp colorama cuid \
        deprecated jinja2 'opentelemetry-semantic-conventions-ai>=0.5.1,<0.6' pydantic tenacity \
        opentelemetry-instrumentation-logging opentelemetry-instrumentation-threading httpx
    /tmp/tl/bin/pip install --no-deps traceloop-sdk==0.62.4
    /tmp/tl/bin/python tests/ingest/live/record_traceloop.py OUT.pb

The application sets the customer, user and session with
`Traceloop.set_association_properties` inside a `@workflow`; the traceloop SDK copies them
onto the workflow span and the OpenAI call's span as `traceloop.association.properties.*`.
"""

import importlib.metadata as md
import sys
from pathlib import Path

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

sys.path.insert(0, str(Path(__file__).parents[3]))
from tests.ingest.live import fake_provider


def main(out: str) -> None:
    import openai
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import workflow

    exporter = InMemorySpanExporter()
    Traceloop.init(
        app_name="app-openllmetry", exporter=exporter, disable_batch=True, telemetry_enabled=False
    )

    @workflow(name="handle_request")
    def handle(base: str) -> None:
        Traceloop.set_association_properties(
            {"customer_id": "acme", "user_id": "acme-u1", "session_id": "sess-1"}
        )
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="test", max_retries=0)
        msgs = [{"role": "user", "content": "Hi"}]
        client.chat.completions.create(model="gpt-4o-2024-08-06", messages=msgs)  # type: ignore[arg-type]

    with fake_provider.serve() as base:
        handle(base)
    Path(out).write_bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())
    print(md.version("traceloop-sdk"), md.version("openai"))


if __name__ == "__main__":
    main(sys.argv[1])
