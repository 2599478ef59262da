"""The TCO workbook, recalculated by a real formula engine (`formulas`), gives the CLI's NPV."""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from unitecon.models import tco
from unitecon.report import xlsx

formulas = pytest.importorskip("formulas")


def recalc(path: Path) -> dict[str, Any]:
    model = formulas.ExcelModel().loads(str(path)).finish()
    sol = model.calculate()
    return {k.split("]", 1)[1]: v.value[0][0] for k, v in sol.items() if hasattr(v, "value")}


def summary_npv(cells: dict[str, Any], row: int) -> Decimal:
    return Decimal(repr(float(cells[f"SUMMARY'!C{row}"]))).quantize(Decimal("0.01"))


def demo(horizon: int) -> tco.TcoModel:
    text = resources.files("unitecon.demo").joinpath("scenarios/tco.yaml").read_text()
    data = yaml.safe_load(text) | {"horizon_months": horizon}
    return tco.TcoModel.model_validate(data)


def test_workbook_npv_equals_cli(tmp_path: Path) -> None:
    m = demo(14)
    path = xlsx.write(m, tmp_path / "tco.xlsx")
    cells = recalc(path)
    result = tco.run(m)
    for i, (name, alt) in enumerate(result.alternatives.items()):
        assert summary_npv(cells, 2 + i) == alt.npv, name
        total = Decimal(repr(float(cells[f"SUMMARY'!B{2 + i}"]))).quantize(Decimal("0.01"))
        assert total == alt.total_cost, name


def test_changing_an_input_in_the_sheet_changes_the_result(tmp_path: Path) -> None:
    from test_tco import THREE_MONTHS

    m = tco.TcoModel.model_validate(yaml.safe_load(THREE_MONTHS))
    path = xlsx.write(m, tmp_path / "three.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Inputs"]
    row = next(
        r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "volume.tasks_per_month"
    )
    ws.cell(row, 2).value = 2000
    wb.save(path)
    cells = recalc(path)
    data = yaml.safe_load(THREE_MONTHS)
    data["volume"]["tasks_per_month"] = 2000
    changed = tco.run(tco.TcoModel.model_validate(data))
    assert summary_npv(cells, 2) == changed.alternatives["api"].npv
    assert summary_npv(cells, 3) == changed.alternatives["owned"].npv
    assert changed.alternatives["api"].npv != tco.run(m).alternatives["api"].npv


def test_every_monthly_cell_is_a_formula(tmp_path: Path) -> None:
    m = demo(3)
    wb = openpyxl.load_workbook(xlsx.write(m, tmp_path / "t.xlsx"))
    ws = wb["hybrid"]
    values = [c.value for row in ws.iter_rows(min_row=3, min_col=2) for c in row]
    assert values and all(isinstance(v, str) and v.startswith("=") for v in values if v is not None)


