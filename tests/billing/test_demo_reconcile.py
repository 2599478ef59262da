"""`reconcile` on the demo: the generated bill plants untracked usage (an eval harness's
own key on o3), a negotiated 8 % OpenAI discount and an unknown model (the private
triage fine-tune); every residual is explained, and OpenAI's capture rate alerts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from unitecon.analysis import Analysis
from unitecon.demo.bill import OPENAI_DISCOUNT, UNTRACKED_SHARE
from unitecon.demo.catalog import FT_TRIAGE
from unitecon.ledger.store import Ledger
from unitecon.reconcile import reconcile_ledger


def _rec(demo_ledger: tuple[Path, Any, Path]) -> Any:
    path, project, _ = demo_ledger
    with Ledger(path, read_only=True) as ledger, Analysis(ledger, project) as analysis:
        return reconcile_ledger(analysis)


def test_every_residual_is_explained(demo_ledger: tuple[Path, Any, Path]) -> None:
    rec = _rec(demo_ledger)
    assert rec.rows and {r.provider for r in rec.rows} == {"openai", "anthropic"}
    assert not [r for r in rec.rows if r.status == "unexplained"]
    kinds = {e.kind for r in rec.rows for e in r.explanations}
    assert {"untracked_usage", "price_difference", "unknown_model"} <= kinds
    for r in rec.rows:
        assert sum((e.amount for e in r.explanations), Decimal(0)) == (
            r.residual if r.explanations else 0
        )


def test_each_planted_gap_is_named(demo_ledger: tuple[Path, Any, Path]) -> None:
    rec = _rec(demo_ledger)
    o3 = [r for r in rec.rows if r.model == "o3"]
    assert o3
    for r in o3:
        # the harness doubles the tokens: half the bill is usage the ledger never saw
        assert r.billed_tokens == 2 * r.ledger_tokens
        parts = {e.kind: e for e in r.explanations}
        assert "key_eval_harness" in parts["untracked_usage"].text
        assert abs(parts["untracked_usage"].amount - r.billed / (1 + UNTRACKED_SHARE)) < Decimal(
            "0.000002"
        )
        assert "percent: 8" in parts["price_difference"].text
    ft = [r for r in rec.rows if r.model == FT_TRIAGE.response and r.billed]
    assert ft and all(r.computed == 0 for r in ft)
    assert all([e.kind for e in r.explanations] == ["unknown_model"] for r in ft if r.explanations)
    anthropic = [r for r in rec.rows if r.provider == "anthropic"]
    assert all(r.status == "match" for r in anthropic)  # its discount is in the project file


def test_capture_rate_alerts_for_openai(demo_ledger: tuple[Path, Any, Path]) -> None:
    rec = _rec(demo_ledger)
    cap = {c.provider: c for c in rec.capture}
    assert cap["anthropic"].rate == 1 and not cap["anthropic"].alert
    openai = [r for r in rec.rows if r.provider == "openai"]
    assert cap["openai"].tracked == sum(r.computed for r in openai)
    assert cap["openai"].billed == sum(r.billed for r in openai)
    assert cap["openai"].alert and cap["openai"].rate is not None
    # every OpenAI line is 8 % off; o3 doubles: billed = 0.92 x (tracked + o3 tracked)
    o3 = sum(r.computed for r in openai if r.model == "o3")
    ft = sum(r.billed for r in openai if r.model == FT_TRIAGE.response)
    expected = (1 - OPENAI_DISCOUNT) * (cap["openai"].tracked + o3) + ft
    assert abs(cap["openai"].billed - expected) < Decimal("0.001")  # 6-place rounding per line


def test_the_report_shows_the_capture_rate(demo_ledger: tuple[Path, Any, Path]) -> None:
    from unitecon.report.bill import bill_section

    path, project, _ = demo_ledger
    with Ledger(path, read_only=True) as ledger:
        cards, figs = bill_section(ledger, project)
    assert "capture rate, openai (tracked / billed) — below threshold" in cards
    assert cards["capture rate, anthropic (tracked / billed)"] == "100.0%"
    assert len(figs) == 3
