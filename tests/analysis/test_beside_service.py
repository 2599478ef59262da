"""Every command works beside a running service (issue 15): with `unitecon serve` holding
the ledger, each read command gets the answer it gets with the service stopped, through the
service (the same question of the analysis core), and the commands that write (ingest,
forget, bills import, export) go through the service's writer or its read cursor. Values
are checked by a second path where the command has one (the file it wrote, a list price)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from unitecon import config
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore

#: Read commands (argv without --json); `{endpoint}` and `{task}` are filled from the ledger.
READS: list[list[str]] = [
    ["costs", "--by", "feature,model", "--limit", "0"],
    ["unit", "--by", "customer", "--loaded"],
    ["tasks", "--top", "5", "--trees", "0"],
    ["trace", "{task}"],
    ["outcomes"],
    ["outcomes", "--by", "feature", "--since", "2026-11-10"],
    ["endpoints"],
    ["asymmetry", "--by", "feature"],
    ["margins", "--by", "plan"],
    ["collapse"],
    ["collapse", "--plan", "starter", "--target-margin", "0.5"],
    ["budgets"],
    ["anomalies"],
    ["runaway"],
    ["coverage"],
    ["alerts"],
    ["report"],
    ["quarantine"],
    ["lineage"],
    ["prices", "missing"],
    ["audit", "{endpoint}"],
    ["whatif", "scenarios/whatif.yaml"],
    ["tco", "scenarios/tco.yaml", "--draws", "0"],
    [
        "selfhost",
        "compare",
        "--from-ledger",
        "--feature",
        "rag-search",
        "--model",
        "Llama-3.1-8B",
        "--api-model",
        "openai:gpt-4o-mini",
    ],
    ["reconcile"],
    ["bills", "list"],
    ["export", "--focus", "focus.csv"],
    ["export", "--lake", "lake"],
]

#: 1M input tokens of gpt-4o-mini at its list price, $0.15 per million (OpenAI's price page).
EXTRA = (
    '{"event_id": "beside-1", "ts": "2026-11-14T10:00:00Z", "provider": "openai", '
    '"model": "gpt-4o-mini", "input_tokens": 1000000, "output_tokens": 0, '
    '"feature": "rag-search"}\n'
)
INVOICE = "date,provider,model,amount,currency\n2026-11-03,openai,gpt-4o-mini,2.10,USD\n"


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-day demo ledger, its project file, scenario files and the demo's bills."""
    from unitecon.ledger.store import Ledger
    from unitecon.pipeline import demo_ledger, import_demo_bill, write_demo_scenarios

    home = tmp_path_factory.mktemp("beside")
    path = demo_ledger(home, days=7, customers=12)
    write_demo_scenarios(home)
    with Ledger(path) as ledger:
        import_demo_bill(ledger, config.load(home / "unitecon.yaml"), home / "demo" / "bills")
    return home


def _unitecon(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UNITECON_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", "from unitecon.cli.main import main; main()", *argv],
        capture_output=True, text=True, env=env, cwd=home, timeout=300,
    )  # fmt: skip


def _json(*argv: str, home: Path) -> Any:
    got = _unitecon(*argv, "--json", home=home)
    assert got.returncode == 0, (argv, got.stdout[-2000:], got.stderr[-2000:])
    assert "Traceback" not in got.stderr
    return json.loads(got.stdout)


@pytest.fixture
def service(home: Path, live_server: Any) -> Any:
    """`with service():` runs `unitecon serve` on the demo ledger: it holds the ledger
    (this process's DuckDB instance), its service file says where it listens."""
    from contextlib import contextmanager

    from unitecon.cli.serve import announce

    @contextmanager
    def run() -> Iterator[str]:
        store = KeyStore.beside(home / "ledger.duckdb")
        cfg = home / "unitecon.yaml"
        app = create_app(
            home / "ledger.duckdb", config.load(cfg), keys=store,
            settings=Settings(prewarm=False, decode_processes=0), config_path=cfg,
        )  # fmt: skip
        with live_server(app) as url, announce(home / "ledger.duckdb", store, url):
            yield url

    return run


