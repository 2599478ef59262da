"""The console script raises the cyclic collector's thresholds for a command, not for
`serve` (a long-lived process)."""

from __future__ import annotations

import gc
import sys

import pytest

from unitecon.cli import main as cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["costs", "--help"], (100_000, 50, 100)), (["serve", "--help"], (700, 10, 10))],
)
def test_gc_thresholds(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: tuple[int, int, int]
) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's default
    monkeypatch.setattr(sys, "argv", ["unitecon", *argv])
    try:
        with pytest.raises(SystemExit):
            cli.main()
        assert gc.get_threshold() == expected
    finally:
        gc.set_threshold(*before)
