"""The TCO as a spreadsheet a finance team can audit: inputs, then live formulas.

Sheets:
    Summary      per alternative: total cost, NPV, PV of cost, NPV minus the baseline's
    Inputs       every number of the model, one row each: value, unit, source (the TCO file,
                 measured in the ledger, the performance model, a convention), the Monte
                 Carlo distribution; then the conventions and integer settings the formulas
                 use (hours per month, months per year, GPUs per replica, ...); the monthly rate
    Sizing       fleet sizes derived from the inputs (owned servers for the peak)
    Volume       month by month: tasks, adoption, AI tasks
    <alt>        one sheet per alternative: each cost line, value, total cost, net cash flow
    Returns      each alternative against the baseline: the monthly difference of net cash
                 flow, its NPV and IRR (formulas), payback month and break-even volume
    Monte Carlo  P10 / P50 / P90 and mean of each output over the draws
    Tornado      the output at each uncertain input's P10 and P90, largest swing first

Every cell after `Inputs` is a formula over input cells, written by evaluating the same model
code as the CLI (`unitecon.models.tco.evaluate`) in a `SheetEnv`, so changing an input in
Excel changes the result and the NPV equals the CLI's. No formula holds a number other than
0 or 1: 730 hours a month, 12 months a year, the rounding places and the file's integer
settings are named input cells (`Env.named`). Each formula cell also carries its value
(the same model evaluated exactly, `ExactEnv`), so a viewer that does not recalculate
(a preview, a web viewer, pandas) shows the numbers; Excel recalculates on open.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from unitecon.models import tco
from unitecon.models.calc import CENT, Env, ExactEnv, Q, Sym
from unitecon.models.uncertainty import central, centrals, is_dist
from unitecon.terminal import money

HEADER_ROW = 1
BOLD = Font(bold=True)
MONEY_FORMAT = "#,##0.00"
GUARD_PLACES = 9
"""Places a money amount is rounded to before cents, as `calc.ExactEnv` does."""
INPUT_COLUMNS = ["input", "value", "unit", "source", "distribution (Monte Carlo)"]


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


Key = tuple[str, str, int]


class SheetEnv(Env):
    """Evaluates the model into formulas: inputs are cell references, columns are written."""

    def __init__(self, wb: Workbook, inputs: dict[str, str], titles: dict[str, str]) -> None:
        super().__init__(inputs)
        self.wb, self.titles = wb, titles
        self.cols: dict[tuple[str, str], int] = {}
        self.cells: dict[Key, tuple[str, int, int]] = {}
        self.scalars: list[tuple[str, int, int]] = []
        self.sizing_rows = 1
        self.named_refs: dict[str, str] = {}
        self.month_col: dict[int, str] = {}

    def __getitem__(self, path: str) -> Q:
        return Sym(self.values[path])

    def named(self, key: str, x: Decimal | int, unit: str = "1", source: str = "") -> Q:
        if key not in self.named_refs:
            ws = self.wb["Inputs"]
            ws.append([key, x, unit, source or "TCO file", ""])
            self.named_refs[key] = ref(ws.title, 2, ws.max_row)
        return Sym(self.named_refs[key])

    def month(self, t: int) -> Q:
        return Sym(ref(self.titles["Volume"], 1, HEADER_ROW + 1 + t))

    def ceil(self, x: Q) -> Q:
        if isinstance(x, Sym):
            guard = self.named("rounding: guard places", GUARD_PLACES, "places", "convention")
            return Sym(f"ROUNDUP(ROUND({x.text},{guard}),0)")
        return super().ceil(x)

    def money(self, x: Q) -> Q:
        if isinstance(x, Sym):
            guard = self.named("rounding: guard places", GUARD_PLACES, "places", "convention")
            cents = self.named("rounding: cents places", 2, "places", "convention: cents")
            return Sym(f"ROUND(ROUND({x.text},{guard}),{cents})")
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
        self.cells[(sheet, name, t)] = (ws.title, col, row)
        return Sym(ref(ws.title, col, row))

    def scalar(self, sheet: str, name: str, value: Q) -> Q:
        ws = self.sheet("Sizing")
        self.sizing_rows += 1
        ws.cell(self.sizing_rows, 1, f"{sheet}: {name}")
        ws.cell(self.sizing_rows, 2, _cell_value(value))
        self.scalars.append((ws.title, 2, self.sizing_rows))
        return Sym(ref(ws.title, 2, self.sizing_rows))


class RecordEnv(ExactEnv):
    """The exact evaluation, keeping every column's and scalar's value (the cached values)."""

    def __init__(self, values: Mapping[str, Q]) -> None:
        super().__init__(values)
        self.cells: dict[Key, Q] = {}
        self.scalars: list[Q] = []

    def column(self, sheet: str, name: str, t: int, value: Q) -> Q:
        self.cells[(sheet, name, t)] = value
        return value

    def scalar(self, sheet: str, name: str, value: Q) -> Q:
        self.scalars.append(value)
        return value


def _cell_value(value: Q) -> Any:
    if isinstance(value, Sym):
        return "=" + value.text
    return float(value) if isinstance(value, Decimal) else value


# -- inputs: value, unit, source ----------------------------------------------------------


def _described(obj: object, path: str, info: FieldInfo | None) -> Iterator[tuple[str, Any]]:
    """(path, field info) of every number, as `tco.inputs` walks them."""
    if isinstance(obj, Decimal) or is_dist(obj):
        yield path, info
    elif isinstance(obj, BaseModel):
        for name, fi in type(obj).model_fields.items():
            yield from _described(getattr(obj, name), f"{path}.{name}" if path else name, fi)
    elif isinstance(obj, list):
        for i, x in enumerate(obj):
            yield from _described(x, f"{path}[{i}]", info)
    elif isinstance(obj, dict):
        for k, x in obj.items():
            yield from _described(x, f"{path}.{k}", info)


def unit_of(info: FieldInfo | None) -> str:
    """The unit a field's description ends with (``[USD/month]`` -> ``USD/month``)."""
    found = re.findall(r"\[([^\[\]]+)\]", (info.description or "") if info else "")
    return found[-1] if found else "1"


