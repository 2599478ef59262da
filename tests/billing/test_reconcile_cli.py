"""`unitecon bills import` and `unitecon reconcile` end to end, on an invoice CSV."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon.cli.main import run
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger

D0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def ledger_with_calls() -> None:
    # 10 calls of 1M input + 100k output tokens to gpt-4o-mini a day: $0.21 each ($0.15/M
    # in, $0.60/M out), $2.10 a day
    rows = [
        {"event_id": f"{d}-{i}", "ts": D0 + timedelta(days=d, hours=i), "provider": "openai",
         "model": "gpt-4o-mini", "operation": "chat", "input_tokens": 1_000_000,
         "output_tokens": 100_000, "source": "x"}
        for d in range(2) for i in range(10)
    ]  # fmt: skip
    with Ledger() as ledger:
        ledger.ingest("x", [Chunk(to_table(rows))])


def test_import_then_reconcile(
    ledger_with_calls: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bill = tmp_path / "invoice.csv"
    bill.write_text(
        "date,provider,model,amount,currency\n"
        "2026-11-01,openai,gpt-4o-mini-2024-07-18,2.10,USD\n"  # as tracked
        "2026-11-02,openai,gpt-4o-mini-2024-07-18,4.20,USD\n"  # twice what the ledger saw
    )
    assert run(["bills", "import", str(bill), "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported[0]["format"] == "invoice_csv" and imported[0]["buckets_new"] == 2
    assert run(["reconcile", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["period_start"]: r for r in out["rows"]}
    assert rows["2026-11-01"]["status"] == "match"
    second = rows["2026-11-02"]
    assert Decimal(second["residual"]) == Decimal("2.10")
    # no usage report: a price difference or untracked usage, said so
    assert second["explanations"][0]["kind"] == "price_difference"
    assert "usage report" in second["explanations"][0]["text"]
    cap = {c["provider"]: c for c in out["capture"]}
    assert Decimal(cap["all"]["rate"]) == Decimal("0.666667")  # 4.20 / 6.30 = 2/3
    assert cap["all"]["alert"] is True
    assert run(["reconcile", "--fail", "--chart", str(tmp_path / "r.html")]) == 1
    text = capsys.readouterr().out
    assert "below threshold" in text and "66.7%" in text
    assert (tmp_path / "r.html").stat().st_size > 10_000


def test_threshold_from_the_project_file(
    ledger_with_calls: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bill = tmp_path / "invoice.csv"
    bill.write_text("date,provider,model,amount\n2026-11-01,openai,gpt-4o-mini,2.50\n")
    (tmp_path / "unitecon.yaml").write_text("reconcile: {capture_alert_below: 0.8}\n")
    assert run(["bills", "import", str(bill)]) == 0
    capsys.readouterr()
    # 2.10 / 2.50 = 84 % >= 80 %: no alert
    assert run(["reconcile", "--fail", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alerts"] == [] and Decimal(out["threshold"]) == Decimal("0.8")


def test_no_bills_says_what_to_do(
    ledger_with_calls: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["reconcile"]) == 0
    assert "bills import" in capsys.readouterr().out


def test_bad_bill_is_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,provider,model,amount\n2026-13-01,openai,gpt-4o,1\n")
    assert run(["bills", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:2:" in err and "date: expected a timestamp" in err  # rich may wrap
    assert "Traceback" not in err
