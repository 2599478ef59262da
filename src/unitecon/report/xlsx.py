"""The TCO as a spreadsheet a finance team can audit: inputs, then live formulas.

Sheets:
    Summary   per alternative: total cost, NPV, PV of cost, NPV minus the baseline's (formulas)
    Inputs    every number of the model, one row each, by its path; the monthly rate
    Sizing    fleet sizes derived from the inputs (owned servers for the peak)
    Volume    month by month: tasks, adoption, AI tasks
    <alt>     one sheet per alternative: each cost line, value, total cost, net cash flow

Every cell after `Inputs` is a formula that references the inputs, written by evaluating the
same model code as the CLI (`unitecon.models.tco.evaluate`) in a `SheetEnv`, so changing an
input in Excel changes the result and the NPV equals the CLI's. Distributions enter at their
central value; the `distribution` column says what the Monte Carlo draws.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from unitecon.models import tco
from unitecon.models.calc import CENT, Env, Q, Sym
from unitecon.models.uncertainty import central

HEADER_ROW = 1
BOLD = Font(bold=True)
MONEY_FORMAT = "#,##0.00"


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet title (at most 31 characters, none of ``[]:*?/\\``)."""
    base = re.sub(r"[\[\]:*?/\\']", "_", name)[:31] or "sheet"
    title, i = base, 2
    while title.lower() in taken:
        suffix = f" ({i})"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(title.lower())
    return title


def ref(sheet: str, col: int, row: int) -> str:
    return f"'{sheet}'!${get_column_letter(col)}${row}"


class SheetEnv(Env):
    """Evaluates the model into formulas: inputs are cell references, columns are written."""

    def __init__(self, wb: Workbook, inputs: dict[str, str], titles: dict[str, str]) -> None:
        super().__init__(inputs)
        self.wb, self.titles = wb, titles
        self.cols: dict[tuple[str, str], int] = {}
        self.sizing_rows = 1

    def __getitem__(self, path: str) -> Q:
        return Sym(self.values[path])

    def money(self, x: Q) -> Q:
        if isinstance(x, Sym):
            return Sym(f"ROUND(ROUND({x.text},9),2)")
        return Decimal(x).quantize(CENT)

    def sheet(self, name: str) -> Worksheet:
        title = self.titles[name]
        ws: Worksheet = self.wb[title]
        return ws

    def column(self, sheet: str, name: str, t: int, value: Q) -> Q:
        ws = self.sheet(sheet)
        key = (sheet, name)
        if key not in self.cols:
            self.cols[key] = col = ws.max_column + 1 if ws.max_column > 1 else 2
            ws.cell(HEADER_ROW, col, name).font = BOLD
            ws.column_dimensions[get_column_letter(col)].width = max(12, min(len(name) + 2, 40))
        col, row = self.cols[key], HEADER_ROW + 1 + t
        cell = ws.cell(row, col, _cell_value(value))
        cell.number_format = MONEY_FORMAT
        return Sym(ref(ws.title, col, row))

    def scalar(self, sheet: str, name: str, value: Q) -> Q:
        ws = self.sheet("Sizing")
        self.sizing_rows += 1
        ws.cell(self.sizing_rows, 1, f"{sheet}: {name}")
        ws.cell(self.sizing_rows, 2, _cell_value(value))
        return Sym(ref(ws.title, 2, self.sizing_rows))


def _cell_value(value: Q) -> Any:
    if isinstance(value, Sym):
        return "=" + value.text
    return float(value) if isinstance(value, Decimal) else value


def _inputs_sheet(ws: Worksheet, model: tco.TcoModel) -> tuple[dict[str, str], str]:
    ws.append(["input", "value", "distribution (Monte Carlo)"])
    for c in ws[1]:
        c.font = BOLD
    refs: dict[str, str] = {}
    for path, x in tco.inputs(model).items():
        dist = "" if isinstance(x, Decimal) else x.model_dump_json()
        ws.append([path, float(central(x)), dist])
        refs[path] = ref(ws.title, 2, ws.max_row)
    ws.append(["monthly discount rate = (1 + annual)^(1/12) - 1"])
    row = ws.max_row
    ws.cell(row, 2, f"=(1+{refs['discount_rate']})^(1/12)-1")
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 16
    return refs, ref(ws.title, 2, row)


def workbook(model: tco.TcoModel) -> Workbook:
    """Build the workbook (not saved)."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    taken = {"summary", "inputs", "sizing", "volume"}
    inputs_ws, sizing, _volume = (wb.create_sheet(t) for t in ("Inputs", "Sizing", "Volume"))
    sizing.append(["derived value", "formula"])
    titles = {"Sizing": "Sizing", "Volume": tco.VOLUME}
    titles |= {name: sheet_title(name, taken) for name in model.alternatives}
    for name in model.alternatives:
        wb.create_sheet(titles[name])
    refs, rate = _inputs_sheet(inputs_ws, model)
    env = SheetEnv(wb, refs, titles)
    flows = tco.evaluate(model, env)
    n = model.horizon_months
    for name in ("Volume", *model.alternatives):
        ws = env.sheet(name)
        ws.cell(HEADER_ROW, 1, "month").font = BOLD
        for t in range(n + 1):
            ws.cell(HEADER_ROW + 1 + t, 1, t)
        ws.freeze_panes = "B2"
    _summary(summary, model, flows, rate)
    return wb


def _summary(ws: Worksheet, model: tco.TcoModel, flows: dict[str, tco.Flows], rate: str) -> None:
    ws.append(["alternative", "total cost", "NPV", "PV of cost", "NPV - baseline NPV"])
    for c in ws[1]:
        c.font = BOLD
    base_row = 2 + list(model.alternatives).index(model.baseline)
    for i, (name, f) in enumerate(flows.items()):
        row = 2 + i
        first, last = Sym.of(f.net[0]), Sym.of(f.net[-1])
        c0, cn = Sym.of(f.cost[0]), Sym.of(f.cost[-1])
        ws.cell(row, 1, name)
        ws.cell(row, 2, f"=SUM({c0}:{_local(cn)})")
        ws.cell(row, 3, f"={first}+NPV({rate},{_next_row(first)}:{_local(last)})")
        ws.cell(row, 4, f"={c0}+NPV({rate},{_next_row(c0)}:{_local(cn)})")
        ws.cell(row, 5, f"=C{row}-C{base_row}")
        for col in range(2, 6):
            ws.cell(row, col).number_format = MONEY_FORMAT
    ws.append([])
    ws.append(["Every figure is a live formula over the Inputs sheet; edit an input to re-run."])
    ws.column_dimensions["A"].width = 24
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 20


def _local(reference: str) -> str:
    """`'Sheet'!$C$9` -> `$C$9` (the end of a same-sheet range)."""
    return reference.split("!", 1)[1]


def _next_row(reference: str) -> str:
    sheet, cell = reference.split("!", 1)
    m = re.fullmatch(r"\$([A-Z]+)\$(\d+)", cell)
    assert m is not None
    return f"{sheet}!${m[1]}${int(m[2]) + 1}"


def write(model: tco.TcoModel, path: Path) -> Path:
    """Write the TCO workbook to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook(model).save(path)
    return path
