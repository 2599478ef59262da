"""Outcomes and rework: what a task's result was, and what redoing work cost.

Rework is any call that is a retry (`attempt > 1`), failed (`status = 'error'`) or whose
output was rejected (`accepted = false`): its cost exists only because work was redone or
thrown away.

A task's outcome, from its events in time order:

    success   the last event with a known `accepted` has accepted = true
    failed    that event has accepted = false, or no event says and the last call errored
    unknown   no event says whether the output was accepted and the last call did not error

Unknown is never counted as success: cost per successful task divides by successes only and
reports the unknown tasks beside it (see `unitecon.economics.metrics`).
"""

from __future__ import annotations

from typing import Any

import ibis

from unitecon.attribution.frame import NONE, is_leaf

OUTCOMES = ("success", "failed", "unknown")


def is_rework(t: Any) -> Any:
    """A leaf call that is a retry, an error or a rejected output."""
    return is_leaf(t) & (
        (t.attempt > 1) | (t.status == "error") | (t.accepted.fill_null(True) == False)  # noqa: E712
    )


def last_accepted(t: Any) -> Any:
    """Aggregate: `accepted` of the last event (by ts) whose `accepted` is known, else null."""
    return t.accepted.argmax(t.ts, where=t.accepted.notnull())


def succeeded(last_known_accepted: Any) -> Any:
    """The success rule, on `last_accepted`: true only when that verdict is true (never null;
    no verdict is not success)."""
    return (last_known_accepted == True).fill_null(False)  # noqa: E712


def outcome(last_known_accepted: Any, last_leaf_status: Any) -> Any:
    """success | failed | unknown (the module docstring) from `last_accepted` and the status
    of the task's last leaf call."""
    return ibis.cases(
        (succeeded(last_known_accepted), "success"),
        (last_known_accepted == False, "failed"),  # noqa: E712
        (last_leaf_status == "error", "failed"),
        else_="unknown",
    )


OUTCOME_COLUMNS = (
    "task", "task_type", "feature", "accepted", "ts", "status", "operation", "var_cost",
    "attempt",
)  # fmt: skip
"""The costed-event columns `task_outcomes` and `decided_outcomes` read."""


def task_outcomes(t: Any) -> Any:
    """Per task: kind, outcome, spend, rework cost and counts (engine)."""
    leaf = is_leaf(t)
    per = t.group_by("task").agg(
        kind=ibis.coalesce(t.task_type.max(), t.feature.max(), ibis.literal(NONE)),
        feature=t.feature.max(),
        last_accepted=last_accepted(t),
        last_status=t.status.argmax(t.ts, where=leaf),
        spend=t.var_cost.sum(),
        rework_cost=t.var_cost.sum(where=is_rework(t)),
        calls=t.count(where=leaf),
        retries=t.count(where=leaf & (t.attempt > 1)),
        errors=t.count(where=leaf & (t.status == "error")),
        rejected=t.count(where=t.accepted.fill_null(True) == False),  # noqa: E712
    )
    return per.mutate(
        outcome=outcome(per.last_accepted, per.last_status),
        rework_cost=per.rework_cost.fill_null(0),
    ).drop("last_accepted", "last_status")


def decided_outcomes(t: Any) -> Any:
    """(`task`, `outcome`) of the tasks whose outcome may be other than unknown: those with
    an event with a known `accepted` or a leaf call that errored. Every other task is
    unknown (no verdict, and its last leaf call cannot have errored), so a report joining
    this instead of `task_outcomes` groups only the few tasks that need it."""
    flag = t.accepted.notnull() | (is_leaf(t) & (t.status == "error"))
    hot = t.filter(flag).select(_hot="task").distinct()
    ev = t.semi_join(hot, t.task == hot._hot)
    per = ev.group_by("task").agg(
        last_accepted=last_accepted(ev), last_status=ev.status.argmax(ev.ts, where=is_leaf(ev))
    )
    return per.select("task", outcome=outcome(per.last_accepted, per.last_status))


def outcome_summary(t: Any, by: str = "kind") -> Any:
    """Per task kind (or `feature`): tasks by outcome, spend, rework cost, retries, errors."""
    o = task_outcomes(t)
    return (
        o.group_by(by)
        .agg(
            tasks=o.count(),
            succeeded=o.count(where=o.outcome == "success"),
            failed=o.count(where=o.outcome == "failed"),
            unknown=o.count(where=o.outcome == "unknown"),
            spend=o.spend.sum(),
            rework_cost=o.rework_cost.sum(),
            calls=o.calls.sum(),
            retries=o.retries.sum(),
            errors=o.errors.sum(),
            rejected=o.rejected.sum(),
        )
        .order_by(ibis.desc("spend"))
    )