def _sources(model: tco.TcoModel, measured: Mapping[str, Any]) -> dict[str, str]:
    """Input path -> where its number comes from, where not the TCO file itself."""
    out: dict[str, str] = {}
    for path, m in measured.items():
        target = path.removesuffix(".from_ledger") + (
            ".tasks_per_month" if path == "volume.from_ledger" else ".usd_per_task"
        )
        days = Decimal(str(m["days"])).quantize(Decimal("0.01"))
        cost = money(Decimal(str(m["cost"])))
        out[target] = (
            f"measured in the ledger: feature {m['feature']}, {cost} over "
            f"{m['tasks']} tasks ({m['successful_tasks']} successful) in {days} days"
        )
    for name, a in model.alternatives.items():
        for i, r in enumerate(a.routes):
            if r.gpus is not None and r.gpus.perf is not None:
                p = r.gpus.perf
                out[f"alternatives.{name}.routes[{i}].gpus.tasks_per_replica_hour"] = (
                    f"performance model: {p.model} on {p.gpu} ({p.precision}), "
                    f"TPOT {p.tpot_s} s, TTFT {p.ttft_s} s"
                )
    return out


def _inputs_sheet(
    ws: Worksheet, model: tco.TcoModel, measured: Mapping[str, Any]
) -> dict[str, str]:
    ws.append(INPUT_COLUMNS)
    for c in ws[1]:
        c.font = BOLD
    refs: dict[str, str] = {}
    info = dict(_described(model, "", None))
    source = _sources(model, measured)
    for path, x in tco.inputs(model).items():
        dist = "" if isinstance(x, Decimal) else x.model_dump_json()
        unit = unit_of(info.get(path))
        ws.append([path, float(central(x)), unit, source.get(path, "TCO file"), dist])
        refs[path] = ref(ws.title, 2, ws.max_row)
    for letter, width in zip("ABCDE", (58, 16, 16, 60, 40), strict=True):
        ws.column_dimensions[letter].width = width
    return refs


