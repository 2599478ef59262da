"""Price the ledger in the engine: one join of events to the price table, then arithmetic.

The only per-event work is relational: a left join on (provider, model, batch, service tier)
with the validity interval, time-of-day window and tier band as range conditions (the
catalog's segments are disjoint, so an event matches at most one row), then

    input_cost  = sum_f tokens_f * rate[input, f]  + rate[input, request]     [USD]
    output_cost = sum_f tokens_f * rate[output, f] + rate[output, request]
    cost        = input_cost + output_cost + other                            (DECIMAL(38, 24))

All of it is an Ibis expression, so it runs on any Ibis backend; DuckDB is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from unitecon.ledger.schema import STRUCTURAL_OPERATIONS, TOKEN_FIELDS
from unitecon.pricing import rates
from unitecon.pricing.catalog import DAY_SECONDS, PriceTable, keys_from_rows, price_table
from unitecon.pricing.config import PricingConfig

MONEY = dt.Decimal(38, rates.RATE_SCALE)
STATUSES = ("priced", "structural", "missing", "endpoint", "unit")
PRICED_COLUMNS = (
    "priced",
    "price_status",
    "input_cost",
    "output_cost",
    "cost",
    "price_rule",
    "catalog_version",
)


def _backend(source: Any) -> Any:
    return source.ibis() if hasattr(source, "ibis") and hasattr(source, "con") else source


def _pricing(project: Any) -> PricingConfig:
    if project is None:
        return PricingConfig()
    if isinstance(project, PricingConfig):
        return project
    return project.pricing  # type: ignore[no-any-return]


def _instant(v: date | datetime) -> datetime:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    return datetime.combine(v, time(), UTC)


def ledger_events(
    source: Any, since: date | datetime | None = None, until: date | datetime | None = None
) -> ir.Table:
    """The `events` table of a Ledger or Ibis backend, `since <= ts < until`."""
    t = _backend(source).table("events")
    if since is not None:
        t = t.filter(t.ts >= _instant(since))
    if until is not None:
        t = t.filter(t.ts < _instant(until))
    return t


def _is_token_priced(t: ir.Table) -> ir.BooleanValue:
    return (
        ~t.operation.isin(sorted(STRUCTURAL_OPERATIONS))
        & t.endpoint.isnull()
        & t.model.notnull()
        & (t.model != "")
    )


def build_prices(events: ir.Table, config: PricingConfig) -> PriceTable:
    """Resolve the distinct price keys of `events` (one small query) into a price table."""
    keys = (
        events.filter(_is_token_priced(events))
        .select("provider", "model", "batch", "service_tier")
        .distinct()
        .to_pyarrow()
        .to_pylist()
    )
    return price_table(keys_from_rows(keys), config)


def _seconds_of_day(ts: ir.TimestampValue) -> ir.IntegerValue:
    return ts.hour() * 3600 + ts.minute() * 60 + ts.second()  # type: ignore[no-any-return]


def _sum(terms: list[ir.NumericValue]) -> ir.NumericValue:
    if not terms:
        return ibis.literal(Decimal(0), type=MONEY)
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total.cast(MONEY)


def apply_prices(events: ir.Table, table: PriceTable) -> ir.Table:
    """Join `events` to `table` and add the priced columns (see `priced_events`)."""
    prices = ibis.memtable(table.to_arrow())
    p = prices.rename({f"_p_{c}": c for c in prices.columns})
    e = events.mutate(
        _pk=events.provider.fill_null(""),
        _tk=events.service_tier.fill_null(""),
    )
    cond = [
        e._pk == p._p_provider,
        e.model == p._p_model,
        e.batch == p._p_batch,
        e._tk == p._p_service_tier,
        e.ts >= p._p_valid_from,
        e.ts < p._p_valid_to,
        e.input_tokens > p._p_in_lo,
        e.input_tokens <= p._p_in_hi,
    ]
    if any((r["tod_from"], r["tod_to"]) != (0, DAY_SECONDS) for r in table.rows):
        e = e.mutate(_tod=_seconds_of_day(e.ts))
        cond += [e._tod >= p._p_tod_from, e._tod < p._p_tod_to]
    j = e.left_join(p, cond)

    status = ibis.cases(
        (j.operation.isin(sorted(STRUCTURAL_OPERATIONS)), "structural"),
        (j.endpoint.notnull(), "endpoint"),
        (j.model.isnull() | (j.model == ""), "unit"),
        (j._p_rule.notnull(), "priced"),
        else_="missing",
    )
    parts: dict[str, list[ir.NumericValue]] = {d: [] for d in rates.DIRECTIONS}
    for col in table.rate_columns:
        direction, term = col.split("__")
        rate = j[f"_p_{col}"]
        parts[direction].append(rate if term == "request" else j[term] * rate)
    zero = ibis.literal(Decimal(0), type=MONEY)
    null = ibis.null(MONEY)

    def money(expr: ir.NumericValue) -> ir.NumericValue:
        return ibis.cases((status == "priced", expr), (status == "structural", zero), else_=null)

    input_cost, output_cost = money(_sum(parts["input"])), money(_sum(parts["output"]))
    other = money(_sum(parts["other"])) if parts["other"] else None
    cost = input_cost + output_cost + other if other is not None else input_cost + output_cost
    priced = status == "priced"
    return j.select(
        *events.columns,
        priced=priced,
        price_status=status,
        input_cost=input_cost,
        output_cost=output_cost,
        cost=cost.cast(MONEY),
        price_rule=ibis.cases((priced, j._p_rule), else_=ibis.null(dt.string)),
        catalog_version=ibis.literal(table.version),
    )


def priced_events(
    source: Any,
    project: Any = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> ir.Table:
    """The ledger's events (`since <= ts < until`) with their cost, as an Ibis table.

    `source` is a `Ledger` or an Ibis backend holding table `events`; `project` a `Project`,
    a `PricingConfig` or None (catalog prices only). Added columns: `priced` (bool),
    `price_status` ('priced' | 'structural' | 'missing' | 'endpoint' | 'unit'), `input_cost`,
    `output_cost`, `cost` (DECIMAL(38, 24) USD; 0 for structural rows, null unless priced),
    `price_rule` (which catalog row priced it) and `catalog_version`. Unknown models are
    'missing' with a null cost, never $0. Endpoints and non-token units are left to later
    stages.
    """
    events = ledger_events(source, since, until)
    return apply_prices(events, build_prices(events, _pricing(project)))


def costs(
    source: Any,
    project: Any = None,
    by: Sequence[str] = (),
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> ir.Table:
    """Cost summed by `by` (event columns, or `day` / `month` of `ts`), with event counts,
    token totals and the number of events left unpriced."""
    t = priced_events(source, project, since, until)
    derived = {"day": t.ts.date(), "month": t.ts.truncate("M").date()}
    keys = {k: derived[k] if k in derived else t[k] for k in by}
    return t.group_by(**keys).aggregate(
        events=t.count(),
        unpriced=t.price_status.isin(["missing", "endpoint", "unit"]).sum(),
        **{f: t[f].sum() for f in TOKEN_FIELDS},
        input_cost=t.input_cost.sum(),
        output_cost=t.output_cost.sum(),
        cost=t.cost.sum(),
    )


# -- `unitecon prices missing` ---------------------------------------------------------------


@dataclass(frozen=True)
class MissingPrice:
    """A (provider, model) with events that could not be priced, and the override to add."""

    provider: str | None
    model: str
    events: int
    input_tokens: int
    output_tokens: int
    first_seen: datetime
    last_seen: datetime
    reason: str

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def snippet(self) -> str:
        """The project-file entry to add (prices left as TODO so it cannot price at $0)."""
        provider = f"      provider: {self.provider}\n" if self.provider else ""
        return (
            "pricing:\n"
            "  models:\n"
            f"    - model: {self.model}\n"
            f"{provider}"
            f"      since: {self.first_seen.date().isoformat()}\n"
            "      input_mtok: TODO    # USD per million input tokens\n"
            "      output_mtok: TODO   # USD per million output tokens\n"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "events": self.events,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "reason": self.reason,
            "snippet": self.snippet(),
        }


def missing_prices(
    source: Any,
    project: Any = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> list[MissingPrice]:
    """Unknown (provider, model)s with their event count and token volume, largest first."""
    config = _pricing(project)
    events = ledger_events(source, since, until)
    table = build_prices(events, config)
    t = apply_prices(events, table)
    m = t.filter(t.price_status == "missing")
    agg = m.group_by("provider", "model").aggregate(
        events=m.count(),
        input_tokens=m.input_tokens.sum(),
        output_tokens=m.output_tokens.sum(),
        first_seen=m.ts.min(),
        last_seen=m.ts.max(),
    )
    rows = agg.to_pyarrow().to_pylist()
    out = []
    for r in rows:
        why = table.unpriced.get((r["provider"] or "", r["model"]))
        reason = why.reason if why else "no price for these events' dates (see pricing.models)"
        out.append(
            MissingPrice(
                r["provider"],
                r["model"],
                int(r["events"]),
                int(r["input_tokens"] or 0),
                int(r["output_tokens"] or 0),
                r["first_seen"],
                r["last_seen"],
                reason,
            )
        )
    return sorted(out, key=lambda x: (-x.tokens, -x.events, x.provider or "", x.model))
