"""Reconciliation: the ledger's computed cost against what the provider billed.

For each provider, bill period (a UTC day for the providers' reports) and model, the
ledger's computed cost, the cost the sources reported, and the bill; the residual
(billed - computed) in dollars and percent; and what explains it, in this order:

1. **unknown model**: the ledger saw the calls but has no price for the model (the
   computed cost lacks them); the share of the bill for the unpriced tokens.
2. **untracked usage**: the provider counted more tokens than the ledger saw (its usage
   report, e.g. a key or a service that sends no telemetry), the bill's share for the
   tokens the ledger never saw: billed x (1 - ledger tokens / billed tokens). A bill line
   the ledger has no calls for at all is untracked whole.
3. **sampling**: the ledger's sampled events are an estimate; up to three standard errors,
   sampled cost x sqrt((1 - p) / n) x 3 (n sampled events at mean rate p), is sampling.
4. **price difference**: what is left, with the tokens agreeing: a negotiated discount, a
   batch or priority tier, a price change the catalog lacks; told apart by the implied
   ratio (about -50 %: batch; below 0: a discount, with the project-file line to add).

A residual within the tolerance (`reconcile.tolerance_pct` of the bill or
`tolerance_usd`) is a match. What no rule explains is left `unexplained`.

The capture rate is tracked / billed: the ledger's computed cost over the bill, over the
periods the bill covers, per provider and overall; below `reconcile.capture_alert_below`
it is an alert.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from unitecon.billing.config import ReconcileConfig
from unitecon.reconcile.computed import LedgerDay

ZERO = Decimal(0)
CENT = Decimal("0.000001")
#: Explained parts are cut at the bill's own scale, so that they add up to the residual exactly.
PART = Decimal("1e-12")
#: Bill sources per provider and day, best first: the providers' own reports are by model.
COST_PRECEDENCE = ("openai_costs", "anthropic_cost", "invoice_csv")
USAGE_FORMATS = ("openai_usage", "anthropic_usage")
NO_MODEL = "(not a model)"


@dataclass(frozen=True)
class Explanation:
    kind: str
    """unknown_model | untracked_usage | sampling | price_difference | not_billed |
    within_tolerance | unexplained"""
    amount: Decimal
    """The part of the residual it explains [USD], signed as the residual."""
    text: str


@dataclass
class Row:
    provider: str
    period_start: dt.date
    period_end: dt.date
    model: str
    """The catalog's model id where the catalog knows it, else the name as billed."""
    billed: Decimal = ZERO
    list_billed: Decimal | None = None
    computed: Decimal = ZERO
    reported: Decimal | None = None
    billed_tokens: int | None = None
    ledger_tokens: int = 0
    events: int = 0
    unpriced_events: int = 0
    unpriced_tokens: int = 0
    sampled_events: int = 0
    sampled_cost: Decimal = ZERO
    mean_sample_rate: float = 1.0
    skus: set[str] = field(default_factory=set)
    keys: dict[str, int] = field(default_factory=dict)
    """Tokens per API key in the usage report."""
    ledger_models: set[str] = field(default_factory=set)
    explanations: list[Explanation] = field(default_factory=list)
    status: str = "match"

    @property
    def residual(self) -> Decimal:
        return self.billed - self.computed

    @property
    def residual_pct(self) -> Decimal | None:
        return None if not self.billed else self.residual / self.billed * 100

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(residual=self.residual, residual_pct=self.residual_pct)
        d["skus"], d["ledger_models"] = sorted(self.skus), sorted(self.ledger_models)
        return d


@dataclass(frozen=True)
class Capture:
    provider: str
    """A provider id, or "all"."""
    tracked: Decimal
    billed: Decimal
    rate: Decimal | None
    """tracked / billed, to 6 places; None with nothing billed."""
    alert: bool


