"""The price catalog: genai-prices plus project overrides, expanded into a relational table.

Each distinct (provider, model) of the ledger is resolved once with genai-prices' own
matching (`DataSnapshot.find_provider_model`). Its prices are then cut into segments on
which nothing changes: UTC date intervals `[valid_from, valid_to)` (historic prices, dated
variants, override and discount dates), time-of-day windows `[tod_from, tod_to)` in seconds
(off-peak prices), and per price context (`batch`, `service_tier`). Each segment's prices
come from genai-prices' `ModelInfo.get_prices` at a timestamp inside the segment, so the
selection rules (last active conditional price wins, variants override key by key, variants
apply only to a provider's own models) are genai-prices' own. `rates.bands` turns each
segment's `ModelPrice` into per-token rates per tier band. The engine joins events to these
rows; nothing here runs per event.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import cache
from pathlib import Path
from typing import Any

import genai_prices
import pyarrow as pa
from genai_prices import data_snapshot
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    StartDateConstraint,
    Tier,
    TieredPrices,
    TimeOfDateConstraint,
)

from unitecon.errors import LookupFailed
from unitecon.pricing import rates
from unitecon.pricing.config import Discount, PricingConfig, PrivateModel

MIN_TS = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TS = datetime(9999, 12, 31, tzinfo=UTC)
DAY_SECONDS = 86_400
RATE_TYPE = pa.decimal128(38, rates.RATE_SCALE)
#: Discounted prices are rounded to this many places per Mtok (= RATE_SCALE per token).
DISCOUNT_SCALE = rates.RATE_SCALE - 6

PriceContext = Mapping[str, str]


@cache
def _data_hash() -> str:
    import genai_prices.data as data

    return hashlib.sha256(Path(data.__file__).read_bytes()).hexdigest()[:12]


def _snapshot() -> data_snapshot.DataSnapshot:
    """The catalog in use: an installed snapshot (`prices update`), else the package's."""
    from unitecon.pricing import snapshot

    return snapshot.current()


def catalog_version(config: PricingConfig | None = None) -> str:
    """`genai-prices 0.2.5 data:<sha256>` (the package's data), or `... snapshot:<sha256>
    <installed date>` (`prices update`), plus a hash of the overrides when there are any."""
    from unitecon.pricing import snapshot

    snap = snapshot.current()
    installed = snapshot.installed()
    if installed is not None:
        data = f"snapshot:{installed.sha256[:12]} {installed.installed_at.date()}"
    elif snap.from_auto_update:
        data = f"snapshot {snap.timestamp.isoformat()}"
    else:
        data = f"data:{_data_hash()}"
    version = f"genai-prices {genai_prices.__version__} {data}"
    if config is not None and config != PricingConfig():
        dump = json.dumps(config.model_dump(mode="json"), sort_keys=True)
        version += f" overrides:{hashlib.sha256(dump.encode()).hexdigest()[:12]}"
    return version


# -- resolution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """What prices one ledger (provider, model)."""

    provider: str  # as in the ledger, '' when absent
    model: str
    provider_id: str  # genai-prices provider id, or the ledger's provider for private models
    model_id: str
    info: ModelInfo | None  # None: a private model from the project file
    own: bool  # the model is the provider's own (genai-prices applies variants only then)
    private: tuple[tuple[int, PrivateModel], ...] = ()


@dataclass(frozen=True)
class Unpriced:
    """A (provider, model) the catalog cannot price, and why."""

    provider: str
    model: str
    reason: str


def _same(a: str | None, *candidates: str | None) -> bool:
    return a is None or any(c is not None and a.lower() == c.lower() for c in candidates)


