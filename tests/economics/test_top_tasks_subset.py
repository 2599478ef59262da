"""`top_tasks` ranks the window's tasks in one pass and writes only the top tasks' events and
their traces' spans (`Costed.resolved_where`); the answer must be the one of the whole
window's resolved table (the second path: every event written and resolved, then ranked,
as `top_tasks` did before), including an agent resolved from a span of another task.

By hand: trace T1 holds two tasks. Its root span is the `planner` agent (task job-1); the
call s2 of task job-2 has no agent of its own, and its parent is that root, so job-2's call
is the planner's (one agent). gpt-4o-mini at $0.15/M input and $0.60/M output: s2 reads
1M input and writes 1M output tokens, $0.75, the most expensive task; s1 (job-1) reads 1M,
$0.15; twenty one-call tasks after them read 100k each, $0.015.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from unitecon import config
from unitecon.analysis.answers import Filters
from unitecon.analysis.core import Analysis
from unitecon.economics.tasks import (
    DETAIL_COLUMNS,
    TASK_COLUMNS,
    t_desc,
    task_details,
    top_tasks,
)
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

T0 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)


def _call(**kw: Any) -> dict[str, Any]:
    base = {"provider": "openai", "model": "gpt-4o-mini", "operation": "chat"}
    return {**base, "source": f"t:{kw['event_id']}", **kw}


def _events() -> list[dict[str, Any]]:
    rows = [
        {
            "event_id": "s0", "ts": T0, "source": "t:s0", "trace_id": "T1", "span_id": "s0",
            "operation": "invoke_agent", "agent": "planner", "task_id": "job-1",
            "feature": "plan",
        },
        _call(event_id="s1", ts=T0 + dt.timedelta(seconds=1), trace_id="T1", span_id="s1",
              parent_span_id="s0", task_id="job-1", feature="plan", input_tokens=1_000_000,
              output_tokens=0),
        _call(event_id="s2", ts=T0 + dt.timedelta(seconds=2), trace_id="T1", span_id="s2",
              parent_span_id="s0", task_id="job-2", feature="plan", input_tokens=1_000_000,
              output_tokens=1_000_000),
    ]  # fmt: skip
    for i in range(20):
        rows.append(
            _call(
                event_id=f"e{i}",
                ts=T0 + dt.timedelta(minutes=i),
                task_id=f"small-{i:02d}",
                feature="chat" if i % 2 else "plan",
                input_tokens=100_000,
                output_tokens=0,
            )
        )
    return rows


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("top_tasks")
    (home / "unitecon.yaml").write_text("{}\n")
    with Ledger(home / "ledger.duckdb") as led:
        led.ingest("t", [Chunk(schema.to_table(_events()))])
    return home


def _analysis(home: Path) -> Analysis:
    project = config.load(home / "unitecon.yaml")
    ledger = Ledger(home / "ledger.duckdb", read_only=True)
    return Analysis(ledger, project, home / "unitecon.yaml")


def _whole_window(c: Any, n: int, feature: str | None, trees: bool) -> list[dict[str, Any]]:
    """The second path: every event resolved, then ranked and rolled up."""
    from unitecon.attribution.outcomes import task_outcomes
    from unitecon.attribution.trees import task_rollup

    t = c.resolved(DETAIL_COLUMNS if trees else TASK_COLUMNS)
    if feature is not None:
        t = t.filter(t.feature == feature)
    cost = t.group_by("task").agg(cost=t.var_cost.sum())
    top = cost.order_by([t_desc("cost"), "task"]).limit(n)
    t = t.semi_join(top, t.task == top.task)
    roll = task_rollup(t).order_by([t_desc("cost"), "task"]).limit(n)
    outc = task_outcomes(t).select("task", "kind", "outcome", "rework_cost")
    j = roll.left_join(outc, roll.task == outc.task).select(
        *roll.columns, "kind", "outcome", "rework_cost"
    )
    rows: list[dict[str, Any]] = j.order_by([t_desc("cost"), "task"]).to_pyarrow().to_pylist()
    return rows


@pytest.mark.parametrize("n", [1, 3, 50])
@pytest.mark.parametrize("feature", [None, "plan"])
@pytest.mark.parametrize("trees", [True, False])
def test_the_top_tasks_are_the_whole_window_s(
    home: Path, n: int, feature: str | None, trees: bool
) -> None:
    with _analysis(home) as a:
        got = top_tasks(a.costed(Filters()), n, feature, trees=trees)
    with _analysis(home) as a:
        want = _whole_window(a.costed(Filters()), n, feature, trees)
    for r in want:
        r.pop("supervisor_cost")
    assert [{k: r[k] for k in want[0]} for r in got] == want
    assert len(got) == min(n, 22 if feature is None else 12)


def test_job_2_is_first_and_its_call_is_the_planner_s(home: Path) -> None:
    with _analysis(home) as a:
        first = top_tasks(a.costed(Filters()), 1)[0]
    assert first["task"] == "job-2"
    assert first["cost"] == Decimal("0.75")  # 1M x $0.15/M + 1M x $0.60/M
    assert first["agents"] == 1  # the planner, resolved from job-1's root span


def test_a_tree_after_the_top_tasks_equals_the_whole_window_s(home: Path) -> None:
    """job-2's tree, read from the top tasks' table (nothing more written), and small-05's,
    not among the top three, from a table of its own, equal the trees read from the whole
    window's table. job-2's tree is its own call alone: its parent span is job-1's."""
    with _analysis(home) as a:
        c = a.costed(Filters())
        top_tasks(c, 3)
        held = len(c._cache)
        got = task_details(c, "job-2")
        assert len(c._cache) == held
        alone = task_details(c, "small-05")
        assert len(c._cache) > held
    with _analysis(home) as a:
        c = a.costed(Filters())
        c.resolved(DETAIL_COLUMNS)  # the whole window written: trees read from it
        want, want_alone = task_details(c, "job-2"), task_details(c, "small-05")
    assert got == want and alone == want_alone
    assert got is not None and [n.span_id for n in got.roots] == ["s2"]
    assert got.stats.cost == Decimal("0.75")
