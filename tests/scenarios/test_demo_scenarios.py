"""The demo writes its what-if and TCO files into the data directory, editable: the TCO is
anchored to the ledger (volume and today's cost per task measured there), the showcase
what-if finds savings on the demo's own traffic, and a user's edit is never overwritten."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from unitecon.cli.main import run
from unitecon.models import scenario as sc
from unitecon.models import tco
from unitecon.pipeline import write_demo_scenarios


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-day demo ledger and the demo's project file, in a data directory."""
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("scenarios")
    demo_ledger(home, days=7, customers=12)
    return home


def test_files_are_written_once_and_anchored(tmp_path: Path) -> None:
    got = write_demo_scenarios(tmp_path)
    assert set(got) == {"whatif.yaml", "whatif-growth.yaml", "tco.yaml"}
    m = sc.load(tco.TcoModel, got["tco.yaml"])
    assert m.volume.from_ledger is not None and m.volume.from_ledger.feature == "support-agent"
    assert m.volume.tasks_per_month is None
    [today] = m.alternatives["status_quo"].routes
    assert today.from_ledger is not None and today.from_ledger.feature == "support-agent"
    edited = got["whatif.yaml"].read_text() + "# mine\n"
    got["whatif.yaml"].write_text(edited)
    write_demo_scenarios(tmp_path)
    assert got["whatif.yaml"].read_text() == edited  # the user's edit stays


def test_tco_measures_the_ledger_s_volume(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files = write_demo_scenarios(tmp_path)
    capsys.readouterr()
    argv = ["tco", str(files["tco.yaml"]), "--json", "--draws", "0", "--charts", str(tmp_path)]
    assert run(argv) == 0
    out = json.loads(capsys.readouterr().out)
    volume = Decimal(out["measured_from_ledger"]["volume.from_ledger"]["value"])
    # second path: the support-agent tasks in the ledger (SQL), over the ledger's whole UTC
    # days, scaled to a month of 730 hours (docs/scenarios.md), to whole tasks
    con = duckdb.connect(str(home / "ledger.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    ((tasks, days),) = con.execute(
        "SELECT count(DISTINCT task_id) FILTER (WHERE feature = 'support-agent'), "
        "date_diff('day', min(ts)::DATE, max(ts)::DATE) + 1 FROM events"
    ).fetchall()
    con.close()
    want = (Decimal(tasks) * Decimal(730) / 24 / days).to_integral_value()
    assert abs(volume - want) <= 1, (volume, want)
    assert volume < 100_000  # the demo's traffic, not the old 2.5M tasks a month


def test_showcase_what_if_saves(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = write_demo_scenarios(home)
    capsys.readouterr()
    assert run(["whatif", str(files["whatif.yaml"]), "--json", "--charts", str(home)]) == 0
    out = json.loads(capsys.readouterr().out)
    before = Decimal(out["baseline"]["cost"])
    after = Decimal(out["scenario_result"]["cost"])
    assert 0 < after < before, (before, after)
    # JSON money is quantized to 1e-6: the difference of two is within 1e-6 of the savings
    assert abs(Decimal(out["savings"]) - (before - after)) <= Decimal("0.000001")


def test_levers_alternative_is_measured_after_the_what_if(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`from_ledger.whatif`: the levers route's cost per task is the support feature's cost
    after replaying whatif.yaml, which `whatif --json` reports by feature (a second path)."""
    files = write_demo_scenarios(tmp_path)
    m = sc.load(tco.TcoModel, files["tco.yaml"])
    [route] = m.alternatives["levers"].routes
    assert route.from_ledger is not None and route.from_ledger.whatif == "whatif.yaml"
    capsys.readouterr()
    argv = ["tco", str(files["tco.yaml"]), "--json", "--draws", "0", "--charts", str(tmp_path)]
    assert run(argv) == 0
    out = json.loads(capsys.readouterr().out)
    got = out["measured_from_ledger"]["alternatives.levers.routes[0].from_ledger"]
    today = out["measured_from_ledger"]["alternatives.status_quo.routes[0].from_ledger"]
    assert run(["whatif", str(files["whatif.yaml"]), "--json", "--charts", str(tmp_path)]) == 0
    wi = json.loads(capsys.readouterr().out)
    [support] = [g for g in wi["by"]["feature"] if g["key"] == "support-agent"]
    # JSON money is quantized to 1e-6 on both sides
    assert abs(Decimal(got["cost"]) - Decimal(support["scenario"]["cost"])) <= Decimal("2e-6")
    assert abs(Decimal(today["cost"]) - Decimal(support["baseline"]["cost"])) <= Decimal("2e-6")
    assert Decimal(got["value"]) < Decimal(today["value"])  # the levers lower the unit cost
    assert got["tasks"] == today["tasks"]  # same traffic: the route changes the cost only
