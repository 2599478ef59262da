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


@app.callback()
def _root() -> None:
    """(A group even while one command is attached: `unitecon report` stays `report`.)"""


#: The command modules, in the order their commands are listed (`unitecon --help`).
MODULES = (
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
)

#: Each top-level command or command group -> the modules that define it (a group's
#: commands may come from several). A command runs with only its own modules imported: a
#: read command does not import the performance model, the server or the report
#: (`tests/cli/test_cli_imports.py` checks this table against what the modules register).
COMMANDS: dict[str, tuple[str, ...]] = {
    "ingest": ("ledger",),
    "quarantine": ("ledger",),
    "costs": ("ledger",),
    "demo": ("ledger",),
    "prices": ("ledger", "prices"),
    "lineage": ("lineage",),
    "forget": ("lineage",),
    "perf": ("perf",),
    "selfhost": ("perf",),
    "unit": ("attribution",),
    "tasks": ("attribution",),
    "trace": ("attribution",),
    "task": ("attribution",),
    "outcomes": ("attribution",),
    "endpoints": ("attribution",),
    "asymmetry": ("attribution",),
    "margins": ("margins",),
    "collapse": ("margins",),
    "budgets": ("governance",),
    "anomalies": ("governance",),
    "runaway": ("governance",),
    "coverage": ("governance",),
    "alerts": ("governance",),
    "whatif": ("scenarios",),
    "tco": ("scenarios",),
    "serve": ("serve",),
    "keys": ("serve",),
    "audit": ("audit",),
    "bills": ("billing",),
    "reconcile": ("billing",),
    "export": ("billing",),
    "report": ("report",),
    "memo": ("memo",),
}

_registered: dict[str, int] = {}
"""Modules whose commands are on `app`, with their place in `MODULES`."""
_origin: dict[int, int] = {}
"""id() of each registered command or group -> the place of the module that added it."""


def _register(modules: Sequence[str]) -> None:
    """Attach the command modules `modules` (those not attached yet), keeping the listing
    in the order of `MODULES` whatever order they were attached in."""
    import importlib

    for place, mod in enumerate(MODULES):
        if mod not in modules or mod in _registered:
            continue
        try:
            m = importlib.import_module(f"unitecon.cli.{mod}")
        except ModuleNotFoundError as e:  # a stage not built yet
            if e.name != f"unitecon.cli.{mod}":
                raise
            continue
        m.register(app)
        _registered[mod] = place
        for info in [*app.registered_commands, *app.registered_groups]:
            _origin.setdefault(id(info), place)
    app.registered_commands.sort(key=lambda i: _origin[id(i)])
    app.registered_groups.sort(key=lambda i: _origin[id(i)])


def application(argv: Sequence[str] | None = None) -> typer.Typer:
    """`app` with the commands that `argv` needs attached (None, no command, an option
    first or a name not in `COMMANDS`: every command, as `--help` lists them)."""
    first = argv[0] if argv else None
    needed = COMMANDS.get(first, MODULES) if first is not None else MODULES
    _register(needed)
    return app


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
        code = application(args)(args=args, standalone_mode=False)
    except UniteconError as e:
        if as_json:
            return _json_error(2, "error", str(e))
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
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
            err_console.print(f"error: {e.format_message()}", soft_wrap=True)
        return int(e.exit_code)
    except Exception as e:
        from unitecon.ledger.operational import explain

        known = explain(e)
        if known is not None:  # disk full, read-only home, a damaged ledger: what to do
            if as_json:
                return _json_error(2, "error", str(known))
            err_console.print(f"[bold red]error:[/] {known}", highlight=False, soft_wrap=True)
            return 2
        if as_json:
            msg = f"{type(e).__name__}: {e}. Please report this with the command you ran."
            return _json_error(3, "internal", msg)
        err_console.print(f"[bold red]internal error:[/] {type(e).__name__}: {e}", soft_wrap=True)
        err_console.print("Please report this with the command you ran.")
        return 3
    return code if isinstance(code, int) else 0  # `typer.Exit(n)` comes back as n


#: The cyclic collector's thresholds in a command's process (Python's default: 700, 10, 10).
#: A read command makes some hundred thousand short-lived objects (Ibis expressions, the
#: classes of the modules it imports) and few reference cycles: at the default the
#: collector ran ~340 times in `anomalies` on the demo ledger, 0.15-0.20 s of its CPU; at
#: these thresholds twice, 0.06 s (docs/benchmarks.md, "Session 10"). Not for `serve`, a
#: long-lived process whose memory the default keeps as it was measured.
GC_THRESHOLDS = (100_000, 50, 100)


def main() -> None:
    if sys.argv[1:2] != ["serve"]:
        import gc

        gc.set_threshold(*GC_THRESHOLDS)
    sys.exit(run())
