"""Where each event field comes from in OpenTelemetry attributes.

Span attributes win over resource attributes. Each field lists accepted keys in order of
preference; the first present wins. Documented in `docs/ingest.md` (a test keeps it so).
"""

from __future__ import annotations

#: gen_ai.provider.name first; gen_ai.system is the deprecated alias.
PROVIDER = ("gen_ai.provider.name", "gen_ai.system")
MODEL = ("gen_ai.response.model", "gen_ai.request.model")
OPERATION = ("gen_ai.operation.name",)
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
CACHE_READ_TOKENS = ("gen_ai.usage.cache_read.input_tokens",)
CACHE_WRITE_TOKENS = ("gen_ai.usage.cache_creation.input_tokens",)
REASONING_TOKENS = ("gen_ai.usage.reasoning.output_tokens",)
AGENT = ("gen_ai.agent.name",)
CONVERSATION_ID = ("gen_ai.conversation.id",)
TTFT_SECONDS = ("gen_ai.response.time_to_first_chunk",)
SERVICE_TIER = (
    "openai.response.service_tier",
    "openai.request.service_tier",
    "gen_ai.openai.request.service_tier",
    "unitecon.service_tier",
)
REPORTED_COST = ("gen_ai.usage.cost", "unitecon.reported_cost")

# Business dimensions and unitecon's own keys.
CUSTOMER_ID = ("unitecon.customer.id", "customer.id", "tenant.id")
USER_ID = ("unitecon.user.id", "user.id", "enduser.id")
FEATURE = ("unitecon.feature", "app.feature")
TEAM = ("unitecon.team", "team.name")
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