def _monthly_rate(ws: Worksheet, env: SheetEnv, refs: dict[str, str]) -> tuple[str, str]:
    """The monthly rate's row; its reference and its cell on the sheet."""
    per_year = env.named("months_per_year", 12, "months/year", "calendar")
    ws.append(
        [
            "monthly discount rate = (1 + annual)^(1 / months per year) - 1",
            f"=(1+{refs['discount_rate']})^(1/{per_year})-1",
            "1/month",
            "formula",
            "",
        ]
    )
    return ref(ws.title, 2, ws.max_row), f"B{ws.max_row}"


# -- the workbook --------------------------------------------------------------------------


class Book:
    """The workbook being built and the values its formula cells hold (for the cache)."""

    def __init__(self) -> None:
        self.wb = Workbook()
        self.cached: dict[tuple[str, str], float] = {}

    def formula(self, ws: Worksheet, row: int, col: int, text: str, value: Any) -> None:
        ws.cell(row, col, text)
        if value is not None:
            self.cached[(ws.title, f"{get_column_letter(col)}{row}")] = float(value)


def workbook(
    model: tco.TcoModel,
    *,
    measured: Mapping[str, Any] | None = None,
    monte_carlo: Mapping[str, Any] | None = None,
    tornado: Mapping[str, Any] | None = None,
) -> Book:
    """Build the workbook (not saved) and the values of its formula cells."""
    book = Book()
    wb = book.wb
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    taken = {"summary", "inputs", "sizing", "volume", "returns", "monte carlo", "tornado"}
    inputs_ws, sizing, _volume = (wb.create_sheet(t) for t in ("Inputs", "Sizing", "Volume"))
    sizing.append(["derived value", "formula"])
    titles = {"Sizing": "Sizing", "Volume": tco.VOLUME}
    titles |= {name: sheet_title(name, taken) for name in model.alternatives}
    for name in model.alternatives:
        wb.create_sheet(titles[name])
    refs = _inputs_sheet(inputs_ws, model, measured or {})
    env = SheetEnv(wb, refs, titles)
    flows = tco.evaluate(model, env)
    rate, rate_cell = _monthly_rate(inputs_ws, env, refs)
    exact = RecordEnv(centrals(tco.inputs(model)))
    tco.evaluate(model, exact)
    for key, (title, col, row) in env.cells.items():
        book.cached[(title, f"{get_column_letter(col)}{row}")] = float(exact.cells[key])
    for (title, col, row), v in zip(env.scalars, exact.scalars, strict=True):
        book.cached[(title, f"{get_column_letter(col)}{row}")] = float(v)
    result = tco.run(model)
    book.cached[(inputs_ws.title, rate_cell)] = float(result.monthly_rate)
    n = model.horizon_months
    for name in ("Volume", *model.alternatives):
        ws = env.sheet(name)
        ws.cell(HEADER_ROW, 1, "month").font = BOLD
        for t in range(n + 1):
            ws.cell(HEADER_ROW + 1 + t, 1, t)
        ws.freeze_panes = "B2"
    _summary(book, summary, model, flows, rate, result)
    _returns(book, wb.create_sheet("Returns"), model, flows, rate, result, env)
    if monte_carlo:
        _monte_carlo(wb.create_sheet("Monte Carlo"), monte_carlo)
    if tornado:
        _tornado(wb.create_sheet("Tornado"), tornado)
    return book