@dataclass
class Reconciliation:
    rows: list[Row]
    capture: list[Capture]
    threshold: Decimal
    sources: dict[str, str]
    """provider -> the bill source used for its cost."""
    uncovered_days: dict[str, int]
    """provider -> days with ledger cost that no bill period covers (not reconciled)."""
    reported: list[Any] = field(default_factory=list)
    """`reported.ReportedGap`s: the sources' own reported cost vs ours, per model."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Currency -> bill cost lines left out: no rate for it in `revenue.rates`."""

    @property
    def alerts(self) -> list[Capture]:
        return [c for c in self.capture if c.alert]

    def summary(self) -> list[dict[str, Any]]:
        """Per provider and explanation: rows, amount [USD over the bill's periods], and the
        largest row's text as an example; largest amount first."""
        by: dict[tuple[str, str], dict[str, Any]] = {}
        for r in self.rows:
            for e in r.explanations:
                first = {"provider": r.provider, "kind": e.kind, "rows": 0, "amount": ZERO,
                         "example": e.text, "top": ZERO}  # fmt: skip
                s = by.setdefault((r.provider, e.kind), first)
                s["rows"] += 1
                s["amount"] += e.amount
                if abs(e.amount) > s["top"]:
                    s["top"], s["example"] = abs(e.amount), f"{r.period_start} {r.model}: {e.text}"
        out = sorted(by.values(), key=lambda s: -abs(s["amount"]))
        return [{k: v for k, v in s.items() if k != "top"} for s in out]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.as_dict() for r in self.rows],
            "summary": self.summary(),
            "capture": [asdict(c) for c in self.capture],
            "threshold": self.threshold,
            "sources": self.sources,
            "uncovered_days": self.uncovered_days,
            "alerts": [asdict(c) for c in self.alerts],
            "reported": [g.as_dict() for g in self.reported],
            "skipped": self.skipped,
        }


ModelKey = Callable[[str, str], str]


def reconcile(
    ledger: Iterable[LedgerDay],
    bill: Iterable[Mapping[str, Any]],
    model_key: ModelKey,
    config: ReconcileConfig | None = None,
    rates: Mapping[str, Decimal] | None = None,
) -> Reconciliation:
    """Compare ledger days with bill lines (rows of `bill_lines`); see the module doc.
    `rates`: USD per unit of another currency (the project file's `revenue.rates`); a
    bill line in a currency without a rate is left out and counted in `skipped`."""
    cfg = config or ReconcileConfig()
    lines, skipped = _in_usd(list(bill), rates or {})
    costs, sources = _cost_lines(lines)
    periods = _periods(costs)
    rows: dict[tuple[str, dt.date, dt.date, str], Row] = {}

    def row(provider: str, start: dt.date, end: dt.date, model: str) -> Row:
        key = (provider, start, end, model)
        if key not in rows:
            rows[key] = Row(provider, start, end, model)
        return rows[key]

    for c in costs:
        r = row(c["provider"], c["start"], c["end"], _bill_model(c, model_key))
        r.billed += c["amount"]
        if c["list_amount"] is not None:
            r.list_billed = (r.list_billed or ZERO) + c["list_amount"]
        r.skus.add(c["sku"] or c["model"] or "")
    _add_usage(lines, periods, model_key, row)
    uncovered = _add_ledger(ledger, periods, model_key, row)
    for r in rows.values():
        explain(r, cfg)
    ordered = sorted(rows.values(), key=lambda r: (-abs(r.residual), r.provider, r.period_start))
    rec = Reconciliation(
        ordered, capture(ordered, cfg), cfg.capture_alert_below, sources, uncovered
    )
    rec.skipped = skipped
    return rec


def _in_usd(
    lines: list[Mapping[str, Any]], rates: Mapping[str, Decimal]
) -> tuple[list[Mapping[str, Any]], dict[str, int]]:
    """Cost lines converted to USD at `rates`; those in a currency without a rate left out."""
    out: list[Mapping[str, Any]] = []
    skipped: dict[str, int] = defaultdict(int)
    for x in lines:
        cur = (x.get("currency") or "USD").upper()
        if x["kind"] != "cost" or cur == "USD":
            out.append(x)
        elif cur in rates:
            rate = Decimal(rates[cur])
            listed = x.get("list_amount")
            out.append({**x, "amount": x["amount"] * rate, "currency": "USD",
                        "list_amount": None if listed is None else listed * rate})  # fmt: skip
        else:
            skipped[cur] += 1
    return out, dict(skipped)


def _day(ts: Any) -> dt.date:
    return ts.date() if isinstance(ts, dt.datetime) else ts  # type: ignore[no-any-return]


