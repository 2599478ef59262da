"""Output helpers shared by every command: JSON with exact money, rich tables, money format."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _console() -> Console:
    """Wide enough for money tables when piped (rich defaults to 80 columns off a TTY)."""
    c = Console()
    return c if c.is_terminal else Console(width=160)


console = _console()
CENT = Decimal("0.01")


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return str(o)  # money in JSON is a decimal string, never a float
    if isinstance(o, datetime | date):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "as_dict"):
        return o.as_dict()
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_default, indent=2, ensure_ascii=False)


def emit_json(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")


def money(value: Decimal | None, places: int = 2) -> str:
    """`$1,234.56`; more places for sub-cent unit costs."""
    if value is None:
        return "—"
    q = Decimal(1).scaleb(-places)
    v = Decimal(value).quantize(q, rounding=ROUND_HALF_EVEN)
    sign = "-" if v < 0 else ""
    return f"{sign}${abs(v):,.{places}f}"


def table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    right: Iterable[str] = (),
) -> Table:
    right_set = set(right)
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c, justify="right" if c in right_set else "left")
    for r in rows:
        t.add_row(*("—" if v is None else str(v) for v in r))
    return t


def parse_date(value: str | None, name: str) -> date | None:
    """A `--since`/`--until` option: an ISO date (UTC day), or a clear error."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from unitecon.errors import UniteconError

        raise UniteconError(f"--{name}: expected a date like 2026-01-31, got {value!r}") from None


def parse_month(value: str | None) -> date | None:
    """A `--month` option: YYYY-MM as the month's first day, or a clear error."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value + "-01")
    except ValueError:
        from unitecon.errors import UniteconError

        raise UniteconError(f"--month {value!r}: expected YYYY-MM, e.g. 2026-10") from None


def records(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]
