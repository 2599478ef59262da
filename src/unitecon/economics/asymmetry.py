"""Input vs output cost asymmetry: per model or per feature, what input, output, cache-read
and reasoning tokens cost, their share of the token cost and their cost per 1k tokens.

Over the token-priced (API) leaf calls of a `Costed` window (`cost_kind = 'token'`), each
call weighted by round(1 / sample_rate, 6) as its variable cost is (tokens and costs alike,
so a cost per token is unchanged by sampling). Self-hosted calls have no per-token price;
their input/output split by compute time is in `unitecon endpoints`.

Per group g [USD, tokens]:

    token cost      T  = sum input_cost + sum output_cost
    input           cost I  = sum input_cost, over input_tokens (cache reads and writes
                    included, as the ledger counts them)
    output          cost O  = sum output_cost, over output_tokens (reasoning included)
    cache reads     (part of input) cost R = sum over calls of
                        cache_read_tokens x p_in - cache_saving
                    where p_in is the call's uncached input price: for a call that writes no
                    cache, (input_cost + cache_saving) / input_tokens (its own price: tier,
                    date, variant, discount; exact up to a per-request fee; computed in
                    double precision, then DECIMAL); for a call that also writes cache,
                    R = cache_saving x rho / (1 - rho), rho = p_cr / p_in the model's
                    cache-read-to-input price ratio measured on its calls that write none
                    (a property of the rate card, the same across tiers, dates and discounts:
                    0.1 for Anthropic); None when no such call reads cache
    reasoning       (part of output) cost Z = sum over models of
                        output_cost x reasoning_tokens / output_tokens
                    (reasoning tokens are billed at the output price; the model's average
                    output price in the group)

    share_x         = cost_x / T                   [fraction]
    cost_per_1k_x   = cost_x / tokens_x x 1000      [USD/1k tokens]
    output_input_price_ratio = (O / output_tokens) / (I / input_tokens)   [x]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, Literal

import ibis

from unitecon.attribution.frame import CTX, MONEY, ZERO
from unitecon.economics.metrics import ratio, share

By = Literal["model", "feature"]
COMPONENTS = ("input", "output", "cache_read", "reasoning")


@dataclass(frozen=True)
class Part:
    """One kind of token in one group [tokens, USD]."""

    tokens: Decimal
    cost: Decimal | None


@dataclass(frozen=True)
class Asymmetry:
    """Input vs output cost of one model or feature over the window."""

    key: str
    token_cost: Decimal
    parts: dict[str, Part]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "token_cost": self.token_cost}
        for name, p in self.parts.items():
            out[name] = {
                "tokens": p.tokens,
                "cost": p.cost,
                "cost_share": None if p.cost is None else share(p.cost, self.token_cost),
                "cost_per_1k_tokens": None if p.cost is None else ratio(p.cost, p.tokens, 1000),
            }
        i, o = self.parts["input"], self.parts["output"]
        unit_in = ratio(i.cost or ZERO, i.tokens)
        unit_out = ratio(o.cost or ZERO, o.tokens)
        out["output_input_price_ratio"] = (
            ratio(unit_out, unit_in) if unit_in and unit_out is not None else None
        )
        return out


def _weighted(t: Any) -> Any:
    """The API leaf calls, each column weighted per row as `var_cost` is (exact DECIMAL)."""
    t = t.filter(t.cost_kind == "token")
    w = (1 / t.sample_rate).round(6).cast("decimal(18, 6)")
    sampled = t.sample_rate != 1

    def wt(col: Any, typ: Any) -> Any:
        return ibis.ifelse(sampled, (col * w).cast(typ), col.cast(typ))

    tok = "decimal(38, 6)"
    return t.mutate(
        _in=wt(t.input_tokens, tok),
        _out=wt(t.output_tokens, tok),
        _cr=wt(t.cache_read_tokens, tok),
        _rs=wt(t.reasoning_tokens, tok),
        _ic=wt(t.input_cost, MONEY),
        _oc=wt(t.output_cost, MONEY),
        _sv=wt(t.cache_saving.fill_null(0), MONEY),
        _crc=wt(_own_cache_read_cost(t), MONEY),
        _writes=t.cache_write_tokens > 0,
    )


def _own_cache_read_cost(t: Any) -> Any:
    """cache_read_tokens x (input_cost + saving) / input_tokens - saving, per call (0 for a
    call that writes cache or reads none: those are estimated per model)."""
    ic, sv = t.input_cost.cast("float64"), t.cache_saving.fill_null(0).cast("float64")
    own = (ic + sv) * t.cache_read_tokens.cast("float64") / t.input_tokens - sv
    ok = (t.cache_write_tokens == 0) & (t.cache_read_tokens > 0) & (t.input_tokens > 0)
    return ibis.ifelse(ok, own.round(12).cast("decimal(38, 12)"), 0)


def _sums(t: Any, key: Any) -> list[dict[str, Any]]:
    agg = t.group_by(_g=key, _model=t.model, _writes=t._writes).agg(
        input_tokens=t._in.sum(),
        output_tokens=t._out.sum(),
        cache_read_tokens=t._cr.sum(),
        reasoning_tokens=t._rs.sum(),
        input_cost=t._ic.sum(),
        output_cost=t._oc.sum(),
        saving=t._sv.sum(),
        own_cache_read_cost=t._crc.sum(),
    )
    return list(agg.to_pyarrow().to_pylist())


def _d(x: Any) -> Decimal:
    return ZERO if x is None else Decimal(str(x))


EXACT_DIGITS = 100
"""Decimal digits of the sums added in Python: more than a DECIMAL(76) sum can hold."""


def _per_model(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sums `_read_ratio` reads, per (model, writes cache), from `_sums` rows of any
    grouping that holds the model: added exactly (the engine's DECIMAL sums are exact, and
    so is this, with the precision of the digits they hold)."""
    out: dict[tuple[Any, Any], dict[str, Any]] = {}
    with localcontext() as ctx:
        ctx.prec = EXACT_DIGITS
        for r in rows:
            m = out.setdefault(
                (r["_model"], r["_writes"]),
                {"_model": r["_model"], "_writes": r["_writes"], "own": ZERO, "sv": ZERO},
            )
            m["own"] += _d(r["own_cache_read_cost"])
            m["sv"] += _d(r["saving"])
    return [
        {**{k: m[k] for k in ("_model", "_writes")}, "own_cache_read_cost": m["own"]}
        | {"saving": m["sv"]}
        for m in out.values()
    ]


