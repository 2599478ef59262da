"""The terminal: at 80 columns every money cell is whole (the README's commands run at
COLUMNS=80, no number cut or wider than the terminal; low-priority columns go first); every
README command shows progress on a terminal; time lines in time order; filters and windows
that match nothing say so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from unitecon import terminal
from unitecon.cli.main import run
from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger
from unitecon.terminal import money

README = Path(__file__).parents[2] / "README.md"

#: The README table's commands that read the ledger, with the README's own arguments.
COMMANDS = [
    "costs --by month,feature",
    "costs --by feature,model",
    "quarantine",
    "prices missing",
    "tasks --top 5",
    "outcomes --by feature",
    "endpoints",
    "unit --by customer --loaded",
    "unit --by feature",
    "margins --by plan",
    "margins --by customer",
    "collapse --target-margin 0.6",
    "budgets",
    "alerts",
    "anomalies",
    "runaway",
    "coverage",
    "report",
    "lineage",
    "bills list",
    "reconcile",
    "trace {task}",
    "asymmetry --by model",
    "prices show gpt-4o",
    "perf predict --model Llama-3.1-70B --gpu H100 --precision fp8 --input-len 1000 "
    "--output-len 1000 --max-throughput",
    "selfhost compare --from-ledger --feature rag-search --model Llama-3.1-70B "
    "--api-model openai:gpt-4o-mini",
    "audit llama-70b-h100 --precision fp8",
    "whatif {scenarios}/whatif.yaml",
    "tco {scenarios}/tco.yaml --xlsx {tmp}/tco.xlsx",
]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unitecon.demo import generate
    from unitecon.pipeline import write_demo_project, write_demo_scenarios

    home = tmp_path_factory.mktemp("width")
    files = generate(home / "demo", days=20, customers=12)  # two months
    with Ledger(home / "ledger.duckdb") as lg:
        for path in files.all:
            lg.ingest(str(path), read_path(path, None))
    write_demo_project(home)
    write_demo_scenarios(home)
    return home


@pytest.fixture
def narrow(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("UNITECON_HOME", str(demo_home))
    monkeypatch.chdir(demo_home)
    old = terminal.console.width
    terminal.console.width = 80
    try:
        yield demo_home
    finally:
        terminal.console.width = old


def test_the_commands_are_the_readme_s() -> None:
    text = README.read_text(encoding="utf-8")
    for c in COMMANDS:
        assert " ".join(c.split(" --")[0].split(" {")[0].split()[:2]) in text, c


def _argv(
    command: str, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """The command's words, its placeholders filled: a task of the ledger, the demo's
    scenario files, a scratch folder."""
    task = ""
    if "{task}" in command:
        assert run(["tasks", "--top", "1", "--json"]) == 0
        task = json.loads(capsys.readouterr().out)["rows"][0]["task"]
    filled = command.format(task=task, scenarios=home / "scenarios", tmp=tmp_path)
    return filled.split()


@pytest.mark.parametrize("command", COMMANDS)
def test_money_is_whole_at_80_columns(
    narrow: Path, command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    capsys.readouterr()
    argv = _argv(command, narrow, tmp_path, capsys)
    if argv[0] in ("whatif", "tco"):
        argv += ["--charts", str(tmp_path)]
    if argv[0] == "report":
        argv += ["--out", str(tmp_path / "r.html")]
    if argv[0] == "collapse":
        argv += ["--chart", str(tmp_path / "c.html")]
    capsys.readouterr()
    code = run(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    cells = [line for line in out.splitlines() if line.startswith(("│", "┃"))]
    assert not [c for c in cells if "…" in c], out  # a tree's "… N more" is not a cell
    wide = [line for line in out.splitlines() if len(line) > 80]
    assert not wide, "\n".join(wide)
    # rich crops a line at the console's width: a table that did not fit loses its right edge
    # (a table's heavy header lines: a tree's light lines are not a table's)
    edges = [line for line in out.splitlines() if line[:1] in "┏┃┡"]
    cut = [line for line in edges if line.rstrip()[-1:] not in "┓┃┩"]
    assert not cut, "\n".join(cut)


def test_margins_by_plan_at_columns_80_in_a_process(
    narrow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`COLUMNS=80 unitecon margins --by plan`, as a user types it (output piped)."""
    capsys.readouterr()
    assert run(["margins", "--by", "plan", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    env = {**os.environ, "COLUMNS": "80", "UNITECON_HOME": str(narrow)}
    p = subprocess.run(
        [sys.executable, "-c", "from unitecon.cli.main import main; main()",
         "margins", "--by", "plan"],
        capture_output=True, text=True, env=env, cwd=narrow, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "…" not in p.stdout
    assert max(len(line) for line in p.stdout.splitlines()) <= 80
    # every plan's revenue and gross margin, whole (the --json answer formatted to cents)
    for row in got["rows"]:
        assert money(Decimal(row["revenue"])) in p.stdout, row
        assert money(Decimal(row["gross_margin"])) in p.stdout, row


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["unit", "--by", "month"], "key"),
        (["margins", "--by", "month"], "month"),
        (["costs", "--by", "day", "--limit", "0"], "day"),
    ],
)
def test_time_lines_are_in_time_order(
    narrow: Path, argv: list[str], key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run([*argv, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    keys = [r["dims"][key] if "dims" in r else r[key] for r in got["rows"]]
    days = [k for k in keys if k and not str(k).startswith("__")]
    assert days == sorted(days) and len(days) >= (19 if "day" in argv else 2), keys
    assert keys[: len(days)] == days  # special rows (__idle__) after the time line


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["costs", "--since", "2030-01-01"], "window 2030-01-01 to end"),
        (["unit", "--since", "2030-01-01"], "window 2030-01-01 to end"),
        (["tasks", "--feature", "support"], "feature 'support' (not in the ledger; its features"),
        (["unit", "--only", "feature=support"], "its features: coding-assistant, rag-search"),
        (["endpoints", "--since", "2030-01-01"], "window 2030-01-01 to end"),
        (["asymmetry", "--since", "2030-01-01"], "window 2030-01-01 to end"),
        (["outcomes", "--since", "2030-01-01"], "window 2030-01-01 to end"),
        (["anomalies", "--since", "2030-01-01"], "window 2030-01-01 to end"),
        (["runaway", "--since", "2030-01-01"], "window 2030-01-01 to end"),
        (["coverage", "--since", "2030-01-01"], "window 2030-01-01 to end"),
    ],
)
def test_nothing_matched_says_so(
    narrow: Path, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "No events match" in out and words in out, out
    assert "The ledger holds" in out and "events from" in out


def test_selfhost_from_ledger_json_is_only_json(
    narrow: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    argv = ["selfhost", "compare", "--from-ledger", "--feature", "rag-search",
            "--model", "Llama-3.1-70B", "--api-model", "openai:gpt-4o-mini", "--json"]  # fmt: skip
    assert run(argv) == 0
    out = json.loads(capsys.readouterr().out)  # no sentence before the JSON
    assert out["options"] and Decimal(out["api_monthly_usd"]) > 0


SPINNER = set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")  # rich's "dots" spinner


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_shows_progress_on_a_terminal(
    narrow: Path,
    command: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a terminal each command shows a spinner while it works (the ones over 2 s on the
    demo need it; the others show it for the moment they take); never in a pipe."""
    capsys.readouterr()
    argv = _argv(command, narrow, tmp_path, capsys)
    if argv[0] in ("whatif", "tco"):
        argv += ["--charts", str(tmp_path)]
    if argv[0] in ("report", "collapse"):
        argv += ["--out" if argv[0] == "report" else "--chart", str(tmp_path / "x.html")]
    monkeypatch.setattr(terminal.console, "_force_terminal", True)  # as on a terminal
    monkeypatch.setattr(terminal.console, "is_interactive", True)
    assert run(argv) == 0
    out, err = capsys.readouterr()
    assert SPINNER & set(out + err), (out + err)[-2000:]
