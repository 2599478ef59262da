"""Dashboard reads made cheaper keep their answers (issue 23): the budgets of the latest
month cost that month and its history only, not the whole ledger; the asymmetry table is
one pass over the window. Each answer is compared with the one of a second path: the whole
ledger's costed events (as `budgets` read them before), the costs question over the month,
the two-pass asymmetry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon import config
from unitecon.analysis.answers import Filters
from unitecon.analysis.core import Analysis
from unitecon.ledger.store import Ledger


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 45-day demo ledger (more than the 35 days a month's budget reads) with its
    project file: budgets, self-hosted endpoints, sampled calls."""
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("window_reads")
    demo_ledger(home, days=45, customers=12)
    return home


@pytest.fixture
def analysis(home: Path) -> Iterator[Analysis]:
    project = config.load(home / "unitecon.yaml")
    with (
        Ledger(home / "ledger.duckdb", read_only=True) as ledger,
        Analysis(ledger, project, home / "unitecon.yaml") as a,
    ):
        yield a


def _last_event_day(a: Analysis) -> dt.date:
    t = a.source.ibis().table("events")
    got: dt.datetime = t.aggregate(hi=t.ts.max()).to_pyarrow().to_pylist()[0]["hi"]
    return got.date()


def test_budgets_of_the_latest_month_equal_the_whole_ledger_path(analysis: Analysis) -> None:
    from unitecon.analysis.core import _budget
    from unitecon.governance import EVENT_COLUMNS, budget_statuses

    got = analysis.budgets(None)
    last = _last_event_day(analysis)
    assert got.as_of == last + dt.timedelta(days=1)
    assert got.month == last.strftime("%Y-%m")
    # the second path: every event of the ledger costed, as `budgets` read them before
    events = analysis.costed(Filters()).narrow(EVENT_COLUMNS)
    whole = budget_statuses(events, analysis.project.governance.budgets, None, got.as_of)
    assert [b.model_dump() for b in got.budgets] == [_budget(s).model_dump() for s in whole]
    # and the month's spend of the budget on all spend is the variable cost of the month
    # asked as a costs question over that month alone
    month = last.replace(day=1)
    costs = analysis.costs(Filters(since=month, until=got.as_of), by="model")
    everything = next(b for b in got.budgets if b.name == "all AI spend")
    assert everything.actual == costs.total_cost.quantize(everything.actual)
    assert costs.total_cost > 0


def test_budgets_without_budgets_read_the_last_day_only(home: Path) -> None:
    from unitecon.config import Project

    with (
        Ledger(home / "ledger.duckdb", read_only=True) as ledger,
        Analysis(ledger, Project()) as a,
    ):
        got = a.budgets(None)
        last = _last_event_day(a)
        assert (got.month, got.as_of, got.budgets) == (None, last + dt.timedelta(days=1), [])
        assert got.notes == ["No budgets in the project file."]
        assert not a._costed  # nothing was priced or costed for it
        # a month whose 35 days of history begin after the last event: no data
        later = (last + dt.timedelta(days=70)).replace(day=1)
        assert a.budgets(later).as_of is None
        # one whose history holds it: data up to the same day
        assert a.budgets(last.replace(day=1)).as_of == last + dt.timedelta(days=1)


@pytest.mark.parametrize("by", ["model", "feature"])
def test_asymmetry_in_one_pass_equals_two_passes(analysis: Analysis, by: str) -> None:
    from unitecon.economics import asymmetry as asy

    f = Filters(since=_last_event_day(analysis) - dt.timedelta(days=20))
    got = analysis.asymmetry(f, by)
    # the second path: the rows per group, and the ratio from its own query per model
    c = analysis.costed(f)
    t = asy._weighted(c.events)
    key = t.model if by == "model" else t.feature
    rows = asy._sums(t, key.fill_null("(none)"))
    rho = asy._read_ratio(asy._sums(t, t.model.fill_null("(none)")))
    assert rho and any(r is not None for r in rho.values())  # cache reads are in the demo
    assert asy._read_ratio(asy._per_model(rows)) == rho
    # the table's token cost is the window's token-priced cost, each group's cost a sum
    total = sum((Decimal(r["token_cost"]) for r in got.rows), Decimal(0))
    by_model = analysis.asymmetry(f, "model")
    assert total == sum((Decimal(r["token_cost"]) for r in by_model.rows), Decimal(0))
    assert len(got.rows) == len({r["_g"] for r in rows})
