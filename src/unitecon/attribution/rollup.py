"""Sums and counts per row of a breakdown, in one engine query: the inputs of the unit
metrics (`unitecon.economics.metrics` turns them into ratios).

Token counts and token costs are over leaf calls only, so a structural span repeating its
children's usage is never counted. `input_tokens`, `output_tokens`, `token_cost`, ... are
over token-priced (API) calls (`cost_kind = 'token'`); `model_tokens` and `model_cost` add
the self-hosted calls (`cost_kind = 'endpoint'`, their busy GPU-time cost), so the cost per
1k tokens counts every model token; `inference_cost` is the cost of the model calls alone
(no tools, unit-priced operations or human review).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.costed import Survey, survey_aggregates, survey_of
from unitecon.attribution.frame import FILTERED, ZERO, is_leaf, month_number, task_count
from unitecon.attribution.outcomes import OUTCOME_COLUMNS, decided_outcomes, is_rework

#: Operations that are one model inference.
INFERENCE_OPERATIONS = ("chat", "generate_content", "text_completion", "embeddings")


@dataclass(frozen=True)
class Aggregates:
    """Sums [USD, tokens, GPU-s] and counts of one row."""

    key: str
    requests: int = 0
    inferences: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    model_tokens: int = 0
    model_cost: Decimal = ZERO
    inference_cost: Decimal = ZERO
    endpoint_output_tokens: int = 0
    token_cost: Decimal = ZERO
    input_cost: Decimal = ZERO
    output_cost: Decimal = ZERO
    variable_cost: Decimal = ZERO
    rework_cost: Decimal = ZERO
    cache_savings: Decimal = ZERO
    gpu_s: Decimal = ZERO
    endpoint_tokens: int = 0
    tasks: int = 0
    successful_tasks: int = 0
    unknown_tasks: int = 0
    conversations: int = 0
    customer_months: int = 0
    unpriced: int = 0


UNIT_COLUMNS = tuple(
    sorted(
        {
            "operation", "cost_kind", "var_cost", "customer_id", "ts", "task_id", "trace_id",
            "task", "conversation_id", "input_tokens", "output_tokens", "cache_read_tokens",
            "input_cost", "output_cost", "cache_saving", "gpu_s",
            *OUTCOME_COLUMNS,  # the tasks' outcomes and the rework rule
        }
    )
)  # fmt: skip
"""The costed-event columns `aggregates` reads besides `_key` and `_vis`."""


def _with_outcome(t: Any, verdicts: int) -> Any:
    """`_outcome` of each event's task; null for the tasks `decided_outcomes` leaves out,
    which are unknown (all of them when no event has a verdict or an error)."""
    if not verdicts:
        return t.mutate(_outcome=ibis.null("string"))
    o = decided_outcomes(t).select(_otask="task", _outcome="outcome")
    return t.left_join(o, t.task == o._otask).select(*t.columns, "_outcome").view()


def aggregates(keyed: Any, survey: Survey | None = None) -> dict[str, Aggregates]:
    """Per `_key` (rows failing the filters `_vis` pooled in `__filtered__`), one query.

    `survey`: of the events (`Costed.survey()`), else taken from `keyed` (one query more).
    A task has one outcome, so a row's unknown tasks are its tasks less the successful and
    the failed ones: only the tasks with a verdict or an error are grouped by task.
    """
    if survey is None:
        survey = survey_of(keyed.aggregate(**survey_aggregates(keyed)).to_pyarrow().to_pylist()[0])
    t = _with_outcome(keyed, survey.verdicts)
    row = ibis.ifelse(t._vis, t._key, ibis.literal(FILTERED))
    leaf, tok = is_leaf(t), t.cost_kind == "token"
    model = leaf & t.cost_kind.isin(("token", "endpoint"))
    inference = leaf & t.operation.isin(INFERENCE_OPERATIONS)
    cm = ibis.struct({"c": t.customer_id, "m": month_number(t)})
    counts = {  # distinct counts cost a hash of every row each: none that is surely 0
        "tasks": task_count(t),
        "customer_months": cm.nunique(where=t.customer_id.notnull()),
    }
    if survey.verdicts:
        counts["successful_tasks"] = t.task.nunique(where=t._outcome == "success")
        counts["_failed"] = t.task.nunique(where=t._outcome == "failed")
    if survey.conversations:
        counts["conversations"] = t.conversation_id.nunique()
    agg = t.group_by(_row=row).agg(
        requests=t.count(where=leaf),
        inferences=t.count(where=inference),
        inference_cost=t.var_cost.sum(where=inference),
        model_tokens=(t.input_tokens + t.output_tokens).sum(where=model),
        model_cost=t.var_cost.sum(where=model),
        endpoint_output_tokens=t.output_tokens.sum(where=t.gpu_s.notnull()),
        input_tokens=t.input_tokens.sum(where=tok),
        output_tokens=t.output_tokens.sum(where=tok),
        cache_read_tokens=t.cache_read_tokens.sum(where=tok),
        token_cost=t.var_cost.sum(where=tok),
        input_cost=t.input_cost.sum(where=tok),
        output_cost=t.output_cost.sum(where=tok),
        variable_cost=t.var_cost.sum(),
        rework_cost=t.var_cost.sum(where=is_rework(t)),
        cache_savings=t.cache_saving.sum(where=tok),
        gpu_s=t.gpu_s.sum(),
        endpoint_tokens=(t.input_tokens + t.output_tokens).sum(where=t.gpu_s.notnull()),
        unpriced=t.count(where=t.cost_kind == "unpriced"),
        **counts,
    )
    out = {}
    for r in agg.to_pyarrow().to_pylist():
        key, failed = r.pop("_row"), r.pop("_failed", 0) or 0
        a = {k: v if v is not None else _zero(k) for k, v in r.items()}
        a["unknown_tasks"] = a["tasks"] - a.get("successful_tasks", 0) - failed
        out[key] = Aggregates(key, **a)
    return out


def _zero(name: str) -> Any:
    kind = Aggregates.__dataclass_fields__[name].type
    return ZERO if kind == "Decimal" else 0
