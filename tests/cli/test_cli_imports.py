"""A command imports what it uses: the command line's fixed cost stays small.

`import unitecon.cli.main` attaches no command module; a command attaches only its own
(`cli.main.COMMANDS`), so a read command never imports the performance model, the server,
the report or pandas, and the engine imports only DuckDB's SQL compiler of Ibis' twenty
(docs/benchmarks.md, "Session 9"). Checked in fresh processes: what one test imports would
otherwise hide what another needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

#: Never imported by `import unitecon.cli.main` nor by a read command.
HEAVY = (
    "pandas",
    "unitecon.models.perf",
    "unitecon.models.selfhost",
    "unitecon.models.instances",
    "unitecon.models.tps",
    "unitecon.server",
    "unitecon.report",
    "unitecon.pipeline",
    "fastapi",
    "ibis.backends.sql.compilers.trino",
    "ibis.backends.sql.compilers.bigquery",
)


def _modules_after(code: str, cwd: Path | None = None) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    script = f"{code}\nimport json, sys\nprint('MODULES=' + json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("MODULES="))
    return set(json.loads(line.removeprefix("MODULES=")))


def _heavy(mods: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in mods)


def test_importing_the_command_line_is_light() -> None:
    mods = _modules_after("import unitecon.cli.main")
    assert not _heavy(mods)
    attached = {m for m in mods if m.startswith("unitecon.cli.")}
    assert attached <= {"unitecon.cli.main"}, sorted(attached)
    assert "ibis" not in mods


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-day demo ledger and the demo's project file, in a data directory."""
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("imports")
    demo_ledger(home, days=7, customers=10)
    return home


@pytest.mark.parametrize(
    "argv",
    [
        ["costs", "--by", "feature"],
        ["tasks", "--top", "2"],
        ["unit", "--by", "feature", "--loaded"],
        ["budgets"],
        ["prices", "missing"],
    ],
)
def test_a_read_command_imports_no_heavy_module(home: Path, argv: list[str]) -> None:
    code = f"from unitecon.cli.main import run\nassert run({argv!r}) == 0"
    mods = _modules_after(code, cwd=home)
    assert not _heavy(mods), argv
    assert "ibis.backends.sql.compilers.duckdb" in mods  # it did ask the engine


def test_the_command_table_is_what_the_modules_register() -> None:
    """`COMMANDS` names each top-level command with the modules that define it (a new
    command missing from it would still run, after importing every module)."""
    import importlib

    from unitecon.cli import main

    found: dict[str, list[str]] = {}
    for mod in main.MODULES:
        probe = typer.Typer()
        probe.command("noop-probe", hidden=True)(lambda: None)  # a group, even for one command
        importlib.import_module(f"unitecon.cli.{mod}").register(probe)
        group = typer.main.get_group(probe)
        for name in group.commands:
            if name != "noop-probe":
                found.setdefault(name, []).append(mod)
    # `prices` is ledger's group; the prices module adds to it (its register attaches no
    # top-level name of its own)
    found["prices"] = sorted({*found.get("prices", []), "prices"}, key=main.MODULES.index)
    assert {k: tuple(v) for k, v in found.items()} == main.COMMANDS


def test_the_listing_keeps_its_order_whatever_ran_first() -> None:
    """Commands attached one module at a time list as when all are attached at once."""
    code = (
        "from unitecon.cli import main\n"
        "import typer\n"
        "for argv in (['margins'], ['costs'], ['budgets'], None):\n"
        "    main.application(argv)\n"
        "print('NAMES=' + ','.join(typer.main.get_group(main.app).commands))\n"
    )
    lone = code.replace(
        "for argv in (['margins'], ['costs'], ['budgets'], None)", "for argv in (None,)"
    )

    def names(c: str) -> str:
        out = subprocess.run(
            [sys.executable, "-c", c], capture_output=True, text=True, check=True
        ).stdout
        return next(x for x in out.splitlines() if x.startswith("NAMES="))

    assert names(code) == names(lone)


def test_every_command_runs_with_only_its_modules() -> None:
    """Each command, its own modules alone attached (a fresh process), is still the
    command: a module of one command (`report`) keeps the app a group."""
    from unitecon.cli import main

    script = (
        "import sys\n"
        "from unitecon.cli.main import run\n"
        "codes = [run([name, '--help']) for name in sys.argv[1:]]\n"
        "sys.exit(max(codes))\n"
    )
    # one command per set of modules (what differs between processes is what is attached)
    firsts = {mods: name for name, mods in reversed(main.COMMANDS.items())}
    for name in firsts.values():
        r = subprocess.run(
            [sys.executable, "-c", script, name], capture_output=True, text=True, check=False
        )
        assert r.returncode == 0, (name, r.stdout[-300:], r.stderr[-300:])
        assert f"Usage: -c {name} " in r.stdout, (name, r.stdout[:300])


def test_ingest_of_a_native_file_imports_no_pandas(tmp_path: Path) -> None:
    """`unitecon ingest events.parquet` into a new ledger: DuckDB would import pandas to
    bind the first query parameter, and genai-prices (the provider-response reader's) brings
    it too; neither is needed to read a native file."""
    import duckdb

    path = tmp_path / "events.parquet"
    duckdb.sql(
        "COPY (SELECT 'e1' AS event_id, TIMESTAMPTZ '2025-03-01 10:00:00+00' AS ts, "
        "'openai' AS provider, 'gpt-4o' AS model, 10 AS input_tokens) "
        f"TO '{path}' (FORMAT PARQUET)"
    )
    code = (
        "import os\n"
        f"os.environ['UNITECON_HOME'] = {str(tmp_path / 'home')!r}\n"
        "from unitecon.cli.main import run\n"
        f"assert run(['ingest', {str(path)!r}, '--json']) == 0\n"
    )
    mods = _modules_after(code)
    assert "pandas" not in mods
    assert "genai_prices" not in mods
    import unitecon.ledger.store as store

    with store.Ledger(tmp_path / "home" / store.DB_NAME, read_only=True) as ledger:
        assert ledger.count() == 1  # the one event, stored
