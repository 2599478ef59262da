"""`unitecon margins` and `unitecon collapse` on a small ledger (commands registered on a
fresh Typer app, as cli/main.py does)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from unitecon.cli import margins as cli
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

T0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
YAML = """
revenue:
  plans:
    starter: {monthly_fee: 20, fixed_cost_per_customer: 2}
  customers:
    heavy: {plan: starter}
    light: {plan: starter}
"""


def _events() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for cust, n in (("heavy", 60), ("light", 5)):
        for i in range(n):
            rows.append(
                {
                    "event_id": f"{cust}{i}",
                    "ts": T0 + dt.timedelta(hours=i),
                    "source": f"t:{cust}{i}",
                    "customer_id": cust,
                    "feature": "coding",
                    "task_id": f"{cust}-t{i}",
                    "provider": "openai",
                    "model": "gpt-4o-mini",
                    "input_tokens": 1_000_000,
                    "output_tokens": 100_000,
                }
            )
    return rows


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("UNITECON_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "unitecon.yaml").write_text(YAML)
    with Ledger(tmp_path / "ledger.duckdb") as led:
        led.ingest("t", [Chunk(schema.to_table(_events()))])
    a = typer.Typer()
    cli.register(a)
    return a


def test_margins_json(app: typer.Typer) -> None:
    res = CliRunner().invoke(app, ["margins", "--by", "customer", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rows = {r["customer"]: r for r in out["rows"]}
    assert isinstance(rows["heavy"]["revenue"], str)  # money as decimal strings
    for r in rows.values():
        gm = Decimal(r["revenue"]) - Decimal(r["variable_cost"]) - Decimal(r["fixed_cost"])
        assert Decimal(r["gross_margin"]) == gm
    # gpt-4o-mini: $0.15/M input, $0.60/M output -> $0.21 per call
    assert Decimal(rows["heavy"]["variable_cost"]) == Decimal("12.60")
    assert Decimal(rows["light"]["variable_cost"]) == Decimal("1.05")
    assert out["concentration"]["customers"] == 2


def test_margins_table(app: typer.Typer) -> None:
    res = CliRunner().invoke(app, ["margins", "--by", "plan", "--month", "2026-10"])
    assert res.exit_code == 0, res.output
    # Two starter customers at $20/month, for the window's 3 days (1-3 Oct) of October's 31:
    # 20 x 3/31 = 1.935... -> $1.94 each, $3.88 (whole months would say $40.00).
    assert "Margins by plan" in res.output and "$3.88" in res.output
    assert "2026-10-01 to 2026-10-03 (3 days)" in res.output


def test_collapse(app: typer.Typer, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["collapse", "--target-margin", "0.6", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    (p,) = out["plans"]
    # c = 13.65 / 65 tasks = 0.21; u0 = (20 - 2) / 0.21 = 85.7 tasks/month
    assert Decimal(p["unit_cost"]["mean"]) == Decimal("0.21")
    assert Decimal(p["lines"]["mean"]["u0"]).quantize(Decimal("0.1")) == Decimal("85.7")
    html = Path(out["chart"]).read_text()
    assert len(html) > 1_000_000 and '<script src="http' not in html  # plotly.js inlined
    res = CliRunner().invoke(app, ["collapse"])
    assert res.exit_code == 0, res.output
    assert "u0 = (P - F) / c" in res.output and "Chart:" in res.output


def test_bad_arguments(app: typer.Typer) -> None:
    res = CliRunner().invoke(app, ["margins", "--by", "planet"])
    assert res.exit_code != 0
    res = CliRunner().invoke(app, ["collapse", "--plan", "startr"])
    assert res.exit_code != 0


def test_margins_with_the_projects_fixed_costs(app: typer.Typer, tmp_path: Path) -> None:
    """Events run Oct 1 09:00 .. Oct 3 20:00: a 3-day window, so $3,100/month charges
    3,100 x 3 / 31 = $300, split 60 : 5 by requests; plan F ($2 per customer-month,
    by contract days, not data days) shown beside."""
    fixed = "fixed_costs:\n  - {name: platform, monthly: 3100, driver: requests}\n"
    (tmp_path / "unitecon.yaml").write_text(YAML + fixed)
    res = CliRunner().invoke(app, ["margins", "--by", "customer", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["fixed_basis"] == "allocated"
    assert Decimal(out["total"]["fixed_cost"]) == 300
    rows = {r["customer"]: r for r in out["rows"]}
    assert Decimal(rows["light"]["fixed_cost"]).quantize(Decimal("0.01")) == Decimal("23.08")
    # F $2 a month x 3/31 (the window, 1-3 Oct) = 0.1935... -> $0.19, x 2 customers
    assert Decimal(out["total"]["plan_fixed_cost"]) == Decimal("0.38")
    res = CliRunner().invoke(app, ["margins", "--by", "plan"])
    assert res.exit_code == 0, res.output
    assert "plan F" in res.output and "allocated from the project's fixed costs" in res.output


def test_margins_json_scales(app: typer.Typer) -> None:
    """Issue 17, item 9: money to the micro-dollar, ratios to 6 places, in the JSON text."""
    res = CliRunner().invoke(app, ["margins", "--by", "customer", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    rows = {r["customer"]: r for r in out["rows"]}
    # light: revenue 20 x 3/31 -> 1.94; variable 5 x 0.21 = 1.05; plan F 2 x 3/31 -> 0.19
    #   gross margin 1.94 - 1.05 - 0.19 = 0.70; 0.70 / 1.94 = 0.3608247422... -> "0.360825"
    assert rows["light"]["revenue"] == "1.94"
    assert rows["light"]["gross_margin"] == "0.7"  # trailing zeros dropped by the answer
    assert rows["light"]["gross_margin_pct"] == "0.360825"
    # heavy: 1.94 - 60 x 0.21 - 0.19 = -10.85; -10.85 / 1.94 = -5.5927835051... -> "-5.592784"
    assert rows["heavy"]["gross_margin_pct"] == "-5.592784"
    assert out["window"] == {
        "since": "2026-10-01",
        "until": "2026-10-04",
        "last_day": "2026-10-03",
        "days": 3,
    }
