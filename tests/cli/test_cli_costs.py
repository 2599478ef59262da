"""`unitecon costs` totals all variable cost: token prices and unit prices alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon.cli.main import run
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger


def test_costs_adds_token_and_unit_prices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """gpt-4o at $2.50 in / $10 out per Mtok (OpenAI list price): 1,000 in + 100 out =
    $0.0025 + $0.0010 = $0.0035. Ten web searches at $5 per 1,000: $0.05. Total $0.0535."""
    ts = datetime(2026, 10, 1, 12, tzinfo=UTC)
    rows = [
        {"event_id": "a", "ts": ts, "provider": "openai", "model": "gpt-4o",
         "input_tokens": 1000, "output_tokens": 100, "feature": "search", "source": "t:1"},
        {"event_id": "b", "ts": ts, "operation": "execute_tool", "unit_type": "web_search",
         "units": 10.0, "feature": "search", "source": "t:2"},
    ]  # fmt: skip
    with Ledger() as ledger:
        ledger.ingest("t", [Chunk(to_table(rows))])
    cfg = tmp_path / "unitecon.yaml"
    cfg.write_text('unit_prices:\n  - {unit_type: web_search, usd_per_1000: "5"}\n')
    assert run(["costs", "--by", "feature", "--config", str(cfg), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["rows"]
    assert [(r["dims"]["feature"], Decimal(r["cost"])) for r in rows] == [
        ("search", Decimal("0.0535"))
    ]
    assert Decimal(out["total_cost"]) == Decimal("0.0535")


def test_a_table_says_the_period_its_money_covers(capsys: pytest.CaptureFixture[str]) -> None:
    """Every money figure says its period: the title names the window asked (`until`
    exclusive, so October is "2026-10-01 to 2026-10-31"), or the whole ledger."""
    ts = datetime(2026, 10, 1, 12, tzinfo=UTC)
    rows = [
        {"event_id": "a", "ts": ts, "provider": "openai", "model": "gpt-4o",
         "input_tokens": 1000, "output_tokens": 100, "feature": "search", "source": "t:1"},
    ]  # fmt: skip
    with Ledger() as ledger:
        ledger.ingest("t", [Chunk(to_table(rows))])
    capsys.readouterr()
    assert run(["costs", "--by", "feature", "--since", "2026-10-01", "--until", "2026-11-01"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "Variable cost by feature, 2026-10-01 to 2026-10-31 (UTC) — total $0.00" in said, said
    for argv, when in (
        (["costs", "--by", "feature"], "every event in the ledger"),
        (["tasks", "--top", "1", "--since", "2026-10-01"], "from 2026-10-01 (UTC)"),
        (["coverage", "--since", "2026-10-01"], "from 2026-10-01 (UTC)"),
    ):
        assert run(argv) == 0
        said = " ".join(capsys.readouterr().out.split())
        assert when in said, (argv, said)
