"""One suite, two engines: every question of the analysis core answered on DuckDB (the
embedded ledger) and on Spark local (over the lake `unitecon export --lake` writes) gives
the same answer, field by field: money to the micro-dollar in JSON, and the totals exactly.

The Spark run needs pyspark (`.[spark]`, installed by `make test`) and Java 17 (Debian's
openjdk-17-jre-headless, `make java`). In CI a missing one fails; elsewhere it skips with
the reason.

The golden test runs every read command's `--json` (the questions of `cli/session.py`
`QUESTIONS` as a user types them, plus `outcomes`, `collapse` and `whatif`, which read the
ledger too) in process on both engines (`UNITECON_ENGINE`) and compares the JSON field by
field. `filters` has no command of its own (the commands' empty-state messages use it) and
is compared at the analysis core, with the API's `collapse` question. One command also runs
as a subprocess on Spark: nothing from Spark or Java may reach the user's stderr."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from unitecon import config
from unitecon.analysis import Analysis
from unitecon.analysis.answers import Filters
from unitecon.cli.main import run
from unitecon.cli.session import dump
from unitecon.ledger.store import Ledger

pytestmark = pytest.mark.spark

#: Questions of the analysis core without a command of their own (the API's), compared
#: as answers: (question, filters or None for the questions without, parameters).
QUESTIONS: list[tuple[str, Filters | None, dict[str, Any]]] = [
    ("filters", None, {}),
    ("collapse", Filters(), {}),
]

SCENARIOS = Path(__file__).resolve().parents[2] / "src" / "unitecon" / "demo" / "scenarios"
TOP_TASK = "<the most expensive task>"
"""Replaced by the first task of `tasks --json` (the same on both engines, or that fails)."""

#: Every read command (`--json` is added): session.QUESTIONS' costs, units, tasks, task
#: (`trace`), endpoints, asymmetry, margins, budgets, anomalies, runaway, coverage, alerts,
#: summary (`report`), prices_missing (`prices missing`), quarantine, lineage (from the
#: lake's export on Spark); and outcomes, collapse and whatif.
COMMANDS: list[list[str]] = [
    ["costs", "--by", "feature", "--limit", "0"],
    ["costs", "--by", "day,model", "--limit", "0"],
    ["costs", "--by", "customer", "--since", "2026-11-10", "--limit", "0"],
    ["unit", "--by", "feature"],
    ["unit", "--by", "customer", "--loaded"],
    ["unit", "--by", "agent"],
    ["tasks", "--top", "5"],
    ["trace", TOP_TASK],
    ["outcomes", "--by", "kind"],
    ["outcomes", "--by", "feature"],
    ["endpoints"],
    ["asymmetry", "--by", "model"],
    ["margins", "--by", "plan"],
    ["margins", "--by", "customer"],
    ["collapse"],
    ["budgets"],
    ["anomalies"],
    ["runaway"],
    ["coverage"],
    ["alerts"],
    ["report"],
    ["report", "--since", "2026-11-10"],
    ["prices", "missing"],
    ["quarantine"],
    ["lineage"],
    ["whatif", str(SCENARIOS / "whatif.yaml")],
    ["whatif", str(SCENARIOS / "whatif-growth.yaml")],
]


def _spark_or_skip() -> None:
    import importlib.util

    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        missing.append("a Java runtime (make java)")
    if missing:
        reason = "the Spark engine needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-day demo ledger (the smallest the generator makes), its project file, its lake."""
    from unitecon.ledger.lake import export
    from unitecon.pipeline import demo_ledger

    root = tmp_path_factory.mktemp("engines")
    with Ledger(demo_ledger(root, days=7, customers=10), read_only=True) as lg:
        export(lg, root / "lake")
    return root


def _answers(a: Analysis) -> list[Any]:
    out = []
    for q, f, kw in QUESTIONS:
        method = getattr(a, q)
        out.append(dump(method(f, **kw) if f is not None else method(**kw)))
    return out


def _cli(argv: list[str]) -> Any:
    """`unitecon ARGV --json` in this process: its JSON."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([*argv, "--json"])
    assert code == 0, (argv, err.getvalue()[-2000:], out.getvalue()[-2000:])
    return json.loads(out.getvalue())


def _commands() -> list[Any]:
    got: list[Any] = []
    for argv in COMMANDS:
        if argv == ["trace", TOP_TASK]:
            argv = ["trace", got[COMMANDS.index(["tasks", "--top", "5"])]["rows"][0]["task"]]
        got.append(_cli(argv))
    return got


def _buckets(t: Any) -> dict[str, int]:
    """The what-if replay's bucket of every event (salt of a first `route`)."""
    from unitecon.economics.replay import bucket

    rows = t.select("event_id", b=bucket(t.event_id, "route0")).to_pyarrow().to_pylist()
    return {r["event_id"]: r["b"] for r in rows}


@dataclass
class Engine:
    answers: list[Any]
    commands: list[Any]
    buckets: dict[str, int]


