"""The reconciliation reads: `/api/v1/reconcile` and `/api/v1/capture-rate` answer what
`unitecon reconcile --json` prints (the same `reconcile_ledger`), money as decimal strings.

The ledger: 10 calls a day to gpt-4o-mini (1M input + 100k output tokens: $0.21 each at
$0.15/M in, $0.60/M out) on 2026-11-01 and 2026-11-02; the invoice bills $2.10 and $4.20.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unitecon.billing import import_lines, read_bill
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

D0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    rows = [
        {"event_id": f"{d}-{i}", "ts": D0 + timedelta(days=d, hours=i), "provider": "openai",
         "model": "gpt-4o-mini", "operation": "chat", "input_tokens": 1_000_000,
         "output_tokens": 100_000, "source": "x"}
        for d in range(2) for i in range(10)
    ]  # fmt: skip
    bill = tmp_path / "invoice.csv"
    bill.write_text("date,provider,model,amount\n2026-11-01,openai,gpt-4o-mini,2.10\n"
                    "2026-11-02,openai,gpt-4o-mini,4.20\n")  # fmt: skip
    path = tmp_path / "ledger.duckdb"
    with Ledger(path) as ledger:
        ledger.ingest("x", [Chunk(schema.to_table(rows))])
        fmt, lines = read_bill(bill)
        import_lines(ledger.con, str(bill), fmt, lines)
    return path


def test_reconcile_and_capture_rate(client: TestClient, hdr: dict[str, dict[str, str]]) -> None:
    r = client.get("/api/v1/reconcile", headers=hdr["read"])
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    cap = {c["provider"]: c for c in body["capture"]}
    assert cap["all"]["rate"] == "0.666667"  # 4.20 / 6.30, a decimal string
    assert Decimal(cap["all"]["billed"]) == Decimal("6.30")
    assert body["alerts"] == ["openai", "all"]
    rows = {x["period_start"]: x for x in body["rows"]}
    assert rows["2026-11-01"]["status"] == "match"
    assert Decimal(rows["2026-11-02"]["residual"]) == Decimal("2.10")
    assert rows["2026-11-02"]["explanations"][0]["kind"] == "price_difference"
    r2 = client.get("/api/v1/capture-rate", headers=hdr["read"])
    assert r2.status_code == 200 and r2.json() == body["capture"]
    assert client.get("/api/v1/capture-rate").status_code == 401


def test_openapi_documents_the_reconciliation(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/v1/reconcile", "/api/v1/capture-rate"} <= set(spec["paths"])
    assert "CaptureRate" in spec["components"]["schemas"]
