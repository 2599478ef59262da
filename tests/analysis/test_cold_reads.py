"""A question answered cold (nothing compiled before), warm (its SQL kept) and with the SQL
cache off is the same answer as the one built without the engine's shared views
(`engine.view`: the priced and costed chain compiled once, not into every query), which
compiles every query whole as before: two paths to one answer, not one path run twice."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unitecon import engine
from unitecon.analysis import Analysis
from unitecon.analysis.answers import Filters
from unitecon.engine import duck


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("cold")
    demo_ledger(home, days=7, customers=12)
    return home


WINDOW = Filters(since=dt.date(2026, 11, 10))

#: The read commands' questions (bench/cli.py's list), as the analysis core answers them.
QUESTIONS: dict[str, Callable[[Analysis], Any]] = {
    "costs": lambda a: a.costs(Filters(), by="feature"),
    "costs by customer, day": lambda a: a.costs(WINDOW, by="customer,day"),
    "unit loaded": lambda a: a.units(Filters(), by="feature", loaded=True),
    "unit by agent, window": lambda a: a.units(WINDOW, by="agent", loaded=True),
    "tasks": lambda a: a.tasks(Filters(), limit=5),
    "outcomes": lambda a: a.outcomes(Filters(), by="feature"),
    "endpoints": lambda a: a.endpoints(Filters()),
    "margins": lambda a: a.margins(Filters(), by="plan"),
    "budgets": lambda a: a.budgets(),
    "alerts": lambda a: a.alerts(),
}


def answers(home: Path) -> dict[str, Any]:
    out = {}
    with Analysis.open(home / "unitecon.yaml", ledger=home / "ledger.duckdb") as a:
        for name, ask in QUESTIONS.items():
            out[name] = ask(a).model_dump(mode="json")
        with a.source.con.cursor() as c:  # nothing left behind but the scope's own
            assert engine.temp_objects(c) == 0
    return out


def test_answers_agree_cold_warm_without_cache_and_without_views(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = demo_home / "cache" / "sql"
    shutil.rmtree(kept, ignore_errors=True)
    monkeypatch.setattr(duck, "CACHE", duck.SqlCache())
    cold = answers(demo_home)
    assert duck.CACHE.misses > 0 and any(kept.glob("*.sql"))

    monkeypatch.setattr(duck, "CACHE", duck.SqlCache())  # a new process: SQL from disk
    warm = answers(demo_home)
    assert duck.CACHE.misses == 0 and duck.CACHE.hits > 0

    monkeypatch.setenv("UNITECON_SQL_CACHE", "0")
    monkeypatch.setattr(duck, "CACHE", duck.SqlCache())
    off = answers(demo_home)

    # the second path: no view, each query's whole tree compiled by Ibis (cache off)
    from unitecon.attribution import costed

    made: list[Any] = []

    def no_view(t: Any) -> Any:
        made.append(t)
        return t

    monkeypatch.setattr(engine, "view", no_view)
    monkeypatch.setattr(costed, "view", no_view)
    monkeypatch.setattr(duck, "CACHE", duck.SqlCache())
    inline = answers(demo_home)
    assert made  # the chain did go through `engine.view`

    for name in QUESTIONS:
        assert cold[name] == inline[name], name
        assert warm[name] == inline[name], name
        assert off[name] == inline[name], name
    assert inline["costs"]["total_cost"] == inline["unit loaded"]["variable_cost"]