@pytest.fixture(scope="module")
def both(home: Path) -> Iterator[tuple[Engine, Engine]]:
    _spark_or_skip()
    from unitecon.analysis.core import spark_lake

    mp = pytest.MonkeyPatch()
    mp.setenv("UNITECON_HOME", str(home))
    mp.chdir(home)
    try:
        project = config.load(home / "unitecon.yaml")
        mp.setenv("UNITECON_ENGINE", "duckdb")
        with Analysis(Ledger(home / "ledger.duckdb", read_only=True), project) as a:
            duck = Engine(_answers(a), [], _buckets(a.source.ibis().table("events")))
        duck.commands = _commands()
        mp.setenv("UNITECON_ENGINE", "spark")
        with Analysis(spark_lake(project), project) as a:
            spark = Engine(_answers(a), [], _buckets(a.source.ibis().table("events")))
        spark.commands = _commands()
        yield duck, spark
    finally:
        mp.undo()


@pytest.mark.parametrize(("i", "argv"), [(i, " ".join(c[:3])) for i, c in enumerate(COMMANDS)])
def test_every_read_command_gives_the_same_json_on_both_engines(
    both: tuple[Engine, Engine], i: int, argv: str
) -> None:
    duck, spark = both
    assert spark.commands[i] == duck.commands[i], argv


@pytest.mark.parametrize(("i", "question"), [(i, q[0]) for i, q in enumerate(QUESTIONS)])
def test_the_same_answer_on_both_engines(
    both: tuple[Engine, Engine], i: int, question: str
) -> None:
    duck, spark = both
    assert spark.answers[i] == duck.answers[i], question


def test_the_whatif_buckets_are_the_same_on_both_engines(both: tuple[Engine, Engine]) -> None:
    """Every event of the demo in the same bucket (so a `share` picks the same events), and
    the buckets those of Python's hashlib (`tests/scenarios/test_bucket.py`'s rule)."""
    duck, spark = both
    assert len(duck.buckets) > 1000 and spark.buckets == duck.buckets
    for event_id in sorted(duck.buckets)[:50]:
        digest = hashlib.md5((event_id + "route0").encode()).hexdigest()
        assert duck.buckets[event_id] == int(digest[:8], 16) % 1_000_000


def test_the_answers_are_not_empty(both: tuple[Engine, Engine]) -> None:
    """A comparison of empty answers would prove nothing: the demo's cost is there, and the
    what-if moves it."""
    duck, _ = both
    cmd = {" ".join(c[:3]): j for j, c in enumerate(COMMANDS)}
    costs = duck.commands[cmd["costs --by feature"]]
    assert Decimal(costs["total_cost"]) > 0 and len(costs["rows"]) >= 3
    assert duck.commands[cmd["unit --by feature"]]["rows"]
    assert duck.commands[cmd["margins --by plan"]]["rows"]
    trace = next(j for j, c in enumerate(COMMANDS) if c[0] == "trace")
    assert duck.commands[trace]["roots"]
    for k in cmd:
        if k.startswith("whatif"):
            w = duck.commands[cmd[k]]
            assert w["baseline"] != w["scenario_result"], k


def test_spark_says_nothing_on_stderr(home: Path, both: tuple[Engine, Engine]) -> None:
    """A command on Spark, as a user runs it: its stdout is the answer, its stderr empty (no
    log4j or Java warnings; the driver's log is a file)."""
    env = {**os.environ, "UNITECON_HOME": str(home), "UNITECON_ENGINE": "spark"}
    argv = ["costs", "--by", "feature", "--limit", "0", "--json"]
    r = subprocess.run(
        [sys.executable, "-c", "import sys; from unitecon.cli.main import run; "
         "sys.exit(run(sys.argv[1:]))", *argv],
        env=env, cwd=home, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stderr == ""
    _, spark = both
    assert json.loads(r.stdout) == spark.commands[0]


def test_spark_temporary_state_lives_and_dies_with_the_analysis(
    home: Path, both: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an `Analysis` materializes on Spark (the priced and costed events as cached
    views, the in-memory tables it registers) is there while it answers and gone when it
    closes: over N analyses the session's temporary views and persisted datasets stay at
    the count they had before (as the service's temporary tables on DuckDB,
    tests/analysis/test_surfaces.py)."""
    from unitecon.analysis.core import spark_lake
    from unitecon.engine import spark

    monkeypatch.setenv("UNITECON_HOME", str(home))
    project = config.load(home / "unitecon.yaml")
    lake = spark_lake(project)
    backend = lake.ibis()
    before = spark.temp_objects(backend)
    during, after = [], []
    for _ in range(3):
        with Analysis(lake, project) as a:
            a.costs(Filters(), by="feature")
            a.units(Filters(), by="feature")  # reads the materialized costed events
            during.append(spark.temp_objects(backend))
        after.append(spark.temp_objects(backend))
    views, persisted = during[0]
    # the priced and the costed events at least, each a view over cached rows
    assert views >= before[0] + 2 and persisted >= before[1] + 2, (before, during)
    assert during == [during[0]] * 3
    assert after == [before] * 3, (before, after)
