"""One model, three evaluations: exact ``Decimal``, vectorized ``numpy`` draws, Excel formulas.

The TCO and value models are written once in plain arithmetic over quantities of type `Q`.
An `Env` says what a quantity is:

- `ExactEnv`: every input is a ``Decimal``; money lines are rounded to cents (the report).
- `DrawEnv`: inputs are float arrays of Monte Carlo draws (shape ``(n,)``) or floats.
- `SheetEnv` (in `unitecon.report.xlsx`): inputs are `Sym` cell references; evaluating the
  model writes each named column as a live formula, so the spreadsheet is the model.

The few non-arithmetic operations (`minimum`, `maximum`, `ceil`, `money`) dispatch on type.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

#: A quantity: Decimal (exact), float or float array (draws), or `Sym` (a formula).
Q = Any

CENT = Decimal("0.01")


class Sym:
    """An Excel formula fragment that composes with ``+ - * / **`` and numbers."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Sym({self.text!r})"

    @staticmethod
    def of(x: object) -> str:
        if isinstance(x, Sym):
            return x.text
        if isinstance(x, Decimal):
            return format(x.normalize(), "f") if x == x.to_integral_value() else str(x)
        if isinstance(x, bool):
            raise TypeError("booleans are not quantities")
        if isinstance(x, int | float):
            return repr(x)
        raise TypeError(f"cannot write {type(x).__name__} into a formula")

    def _bin(self, op: str, other: object, *, right: bool = False) -> Sym:
        a, b = (Sym.of(other), self.text) if right else (self.text, Sym.of(other))
        return Sym(f"({a}{op}{b})")

    def __add__(self, o: object) -> Sym:
        return self._bin("+", o)

    def __radd__(self, o: object) -> Sym:
        return self._bin("+", o, right=True)

    def __sub__(self, o: object) -> Sym:
        return self._bin("-", o)

    def __rsub__(self, o: object) -> Sym:
        return self._bin("-", o, right=True)

    def __mul__(self, o: object) -> Sym:
        return self._bin("*", o)

    def __rmul__(self, o: object) -> Sym:
        return self._bin("*", o, right=True)

    def __truediv__(self, o: object) -> Sym:
        return self._bin("/", o)

    def __rtruediv__(self, o: object) -> Sym:
        return self._bin("/", o, right=True)

    def __pow__(self, o: object) -> Sym:
        return self._bin("^", o)

    def __rpow__(self, o: object) -> Sym:
        return self._bin("^", o, right=True)

    def __neg__(self) -> Sym:
        return Sym(f"(-{self.text})")


def _any_sym(*xs: object) -> bool:
    return any(isinstance(x, Sym) for x in xs)


def minimum(a: Q, b: Q) -> Q:
    """``min(a, b)`` elementwise; ``MIN(a,b)`` in a formula."""
    if _any_sym(a, b):
        return Sym(f"MIN({Sym.of(a)},{Sym.of(b)})")
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.minimum(a, b)
    return min(a, b)


def maximum(a: Q, b: Q) -> Q:
    """``max(a, b)`` elementwise; ``MAX(a,b)`` in a formula."""
    if _any_sym(a, b):
        return Sym(f"MAX({Sym.of(a)},{Sym.of(b)})")
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.maximum(a, b)
    return max(a, b)


def ceil(x: Q) -> Q:
    """Smallest whole number ``>= x`` (for ``x >= 0``); ``ROUNDUP(x,0)`` in a formula."""
    if isinstance(x, Sym):
        return Sym(f"ROUNDUP(ROUND({x.text},9),0)")
    if isinstance(x, Decimal):
        return x.to_integral_value(rounding=ROUND_CEILING)
    # a tiny tolerance so that 3.0000000000000004 replicas stays 3 in float draws
    return np.ceil(np.asarray(x, dtype=float) - 1e-9)


class Env:
    """How inputs are read and columns are recorded; the exact evaluation by default."""

    def __init__(self, values: Mapping[str, Q]) -> None:
        self.values = values

    def __getitem__(self, path: str) -> Q:
        return self.values[path]

    def const(self, x: Decimal | int) -> Q:
        """A structural constant (hours per month, 12 months)."""
        return Decimal(x)

    def named(self, key: str, x: Decimal | int, unit: str = "1", source: str = "") -> Q:
        """A number the model uses that is not a decimal input of the file: a convention (730
        hours a month, 12 months a year) or an integer setting of the file (GPUs per replica,
        months to peak). Returned as is here (exact arithmetic unchanged); the spreadsheet
        makes it a labelled input cell, so that no formula holds a bare constant."""
        return x

    def month(self, t: int) -> Q:
        """The month index ``t`` (a cell of the month column in the spreadsheet)."""
        return t

    def ceil(self, x: Q) -> Q:
        """Smallest whole number ``>= x`` (`ceil`)."""
        return ceil(x)

    def money(self, x: Q) -> Q:
        """A money amount in a monthly line: rounded to cents where it is reported."""
        return x

    def column(self, sheet: str, name: str, t: int, value: Q) -> Q:
        """Record ``value`` as month ``t`` of column ``name``; return what later uses see."""
        return value

    def scalar(self, sheet: str, name: str, value: Q) -> Q:
        """Record a named value that is not monthly (a fleet size); return what uses see."""
        return value


NANO = Decimal("1e-9")


class ExactEnv(Env):
    """Decimal inputs; each money line rounded to cents (half away from zero, as Excel).

    Rounded to 1e-9 first, so that a true half cent that 28-digit division left at
    ...4999999 rounds up as it does in a spreadsheet (``ROUND(ROUND(x,9),2)``).
    """

    def money(self, x: Q) -> Q:
        return Decimal(x).quantize(NANO, ROUND_HALF_UP).quantize(CENT, rounding=ROUND_HALF_UP)


class DrawEnv(Env):
    """Float or float-array inputs (Monte Carlo draws); no rounding."""

    def const(self, x: Decimal | int) -> Q:
        return float(x)