def resolve(provider: str, model: str, config: PricingConfig) -> Resolved | Unpriced:
    """Resolve a ledger (provider, model) once: a private model, else genai-prices."""
    private = tuple(
        (i, m)
        for i, m in enumerate(config.models)
        if m.model.lower() == model.lower() and _same(m.provider, provider)
    )
    if private:
        return Resolved(provider, model, provider, model, None, False, private)
    snap = _snapshot()
    try:
        prov, info = snap.find_provider_model(model, None, provider or None, None)
    except LookupError as e:
        return Unpriced(provider, model, str(e))
    own = any(m is info for m in prov.models)
    return Resolved(provider, model, prov.id, info.id, info, own)


# -- schedule: segments of constant prices -----------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Prices valid for `valid_from <= ts < valid_to` and `tod_from <= seconds of day < tod_to`."""

    valid_from: datetime
    valid_to: datetime
    tod_from: int
    tod_to: int
    price: ModelPrice
    rule: str


def _seconds(t: time) -> int:
    t = t if t.tzinfo is None else datetime.combine(date(2000, 1, 1), t).astimezone(UTC).time()
    if t.microsecond:
        raise rates.RateError(f"time-of-day boundary {t} is not a whole second")
    return t.hour * 3600 + t.minute * 60 + t.second


def _constraints(info: ModelInfo) -> list[StartDateConstraint | TimeOfDateConstraint]:
    out = []
    if not isinstance(info.prices, ModelPrice):
        out += [cp.constraint for cp in info.prices if cp.constraint is not None]
    out += [v.constraint for v in info.price_variants or () if v.constraint is not None]
    return out


def _override_applies(entry: Any, r: Resolved) -> bool:
    return _same(entry.model, r.model, r.model_id) and _same(
        entry.provider, r.provider, r.provider_id
    )


def _edges(r: Resolved, config: PricingConfig) -> tuple[list[date], list[int]]:
    dates: set[date] = set()
    tods = {0, DAY_SECONDS}
    for c in _constraints(r.info) if r.info else ():
        if isinstance(c, StartDateConstraint):
            dates.add(c.start_date)
        else:
            tods |= {_seconds(c.start_time), _seconds(c.end_time)}
    dated: list[Any] = [m for _, m in r.private]
    dated += [o for o in config.overrides if _override_applies(o, r)]
    dated += [d for d in config.discounts if _override_applies(d, r)]
    for entry in dated:
        dates.add(entry.since)
        if entry.until is not None:
            dates.add(entry.until)
    return sorted(dates), sorted(tods)


def _active(entry: Any, day: date) -> bool:
    return bool(entry.since <= day and (entry.until is None or day < entry.until))


def _constraint_label(c: StartDateConstraint | TimeOfDateConstraint | None) -> str:
    if isinstance(c, StartDateConstraint):
        return f"from {c.start_date}"
    if isinstance(c, TimeOfDateConstraint):
        return f"{c.start_time:%H:%M}-{c.end_time:%H:%M} UTC"
    return ""


def _catalog_price(r: Resolved, ctx: PriceContext | None, at: datetime) -> tuple[ModelPrice, str]:
    info = r.info
    assert info is not None
    # exactly as ModelInfo.calc_price chooses
    price = info.get_prices(at) if ctx and not r.own else info.get_prices(at, ctx)
    parts = [f"genai-prices {genai_prices.__version__}: {r.provider_id}/{r.model_id}"]
    if not isinstance(info.prices, ModelPrice):
        chosen = next(
            (
                cp
                for cp in reversed(info.prices)
                if cp.constraint is None or cp.constraint.active(at)
            ),
            info.prices[0],
        )
        if label := _constraint_label(chosen.constraint):
            parts[0] += f" {label}"
    if ctx and r.own:
        for v in info.price_variants or ():
            active = v.constraint is None or v.constraint.active(at)
            if active and all(ctx.get(k) == val for k, val in v.when.items()):
                parts.append(f"{'/'.join(v.when.values())} variant")
    return price, ", ".join(parts)


