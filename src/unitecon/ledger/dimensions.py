"""The one dimension registry: every name a question can group or filter by.

A dimension is a name a user types (`--by customer`, `?by=customer`), the event column or
expression behind it, a label for people, the spellings also accepted (`customer_id`), and
the questions that allow it. The CLI's help and validation, the API's query parameters and
OpenAPI enums, the dashboard's filter lists and `docs/dimensions.md` are generated from
`REGISTRY`; adding a dimension (say `region` from a tag) is one entry here.

Expressions are over the attribution stage's costed events (columns of the event schema
plus `day`, `month`, `task`, `agent_r`), as Ibis expressions, so they run on any engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from unitecon.errors import LookupFailed

#: The questions a dimension can serve.
COSTS = "costs"  # cost by dimension (`costs --by`, GET /costs?by=)
UNITS = "units"  # unit metrics and allocation (`unit --by`, GET /metrics/units?by=)
MARGINS = "margins"  # margins roll-up (`margins --by`, GET /margins?by=)
FILTER = "filter"  # a filter of every question (`--feature`, ?feature=)
COVERAGE = "coverage"  # tagging coverage (a business tag an event may lack)
USES = (COSTS, UNITS, MARGINS, FILTER, COVERAGE)


def _col(name: str) -> Callable[[Any], Any]:
    return lambda t: t[name]


@dataclass(frozen=True)
class Dimension:
    """One dimension: its public name, what computes it, and where it is allowed."""

    name: str
    label: str
    column: str | None
    """The event column behind it (None: computed, see `expr`)."""
    uses: frozenset[str]
    aliases: tuple[str, ...] = ()
    doc: str = ""
    period: bool = False
    """A time period (rows sort by time, not by cost)."""
    compute: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)
    also: tuple[str, ...] = ()
    """The event columns `compute` reads besides `column`."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The event columns its value is computed from (for `Costed.narrow`)."""
        return tuple(c for c in (self.column, *self.also) if c is not None)

    def expr(self, t: Any) -> Any:
        """The dimension's value on the events `t` (an Ibis expression)."""
        if self.compute is not None:
            return self.compute(t)
        if self.column is None:
            raise LookupFailed("dimension", self.name, ())
        return t[self.column]


def _d(
    name: str,
    label: str,
    column: str | None,
    uses: Iterable[str],
    doc: str,
    *,
    aliases: tuple[str, ...] = (),
    period: bool = False,
    compute: Callable[[Any], Any] | None = None,
    also: tuple[str, ...] = (),
) -> Dimension:
    return Dimension(name, label, column, frozenset(uses), aliases, doc, period, compute, also)


def _month_text(t: Any) -> Any:
    return t.month.strftime("%Y-%m")


def _task_type(t: Any) -> Any:
    import ibis

    return ibis.coalesce(t.task_type, t.feature)


