"""The read API: costs, quarantine, prices missing, filters; money as decimal strings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from genai_prices import Usage, calc_price

from unitecon.ledger.store import Ledger
from unitecon.pricing import priced_events


def expected_cost(rows: list[dict[str, Any]]) -> Decimal:
    """From genai-prices directly, one call per event (the outside reference)."""
    total = Decimal(0)
    for r in rows:
        usage = Usage(input_tokens=r["input_tokens"], output_tokens=r["output_tokens"])
        calc = calc_price(
            usage, r["model"], provider_id=r["provider"], genai_request_timestamp=r["ts"]
        )
        total += calc.total_price
    return total


#: JSON money is rounded half-even to the micro-dollar (docs/metrics.md): one figure is
#: within 0.5e-6 of the exact one, a sum of n rounded rows within n x 0.5e-6 of the total.
MICRO = Decimal("0.000001")


def micro(x: Decimal) -> Decimal:
    return x.quantize(MICRO)


def test_costs_by_feature_equal_genai_prices(
    client: TestClient,
    hdr: dict[str, dict[str, str]],
    make_event: Callable[[int], dict[str, Any]],
) -> None:
    r = client.get("/api/v1/costs?by=feature", headers=hdr["read"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["total_cost"], str)  # money is a decimal string
    rows = [make_event(i) for i in range(12)]
    assert Decimal(body["total_cost"]) == micro(expected_cost(rows))
    by = {row["dims"]["feature"]: Decimal(row["cost"]) for row in body["rows"]}
    assert by["search"] == micro(expected_cost([x for x in rows if x["feature"] == "search"]))
    assert abs(sum(by.values()) - Decimal(body["total_cost"])) <= len(by) * MICRO / 2


def test_filters_change_the_numbers(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    def total(q: str) -> Decimal:
        r = client.get(f"/api/v1/costs?by=day{q}", headers=hdr["read"])
        assert r.status_code == 200, r.text
        return Decimal(r.json()["total_cost"])

    everything = total("")
    parts = total("&feature=search") + total("&feature=support")
    assert abs(parts - everything) <= MICRO  # two figures rounded to the micro-dollar
    assert total("&customer=cust-0") < everything
    # events are hourly from 2026-03-02 09:00: the first 15 hours fall on March 2
    assert total("&since=2026-03-02&until=2026-03-03") == everything
    assert total("&since=2026-03-03") == 0


def test_filter_choices(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    r = client.get("/api/v1/filters", headers=hdr["read"]).json()
    assert r["features"] == ["search", "support"]
    assert r["customers"] == ["cust-0", "cust-1", "cust-2"]
    assert r["first_day"] == "2026-03-02" and r["events"] == 12


def test_prices_missing_and_quarantine(
    client: TestClient, hdr: dict[str, dict[str, str]], ledger_path: Any
) -> None:
    body = b'{"event_id":"x1","ts":"2026-03-02T10:00:00Z","model":"my-private-llm",'
    body += b'"provider":"acme","input_tokens":5,"output_tokens":1}\n{"input_tokens":-1}\n'
    h = {**hdr["ingest"], "Content-Type": "application/x-ndjson"}
    r = client.post("/api/v1/events", content=body, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["written"] == 1 and r.json()["rejected"] == 1
    missing = client.get("/api/v1/prices/missing", headers=hdr["read"]).json()
    assert [m["model"] for m in missing] == ["my-private-llm"]
    assert "TODO" in missing[0]["snippet"]
    q = client.get("/api/v1/quarantine", headers=hdr["read"]).json()
    assert q["total"] == 1 and q["records"][0]["location"] == "api-events:2"


def test_native_events_json_array(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    events = [
        {
            "event_id": f"a{i}",
            "ts": "2026-03-04T00:00:00Z",
            "model": "gpt-4o-mini",
            "provider": "openai",
            "input_tokens": 10,
            "output_tokens": 2,
        }
        for i in range(3)
    ]
    h = {**hdr["ingest"], "Content-Type": "application/json"}
    r = client.post("/api/v1/events", json=events, headers=h)
    assert r.status_code == 200 and r.json()["written"] == 3
    r = client.post("/api/v1/events", json=events, headers=h)  # re-sent: kept once
    assert r.status_code == 200
    costs = client.get("/api/v1/costs?by=day&since=2026-03-04", headers=hdr["read"]).json()
    assert costs["rows"][0]["events"] == 3
    r = client.post("/api/v1/events", content=b"[{", headers=h)
    assert r.status_code == 422 and "malformed" in r.json()["error"]["message"]


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/v1/traces", "/api/v1/events", "/api/v1/costs", "/api/v1/quarantine"):
        assert path in spec["paths"]
    assert "Costs" in spec["components"]["schemas"]


def test_reads_equal_the_library(
    client: TestClient, hdr: dict[str, dict[str, str]], ledger_path: Any
) -> None:
    from unitecon.economics.costs import costs_by

    client.app.state.writer.stop()  # type: ignore[attr-defined]
    got = client.get("/api/v1/costs?by=model", headers=hdr["read"]).json()
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    want = costs_by(priced_events(ledger), ["model"])
    assert [Decimal(r["cost"]) for r in got["rows"]] == [micro(r["cost"]) for r in want]
    assert isinstance(ledger, Ledger)
