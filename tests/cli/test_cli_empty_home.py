"""Every read command of the README's table on an empty data directory: it says there is no
ledger and how to make one, exits non-zero (under `--json`, the error as JSON on stderr and
nothing on stdout), and creates no ledger (so the hint stays true the next time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unitecon.cli.main import run

#: The README table's commands that read the ledger (its own arguments).
READS = [
    "quarantine",
    "lineage",
    "costs --by month,feature",
    "prices missing",
    "bills list",
    "reconcile",
    "export --focus focus.parquet",
    "tasks --top 5",
    "trace tkt-000001",
    "outcomes --by feature",
    "endpoints",
    "asymmetry --by model",
    "audit llama-70b-h100 --precision fp8",
    "selfhost compare --from-ledger --feature rag-search --model Llama-3.1-70B "
    "--api-model openai:gpt-4o-mini",
    "report",
    "unit --by customer --loaded",
    "margins --by plan",
    "budgets",
    "alerts",
    "anomalies",
    "runaway",
    "coverage",
]


@pytest.mark.parametrize("command", READS)
@pytest.mark.parametrize("as_json", [False, True])
def test_read_on_an_empty_home(
    command: str, as_json: bool, _fresh_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = run(command.split() + (["--json"] if as_json else []))
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert not (_fresh_home / "ledger.duckdb").exists()
    if as_json:
        assert out == ""
        body = json.loads(err)
        message = body["error"]["message"]
        assert body["error"]["exit_code"] == 2
    else:
        message = " ".join(err.split())
    assert "No ledger at" in message and "unitecon ingest" in message, message


def test_the_commands_are_the_readme_s() -> None:
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for c in READS:
        assert c.split(" --")[0].split(" tkt")[0] in text, c
