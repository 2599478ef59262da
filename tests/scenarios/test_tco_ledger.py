"""TCO numbers measured in the ledger: cost per task and per successful task, tasks per
month, worked out by hand from the rate card; errors name the file and the field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from unitecon.cli import scenarios
from unitecon.config import Project
from unitecon.economics import replay
from unitecon.errors import UniteconError
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import DB_NAME, Ledger
from unitecon.models import scenario as sc
from unitecon.models import tco

T0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
# gpt-4o list price: $2.50 per million input and $10 per million output tokens, so one
# call of 1,000 in + 200 out costs $0.0025 + $0.002 = $0.0045.
CALL = Decimal("0.0045")


def rows() -> list[dict[str, Any]]:
    def call(i: int, feature: str, task: str, model: str, ok: bool | None) -> dict[str, Any]:
        return {
            "event_id": f"e{i}",
            "ts": T0 + dt.timedelta(minutes=i),
            "provider": "openai",
            "model": model,
            "input_tokens": 1000,
            "output_tokens": 200,
            "feature": feature,
            "task_id": task,
            "accepted": ok,
            "source": f"test:{i}",
        }

    return [
        call(0, "support", "a", "gpt-4o", None),
        call(1, "support", "a", "gpt-4o", True),  # task a: 2 calls, accepted
        call(2, "support", "b", "gpt-4o", False),  # task b: 1 call, rejected
        call(3, "search", "c", "gpt-4o-mini", True),
    ]


MODEL = """
horizon_months: 3
baseline: per_task
volume:
  from_ledger: {feature: support}
alternatives:
  per_task:
    routes:
      - {name: measured, from_ledger: {feature: support}}
  per_success:
    routes:
      - {name: measured, from_ledger: {feature: support, per: successful_task}}
"""


def ledger(path: Path | str = ":memory:") -> Ledger:
    led = Ledger(path)
    led.ingest("test", [Chunk(schema.to_table(rows()))])
    return led


def test_cost_per_task_and_volume_measured_by_hand() -> None:
    led = ledger()
    m = sc.parse(tco.TcoModel, MODEL, "tco.yaml")
    r, found = tco.resolve_ledger(m, lambda f: replay.measure_feature(led, Project(), f))
    # 3 calls x $0.0045 over 2 tasks; over the 1 successful task (a)
    assert r.alternatives["per_task"].routes[0].usd_per_task == 3 * CALL / 2
    assert r.alternatives["per_success"].routes[0].usd_per_task == 3 * CALL
    # 2 tasks in one whole UTC day: 2 x (730 / 24) = 60.83 -> 61 tasks a month
    assert r.volume.tasks_per_month == 61
    assert found["volume.from_ledger"]["days"] == 1
    assert tco.ledger_fields(r) == []
    tco.run(r)  # resolved: runs


def test_window_and_unknown_feature() -> None:
    led = ledger()
    week = tco.FromLedger(
        feature="support", since=dt.date(2026, 10, 1), until=dt.date(2026, 10, 11)
    )
    got = replay.measure_feature(led, Project(), week)
    assert (got.tasks, got.successful_tasks, got.cost, got.days) == (2, 1, 3 * CALL, 10)
    assert got.tasks_per_month() == 6  # 2 x 30.4167 / 10 = 6.08
    with pytest.raises(UniteconError, match=r"feature 'suport'.*features there: search, support"):
        replay.measure_feature(led, Project(), tco.FromLedger(feature="suport"))


def test_unresolved_model_is_refused() -> None:
    m = sc.parse(tco.TcoModel, MODEL, "tco.yaml")
    with pytest.raises(UniteconError, match=r"volume\.from_ledger: measured from the ledger"):
        tco.run(m)


def test_one_source_per_number() -> None:
    bad = MODEL.replace(
        "{name: measured, from_ledger: {feature: support}}",
        "{name: x, usd_per_task: 1, from_ledger: {feature: support}}",
    )
    with pytest.raises(UniteconError, match="give `usd_per_task` or `from_ledger`"):
        sc.parse(tco.TcoModel, bad, "tco.yaml")


def _app() -> typer.Typer:
    a = typer.Typer()
    scenarios.register(a)
    return a


def test_cli_measures_from_the_ledger_and_names_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNITECON_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tco.yaml"
    path.write_text(MODEL)
    args = ["tco", str(path), "--json", "--draws", "0", "--charts", str(tmp_path)]
    out = CliRunner().invoke(_app(), args)
    assert out.exit_code != 0
    assert f"{path}: volume.from_ledger:" in str(out.exception)
    assert "no ledger at" in str(out.exception).lower()  # the core's message, engine-neutral
    ledger(tmp_path / DB_NAME).close()
    out = CliRunner().invoke(_app(), args)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    measured = data["measured_from_ledger"]
    value = measured["alternatives.per_task.routes[0].from_ledger"]["value"]
    assert Decimal(value) == 3 * CALL / 2
    path.write_text(MODEL.replace("feature: support, per", "feature: suport, per"))
    out = CliRunner().invoke(_app(), args)
    assert "alternatives.per_success.routes[0].from_ledger: no events of feature 'suport'" in str(
        out.exception
    )