def test_every_read_command_beside_the_service(home: Path, cli_json: Any, service: Any) -> None:
    """Each read command's --json with the service running equals the one with it stopped.

    The stopped answers come first, in this process; the running ones from another process,
    which cannot open the ledger the service holds (so each must ask the service)."""
    names = {
        "task": cli_json(["tasks", "--top", "1", "--trees", "0"])["rows"][0]["task"],
        "endpoint": cli_json(["endpoints"])["rows"][0]["endpoint"],
    }
    commands = [[a.format(**names) for a in argv] for argv in READS]
    stopped = [cli_json(argv) for argv in commands]
    with service():
        for argv, want in zip(commands, stopped, strict=True):
            assert _json(*argv, home=home) == want, argv
        # text output too, and no engine text
        text = _unitecon("outcomes", home=home)
        assert text.returncode == 0 and "Outcomes and rework" in text.stdout, text.stderr
    # a second path for the FOCUS file: the rows and the BilledCost it holds are the ones
    # the command reported
    focus = stopped[READS.index(["export", "--focus", "focus.csv"])]
    with (home / "focus.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == focus["rows"] > 0
    written = sum((Decimal(r["BilledCost"]) for r in rows), Decimal(0))
    reported = sum((Decimal(v) for v in focus["billed_by_service"].values()), Decimal(0))
    # each service's total is rounded to the micro-dollar in JSON
    assert abs(written - reported) <= Decimal("0.0000005") * len(focus["billed_by_service"])


def test_writes_beside_the_service(home: Path, cli_json: Any, service: Any) -> None:
    """ingest, forget and bills import while the service holds the ledger: its writer does
    them; the numbers are those of the same writes with it stopped."""
    before = cli_json(["costs", "--by", "provider", "--limit", "0"])
    bills_before = cli_json(["bills", "list"])
    extra, invoice = home / "extra.jsonl", home / "invoice.csv"
    extra.write_text(EXTRA)
    invoice.write_text(INVOICE)
    with service():
        assert _json("ingest", str(extra), home=home)[0]["accepted"] == 1
        after = _json("costs", "--by", "provider", "--limit", "0", home=home)
        # 1M input tokens of gpt-4o-mini at $0.15 per million
        assert Decimal(after["total_cost"]) - Decimal(before["total_cost"]) == Decimal("0.15")
        lineage = _json("lineage", home=home)
        assert lineage[0]["source"] == str(extra) and lineage[0]["accepted"] == 1  # newest first
        forgot = _json("forget", str(extra), home=home)
        assert forgot["events_removed"] == 1
        back = _json("costs", "--by", "provider", "--limit", "0", home=home)
        assert back == before
        imported = _json("bills", "import", str(invoice), home=home)
        assert imported[0]["format"] == "invoice_csv" and imported[0]["buckets_new"] == 1
        listed = _json("bills", "list", home=home)
    # the invoice's one line, $2.10, is a new row of the list
    new = [b for b in listed if b not in bills_before]
    assert [(b["format"], Decimal(b["amount"]), b["lines"]) for b in new] == [
        ("invoice_csv", Decimal("2.10"), 1)
    ]
    # the service stopped: the same list from the ledger itself
    assert cli_json(["bills", "list"]) == listed
    assert cli_json(["lineage"])[0]["format"] == "forget"


def test_cli_mistakes_read_the_same_beside_the_service(home: Path, service: Any) -> None:
    """A CLI user's mistake gets the CLI's message, not the HTTP API's (before: `trace`
    named `GET /api/v1/tasks`, `tasks --top 0` said `query.limit`), and a missing path
    among the files to ingest is told while the others go through the service's writer."""
    extra = home / "extra-mistakes.jsonl"
    extra.write_text(EXTRA.replace("beside-1", "beside-mistakes"))
    with service():
        got = _unitecon("trace", "nosuch", home=home)
        assert got.returncode == 2
        assert got.stderr == "error: Unknown task 'nosuch'. List tasks with `unitecon tasks`.\n"
        got = _unitecon("tasks", "--top", "0", "--json", home=home)
        assert got.returncode == 2 and json.loads(got.stderr)["error"]["message"] == (
            "Invalid value for '--top': Input should be greater than or equal to 1"
        )
        got = _unitecon("ingest", "nonexistent.jsonl", str(extra), "--json", home=home)
        assert got.returncode == 4, got.stderr
        assert [r["accepted"] for r in json.loads(got.stdout)] == [1]
        assert json.loads(got.stderr)["error"]["message"] == (
            "1 of the 2 paths given not ingested: No such file: nonexistent.jsonl"
        )
        assert _json("forget", str(extra), home=home)["events_removed"] == 1