def _summary(
    book: Book,
    ws: Worksheet,
    model: tco.TcoModel,
    flows: dict[str, tco.Flows],
    rate: str,
    result: tco.TcoResult,
) -> None:
    ws.append(["alternative", "total cost", "NPV", "PV of cost", "NPV - baseline NPV"])
    for c in ws[1]:
        c.font = BOLD
    base_row = 2 + list(model.alternatives).index(model.baseline)
    base = result.alternatives[model.baseline]
    for i, (name, f) in enumerate(flows.items()):
        row, alt = 2 + i, result.alternatives[name]
        first, last = Sym.of(f.net[0]), Sym.of(f.net[-1])
        c0, cn = Sym.of(f.cost[0]), Sym.of(f.cost[-1])
        ws.cell(row, 1, name)
        book.formula(ws, row, 2, f"=SUM({c0}:{_local(cn)})", alt.total_cost)
        book.formula(ws, row, 3, f"={first}+NPV({rate},{_next_row(first)}:{_local(last)})", alt.npv)
        book.formula(ws, row, 4, f"={c0}+NPV({rate},{_next_row(c0)}:{_local(cn)})", alt.pv_cost)
        book.formula(ws, row, 5, f"=C{row}-C{base_row}", alt.npv - base.npv)
        for col in range(2, 6):
            ws.cell(row, col).number_format = MONEY_FORMAT
    ws.append([])
    ws.append(["Every figure is a live formula over the Inputs sheet; edit an input to re-run."])
    ws.append(["Returns: NPV, IRR and payback against the baseline; Monte Carlo and Tornado: "
               "the uncertainty (values of `unitecon tco`)."])  # fmt: skip
    ws.column_dimensions["A"].width = 24
    for letter in "BCDE":
        ws.column_dimensions[letter].width = 20


def _returns(
    book: Book,
    ws: Worksheet,
    model: tco.TcoModel,
    flows: dict[str, tco.Flows],
    rate: str,
    result: tco.TcoResult,
    env: SheetEnv,
) -> None:
    """Each alternative against the baseline: the monthly difference (formulas), its NPV and
    IRR (formulas), the payback month and break-even volume (unitecon's values)."""
    others = [k for k in model.alternatives if k != model.baseline]
    n = model.horizon_months
    head = ["alternative", "NPV vs baseline", "IRR (monthly)", "IRR (annual)",
            "payback month", "break-even tasks/month"]  # fmt: skip
    ws.append(head)
    for c in ws[1]:
        c.font = BOLD
    first_flow_row = len(others) + 4
    ws.cell(first_flow_row - 1, 1, "month").font = BOLD
    for t in range(n + 1):
        ws.cell(first_flow_row + t, 1, t)
    base_net = flows[model.baseline].net
    per_year = env.named("months_per_year", 12, "months/year", "calendar")
    for i, name in enumerate(others):
        row, col = 2 + i, 2 + i
        inc = result.alternatives[name].incremental
        assert inc is not None
        base_exact = result.alternatives[model.baseline].net
        diff = [a - b for a, b in zip(result.alternatives[name].net, base_exact, strict=True)]
        ws.cell(first_flow_row - 1, col, f"{name} - {model.baseline}").font = BOLD
        for t in range(n + 1):
            text = f"={Sym.of(flows[name].net[t])}-{Sym.of(base_net[t])}"
            book.formula(ws, first_flow_row + t, col, text, diff[t])
            ws.cell(first_flow_row + t, col).number_format = MONEY_FORMAT
        letter = get_column_letter(col)
        top, second, bottom = (
            f"${letter}${first_flow_row}",
            f"${letter}${first_flow_row + 1}",
            f"${letter}${first_flow_row + n}",
        )
        ws.cell(row, 1, name)
        book.formula(ws, row, 2, f"={top}+NPV({rate},{second}:{bottom})", inc.npv)
        ws.cell(row, 2).number_format = MONEY_FORMAT
        if inc.irr_monthly is None:
            ws.cell(row, 3, "none (no sign change)")
            ws.cell(row, 4, "none")
        else:
            book.formula(ws, row, 3, f"=IRR({top}:{bottom})", inc.irr_monthly)
            book.formula(ws, row, 4, f"=(1+C{row})^{per_year}-1", inc.irr_annual)
        ws.cell(row, 5, "never" if inc.payback_month is None else float(inc.payback_month))
        be = inc.break_even_tasks_per_month
        ws.cell(row, 6, "none" if be is None else float(be))
    note = len(others) + 2
    ws.cell(note, 1, "payback: the month the cumulative difference turns non-negative, "
            "interpolated; break-even: month-1 volume where both PVs of cost meet (unitecon "
            "values, the tco command's).")  # fmt: skip
    ws.column_dimensions["A"].width = 22
    for c in range(2, 2 + max(len(others), 5)):
        ws.column_dimensions[get_column_letter(c)].width = 22
    ws.freeze_panes = "B2"


