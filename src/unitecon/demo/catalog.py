"""The models, endpoints and prices the demo product uses.

Each model is named the way it shows up in real telemetry: the request model is the alias the
application asks for, the response model the dated snapshot the provider answers with (which is
what `gen_ai.response.model` and native logs carry). Every API model here prices in the packaged
genai-prices catalog except `FT_TRIAGE`, a private fine-tune that is deliberately missing so that
`unitecon prices missing` has something to show.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Model:
    """A model as the application calls it."""

    provider: str
    request: str
    response: str
    #: Seconds to first token for a short prompt [s], and decode speed [tokens/s].
    ttft_s: float
    tokens_per_s: float


SONNET = Model("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", 0.9, 60.0)
HAIKU = Model("anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001", 0.45, 130.0)
EMBED = Model("openai", "text-embedding-3-small", "text-embedding-3-small", 0.0, 0.0)
GPT4O_MINI = Model("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 0.35, 85.0)
O4_MINI = Model("openai", "o4-mini", "o4-mini-2025-04-16", 0.6, 140.0)
O3 = Model("openai", "o3", "o3-2025-04-16", 0.9, 70.0)
GEMINI_FLASH = Model("google", "gemini-2.5-flash", "gemini-2.5-flash", 0.45, 180.0)
GEMINI_PRO = Model("google", "gemini-2.5-pro", "gemini-2.5-pro", 2.0, 90.0)

#: A private fine-tune of gpt-4.1-mini used for ticket triage in an experiment: not in the
#: catalog, so it needs a price override in the project file.
FT_TRIAGE = Model(
    "openai",
    "ft:gpt-4.1-mini-2025-04-14:northwind:triage-v2:B7qK3mZp",
    "ft:gpt-4.1-mini-2025-04-14:northwind:triage-v2:B7qK3mZp",
    0.3,
    110.0,
)

#: Llama 3.3 70B (FP8, TP=2) served by vLLM on the product's own 2 x H100 SXM endpoint.
SELF_HOSTED_MODEL = "llama-3.3-70b-instruct"
SELF_HOSTED_PROVIDER = "vllm"
SELF_HOSTED_ENDPOINT = "llama-70b-h100"

API_MODELS: tuple[Model, ...] = (
    SONNET,
    HAIKU,
    EMBED,
    GPT4O_MINI,
    O4_MINI,
    O3,
    GEMINI_FLASH,
    GEMINI_PRO,
)
MISSING_MODELS: tuple[Model, ...] = (FT_TRIAGE,)

# Products and teams.
SUPPORT = "support-agent"
SEARCH = "rag-search"
CODING = "coding-assistant"
FEATURES = (SUPPORT, SEARCH, CODING)
TEAMS = {SUPPORT: "support-ai", SEARCH: "search", CODING: "devtools"}
