"""Every metric the product shows: its formula, unit, window and where it is computed.

`docs/metrics.md` is generated from this list (`python -m unitecon.economics.definitions >
docs/metrics.md`); a test fails when the file differs, when a figure a surface computes is
missing here, or when a `where` names a function that no longer exists.
"""

# Formulas are prose, one string each: long lines are kept whole.
# ruff: noqa: E501
from __future__ import annotations

from dataclasses import dataclass

from unitecon.economics.quantize import PLACES


@dataclass(frozen=True)
class Metric:
    name: str
    """The field name in JSON answers (and the column behind the table's header)."""
    formula: str
    unit: str
    window: str
    where: str
    """`module:function` that computes it."""


W = "window [since, until)"
WD = "window's days"
M = "unitecon.economics.metrics"

#: Unit metrics: `unitecon unit`, `/api/v1/metrics/units` (one row per value of a dimension).
UNIT = (
    Metric(
        "variable_cost",
        "C = token prices + unit prices + busy GPU time of leaf calls (sampled rows x round(1/sample_rate, 6))",
        "USD",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "fixed_cost",
        "F = the row's share of each fixed cost's charges in the window, split by the cost's driver",
        "USD",
        W,
        "unitecon.attribution.allocation:allocate",
    ),
    Metric(
        "idle_cost",
        "I = the row's share of idle GPU cost (allocation.idle: share, by busy GPU time on each endpoint-month); with idle: line, 0 here and all on the row Idle GPU capacity",
        "USD",
        W,
        "unitecon.attribution.allocation:allocate",
    ),
    Metric(
        "loaded_cost",
        "L = C + F + I (fully loaded, 'synthetic COGS'); 'loaded' means this everywhere",
        "USD",
        W,
        f"{M}:loaded_cost",
    ),
    Metric(
        "requests",
        "leaf calls (model calls, tools, unit-priced operations)",
        "calls",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "inferences",
        "model calls: operation chat, generate_content, text_completion, embeddings",
        "calls",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "inference_cost",
        "variable cost of the model calls alone",
        "USD",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "tasks",
        "distinct tasks (task_id, else trace_id, else event_id)",
        "tasks",
        W,
        "unitecon.attribution.frame:task_count",
    ),
    Metric(
        "successful_tasks",
        "tasks whose last known `accepted` is true",
        "tasks",
        W,
        "unitecon.attribution.outcomes:decided_outcomes",
    ),
    Metric(
        "unknown_outcome_tasks",
        "tasks - successful - failed",
        "tasks",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "cost_per_request",
        "cost / requests (cost = C, or L with --loaded)",
        "USD/call",
        W,
        f"{M}:cost_per_request",
    ),
    Metric(
        "cost_per_1000_inferences",
        "cost per inference: inference_cost / inferences x 1000 (model calls only; never tools, vector queries or review)",
        "USD/1,000 model calls",
        W,
        f"{M}:cost_per_1000_inferences",
    ),
    Metric(
        "cost_per_conversation",
        "cost / distinct conversation_id",
        "USD/conversation",
        W,
        f"{M}:cost_per_conversation",
    ),
    Metric("cost_per_task", "cost / tasks", "USD/task", W, f"{M}:cost_per_task"),
    Metric(
        "cost_per_successful_task",
        "cost of pass: all spend / successful tasks",
        "USD/successful task",
        W,
        f"{M}:cost_per_successful_task",
    ),
    Metric(
        "cost_per_customer_month",
        "cost / distinct (customer, calendar month)",
        "USD/customer-month",
        W,
        f"{M}:cost_per_customer_month",
    ),
    Metric(
        "model_tokens",
        "input + output tokens of every model call, API and self-hosted",
        "tokens",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "model_cost",
        "token cost of API calls + busy GPU-time cost of self-hosted calls",
        "USD",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "cost_per_1k_tokens",
        "price per token: model_cost / model_tokens x 1000 (self-hosted tokens and their GPU cost included)",
        "USD/1k tokens",
        W,
        f"{M}:cost_per_1k_tokens",
    ),
    Metric(
        "cost_per_1k_api_tokens",
        "token cost / (input + output tokens) x 1000, API calls only",
        "USD/1k tokens",
        W,
        f"{M}:cost_per_1k_tokens",
    ),
    Metric(
        "cost_per_1k_input_tokens",
        "input_cost / input tokens x 1000, API calls",
        "USD/1k tokens",
        W,
        f"{M}:cost_per_1k_tokens",
    ),
    Metric(
        "cost_per_1k_output_tokens",
        "output_cost / output tokens x 1000, API calls",
        "USD/1k tokens",
        W,
        f"{M}:cost_per_1k_tokens",
    ),
    Metric(
        "gpu_seconds_per_output_token",
        "GPU-seconds per token (the seed's): busy GPU-s / output (generated) tokens of self-hosted calls",
        "GPU-s/generated token",
        W,
        f"{M}:gpu_seconds_per_output_token",
    ),
    Metric(
        "gpu_seconds_per_input_output_token",
        "busy GPU-s / (input + output tokens) of self-hosted calls",
        "GPU-s/token",
        W,
        f"{M}:gpu_seconds_per_input_output_token",
    ),
    Metric(
        "cache_savings",
        "sum of cache-read tokens x (input price - cache-read price), at each event's prices",
        "USD",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "rework_cost",
        "variable cost of retried, errored or rejected calls",
        "USD",
        W,
        "unitecon.attribution.outcomes:is_rework",
    ),
    Metric("rework_share", "rework_cost / C", "fraction", W, f"{M}:share"),
    Metric(
        "output_cost_share",
        "output_cost / token cost, API calls",
        "fraction",
        W,
        f"{M}:output_cost_share",
    ),
    Metric(
        "output_token_share",
        "output tokens / (input + output tokens), API calls",
        "fraction",
        W,
        f"{M}:output_token_share",
    ),
    Metric(
        "output_input_price_ratio",
        "(output_cost / output tokens) / (input_cost / input tokens)",
        "x",
        W,
        f"{M}:output_input_price_ratio",
    ),
    Metric(
        "unpriced_events",
        "leaf calls with no price (left out of every cost)",
        "events",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
)

#: Self-hosted endpoints: `unitecon endpoints`, `/api/v1/endpoints`.
E = "unitecon.attribution.endpoints:endpoint_usage"
ENDPOINT = (
    Metric(
        "hourly_cost",
        "H: gpu_count x usd_per_gpu_hour[billing] (owned: straight-line capital + power)",
        "USD/h",
        "configured",
        "unitecon.attribution.selfhosted:hourly_cost",
    ),
    Metric("cost", "provisioned GPU cost: H x active hours", "USD", W, E),
    Metric(
        "allocated_cost", "busy GPU cost: sum of the calls' GPU-s x the period's rate", "USD", W, E
    ),
    Metric("idle_cost", "cost - allocated_cost (unused GPU time)", "USD", W, E),
    Metric("idle_share", "idle_cost / cost", "fraction", W, f"{M}:share"),
    Metric("utilization", "busy GPU-s / provisioned GPU-s", "fraction", W, f"{M}:utilization"),
    Metric("calls", "self-hosted calls", "calls", W, E),
    Metric("input_tokens", "input tokens of the calls", "tokens", W, E),
    Metric("output_tokens", "output tokens of the calls", "tokens", W, E),
    Metric(
        "measured_output_tokens_per_s",
        "output tokens / seconds of the timed calls (duration_ms)",
        "tokens/s",
        W,
        f"{M}:endpoint_metrics",
    ),
    Metric(
        "configured_prefill_tokens_per_s",
        "prefill rate from the project file",
        "tokens/s",
        "configured",
        E,
    ),
    Metric(
        "configured_decode_tokens_per_s",
        "decode rate from the project file",
        "tokens/s",
        "configured",
        E,
    ),
    Metric(
        "configured_prefill_share",
        "s = sum(in / prefill rate) / sum(in / prefill rate + out / decode rate)",
        "fraction",
        W,
        E,
    ),
    Metric(
        "gpu_seconds_per_output_token",
        "busy GPU-s / output tokens",
        "GPU-s/generated token",
        W,
        f"{M}:gpu_seconds_per_output_token",
    ),
    Metric(
        "gpu_seconds_per_input_output_token",
        "busy GPU-s / (input + output tokens)",
        "GPU-s/token",
        W,
        f"{M}:gpu_seconds_per_input_output_token",
    ),
    Metric(
        "usd_per_mtok_input",
        "busy: allocated_cost x s / input tokens x 10^6",
        "USD/M tokens",
        W,
        f"{M}:effective_usd_per_mtok",
    ),
    Metric(
        "usd_per_mtok_output",
        "busy: allocated_cost x (1 - s) / output tokens x 10^6",
        "USD/M tokens",
        W,
        f"{M}:effective_usd_per_mtok",
    ),
    Metric(
        "provisioned_usd_per_mtok_input",
        "provisioned (idle included): cost x s / input tokens x 10^6",
        "USD/M tokens",
        W,
        f"{M}:effective_usd_per_mtok",
    ),
    Metric(
        "provisioned_usd_per_mtok_output",
        "provisioned: cost x (1 - s) / output tokens x 10^6",
        "USD/M tokens",
        W,
        f"{M}:effective_usd_per_mtok",
    ),
)

#: Margins: `unitecon margins`, `/api/v1/margins` (rows per customer, feature, plan or month).
G = "unitecon.economics.margins"
MARGIN = (
    Metric(
        "revenue",
        "plan fees and seats x days of the month in the contract and the window / days in the month; usage beyond the allowance x the window's share of the month; or invoice lines x that share",
        "USD",
        WD,
        "unitecon.economics.revenue:revenue",
    ),
    Metric(
        "variable_cost",
        "C of the row's (customer, month, feature)",
        "USD",
        WD,
        "unitecon.economics.inputs:usage_lines",
    ),
    Metric(
        "fixed_cost",
        "allocated from the project's fixed costs by driver (+ shared idle), else the plans' F x days share",
        "USD",
        WD,
        "unitecon.economics.inputs:fixed_lines",
    ),
    Metric(
        "plan_fixed_cost",
        "the plans' F (fixed_cost_per_customer) x days of the month in the contract and the window / days in the month",
        "USD",
        WD,
        f"{G}:plan_fixed_cost",
    ),
    Metric("contribution_margin", "revenue - variable_cost", "USD", WD, f"{G}:contribution_margin"),
    Metric("gross_margin", "revenue - variable_cost - fixed_cost", "USD", WD, f"{G}:gross_margin"),
    Metric(
        "gross_margin_pct",
        "gross_margin / revenue (a fraction despite the name; none when revenue is 0)",
        "fraction",
        WD,
        f"{G}:margin_pct",
    ),
    Metric(
        "successful_tasks",
        "tasks whose last known `accepted` in the slice is true",
        "tasks",
        WD,
        "unitecon.economics.inputs:usage_lines",
    ),
    Metric(
        "conversations",
        "distinct conversation_id",
        "conversations",
        WD,
        "unitecon.economics.inputs:usage_lines",
    ),
    Metric(
        "resolutions",
        "distinct conversations (else tasks) holding a successful task",
        "resolutions",
        WD,
        "unitecon.economics.inputs:usage_lines",
    ),
    Metric(
        "ktokens",
        "(input + output tokens) / 1000 of leaf calls",
        "k tokens",
        WD,
        "unitecon.economics.inputs:usage_lines",
    ),
    Metric(
        "tasks", "distinct tasks in the slice", "tasks", WD, "unitecon.economics.inputs:usage_lines"
    ),
    Metric(
        "losing_money.gross",
        "customers with gross_margin < 0 over the window",
        "customers",
        WD,
        f"{G}:losing_money",
    ),
    Metric(
        "losing_money.contribution",
        "customers with contribution_margin < 0 over the window",
        "customers",
        WD,
        f"{G}:losing_money",
    ),
    Metric(
        "gini",
        "sum_i (2i - n - 1) x_(i) / (n sum x) of variable cost per customer",
        "0..1",
        WD,
        f"{G}:gini",
    ),
    Metric(
        "top_cost_share",
        "variable cost of the top ceil(n x 1% / 10%) customers / all",
        "fraction",
        WD,
        f"{G}:top_share",
    ),
)

#: Collapse: `unitecon collapse`, `/api/v1/collapse` (per plan; monthly figures).
COLLAPSE = (
    Metric(
        "u0",
        "usage where the margin reaches 0: (P - F) / c within the allowance; beyond A = A + (P - F - cA) / (c - p), never when p >= c",
        "units/month",
        "monthly run rate",
        "unitecon.economics.collapse:threshold_usage",
    ),
    Metric(
        "u_m",
        "usage where the margin falls below m: (P(1 - m) - F) / c; beyond A: A + ((1 - m)P - F - cA) / (c - (1 - m)p)",
        "units/month",
        "monthly run rate",
        "unitecon.economics.collapse:threshold_usage",
    ),
    Metric(
        "c",
        "unit cost: sum(variable cost) / sum(units) over the plan's customers (p50, p90 per customer)",
        "USD/unit",
        WD,
        "unitecon.economics.collapse_plan:unit_cost",
    ),
    Metric(
        "monthly_margin",
        "R(run-rate usage) - F - monthly variable cost (past u0: < 0)",
        "USD/month",
        "monthly run rate",
        "unitecon.economics.collapse_plan:position",
    ),
)

#: Input vs output asymmetry: `unitecon asymmetry`.
A = "unitecon.economics.asymmetry:asymmetry"
ASYMMETRY = (
    Metric("token_cost", "T = input_cost + output_cost of API calls", "USD", W, A),
    Metric("input.cost", "input_cost (cache reads and writes included)", "USD", W, A),
    Metric("output.cost", "output_cost (reasoning included)", "USD", W, A),
    Metric(
        "cache_read.cost",
        "per call: cache-read tokens x p_in - cache saving, p_in = (input_cost + saving) / input tokens of the call; a call that also writes cache: saving x rho / (1 - rho), rho = p_cr / p_in measured on the model's calls that write none",
        "USD",
        W,
        A,
    ),
    Metric(
        "reasoning.cost", "output_cost x reasoning tokens / output tokens, per model", "USD", W, A
    ),
    Metric("*.cost_share", "part's cost / T", "fraction", W, A),
    Metric("*.cost_per_1k_tokens", "part's cost / part's tokens x 1000", "USD/1k tokens", W, A),
)

#: One-time costs: `unitecon unit --loaded` (both amortization methods side by side).
OT = "unitecon.attribution.fixed:one_time_view"
ONE_TIME = (
    Metric("window_charge", "what the window carries under the configured method", "USD", W, OT),
    Metric(
        "per_period_charge",
        "amortized over N months: each month of life [start + k months, + k + 1) recognizes A/N, spread over its seconds; the window's part",
        "USD",
        W,
        "unitecon.attribution.fixed:recognized",
    ),
    Metric(
        "cost_per_task_per_period",
        "per_period_charge / tasks in scope in the window",
        "USD/task",
        W,
        OT,
    ),
    Metric(
        "lifetime_tasks",
        "E: amortize_tasks, else tasks in the window x life / window's part of the life (estimated)",
        "tasks",
        "life",
        OT,
    ),
    Metric(
        "cost_per_task_lifetime",
        "lifetime executions: A / E (the seed's total fixed expenditure / expected lifetime executions)",
        "USD/task",
        "life",
        OT,
    ),
)

#: The headline a board reads: `unitecon report`, `/api/v1/summary` (`Analysis.summary`, each
#: figure from the question that owns it).
S = "unitecon.analysis.core:Analysis"
HEADLINE = (
    Metric(
        "variable_cost",
        "C summed over the window (unit metrics' conserved total)",
        "USD",
        W,
        "unitecon.attribution.rollup:aggregates",
    ),
    Metric(
        "fixed_cost",
        "F: the project file's fixed costs charged in the window (monthly x days share; one-time A/N per month of life, or A/E per task), allocated or not",
        "USD",
        W,
        "unitecon.attribution.allocation:allocate",
    ),
    Metric(
        "idle_cost",
        "I: provisioned self-hosted GPU time not used, per endpoint-day (cost - busy cost)",
        "USD",
        W,
        "unitecon.attribution.allocation:allocate",
    ),
    Metric("total_cost", "fully loaded L = C + F + I", "USD", W, f"{M}:loaded_cost"),
    Metric(
        "revenue",
        "the margins' revenue summed over customers and months (plan fees, seats, usage beyond the allowance, for the window's days)",
        "USD",
        WD,
        "unitecon.economics.revenue:revenue",
    ),
    Metric(
        "gross_margin",
        "revenue - L (the margins' fixed cost holds fixed and idle)",
        "USD",
        WD,
        "unitecon.economics.margins:gross_margin",
    ),
    Metric(
        "gross_margin_pct",
        "gross_margin / revenue (a fraction; none when revenue is 0)",
        "fraction",
        WD,
        "unitecon.economics.margins:margin_pct",
    ),
    Metric(
        "tasks",
        "tasks summed over the margins' (customer, month, feature) rows",
        "tasks",
        WD,
        "unitecon.economics.inputs:usage_lines",
    ),
    Metric(
        "successful_tasks",
        "tasks whose last known verdict (`accepted`) is true, summed the same way",
        "tasks",
        WD,
        "unitecon.economics.inputs:usage_lines",
    ),
    Metric(
        "cost_per_successful_task",
        "L / successful_tasks (fully loaded)",
        "USD/task",
        W,
        f"{M}:cost_per_successful_task",
    ),
    Metric(
        "variable_cost_per_successful_task",
        "C / successful_tasks",
        "USD/task",
        W,
        f"{M}:cost_per_successful_task",
    ),
    Metric(
        "customers_past_collapse",
        "customers whose monthly run-rate margin is < 0 on their plan's P and F (past u0; `collapse`'s definition)",
        "customers",
        "monthly run rate",
        "unitecon.economics.collapse_plan:position",
    ),
    Metric(
        "anomalies",
        "days x series whose spend is far above the weekday-adjusted baseline (`anomalies`)",
        "anomalies",
        W,
        "unitecon.governance.anomalies:detect",
    ),
    Metric(
        "runaway_tasks",
        "tasks whose leaf calls exceed max(min_calls, floor(factor x p99 of their feature's tasks))",
        "tasks",
        W,
        "unitecon.governance.runaway:runaway_tasks",
    ),
    Metric(
        "months[]",
        "the same figures per UTC calendar month cut to the window (fixed_cost there holds fixed + idle)",
        "USD",
        "month's days in the window",
        S,
    ),
)

#: Governance: `unitecon budgets`, `unitecon coverage`, `unitecon prices missing`.
B = "unitecon.governance.budgets:budget_status"
GOVERNANCE = (
    Metric(
        "actual",
        "variable cost of the budget's scope from the month's first day to as_of (exclusive)",
        "USD",
        "month to date",
        B,
    ),
    Metric("used", "actual / budget", "fraction", "month to date", B),
    Metric(
        "forecast",
        "actual + the remaining days' expected cost (weekday-adjusted median of the 28 days before)",
        "USD",
        "calendar month",
        B,
    ),
    Metric(
        "forecast_low",
        "forecast - 1.2816 x MAD sigma x sqrt(remaining days), never below actual (80 % range)",
        "USD",
        "calendar month",
        B,
    ),
    Metric(
        "forecast_high",
        "forecast + 1.2816 x MAD sigma x sqrt(remaining days)",
        "USD",
        "calendar month",
        B,
    ),
    Metric(
        "cost_coverage",
        "variable cost of leaf calls carrying the tag / all their variable cost",
        "fraction",
        W,
        "unitecon.governance.coverage:coverage",
    ),
    Metric(
        "call_coverage",
        "leaf calls carrying the tag / leaf calls; on the `usage` row, model calls that came with their usage / model calls",
        "fraction",
        W,
        "unitecon.governance.coverage:coverage",
    ),
    Metric(
        "usage missing",
        "model calls with no token counts (cost unknown, never $0), per source, provider and model, with their share of those calls",
        "calls",
        W,
        "unitecon.pricing.engine:usage_missing_calls",
    ),
)

SECTIONS = (
    ("Unit metrics (`unitecon unit`, `/api/v1/metrics/units`)", UNIT),
    ("Self-hosted endpoints (`unitecon endpoints`, `/api/v1/endpoints`)", ENDPOINT),
    ("Margins (`unitecon margins`, `/api/v1/margins`)", MARGIN),
    ("Collapse (`unitecon collapse`, `/api/v1/collapse`)", COLLAPSE),
    ("Input vs output cost (`unitecon asymmetry`)", ASYMMETRY),
    ("One-time costs, two amortizations (`unitecon unit --loaded`)", ONE_TIME),
    ("Headline (`unitecon report`, `/api/v1/summary`)", HEADLINE),
    ("Governance (`unitecon budgets`, `coverage`, `prices missing`)", GOVERNANCE),
)

HEADER = f"""# Metrics

Every figure the product shows: its formula, unit, the window it covers and the function
that computes it. Generated from `unitecon/economics/definitions.py`
(`python -m unitecon.economics.definitions > docs/metrics.md`); `tests/economics/
test_metrics_doc.py` fails when this file, the list or the code drift apart.

## Windows and words

- **Window**: the analysed interval [since, until), whole UTC days (`--since`/`--until`,
  else the data's first to last day). Every money figure is the window's unless it says
  "monthly". Revenue covers the same days as cost: a month the window covers in part
  earns only its days inside the window (fees, seats, allowances, invoice lines), and
  the plans' F is prorated the same way. Margin tables print the window.
- **Variable** C: tokens + unit prices + busy GPU time. **Loaded** L = C + F + I (fixed
  and idle) everywhere; the endpoints page says **busy** (GPU time used) and
  **provisioned** (all GPU time paid for, idle included), never "loaded".
- **Measured** figures come from the calls (durations, tokens); **configured** ones from
  the project file.
- **Losing money**: `margins` counts customers with gross margin < 0 over the window
  (after allocated fixed cost) and, separately, contribution margin < 0; `collapse`
  counts customers past u0 at the monthly run rate, on the plan's price P and planning
  figure F. Each page names its definition.
- Rows that are no value of a dimension carry a stable key in JSON and a name in tables:
  `__idle__` Idle GPU capacity, `__filtered__` Outside the filters, `__unallocated__`
  Fixed cost with no driver in scope, `(none)`/`(untagged)` Untagged, `(unattributed)` No
  customer (untagged spend).
- **Idle GPU cost**: `allocation: {{idle: line}}` keeps it on its own row;
  `allocation: {{idle: share}}` splits each endpoint-month's idle over the rows that used the
  endpoint by their busy GPU time (their GPU cost on it).
- **One-time costs** are amortized per period (`amortize_months`: A/N per month of life,
  summing to A over the life, a mid-month start included) or over lifetime executions
  (`amortize_tasks`: A / E per task). `unit --loaded` shows both for each one-time cost and
  names the method its figures use. Amortized over tasks, a window is charged for its tasks
  among the first E since `start`, counting the tasks before the window whatever window is
  asked (a task counts in the month of its first event): the charges of adjacent windows add
  up to what the whole ledger charges, never more than A
  (`tests/analysis/test_amortized_window.py`, by hand; the unit metrics, the margins and a
  what-if replay alike).

## Output scales (JSON)

Money is exact inside (DECIMAL(38, 24)); JSON carries decimal strings rounded half-even:

| kind | fields | decimal places |
|---|---|---|
| money | every other decimal figure | {PLACES["money"]} (micro-dollar) |
| rate | `*_per_*` (cost per task, $/M tokens, GPU-s per token) | {PLACES["rate"]} |
| ratio | `*_pct`, `*share*`, `*ratio*`, utilization, coverage, gini, lorenz | {PLACES["ratio"]} (a fraction: 0.634218 = 63.42 %) |

Fewer places are kept as they are; zero is `"0"`. A sum of n rounded rows is within
n x 0.5e-6 of the rounded total.
"""


def markdown() -> str:
    """docs/metrics.md."""
    out = [HEADER]
    for title, metrics in SECTIONS:
        out.append(f"\n## {title}\n\n| metric | formula | unit | window | computed in |\n")
        out.append("|---|---|---|---|---|\n")
        for m in metrics:
            out.append(f"| `{m.name}` | {m.formula} | {m.unit} | {m.window} | `{m.where}` |\n")
    return "".join(out)


if __name__ == "__main__":
    print(markdown(), end="")
