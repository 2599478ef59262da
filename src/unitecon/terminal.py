"""What every command prints with: the console, money as people read it, tables, the
progress bar. Shared by the command line, the pipeline and the report's summary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


def _console() -> Console:
    """Wide enough for money tables when piped (rich defaults to 80 columns off a TTY)."""
    c = Console()
    return c if c.is_terminal else Console(width=160)


console = _console()
CENT = Decimal("0.01")


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
        t.add_row(*("—" if v is None else safe_text(str(v)) for v in r))
    return t


#: C0 and C1 control characters (and DEL): an ingested name holding them could drive the
#: terminal (escape sequences), so tables show them as `\x1b` instead.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """`text` with its control characters written out (`\x1b`), safe for a terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def progress(quiet: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} {task.fields[unit]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=quiet,
    )
