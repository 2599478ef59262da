"""The TCO workbook, recalculated by a real formula engine (`formulas`), gives the CLI's NPV."""

from __future__ import annotations

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
