"""`costs --json` and GET /api/v1/costs written from the rows' columns (`CostTable`) are the
same bytes as the `Costs` model gave before (issue 23): the old path is kept here as the
reference (one validated `CostRow` a row, the CLI's `dumps(dump(...))`, FastAPI's own
serialization of a `response_model=Costs` endpoint), and the awkward values are also
checked against figures worked out by hand."""

from __future__ import annotations

import json
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.analysis.answers import CostRow, Costs, Filters
from unitecon.analysis.cost_table import CostTable, JsonStyle
from unitecon.cli.output import _json_string, dumps
from unitecon.cli.session import dump
from unitecon.server.api import API_JSON

CLI_JSON = JsonStyle(2, _json_string)
COUNTS = ["events", "input_tokens", "output_tokens", "unpriced_events"]


# -- the reference: the path of the answer before issue 23, kept verbatim ------------------
def _old_text(v: Any) -> str | None:  # analysis/core.py `_text` before issue 23
    if v is None:
        return None
    if hasattr(v, "isoformat"):
        return str(v.isoformat())
    return str(v)


def old_costs(table: pa.Table, by: list[str], f: Filters, limit: int) -> Costs:
    """`Analysis.costs` before issue 23: `costs_by`'s rows, one validated `CostRow` each."""
    rows = []
    for r in table.to_pylist():
        row = {d: r[d] for d in by}
        row.update(
            cost=Decimal(r["cost"] or 0),
            events=int(r["events"]),
            input_tokens=int(r["input_tokens"] or 0),
            output_tokens=int(r["output_tokens"] or 0),
            unpriced_events=int(r["unpriced_events"] or 0),
        )
        rows.append(row)
    with localcontext() as exact:  # the one change: the old sum, in Python's default
        exact.prec = 80  # 28-digit context, rounded a total of $10,000 or more (29+ digits)
        total = sum((r["cost"] for r in rows), start=Decimal(0))
    shown = rows[:limit] if limit else rows
    return Costs(
        by=by,
        filters=f,
        total_cost=total,
        total_rows=len(rows),
        rows=[
            CostRow(
                dims={d: _old_text(r[d]) for d in by},
                cost=r["cost"],
                events=r["events"],
                input_tokens=r["input_tokens"],
                output_tokens=r["output_tokens"],
                unpriced_events=r["unpriced_events"],
            )
            for r in shown
        ],
    )


def old_cli(costs: Costs) -> bytes:
    """What `unitecon costs --json` printed: `emit_json(dump(got))`."""
    return (dumps(dump(costs)) + "\n").encode()


def old_api(costs: Costs) -> bytes:
    """What GET /api/v1/costs answered: FastAPI's serialization of `response_model=Costs`."""
    app = FastAPI()
    app.add_api_route("/c", lambda: costs, response_model=Costs)
    with TestClient(app) as c:
        return c.get("/c").content


def new_cli(t: CostTable) -> bytes:
    return t.json_bytes(dumps(dump(t.header())), CLI_JSON) + b"\n"


def new_api(t: CostTable) -> bytes:
    return t.json_bytes(t.header().model_dump_json(), API_JSON)


def table(rows: list[dict[str, Any]], dims: dict[str, pa.DataType]) -> pa.Table:
    """Rows as `economics.costs.cost_table` hands them back (DuckDB's types)."""
    types = {**dims, "cost": pa.decimal128(38, 24), **dict.fromkeys(COUNTS, pa.int64())}
    return pa.table({k: pa.array([r[k] for r in rows], t) for k, t in types.items()})


def row(cost: Any, **dims: Any) -> dict[str, Any]:
    return {**dims, "cost": cost, "events": 3, "input_tokens": 1200, "output_tokens": None,
            "unpriced_events": 1}  # fmt: skip


# -- awkward values, by hand --------------------------------------------------------------
AWKWARD = [
    # cost (DECIMAL(38, 24) as DuckDB sums it) -> its JSON text, half-even to 1e-6 USD
    (Decimal("0.0000005"), "0"),  # a tie below the micro-dollar: to the even 0, "0"
    (Decimal("0.0000015"), "0.000002"),  # a tie: to the even 2
    (Decimal("0.0000025"), "0.000002"),  # a tie: to the even 2
    (Decimal("-0.0000025"), "-0.000002"),  # a credit
    (Decimal("0.00000050000000001"), "0.000001"),  # past the tie: up
    (Decimal("0"), "0"),  # zero is "0"
    (None, "0"),  # nothing priced: 0
    (Decimal("5"), "5.000000"),  # integral: six places, as every DECIMAL(38, 24) sum
    (Decimal("12345678901234.5678905"), "12345678901234.567890"),  # large, a tie: even 0
    (Decimal("99999999999999.9999995"), "100000000000000.000000"),  # rounds past 14 digits
]
NAMES = ["Café ☕ 東京", 'quote " back \\ slash', "line\nbreak\ttab\x01\x1f", None, "1.23456789"]


def awkward_table() -> tuple[pa.Table, list[str]]:
    rows = [
        row(cost, customer=NAMES[i % len(NAMES)], provider=NAMES[(i + 1) % len(NAMES)])
        for i, (cost, _) in enumerate(AWKWARD)
    ]
    return table(rows, {"customer": pa.string(), "provider": pa.string()}), ["customer", "provider"]


