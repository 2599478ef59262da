"""How figures leave the product: money quantized to the micro-dollar, unit rates to the
nano-dollar, ratios to six decimal places. Inside, money stays exact (DECIMAL(38, 24));
only output is rounded, here, once, half-even.

    kind    scale              which fields (by name)                      example
    money   1e-6 USD           every other decimal figure                  "1234.567891"
    rate    1e-9 per unit      `*_per_*` (cost per task, $/M tokens,       "0.000327412"
                               GPU-seconds per token)
    ratio   1e-6 (fraction)    `*_pct`, `*share*`, `*ratio*`, utilization, "0.634218"
                               coverage, gini, lorenz points

A decimal is written as a fixed-point string (exact decimal, never a float, no exponent);
one with more places than its kind's scale is rounded to that scale (the engine's
DECIMAL(38, 24) money comes out with 6 places: "12.340000"), one with fewer keeps its own
("2.10"); zero is "0". A ratio is a fraction (0.634218 = 63.4218 %), `*_pct` included.
A field's kind is that of the nearest enclosing key that names one (`top_cost_share:
{top_1pct: ...}` are ratios); a key naming none is money.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyarrow as pa

Kind = Literal["money", "rate", "ratio"]

#: Decimal places of each kind in output.
PLACES: dict[Kind, int] = {"money": 6, "rate": 9, "ratio": 6}
_RATIO_WORDS = ("_pct", "share", "ratio", "utilization", "coverage", "gini", "lorenz")


def kind_of(key: str | None, inherited: Kind | None = None) -> Kind | None:
    """The kind a field's name says, else the enclosing one (None: not said)."""
    if key is None:
        return inherited
    k = key.lower()
    if any(w in k for w in _RATIO_WORDS):
        return "ratio"
    if "_per_" in k or k.startswith(("per_", "usd_per")):
        return "rate"
    return inherited


def quantize(value: Decimal, kind: Kind = "money") -> Decimal:
    """`value` rounded half-even to the kind's scale when it has more places; 0 for zero."""
    places = PLACES[kind]
    exp = value.as_tuple().exponent
    v = value
    if isinstance(exp, int) and exp < -places:
        v = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return Decimal(0) if v == 0 else v


def text(value: Decimal, kind: Kind = "money") -> str:
    """The output string of a decimal figure: fixed-point, no exponent, "0" for zero."""
    if not value.is_finite():
        return str(value)
    return format(quantize(value, kind), "f")


def for_output(obj: Any, kind: Kind | None = None) -> Any:
    """`obj` with every Decimal replaced by its output string (see the module docstring)."""
    if isinstance(obj, Decimal):
        return text(obj, kind or "money")
    if isinstance(obj, Mapping):
        return {k: for_output(v, kind_of(str(k), kind)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [for_output(v, kind) for v in obj]
    as_dict = getattr(obj, "as_dict", None)
    if callable(as_dict) and not isinstance(obj, type):
        try:
            return for_output(as_dict(), kind)
        except TypeError:  # an as_dict that needs arguments: left to the caller
            return obj
    return obj


def _decimal_text(v: str) -> Decimal | None:
    """A decimal string as JSON carries money ("12.5", "0E-24"), else None."""
    if not v or v[0] not in "-0123456789" or not any(c in v for c in ".E"):
        return None
    try:
        d = Decimal(v)
    except ArithmeticError:
        return None
    return d if d.is_finite() else None


def for_json(obj: Any, kind: Kind | None = None) -> Any:
    """`for_output` of data already in JSON form (pydantic's dump: Decimals as strings)."""
    if isinstance(obj, str):
        d = _decimal_text(obj)
        return obj if d is None else text(d, kind or "money")
    if isinstance(obj, Decimal):
        return text(obj, kind or "money")
    if isinstance(obj, Mapping):
        return {
            k: v if _is_name(str(k)) else for_json(v, kind_of(str(k), kind)) for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [for_json(v, kind) for v in obj]
    return obj


#: Fields that hold names, never figures (a customer called "1.50" stays "1.50").
_NAMES = {"key", "label", "name", "customer", "feature", "model", "plan", "endpoint", "agent",
          "team", "user", "environment", "version", "task", "conversation", "month",
          "unit"}  # fmt: skip


def _is_name(key: str) -> bool:
    return key in _NAMES or key.endswith(("_id", "_name"))


def texts(values: pa.Array | pa.ChunkedArray, kind: Kind = "money") -> pa.Array:
    """`text` of every figure of an Arrow column, worked out by Arrow (no Python per value
    for a decimal column): the same strings, null where the value is null. The rounding is
    exact (a 76-digit decimal: no overflow where a value rounds up)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if not pa.types.is_decimal(t):  # floats or integers: per value, as `text` reads them
        return pa.array(
            [None if v is None else text(Decimal(v), kind) for v in values.to_pylist()],
            pa.string(),
        )
    places, scale = PLACES[kind], max(t.scale, 0)
    wide = pc.cast(values, pa.decimal256(76, scale))
    if scale > places:  # more places than the kind's scale: rounded half-even to it
        wide = pc.round(wide, ndigits=places, round_mode="half_to_even")
        wide = pc.cast(wide, pa.decimal256(76, places))
    zero = pc.equal(wide, pa.scalar(0, pa.decimal256(76, wide.type.scale)))
    return pc.if_else(zero, "0", pc.cast(wide, pa.string()))
