"""What every command prints with: the console, money as people read it, tables, the
progress bar. Shared by the command line, the pipeline and the report's summary."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


def _console() -> Console:
    """Wide enough for money tables when piped (rich defaults to 80 columns off a TTY),
    unless `COLUMNS` says how wide the output may be."""
    c = Console()
    return c if c.is_terminal or os.environ.get("COLUMNS") else Console(width=160)


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


_NUMBER = re.compile(r"^[-+]?\$?[\d,]+(\.\d+)?[%x]?$|^[-+]?\$[\d,.]+")


def _whole(cells: Sequence[str]) -> bool:
    """A column whose cells must never be cut: money and other numbers."""
    shown = [c for c in cells if c not in ("—", "")]
    return bool(shown) and all(_NUMBER.match(c.strip()) for c in shown)


#: Characters of a row's name (model, endpoint, customer) kept on one line while columns can
#: be left out instead (`table`).
NAME_WHOLE = 40


def table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    right: Iterable[str] = (),
    width: int | None = None,
    essential: Iterable[str] = (),
) -> Table:
    """A table that fits `width` (default: the console's) without cutting a number: money
    and number columns keep their full width (no wrap), text columns wrap; when even so the
    numbers do not fit, columns are left out from the right (text after the row's names
    before numbers; never the names nor the `essential` ones) and the caption says which
    (`--json` has them all). A row's name up to `NAME_WHOLE` characters stays on one line
    when leaving out columns (never the first number) makes room for it."""
    right_set = set(right)
    body = [["—" if v is None else safe_text(str(v)) for v in r] for r in rows]
    cols = list(columns)
    whole = [
        c in right_set or _whole([r[i] for r in body if i < len(r)]) for i, c in enumerate(cols)
    ]
    need = [
        # a number column does not wrap, its header neither: the whole header counts
        max([cell_len(r[i]) for r in body if i < len(r)] + [cell_len(c) if whole[i] else 1])
        for i, c in enumerate(cols)
    ]
    # text columns wrap, down to a readable width (the first, the row's name, wider)
    least = [need[i] if whole[i] else min(need[i], 18 if i == 0 else 10) for i in range(len(cols))]

    def used(ix: list[int], widths: list[int]) -> int:  # borders, padding: 3 a column, 1 at end
        return 1 + sum(3 + widths[i] for i in ix)

    limit = width or console.width
    # the row's names: the text columns before the first number (dimensions) stay
    first_number = next((i for i, w in enumerate(whole) if w), len(cols))
    names = set(range(max(first_number, 1))) | {
        i for i, c in enumerate(cols) if c in set(essential)
    }

    def plan(widths: list[int]) -> tuple[list[int], list[str]]:
        keep, dropped = list(range(len(cols))), []
        while used(keep, widths) > limit:
            spare = [i for i in keep if i not in names]
            if not spare:
                break
            text = [i for i in spare if not whole[i]]
            gone = text[-1] if text else spare[-1]
            keep.remove(gone)
            dropped.append(cols[gone])
        return keep, dropped

    # A row's name (a model, an endpoint) is read whole: up to NAME_WHOLE characters it does
    # not wrap while low-priority columns can go instead; the first number always stays
    # (a name longer than that, or a table too wide even so, wraps its names)
    whole_names = [
        min(need[i], NAME_WHOLE) if i in names and not whole[i] else least[i]
        for i in range(len(cols))
    ]
    keep, dropped = plan(whole_names)
    if first_number < len(cols) and first_number not in keep:
        keep, dropped = plan(least)
    else:
        least = whole_names
    caption = None
    if dropped:
        caption = (
            f"not shown at {limit} columns: {', '.join(reversed(dropped))} "
            "(a wider terminal or --json shows them)"
        )
    t = Table(
        title=title, title_justify="left", header_style="bold", caption=caption,
        caption_justify="left",
    )  # fmt: skip
    # widths are set here, not left to rich (which shrinks every column evenly, numbers too,
    # once the wrappable ones are at their narrowest): numbers get theirs, text the rest
    text = [i for i in keep if not whole[i]]
    room = limit - 1 - 3 * len(keep) - sum(need[i] for i in keep if whole[i])
    fixed: dict[int, int] = {}
    if sum(need[i] for i in text) > room:
        fixed = {i: least[i] for i in text}
        while sum(fixed.values()) > room and max(fixed.values(), default=0) > 4:
            fixed[max(fixed, key=lambda i: fixed[i])] -= 1  # the names wrap harder
        extra = room - sum(fixed.values())
        while extra > 0:
            want = [i for i in text if fixed[i] < need[i]]
            if not want:
                break
            widest = max(want, key=lambda i: need[i] - fixed[i])
            fixed[widest] += 1
            extra -= 1
    for i in keep:
        if whole[i]:
            t.add_column(
                cols[i],
                justify="right" if cols[i] in right_set else "left",
                no_wrap=True,
                min_width=need[i],
                overflow="fold",
            )
        else:
            t.add_column(cols[i], justify="left", overflow="fold", width=fixed.get(i))
    for r in body:
        t.add_row(*(r[i] if i < len(r) else "" for i in keep))
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


@contextmanager
def working(message: str, quiet: bool = False) -> Iterator[None]:
    """A spinner saying `message` while a step runs, on a terminal only (a pipe, a file or a
    script reading `--json` gets nothing). Inside another live display (a command's own
    spinner or progress bar) that one goes on showing instead."""
    from rich.errors import LiveError

    status = None
    if not quiet and console.is_terminal:
        status = console.status(message, spinner="dots")
        try:
            status.start()
        except LiveError:
            status = None
    try:
        yield
    finally:
        if status is not None:
            status.stop()


F = TypeVar("F", bound=Callable[..., Any])


def shows_progress(message: str) -> Callable[[F], F]:
    """A command that shows `working(message)` for as long as it runs (the commands that do
    not ask their question through `Session.ask`, which has its own spinner)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with working(message + "…"):
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap
