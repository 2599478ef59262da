"""Revenue per customer-month: plan arithmetic, or the actual invoice lines when there are any.

Revenue covers the same window as cost. The window is the whole UTC days the data covers
([first day, last day + 1), `Window`); a month the window covers in part earns only the days
inside it, as its costs are only those days' costs (a 60-day window from 16 Sep to 15 Nov
earns half of September's fee, all of October's, half of November's).

Plan arithmetic for one customer-month on plan p (all in the plan's currency, then x rate):

    fee      = monthly_fee x f          f = days of the month in the contract and in the
                                            window / days in the month
    seats    = per_seat x seats x f
    usage_k  = price_k x max(0, units_k - (included_k + included_per_seat_k x seats) x w)
               w = days of the month in the window / days in the month (the allowance of
               the part of the month the usage was measured over)
    units_k  = the month's units of metric_k (only feature_k's when set); for credits,
               sum over metrics of units x credit_burn[metric]

Each component is rounded to the cent (half-even) in its currency, then converted to USD at
`revenue.rates[currency]` [USD/unit] and rounded to the cent again. When a customer holds two
contracts in one month (a plan change), fees are prorated on each and usage is priced on the
contract with the most days in the month (the later one on a tie). Allowances are not prorated
over contracts, only to the window.

A customer-month with invoice lines (`revenue_lines_csv`) takes those lines instead, each
x w (an invoice is for the whole month).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import fnmatch
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

from pydantic import ValidationError

from unitecon.economics.inputs import ZERO, UsageLine
from unitecon.economics.revenue_config import (
    _PLANS,
    AssignRule,
    Contract,
    Customer,
    Plan,
    RevenueConfig,
    UsagePrice,
)
from unitecon.economics.split import split_cents
from unitecon.economics.window import Window
from unitecon.errors import ConfigError

CENT = Decimal("0.01")


def cents(x: Decimal) -> Decimal:
    """Round to the cent, half-even (banker's rounding, as invoices)."""
    return x.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class RevenueItem:
    """One revenue component of a customer-month [USD]."""

    customer_id: str
    month: dt.date
    feature: str | None
    component: str
    amount: Decimal
    """Revenue [USD], to the cent."""
    amount_local: Decimal
    """Revenue in `currency`, to the cent."""
    currency: str
    plan: str | None
    source: str
    """`plan` (arithmetic) or `invoice` (a line of revenue_lines_csv)."""


@dataclass(frozen=True)
class InvoiceLine:
    """An actual invoice line from the revenue-lines CSV."""

    customer_id: str
    month: dt.date
    amount: Decimal
    currency: str
    feature: str | None
    description: str


@dataclass(frozen=True)
class Book:
    """Who is on which plan, and the actual invoice lines."""

    config: RevenueConfig
    customers: Mapping[str, Customer]
    invoices: Sequence[InvoiceLine] = ()

    def contracts(self, customer_id: str) -> list[Contract]:
        """The customer's contracts: listed, from the CSV, else from the first matching rule.
        Spend with no customer earns nothing: no rule ever assigns it a plan."""
        from unitecon.economics.inputs import UNATTRIBUTED

        if customer_id == UNATTRIBUTED:
            return []
        if customer_id in self.customers:
            return self.customers[customer_id].all_contracts()
        rule = assigned_rule(self.config.assign, customer_id)
        if rule is None:
            return []
        return [Contract(plan=rule.plan, seats=rule.seats)]


# -- pure arithmetic ----------------------------------------------------------------------


def stable_bucket(customer_id: str) -> Decimal:
    """A customer's fixed position in [0, 1): the first 8 bytes of sha256(id) / 2^64."""
    h = int.from_bytes(hashlib.sha256(customer_id.encode()).digest()[:8], "big")
    return Decimal(h) / Decimal(2**64)


def assigned_rule(rules: Iterable[AssignRule], customer_id: str) -> AssignRule | None:
    """The first rule whose glob and hash bucket contain the customer."""
    b = stable_bucket(customer_id)
    for r in rules:
        if fnmatch.fnmatchcase(customer_id, r.match) and r.hash_from <= b < r.hash_to:
            return r
    return None


def _days_in(month: dt.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def month_fraction(c: Contract, month: dt.date, window: Window | None = None) -> Decimal:
    """Days of `month` inside the contract (and the window) / days in the month [fraction]."""
    days = _days_in(month)
    lo = max(month, c.start or month, window.since if window else month)
    hi = min(
        month + dt.timedelta(days=days),
        c.end or dt.date.max,
        window.until if window else dt.date.max,
    )
    return Decimal(max(0, (hi - lo).days)) / days


def window_share(month: dt.date, window: Window | None) -> Decimal:
    """w = days of `month` in the window / days in the month [fraction]; 1 without a window."""
    if window is None:
        return Decimal(1)
    days = _days_in(month)
    lo, hi = max(month, window.since), min(month + dt.timedelta(days=days), window.until)
    return Decimal(max(0, (hi - lo).days)) / days


def metric_units(plan: Plan, metric: str, line: UsageLine) -> Decimal:
    """Units of `metric` in one usage line; credits are burned at `plan.credit_burn`."""
    if metric == "credits":
        return sum((line.metric(m) * rate for m, rate in plan.credit_burn.items()), ZERO)
    return line.metric(metric)


def billable_units(units: Decimal, included: Decimal) -> Decimal:
    """Units beyond the allowance: max(0, units - included) [units]."""
    return max(ZERO, units - included)


def usage_charge(
    comp: UsagePrice, plan: Plan, seats: int, lines: Sequence[UsageLine], w: Decimal = Decimal(1)
) -> tuple[Decimal, dict[str | None, Decimal]]:
    """One usage component: (charge [currency], units by feature [units]); `w` the window's
    share of the month, which the allowance is prorated to."""
    mine = [ln for ln in lines if comp.feature is None or ln.feature == comp.feature]
    units = {ln.feature: metric_units(plan, comp.metric, ln) for ln in mine}
    included = (comp.included + comp.included_per_seat * seats) * w
    return comp.price * billable_units(sum(units.values(), ZERO), included), units


def fee_charges(plan: Plan, seats: int, fraction: Decimal) -> dict[str, Decimal]:
    """Flat fee and seat charges for the part `fraction` of a month [currency]."""
    out = {}
    if plan.monthly_fee:
        out["fee"] = plan.monthly_fee * fraction
    if plan.per_seat:
        out["seats"] = plan.per_seat * seats * fraction
    return out


def _items(
    key: tuple[str, dt.date, str | None],
    component: str,
    local: Decimal,
    currency: str,
    rate: Decimal,
    units: Mapping[str | None, Decimal] | None = None,
    source: str = "plan",
) -> list[RevenueItem]:
    """Round `local` to the cent, convert to USD, and split both over features by `units`."""
    cid, month, plan = key
    local = cents(local)
    if local == 0:
        return []
    weights = units or {None: Decimal(1)}
    usd = split_cents(cents(local * rate), weights)
    loc = split_cents(local, weights)
    return [
        RevenueItem(cid, month, f, component, usd[f], loc[f], currency, plan, source)
        for f in weights
    ]


def main_contract(
    contracts: Sequence[Contract], month: dt.date, window: Window | None = None
) -> Contract | None:
    """The contract with the most days in `month` (and the window; the later one on a tie)."""
    active = [(month_fraction(c, month, window), c.start or dt.date.min, c) for c in contracts]
    active = [a for a in active if a[0] > 0]
    if not active:
        return None
    return max(active, key=lambda a: (a[0], a[1]))[2]


def plan_revenue(
    cfg: RevenueConfig,
    customer_id: str,
    month: dt.date,
    contracts: Sequence[Contract],
    lines: Sequence[UsageLine],
    window: Window | None = None,
) -> list[RevenueItem]:
    """Revenue items of one customer-month by plan arithmetic (see module docstring)."""
    items = []
    for c in contracts:
        frac = month_fraction(c, month, window)
        if frac == 0:
            continue
        plan = cfg.plans[c.plan]
        key = (customer_id, month, c.plan)
        for name, amount in fee_charges(plan, c.seats, frac).items():
            items += _items(key, name, amount, plan.currency, cfg.rate(plan.currency))
    main = main_contract(contracts, month, window)
    if main is not None:
        plan = cfg.plans[main.plan]
        key = (customer_id, month, main.plan)
        w = window_share(month, window)
        for comp in plan.usage:
            charge, units = usage_charge(comp, plan, main.seats, lines, w)
            rate = cfg.rate(plan.currency)
            items += _items(key, f"usage:{comp.metric}", charge, plan.currency, rate, units)
    return items


def invoice_revenue(
    cfg: RevenueConfig, lines: Sequence[InvoiceLine], plan: str | None, w: Decimal = Decimal(1)
) -> list[RevenueItem]:
    """Revenue items from actual invoice lines of one customer-month, x w (the window's
    share of the month)."""
    out = []
    for ln in lines:
        key = (ln.customer_id, ln.month, plan)
        units = {ln.feature: Decimal(1)}
        comp = ln.description or "invoice"
        amount, rate = ln.amount * w, cfg.rate(ln.currency)
        out += _items(key, comp, amount, ln.currency, rate, units, "invoice")
    return out


def revenue(
    book: Book,
    usage: Sequence[UsageLine],
    months: Iterable[dt.date],
    window: Window | None = None,
) -> list[RevenueItem]:
    """Revenue items of every customer-month: invoices where present, else plan arithmetic.

    Customers are those with usage plus those configured (listed or in the CSV); months are
    `months` (the first day of each). With `window`, each month earns only its days inside
    the window (module docstring); without, whole months.
    """
    by_cm: dict[tuple[str, dt.date], list[UsageLine]] = {}
    for ln in usage:
        by_cm.setdefault((ln.customer_id, ln.month), []).append(ln)
    inv: dict[tuple[str, dt.date], list[InvoiceLine]] = {}
    for il in book.invoices:
        inv.setdefault((il.customer_id, il.month), []).append(il)
    customers = sorted({c for c, _ in by_cm} | set(book.customers) | {c for c, _ in inv})
    out: list[RevenueItem] = []
    for cid in customers:
        contracts = book.contracts(cid)
        for m in sorted(set(months)):
            if (cid, m) in inv:
                main = main_contract(contracts, m, window)
                w = window_share(m, window)
                out += invoice_revenue(book.config, inv[cid, m], main.plan if main else None, w)
            else:
                usage_cm = by_cm.get((cid, m), [])
                out += plan_revenue(book.config, cid, m, contracts, usage_cm, window)
    return out


# -- CSV inputs -------------------------------------------------------------------------


def _rows(path: Path, required: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    if not path.exists():
        raise ConfigError(f"{path}: no such file (revenue CSV named in the project file)")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(
                f"{path}:1: missing column(s) {', '.join(missing)}; expected {', '.join(required)}"
            )
        for i, row in enumerate(reader, start=2):
            yield i, {k: (v or "").strip() for k, v in row.items() if k}


def _month(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:7] + "-01")


def read_invoices(path: Path, cfg: RevenueConfig) -> list[InvoiceLine]:
    """Invoice lines: customer_id,month(YYYY-MM),amount[,currency,feature,description]."""
    out = []
    for line, r in _rows(path, ("customer_id", "month", "amount")):
        try:
            cur = r.get("currency") or "USD"
            cfg.rate(cur)
            month, amount = _month(r["month"]), Decimal(r["amount"])
            feature, text = r.get("feature") or None, r.get("description", "")
            out.append(InvoiceLine(r["customer_id"], month, amount, cur, feature, text))
        except (ValueError, InvalidOperation, KeyError) as e:
            msg = f"no rate for currency {e}" if isinstance(e, KeyError) else str(e) or "bad value"
            raise ConfigError(f"{path}:{line}: {msg}: {r}") from None
    return out


def read_customers(path: Path, cfg: RevenueConfig) -> dict[str, Customer]:
    """Customers CSV: customer_id,plan[,seats,start,end,currency]; one row per contract.

    `contract_start`/`contract_end` are accepted for start/end; other columns are ignored."""
    rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, r in _rows(path, ("customer_id", "plan")):
        rows.setdefault(r["customer_id"], []).append((line, r))
    token = _PLANS.set(frozenset(cfg.plans))
    try:
        return {cid: _customer(path, rs) for cid, rs in rows.items()}
    finally:
        _PLANS.reset(token)


def _customer(path: Path, rows: list[tuple[int, dict[str, str]]]) -> Customer:
    contracts = []
    for line, r in rows:
        fields = {k: r.get(k) or r.get(f"contract_{k}") for k in ("plan", "seats", "start", "end")}
        fields = {k: v for k, v in fields.items() if v}
        try:
            contracts.append(Contract.model_validate(fields))
        except ValidationError as e:
            raise ConfigError(_csv_error(path, line, e)) from None
    try:
        return Customer(contracts=contracts, currency=rows[0][1].get("currency") or None)
    except ValidationError as e:
        raise ConfigError(_csv_error(path, rows[0][0], e)) from None


def _csv_error(path: Path, line: int, e: ValidationError) -> str:
    err = e.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(row)"
    return f"{path}:{line}: {field}: {err['msg']}"


def load_book(cfg: RevenueConfig, base: Path | None = None) -> Book:
    """Resolve the configured customers and read the CSVs (paths relative to `base`)."""
    base = base or Path.cwd()
    customers: dict[str, Customer] = {}
    if cfg.customers_csv:
        customers.update(read_customers(base / cfg.customers_csv, cfg))
    customers.update(cfg.customers)
    invoices = read_invoices(base / cfg.revenue_lines_csv, cfg) if cfg.revenue_lines_csv else []
    return Book(cfg, customers, invoices)
