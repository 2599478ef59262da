"""The self-contained documents a user opens from a file, in headless Chromium at 1400 px.

Each document is written by its CLI command from a small demo ledger, opened from disk (no
server), screenshotted under `test-artifacts/`, and checked: no console error, no request
leaving the file (everything embedded), nothing overflowing (the `layout_problems` fixture of
tests/conftest.py, shared with the dashboard's pages).

DOCUMENTS is the hook for every such document: the memo adds its command here, e.g.
`"memo": ["memo", "--html", "{out}"]` (`{out}` is replaced by the file to write).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unitecon.cli.main import run

CHROMIUM = Path(os.environ.get("UNITECON_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: document name -> the command writing it as HTML to `{out}`.
DOCUMENTS: dict[str, list[str]] = {
    "report": ["report", "--out", "{out}"],
}


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("docs")
    demo_ledger(home, days=14, customers=12)
    return home


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_document_at_1400px(
    name: str,
    demo_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    layout_problems: Callable[[Any], list[str]],
) -> None:
    pw = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no chromium at {CHROMIUM} in CI")
        pytest.skip(f"no chromium at {CHROMIUM}: run scripts/install-browser.sh")
    monkeypatch.setenv("UNITECON_HOME", str(demo_home))
    out = tmp_path / f"{name}.html"
    assert run([a.replace("{out}", str(out)) for a in DOCUMENTS[name]]) == 0
    errors: list[str] = []
    with pw.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: errors.append(r.url) if r.url.startswith("http") else None)
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)  # charts draw after load
        problems = layout_problems(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}-1400.png"), full_page=True)
        b.close()
    assert errors == []
    assert problems == [], problems
