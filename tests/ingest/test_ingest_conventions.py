"""Conventions of real sources and the exports users already have, each priced against
`genai_prices.calc_price` on the provider's usage.

Fixtures follow the published schemas: OpenLIT's span attributes (Anthropic's input count
*excluding* the cache, resource `telemetry.sdk.name = openlit`), the LiteLLM proxy's
`LiteLLM_SpendLogs` table, Langfuse's public observations API (`usageDetails`, Langfuse's
exclusive keys), a Gemini `generateContent` response.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from unitecon.cli.main import run
from unitecon.errors import InputError
from unitecon.ingest import detect_format, read_path
from unitecon.ledger.store import Ledger
from unitecon.pricing import usage_missing_calls
from unitecon.pricing.engine import priced_events

TS = 1767225600_000_000_000  # 2026-01-01T00:00:00Z [ns]
SONNET = "claude-sonnet-4-5-20250929"


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def _span(span_id: str, parent: str | None, attrs: dict[str, Any], name: str = "s") -> dict:
    return {
        "traceId": "ab" * 16,
        "spanId": span_id * 16,
        "parentSpanId": (parent * 16) if parent else "",
        "name": name,
        "startTimeUnixNano": str(TS),
        "endTimeUnixNano": str(TS + 10**9),
        "attributes": [{"key": k, "value": _value(v)} for k, v in attrs.items()],
    }


def _otlp(path: Path, spans: list[dict], resource: dict[str, Any] | None = None) -> Path:
    res = {"attributes": [{"key": k, "value": _value(v)} for k, v in (resource or {}).items()]}
    doc = {"resourceSpans": [{"resource": res, "scopeSpans": [{"spans": spans}]}]}
    path.write_text(json.dumps(doc))
    return path


def _ingest(path: Path) -> tuple[list[dict[str, Any]], Ledger]:
    ledger = Ledger(":memory:")
    ledger.ingest(str(path), read_path(path))
    rows = priced_events(ledger).to_pyarrow().to_pylist()
    return sorted(rows, key=lambda r: r["event_id"]), ledger


def test_openlit_anthropic_counts_are_converted_not_quarantined(tmp_path: Path) -> None:
    attrs = {
        "gen_ai.system": "anthropic",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": SONNET,
        "gen_ai.usage.input_tokens": 150,  # Anthropic's count, without the cache
        "gen_ai.usage.output_tokens": 500,
        "gen_ai.usage.cache_read.input_tokens": 20000,
        "gen_ai.usage.cache_creation.input_tokens": 3000,
        "gen_ai.usage.cost": 0.0252,
    }
    attrs["telemetry.sdk.name"] = "openlit"  # OpenLIT sets it on its spans
    path = _otlp(tmp_path / "openlit.json", [_span("a", None, attrs)], {"service.name": "app"})
    rows, ledger = _ingest(path)
    assert ledger.quarantine() == []
    (row,) = rows
    assert row["input_tokens"] == 150 + 20000 + 3000
    want = calc_price(
        Usage(
            input_tokens=23150, cache_read_tokens=20000, cache_write_tokens=3000, output_tokens=500
        ),
        SONNET,
        provider_id="anthropic",
    ).total_price
    assert row["cost"] == want == Decimal("0.0252")  # 150x3 + 20000x0.3 + 3000x3.75 + 500x15 /1M
    assert row["reported_cost"] == Decimal("0.0252")


def test_non_model_spans_are_tree_nodes_and_pass_on_their_dimensions(tmp_path: Path) -> None:
    """An HTTP client span carrying only a conversation id (from baggage) and a root span
    with the customer are nodes; the model call two levels down inherits both, although
    the span between them was never exported."""
    spans = [
        _span("1", None, {"enduser.id": "u-7", "tenant.id": "acme"}, "POST /chat"),
        _span("2", "9", {"gen_ai.conversation.id": "conv-1", "http.request.method": "POST"}),
        _span(
            "3",
            "2",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
            },
        ),
        _span("4", "1", {"http.request.method": "GET"}),  # no GenAI attribute: skipped
    ]
    rows, ledger = _ingest(_otlp(tmp_path / "t.json", spans))
    assert ledger.quarantine() == []
    ops = {r["span_id"][0]: r["operation"] for r in rows}
    assert ops == {"1": "span", "2": "span", "3": "chat"}
    call = next(r for r in rows if r["operation"] == "chat")
    assert (call["customer_id"], call["user_id"], call["conversation_id"]) == (
        "acme",
        "u-7",
        "conv-1",
    )
    # 1,000 x $2.50 + 100 x $10 per million
    assert call["cost"] == Decimal("0.0035")


def test_usage_missing_is_counted_not_zero(tmp_path: Path) -> None:
    spans = [
        _span(
            "1",
            None,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
            },
        )
    ]
    rows, ledger = _ingest(_otlp(tmp_path / "stream.json", spans))
    assert [(r["price_status"], r["cost"]) for r in rows] == [("usage_missing", None)]
    (m,) = usage_missing_calls(ledger)
    assert (m.source, m.model, m.events, m.calls) == (
        str(tmp_path / "stream.json"),
        "gpt-4o-2024-08-06",
        1,
        1,
    )


def test_gemini_response_reads_model_version(tmp_path: Path) -> None:
    body = {
        "candidates": [{"content": {"parts": [{"text": "hi"}], "role": "model"}}],
        "usageMetadata": {
            "promptTokenCount": 1000,
            "candidatesTokenCount": 200,
            "totalTokenCount": 1200,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r-1",
    }
    path = tmp_path / "gemini.jsonl"
    path.write_text(json.dumps({"ts": "2026-01-01T00:00:00Z", "response": body}) + "\n")
    assert detect_format(path) == "provider"
    rows, ledger = _ingest(path)
    assert ledger.quarantine() == []
    (row,) = rows
    want = calc_price(
        Usage(input_tokens=1000, output_tokens=200), "gemini-2.5-flash", provider_id="google"
    ).total_price
    assert row["model"] == "gemini-2.5-flash" and row["cost"] == want


# -- exports --------------------------------------------------------------------------------
LITELLM = [
    {
        "request_id": "chatcmpl-1",
        "call_type": "acompletion",
        "api_key": "88dc28d0f",
        "spend": 0.0297,
        "total_tokens": 23650,
        "prompt_tokens": 23150,
        "completion_tokens": 500,
        "startTime": "2026-01-01T10:00:00.000Z",
        "endTime": "2026-01-01T10:00:02.500Z",
        "model": SONNET,
        "model_id": "m1",
        "model_group": "claude",
        "custom_llm_provider": "anthropic",
        "api_base": "",
        "user": "default_user_id",
        "cache_hit": "False",
        "cache_key": "",
        "request_tags": "[]",
        "team_id": "team-support",
        "end_user": "acme",
        "status": "success",
        "session_id": "",
        "metadata": {
            "user_api_key_alias": "prod",
            "usage_object": {
                "prompt_tokens": 23150,
                "completion_tokens": 500,
                "total_tokens": 23650,
                "cache_read_input_tokens": 20000,
                "cache_creation_input_tokens": 3000,
                "prompt_tokens_details": {"cached_tokens": 20000},
            },
        },
    },
    {
        "request_id": "chatcmpl-2",
        "call_type": "acompletion",
        "spend": 0.00472,
        "total_tokens": 1500,
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "startTime": "2026-01-01T11:00:00Z",
        "endTime": "2026-01-01T11:00:01Z",
        "model": "gpt-4o-2024-08-06",
        "custom_llm_provider": "openai",
        "end_user": "",
        "team_id": None,
        "status": "success",
        "metadata": {
            "user_api_key_end_user_id": "globex",
            "usage_object": {
                "prompt_tokens": 1200,
                "completion_tokens": 300,
                "prompt_tokens_details": {"cached_tokens": 1024},
            },
        },
    },
]
ANTHROPIC_WANT = calc_price(
    Usage(input_tokens=23150, cache_read_tokens=20000, cache_write_tokens=3000, output_tokens=500),
    SONNET,
    provider_id="anthropic",
).total_price
OPENAI_WANT = calc_price(
    Usage(input_tokens=1200, cache_read_tokens=1024, output_tokens=300),
    "gpt-4o-2024-08-06",
    provider_id="openai",
).total_price


def _check_litellm(rows: list[dict[str, Any]]) -> None:
    got = {r["event_id"]: (r["cost"], r["user_id"], r["team"]) for r in rows}
    assert got == {
        "litellm:chatcmpl-1": (ANTHROPIC_WANT, "acme", "team-support"),
        "litellm:chatcmpl-2": (OPENAI_WANT, "globex", None),
    }


def test_litellm_spendlogs_json_array(tmp_path: Path) -> None:
    path = tmp_path / "spendlogs.json"
    path.write_text(json.dumps(LITELLM, indent=2))  # pretty-printed
    assert detect_format(path) == "json"
    rows, ledger = _ingest(path)
    assert ledger.quarantine() == []
    _check_litellm(rows)


def test_litellm_spendlogs_csv(tmp_path: Path) -> None:
    path = tmp_path / "spendlogs.csv"
    cols = list(dict.fromkeys(k for r in LITELLM for k in r))
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, cols)
        w.writeheader()
        for r in LITELLM:
            w.writerow({k: json.dumps(v) if isinstance(v, dict) else v for k, v in r.items()})
    assert detect_format(path) == "export-csv"
    rows, ledger = _ingest(path)
    assert ledger.quarantine() == []
    _check_litellm(rows)


def test_langfuse_observations_export(tmp_path: Path) -> None:
    """The public API's page of observations: a trace span and a generation under it;
    Langfuse's usageDetails are exclusive (input is the uncached rest)."""
    doc = {
        "data": [
            {
                "id": "obs-root",
                "traceId": "t-1",
                "type": "SPAN",
                "name": "handle",
                "startTime": "2026-01-01T10:00:00.000Z",
                "endTime": "2026-01-01T10:00:03Z",
                "parentObservationId": None,
                "level": "DEFAULT",
            },
            {
                "id": "obs-gen",
                "traceId": "t-1",
                "type": "GENERATION",
                "name": "chat",
                "startTime": "2026-01-01T10:00:01.000Z",
                "endTime": "2026-01-01T10:00:02Z",
                "parentObservationId": "obs-root",
                "model": "gpt-4o-2024-08-06",
                "usageDetails": {
                    "input": 176,
                    "input_cached_tokens": 1024,
                    "output": 300,
                    "total": 1500,
                },
                "calculatedTotalCost": 0.00472,
                "level": "DEFAULT",
            },
        ],
        "meta": {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1},
    }
    path = tmp_path / "observations.json"
    path.write_text(json.dumps(doc, indent=2))
    rows, ledger = _ingest(path)
    assert ledger.quarantine() == []
    by_id = {r["event_id"]: r for r in rows}
    gen = by_id["langfuse:obs-gen"]
    assert (gen["input_tokens"], gen["cache_read_tokens"]) == (1200, 1024)
    assert gen["cost"] == OPENAI_WANT
    assert by_id["langfuse:obs-root"]["operation"] == "span"


