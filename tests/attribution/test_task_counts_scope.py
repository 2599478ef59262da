"""`fixed.task_counts` (the tasks a one-time cost amortized over tasks is spread over),
counted by hand for an agent's and a feature's cost, with tasks before the window.

Window [2026-03-02, 2026-05-01); both costs start on 2026-02-20. A task is its task id,
else its trace, else the event; it is counted once, in the month of its first leaf event
in scope since `start` ("before" when that is before the window). An agent's scope is the
leaf calls whose agent, or nearest ancestor's within 4 parents, is that agent, resolved
among the events since `start`.

    trace A (support): A0 invoke_agent triage 02-25, A1 chat 02-25 under A0, A2 chat
        03-05 under A0                     -> agent: A1 first (02-25): before
    trace B (support): B0 invoke_agent triage 03-10, B1 chat under B0, B2 tool under
        B1 (2 parents up)                  -> agent: March
    task job-7 (billing, trace C): C1 chat agent other 03-31, C0 chat triage 04-03
                                           -> agent: April (C1 is not in scope)
    trace D (support): D0 invoke_agent triage 02-19 (before start), D1 chat 02-21 under
        D0, D2 chat triage 03-15           -> agent: D1's parent is not among the events
        since start, so D1 is not triage's; D2 first: March
    trace E (billing): E0 invoke_agent triage 04-10, E1..E4 spans, E5 chat under E4
        (5 parents below E0)               -> agent: none
    event f (billing, no task, no trace): chat triage 03-20 -> agent: March
    event g (billing): chat agent billing 03-11 -> agent: none

Agent triage: before 1 (A); March 3 (B, D, f); April 1 (job-7).
Feature support: leaf calls A1, A2, B1, B2, D1, D2: A first 02-25 and D first 02-21
before; B March: before 2; March 1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from priced_rows import MakePriced

from unitecon.attribution import variable_costs
from unitecon.attribution.fixed import task_counts
from unitecon.config import parse

PROJECT = """
fixed_costs:
  - {name: triage, amount: 1000, start: 2026-02-20, amortize_tasks: 10, agent: triage}
  - {name: labels, amount: 500, start: 2026-02-20, amortize_tasks: 5, feature: support}
"""
MARCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
APRIL = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)


def _at(month: int, day: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, 9, minute, tzinfo=dt.UTC)


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        # (event, ts, trace, span, parent, agent, operation, feature, task)
        ("A0", _at(2, 25), "A", "a0", None, "triage", "invoke_agent", "support", None),
        ("A1", _at(2, 25, 1), "A", "a1", "a0", None, "chat", "support", None),
        ("A2", _at(3, 5), "A", "a2", "a0", None, "chat", "support", None),
        ("B0", _at(3, 10), "B", "b0", None, "triage", "invoke_agent", "support", None),
        ("B1", _at(3, 10, 1), "B", "b1", "b0", None, "chat", "support", None),
        ("B2", _at(3, 10, 2), "B", "b2", "b1", None, "execute_tool", "support", None),
        ("C1", _at(3, 31), "C", "c1", None, "other", "chat", "billing", "job-7"),
        ("C0", _at(4, 3), "C", "c0", None, "triage", "chat", "billing", "job-7"),
        ("D0", _at(2, 19), "D", "d0", None, "triage", "invoke_agent", "support", None),
        ("D1", _at(2, 21), "D", "d1", "d0", None, "chat", "support", None),
        ("D2", _at(3, 15), "D", "d2", None, "triage", "chat", "support", None),
        ("E0", _at(4, 10), "E", "e0", None, "triage", "invoke_agent", "billing", None),
        *(
            (f"E{i}", _at(4, 10, i), "E", f"e{i}", f"e{i - 1}", None, "span", "billing", None)
            for i in range(1, 5)
        ),
        ("E5", _at(4, 10, 5), "E", "e5", "e4", None, "chat", "billing", None),
        ("f", _at(3, 20), None, None, None, "triage", "chat", "billing", None),
        ("g", _at(3, 11), None, None, None, "billing", "chat", "billing", None),
    ]
    names = ("event_id", "ts", "trace_id", "span_id", "parent_span_id", "agent")
    out = []
    for *head, operation, feature, task in rows:
        r = dict(zip(names, head, strict=True))
        r |= {"operation": operation, "feature": feature, "task_id": task}
        r |= {"provider": "openai", "model": "gpt-4o", "cost": "0.01", "input_tokens": 10}
        out.append(r)
    return out


def test_task_counts_by_hand(make_priced: MakePriced) -> None:
    project = parse(PROJECT)
    since, until = dt.datetime(2026, 3, 2, tzinfo=dt.UTC), dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    c = variable_costs(make_priced(_rows()), project, since, until)
    try:
        got = {fc.name: task_counts(c.source, fc, c.window) for fc in project.fixed_costs}
    finally:
        c.release()
    assert got["triage"] == (1, {MARCH: 3, APRIL: 1})
    assert got["labels"] == (2, {MARCH: 1})
