"""Run the real `openai` / `anthropic` / `google-genai` SDKs (or a `pydantic-ai` agent on them)
against the fake provider under one real
instrumentation and write the spans it exported as one OTLP protobuf file.

    python -m tests.ingest.live.capture SETUP OUT.pb BASE_URL

One set-up per process: instrumentors patch the SDKs globally. The application's own root
span carries the customer (`customer.id`), which the model calls below it must inherit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

OPENAI_MODEL = "gpt-4o-2024-08-06"
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"
GEMINI_MODEL = "gemini-2.5-flash"
CUSTOMER = "acme"
USER = "acme-u1"
SESSION = "sess-1"


def _openai_calls(base: str) -> None:
    import openai

    client = openai.OpenAI(base_url=f"{base}/v1", api_key="test", max_retries=0)
    msgs = [{"role": "user", "content": "Hi"}]
    client.chat.completions.create(model=OPENAI_MODEL, messages=msgs)  # type: ignore[arg-type]
    # A stream sent without include_usage: the provider returns no usage at all.
    for _ in client.chat.completions.create(model=OPENAI_MODEL, messages=msgs, stream=True):  # type: ignore[arg-type]
        pass


def _anthropic_calls(base: str) -> None:
    import anthropic

    client = anthropic.Anthropic(base_url=base, api_key="test", max_retries=0)
    client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
    )


def _gemini_calls(base: str) -> None:
    """A call and a stream through the `google-genai` SDK (Gemini streams carry usage)."""
    from google import genai
    from google.genai import types

    client = genai.Client(api_key="test", http_options=types.HttpOptions(base_url=base))
    client.models.generate_content(model=GEMINI_MODEL, contents="Hi")
    for _ in client.models.generate_content_stream(model=GEMINI_MODEL, contents="Hi"):
        pass


def _pydantic_ai_run(provider: str, base: str) -> None:
    """A pydantic-ai agent answering one question on `provider`'s model."""
    from pydantic_ai import Agent
    from pydantic_ai.models import Model

    model: Model
    if provider == "openai":
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        model = OpenAIChatModel(
            OPENAI_MODEL, provider=OpenAIProvider(base_url=f"{base}/v1", api_key="test")
        )
    elif provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        model = AnthropicModel(
            ANTHROPIC_MODEL, provider=AnthropicProvider(base_url=base, api_key="test")
        )
    else:
        from pydantic_ai.models.google import GoogleModel
        from pydantic_ai.providers.google import GoogleProvider

        model = GoogleModel(GEMINI_MODEL, provider=GoogleProvider(api_key="test", base_url=base))
    Agent(model, name="support", instructions="Be brief.").run_sync("Hi")


def _agent_run(base: str) -> None:
    """An openai-agents agent (Chat Completions) answering one question."""
    import agents
    import openai

    agents.set_default_openai_client(
        openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="test", max_retries=0)
    )
    agents.set_default_openai_api("chat_completions")
    agent = agents.Agent(name="support", instructions="Be brief.", model=OPENAI_MODEL)
    agents.Runner.run_sync(agent, "Hi")


def _instrument(setup: str) -> Callable[[str], None]:
    if setup == "genai-openai":
        from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
        return _openai_calls
    if setup == "openinference-openai":
        from openinference.instrumentation.openai import OpenAIInstrumentor as OI

        OI().instrument()
        return _openai_calls
    if setup == "genai-anthropic":
        from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument()
        return _anthropic_calls
    if setup == "openllmetry-anthropic":
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor as TL

        TL().instrument()
        return _anthropic_calls
    if setup == "openinference-anthropic":
        from openinference.instrumentation.anthropic import AnthropicInstrumentor as OA

        OA().instrument()
        return _anthropic_calls
    if setup == "anthropic-sdk":
        return _anthropic_calls
    if setup == "genai-google":
        from opentelemetry.instrumentation.google_genai import GoogleGenAiSdkInstrumentor

        GoogleGenAiSdkInstrumentor().instrument()
        return _gemini_calls
    if setup == "openinference-openai-agents":
        import agents
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

        agents.set_trace_processors([])  # no export to OpenAI's backend
        OpenAIAgentsInstrumentor().instrument()
        return _agent_run
    raise SystemExit(f"unknown set-up {setup!r}")