def _private_price(r: Resolved, day: date) -> tuple[ModelPrice, str] | None:
    active = [(m.since, i, m) for i, m in r.private if _active(m, day)]
    if not active:
        return None
    since, i, m = max(active, key=lambda a: (a[0], a[1]))
    keys = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
    price = ModelPrice(**{k: getattr(m, k) for k in keys if getattr(m, k) is not None})
    return price, f"pricing.models[{i}]: {r.provider}/{r.model} from {since}"


def _discount(config: PricingConfig, r: Resolved, day: date) -> tuple[int, Discount] | None:
    found = [
        ((d.model is not None, d.provider is not None, i), i, d)
        for i, d in enumerate(config.discounts)
        if _override_applies(d, r) and _active(d, day)
    ]
    return max(found, key=lambda f: f[0])[1:] if found else None


def _scaled(value: Decimal, factor: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80
        return (value * factor).quantize(Decimal(1).scaleb(-DISCOUNT_SCALE), ROUND_HALF_EVEN)


def _discounted(price: ModelPrice, factor: Decimal) -> ModelPrice:
    out = copy(price)
    for key, v in price.__dict__.items():
        if isinstance(v, TieredPrices):
            tiers = [Tier(t.start, _scaled(t.price, factor)) for t in v.tiers]
            out.__dict__[key] = TieredPrices(_scaled(v.base, factor), tiers)
        elif isinstance(v, Decimal):
            out.__dict__[key] = _scaled(v, factor)
    return out


def price_at(
    r: Resolved, ctx: PriceContext | None, at: datetime, config: PricingConfig
) -> tuple[ModelPrice, str] | None:
    """The prices of `r` at `at` under `ctx`, overrides and discounts applied, and the rule."""
    day = at.astimezone(UTC).date()
    got = _private_price(r, day) if r.info is None else _catalog_price(r, ctx, at)
    if got is None:
        return None
    price, rule = got
    for i, o in enumerate(config.overrides):
        if r.info is not None and _override_applies(o, r) and _active(o, day):
            price = copy(price)
            price.__dict__.update(o.prices())
            rule += f", pricing.overrides[{i}] from {o.since}"
    if found := _discount(config, r, day):
        i, d = found
        price = _discounted(price, 1 - d.percent / 100)
        rule += f", -{d.percent}% pricing.discounts[{i}]"
    return price, rule


def _key(price: ModelPrice) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in price.__dict__.items() if v is not None))


def schedule(r: Resolved, ctx: PriceContext | None, config: PricingConfig) -> list[Segment]:
    """Segments of constant prices for `r` under price context `ctx`, merged."""
    dates, tods = _edges(r, config)
    starts: list[date | None] = [None, *dates]
    ends: list[date | None] = [*dates, None]
    days: list[tuple[datetime, datetime, list[Segment]]] = []
    for a, b in zip(starts, ends, strict=True):
        rep = a if a is not None else (dates[0] - timedelta(days=1) if dates else date(2000, 1, 1))
        lo = datetime.combine(a, time(), UTC) if a is not None else MIN_TS
        hi = datetime.combine(b, time(), UTC) if b is not None else MAX_TS
        cells: list[Segment] = []
        for t0, t1 in itertools.pairwise(tods):
            at = datetime.combine(rep, time(), UTC) + timedelta(seconds=t0)
            got = price_at(r, ctx, at, config)
            if got is None:
                continue
            prev = cells[-1] if cells else None
            if (
                prev
                and prev.tod_to == t0
                and prev.rule == got[1]
                and _key(prev.price) == _key(got[0])
            ):
                cells[-1] = Segment(lo, hi, prev.tod_from, t1, prev.price, prev.rule)
            else:
                cells.append(Segment(lo, hi, t0, t1, got[0], got[1]))
        sig = [(c.tod_from, c.tod_to, c.rule, _key(c.price)) for c in cells]
        if (
            days
            and days[-1][1] == lo
            and [(c.tod_from, c.tod_to, c.rule, _key(c.price)) for c in days[-1][2]] == sig
        ):
            days[-1] = (days[-1][0], hi, days[-1][2])
        else:
            days.append((lo, hi, cells))
    return [
        Segment(lo, hi, c.tod_from, c.tod_to, c.price, c.rule)
        for lo, hi, cells in days
        for c in cells
    ]


