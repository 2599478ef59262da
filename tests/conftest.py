"""Every test gets a fresh, empty data directory and no project file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests on a fixed set of examples (reproducible, never flaky by draw);
# a developer's run explores new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "unitecon-home"
    monkeypatch.setenv("UNITECON_HOME", str(home))
    monkeypatch.delenv("UNITECON_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return home
