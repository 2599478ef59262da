"""FOCUS 1.2 export of the ledger's cost (the FinOps Foundation's Cost and Usage dataset).

One row per charge period (UTC day) x provider x service x SKU x tags, where a SKU is a
model and a token kind (input, output: FOCUS 1.5's draft makes them separate SKUs, SkuMeter
"Input Tokens" / "Output Tokens"), a non-token unit (web searches, vector queries, review
seconds), or a self-hosted endpoint's busy GPU time; an endpoint's idle GPU time per day
and each fixed cost per month are charges of their own.

Costs: BilledCost = EffectiveCost = ContractedCost = the ledger's variable cost (catalog
prices with the project's discounts, sampling-weighted), exactly as `unitecon costs` sums
it; ListCost prices the same events without the project's discounts. Unit prices are
derived: ListUnitPrice = ListCost / PricingQuantity, rounded to 1e-18 (FOCUS wants the
product to match; the FinOps validator allows a relative 1e-9). Tokens: ConsumedUnit
"Tokens", PricingUnit "1000000 Tokens" (a whole-number multiplier, as the Unit Format
requires; "1M Tokens" does not conform). Tags: the events' business dimensions (feature,
team, environment) as a JSON object. Custom columns come after FOCUS's, prefixed `x_`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

ZERO = Decimal(0)
MTOK = Decimal(1_000_000)
PRICE_Q = Decimal("1e-18")
AI = "AI and Machine Learning"
TAG_KEYS = ("feature", "team", "environment")
KEYS = ("day", "provider", "model", "endpoint", "cost_kind", "unit_type", *TAG_KEYS)
SERVICES = {"openai": "OpenAI API", "anthropic": "Anthropic API", "google": "Gemini API"}
UNIT_NAMES = {"review_second": "Seconds", "web_search": "Requests", "vector_query": "Requests"}

#: FOCUS 1.2 columns we write, in order (then the x_ columns).
COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
    "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
)  # fmt: skip
EXTRA = ("x_Model", "x_TokenKind", "x_Events", "x_CatalogVersion")
DECIMALS = {"BilledCost", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "ListCost",
            "ListUnitPrice", "PricingQuantity", "ConsumedQuantity", "PricingCurrencyEffectiveCost",
            "PricingCurrencyListUnitPrice", "PricingCurrencyContractedUnitPrice"}  # fmt: skip
TIMES = {"BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart"}


@dataclass(frozen=True)
class Charge:
    """One FOCUS row before formatting: costs [USD] over [start, end)."""

    start: dt.datetime
    end: dt.datetime
    provider: str
    service: str
    sku: str
    meter: str
    description: str
    billed: Decimal
    listed: Decimal
    consumed: Decimal | None
    consumed_unit: str | None
    pricing_qty: Decimal
    pricing_unit: str
    tags: dict[str, str]
    category: str = "Usage"
    frequency: str = "Usage-Based"
    subcategory: str = "Generative AI"
    model: str | None = None
    token_kind: str | None = None
    events: int | None = None
    resource: str | None = None


def _weight(t: Any) -> Any:
    sampled = (t.sample_rate != 1) & (t.price_status != "endpoint")
    return ibis.ifelse(sampled, (1 / t.sample_rate).round(6), 1.0).cast("decimal(18, 6)")


def _groups(events: Any) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Per KEYS: weighted tokens, units, GPU-seconds and cost (leaves with a cost only)."""
    from unitecon.attribution.frame import MONEY

    t = events.filter(events.cost_kind.isin(["token", "unit", "endpoint"]))
    w = _weight(t)
    t = t.mutate(day=t.ts.date(), w_in=(t.input_cost.fill_null(0) * w).cast(MONEY), w=w)
    agg = t.group_by(list(KEYS)).aggregate(
        cost=t.var_cost.sum(),
        in_cost=ibis.ifelse(t.cost_kind == "token", t.w_in, 0).sum(),
        in_tokens=(t.input_tokens * t.w).sum(),
        out_tokens=(t.output_tokens * t.w).sum(),
        units=(t.units.cast("decimal(38, 6)") * t.w).sum(),
        gpu_s=t.gpu_s.sum(),
        events=t.count(),
    )
    return {tuple(r[k] for k in KEYS): r for r in agg.to_pyarrow().to_pylist()}


def _d(x: Any) -> Decimal:
    return ZERO if x is None else Decimal(x)