# -- the price table ------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceKey:
    """A distinct price selector of the ledger ('' stands for a missing value)."""

    provider: str
    model: str
    batch: bool
    service_tier: str

    def context(self) -> dict[str, str] | None:
        """The genai-prices `price_context` of events with this key."""
        ctx = {}
        if self.batch:
            ctx["processing"] = "batch"
        if self.service_tier:
            ctx["service_tier"] = self.service_tier
        return ctx or None


@dataclass
class PriceTable:
    """Relational price rows for a set of ledger keys, and the (provider, model)s left unpriced."""

    version: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    unpriced: dict[tuple[str, str], Unpriced] = field(default_factory=dict)
    #: When built from a ledger's `price_keys`: the number of each token-priced key, how
    #: many numbers there are, and those of structural operations.
    key_ids: dict[PriceKey, int] | None = None
    n_keys: int = 0
    structural_ids: frozenset[int] = frozenset()

    @property
    def rate_columns(self) -> list[str]:
        """Rate columns that are non-zero in some row, in `rates.RATE_COLUMNS` order."""
        used = {k for row in self.rows for k in row["rates"]}
        return [c for c in rates.RATE_COLUMNS if c in used]

    def int_scale(self) -> int | None:
        """Decimal places S such that every rate is an integer number of 1e-S USD small
        enough for exact BIGINT arithmetic (|rate| * 2**30 tokens * 8 terms < 2**63), or
        None when some rate needs more (then the engine multiplies in DECIMAL(38, 24))."""
        values = [v for row in self.rows for v in row["rates"].values()]
        if not values:
            return 0
        scale = max(max(0, -int(v.normalize().as_tuple().exponent)) for v in values)
        biggest = max(abs(v) for v in values).scaleb(scale)
        return scale if biggest < 2**30 else None

    def to_arrow(self, int_scale: int | None = None) -> pa.Table:
        """The rows as Arrow; rates as BIGINT units of 1e-`int_scale` USD, or DECIMAL."""
        cols = self.rate_columns
        names = ["provider", "model", "batch", "service_tier", "valid_from", "valid_to"]
        names += ["tod_from", "tod_to", "in_lo", "in_hi", "rule"]
        data: dict[str, list[Any]] = {"rid": list(range(len(self.rows)))}
        data |= {n: [row[n] for row in self.rows] for n in names}
        for c in cols:
            data[c] = [row["rates"].get(c, Decimal(0)) for row in self.rows]
            if int_scale is not None:
                data[c] = [int(v.scaleb(int_scale)) for v in data[c]]
        rate_type = RATE_TYPE if int_scale is None else pa.int64()
        ts = pa.timestamp("us", tz="UTC")
        types = [pa.int64(), pa.string(), pa.string(), pa.bool_(), pa.string(), ts, ts, pa.int32()]
        types += [pa.int32(), pa.int64(), pa.int64(), pa.string()] + [rate_type] * len(cols)
        schema = pa.schema(list(zip(data, types, strict=True)))
        return pa.table(data, schema=schema)


def _rows_for(key: PriceKey, r: Resolved, config: PricingConfig) -> list[dict[str, Any]]:
    rows = []
    for seg in schedule(r, key.context(), config):
        found = rates.bands(seg.price)
        tiered = len(found) > 1
        for band in found:
            label = band.label(tiered)
            rows.append(
                {
                    "provider": key.provider,
                    "model": key.model,
                    "batch": key.batch,
                    "service_tier": key.service_tier,
                    "valid_from": seg.valid_from,
                    "valid_to": seg.valid_to,
                    "tod_from": seg.tod_from,
                    "tod_to": seg.tod_to,
                    "in_lo": band.lo,
                    "in_hi": band.hi,
                    "rule": f"{seg.rule}, {label}" if label else seg.rule,
                    "rates": dict(band.rates),
                }
            )
    return rows


