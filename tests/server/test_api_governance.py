"""The governance reads (budgets, anomalies, runaway tasks, coverage, alerts) on a small ledger
whose numbers are worked out by hand: $1 unit-priced web searches make each day's cost round.

    search, customer c1: 10 searches ($10) a day from 2026-01-04 to 2026-02-11, 60 ($60) on
                         2026-02-12 (the last day: data is complete up to 2026-02-13)
    support, customer c2: 5 searches ($5) a day from 2026-02-01 to 2026-02-12, in one task
                          each; on 2026-01-10, one task of 200 calls of 1 search ($200,
                          customer c2) and 300 tasks of 1 search (customer c3)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from unitecon import config
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.server.app import Settings, create_app
from unitecon.server.auth import KeyStore

PROJECT = """\
unit_prices:
  - {unit_type: web_search, usd_per_1000: "1000"}   # $1 a search
governance:
  budgets:
    - {name: search, monthly: 250, where: {feature: search}}
    - {name: everything, monthly: 1000}
  runaway: {factor: 3, min_calls: 50}
"""


def _search(i: int, day: dt.date, n: int, **kw: Any) -> dict[str, Any]:
    return {
        "event_id": f"e{i}",
        "ts": dt.datetime.combine(day, dt.time(12), dt.UTC),
        "operation": "execute_tool",
        "unit_type": "web_search",
        "units": float(n),
        "source": f"s.jsonl:{i}",
        **kw,
    }


def _rows() -> list[dict[str, Any]]:
    rows = []
    day = dt.date(2026, 1, 4)
    while day <= dt.date(2026, 2, 12):
        n = 60 if day == dt.date(2026, 2, 12) else 10
        rows.append(_search(len(rows), day, n, feature="search", customer_id="c1"))
        if day >= dt.date(2026, 2, 1):
            rows.append(
                _search(len(rows), day, 5, feature="support", customer_id="c2", task_id=f"t{day}")
            )
        day += dt.timedelta(days=1)
    # a runaway: 200 calls of $1 in one support task (its feature's p99 is far lower)
    t0 = dt.date(2026, 1, 10)
    for _ in range(200):
        rows.append(
            _search(len(rows), t0, 1, feature="support", customer_id="c2", task_id="loop")
        )  # fmt: skip
    for k in range(300):  # 300 ordinary support tasks of 1 call each, that January day
        rows.append(
            _search(len(rows), t0, 1, feature="support", customer_id="c3", task_id=f"ok{k}")
        )  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def gov(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("gov")
    ledger = root / "ledger.duckdb"
    with Ledger(ledger) as lg:
        lg.ingest("s.jsonl", [Chunk(schema.to_table(_rows()))])
    project_file = root / "unitecon.yaml"
    project_file.write_text(PROJECT)
    store = KeyStore(root / "keys.sqlite")
    keys = {k: store.create(k, f"test {k}")[0] for k in ("ingest", "read", "admin")}
    app = create_app(
        ledger,
        config.load(project_file),
        keys=store,
        config_path=project_file,
        settings=Settings(prewarm=False),
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, {k: {"Authorization": f"Bearer {v}"} for k, v in keys.items()}


def _get(gov: tuple[TestClient, dict[str, Any]], path: str) -> Any:
    client, hdr = gov
    r = client.get(path, headers=hdr["read"])
    assert r.status_code == 200, r.text
    return r.json()


def test_budgets_hand_worked(gov: tuple[TestClient, dict[str, Any]]) -> None:
    """`search` in February as of Feb 13: actual = 11 x $10 + $60 = $170; the 28-day history
    (Jan 16..Feb 12) is 27 tens and one 60: $10 a day expected for the 16 days left = $160:
    forecast $330 with no range (MAD 0); $250 is reached on Feb 20 (170 + 8 x 10)."""
    body = _get(gov, "/api/v1/budgets")
    assert (body["month"], body["as_of"]) == ("2026-02", "2026-02-13")
    b = {x["name"]: x for x in body["budgets"]}["search"]
    assert isinstance(b["actual"], str)  # money is a decimal string
    money = [Decimal(b[k]) for k in ("budget", "actual", "forecast", "forecast_low")]
    assert money == [Decimal(250), Decimal(170), Decimal(330), Decimal(330)]
    assert Decimal(b["forecast_high"]) == 330 and Decimal(b["used"]) == Decimal("0.68")
    assert (b["runs_out"], b["status"], b["where"]) == ("2026-02-20", "forecast over", {
        "feature": "search"
    })  # fmt: skip
    assert len(b["alerts"]) == 2  # actual >= 50%, forecast >= 100%
    # the burn-up: 28 days; spent to Feb 12, the forecast from Feb 12 ($170) to Feb 28 ($330)
    days = {d["day"]: d for d in b["days"]}
    assert len(days) == 28
    assert Decimal(days["2026-02-01"]["spent"]) == 10 and days["2026-02-01"]["forecast"] is None
    assert Decimal(days["2026-02-12"]["spent"]) == 170 == Decimal(days["2026-02-12"]["forecast"])
    assert days["2026-02-13"]["spent"] is None
    assert Decimal(days["2026-02-20"]["forecast"]) == 250
    assert Decimal(days["2026-02-28"]["forecast"]) == 330
    # all spend: February's support adds 12 x $5 = $60 (actual $230); its history holds the
    # support days too, so the forecast is the library's, whatever it is: check it agrees
    e = {x["name"]: x for x in body["budgets"]}["everything"]
    assert Decimal(e["actual"]) == 230 and e["runs_out"] is None and e["status"] == "ok"


def test_budgets_of_a_past_month(gov: tuple[TestClient, dict[str, Any]]) -> None:
    """January is over: actual = forecast = 28 days x $10 (Jan 4..31) = $280 for `search`,
    over its $250 budget (reached on Jan 28, the 25th day)."""
    body = _get(gov, "/api/v1/budgets?month=2026-01")
    b = {x["name"]: x for x in body["budgets"]}["search"]
    assert body["month"] == "2026-01"
    assert Decimal(b["actual"]) == 280 == Decimal(b["forecast"])
    assert (b["status"], b["runs_out"]) == ("over budget", "2026-01-28")
    assert all(d["forecast"] is None for d in b["days"])


def test_bad_month_is_400(gov: tuple[TestClient, dict[str, Any]]) -> None:
    client, hdr = gov
    for q in ("2026-13", "february"):
        r = client.get(f"/api/v1/budgets?month={q}", headers=hdr["read"])
        assert r.status_code in (400, 422), r.text
        assert "error" in r.json()


def test_anomalies_with_what_drove_them(gov: tuple[TestClient, dict[str, Any]]) -> None:
    """Feb 12, feature search: $60 against an expected $10 (its 28-day history is all tens:
    median $10, every weekday factor 1, MAD 0), impact $50, 6x; driven by customer c1, whose
    usual day is $10. February's spend: 11 days of $15 and Feb 12's $65."""
    body = _get(gov, "/api/v1/anomalies?since=2026-02-01")
    assert (body["first_day"], body["as_of"]) == ("2026-02-01", "2026-02-13")
    assert len(body["daily"]) == 12
    assert Decimal(body["period_cost"]) == 11 * 15 + 65
    found = {(a["dim"], a["value"]): a for a in body["anomalies"]}
    s = found[("feature", "search")]
    assert (s["day"], Decimal(s["cost"]), Decimal(s["expected"])) == ("2026-02-12", 60, 10)
    assert Decimal(s["impact"]) == 50 and s["ratio"] == 6.0
    [c] = s["contributors"]  # one customer: c1, usually $10 a day
    assert (c["value"], Decimal(c["cost"]), Decimal(c["usual"])) == ("c1", 60, 10)
    assert Decimal(c["above_usual"]) == 50
    assert Decimal(found[("customer_id", "c1")]["impact"]) == 50
    assert body["total"] == len(body["anomalies"])


def test_anomalies_filters(gov: tuple[TestClient, dict[str, Any]]) -> None:
    """Support alone has no anomaly in February (a steady $5); search's spike is in Feb 12,
    not in the days up to Feb 12 (exclusive)."""
    support = _get(gov, "/api/v1/anomalies?since=2026-02-01&feature=support")
    assert support["anomalies"] == [] and Decimal(support["period_cost"]) == 12 * 5
    early = _get(gov, "/api/v1/anomalies?since=2026-02-01&until=2026-02-12&feature=search")
    assert early["anomalies"] == [] and early["as_of"] == "2026-02-12"
    assert Decimal(early["period_cost"]) == 110
    c1 = _get(gov, "/api/v1/anomalies?since=2026-02-10&customer=c1")
    assert {a["day"] for a in c1["anomalies"]} == {"2026-02-12"}


def test_runaway(gov: tuple[TestClient, dict[str, Any]]) -> None:
    """Support's 313 tasks: 312 of one call (a February day's 5 searches are one event) and
    the loop of 200: the 99th percentile is 1 call, the limit max(50, floor(3 x 1)) = 50, and
    only `loop` ($200, 200 calls) is above it."""
    body = _get(gov, "/api/v1/runaway")
    assert body["total"] == 1
    [r] = body["rows"]
    assert (r["task"], r["feature"], r["customer_id"], r["calls"]) == ("loop", "support", "c2", 200)
    assert Decimal(r["cost"]) == 200 and r["calls_limit"] == 50
    assert (r["agent"], r["minutes"]) == (None, 0)
    assert _get(gov, "/api/v1/runaway?since=2026-02-01")["rows"] == []
    assert _get(gov, "/api/v1/runaway?customer=c1")["rows"] == []
    assert _get(gov, "/api/v1/runaway?feature=support&top=1")["total"] == 1


def test_coverage(gov: tuple[TestClient, dict[str, Any]]) -> None:
    """Every event has a customer and a feature, none a team: team coverage 0, all the spend
    untagged: 39 x $10 + $60 (search) + 12 x $5 + $200 + $300 (support) = $1,010."""
    body = _get(gov, "/api/v1/coverage")
    cov = {c["dimension"]: c for c in body["rows"]}
    assert Decimal(cov["customer_id"]["cost_coverage"]) == 1
    assert Decimal(cov["team"]["cost_coverage"]) == 0
    assert Decimal(cov["team"]["untagged_cost"]) == 39 * 10 + 60 + 60 + 200 + 300
    assert cov["team"]["top_untagged_sources"][0]["source"] == "s.jsonl"
    feb = _get(gov, "/api/v1/coverage?since=2026-02-01&feature=support")
    assert Decimal({c["dimension"]: c for c in feb["rows"]}["team"]["untagged_cost"]) == 60


def test_alerts_same_as_the_cli(
    gov: tuple[TestClient, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's alerts are `unitecon alerts --json`'s, field for field."""
    body = _get(gov, "/api/v1/alerts?days=7")
    assert (body["as_of"], body["days"]) == ("2026-02-13", 7)
    assert [b["name"] for b in body["budgets"]] == ["search"]
    assert {(a["dim"], a["day"]) for a in body["anomalies"]} >= {("feature", "2026-02-12")}
    assert body["runaway_tasks"] == []  # the loop started in January
    assert len(_get(gov, "/api/v1/alerts?days=60")["runaway_tasks"]) == 1

    from unitecon.cli.main import run

    monkeypatch.setenv("UNITECON_HOME", str(tmp_path))
    with Ledger() as lg:
        lg.ingest("s.jsonl", [Chunk(schema.to_table(_rows()))])
    cfg = tmp_path / "unitecon.yaml"
    cfg.write_text(PROJECT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run(["alerts", "--config", str(cfg), "--json"]) == 0
    cli = json.loads(out.getvalue())

    def same(a: Any, b: Any) -> None:  # the API may add fields; numbers compare as Decimals
        if isinstance(a, dict):
            for k, v in a.items():
                same(v, b[k])
        elif isinstance(a, list):
            assert len(a) == len(b)
            for x, y in zip(a, b, strict=True):
                same(x, y)
        elif isinstance(a, str) and isinstance(b, str) and a[:1].isdigit() and "-" not in a:
            assert Decimal(a) == Decimal(b)
        else:
            assert a == b

    same(cli, body)


@pytest.mark.parametrize(
    "path",
    ["/budgets", "/anomalies", "/runaway?top=5", "/coverage", "/alerts?days=7"],
)
def test_read_key_required(gov: tuple[TestClient, dict[str, Any]], path: str) -> None:
    client, hdr = gov
    assert client.get(f"/api/v1{path}").status_code == 401
    bad = {"Authorization": "Bearer uk_read_00000000_" + "0" * 48}
    assert client.get(f"/api/v1{path}", headers=bad).status_code == 401
    r = client.get(f"/api/v1{path}", headers=hdr["ingest"])
    assert r.status_code == 403 and "error" in r.json()
    assert client.get(f"/api/v1{path}", headers=hdr["admin"]).status_code == 200


def test_openapi_documents_the_governance_reads(gov: tuple[TestClient, dict[str, Any]]) -> None:
    client, _ = gov
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("budgets", "anomalies", "runaway", "coverage", "alerts"):
        op = paths[f"/api/v1/{p}"]["get"]
        assert op["summary"] and op["description"], p
        assert "governance" in op["tags"]
        assert "401" in op["responses"] and "403" in op["responses"]


def test_answers_go_through_the_read_cache(gov: tuple[TestClient, dict[str, Any]]) -> None:
    client, hdr = gov
    r = client.get("/api/v1/budgets", headers=hdr["read"])
    assert r.headers["X-Unitecon-Generation"] and "Age" in r.headers


def test_empty_ledger_answers_empty(tmp_path: Path) -> None:
    """No events yet: every governance read answers, with nothing in it."""
    project_file = tmp_path / "unitecon.yaml"
    project_file.write_text(PROJECT)
    store = KeyStore(tmp_path / "keys.sqlite")
    key, _ = store.create("read", "t")
    with Ledger(tmp_path / "ledger.duckdb"):
        pass
    app = create_app(
        tmp_path / "ledger.duckdb",
        config.load(project_file),
        keys=store,
        config_path=project_file,
        settings=Settings(prewarm=False),
    )
    h = {"Authorization": f"Bearer {key}"}
    with TestClient(app, raise_server_exceptions=False) as c:
        b = c.get("/api/v1/budgets", headers=h).json()
        assert (b["as_of"], b["budgets"]) == (None, [])
        a = c.get("/api/v1/anomalies", headers=h).json()
        assert (a["anomalies"], a["daily"], Decimal(a["period_cost"])) == ([], [], 0)
        assert c.get("/api/v1/runaway", headers=h).json()["rows"] == []
        assert c.get("/api/v1/coverage", headers=h).status_code == 200
        al = c.get("/api/v1/alerts", headers=h).json()
        assert (al["as_of"], al["budgets"], al["anomalies"]) == (None, [], [])
