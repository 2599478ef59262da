"""A one-time cost amortized over tasks charges a window what its tasks used of the
lifetime, whatever window is asked: the tasks before the window count (issue 23's window
push-down cut the events before pricing, and with them the tasks a `--since` question must
count as already amortized).

By hand. The labelling run costs $1,000 amortized over 4 tasks from 2026-02-01 ($250 per
task). Three tasks run in February, three in March, one event each:

    whole ledger  February: tasks 1-3 use 3 of 4 -> $750;  March: task 4 uses the last
                  one, tasks 5-6 nothing left -> $250;  total $1,000 (never more)
    --since 2026-03-01 (March alone): 3 tasks before the window, so March is $250, not
                  the $750 of three fresh tasks
    --until 2026-03-01 (February alone): $750

The one-time view of March says 3 tasks in the window and a window charge of $250.
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
fixed_costs:
  - {name: labelling, amount: 1000, start: 2026-02-01, amortize_tasks: 4}
"""
MARCH = dt.date(2026, 3, 1)


def _events() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for month in (2, 3):
        for i in range(3):
            rows.append(
                {
                    "event_id": f"m{month}-{i}",
                    "ts": dt.datetime(2026, month, 10 + i, 9, tzinfo=dt.UTC),
                    "source": f"t:{month}-{i}",
                    "feature": "labels",
                    "task_id": f"task-{month}-{i}",
                    "provider": "openai",
                    "model": "gpt-4o-mini",
                    "input_tokens": 1000,
                    "output_tokens": 100,
                }
            )
    return rows


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("amortized")
    (home / "unitecon.yaml").write_text(YAML)
    with Ledger(home / "ledger.duckdb") as led:
        led.ingest("t", [Chunk(schema.to_table(_events()))])
    return home


def _charges(home: Path, f: Filters) -> tuple[dict[str, Decimal], list[dict[str, object]]]:
    project = config.load(home / "unitecon.yaml")
    with (
        Ledger(home / "ledger.duckdb", read_only=True) as ledger,
        Analysis(ledger, project, home / "unitecon.yaml") as a,
    ):
        got = a.units(f, by="feature", loaded=True)
    by_month = {str(c["month"])[:7]: Decimal(str(c["amount"])) for c in got.fixed_charges}
    return by_month, got.one_time_costs


@pytest.mark.parametrize(
    ("f", "want"),
    [
        (Filters(), {"2026-02": Decimal(750), "2026-03": Decimal(250)}),
        (Filters(since=MARCH), {"2026-03": Decimal(250)}),
        (Filters(until=MARCH), {"2026-02": Decimal(750)}),
    ],
    ids=["whole", "since-march", "until-march"],
)
def test_a_window_is_charged_what_its_tasks_used(home: Path, f: Filters, want: dict) -> None:
    got, _ = _charges(home, f)
    assert got == want


def test_the_windows_charges_add_up_to_the_amount_at_most(home: Path) -> None:
    feb, _ = _charges(home, Filters(until=MARCH))
    mar, views = _charges(home, Filters(since=MARCH))
    assert sum(feb.values()) + sum(mar.values()) == Decimal(1000)
    (view,) = views
    assert view["tasks_in_window"] == 3
    assert Decimal(str(view["window_charge"])) == Decimal(250)


def test_a_what_if_replay_of_march_carries_march_s_share(home: Path) -> None:
    """The replay's baseline (no transformation) is charged as `unit --since` is."""
    from unitecon.economics import replay
    from unitecon.models.scenario import Scenario

    project = config.load(home / "unitecon.yaml")
    with Ledger(home / "ledger.duckdb", read_only=True) as ledger:
        r = replay.replay(ledger, Scenario(name="march", since=MARCH), project)
    fixed = r.baseline_inputs.allocated_fixed
    assert fixed is not None
    assert sum(fixed.values()) == Decimal(250)


def test_the_margins_of_march_carry_march_s_share(home: Path) -> None:
    """The margin model allocates the same charge as the unit metrics (the third reader)."""
    project = config.load(home / "unitecon.yaml")
    with (
        Ledger(home / "ledger.duckdb", read_only=True) as ledger,
        Analysis(ledger, project, home / "unitecon.yaml") as a,
    ):
        fixed = a.margin_model(Filters(since=MARCH)).inputs.allocated_fixed
    assert fixed is not None
    assert sum(fixed.values()) == Decimal(250)
