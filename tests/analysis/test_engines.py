"""One suite, two engines: every question of the analysis core answered on DuckDB (the
embedded ledger) and on Spark local (over the lake `unitecon export --lake` writes) gives
the same answer, field by field: money to the micro-dollar in JSON, and the totals exactly.

The Spark run needs pyspark (`.[spark]`, installed by `make test`) and Java 17 (Debian's
openjdk-17-jre-headless, `make java`). In CI a missing one fails; elsewhere it skips with
the reason."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from unitecon import config
from unitecon.analysis import Analysis
from unitecon.analysis.answers import Filters
from unitecon.cli.session import dump
from unitecon.ledger.store import Ledger

pytestmark = pytest.mark.spark

#: (question, filters or None for the questions without, parameters)
QUESTIONS: list[tuple[str, Filters | None, dict[str, Any]]] = [
    ("filters", None, {}),
    ("costs", Filters(), {"by": "feature"}),
    ("costs", Filters(), {"by": "day,model"}),
    ("costs", Filters(feature="rag-search"), {"by": "customer"}),
    ("units", Filters(), {"by": "feature"}),
    ("units", Filters(), {"by": "customer", "loaded": True}),
    ("units", Filters(), {"by": "agent"}),
    ("tasks", Filters(), {"limit": 5}),
    ("endpoints", Filters(), {}),
    ("asymmetry", Filters(), {"by": "model"}),
    ("margins", Filters(), {"by": "plan"}),
    ("margins", Filters(), {"by": "customer"}),
    ("collapse", Filters(), {}),
    ("budgets", None, {}),
    ("anomalies", Filters(), {}),
    ("runaway", Filters(), {}),
    ("coverage", Filters(), {}),
    ("alerts", None, {}),
    ("prices_missing", Filters(), {}),
    ("quarantine", None, {}),
]


def _spark_or_skip() -> None:
    import importlib.util

    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        missing.append("a Java runtime (make java)")
    if missing:
        reason = "the Spark engine needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-day demo ledger (the smallest the generator makes), its project file, its lake."""
    from unitecon.ledger.lake import export
    from unitecon.pipeline import demo_ledger

    root = tmp_path_factory.mktemp("engines")
    with Ledger(demo_ledger(root, days=7, customers=10), read_only=True) as lg:
        export(lg, root / "lake")
    return root


def _answers(a: Analysis) -> list[Any]:
    out = []
    for q, f, kw in QUESTIONS:
        method = getattr(a, q)
        out.append(dump(method(f, **kw) if f is not None else method(**kw)))
    return out


@pytest.fixture(scope="module")
def both(home: Path) -> Iterator[tuple[list[Any], list[Any]]]:
    _spark_or_skip()
    from unitecon.analysis.core import spark_lake

    mp = pytest.MonkeyPatch()
    mp.setenv("UNITECON_HOME", str(home))
    mp.chdir(home)
    try:
        project = config.load(home / "unitecon.yaml")
        with Analysis(Ledger(home / "ledger.duckdb", read_only=True), project) as a:
            duck = _answers(a)
        lake_project = project.model_copy(
            update={"engine": project.engine.model_copy(update={"kind": "spark"})}
        )
        with Analysis(spark_lake(lake_project), lake_project) as a:
            spark = _answers(a)
        yield duck, spark
    finally:
        mp.undo()


@pytest.mark.parametrize(("i", "question"), [(i, q[0]) for i, q in enumerate(QUESTIONS)])
def test_the_same_answer_on_both_engines(
    both: tuple[list[Any], list[Any]], i: int, question: str
) -> None:
    duck, spark = both
    assert spark[i] == duck[i], question


def test_the_answers_are_not_empty(both: tuple[list[Any], list[Any]]) -> None:
    """A comparison of empty answers would prove nothing: the demo's cost is there."""
    duck, _ = both
    costs = duck[1]
    assert Decimal(costs["total_cost"]) > 0 and len(costs["rows"]) >= 3
    assert duck[4]["rows"] and duck[10]["rows"]
