"""One window for every figure of a question: the headline's cost, its revenue and its margin
cover the same days, whatever the window holds (a new user's report past the data said
"fully loaded cost $23,990, revenue $8,280, gross margin $5,502": the cost covered the 51
days asked, revenue and margin the 5 days that held events; and the service's margins of a
window holding no event covered *today*).

By hand. Customer A on a $300/month plan; a $3,000/month platform cost (driver: requests);
one call a day on 2026-04-10..14, 1M input tokens each at an overridden $2.00/M: variable
cost 5 x $2.00 = $10.00.

    April + May asked (the data: 5 days of April)
        fixed    3,000 x 2 months              = 6,000.00
        revenue    300 x 2 months              =   600.00
        cost     10.00 + 6,000.00              = 6,010.00
        margin   600.00 - 6,010.00             = -5,410.00
    July asked (no event): fixed 3,000.00, revenue 300.00, margin -2,700.00, July's days
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon import config
from unitecon.analysis.answers import Filters
from unitecon.analysis.core import Analysis
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

YAML = """
pricing:
  overrides:
    - {provider: openai, model: gpt-4o-mini, since: 2026-01-01, input_mtok: 2.00, output_mtok: 8.00}
fixed_costs:
  - {name: platform, monthly: "3000", driver: requests}
revenue:
  plans:
    starter: {monthly_fee: 300, fixed_cost_per_customer: 0}
  customers:
    A: {plan: starter}
"""
APRIL_MAY = Filters(since=dt.date(2026, 4, 1), until=dt.date(2026, 6, 1))
JULY = Filters(since=dt.date(2026, 7, 1), until=dt.date(2026, 8, 1))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("one-window")
    (home / "unitecon.yaml").write_text(YAML)
    rows = [
        {
            "event_id": f"e{d}",
            "ts": dt.datetime(2026, 4, d, 12, tzinfo=dt.UTC),
            "source": f"t:{d}",
            "feature": "search",
            "customer_id": "A",
            "task_id": f"task-{d}",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "input_tokens": 1_000_000,
            "output_tokens": 0,
        }
        for d in range(10, 15)
    ]
    with Ledger(home / "ledger.duckdb") as led:
        led.ingest("t", [Chunk(schema.to_table(rows))])
    return home


def _ask(home: Path, f: Filters) -> tuple[object, object]:
    project = config.load(home / "unitecon.yaml")
    with (
        Ledger(home / "ledger.duckdb", read_only=True) as ledger,
        Analysis(ledger, project, home / "unitecon.yaml") as a,
    ):
        return a.summary(f), a.margins(f, by="customer")


def test_the_headline_s_cost_revenue_and_margin_cover_the_days_asked(home: Path) -> None:
    s, m = _ask(home, APRIL_MAY)
    assert s.variable_cost == Decimal("10.00")  # type: ignore[attr-defined]
    assert s.fixed_cost == Decimal("6000")  # type: ignore[attr-defined]
    assert s.total_cost == Decimal("6010.00")  # type: ignore[attr-defined]
    assert s.revenue == Decimal("600")  # type: ignore[attr-defined]
    assert s.gross_margin == Decimal("-5410.00")  # type: ignore[attr-defined]
    # the margins of the same question: the same days and the same totals
    assert (m.window["since"], m.window["until"]) == ("2026-04-01", "2026-06-01")  # type: ignore[attr-defined]
    assert m.total["revenue"] == Decimal("600")  # type: ignore[attr-defined]
    assert m.total["gross_margin"] == Decimal("-5410.00")  # type: ignore[attr-defined]


def test_a_window_holding_no_event_is_the_window_asked_not_today(home: Path) -> None:
    _, m = _ask(home, JULY)
    assert (m.window["since"], m.window["until"]) == ("2026-07-01", "2026-08-01")  # type: ignore[attr-defined]
    assert m.total["revenue"] == Decimal("300")  # type: ignore[attr-defined]
    assert m.total["gross_margin"] == Decimal("-2700")  # type: ignore[attr-defined]