def test_native_events_as_one_pretty_printed_array(tmp_path: Path) -> None:
    events = [
        {
            "ts": "2026-01-01T00:00:00Z",
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "input_tokens": 1000,
            "output_tokens": 100,
            "customer_id": f"c{i}",
        }
        for i in range(3)
    ]
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events, indent=2))
    rows, ledger = _ingest(path)
    assert ledger.quarantine() == []
    assert [r["customer_id"] for r in sorted(rows, key=lambda r: r["customer_id"])] == [
        "c0",
        "c1",
        "c2",
    ]


def test_unknown_records_are_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "usage.json"
    path.write_text(json.dumps([{"object": "page", "data": [1, 2]}] * 44, indent=2))
    with pytest.raises(InputError, match="first record has keys: data, object"):
        read_path(path)


def test_ingest_exits_non_zero_when_nothing_was_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"model": "gpt-4o"}\n{"model": "gpt-4o"}\n')
    assert run(["ingest", str(path)]) == 1
    assert "Nothing was accepted" in capsys.readouterr().out
    good = tmp_path / "events.json"
    good.write_text(json.dumps(LITELLM))
    assert run(["ingest", str(good)]) == 0
    assert run(["ingest", str(good)]) == 0  # again: all already stored, not a failure


def test_usage_missing_in_prices_missing_and_coverage(tmp_path: Path) -> None:
    """One call with usage and one without, from the same source and model: `prices
    missing` lists the one without (half of the source's calls), `coverage` has a usage
    row at 50% of calls naming the source."""
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.config import Project
    from unitecon.pricing import missing_prices

    call = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
    }
    spans = [
        _span(
            "1", None, {**call, "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5}
        ),
        _span("2", None, call),
    ]
    path = _otlp(tmp_path / "calls.json", spans)
    _, ledger = _ingest(path)
    (row,) = missing_prices(ledger)
    assert row.reason.startswith("usage missing: 1 of 2 calls from ")
    assert (row.model, row.events) == ("gpt-4o-2024-08-06", 1)
    with Analysis(ledger, Project()) as a:
        cov = {r.dimension: r for r in a.coverage(Filters()).rows}
    usage = cov["usage"]
    assert (usage.calls, usage.tagged_calls) == (2, 1)
    assert [u.source for u in usage.top_untagged_sources] == [str(path)]


FIXTURES = Path(__file__).parent / "fixtures"


def test_openlit_capture_priced_once_and_converted(tmp_path: Path) -> None:
    """Recorded once from OpenLIT 1.45.0 on anthropic 2.10.0 (tests/ingest/live/capture.py
    `openlit-anthropic`; OpenLIT's pins conflict with the dev extra's, so it is not
    installed here). Its span counts Anthropic's input without the cache (150) beside the
    SDK's own span of the same response: priced once, at the SDK span's 5-minute/1-hour
    split; OpenLIT's span alone is converted (150 + 20,000 + 3,000), not quarantined."""
    from unitecon.ingest.otlp import spans_from_proto

    path = FIXTURES / "openlit-1.45.0-anthropic-2.10.0.pb"
    rows, ledger = _ingest(path)
    assert ledger.quarantine() == []
    priced = [r for r in rows if r["price_status"] == "priced"]
    want = calc_price(
        Usage(input_tokens=23150, cache_read_tokens=20000, cache_write_tokens=3000,
              cache_write_1h_tokens=2000, output_tokens=500),
        SONNET, provider_id="anthropic",
    ).total_price  # fmt: skip
    assert [r["cost"] for r in priced] == [want] == [Decimal("0.0297")]
    openlit = next(r for r in rows if r["operation"] == "duplicate")
    assert openlit["input_tokens"] == 23150
    # OpenLIT's span alone: no 1-hour split, all writes at the 5-minute rate
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts

    req = ts.ExportTraceServiceRequest.FromString(path.read_bytes())
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            keep = [s for s in ss.spans if s.name != "anthropic.messages.create"]
            del ss.spans[:]
            ss.spans.extend(keep)
    alone = tmp_path / "openlit-alone.pb"
    alone.write_bytes(req.SerializeToString())
    assert len(list(spans_from_proto(alone.read_bytes()))) == 2
    rows, ledger = _ingest(alone)
    (call,) = [r for r in rows if r["price_status"] == "priced"]
    assert (call["input_tokens"], call["cost"]) == (23150, ANTHROPIC_WANT)
    assert call["customer_id"] == "acme"


def test_openlit_marker_converts_even_when_input_exceeds_the_cache(tmp_path: Path) -> None:
    """5,000 uncached + 1,000 read: counts that look inclusive, converted because the span
    is OpenLIT's; the same span from another instrumentation is taken as inclusive."""
    attrs = {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
        "gen_ai.response.model": SONNET,
        "gen_ai.usage.input_tokens": 5000,
        "gen_ai.usage.output_tokens": 10,
        "gen_ai.usage.cache_read.input_tokens": 1000,
    }
    got = {}
    for name, extra in (("openlit", {"telemetry.sdk.name": "openlit"}), ("other", {})):
        path = _otlp(tmp_path / f"{name}.json", [_span("a", None, {**attrs, **extra})])
        (row,), _ = _ingest(path)
        got[name] = row["input_tokens"]
    assert got == {"openlit": 6000, "other": 5000}


def test_coverage_names_the_parquet_file_not_its_rows(tmp_path: Path) -> None:
    """A Parquet file's events have sources `file:row N`: coverage's worst sources are the
    file (its untagged cost summed over its rows), as a JSONL file's `file:line` are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.config import Project

    path = tmp_path / "calls.parquet"
    base = {"provider": "openai", "model": "gpt-4o-2024-08-06", "output_tokens": 0}
    rows = [
        {**base, "ts": f"2026-10-01T0{i}:00:00Z", "input_tokens": n, "customer_id": c}
        for i, (n, c) in enumerate([(1000, None), (3000, None), (5000, "acme")])
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    ledger = Ledger(":memory:")
    ledger.ingest(str(path), read_path(path))
    with Analysis(ledger, Project()) as a:
        cov = {r.dimension: r for r in a.coverage(Filters()).rows}
    (worst,) = cov["customer_id"].top_untagged_sources
    # gpt-4o-2024-08-06 input at $2.50 per 1M tokens: 4,000 untagged tokens cost $0.01
    assert (worst.source, worst.cost) == (str(path), Decimal("0.01"))