def _read_ratio(rows: list[dict[str, Any]]) -> dict[Any, Decimal | None]:
    """rho = p_cr / p_in per model, from its calls that write no cache and read some:
    cache-read cost / (cache-read cost + saving)."""
    num: dict[Any, Decimal] = defaultdict(Decimal)
    den: dict[Any, Decimal] = defaultdict(Decimal)
    for r in rows:
        if not r["_writes"]:
            own = _d(r["own_cache_read_cost"])
            num[r["_model"]] += own
            den[r["_model"]] += own + _d(r["saving"])
    models = {r["_model"] for r in rows}
    return {m: CTX.divide(num[m], den[m]) if den.get(m) else None for m in models}


def asymmetry(c: Any, by: By = "model") -> list[Asymmetry]:
    """Input, output, cache-read and reasoning cost per model or feature of the `Costed`
    window `c` (module docstring), largest token cost first."""
    # one pass over the window: the ratio's sums per model are added up from the rows
    # per (group, model), not asked again of a materialized copy of the events
    t = _weighted(c.scan())
    key = t.model if by == "model" else t.feature
    rows = _sums(t, key.fill_null("(none)"))
    rho = _read_ratio(_per_model(rows))
    acc: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    unknown: set[str] = set()
    for r in rows:
        a, g = acc[r["_g"]], r["_g"]
        for k in ("input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens"):
            a[k] += _d(r[k])
        for k in ("input_cost", "output_cost"):
            a[k] += _d(r[k])
        out_tok = _d(r["output_tokens"])
        if out_tok:
            a["reasoning_cost"] += CTX.divide(
                CTX.multiply(_d(r["output_cost"]), _d(r["reasoning_tokens"])), out_tok
            )
        ratio_, cr = rho.get(r["_model"]), _d(r["cache_read_tokens"])
        if not r["_writes"]:
            a["cache_read_cost"] += _d(r["own_cache_read_cost"])
        elif cr and (ratio_ is None or ratio_ >= 1):
            unknown.add(g)
        elif cr and ratio_ is not None:
            a["cache_read_cost"] += CTX.divide(CTX.multiply(_d(r["saving"]), ratio_), 1 - ratio_)
    out = [_row(g, a, g in unknown) for g, a in acc.items()]
    return sorted(out, key=lambda x: (-x.token_cost, x.key))


def _row(key: str, a: dict[str, Decimal], unknown_cache: bool) -> Asymmetry:
    parts = {
        "input": Part(a["input_tokens"], a["input_cost"]),
        "output": Part(a["output_tokens"], a["output_cost"]),
        "cache_read": Part(a["cache_read_tokens"], None if unknown_cache else a["cache_read_cost"]),
        "reasoning": Part(a["reasoning_tokens"], a["reasoning_cost"]),
    }
    return Asymmetry(key, a["input_cost"] + a["output_cost"], parts)