def usage_charges(costed: Any, listed: dict[tuple[Any, ...], dict[str, Any]]) -> list[Charge]:
    """Token, unit and busy GPU-time charges from the costed events; `listed`: the same
    groups priced without the project's discounts."""
    out: list[Charge] = []
    for key, g in sorted(_groups(costed.events).items(), key=lambda kv: str(kv[0])):
        lst = listed.get(key, g)
        day, provider, model, endpoint, kind, unit_type, *tags = key
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        base: dict[str, Any] = {"start": start, "end": start + dt.timedelta(days=1),
                "tags": {k: v for k, v in zip(TAG_KEYS, tags, strict=True) if v},
                "events": int(g["events"])}  # fmt: skip
        prov = provider or "internal"
        if kind == "token":
            out += _token_charges(base, prov, model or "(unknown)", g, lst)
        elif kind == "unit":
            unit = UNIT_NAMES.get(unit_type, "Units")
            out.append(
                Charge(
                    **base,
                    provider=prov,
                    service=f"{unit_type} (unit prices)",
                    sku=f"{unit_type}",
                    meter=unit_type,
                    description=(f"{unit_type} units at the project's unit price"),
                    billed=_d(g["cost"]),
                    listed=_d(lst["cost"]),
                    consumed=_d(g["units"]),
                    consumed_unit=unit,
                    pricing_qty=_d(g["units"]),
                    pricing_unit=unit,
                    subcategory="Other (AI and Machine Learning)",
                )
            )
        else:  # endpoint: busy GPU time
            hours = _d(g["gpu_s"]) / 3600
            out.append(
                Charge(
                    **base,
                    provider=prov,
                    service="Self-hosted inference",
                    sku=f"{endpoint} GPU time",
                    meter="GPU Time",
                    description=f"busy GPU time of endpoint {endpoint} serving {model}",
                    billed=_d(g["cost"]),
                    listed=_d(lst["cost"]),
                    consumed=hours,
                    consumed_unit="Hours",
                    pricing_qty=hours,
                    pricing_unit="Hours",
                    model=model,
                    resource=endpoint,
                )
            )
    return out


def _token_charges(
    base: dict[str, Any], provider: str, model: str, g: dict[str, Any], lst: dict[str, Any]
) -> list[Charge]:
    tin, tout = _d(g["in_tokens"]), _d(g["out_tokens"])
    cin, cout = _d(g["in_cost"]), _d(g["cost"]) - _d(g["in_cost"])
    lin, lout = _d(lst["in_cost"]), _d(lst["cost"]) - _d(lst["in_cost"])
    parts = [
        ("input", "Input Tokens", tin, cin, lin),
        ("output", "Output Tokens", tout, cout, lout),
    ]
    if not tout:  # embeddings: everything is input
        parts = [("input", "Input Tokens", tin, cin + cout, lin + lout)]
    if not tin and not tout:  # priced per request
        parts = [("requests", "Requests", Decimal(g["events"]), cin + cout, lin + lout)]
    service = SERVICES.get(provider, f"{provider} API")
    out = []
    for kind, meter, qty, billed, listed in parts:
        unit, pq = ("Requests", qty) if kind == "requests" else ("1000000 Tokens", qty / MTOK)
        out.append(
            Charge(
                **base,
                provider=provider,
                service=service,
                sku=f"{model} {kind}",
                meter=meter,
                description=f"{model} {meter.lower()}",
                billed=billed,
                listed=listed,
                consumed=qty,
                consumed_unit="Requests" if kind == "requests" else "Tokens",
                pricing_qty=pq,
                pricing_unit=unit,
                model=model,
                token_kind=kind,
            )
        )
    return out


def idle_charges(costed: Any) -> list[Charge]:
    """Each self-hosted endpoint's idle GPU time, one charge per endpoint-day."""
    out = []
    for p in costed.periods:
        if not p.idle:
            continue
        hours = (p.provisioned_gpu_s - p.busy_gpu_s) / 3600
        out.append(
            Charge(
                p.day,
                p.day + dt.timedelta(days=1),
                "internal",
                "Self-hosted inference",
                f"{p.endpoint} idle GPU time",
                "Idle GPU Time",
                f"provisioned but idle GPU time of endpoint {p.endpoint}",
                p.idle,
                p.idle,
                hours,
                "Hours",
                hours,
                "Hours",
                {},
                resource=p.endpoint,
            )
        )
    return out


def fixed_charges(costed: Any, project: Any) -> list[Charge]:
    """The project's fixed costs, one charge per cost and calendar month of the window."""
    from unitecon.attribution import fixed
    from unitecon.attribution.frame import next_month

    out = []
    w = costed.window
    for fc in project.fixed_costs:
        counts = fixed.task_counts(costed.source, fc, w) if fc.amortize_tasks else None
        for ch in fixed.charges(fc, w, counts):
            start, end = max(ch.month, w.since), min(next_month(ch.month), w.until)
            tags = {k: v for k in ("feature", "agent") if (v := getattr(fc, k, None))}
            out.append(
                Charge(
                    start,
                    end,
                    "internal",
                    "Fixed costs",
                    fc.name,
                    "Fixed Cost",
                    f"{fc.name}: its share of the month",
                    ch.amount,
                    ch.amount,
                    None,
                    None,
                    Decimal(1),
                    "Months",
                    tags,
                    frequency="Recurring",
                    subcategory="Other (AI and Machine Learning)",
                )
            )
    return out


def _price(cost: Decimal, qty: Decimal) -> Decimal:
    return (cost / qty).quantize(PRICE_Q) if qty else ZERO


