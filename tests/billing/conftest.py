"""A small demo ledger with its generated bill, shared by the reconcile-on-demo and FOCUS
tests (10 days, 20 customers: the full demo's mix of models, endpoints and fixed costs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="package")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Path]]:
    """(ledger path, project, bills folder), built once: generate, ingest, bill."""
    from unitecon import config
    from unitecon.demo import generate
    from unitecon.ledger.store import Ledger
    from unitecon.pipeline import import_demo_bill, ingest_paths, write_demo_project

    home = tmp_path_factory.mktemp("demo-home")
    files = generate(home / "demo", seed=7, days=10, customers=20)
    project = config.load(write_demo_project(home))
    with Ledger(home / "ledger.duckdb") as ledger:
        ingest_paths(ledger, files.all, quiet=True)
        import_demo_bill(ledger, project, home / "demo" / "bills")
    yield home / "ledger.duckdb", project, home / "demo" / "bills"
