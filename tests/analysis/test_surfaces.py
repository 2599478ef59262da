"""The surfaces agree by construction: the CLI's `--json` and the read API return the same
answer of the analysis core, also while `unitecon serve` holds the ledger; the service's
engine state stays bounded; the defects of issue 15 stay fixed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unitecon import config, engine
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore

#: (CLI argv, API path): the same question on both surfaces.
QUESTIONS = [
    (["costs", "--by", "feature", "--limit", "0"], "/api/v1/costs?by=feature"),
    (["costs", "--by", "day,model", "--limit", "0"], "/api/v1/costs?by=day,model"),
    (
        ["costs", "--by", "customer", "--since", "2026-11-10", "--limit", "0"],
        "/api/v1/costs?by=customer&since=2026-11-10",
    ),
    (["unit", "--by", "feature"], "/api/v1/metrics/units?by=feature"),
    # the loaded table shares the rows of the one above in the service (`server.shared`)
    (["unit", "--by", "feature", "--loaded"], "/api/v1/metrics/units?by=feature&loaded=true"),
    (
        ["unit", "--by", "customer_id", "--loaded"],
        "/api/v1/metrics/units?by=customer_id&loaded=true",
    ),
    (["unit", "--by", "task_type"], "/api/v1/metrics/units?by=task_type"),
    (["tasks", "--top", "5", "--trees", "0"], "/api/v1/tasks?limit=5"),
    (["tasks", "--top", "3", "--trees", "0"], "/api/v1/tasks?limit=3"),  # the same 100, cut
    (["endpoints"], "/api/v1/endpoints"),
    (["asymmetry", "--by", "feature"], "/api/v1/asymmetry?by=feature"),
    (["margins", "--by", "plan"], "/api/v1/margins?by=plan"),
    (["margins", "--by", "customer"], "/api/v1/margins?by=customer"),
    (["budgets"], "/api/v1/budgets"),
    (["anomalies", "--top", "50"], "/api/v1/anomalies?top=50"),
    (["runaway"], "/api/v1/runaway"),
    (["coverage"], "/api/v1/coverage"),
    (["alerts"], "/api/v1/alerts"),
    (["report"], "/api/v1/summary"),
    (["report", "--since", "2026-11-10"], "/api/v1/summary?since=2026-11-10"),
    (["prices", "missing"], "/api/v1/prices/missing"),
    (["quarantine"], "/api/v1/quarantine?limit=50"),
    # a window running past the 7 days of data (to 2026-11-14): one window for every figure
    (
        ["margins", "--by", "plan", "--since", "2026-11-10", "--until", "2026-12-01"],
        "/api/v1/margins?by=plan&since=2026-11-10&until=2026-12-01",
    ),
    (
        ["report", "--since", "2026-11-10", "--until", "2026-12-01"],
        "/api/v1/summary?since=2026-11-10&until=2026-12-01",
    ),
]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 7-day demo ledger and the demo's project file, in a data directory."""
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("surfaces")
    demo_ledger(home, days=7, customers=12)
    return home