REGISTRY: tuple[Dimension, ...] = (
    _d("day", "Day (UTC)", "day", {COSTS}, "UTC calendar day of the call", period=True),
    _d("week", "Week (UTC)", "week", {COSTS}, "ISO week (Monday) of the call", period=True),
    _d(
        "month",
        "Month (UTC)",
        "month",
        {COSTS, UNITS, MARGINS},
        "UTC calendar month of the call",
        period=True,
        compute=_month_text,
    ),
    _d("provider", "Provider", "provider", {COSTS}, "model provider (openai, anthropic, ...)"),
    _d("model", "Model", "model", {COSTS, UNITS}, "model name as called"),
    _d(
        "customer",
        "Customer",
        "customer_id",
        {COSTS, UNITS, MARGINS, FILTER, COVERAGE},
        "your customer (tenant, account)",
        aliases=("customer_id", "tenant"),
    ),
    _d(
        "user",
        "User",
        "user_id",
        {COSTS, UNITS, COVERAGE},
        "end user within a customer",
        aliases=("user_id",),
    ),
    _d(
        "feature",
        "Feature",
        "feature",
        {COSTS, UNITS, MARGINS, FILTER, COVERAGE},
        "product feature that made the call",
    ),
    _d(
        "agent",
        "Agent",
        "agent",
        {COSTS, UNITS, COVERAGE},
        "agent that made the call (units: inherited from the enclosing agent span)",
        compute=lambda t: t.agent_r if "agent_r" in t.columns else t.agent,
    ),
    _d("team", "Team", "team", {COSTS, UNITS, COVERAGE}, "owning team"),
    _d(
        "environment",
        "Environment",
        "environment",
        {COSTS, UNITS, COVERAGE},
        "deployment environment (prod, staging, ...)",
        aliases=("env",),
    ),
    _d("operation", "Operation", "operation", {COSTS}, "GenAI operation (chat, embeddings, ...)"),
    _d("endpoint", "Endpoint", "endpoint", {COSTS, UNITS}, "self-hosted endpoint serving the call"),
    _d(
        "task_type",
        "Task type",
        "task_type",
        {COSTS, UNITS},
        "kind of task (units: the feature when unset)",
        aliases=("task-type",),
        compute=_task_type,
        also=("feature",),
    ),
    _d("task", "Task", "task", {UNITS}, "task (task_id, else trace, else the event)"),
    _d(
        "conversation",
        "Conversation",
        "conversation_id",
        {UNITS},
        "conversation (session)",
        aliases=("conversation_id", "session"),
    ),
    _d(
        "status",
        "Price status",
        "price_status",
        {COSTS},
        "how the call was priced (priced, missing, endpoint, unit, structural)",
        aliases=("price_status",),
    ),
    _d("plan", "Plan", None, {MARGINS}, "the customer's plan (from the revenue section)"),
)

_BY_NAME = {d.name: d for d in REGISTRY}
_ALIASES = {a: d.name for d in REGISTRY for a in d.aliases}


def names(use: str) -> list[str]:
    """The public names of the dimensions allowed in `use`, in registry order."""
    return [d.name for d in REGISTRY if use in d.uses]


def get(name: str, use: str | None = None) -> Dimension:
    """The dimension `name` (or one of its aliases), allowed in `use` (None: any)."""
    key = _ALIASES.get(name.strip(), name.strip())
    d = _BY_NAME.get(key)
    if d is None or (use is not None and use not in d.uses):
        choices = names(use) if use else list(_BY_NAME)
        spellings = [*choices, *(a for a, n in _ALIASES.items() if n in choices)]
        raise _with_choices(LookupFailed("dimension", name, spellings), choices)
    return d


def _with_choices(err: LookupFailed, choices: list[str]) -> LookupFailed:
    err.args = (f"{err.args[0]} Choose from: {', '.join(choices)}.",)
    return err


def parse(spec: str, use: str) -> list[Dimension]:
    """A comma-separated list of dimension names (aliases allowed), each allowed in `use`."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise _with_choices(LookupFailed("dimension", spec, ()), names(use))
    out = [get(p, use) for p in parts]
    seen: set[str] = set()
    dup = [d.name for d in out if d.name in seen or seen.add(d.name)]  # type: ignore[func-returns-value]
    if dup:
        from unitecon.errors import UniteconError

        raise UniteconError(f"Dimension {dup[0]!r} given twice in {spec!r}.")
    return out


def help_text(use: str) -> str:
    """The names allowed in `use`, for a CLI option's help."""
    return ", ".join(names(use))


def markdown() -> str:
    """The table of `docs/dimensions.md` (a test keeps the doc equal to this)."""
    lines = [
        "| name | label | column | also accepted | allowed in | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for d in REGISTRY:
        col = f"`{d.column}`" if d.column else "(computed)"
        aka = ", ".join(f"`{a}`" for a in d.aliases)
        uses = ", ".join(u for u in USES if u in d.uses)
        lines.append(f"| `{d.name}` | {d.label} | {col} | {aka} | {uses} | {d.doc} |")
    return "\n".join(lines) + "\n"
