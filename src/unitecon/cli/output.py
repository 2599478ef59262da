"""Output helpers shared by every command: JSON with money and ratios quantized to the scales
of `unitecon.economics.quantize` (documented in docs/metrics.md), rich tables, money format."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from unitecon.terminal import console, money, table

__all__ = [
    "console",
    "dumps",
    "emit_costs",
    "emit_json",
    "money",
    "parse_date",
    "parse_month",
    "period",
    "table",
]


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
    """JSON text: money to the micro-dollar, unit rates to 1e-9, ratios to 1e-6, zero "0"."""
    from unitecon.economics.quantize import for_output

    return json.dumps(for_output(obj), default=_default, indent=2, ensure_ascii=False)


def emit_json(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")


def _json_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def emit_costs(got: Any) -> None:
    """`costs --json`: the `Costs` answer as `emit_json` writes it. An answer in columns
    (`CostTable`, asked of the core here) has its rows written by Arrow into the text of
    the answer without rows, which is written as any other (the same bytes)."""
    from unitecon.analysis.cost_table import CostTable, JsonStyle
    from unitecon.cli.session import dump

    if not isinstance(got, CostTable):  # the service's answer, read back
        emit_json(dump(got))
        return
    text = got.json_bytes(dumps(dump(got.header())), JsonStyle(2, _json_string)) + b"\n"
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text-only stream (a test's)
        sys.stdout.write(text.decode())
        return
    sys.stdout.flush()
    out.write(text)
    out.flush()


def period(f: Any) -> str:
    """The period a table's figures cover, from a question's `since`/`until` (UTC days,
    `until` exclusive): every money figure says its period."""
    from datetime import timedelta

    since, until = getattr(f, "since", None), getattr(f, "until", None)
    last = None if until is None else until - timedelta(days=1)
    if since is not None and last is not None:
        return f"{since} to {last} (UTC)"
    if since is not None:
        return f"from {since} (UTC)"
    if last is not None:
        return f"to {last} (UTC)"
    return "every event in the ledger"


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
