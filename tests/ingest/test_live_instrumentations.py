"""The real `openai` and `anthropic` SDKs, under real instrumentations, against a local
fake provider (tests/ingest/live): every call is priced once, at the price genai-prices
gives the usage the provider returned, and carries the customer set on the application's
root span.

Each set-up runs in its own process (instrumentors patch the SDKs globally), exports its
spans in-process (InMemorySpanExporter) and writes them as one OTLP protobuf file, which is
ingested into a fresh ledger. The set-ups:

- `genai-openai`: the official OpenAI instrumentation (opentelemetry-instrumentation-genai-openai)
- `openinference-openai`: OpenInference's OpenAI instrumentation (`llm.*` attributes)
- `genai-anthropic`: the official Anthropic instrumentation, beside the SDK's own spans
- `openllmetry-anthropic`: OpenLLMetry's Anthropic instrumentation, beside the SDK's own spans
- `openinference-anthropic`: OpenInference's Anthropic instrumentation, beside the SDK's spans
- `anthropic-sdk`: the Anthropic SDK's own spans alone
- `logfire-openai`: Logfire on OpenAI, a call and a stream with usage (Logfire's request
  span of a stream has no usage; a log span after it carries it)
- `logfire-anthropic`: Logfire on Anthropic (the 1-hour writes only in `gen_ai.usage.raw`)
- `openinference-openai-agents`: an openai-agents agent under OpenInference (AGENT, CHAIN
  and LLM spans; the agent named only on its AGENT span)
- `genai-google`: the official Google GenAI instrumentation
  (opentelemetry-instrumentation-google-genai) on the `google-genai` SDK, a call and a stream
- `logfire-google`: Logfire on the `google-genai` SDK, a call and a stream
- `langfuse-openai`: the Langfuse SDK (OpenTelemetry-based) around the official OpenAI
  instrumentation; customer, user and session are Langfuse's propagated attributes (its
  metadata values JSON text: `"acme"`)
- `logfire-pydantic-ai-openai` / `-anthropic` / `-google`: a pydantic-ai agent under Logfire
  (its `invoke_agent` span names the agent; on Anthropic the SDK's own span of the same
  response is merged; pydantic-ai streams Anthropic's Messages even for `run_sync`)
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price, extract_usage
from tests.ingest.live import capture, fake_provider

from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger
from unitecon.pricing.engine import priced_events

ROOT = Path(__file__).parents[2]
SETUPS = (
    "genai-openai",
    "openinference-openai",
    "genai-anthropic",
    "openllmetry-anthropic",
    "openinference-anthropic",
    "anthropic-sdk",
    "logfire-openai",
    "logfire-anthropic",
    "openinference-openai-agents",
    "genai-google",
    "logfire-google",
    "logfire-pydantic-ai-openai",
    "logfire-pydantic-ai-anthropic",
    "logfire-pydantic-ai-google",
    "langfuse-openai",
)

# The truth: genai-prices on the usage the fake provider returned.
OPENAI_COST = calc_price(
    Usage(input_tokens=1200, cache_read_tokens=1024, output_tokens=300),
    capture.OPENAI_MODEL,
    provider_id="openai",
).total_price
# Anthropic's input excludes the cache: 150 + 20,000 read + 3,000 written (1,000 for 5
# minutes, 2,000 for an hour) = 23,150 input tokens.
ANTHROPIC_COST = calc_price(
    Usage(
        input_tokens=23150,
        cache_read_tokens=20000,
        cache_write_tokens=3000,
        cache_write_1h_tokens=2000,
        output_tokens=500,
    ),
    capture.ANTHROPIC_MODEL,
    provider_id="anthropic",
).total_price


# Gemini: genai-prices reads the response the fake returned (its own extractor), then prices it.
GEMINI_COST = (
    extract_usage(fake_provider.gemini_body(capture.GEMINI_MODEL), provider_id="google")
    .calc_price()
    .total_price
)


def test_the_truth_is_worked_out_by_hand() -> None:
    # gpt-4o: 176 x $2.50 + 1,024 x $1.25 + 300 x $10 per million = $0.00472
    assert Decimal("0.00472") == OPENAI_COST
    # claude-sonnet-4-5: 150 x $3 + 20,000 x $0.30 + 1,000 x $3.75 + 2,000 x $6
    # + 500 x $15 per million = $0.0297 (all 3,000 writes at the 5-minute rate: $0.0252)
    assert Decimal("0.0297") == ANTHROPIC_COST
    # gemini-2.5-flash: (1,200 - 1,024) x $0.30 + 1,024 x $0.03 + (300 + 100 thoughts) x $2.50
    # per million = 0.0000528 + 0.00003072 + 0.001 = $0.00108352
    assert Decimal("0.00108352") == GEMINI_COST


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    out = tmp_path_factory.mktemp("live")
    files = {}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OTEL_SEMCONV_STABILITY_OPT_IN": ""}
    with fake_provider.serve() as base:
        for setup in SETUPS:
            path = out / f"{setup}.pb"
            subprocess.run(
                [sys.executable, "-m", "tests.ingest.live.capture", setup, str(path), base],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
            files[setup] = path
    yield files


def _ingest(path: Path) -> tuple[list[dict[str, Any]], Any, Ledger]:
    ledger = Ledger(":memory:")
    res = ledger.ingest(str(path), read_path(path))
    rows = priced_events(ledger).to_pyarrow().to_pylist()
    return rows, res, ledger


@pytest.mark.parametrize("setup", SETUPS)
def test_every_call_priced_once_right_and_attributed(captured: dict[str, Path], setup: str) -> None:
    rows, res, ledger = _ingest(captured[setup])
    assert ledger.quarantine() == []
    calls = [r for r in rows if r["price_status"] in ("priced", "usage_missing")]
    dups = [r for r in rows if r["operation"] == "duplicate"]
    if setup == "openinference-openai-agents":
        # this instrumentation records no cached tokens: the 1,200 input tokens are priced
        # as uncached (1,200 x $2.50 + 300 x $10 per million = $0.006), not the truth
        uncached = calc_price(
            Usage(input_tokens=1200, output_tokens=300), capture.OPENAI_MODEL, provider_id="openai"
        ).total_price
        assert uncached == Decimal("0.006")
        assert [(r["cost"], r["agent"]) for r in calls] == [(uncached, "support")]
    elif setup in ("genai-google", "logfire-google"):
        # a call and a stream (Gemini streams carry their usage): both priced
        assert [r["cost"] for r in calls] == [GEMINI_COST, GEMINI_COST]
        assert dups == []
    elif setup.startswith("logfire-pydantic-ai-"):
        # one agent run, one model call, named by the agent's invoke_agent span; on Anthropic
        # the SDK's own span of the same response is merged, not priced twice
        want = {"openai": OPENAI_COST, "anthropic": ANTHROPIC_COST, "google": GEMINI_COST}
        assert [(r["cost"], r["agent"]) for r in calls] == [
            (want[setup.removeprefix("logfire-pydantic-ai-")], "support")
        ]
        assert len(dups) == (1 if setup.endswith("anthropic") else 0) == res.merged
    elif setup == "logfire-openai":
        # two calls; the stream's zero-token request span is no call (and no task)
        assert [r["cost"] for r in calls] == [OPENAI_COST, OPENAI_COST]
        assert len(dups) == 1 == res.merged and dups[0]["input_tokens"] == 0
    elif "openai" in setup:
        # a call with usage, and a stream sent without include_usage (no usage returned)
        assert sorted(r["price_status"] for r in calls) == ["priced", "usage_missing"]
        priced = [r for r in calls if r["price_status"] == "priced"]
        assert [r["cost"] for r in priced] == [OPENAI_COST]
        assert [r["cost"] for r in calls if r["price_status"] == "usage_missing"] == [None]
    else:
        # one response: priced once, whichever spans saw it
        assert [r["cost"] for r in calls] == [ANTHROPIC_COST]
        seen = 1 if setup in ("anthropic-sdk", "logfire-anthropic") else 2
        assert len(dups) == seen - 1 == res.merged
        assert all(r["cost"] == 0 for r in dups)
    # the customer was set on the application's root span only
    assert {r["customer_id"] for r in rows} == {capture.CUSTOMER}
    if setup == "langfuse-openai":  # propagated by Langfuse onto every span
        assert {(r["user_id"], r["conversation_id"]) for r in rows} == {
            (capture.USER, capture.SESSION)
        }
    # the root span is a tree node, never a cost
    roots = [r for r in rows if r["parent_span_id"] is None]
    assert [(r["operation"], r["cost"]) for r in roots] == [("span", 0)]
    ledger.close()


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_order_of_arrival_does_not_matter(captured: dict[str, Path], order: tuple[int]) -> None:
    """The three spans of one trace (root, instrumentation span, the SDK's span) each in
    its own batch, in every order (children before their root, the winner first or last):
    the same result."""
    from unitecon.ingest.otlp import SpanBatcher, spans_from_proto

    spans = list(spans_from_proto(captured["genai-anthropic"].read_bytes()))
    spans = [spans[i] for i in order]
    with Ledger(":memory:") as ledger:
        merged = 0
        for i, span in enumerate(spans):
            batch = SpanBatcher(f"otlp-http-{i}")
            chunks = [*batch.add([span]), batch.flush()]
            merged += ledger.ingest(f"otlp-http-{i}", chunks).merged
        rows = priced_events(ledger).to_pyarrow().to_pylist()
    assert merged == 1
    assert [r["cost"] for r in rows if r["cost"]] == [ANTHROPIC_COST]
    assert sorted(r["operation"] for r in rows) == ["chat", "duplicate", "span"]
    assert {r["customer_id"] for r in rows} == {capture.CUSTOMER}