def rows(charges: Iterable[Charge], account: str, catalog: str) -> list[dict[str, Any]]:
    """FOCUS rows (column -> value) of `charges`."""
    out = []
    for c in charges:
        month = c.start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        price_id = f"{c.provider}/{c.sku}/{_price(c.listed, c.pricing_qty)}"
        r: dict[str, Any] = dict.fromkeys(COLUMNS)
        r.update(
            BilledCost=c.billed, EffectiveCost=c.billed, ContractedCost=c.billed,
            ListCost=c.listed, ContractedUnitPrice=_price(c.billed, c.pricing_qty),
            ListUnitPrice=_price(c.listed, c.pricing_qty), PricingQuantity=c.pricing_qty,
            PricingUnit=c.pricing_unit, ConsumedQuantity=c.consumed, ConsumedUnit=c.consumed_unit,
            BillingAccountId=account, BillingAccountName=account, BillingCurrency="USD",
            BillingPeriodStart=month, BillingPeriodEnd=nxt, ChargePeriodStart=c.start,
            ChargePeriodEnd=c.end, ChargeCategory=c.category, ChargeDescription=c.description,
            ChargeFrequency=c.frequency, InvoiceIssuerName=_issuer(c.provider),
            ProviderName=_issuer(c.provider), PublisherName=_issuer(c.provider),
            PricingCategory="Standard", ServiceCategory=AI, ServiceName=c.service,
            ServiceSubcategory=c.subcategory, SkuId=f"{c.provider}/{c.sku}", SkuMeter=c.meter,
            SkuPriceId=price_id, ResourceId=c.resource, ResourceName=c.resource,
            ResourceType="Inference Endpoint" if c.resource else None,
            SkuPriceDetails=json.dumps({"ModelId": c.model}) if c.model else None,
            Tags=json.dumps(c.tags, sort_keys=True) if c.tags else None,
            PricingCurrency="USD", PricingCurrencyEffectiveCost=c.billed,
            PricingCurrencyListUnitPrice=_price(c.listed, c.pricing_qty),
            PricingCurrencyContractedUnitPrice=_price(c.billed, c.pricing_qty),
            x_Model=c.model, x_TokenKind=c.token_kind, x_Events=c.events, x_CatalogVersion=catalog,
        )  # fmt: skip
        out.append(r)
    return out


def _issuer(provider: str) -> str:
    return {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google",
            "internal": "Internal"}.get(provider, provider)  # fmt: skip


def focus_rows(
    analysis: Any,
    since: dt.date | None = None,
    until: dt.date | None = None,
    account: str = "unitecon",
) -> list[dict[str, Any]]:
    """The analysed ledger's cost over [since, until) as FOCUS 1.2 rows (see the module
    doc): the analysis core's costed events, and the same events costed by a second
    analysis without the project's discounts for the list prices."""
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.pricing import catalog_version

    f = Filters(since=since, until=until)
    project = analysis.project
    undiscounted = project.model_copy(
        update={"pricing": project.pricing.model_copy(update={"discounts": []})}
    )
    with Analysis(analysis.source, undiscounted) as at_list:
        listed = _groups(at_list.costed(f).events)
    costed = analysis.costed(f)
    charges = [*usage_charges(costed, listed), *idle_charges(costed),
               *fixed_charges(costed, project)]  # fmt: skip
    return rows(charges, account, catalog_version(project.pricing))


def to_arrow(rows_: list[dict[str, Any]]) -> pa.Table:
    def typ(c: str) -> pa.DataType:
        if c in DECIMALS:
            return pa.decimal128(38, 18)
        if c in TIMES:
            return pa.timestamp("s", tz="UTC")
        return pa.int64() if c == "x_Events" else pa.string()

    schema = pa.schema([(c, typ(c)) for c in (*COLUMNS, *EXTRA)])
    fixed = [{c: _scaled(r[c]) if c in DECIMALS else r[c] for c in schema.names} for r in rows_]
    return pa.Table.from_pylist(fixed, schema=schema)


def _scaled(v: Decimal | None) -> Decimal | None:
    return None if v is None else v.quantize(PRICE_Q)


def write(rows_: list[dict[str, Any]], path: Path) -> Path:
    """CSV (timestamps as `YYYY-MM-DDTHH:MM:SSZ`) or Parquet, by the file's suffix."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    table = to_arrow(rows_)
    if path.suffix.lower() == ".parquet":
        pq.write_table(table, path)
        return path
    cols = {c: _iso(table[c]) if c in TIMES else table[c] for c in table.column_names}
    pcsv.write_csv(pa.table(cols), path)
    return path


def _iso(col: Any) -> pa.Array:
    return pa.array([None if v is None else v.strftime("%Y-%m-%dT%H:%M:%SZ")
                     for v in col.to_pylist()], pa.string())  # fmt: skip


def totals(rows_: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    by: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows_:
        by[r["ServiceName"]] += r["BilledCost"]
    return dict(by)
