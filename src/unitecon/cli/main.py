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
        "memo",
    ):
        try:
            m = importlib.import_module(f"unitecon.cli.{mod}")
        except ModuleNotFoundError as e:  # a stage not built yet
            if e.name != f"unitecon.cli.{mod}":
                raise
            continue
        m.register(app)


_register()


def _json_error(code: int, kind: str, message: str) -> int:
    """With `--json`, an error is JSON on stderr (stdout stays empty), the shape of the
    read API's errors: {"error": {"exit_code", "code", "message"}}."""
    import json

    body = {"error": {"exit_code": code, "code": kind, "message": message}}
    sys.stderr.write(json.dumps(body, ensure_ascii=False) + "\n")
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv`; return the exit code. User errors print one message (JSON
    on stderr under `--json`)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    as_json = "--json" in args
    try:
        code = app(args=args, standalone_mode=False)
    except UniteconError as e:
        if as_json:
            return _json_error(2, "error", str(e))
        err_console.print(f"[bold red]error:[/] {e}", highlight=False)
        return 2
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except typer.Abort:
        if as_json:
            return _json_error(1, "aborted", "aborted")
        err_console.print("aborted")
        return 1
    except typer.TyperException as e:  # usage errors: wrong option, missing argument
        if as_json:
            return _json_error(int(e.exit_code), "usage", e.format_message())
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
            if as_json:
                return _json_error(2, "error", str(known))
            err_console.print(f"[bold red]error:[/] {known}", highlight=False)
            return 2
        if as_json:
            msg = f"{type(e).__name__}: {e}. Please report this with the command you ran."
            return _json_error(3, "internal", msg)
        err_console.print(f"[bold red]internal error:[/] {type(e).__name__}: {e}")
        err_console.print("Please report this with the command you ran.")
        return 3
    return code if isinstance(code, int) else 0  # `typer.Exit(n)` comes back as n


def main() -> None:
    sys.exit(run())