@pytest.fixture
def client(home: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = KeyStore(home / "keys.sqlite")
    key, _ = store.create("read", "surfaces test")
    cfg = home / "unitecon.yaml"
    app = create_app(
        home / "ledger.duckdb",
        config.load(cfg),
        keys=store,
        settings=Settings(prewarm=False),
        config_path=cfg,
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def test_cli_json_equals_the_api(home: Path, cli_json: Any) -> None:
    cli = [cli_json(argv) for argv, _ in QUESTIONS]  # before the service holds it
    store = KeyStore(home / "keys.sqlite")
    key, _ = store.create("read", "surfaces test")
    cfg = home / "unitecon.yaml"
    app = create_app(
        home / "ledger.duckdb", config.load(cfg), keys=store,
        settings=Settings(prewarm=False), config_path=cfg,
    )  # fmt: skip
    with TestClient(app) as c:
        for (argv, path), want in zip(QUESTIONS, cli, strict=True):
            r = c.get(path, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200, (path, r.text)
            assert r.json() == want, argv
    # the totals a dashboard's Overview and Budgets pages show are one number: the variable
    # cost of the window, whichever question carries it
    costs, units = cli[0], cli[3]
    assert Decimal(costs["total_cost"]) == Decimal(units["variable_cost"])
    assert Decimal(costs["total_cost"]) > 0
    # past the data, the headline's margin is its revenue less its fully loaded cost, and
    # the margins of the same window say the same revenue and margin over the days asked
    margins, summary = cli[-2], cli[-1]
    assert (margins["window"]["since"], margins["window"]["until"]) == ("2026-11-10", "2026-12-01")
    assert Decimal(summary["gross_margin"]) == Decimal(summary["revenue"]) - Decimal(
        summary["total_cost"]
    )
    assert Decimal(margins["total"]["revenue"]) == Decimal(summary["revenue"])
    assert Decimal(margins["total"]["gross_margin"]) == Decimal(summary["gross_margin"])
    # JSON money is rounded to the micro-dollar (docs/metrics.md): n rows sum to the total
    # within n x 0.5e-6
    days = cli[1]["rows"]
    by_day = sum(Decimal(r["cost"]) for r in days)
    assert abs(by_day - Decimal(costs["total_cost"])) <= len(days) * Decimal("0.0000005")


def test_unit_dimensions_the_schema_offers_are_accepted(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, h = client
    enum = c.get("/openapi.json").json()["paths"]["/api/v1/metrics/units"]["get"]["parameters"]
    offered = next(p for p in enum if p["name"] == "by")["schema"]["enum"]
    for by in [*offered, "customer_id", "task-type"]:
        r = c.get(f"/api/v1/metrics/units?by={by}", headers=h)
        assert r.status_code == 200, (by, r.text)
    bad = c.get("/api/v1/metrics/units?by=custmer", headers=h)
    assert bad.status_code == 422 and "customer" in bad.text


def test_engine_state_stays_constant_over_write_read_rounds(
    client: tuple[TestClient, dict[str, str]], home: Path
) -> None:
    c, h = client
    ingest_key, _ = KeyStore(home / "keys.sqlite").create("ingest", "rounds")
    counts = []
    for i in range(5):
        event = {
            "event_id": f"round-{i}", "ts": "2026-11-14T12:00:00Z", "operation": "chat",
            "provider": "openai", "model": "gpt-4o-mini", "input_tokens": 100,
            "output_tokens": 10, "feature": "rag-search",
        }  # fmt: skip
        r = c.post(
            "/api/v1/events", json=[event], headers={"Authorization": f"Bearer {ingest_key}"}
        )
        assert r.status_code in (200, 202), r.text
        fresh = {**h, "Cache-Control": "no-cache"}
        for path in ("/api/v1/tasks", "/api/v1/metrics/units?by=feature", "/api/v1/coverage"):
            assert c.get(path, headers=fresh).status_code == 200
        views = c.app.state.reads._views  # type: ignore[attr-defined]
        counts.append(sum(engine.temp_objects(v.con) for v in views))
    assert counts == [counts[0]] * 5, counts
    assert counts[0] == 0


def _unitecon(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "UNITECON_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", "from unitecon.cli.main import main; main()", *argv],
        capture_output=True, text=True, env=env, cwd=home, timeout=300,
    )  # fmt: skip


def test_the_cli_asks_a_running_service(home: Path, cli_json: Any, live_server: Any) -> None:
    """With `serve` holding the ledger (the lock is this process's), a command in another
    process gets the same answer, through the service; no engine text reaches the user."""
    from unitecon.cli.serve import announce

    want = cli_json(["costs", "--by", "feature", "--limit", "0"])
    store = KeyStore(home / "keys.sqlite")
    cfg = home / "unitecon.yaml"
    app = create_app(home / "ledger.duckdb", config.load(cfg), keys=store, config_path=cfg)
    with live_server(app) as url, announce(home / "ledger.duckdb", store, url):
        got = _unitecon("costs", "--by", "feature", "--limit", "0", "--json", home=home)
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout) == want
        text = _unitecon("unit", "--by", "feature", home=home)
        assert text.returncode == 0 and "Unit cost by feature" in text.stdout
        # ingest beside the service: its writer takes the file (lineage and all); the
        # second run adds nothing (idempotent), as without a service
        extra = home / "extra.jsonl"
        extra.write_text(
            '{"event_id": "beside-1", "ts": "2026-11-14T10:00:00Z", "provider": "openai", '
            '"model": "gpt-4o-mini", "input_tokens": 1000000, "output_tokens": 0, '
            '"feature": "rag-search"}\n'
        )
        first = _unitecon("ingest", str(extra), "--json", home=home)
        assert first.returncode == 0, first.stdout + first.stderr
        assert json.loads(first.stdout)[0]["accepted"] == 1
        again = json.loads(_unitecon("ingest", str(extra), "--json", home=home).stdout)
        assert again[0]["accepted"] == 0 and again[0]["duplicates"] == 1
        after = _unitecon("costs", "--by", "feature", "--limit", "0", "--json", home=home)
        # 1M input tokens of gpt-4o-mini at its list price, $0.15 per million
        added = Decimal(json.loads(after.stdout)["total_cost"]) - Decimal(want["total_cost"])
        assert added == Decimal("0.15")
    # the service stopped: its file and key are gone, the command reads the ledger itself
    assert not (home / "ledger.duckdb.service.json").exists()
    got = _unitecon("costs", "--by", "feature", "--limit", "0", "--json", home=home)
    assert Decimal(json.loads(got.stdout)["total_cost"]) == Decimal(want["total_cost"]) + Decimal(
        "0.15"
    )


def test_a_held_ledger_is_a_message_not_an_engine_error(home: Path) -> None:
    """Another program holds the ledger and no service says where it is."""
    import duckdb

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(120)", str(home / "ledger.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        got = _unitecon("costs", "--by", "feature", home=home)
        assert got.returncode != 0
        err = got.stdout + got.stderr
        assert "in use by another program" in err
        assert "Conflicting lock" not in err and "-readonly" not in err
        assert "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()
    del duckdb
