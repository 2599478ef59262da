"""Rich rendering of nested results (dicts of scalars and lists of records)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from unitecon.cli.output import console, table
from unitecon.pricing.engine import USAGE_MISSING


def _cell(v: Any) -> str:
    if isinstance(v, Decimal):
        return f"{v:f}"
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={_cell(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(_cell(x) for x in v)
    return "—" if v is None else str(v)


def _plain(obj: Any) -> Any:
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    if isinstance(obj, list | tuple):
        return [_plain(x) for x in obj]
    return obj


def render(obj: Any, title: str = "") -> None:
    """Scalars as a key/value table; lists of records as tables, recursively."""
    obj = _plain(obj)
    if isinstance(obj, Mapping):
        scalars = [(k, _cell(v)) for k, v in obj.items() if not _is_records(v)]
        if scalars:
            console.print(table(title, ["", ""], scalars))
        for k, v in obj.items():
            if _is_records(v):
                render(v, str(k))
    elif _is_records(obj):
        cols = list(dict.fromkeys(k for r in obj for k in r))
        console.print(table(title, cols, [[_cell(r.get(c)) for c in cols] for r in obj]))
    else:
        console.print(_cell(obj))


def _is_records(v: Any) -> bool:
    return (
        isinstance(v, Sequence)
        and not isinstance(v, str)
        and bool(v)
        and all(isinstance(x, Mapping) for x in v)
    )


def render_prices(info: Any) -> None:
    render(info, "Prices")


def render_missing(rows: Any) -> None:
    shown = [
        {k: v for k, v in r.model_dump().items() if k not in ("snippet", "reason")} for r in rows
    ]
    render(shown, "Models without a price, calls without usage (never counted as $0)")
    for r in rows:
        console.print(f"\n[bold]{r.model}[/]: {r.reason}", highlight=False)
        if not r.reason.startswith(USAGE_MISSING):
            console.print("Add to unitecon.yaml:", highlight=False)
        console.print(r.snippet, highlight=False, markup=False)