def test_awkward_values_by_hand() -> None:
    t, by = awkward_table()
    got = json.loads(new_cli(CostTable.of(by, Filters(), t, 0)))
    assert [r["cost"] for r in got["rows"]] == [text for _, text in AWKWARD]
    # the exact sum of the costs, then rounded once:
    # 0.0000005 + 0.0000015 + 0.0000025 - 0.0000025 + 0.00000050000000001 = 0.00000250000000001
    # + 5 + 12345678901234.5678905 + 99999999999999.9999995 = 112345678901239.56789250000000001
    # -> past the tie at 1e-6: up. (Summed in Python's 28-digit context, as before issue 23,
    # it was 112345678901239.5678925000000, a tie, and came out "...567892".)
    assert got["total_cost"] == "112345678901239.567893"
    assert got["total_rows"] == len(AWKWARD)
    first = got["rows"][0]
    assert first["dims"] == {"customer": "Café ☕ 東京", "provider": 'quote " back \\ slash'}
    assert [first[k] for k in COUNTS] == [3, 1200, 0, 1]  # a null sum is 0
    names = [(r["dims"]["customer"], r["dims"]["provider"]) for r in got["rows"]]
    assert (None, "1.234568") in names  # no customer: null; `provider` is read as money (as before)
    assert ("1.23456789", "Café ☕ 東京") in names  # `customer` is a name: never rounded


@pytest.mark.parametrize("limit", [0, 3])
def test_awkward_values_same_bytes_as_before(limit: int) -> None:
    t, by = awkward_table()
    f = Filters(feature="ö", since="2026-01-01")  # type: ignore[arg-type]
    new = CostTable.of(by, f, t, limit)
    old = old_costs(t, by, f, limit)
    assert new_cli(new) == old_cli(old)
    assert new_api(new) == old_api(old)
    assert new.answer() == old  # the model itself, for the callers that read rows


def test_no_rows_and_days() -> None:
    f = Filters()
    empty = table([], {"day": pa.date32()})
    assert new_cli(CostTable.of(["day"], f, empty, 0)) == old_cli(old_costs(empty, ["day"], f, 0))
    assert new_cli(CostTable(["day"], f, Decimal(0), 0)) == old_cli(old_costs(empty, ["day"], f, 0))
    import datetime as dt

    days = table(
        [row(Decimal("1.5"), day=dt.date(2026, 1, d)) for d in (1, 2)], {"day": pa.date32()}
    )
    assert new_api(CostTable.of(["day"], f, days, 0)) == old_api(old_costs(days, ["day"], f, 0))
    assert b'"dims":{"day":"2026-01-01"},"cost":"1.500000"' in new_api(
        CostTable.of(["day"], f, days, 0)
    )


# -- any values ----------------------------------------------------------------------------
texts = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["0.5", "1E+3", "-0.0000001"]))
money = st.one_of(
    st.none(),
    st.decimals(min_value=-(10**13), max_value=10**13, places=24, allow_nan=False),
    st.decimals(min_value=-1, max_value=1, places=8, allow_nan=False),
)
counts = st.one_of(st.none(), st.integers(0, 2**62))
rows = st.lists(
    st.fixed_dictionaries(
        {
            "customer": texts,
            "status": texts,
            "cost": money,
            "events": st.integers(0, 2**62),
            "input_tokens": counts,
            "output_tokens": counts,
            "unpriced_events": counts,
        }
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, limit=st.integers(0, 4))
def test_any_rows_same_bytes_as_before(rows: list[dict[str, Any]], limit: int) -> None:
    by = ["customer", "status"]
    t = table(rows, {"customer": pa.string(), "status": pa.string()})
    new, old = CostTable.of(by, Filters(), t, limit), old_costs(t, by, Filters(), limit)
    assert new_cli(new) == old_cli(old)
    assert new_api(new) == old_api(old)


# -- end to end: the command and the read API on a demo ledger -----------------------------
@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("cost-table")
    demo_ledger(home, days=7, customers=12)
    return home


def test_command_and_api_same_bytes_as_before(
    home: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.cli.main import run
    from unitecon.economics.costs import cost_table
    from unitecon.server.app import Settings, create_app
    from unitecon.server.auth import KeyStore

    by, f = ["customer", "day"], Filters(since="2026-11-10")  # type: ignore[arg-type]
    with Analysis.open(None) as a:
        old = old_costs(cost_table(a.events(f, once=True), by), by, f, 0)
    assert len(old.rows) > 20 and any(r.dims["customer"] is None for r in old.rows)

    capsysbinary.readouterr()
    assert run(["costs", "--by", "customer,day", "--since", "2026-11-10", "--limit", "0",
                "--json"]) == 0  # fmt: skip
    assert capsysbinary.readouterr().out == old_cli(old)

    store = KeyStore(home / "keys.sqlite")
    key, _ = store.create("read", "cost table test")
    cfg = home / "unitecon.yaml"
    app = create_app(
        home / "ledger.duckdb", config.load(cfg), keys=store,
        settings=Settings(prewarm=False), config_path=cfg,
    )  # fmt: skip
    with TestClient(app) as c:
        r = c.get(
            "/api/v1/costs?by=customer,day&since=2026-11-10",
            headers={"Authorization": f"Bearer {key}"},
        )
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert "x-unitecon-generation" in r.headers
    assert r.content == old_api(old)
