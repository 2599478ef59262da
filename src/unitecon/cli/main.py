"""The `unitecon` command line: a thin translator from arguments to library calls.

Examples:
    unitecon demo
    unitecon costs --by feature,model --since 2026-01-01

Every command takes `--json` (money as decimal strings). Errors print a message, never a
traceback, and exit non-zero. `main()` only does `sys.exit(run(argv))`; tests call `run`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer
from rich.console import Console

from unitecon.errors import UniteconError

app = typer.Typer(
    name="unitecon",
    help=(
        "What every AI call, agent task, customer and feature costs and earns.\n\n"
        "Examples:\n\n"
        "  unitecon demo\n\n"
        "  unitecon costs --by feature,model --since 2026-10-01"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
err_console = Console(stderr=True)


def _register() -> None:
    """Attach command modules. Each module defines its commands on `app` or a sub-app."""
    import importlib

    for mod in (
        "ledger",
        "lineage",
        "perf",
        "attribution",
        "margins",
        "governance",
        "scenarios",
        "serve",
        "audit",
        "billing",
        "prices",
        "report",
    ):
        try:
            m = importlib.import_module(f"unitecon.cli.{mod}")
        except ModuleNotFoundError as e:  # a stage not built yet
            if e.name != f"unitecon.cli.{mod}":
                raise
            continue
        m.register(app)


_register()


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv`; return the exit code. User errors print one message."""
    try:
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except UniteconError as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False)
        return 2
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except typer.Abort:
        err_console.print("aborted")
        return 1
    except typer.TyperException as e:  # usage errors: wrong option, missing argument
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {e.format_message()}")
        return int(e.exit_code)
    except Exception as e:
        from unitecon.ledger.operational import explain

        known = explain(e)
        if known is not None:  # disk full, read-only home, a damaged ledger: what to do
            err_console.print(f"[bold red]error:[/] {known}", highlight=False)
            return 2
        err_console.print(f"[bold red]internal error:[/] {type(e).__name__}: {e}")
        err_console.print("Please report this with the command you ran.")
        return 3
    return code if isinstance(code, int) else 0  # `typer.Exit(n)` comes back as n


def main() -> None:
    sys.exit(run())
