"""The unit metrics: the one place each is defined, with its formula.

Every metric is a pure function of sums and counts (`attribution.rollup.Aggregates`, the
breakdown's `AllocRow`, an endpoint's periods). A ratio with a zero denominator is `None`
(shown as "—"), never 0 or infinity. Money stays Decimal; ratios are rounded down to
`PLACES` decimal places only at the end.

Notation: C variable cost [USD] (tokens + unit prices + GPU time, leaf-only), F allocated
fixed cost, I shared idle GPU cost, L = C + F + I the fully loaded cost ("synthetic COGS").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from unitecon.attribution.frame import CTX, label

PLACES = Decimal("1e-12")
ZERO = Decimal(0)
Num = Decimal | int


def ratio(num: Num, den: Num, scale: Num = 1) -> Decimal | None:
    """num x scale / den, rounded down to 1e-12; None when den = 0."""
    if not den:
        return None
    return CTX.divide(CTX.multiply(Decimal(num), Decimal(scale)), Decimal(den)).quantize(
        PLACES, context=CTX
    )


def cost_per_1k_tokens(cost: Decimal, tokens: int) -> Decimal | None:
    """Price per token [USD/1k tokens] = model cost / model tokens x 1000, over every model
    call: API calls at their token prices and self-hosted calls at their busy GPU-time cost,
    input + output tokens of both. Also input_cost over input tokens, output_cost over output
    tokens (API calls), as `cost_per_1k_input_tokens` / `cost_per_1k_output_tokens`."""
    return ratio(cost, tokens, 1000)


def cost_per_request(cost: Decimal, requests: int) -> Decimal | None:
    """[USD/request] = cost / leaf calls (model calls, tools, units; structure excluded)."""
    return ratio(cost, requests)


def cost_per_1000_inferences(inference_cost: Decimal, inferences: int) -> Decimal | None:
    """Cost per inference [USD/1,000 inferences] = cost of the model calls / model calls
    (chat, completion, embeddings) x 1000: the model calls' own cost, never tools, vector
    queries or human review (those are in `cost_per_request` and the task metrics)."""
    return ratio(inference_cost, inferences, 1000)


def cost_per_conversation(cost: Decimal, conversations: int) -> Decimal | None:
    """[USD/conversation] = cost / distinct conversation_id."""
    return ratio(cost, conversations)


def cost_per_task(cost: Decimal, tasks: int) -> Decimal | None:
    """[USD/task] = cost / distinct tasks (task_id, else trace root)."""
    return ratio(cost, tasks)


def cost_per_successful_task(spend: Decimal, successes: int) -> Decimal | None:
    """Cost of pass [USD/successful task] = all spend on the tasks (failed, retried and
    unknown-outcome ones included) / tasks that succeeded (Erol et al., arXiv:2504.13359).
    Unknown outcomes are not successes; report their count beside this."""
    return ratio(spend, successes)


def cost_per_customer_month(cost: Decimal, customer_months: int) -> Decimal | None:
    """[USD/customer-month] = cost / distinct (customer, calendar month) pairs."""
    return ratio(cost, customer_months)


def gpu_seconds_per_output_token(gpu_s: Decimal, output_tokens: int) -> Decimal | None:
    """GPU-seconds per token [GPU-s/generated token] = busy GPU-seconds / output tokens of
    the self-hosted calls (the seed's definition: per generated token)."""
    return ratio(gpu_s, output_tokens)


def gpu_seconds_per_input_output_token(gpu_s: Decimal, tokens: int) -> Decimal | None:
    """[GPU-s/token, input + output] = busy GPU-seconds / (input + output tokens) of the
    self-hosted calls: lower than per generated token on an input-heavy mix."""
    return ratio(gpu_s, tokens)


def utilization(busy_gpu_s: Decimal, provisioned_gpu_s: Decimal) -> Decimal | None:
    """[fraction] = busy GPU-seconds / provisioned GPU-seconds."""
    return ratio(busy_gpu_s, provisioned_gpu_s)


def output_cost_share(output_cost: Decimal, token_cost: Decimal) -> Decimal | None:
    """[fraction] = output-token cost / token cost (input vs output asymmetry)."""
    return ratio(output_cost, token_cost)


def output_token_share(output_tokens: int, input_tokens: int) -> Decimal | None:
    """[fraction] = output tokens / (input + output tokens); compare with the cost share."""
    return ratio(output_tokens, input_tokens + output_tokens)


def output_input_price_ratio(
    input_cost: Decimal, input_tokens: int, output_cost: Decimal, output_tokens: int
) -> Decimal | None:
    """[x] = (output_cost / output_tokens) / (input_cost / input_tokens): effective price
    of an output token over an input token."""
    unit_in = ratio(input_cost, input_tokens)
    unit_out = ratio(output_cost, output_tokens)
    return ratio(unit_out, unit_in) if unit_in and unit_out is not None else None


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """[fraction] = part / whole: rework share (rework cost / C), supervisor overhead
    (supervisor's own calls / task cost), idle share (idle / endpoint cost)."""
    return ratio(part, whole)


def loaded_cost(variable: Decimal, fixed: Decimal, idle: Decimal) -> Decimal:
    """Fully loaded cost L [USD] = variable + allocated fixed + shared idle."""
    return variable + fixed + idle


@dataclass(frozen=True)
class UnitRow:
    """All unit metrics of one breakdown row; `loaded` picks L instead of C as the cost."""

    key: str
    agg: Any  # attribution.rollup.Aggregates
    fixed: Decimal
    idle: Decimal

    @property
    def variable(self) -> Decimal:
        return Decimal(self.agg.variable_cost)

    @property
    def loaded(self) -> Decimal:
        return loaded_cost(self.variable, self.fixed, self.idle)

    def metrics(self, loaded: bool = False) -> dict[str, Any]:
        a, cost = self.agg, (self.loaded if loaded else self.variable)
        return {
            "key": self.key,
            "label": label(self.key),
            "variable_cost": self.variable,
            "fixed_cost": self.fixed,
            "idle_cost": self.idle,
            "loaded_cost": self.loaded,
            "requests": a.requests,
            "tasks": a.tasks,
            "successful_tasks": a.successful_tasks,
            "unknown_outcome_tasks": a.unknown_tasks,
            "cost_per_request": cost_per_request(cost, a.requests),
            "inferences": a.inferences,
            "inference_cost": a.inference_cost,
            "cost_per_1000_inferences": cost_per_1000_inferences(a.inference_cost, a.inferences),
            "cost_per_conversation": cost_per_conversation(cost, a.conversations),
            "cost_per_task": cost_per_task(cost, a.tasks),
            "cost_per_successful_task": cost_per_successful_task(cost, a.successful_tasks),
            "cost_per_customer_month": cost_per_customer_month(cost, a.customer_months),
            "cost_per_1k_input_tokens": cost_per_1k_tokens(a.input_cost, a.input_tokens),
            "cost_per_1k_output_tokens": cost_per_1k_tokens(a.output_cost, a.output_tokens),
            "model_tokens": a.model_tokens,
            "model_cost": a.model_cost,
            "cost_per_1k_tokens": cost_per_1k_tokens(a.model_cost, a.model_tokens),
            "cost_per_1k_api_tokens": cost_per_1k_tokens(
                a.token_cost, a.input_tokens + a.output_tokens
            ),
            "gpu_seconds_per_output_token": gpu_seconds_per_output_token(
                a.gpu_s, a.endpoint_output_tokens
            ),
            "gpu_seconds_per_input_output_token": gpu_seconds_per_input_output_token(
                a.gpu_s, a.endpoint_tokens
            ),
            # [USD] = sum of cache-read tokens x (input price - cache-read price), each at
            # its event's own prices (tier, date, discounts): defined per event in pricing
            # (`cache_saving`, from the cache-read rate), summed by `rollup.aggregates`
            "cache_savings": a.cache_savings,
            "rework_cost": a.rework_cost,
            "rework_share": share(a.rework_cost, self.variable),
            "output_cost_share": output_cost_share(a.output_cost, a.token_cost),
            "output_token_share": output_token_share(a.output_tokens, a.input_tokens),
            "output_input_price_ratio": output_input_price_ratio(
                a.input_cost, a.input_tokens, a.output_cost, a.output_tokens
            ),
            "unpriced_events": a.unpriced,
        }


def effective_usd_per_mtok(
    cost: Decimal, part_share: Decimal | None, tokens: int
) -> Decimal | None:
    """Self-hosted [USD/M tokens] = cost x share / tokens x 10^6, where share is the prefill
    share s for input tokens and 1 - s for output tokens (split by compute time)."""
    if part_share is None:
        return None
    return ratio(CTX.multiply(cost, part_share), tokens, 10**6)


def endpoint_metrics(u: Any, window: Any = None) -> dict[str, Any]:
    """Metrics of one `attribution.endpoints.EndpointUsage` over the window (`window`: the
    `attribution.frame.Window`, stated in the row). Every cost is the window's. Words:

    busy         the GPU time the calls used (measured from their durations)
    provisioned  all GPU time paid for, idle included (never "loaded": that word means
                 variable + fixed + idle, as in `unitecon unit --loaded`)
    measured     from the calls (durations, tokens); configured: from the project file

    $/M tokens split input vs output by compute time at the configured prefill/decode
    rates (`effective_usd_per_mtok`)."""
    s = u.prefill_share
    out_share = None if s is None else 1 - s
    tokens = u.input_tokens + u.output_tokens
    period: dict[str, Any] = {}
    if window is not None:
        days = Decimal((window.until - window.since).total_seconds()) / 86400
        period = {"since": window.since, "until": window.until, "days": days}
    return {
        "endpoint": u.endpoint,
        "gpu": f"{u.gpu_count}x {u.gpu}",
        **period,
        "hourly_cost": u.hourly_cost,
        "cost": u.cost,
        "allocated_cost": u.allocated,
        "idle_cost": u.idle,
        "idle_share": share(u.idle, u.cost),
        "utilization": utilization(u.busy_gpu_s, u.provisioned_gpu_s),
        "calls": u.calls,
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "measured_output_tokens_per_s": (
            round(u.timed_output_tokens / u.timed_seconds, 2) if u.timed_seconds else None
        ),
        "configured_prefill_tokens_per_s": getattr(u, "prefill_tokens_per_s", None),
        "configured_decode_tokens_per_s": getattr(u, "decode_tokens_per_s", None),
        "configured_prefill_share": s,
        "gpu_seconds_per_output_token": gpu_seconds_per_output_token(u.busy_gpu_s, u.output_tokens),
        "gpu_seconds_per_input_output_token": gpu_seconds_per_input_output_token(
            u.busy_gpu_s, tokens
        ),
        "usd_per_mtok_input": effective_usd_per_mtok(u.allocated, s, u.input_tokens),
        "usd_per_mtok_output": effective_usd_per_mtok(u.allocated, out_share, u.output_tokens),
        "provisioned_usd_per_mtok_input": effective_usd_per_mtok(u.cost, s, u.input_tokens),
        "provisioned_usd_per_mtok_output": effective_usd_per_mtok(
            u.cost, out_share, u.output_tokens
        ),
    }


def unit_rows(
    c: Any, project: Any, dim: str, only: dict[str, str] | None = None
) -> tuple[list[UnitRow], Any]:
    """Unit metrics per row of `dim` (+ the special rows), and the conserved allocation.

    `c` is an `attribution.costed.Costed`; rows are ordered by loaded cost, largest first.
    Without filters the sums of the metrics give the allocation's variable costs (every
    row is visible): when the allocation needs no more of the events than those, the events
    are read once and no temporary table is made; else it reads them for the fixed costs'
    weights and the idle shares only.
    """
    from unitecon.attribution.allocation import (
        allocate,
        allocation_columns,
        keyed,
        queries_events,
    )
    from unitecon.attribution.rollup import UNIT_COLUMNS, Aggregates, aggregates

    if not only and not queries_events(c, project):
        aggs = aggregates(keyed(c, dim, once=True, columns=UNIT_COLUMNS), c.survey())
        alloc = allocate(c, project, dim, variable=_variable(aggs))
    else:
        cols = {*UNIT_COLUMNS, *allocation_columns(project)}  # one table for both
        aggs = aggregates(keyed(c, dim, only, columns=cols), c.survey())
        variable = None if only else _variable(aggs)
        alloc = allocate(c, project, dim, only, variable=variable, columns=cols)
    rows = []
    for k in alloc.rows.keys() | aggs.keys():
        a = alloc.rows.get(k)
        rows.append(
            UnitRow(k, aggs.get(k, Aggregates(k)), a.fixed if a else ZERO, a.idle if a else ZERO)
        )
    rows.sort(key=lambda r: (-r.loaded, r.key))
    return rows, alloc


def _variable(aggs: dict[str, Any]) -> dict[tuple[str, bool], Decimal | None]:
    """The variable cost per (row, visible) of unfiltered rows' metrics (`allocate`)."""
    return {(k, True): a.variable_cost for k, a in aggs.items()}
