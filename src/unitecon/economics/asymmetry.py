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
    cache reads     (part of input) cost R = sum over models of
                        cache_read_tokens x p_in - cache_saving
                    p_in = (input_cost + cache_saving) / input_tokens over the model's calls
                    that write no cache (the uncached input price the calls paid); exact for a
                    model with one input price in the window and no per-request fee; None
                    when every call of the model writes cache
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
from decimal import Decimal
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
        _writes=t.cache_write_tokens > 0,
    )


def _sums(t: Any, key: Any) -> list[dict[str, Any]]:
    agg = t.group_by(_g=key, _model=t.model, _writes=t._writes).agg(
        input_tokens=t._in.sum(),
        output_tokens=t._out.sum(),
        cache_read_tokens=t._cr.sum(),
        reasoning_tokens=t._rs.sum(),
        input_cost=t._ic.sum(),
        output_cost=t._oc.sum(),
        saving=t._sv.sum(),
    )
    return list(agg.to_pyarrow().to_pylist())


def _d(x: Any) -> Decimal:
    return ZERO if x is None else Decimal(str(x))


def _input_price(rows: list[dict[str, Any]]) -> dict[Any, Decimal | None]:
    """p_in per model: (input_cost + saving) / input_tokens over its calls writing no cache."""
    num: dict[Any, Decimal] = defaultdict(Decimal)
    den: dict[Any, Decimal] = defaultdict(Decimal)
    for r in rows:
        if not r["_writes"]:
            num[r["_model"]] += _d(r["input_cost"]) + _d(r["saving"])
            den[r["_model"]] += _d(r["input_tokens"])
    models = {r["_model"] for r in rows}
    return {m: CTX.divide(num[m], den[m]) if den.get(m) else None for m in models}


def asymmetry(c: Any, by: By = "model") -> list[Asymmetry]:
    """Input, output, cache-read and reasoning cost per model or feature of the `Costed`
    window `c` (module docstring), largest token cost first."""
    t = _weighted(c.events)
    key = t.model if by == "model" else t.feature
    rows = _sums(t, key.fill_null("(none)"))
    price = _input_price(_sums(t, t.model.fill_null("(none)")))
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
        p_in, cr = price.get(r["_model"]), _d(r["cache_read_tokens"])
        if cr and p_in is None:
            unknown.add(g)
        elif cr and p_in is not None:
            a["cache_read_cost"] += CTX.multiply(cr, p_in) - _d(r["saving"])
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
