"""Every test gets a fresh, empty data directory and no project file."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "unitecon-home"
    monkeypatch.setenv("UNITECON_HOME", str(home))
    monkeypatch.delenv("UNITECON_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return home
