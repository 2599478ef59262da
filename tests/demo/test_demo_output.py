"""The default demo: volume, formats, invariants, plans, features, rhythm and the incident."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime

from demo_helpers import Demo

import unitecon.demo
from unitecon.demo.catalog import CODING, SEARCH, SUPPORT
from unitecon.ledger.schema import FIELD_NAMES, KNOWN_OPERATIONS

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


def test_public_api() -> None:
    assert sorted(unitecon.demo.__all__) == [
        "API_MODELS", "DemoFiles", "DemoSummary", "IncidentSummary", "MISSING_MODELS", "Model",
        "generate",
    ]  # fmt: skip


def test_volume_and_summary_match_the_files(demo: Demo) -> None:
    s = demo.files.summary
    assert 200_000 <= s.events <= 400_000
    assert s.otlp_spans == len(demo.spans)
    assert s.native_events == len(demo.native)
    assert s.events == len(demo.spans) + len(demo.native)
    assert sum(s.events_by_feature.values()) == s.events
    assert len(demo.files.otlp) == 60  # one request per day
    assert s.tickets == len({sp["traceId"] for sp in demo.spans})


def test_native_records_use_schema_fields(demo: Demo) -> None:
    ids = Counter(r["event_id"] for r in demo.native)
    assert max(ids.values()) == 1
    for r in demo.native:
        assert set(r) <= set(FIELD_NAMES), set(r) - set(FIELD_NAMES)
        assert r["operation"] in KNOWN_OPERATIONS
        assert r["ts"].endswith("Z") and datetime.fromisoformat(r["ts"])
        assert all(isinstance(v, str) for v in r.get("tags", {}).values())


def test_token_invariants(demo: Demo) -> None:
    rows = [
        (
            r.get("input_tokens", 0), r.get("cache_read_tokens", 0),
            r.get("cache_write_tokens", 0), r.get("output_tokens", 0),
            r.get("reasoning_tokens", 0),
        )
        for r in demo.native
    ] + [
        (
            a.get("gen_ai.usage.input_tokens", 0), a.get("gen_ai.usage.cache_read.input_tokens", 0),
            a.get("gen_ai.usage.cache_creation.input_tokens", 0),
            a.get("gen_ai.usage.output_tokens", 0), 0,
        )
        for a in (sp["attrs"] for sp in demo.spans)
    ]  # fmt: skip
    for inp, cr, cw, out, reasoning in rows:
        assert min(inp, cr, cw, out, reasoning) >= 0
        assert cr + cw <= inp  # inclusive convention
        assert reasoning <= out


def test_spans_form_trees(demo: Demo) -> None:
    by_trace: dict[str, dict[str, dict[str, object]]] = defaultdict(dict)
    for sp in demo.spans:
        assert HEX32.match(sp["traceId"]) and HEX16.match(sp["spanId"])
        assert int(sp["endTimeUnixNano"]) >= int(sp["startTimeUnixNano"])
        assert isinstance(sp["kind"], int)
        by_trace[sp["traceId"]][sp["spanId"]] = sp
    for spans in by_trace.values():
        roots = [s for s in spans.values() if "parentSpanId" not in s]
        assert len(roots) == 1 and roots[0]["name"] == "invoke_agent supervisor"
        assert all(s.get("parentSpanId", "") in spans or s in roots for s in spans.values())


def test_token_sizes_per_feature(demo: Demo) -> None:
    chats = [
        sp
        for sp in demo.spans
        if sp["attrs"].get("gen_ai.operation.name") == "chat" and not sp.get("status")
    ]
    per_trace = Counter(sp["traceId"] for sp in chats)
    support = [
        sp["attrs"]["gen_ai.usage.input_tokens"] for sp in chats if per_trace[sp["traceId"]] < 50
    ]  # the runaway tickets' contexts grow far beyond this, on purpose
    assert _share(support, 2_000, 8_000) > 0.97
    assert _mostly_cached(demo)
    coding = [r for r in demo.native if r["feature"] == CODING and r.get("status") != "error"]
    interactive = [r["input_tokens"] for r in coding if r["task_type"] in ("code.ask", "code.edit")]
    assert min(interactive) >= 5_000 and max(interactive) <= 40_000
    reasoning = [r["reasoning_tokens"] for r in coding if r["model"].startswith(("o3", "o4"))]
    assert min(reasoning) >= 500 and max(reasoning) <= 8_000
    review = [r["input_tokens"] for r in coding if r["task_type"] == "code.review"]
    assert any(x > 200_000 for x in review)  # crosses gemini-2.5-pro's price tier
    emb = [r["input_tokens"] for r in demo.native if r["operation"] == "embeddings"]
    assert min(emb) >= 200 and max(emb) <= 800


def _share(xs: list[int], lo: int, hi: int) -> float:
    return sum(lo <= x <= hi for x in xs) / len(xs)


def _mostly_cached(demo: Demo) -> bool:
    a = [sp["attrs"] for sp in demo.spans if sp["attrs"].get("gen_ai.provider.name") == "anthropic"]
    cached = sum(x.get("gen_ai.usage.cache_read.input_tokens", 0) for x in a)
    written = sum(x.get("gen_ai.usage.cache_creation.input_tokens", 0) for x in a)
    total = sum(x.get("gen_ai.usage.input_tokens", 0) for x in a)
    return bool(cached > 0.6 * total and written > 0)


def test_three_plans_and_three_features(demo: Demo) -> None:
    rows = list(csv.DictReader(demo.files.customers_csv.open()))
    assert len(rows) == 200
    assert Counter(r["plan"] for r in rows) == {"starter": 110, "team": 60, "support-pro": 30}
    assert {r["feature"] for r in demo.native} == {SEARCH, CODING, SUPPORT}
    assert {sp["res"]["unitecon.feature"] for sp in demo.spans} == {SUPPORT}
    types = {r["task_type"] for r in demo.native} | {
        sp["attrs"]["unitecon.task.type"] for sp in demo.spans
    }
    assert {"search.query", "code.ask", "code.edit", "code.review", "code.testgen"} <= types
    assert {t for t in types if t.startswith("ticket.")} == {
        "ticket.how_to", "ticket.technical", "ticket.billing", "ticket.account"
    }  # fmt: skip


def test_agents_retries_rejections_and_reviews(demo: Demo) -> None:
    agents = {sp["attrs"].get("gen_ai.agent.name") for sp in demo.spans}
    assert {"supervisor", "triage", "retriever", "responder", "billing_agent"} <= agents
    assert any("unitecon.handoff.from" in sp["attrs"] for sp in demo.spans)
    assert any(sp["attrs"].get("unitecon.attempt", 1) == 3 for sp in demo.spans)
    assert any(sp["attrs"].get("unitecon.accepted") is False for sp in demo.spans)
    assert any(sp["attrs"].get("gen_ai.tool.name") == "web_search" for sp in demo.spans)
    assert any(r.get("attempt", 1) >= 2 and r.get("accepted") is False for r in demo.native)
    reviews = [r for r in demo.native if r["operation"] == "human_review"]
    assert reviews and all(r["unit_type"] == "review_second" and r["units"] > 0 for r in reviews)
    assert any(r.get("service_tier") == "flex" for r in demo.native)
    assert any(r.get("batch") for r in demo.native)
    assert any(r.get("endpoint") == "llama-70b-h100" and r["duration_ms"] > 0 for r in demo.native)
    assert Counter(r["environment"] for r in demo.native)["staging"] > 0


def test_weekly_and_daily_rhythm_and_growth(demo: Demo) -> None:
    days: Counter[str] = Counter()
    hours: Counter[int] = Counter()
    for r in demo.native:
        if r["feature"] == SEARCH and r["operation"] == "chat":
            ts = datetime.fromisoformat(r["ts"])
            days[ts.strftime("%a")] += 1
            hours[ts.hour] += 1
    assert min(days[d] for d in ("Tue", "Wed", "Thu")) > 2.5 * max(days["Sat"], days["Sun"])
    assert hours[15] > 4 * hours[3]  # US and EU working hours vs the middle of the night
    weeks = Counter(datetime.fromisoformat(r["ts"]).isocalendar()[1] for r in demo.native)
    ordered = [weeks[w] for w in sorted(weeks)]
    assert ordered[-2] > 1.2 * ordered[1]


def test_runaway_incident(demo: Demo) -> None:
    inc = demo.files.summary.incident
    calls: Counter[str] = Counter()
    for sp in demo.spans:
        if sp["attrs"].get("unitecon.customer.id") == inc.customer_id and not sp["name"].startswith(
            "invoke_agent"
        ):
            calls[sp["traceId"]] += 1
    runaway = [t for t, n in calls.items() if n >= 100]
    assert len(runaway) >= 10 and inc.tasks == len(runaway)
    assert max(calls.values()) >= 300
    other = [n for t, n in calls.items() if t not in runaway]
    assert max(other) < 40
    start = datetime.fromisoformat(inc.start.replace("Z", "+00:00"))
    end = datetime.fromisoformat(inc.end.replace("Z", "+00:00"))
    assert 3 * 3600 <= (end - start).total_seconds() <= 6 * 3600
    roots = [sp for sp in demo.spans if sp["traceId"] in runaway and "parentSpanId" not in sp]
    assert all(sp["status"]["code"] == 2 for sp in roots)
    for sp in roots:
        t = datetime.fromtimestamp(int(sp["startTimeUnixNano"]) / 1e9, UTC)
        assert start <= t < end