def formula_cells(path: Path) -> list[tuple[str, str, str]]:
    wb = openpyxl.load_workbook(path)
    return [
        (ws.title, c.coordinate, c.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]


#: a cell reference, with its sheet when it has one ('Sheet 2'!$B$7, $C$9, C12)
REFERENCE = re.compile(r"(?:'[^']*'!)?\$?[A-Z]{1,3}\$?\d+")
NUMBER = re.compile(r"(?<![A-Za-z_.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def test_no_formula_holds_a_constant_but_0_or_1(tmp_path: Path) -> None:
    """730 h/month, 12 months/year, the rounding places, months to peak, GPUs per replica,
    the month index: all are input cells; a formula may hold only 0 and 1."""
    path = xlsx.write(demo(14), tmp_path / "t.xlsx")
    cells = formula_cells(path)
    assert len(cells) > 500
    bad = []
    for sheet, coord, text in cells:
        literals = NUMBER.findall(REFERENCE.sub("", text))
        if any(Decimal(x) not in (0, 1) for x in literals):
            bad.append((sheet, coord, text[:160], literals))
    assert bad == [], bad[:5]
    # the conventions are labelled input cells with units
    ws = openpyxl.load_workbook(path)["Inputs"]
    rows = {r[0]: r for r in ws.iter_rows(values_only=True) if r[0]}
    assert rows["hours_per_month"][1:3] == (730, "h/month")
    assert rows["months_per_year"][1:3] == (12, "months/year")
    assert rows["value.adoption.months_to_peak"][1] == 9  # the demo file's ramp


def test_inputs_have_units_and_sources(tmp_path: Path) -> None:
    measured = {
        "volume.from_ledger": {"feature": "support-agent", "value": 4565, "cost": "1343.74",
                               "tasks": 9004, "successful_tasks": 8934, "days": "60"},
    }  # fmt: skip
    path = xlsx.write(demo(3), tmp_path / "t.xlsx", measured=measured)
    ws = openpyxl.load_workbook(path)["Inputs"]
    assert [c.value for c in ws[1]] == xlsx.INPUT_COLUMNS
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    # units from the TCO file's field documentation (docs/scenarios.md)
    assert rows["volume.tasks_per_month"][2] == "tasks/month"
    assert rows["alternatives.status_quo.people[0].loaded_salary_annual"][2] == "USD/FTE-year"
    assert rows["alternatives.self_hosted.routes[0].gpus.usd_per_kwh"][2] == "USD/kWh"
    assert rows["discount_rate"][2] == "1/year"
    assert rows["volume.tasks_per_month"][3].startswith("measured in the ledger: feature "
                                                         "support-agent")  # fmt: skip
    assert rows["value.loaded_hourly_cost"][3] == "TCO file"
    assert all(r[2] for r in rows.values() if r[1] is not None), "every input has a unit"
    assert all(r[3] for r in rows.values() if r[1] is not None), "every input has a source"


def test_cached_values_are_the_model_s(tmp_path: Path) -> None:
    """A viewer that does not recalculate reads the values the CLI computes."""
    m = demo(14)
    path = xlsx.write(m, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path, data_only=True)
    result = tco.run(m)
    summary = wb["Summary"]
    for i, alt in enumerate(result.alternatives.values()):
        assert Decimal(repr(summary[f"C{2 + i}"].value)).quantize(Decimal("0.01")) == alt.npv
        assert Decimal(repr(summary[f"B{2 + i}"].value)).quantize(Decimal("0.01")) == (
            alt.total_cost
        )
    # a monthly cell deep in an alternative: month 7's total cost and net cash flow
    ws = wb["hybrid"]
    head = {c.value: c.column for c in ws[1]}
    hybrid = result.alternatives["hybrid"]
    assert Decimal(repr(ws.cell(2 + 7, head["total cost"]).value)) == hybrid.cost[7]
    assert Decimal(repr(ws.cell(2 + 7, head["net cash flow"]).value)) == hybrid.net[7]
    # every formula cell carries a value
    formulas_wb = openpyxl.load_workbook(path)
    empty = [
        (ws.title, c.coordinate)
        for ws in formulas_wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
        and c.value.startswith("=")
        and wb[ws.title][c.coordinate].value is None
    ]
    assert empty == []
    # the returns sheet: NPV and IRR against the baseline
    ret = wb["Returns"]
    rows = {r[0]: r for r in ret.iter_rows(min_row=2, max_row=5, values_only=True)}
    for name, alt in result.alternatives.items():
        inc = alt.incremental
        if inc is None:
            continue
        assert Decimal(repr(rows[name][1])).quantize(Decimal("0.01")) == inc.npv
        if inc.irr_monthly is not None:
            assert Decimal(repr(rows[name][2])) == inc.irr_monthly
        assert rows[name][4] == ("never" if inc.payback_month is None else float(inc.payback_month))


def test_returns_sheet_recalculates_to_the_cli(tmp_path: Path) -> None:
    m = demo(14)
    path = xlsx.write(m, tmp_path / "t.xlsx")
    cells = recalc(path)
    result = tco.run(m)
    others = [k for k in m.alternatives if k != m.baseline]
    for i, name in enumerate(others):
        inc = result.alternatives[name].incremental
        assert inc is not None
        got = Decimal(repr(float(cells[f"RETURNS'!B{2 + i}"]))).quantize(Decimal("0.01"))
        assert got == inc.npv, name


def test_tco_cli_writes_monte_carlo_and_tornado_sheets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from unitecon.cli.main import run

    monkeypatch.setenv("UNITECON_HOME", str(tmp_path))
    text = resources.files("unitecon.demo").joinpath("scenarios/tco.yaml").read_text()
    src = tmp_path / "tco.yaml"
    src.write_text(text.replace("horizon_months: 36", "horizon_months: 12"))
    book = tmp_path / "tco.xlsx"
    capsys.readouterr()
    argv = ["tco", str(src), "--xlsx", str(book), "--draws", "200", "--json",
            "--charts", str(tmp_path)]  # fmt: skip
    assert run(argv) == 0
    out = json.loads(capsys.readouterr().out)
    wb = openpyxl.load_workbook(book, data_only=True)
    mc = {r[0]: r for r in wb["Monte Carlo"].iter_rows(min_row=3, values_only=True)}
    for key, q in out["monte_carlo"]["outputs"].items():
        if q is None:  # e.g. a payback that never comes in any draw
            assert mc[key][1] == "undefined in every draw"
            continue
        assert mc[key][1:4] == (float(q["p10"]), float(q["p50"]), float(q["p90"])), key
    bars = list(wb["Tornado"].iter_rows(min_row=3, values_only=True))
    for b, row in zip(out["tornado"]["bars"], bars, strict=False):
        assert row[0] == b["input"] and row[3] == float(b["swing"])
    assert "Returns" in wb.sheetnames
