"""The demo's closing hints: each one works as printed (a new user followed them: a
"report --since 2026-10-01" outside a 7-day demo's November, a TCO workbook listed that
`--no-tour` had not written, commands that read another home than the demo's)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from unitecon.cli.ledger import _next_steps


def _hints(tmp_path: Path, capsys: pytest.CaptureFixture[str], workbook: bool) -> str:
    book = tmp_path / "tco.xlsx"
    if workbook:
        book.write_bytes(b"")
    scen = tmp_path / "scenarios"
    capsys.readouterr()
    _next_steps(
        {
            "scenarios": {"tco.yaml": str(scen / "tco.yaml"), "whatif.yaml": str(scen / "w.yaml")},
            "report": str(tmp_path / "report.html"),
            "workbook": str(book),
            "window_end": "2026-11-15T00:00:00Z",  # exclusive: the last day is 14 November
        }
    )
    return " ".join(capsys.readouterr().out.split())


def test_the_period_hint_is_the_demo_s_last_week(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNITECON_HOME", str(tmp_path / "my home"))
    out = _hints(tmp_path, capsys, workbook=True)
    assert "report --since 2026-11-08 --until 2026-11-15" in out
    assert f"export UNITECON_HOME='{tmp_path / 'my home'}'" in out
    assert f"TCO workbook: {tmp_path / 'tco.xlsx'}" in out


def test_a_workbook_not_written_is_not_listed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _hints(tmp_path, capsys, workbook=False)
    assert "TCO workbook: not written yet" in out


@pytest.mark.slow
def test_the_hints_of_a_real_demo_run(capsys: pytest.CaptureFixture[str]) -> None:
    # the hints once read a key `run_demo`'s summary did not have (`make demo` ended with
    # "internal error: KeyError: 'window_end'"): printed here from the real summary
    from unitecon.demo.generate import DEFAULT_END
    from unitecon.pipeline import run_demo

    summary = run_demo(days=7, customers=10, quiet=True)
    capsys.readouterr()
    _next_steps(summary)
    out = " ".join(capsys.readouterr().out.split())
    week = f"--since {DEFAULT_END - timedelta(days=7)} --until {DEFAULT_END}"
    assert week in out, out
