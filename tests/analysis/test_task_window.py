"""One task's tree is priced over the days of its traces only (the dashboard opens a task in
about a second, not after costing the whole ledger), or read from a window already costed
that holds those days (`tasks` then its trees): the tree must equal the one costed over the
whole ledger (the second path), for agent trees, runaway loops and self-hosted calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from unitecon.analysis import Analysis
from unitecon.analysis.answers import Filters


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("task-window")
    return demo_ledger(home, days=7, customers=10), home / "unitecon.yaml"


def test_the_tree_over_its_days_is_the_whole_ledger_s(ledger: tuple[Path, Path]) -> None:
    path, cfg = ledger
    with Analysis.open(cfg, ledger=path) as a:
        rows = a.tasks(Filters(), limit=500).rows
        # the most expensive task, the one with the most calls, and one with a call on the
        # self-hosted endpoint (its GPU time is part of the task's cost)
        picks = {rows[0]["task"], max(rows, key=lambda r: r["calls"])["task"]}
        ev = a.source.ibis().table("events")
        hosted = ev.filter(ev.endpoint.notnull() & (ev.task_id.notnull() | ev.trace_id.notnull()))
        one = hosted.select("task_id", "trace_id").limit(1).to_pyarrow().to_pylist()[0]
        picks.add(one["task_id"] or one["trace_id"])
        # after `tasks`, a tree is read from the window costed for it (`_covering`)
        assert all(a._covering(a._task_window(t)) is not None for t in picks)
        covered = {t: a.task(t) for t in picks}
    windowed = {}
    for t in picks:  # a fresh analysis: the tree is costed over the task's own days
        with Analysis.open(cfg, ledger=path) as a:
            windowed[t] = a.task(t)
            assert len(a._costed) == 1 and a._covering(a._task_window(t)) is not None
    with Analysis.open(cfg, ledger=path) as a:
        for t, tree in windowed.items():
            window = a._task_window(t)
            assert window.since is not None and window.until is not None
            assert (window.until - window.since).days <= 2  # a day or two, not the ledger
            assert a.task(t, Filters()) == tree == covered[t], t
        with pytest.raises(Exception, match="Unknown task"):
            a.task("no-such-task")
