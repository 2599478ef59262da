"""`unitecon budgets`, `anomalies`, `runaway`, `coverage` and `alerts` on a small ledger whose
numbers are worked out by hand (unit prices make each day's cost a round number)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon.cli.main import run
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger

CONFIG = """\
unit_prices:
  - {unit_type: web_search, usd_per_1000: "1000"}   # $1 a search
governance:
  budgets:
    - {name: search, monthly: 250, where: {feature: search}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """10 searches ($10) a day from 2026-01-04 to 2026-02-11, 60 ($60) on 2026-02-12."""
    rows = []
    day = date(2026, 1, 4)
    while day <= date(2026, 2, 12):
        n = 60 if day == date(2026, 2, 12) else 10
        rows.append(
            {"event_id": f"s{day}", "ts": datetime.combine(day, datetime.min.time(), UTC)
             + timedelta(hours=12), "operation": "execute_tool", "unit_type": "web_search",
             "units": float(n), "feature": "search", "customer_id": "c1",
             "source": f"s.jsonl:{len(rows) + 1}"}
        )  # fmt: skip
        day += timedelta(days=1)
    with Ledger() as ledger:
        ledger.ingest("s.jsonl", [Chunk(to_table(rows))])
    cfg = tmp_path / "unitecon.yaml"
    cfg.write_text(CONFIG)
    return cfg


def test_budgets(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """February as of Feb 13: actual = 10 x $10 + $60 = $170 (Feb 1..11 is 11 days: 11 x 10
    = 110, + 60 = $170); the 28-day history (Jan 16..Feb 12) is 27 tens and one 60: median
    and every weekday factor 10 -> $10 a day for the 16 days left = $160: forecast $330,
    MAD 0 so no range; $250 reached on Feb 20 (170 + 8 x 10); alerts: actual 68% >= 50%,
    forecast >= 100%."""
    assert run(["budgets", "--config", str(project), "--json"]) == 0
    [b] = json.loads(capsys.readouterr().out)["budgets"]
    assert (b["month"], b["as_of"]) == ("2026-02", "2026-02-13")
    assert [Decimal(b[k]) for k in ("actual", "forecast", "forecast_low", "forecast_high")] == [
        Decimal(170),
        Decimal(330),
        Decimal(330),
        Decimal(330),
    ]
    assert b["runs_out"] == "2026-02-20"
    assert b["status"] == "forecast over"
    assert len(b["alerts"]) == 2


def test_alerts_fail_and_anomaly(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Feb 12: $60 against an expected $10 (impact $50 >= $10, 6x >= 1.25x, scale 0) in
    every monitored series that holds it (total, feature search, customer c1, model none)."""
    assert run(["alerts", "--config", str(project), "--json", "--fail"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {(a["dim"], a["day"], Decimal(a["impact"])) for a in out["anomalies"]} == {
        ("total", "2026-02-12", Decimal(50)),
        ("feature", "2026-02-12", Decimal(50)),
        ("customer_id", "2026-02-12", Decimal(50)),
        ("model", "2026-02-12", Decimal(50)),
    }
    assert out["runaway_tasks"] == []
    assert run(["alerts", "--config", str(project)]) == 0  # without --fail: informational


def test_coverage_and_runaway_text(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["coverage", "--config", str(project), "--json"]) == 0
    cov = {c["dimension"]: c for c in json.loads(capsys.readouterr().out)["rows"]}
    assert Decimal(cov["customer_id"]["cost_coverage"]) == 1
    assert Decimal(cov["team"]["cost_coverage"]) == 0
    assert Decimal(cov["team"]["untagged_cost"]) == Decimal(39 * 10 + 60)
    assert run(["runaway", "--config", str(project)]) == 0
    assert "No runaway tasks" in capsys.readouterr().out


def test_bad_budget_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "unitecon.yaml"
    cfg.write_text("governance:\n  budgets:\n    - {name: x, monthly: -5}\n")
    assert run(["budgets", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "unitecon.yaml:3" in err and "governance.budgets.0.monthly" in err