def price_table(keys: Iterable[PriceKey], config: PricingConfig | None = None) -> PriceTable:
    """Resolve each distinct (provider, model) once and expand its prices for `keys`."""
    config = config or PricingConfig()
    table = PriceTable(catalog_version(config))
    resolved: dict[tuple[str, str], Resolved | Unpriced] = {}
    for key in sorted(set(keys), key=lambda k: (k.provider, k.model, k.batch, k.service_tier)):
        pm = (key.provider, key.model)
        if pm not in resolved:
            resolved[pm] = resolve(key.provider, key.model, config)
        r = resolved[pm]
        if isinstance(r, Unpriced):
            table.unpriced[pm] = r
            continue
        try:
            table.rows += _rows_for(key, r, config)
        except rates.RateError as e:
            table.unpriced[pm] = Unpriced(key.provider, key.model, str(e))
            table.rows = [row for row in table.rows if (row["provider"], row["model"]) != pm]
    return table


# -- `unitecon prices show MODEL` -----------------------------------------------------------


@dataclass(frozen=True)
class PriceEntry:
    """One line of a model's price history: a context, a validity interval and its prices."""

    context: dict[str, str]
    valid_from: date | None
    valid_to: date | None
    time_of_day: tuple[int, int] | None  # [from, to) seconds of the UTC day, when not all day
    prices: dict[str, Decimal | TieredPrices]  # genai-prices price keys, e.g. input_mtok
    rule: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates ISO, money as decimal strings, tiers as [start, price] lists."""

        def money(v: Decimal | TieredPrices) -> Any:
            if isinstance(v, TieredPrices):
                return {"base": str(v.base), "tiers": [[t.start, str(t.price)] for t in v.tiers]}
            return str(v)

        tod = self.time_of_day
        return {
            "context": self.context,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "time_of_day": [f"{t // 3600:02d}:{t // 60 % 60:02d}" for t in tod] if tod else None,
            "prices": {k: money(v) for k, v in self.prices.items()},
            "rule": self.rule,
        }


def _known_models(provider: str | None) -> list[str]:
    snap = _snapshot()
    provs = [p for p in snap.providers if provider is None or p.id == provider]
    return [m.id for p in provs for m in p.models]


def show_prices(
    model: str, provider: str | None = None, config: PricingConfig | None = None
) -> list[PriceEntry]:
    """The price history, variants and tiers the engine uses for `model` (oldest first)."""
    config = config or PricingConfig()
    r = resolve(provider or "", model, config)
    if isinstance(r, Unpriced):
        raise LookupFailed("model", model, _known_models(provider))
    contexts: list[dict[str, str]] = [{}]
    if r.info is not None and r.own:
        for v in r.info.price_variants or ():
            if v.when not in contexts:
                contexts.append(dict(v.when))
    out = []
    for ctx in contexts:
        for seg in schedule(r, ctx or None, config):
            tod = (
                None
                if (seg.tod_from, seg.tod_to) == (0, DAY_SECONDS)
                else (seg.tod_from, seg.tod_to)
            )
            prices = {k: v for k, v in seg.price.__dict__.items() if v is not None}
            out.append(
                PriceEntry(
                    ctx,
                    seg.valid_from.date() if seg.valid_from != MIN_TS else None,
                    seg.valid_to.date() if seg.valid_to != MAX_TS else None,
                    tod,
                    prices,
                    seg.rule,
                )
            )
    return out


def keys_from_rows(rows: Sequence[Mapping[str, Any]]) -> list[PriceKey]:
    """PriceKeys from rows with provider, model, batch, service_tier (None -> '')."""
    return [
        PriceKey(r["provider"] or "", r["model"], bool(r["batch"]), r["service_tier"] or "")
        for r in rows
    ]
