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


# What "fits" means for every page checked in headless Chromium (dashboard, report, memo):
# nothing reaches past the viewport's right edge, nothing spills out of its card or table
# cell, and no chart's title, legend or plot area leaves its chart box. What sits inside a
# box that scrolls or clips (a wide table in a scrolling frame) counts as that box.
LAYOUT_JS = """() => {
  const W = document.documentElement.clientWidth, bad = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ')[0] : '');
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  if (document.documentElement.scrollWidth > W + 1)
    bad.push('page ' + document.documentElement.scrollWidth + 'px wide at ' + W + 'px');
  const scrolls = (e) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX);
  const clipped = (e) => {  // inside a box that scrolls or clips: that box is checked instead
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement)
      if (scrolls(p)) return true;
    return false;
  };
  for (const e of document.querySelectorAll('body *')) {
    if (!shown(e) || e.closest('svg, dialog:not([open])') || clipped(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.right > W + 1) { bad.push(name(e) + ' ends at ' + Math.round(r.right) + 'px'); continue; }
    const box = e.parentElement && e.parentElement.closest('.card, td, th, .kpi');
    if (box && !scrolls(box)) {
      const b = box.getBoundingClientRect();
      if (r.right > b.right + 1 || r.left < b.left - 1)
        bad.push(name(e) + ' spills out of ' + name(box));
    }
  }
  for (const c of document.querySelectorAll('.js-plotly-plot, .plotly-graph-div')) {
    const b = c.getBoundingClientRect();
    for (const part of c.querySelectorAll('.gtitle, .legend, .main-svg')) {
      const r = part.getBoundingClientRect();
      if (r.width && (r.right > b.right + 1 || r.left < b.left - 1))
        bad.push((c.id || 'chart') + ': ' + part.getAttribute('class') + ' leaves the chart');
    }
  }
  return [...new Set(bad)].slice(0, 20);
}"""


@pytest.fixture
def layout_problems() -> Callable[[Any], list[str]]:
    """`layout_problems(page)`: what overflows on a Playwright page (empty when it fits)."""

    def check(page: Any) -> list[str]:
        return list(page.evaluate(LAYOUT_JS))

    return check
