"""FOCUS 1.2 export of the demo: the FinOps Foundation's `focus-validator` (PyPI, in
.venv-focus: `make focus-validator`) passes it, CSV and Parquet; its money adds up to the
ledger's own figures, reached by other paths."""

from __future__ import annotations

import csv
import os
import re
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from unitecon.analysis import Analysis
from unitecon.attribution import fixed
from unitecon.attribution.costed import variable_costs
from unitecon.economics.costs import costs_by
from unitecon.ledger.store import Ledger
from unitecon.pricing import priced_events
from unitecon.reconcile import focus

ROOT = Path(__file__).parents[2]
VALIDATOR = ROOT / ".venv-focus" / "bin" / "focus-validator"
#: What unitecon supports of FOCUS's optional features (the validator's applicability criteria).
CRITERIA = (
    "ACCOUNT_NAMING_SUPPORTED,NEGOTIATED_PRICING_SUPPORTED,PUBLIC_PRICE_LIST_SUPPORTED,"
    "USAGE_MEASUREMENT_SUPPORTED,UNIT_PRICING_SUPPORTED,RESOURCE_TYPE_ASSIGNMENT_SUPPORTED,"
    "TAGGING_SUPPORTED,BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED"
)
#: The 1.2 requirements model states InvoiceId-C-004-C (null when not on an invoice) and
#: InvoiceId-C-005-C (not null when on one) with no condition a dataset can show, so one
#: of them fails whatever the column holds. The ledger's cost is on no invoice: InvoiceId is
#: null, C-004 passes, C-005 is reported.
UNCHECKABLE = {"InvoiceId-C-005-C"}


@pytest.fixture(scope="module")
def rows(demo_ledger: tuple[Path, Any, Path]) -> list[dict[str, Any]]:
    path, project, _ = demo_ledger
    with Ledger(path, read_only=True) as ledger, Analysis(ledger, project) as analysis:
        return focus.focus_rows(analysis)


def _validate(path: Path, criteria: str | None) -> tuple[set[str], int]:
    if not VALIDATOR.exists():
        if os.environ.get("CI"):
            pytest.fail("focus-validator is not installed: `make focus-validator`")
        pytest.skip("focus-validator is not installed: run `make focus-validator`")
    site = next((ROOT / ".venv-focus" / "lib").glob("python*/site-packages"))
    cmd = [str(VALIDATOR), "--data-file", str(path), "--validate-version", "1.2",
           "--block-download", "--output-type", "console"]  # fmt: skip
    if criteria:
        cmd += ["--applicability-criteria", criteria]
    # the validator reads its currency list relative to the working directory
    out = subprocess.run(cmd, cwd=site, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    failed = set(re.findall(r"^❌ (\S+): FAIL", out.stdout, flags=re.M))
    passed = len(re.findall(r"^✅ ", out.stdout, flags=re.M))
    return failed, passed


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_focus_validator_passes_the_demo_export(
    rows: list[dict[str, Any]], tmp_path: Path, suffix: str
) -> None:
    path = focus.write(rows, tmp_path / f"focus{suffix}")
    failed, passed = _validate(path, CRITERIA)
    assert failed <= UNCHECKABLE, f"FOCUS rules failed: {sorted(failed - UNCHECKABLE)}"
    assert passed > 200  # the checks really ran


def test_focus_validator_default_rules(rows: list[dict[str, Any]], tmp_path: Path) -> None:
    failed, passed = _validate(focus.write(rows, tmp_path / "focus.csv"), None)
    assert failed <= UNCHECKABLE and passed > 100


def test_columns_and_units(rows: list[dict[str, Any]], tmp_path: Path) -> None:
    # the FOCUS columns, from the spec's tags (shared/data/focus-columns.csv)
    with (Path(__file__).parent / "spec" / "focus-columns.csv").open() as f:
        spec = {r["name"]: r for r in csv.DictReader(f)}
    table = pq.read_table(focus.write(rows, tmp_path / "f.parquet"))
    names = table.column_names
    custom = [n for n in names if n.startswith("x_")]
    assert names[-len(custom) :] == custom  # custom columns after FOCUS's
    for name, col in spec.items():
        introduced = col["focus_versions"].split(";")[0].removeprefix("introduced ").strip()
        if col["required_optional"].startswith("Mandatory") and introduced <= "1.2":
            assert name in names, name
    tokens = [r for r in rows if r["ConsumedUnit"] == "Tokens"]
    assert tokens and {r["PricingUnit"] for r in tokens} == {"1000000 Tokens"}
    assert {r["SkuMeter"] for r in tokens} == {"Input Tokens", "Output Tokens"}
    assert {r["ServiceCategory"] for r in rows} == {"AI and Machine Learning"}
    for r in rows:  # the product FOCUS requires, to the validator's relative 1e-9
        assert abs(r["ListUnitPrice"] * r["PricingQuantity"] - r["ListCost"]) <= Decimal(
            "1e-9"
        ) * max(abs(r["ListCost"]), Decimal(1))


def test_money_adds_up_to_the_ledger(
    demo_ledger: tuple[Path, Any, Path], rows: list[dict[str, Any]]
) -> None:
    path, project, _ = demo_ledger
    with Ledger(path, read_only=True) as ledger:
        costed = variable_costs(priced_events(ledger, project), project)
        try:
            variable = sum(r["cost"] for r in costs_by(costed.events, ["provider"]))
            idle = costed.idle_total
            fixed_total = sum(
                ch.amount for fc in project.fixed_costs for ch in fixed.charges(fc, costed.window)
            )
            t = costed.events
            tin = t.filter(t.cost_kind == "token").input_tokens.sum().to_pyarrow().as_py()
        finally:
            costed.release()
    by_service = focus.totals(rows)
    usage = sum(r["BilledCost"] for r in rows if r["ServiceName"] != "Fixed costs"
                and "idle" not in r["SkuId"])  # fmt: skip
    assert usage == variable  # every event's variable cost, once
    assert sum(r["BilledCost"] for r in rows if "idle" in r["SkuId"]) == idle
    assert by_service["Fixed costs"] == fixed_total
    # no sampled events in the demo: token quantities are the ledger's own
    assert sum(r["ConsumedQuantity"] for r in rows if r["x_TokenKind"] == "input") == tin
    anthropic = [r for r in rows if r["ProviderName"] == "Anthropic"
                 and str(r["ChargePeriodStart"]) >= "2026-11-01"]  # fmt: skip
    for r in anthropic:  # the project's 10 % Anthropic discount from November
        assert abs(r["BilledCost"] - r["ListCost"] * Decimal("0.9")) < Decimal("0.000001")
