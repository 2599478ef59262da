"""Every test gets a fresh, empty data directory and no project file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


# -- a demo data directory, shared by the tests that read one ------------------------------
# A test module defines `demo_home` (module scope: its own demo ledger, of the size it needs,
# e.g. `pipeline.demo_ledger(home, days=7, customers=12)`); `home` makes it the data
# directory and the working directory of one test, and `cli_json` runs a command there.
@pytest.fixture
def home(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UNITECON_HOME", str(demo_home))
    monkeypatch.chdir(demo_home)
    return demo_home


@pytest.fixture
def cli_json(capsys: pytest.CaptureFixture[str]) -> Callable[[list[str]], Any]:
    """`cli_json(argv)`: the `--json` output of `unitecon ARGV` (run in this process), which
    must succeed."""
    from unitecon.cli.main import run

    def ask(argv: list[str]) -> Any:
        capsys.readouterr()
        code = run([*argv, "--json"])
        out = capsys.readouterr()
        assert code == 0, out.out + out.err
        return json.loads(out.out)

    return ask


@pytest.fixture(scope="session")
def live_server() -> Any:
    """`with live_server(app) as url:` runs an app under uvicorn on loopback (the service
    tests' helper of tests/server/conftest.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "server_conftest", Path(__file__).parent / "server" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.live_server
