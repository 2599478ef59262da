"""docs/metrics.md cannot drift: it is the generated list of definitions, every figure a
surface computes is on the list, and every `where` names a function that exists."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from unitecon.attribution.endpoints import EndpointUsage
from unitecon.attribution.fixed import OneTimeView
from unitecon.attribution.rollup import Aggregates
from unitecon.economics import definitions as d
from unitecon.economics.asymmetry import Asymmetry, Part
from unitecon.economics.margins import MarginRow
from unitecon.economics.metrics import UnitRow, endpoint_metrics

DOC = Path(__file__).parents[2] / "docs" / "metrics.md"
#: Fields that name or date a row, not figures.
NAMES = {"key", "label", "endpoint", "gpu", "since", "until", "days", "plan", "customer_id",
         "month", "feature", "name", "method", "amount", "lifetime_tasks_estimated",
         "tasks_in_window"}  # fmt: skip


def _names(section: tuple[d.Metric, ...]) -> set[str]:
    return {m.name for m in section}


def test_doc_is_generated_from_the_definitions() -> None:
    assert DOC.read_text(encoding="utf-8") == d.markdown(), (
        "docs/metrics.md is stale: python -m unitecon.economics.definitions > docs/metrics.md"
    )


def test_every_where_exists() -> None:
    for _, section in d.SECTIONS:
        for m in section:
            module, _, attr = m.where.partition(":")
            assert hasattr(importlib.import_module(module), attr), m


def _undocumented(fields: set[str], section: tuple[d.Metric, ...]) -> set[str]:
    return fields - _names(section) - NAMES


def test_unit_metrics_are_documented() -> None:
    fields = set(UnitRow("x", Aggregates("x"), Decimal(0), Decimal(0)).metrics())
    assert not _undocumented(fields, d.UNIT)


def test_endpoint_metrics_are_documented() -> None:
    u = EndpointUsage("e", "H100", 1, *(Decimal(1),) * 4, Decimal(2), Decimal(1))
    from unitecon.attribution.frame import Window

    w = Window(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    assert not _undocumented(set(endpoint_metrics(u, w)), d.ENDPOINT)


def test_margin_fields_are_documented() -> None:
    row = MarginRow(("c", dt.date(2026, 1, 1), "f"), Decimal(1), Decimal(0), Decimal(0))
    fields = set(row.as_dict(["customer_id", "month", "feature"])) | {"plan_fixed_cost"}
    from unitecon.economics.inputs import USAGE_METRICS

    assert not _undocumented(fields | set(USAGE_METRICS), d.MARGIN)


def test_asymmetry_and_one_time_fields_are_documented() -> None:
    parts = {
        k: Part(Decimal(1), Decimal(1)) for k in ("input", "output", "cache_read", "reasoning")
    }
    a: dict[str, Any] = Asymmetry("m", Decimal(2), parts).as_dict()
    names = _names(d.ASYMMETRY)
    for k, v in a.items():
        if isinstance(v, dict):
            for sub in v:
                assert f"{k}.{sub}" in names or f"*.{sub}" in names or sub == "tokens", (k, sub)
        else:
            assert k in names | NAMES | {"output_input_price_ratio"}, k
    v = OneTimeView("x", Decimal(1), "m", Decimal(1), 1, Decimal(1), Decimal(1), False)
    assert not _undocumented(set(v.as_dict()), d.ONE_TIME)


def test_headline_and_governance_figures_are_documented() -> None:
    """Every figure of the report's headline (`Summary`), of a budget and of a coverage row
    is on the list (names, dates and lists of rows excepted)."""
    from unitecon.analysis.answers import BudgetSummary, Summary, TagCoverage

    rows = {"filters", "since", "until", "months", "budgets", "budget_month", "notes",
            "top_anomalies", "top_runaway_tasks"}  # fmt: skip
    summary = set(Summary.model_fields) - rows
    assert not _undocumented(summary, d.HEADLINE), "add to economics.definitions.HEADLINE"
    assert "months[]" in _names(d.HEADLINE)
    budget = set(BudgetSummary.model_fields) - {"where", "as_of", "budget", "runs_out",
                                                "status", "alerts"}  # fmt: skip
    assert not _undocumented(budget, d.GOVERNANCE)
    counts = {"dimension", "cost", "tagged_cost", "untagged_cost", "calls", "tagged_calls",
              "top_untagged_sources"}  # fmt: skip
    cov = set(TagCoverage.model_fields) - counts
    assert not _undocumented(cov, d.GOVERNANCE)