def _monte_carlo(ws: Worksheet, mc: Mapping[str, Any]) -> None:
    ws.append([f"Monte Carlo: {mc['draws']:,} draws, seed {mc['seed']} (values)"])
    ws.append(["output", "P10", "P50", "P90", "mean", "share of draws defined"])
    for c in ws[2]:
        c.font = BOLD
    for key, q in mc["outputs"].items():
        if q is None:
            ws.append([key, "undefined in every draw"])
            continue
        ws.append([key, *(float(q[p]) for p in ("p10", "p50", "p90", "mean", "defined_share"))])
    ws.column_dimensions["A"].width = 34
    for letter in "BCDEF":
        ws.column_dimensions[letter].width = 18


def _tornado(ws: Worksheet, tor: Mapping[str, Any]) -> None:
    ws.append([f"Tornado of {tor['output']}: each uncertain input at its P10 and P90, the "
               "others at their central value (values)"])  # fmt: skip
    ws.append(["input", "output at P10", "output at P90", "swing"])
    for c in ws[2]:
        c.font = BOLD
    for b in tor["bars"]:
        ws.append(
            [
                b["input"],
                float(b["output_at_low"]),
                float(b["output_at_high"]),
                float(b["swing"]),
            ]
        )
    if tor.get("zero_swing_inputs"):
        ws.append(["no effect on it: " + ", ".join(tor["zero_swing_inputs"])])
    ws.column_dimensions["A"].width = 50
    for letter in "BCD":
        ws.column_dimensions[letter].width = 18


def _local(reference: str) -> str:
    """`'Sheet'!$C$9` -> `$C$9` (the end of a same-sheet range)."""
    return reference.split("!", 1)[1]


def _next_row(reference: str) -> str:
    sheet, cell = reference.split("!", 1)
    m = re.fullmatch(r"\$([A-Z]+)\$(\d+)", cell)
    assert m is not None
    return f"{sheet}!${m[1]}${int(m[2]) + 1}"


# -- cached values -------------------------------------------------------------------------

_EMPTY_VALUE = re.compile(r'<c r="([A-Z]+\d+)"((?: [a-z]+="[^"]*")*)><f>(.*?)</f><v\s*/></c>')


def _with_values(xml: str, values: Mapping[str, float]) -> str:
    def fill(m: re.Match[str]) -> str:
        v = values.get(m[1])
        if v is None:
            return m[0]
        return f'<c r="{m[1]}"{m[2]}><f>{m[3]}</f><v>{v!r}</v></c>'

    return _EMPTY_VALUE.sub(fill, xml)


def cache_values(path: Path, titles: list[str], cached: Mapping[tuple[str, str], float]) -> None:
    """Write each formula cell's value into the saved file (openpyxl writes formulas with an
    empty value); sheets are `xl/worksheets/sheetN.xml` in workbook order, as openpyxl saves."""
    by_sheet: dict[str, dict[str, float]] = {}
    for (title, coord), v in cached.items():
        by_sheet.setdefault(title, {})[coord] = v
    tmp = path.with_suffix(".tmp.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
            if m is not None:
                title = titles[int(m[1]) - 1]
                if title in by_sheet:
                    data = _with_values(data.decode("utf-8"), by_sheet[title]).encode("utf-8")
            dst.writestr(item, data)
    tmp.replace(path)


def write(
    model: tco.TcoModel,
    path: Path,
    *,
    measured: Mapping[str, Any] | None = None,
    monte_carlo: Mapping[str, Any] | None = None,
    tornado: Mapping[str, Any] | None = None,
) -> Path:
    """Write the TCO workbook to `path`, formulas with their values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = workbook(model, measured=measured, monte_carlo=monte_carlo, tornado=tornado)
    book.wb.calculation.fullCalcOnLoad = True  # Excel and LibreOffice recalculate on open
    book.wb.save(path)
    cache_values(path, [ws.title for ws in book.wb.worksheets], book.cached)
    return path
