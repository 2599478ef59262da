"""Where each event field comes from in OpenTelemetry attributes.

Span attributes win over resource attributes. Each field lists accepted keys in order of
preference; the first present wins. Documented in `docs/ingest.md` (a test keeps it so).

Besides the OpenTelemetry GenAI conventions (`gen_ai.*`): OpenInference (`llm.*`), the
Anthropic SDK's own spans (`anthropic.*`), Langfuse (`langfuse.*`) and OpenLLMetry's
association properties (`traceloop.association.properties.*`).
"""

from __future__ import annotations

import json

#: gen_ai.provider.name first; gen_ai.system is the deprecated alias.
PROVIDER = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
MODEL = (
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model_name",
    "llm.model_name",
    "llm.request.model_name",
)
OPERATION = ("gen_ai.operation.name",)
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)
CACHE_READ_TOKENS = (
    "gen_ai.usage.cache_read.input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
#: `cache_write` is the name of the semantic conventions (and opentelemetry-util-genai, the
#: Anthropic SDK); `cache_creation` the older one (OpenLLMetry).
CACHE_WRITE_TOKENS = (
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "llm.token_count.prompt_details.cache_write",
)
#: The 1-hour part of the cache writes (the Anthropic SDK's own spans).
CACHE_WRITE_1H_TOKENS = ("anthropic.usage.cache_creation.ephemeral_1h_input_tokens",)
REASONING_TOKENS = (
    "gen_ai.usage.reasoning.output_tokens",
    "llm.token_count.completion_details.reasoning",
)
#: `agent.name`: OpenInference's (its AGENT spans).
AGENT = ("gen_ai.agent.name", "agent.name")
CONVERSATION_ID = (
    "gen_ai.conversation.id",
    "session.id",
    "langfuse.session.id",
    "traceloop.association.properties.session_id",
)
TTFT_SECONDS = ("gen_ai.response.time_to_first_chunk",)
SERVICE_TIER = (
    "openai.response.service_tier",
    "openai.request.service_tier",
    "anthropic.response.service_tier",
    "gen_ai.openai.request.service_tier",
    "unitecon.service_tier",
)
#: `operation.cost`: Logfire's.
REPORTED_COST = ("gen_ai.usage.cost", "operation.cost", "unitecon.reported_cost")

# Business dimensions and unitecon's own keys.
CUSTOMER_ID = (
    "unitecon.customer.id",
    "customer.id",
    "tenant.id",
    "traceloop.association.properties.customer_id",
    "traceloop.association.properties.tenant_id",
    "langfuse.trace.metadata.customer_id",
)
USER_ID = (
    "unitecon.user.id",
    "user.id",
    "enduser.id",
    "langfuse.user.id",
    "traceloop.association.properties.user_id",
)
FEATURE = ("unitecon.feature", "app.feature", "traceloop.association.properties.feature")
TEAM = ("unitecon.team", "team.name", "traceloop.association.properties.team")
ENVIRONMENT = ("deployment.environment.name", "deployment.environment", "unitecon.environment")
TASK_ID = ("unitecon.task.id",)
TASK_TYPE = ("unitecon.task.type",)
ATTEMPT = ("unitecon.attempt",)
ACCEPTED = ("unitecon.accepted",)
ENDPOINT = ("unitecon.endpoint",)
BATCH = ("unitecon.batch",)
UNIT_TYPE = ("unitecon.unit.type",)
UNITS = ("unitecon.units",)
SAMPLE_RATE = ("unitecon.sample_rate",)

#: A span's kind in other conventions -> our operation (when it has no gen_ai.operation.name).
SPAN_KIND_KEYS = ("openinference.span.kind", "traceloop.span.kind")
SPAN_KINDS = {
    # OpenInference
    "LLM": "chat",
    "EMBEDDING": "embeddings",
    "CHAIN": "workflow",
    "AGENT": "invoke_agent",
    "TOOL": "execute_tool",
    "RETRIEVER": "retrieval",
    "RERANKER": "rerank",
    "GUARDRAIL": "span",
    "EVALUATOR": "span",
    "PROMPT": "span",
    "UNKNOWN": "span",
    # OpenLLMetry
    "workflow": "workflow",
    "task": "task",
    "agent": "invoke_agent",
    "tool": "execute_tool",
}
#: Attribute key prefixes that make a span one to keep (a model call or a node of its tree).
SPAN_PREFIXES = ("gen_ai.", "unitecon.", "llm.", "openinference.", "traceloop.", "langfuse.")


#: Keys whose values are JSON text: the Langfuse SDK serializes the metadata it propagates
#: (`propagate_attributes(metadata={"customer_id": "acme"})` sets
#: `langfuse.trace.metadata.customer_id` to `"acme"`, quotes included).
JSON_VALUED = ("langfuse.trace.metadata.customer_id",)


def unjson(text: str | None) -> str | None:
    """The string a JSON-valued key's text holds (`"acme"` -> `acme`); other text as it is."""
    if text is None or text[:1] != '"':
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) else text
