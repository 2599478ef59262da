"""Billing import: each source's fixture (written from the providers' published schemas)
reads into `bill_lines` with lineage; re-importing changes nothing; a later download of a
bucket replaces it; bad input names the file, the place and the field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon.billing import import_lines, read_bill
from unitecon.billing.reports import split_line_item
from unitecon.errors import InputError
from unitecon.ledger.store import Ledger

FIX = Path(__file__).parent / "fixtures"


def _import(ledger: Ledger, path: Path) -> dict[str, object]:
    fmt, lines = read_bill(path)
    return import_lines(ledger.con, str(path), fmt, lines).as_dict()


def _sum(ledger: Ledger, sql: str) -> Decimal:
    row = ledger.con.execute(sql).fetchone()
    assert row is not None
    return Decimal(row[0])


def test_openai_costs_fixture() -> None:
    fmt, lines = read_bill(FIX / "openai_costs.json")
    assert fmt == "openai_costs"
    assert len(lines) == 6
    first = lines[0]
    # 2026-11-01T00:00Z is 1793491200 s after the epoch
    assert first.period_start.isoformat() == "2026-11-01T00:00:00+00:00"
    assert first.period_end.isoformat() == "2026-11-02T00:00:00+00:00"
    assert (first.model, first.token_kind, first.account) == (
        "gpt-4o-mini-2024-07-18", "input", "proj_support",
    )  # fmt: skip
    assert first.amount == Decimal("1.1595")  # exact: parsed from the JSON text, not a float
    assert lines[3].model is None and lines[3].sku == "web search tool calls"
    assert lines[4].batch is True and lines[4].token_kind == "output"
    assert lines[5].amount == Decimal("0.000001")
    assert {line.currency for line in lines} == {"USD"}
    with Ledger(":memory:") as ledger:
        _import(ledger, FIX / "openai_costs.json")
        # 1.1595 + 0.0375 + 2.4 + 0.15 + 10.0 + 0.000001
        assert _sum(ledger, "SELECT sum(amount) FROM bill_lines") == Decimal("13.747001")


def test_openai_usage_fixture_is_paged_jsonl() -> None:
    fmt, lines = read_bill(FIX / "openai_usage.jsonl")
    assert fmt == "openai_usage"
    kinds = {(x.model, x.token_kind): x.quantity for x in lines}
    assert kinds[("gpt-4o-mini-2024-07-18", "input")] == 8_230_000  # inclusive of cached
    assert kinds[("gpt-4o-mini-2024-07-18", "cache_read")] == 500_000
    assert kinds[("o3-2025-04-16", "output")] == 2_500_000
    assert kinds[("o3-2025-04-16", "requests")] == 400
    o3 = next(x for x in lines if x.model == "o3-2025-04-16")
    assert o3.batch is True and o3.api_key_id == "key_eval_script"
    assert "page 1 data[0].results[0]" in o3.location


def test_anthropic_cost_report_amounts_are_cents() -> None:
    fmt, lines = read_bill(FIX / "anthropic_cost_report.json")
    assert fmt == "anthropic_cost"
    by_kind = {x.token_kind: x.amount for x in lines}
    # "1350.00" cents = $13.50 = 4.5M uncached input tokens x $3/M (Sonnet 4.5 list price)
    assert by_kind["uncached_input"] == Decimal("13.50")
    assert by_kind["output"] == Decimal("27.00")  # 1.8M x $15/M
    assert by_kind["cache_read"] == Decimal("0.27")  # 0.9M x $0.30/M
    assert by_kind["cache_write"] == Decimal("0.75")  # 0.2M x $3.75/M
    web = next(x for x in lines if x.model is None)
    assert web.sku == "Web Search" and web.amount == Decimal("0.50")  # 50 x $10/1000
    assert {x.batch for x in lines if x.model} == {False}


def test_anthropic_usage_report_input_is_inclusive() -> None:
    fmt, lines = read_bill(FIX / "anthropic_usage_report.json")
    assert fmt == "anthropic_usage"
    q = {x.token_kind: x.quantity for x in lines}
    # 4,500,000 uncached + 200,000 cache writes + 900,000 cache reads
    assert q["input"] == 5_600_000
    assert (q["uncached_input"], q["cache_write"], q["cache_read"], q["output"]) == (
        4_500_000, 200_000, 900_000, 1_800_000,
    )  # fmt: skip


def test_invoice_csv() -> None:
    fmt, lines = read_bill(FIX / "invoice.csv")
    assert fmt == "invoice_csv"
    assert [x.amount for x in lines] == [Decimal("12.50"), Decimal("40.125"), Decimal("18.00")]
    assert lines[2].sku == "Fine-tuning training hours" and lines[2].model is None
    assert lines[2].currency == "USD" and lines[2].quantity == 6
    assert lines[0].location.endswith("invoice.csv:2")
    assert lines[0].invoice_id == "INV-2026-11-001"


def test_every_fixture_imports_with_lineage_and_reimport_changes_nothing() -> None:
    files = sorted(FIX.iterdir())
    with Ledger(":memory:") as ledger:
        first = [_import(ledger, p) for p in files]
        n = ledger.con.execute("SELECT count(*) FROM bill_lines").fetchone()
        again = [_import(ledger, p) for p in files]
        assert ledger.con.execute("SELECT count(*) FROM bill_lines").fetchone() == n
        assert all(r["buckets_new"] and not r["buckets_unchanged"] for r in first)
        assert all(not r["buckets_new"] and not r["buckets_replaced"] for r in again)
        assert sum(int(r["buckets_unchanged"]) for r in again) == sum(
            int(r["buckets_new"]) for r in first
        )
        lineage = ledger.con.execute("SELECT count(*), count(DISTINCT source) FROM bill_imports")
        assert lineage.fetchone() == (2 * len(files), len(files))
        orphans = ledger.con.execute(
            "SELECT count(*) FROM bill_lines l ANTI JOIN bill_imports i USING (import_id)"
        ).fetchone()
        assert orphans == (0,)


def test_a_later_download_of_a_day_replaces_it(tmp_path: Path) -> None:
    page = json.loads((FIX / "openai_costs.json").read_text())
    with Ledger(":memory:") as ledger:
        _import(ledger, FIX / "openai_costs.json")
        page["data"][0]["results"][2]["amount"]["value"] = 3.0  # day 1 output re-billed
        later = tmp_path / "later.json"
        later.write_text(json.dumps(page))
        res = _import(ledger, later)
        assert (res["buckets_replaced"], res["buckets_unchanged"]) == (1, 1)
        # 1.1595 + 0.0375 + 3.0 + 0.15 + 10.0 + 0.000001: day 1 counted once, at its new value
        assert _sum(ledger, "SELECT sum(amount) FROM bill_lines") == Decimal("14.347001")


def test_line_items() -> None:
    assert split_line_item("gpt-4.1-2025-04-14, cached input") == (
        "gpt-4.1-2025-04-14", "cache_read", False,
    )  # fmt: skip
    assert split_line_item("Image models") == (None, None, None)
    assert split_line_item(None) == (None, None, None)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.json", '{"data": [{"start_time": 1, "end_time": 2, "results": [{"object": '
         '"organization.costs.result", "amount": {"value": "x"}}]}]}',
         "a.json: data[0].results[0]: amount.value: expected a decimal amount, got 'x'"),
        ("b.json", '{"data": [{"starting_at": "soon", "ending_at": "2026-11-02", "results": '
         '[{"amount": "1"}]}]}', "b.json: data[0].results[0]: starting_at: expected a timestamp"),
        ("c.json", '{"object": "list"}', "c.json: page 0: expected an object with a 'data' list"),
        ("d.json", '{"data": [{"x": 1, "results": [{"y": 2}]}]}', "d.json: not a report we know"),
        ("e.csv", "date,provider,amount\n2026-11-01,openai,1\n",
         "e.csv:1: missing column(s) model"),
        ("f.csv", "date,provider,model,amount\n2026-11-01,openai,gpt-4o,12,5\n2026-11-01,openai,"
         "gpt-4o,twelve\n", "f.csv:3: amount: expected a decimal amount, got 'twelve'"),
        ("g.json", '{"data": [{"start_time": 1, "end_time": 2, "results": [{"object": "organiza'
         'tion.usage.completions.result", "input_tokens": -5}]}]}',
         "input_tokens: expected a count >= 0"),
    ],
)  # fmt: skip
def test_bad_input_names_file_place_and_field(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as e:
        read_bill(path)
    assert message in str(e.value)