def _logfire(setup: str, out: str, base: str) -> None:
    """Logfire (pydantic's OpenTelemetry SDK) instrumenting the SDK clients."""
    import anthropic
    import logfire
    import openai

    exporter = InMemorySpanExporter()
    logfire.configure(
        send_to_logfire=False,
        console=False,
        service_name=f"app-{setup}",
        additional_span_processors=[SimpleSpanProcessor(exporter)],
    )
    if setup.startswith("logfire-pydantic-ai-"):
        logfire.instrument_pydantic_ai()
    elif setup == "logfire-google":
        logfire.instrument_google_genai()
    with logfire.span("handle_request", **{"customer.id": CUSTOMER}):
        if setup.startswith("logfire-pydantic-ai-"):
            _pydantic_ai_run(setup.removeprefix("logfire-pydantic-ai-"), base)
        elif setup == "logfire-google":
            _gemini_calls(base)
        elif setup == "logfire-openai":
            oa = openai.OpenAI(base_url=f"{base}/v1", api_key="test", max_retries=0)
            logfire.instrument_openai(oa)
            msgs = [{"role": "user", "content": "Hi"}]
            oa.chat.completions.create(model=OPENAI_MODEL, messages=msgs)  # type: ignore[arg-type]
            stream = oa.chat.completions.create(
                model=OPENAI_MODEL,
                messages=msgs,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            for _ in stream:
                pass
        else:
            an = anthropic.Anthropic(base_url=base, api_key="test", max_retries=0)
            logfire.instrument_anthropic(an)
            an.messages.create(
                model=ANTHROPIC_MODEL, max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
            )
    logfire.force_flush()
    with open(out, "wb") as f:
        f.write(encode_spans(exporter.get_finished_spans()).SerializeToString())


def _langfuse(setup: str, out: str, base: str) -> None:
    """The Langfuse SDK (OpenTelemetry-based) around the official OpenAI instrumentation: the
    customer, user and session are Langfuse's propagated attributes
    (`langfuse.trace.metadata.customer_id`, `langfuse.user.id`, `langfuse.session.id`), set
    on the root observation and copied by Langfuse onto the spans below it."""
    from langfuse import Langfuse, propagate_attributes
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"app-{setup}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument()
    # Langfuse's own exporter (to its server) replaced by one that keeps the spans here
    lf = Langfuse(
        public_key="pk-lf-test", secret_key="sk-lf-test", base_url=base,
        tracer_provider=provider, span_exporter=InMemorySpanExporter(),
    )  # fmt: skip
    with (
        lf.start_as_current_observation(as_type="span", name="handle_request"),
        propagate_attributes(user_id=USER, session_id=SESSION, metadata={"customer_id": CUSTOMER}),
    ):
        _openai_calls(base)
    provider.force_flush()
    with open(out, "wb") as f:
        f.write(encode_spans(exporter.get_finished_spans()).SerializeToString())


def _openlit(setup: str, out: str, base: str) -> None:
    """OpenLIT with its own tracer provider (so its resource says telemetry.sdk.name
    openlit), the spans read from it in-process."""
    import openlit

    openlit.init(
        application_name=f"app-{setup}", disable_metrics=True, disable_events=True,
        disable_batch=True,
    )  # fmt: skip
    exporter = InMemorySpanExporter()
    trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[attr-defined]
    tracer = trace.get_tracer("app")
    calls = _anthropic_calls if setup.endswith("anthropic") else _openai_calls
    with tracer.start_as_current_span("handle_request", attributes={"customer.id": CUSTOMER}):
        calls(base)
    with open(out, "wb") as f:
        f.write(encode_spans(exporter.get_finished_spans()).SerializeToString())


def main(setup: str, out: str, base: str) -> None:
    if setup == "langfuse-openai":
        _langfuse(setup, out, base)
        return
    if setup.startswith("openlit"):
        _openlit(setup, out, base)
        return
    if setup.startswith("logfire"):
        _logfire(setup, out, base)
        return
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"app-{setup}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    calls = _instrument(setup)
    tracer = trace.get_tracer("app")
    with tracer.start_as_current_span("handle_request", attributes={"customer.id": CUSTOMER}):
        calls(base)
    provider.force_flush()
    with open(out, "wb") as f:
        f.write(encode_spans(exporter.get_finished_spans()).SerializeToString())


if __name__ == "__main__":
    main(*sys.argv[1:4])