def _cost_lines(lines: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The cost lines of the best source for each provider (never two sources summed)."""
    have: dict[str, set[str]] = defaultdict(set)
    for x in lines:
        if x["kind"] == "cost":
            have[x["provider"]].add(x["format"])
    rank = {f: i for i, f in enumerate(COST_PRECEDENCE)}
    best = {p: min(fs, key=lambda f: rank.get(f, len(rank))) for p, fs in have.items()}
    out = [
        {**x, "start": _day(x["period_start"]), "end": _day(x["period_end"])}
        for x in lines
        if x["kind"] == "cost" and x["format"] == best[x["provider"]]
    ]
    return out, best


def _periods(costs: list[dict[str, Any]]) -> dict[str, list[tuple[dt.date, dt.date]]]:
    ps: dict[str, set[tuple[dt.date, dt.date]]] = defaultdict(set)
    for c in costs:
        ps[c["provider"]].add((c["start"], c["end"]))
    return {p: sorted(v) for p, v in ps.items()}


def _period_of(
    periods: dict[str, list[tuple[dt.date, dt.date]]], provider: str, day: dt.date
) -> tuple[dt.date, dt.date] | None:
    for start, end in periods.get(provider, []):
        if start <= day < end:
            return start, end
    return None


def _bill_model(line: Mapping[str, Any], model_key: ModelKey) -> str:
    if not line["model"]:
        return f"{NO_MODEL}: {line['sku']}" if line.get("sku") else NO_MODEL
    return model_key(line["provider"], line["model"])


def _add_usage(
    lines: list[Mapping[str, Any]],
    periods: dict[str, list[tuple[dt.date, dt.date]]],
    model_key: ModelKey,
    row: Callable[[str, dt.date, dt.date, str], Row],
) -> None:
    for x in lines:
        if x["format"] not in USAGE_FORMATS or x["token_kind"] not in ("input", "output"):
            continue
        p = _period_of(periods, x["provider"], _day(x["period_start"]))
        if p is None or not x["model"]:
            continue
        r = row(x["provider"], *p, model_key(x["provider"], x["model"]))
        n = int(x["quantity"] or 0)
        r.billed_tokens = (r.billed_tokens or 0) + n
        key = x.get("api_key_id") or "(no key)"
        r.keys[key] = r.keys.get(key, 0) + n


def _add_ledger(
    days: Iterable[LedgerDay],
    periods: dict[str, list[tuple[dt.date, dt.date]]],
    model_key: ModelKey,
    row: Callable[[str, dt.date, dt.date, str], Row],
) -> dict[str, int]:
    uncovered: dict[str, set[dt.date]] = defaultdict(set)
    for d in days:
        if d.provider not in periods:
            continue  # no bill for this provider at all: nothing to reconcile
        p = _period_of(periods, d.provider, d.day)
        if p is None:
            if d.computed:
                uncovered[d.provider].add(d.day)
            continue
        r = row(d.provider, *p, model_key(d.provider, d.model) if d.model else NO_MODEL)
        r.computed += d.computed
        r.ledger_tokens += d.tokens
        r.events += d.events
        r.unpriced_events += d.unpriced_events
        r.unpriced_tokens += d.unpriced_tokens
        n = r.sampled_events + d.sampled_events
        if n:
            r.mean_sample_rate = (
                r.mean_sample_rate * r.sampled_events + d.mean_sample_rate * d.sampled_events
            ) / n
        r.sampled_events = n
        r.sampled_cost += d.sampled_cost
        if d.reported is not None:
            r.reported = (r.reported or ZERO) + d.reported
        r.ledger_models.add(d.model)
    return {p: len(v) for p, v in uncovered.items()}


def _tolerance(r: Row, cfg: ReconcileConfig) -> Decimal:
    return max(cfg.tolerance_usd, abs(r.billed) * cfg.tolerance_pct / 100)


def explain(r: Row, cfg: ReconcileConfig) -> None:
    """Fill `r.explanations` and `r.status` (see the module doc for the order)."""
    tol = _tolerance(r, cfg)
    left = r.residual
    if abs(left) <= tol:
        r.status = "match"
        return
    ex = r.explanations
    if not r.billed and r.computed:
        ex.append(Explanation("not_billed", left, "the ledger priced calls the bill does "
                              "not show under this model (billed under another line or "
                              "provider, or not yet billed)"))  # fmt: skip
        r.status = "explained"
        return
    if r.events == 0:
        what = "a charge that is not a model's tokens" if r.model.startswith(NO_MODEL) else (
            "calls to this model")  # fmt: skip
        ex.append(Explanation("untracked_usage", left, f"usage the ledger never saw: {what} "
                              "(a key or service that sends no telemetry)"))  # fmt: skip
        r.status = "explained"
        return
    left = _unknown_model(r, left, ex)
    left = _untracked(r, left, ex, tol)
    left = _sampling(r, left, ex)
    left = _price(r, left, ex, tol)
    if abs(left) > tol:
        ex.append(Explanation("unexplained", left, "no rule explains this part"))
    elif left:
        ex.append(Explanation("within_tolerance", left, "what is left is within tolerance"))
    r.status = "unexplained" if any(e.kind == "unexplained" for e in ex) else "explained"


def _unknown_model(r: Row, left: Decimal, ex: list[Explanation]) -> Decimal:
    if not r.unpriced_events or not r.ledger_tokens:
        return left
    share = Decimal(r.unpriced_tokens) / Decimal(r.ledger_tokens)
    amount = left if r.computed == 0 else (r.billed * share).quantize(PART)
    models = ", ".join(sorted(r.ledger_models))
    ex.append(Explanation("unknown_model", amount, f"{r.unpriced_events:,} calls to {models} "
                          "have no price in the catalog: `unitecon prices missing` gives "
                          "the override to add"))  # fmt: skip
    return left - amount


def _untracked(r: Row, left: Decimal, ex: list[Explanation], tol: Decimal) -> Decimal:
    if r.billed_tokens is None or r.billed_tokens <= r.ledger_tokens:
        return left
    gap = r.billed_tokens - r.ledger_tokens
    amount = (r.billed * Decimal(gap) / Decimal(r.billed_tokens)).quantize(PART)
    if abs(amount) <= tol / 2:
        return left
    keys = ", ".join(f"{k} {v:,}" for k, v in sorted(r.keys.items(), key=lambda kv: -kv[1]))
    ex.append(Explanation("untracked_usage", amount, f"the provider counted {r.billed_tokens:,} "
                          f"tokens, the ledger {r.ledger_tokens:,}: {gap:,} tokens it never "
                          f"saw (usage report by key: {keys})"))  # fmt: skip
    return left - amount


def _sampling(r: Row, left: Decimal, ex: list[Explanation]) -> Decimal:
    if not r.sampled_events or r.mean_sample_rate >= 1:
        return left
    se = float(r.sampled_cost) * math.sqrt((1 - r.mean_sample_rate) / r.sampled_events)
    bound = Decimal(3 * se).quantize(CENT)
    if bound <= 0:
        return left
    amount = max(-bound, min(bound, left))
    ex.append(Explanation("sampling", amount, f"{r.sampled_events:,} sampled calls (mean rate "
                          f"{r.mean_sample_rate:.2f}) are an estimate: ±{bound} is three "
                          "standard errors"))  # fmt: skip
    return left - amount


def _price(r: Row, left: Decimal, ex: list[Explanation], tol: Decimal) -> Decimal:
    if abs(left) <= tol or not r.computed:
        return left
    tokens_agree = r.billed_tokens is not None
    ratio = left / r.computed * 100
    if r.list_billed:
        off = (1 - r.billed / r.list_billed) * 100
        text = f"the bill is {off:.1f}% below its own list price: a negotiated discount"
    elif Decimal(-53) <= ratio <= Decimal(-47):
        text = f"the bill is {-ratio:.1f}% below our price: batch pricing on calls not marked batch"
    elif ratio < 0:
        text = (f"the bill is {-ratio:.1f}% below our list price: a negotiated discount not in the "
                f"project file (pricing.discounts: - {{provider: {r.provider}, percent: "
                f"{-ratio:.0f}}})")  # fmt: skip
    else:
        text = (f"the bill is {ratio:.1f}% above our price: a priority or long-context tier, "
                "or a price change the catalog lacks (`unitecon prices update`)")  # fmt: skip
    if not tokens_agree:
        text += " — or usage the ledger never saw: import the usage report to tell them apart"
    ex.append(Explanation("price_difference", left, text))
    return ZERO


def capture(rows: list[Row], cfg: ReconcileConfig) -> list[Capture]:
    """Tracked / billed per provider and overall, over the rows (the bill's periods)."""
    by: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for r in rows:
        for p in (r.provider, "all"):
            by[p][0] += r.computed
            by[p][1] += r.billed
    out = []
    for p in [*sorted(k for k in by if k != "all"), "all"] if by else []:
        tracked, billed = by[p]
        rate = (tracked / billed).quantize(CENT) if billed else None
        alert = rate is not None and rate < cfg.capture_alert_below
        out.append(Capture(p, tracked, billed, rate, alert))
    return out
