"""`prices update FILE`: a genai-prices snapshot that changes one model's price re-prices
exactly that model's events, and the diff report (per model and UTC day) shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from unitecon.cli.main import run
from unitecon.ledger.records import Chunk
from unitecon.ledger.schema import to_table
from unitecon.ledger.store import Ledger

D0 = datetime(2026, 11, 1, tzinfo=UTC)


def _calls(model: str, provider: str, n: int, day: int = 0) -> list[dict[str, Any]]:
    return [
        {"event_id": f"{model}-{day}-{i}", "ts": D0 + timedelta(days=day, hours=i),
         "provider": provider, "model": model, "operation": "chat",
         "input_tokens": 1_000_000, "output_tokens": 100_000, "source": "x"}
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def ledger() -> None:
    rows = [
        *_calls("gpt-4o-mini", "openai", 10),
        *_calls("gpt-4o-mini", "openai", 4, day=1),
        *_calls("gpt-4o", "openai", 5),
        *_calls("claude-sonnet-4-5", "anthropic", 3),
    ]
    with Ledger() as store:
        store.ingest("x", [Chunk(to_table(rows))])


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    capsys.readouterr()
    assert run([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _with_output_price(base: Path, out: Path, model: str, price: str) -> Path:
    """The snapshot with one model's output price changed (every dated price of it)."""
    providers = json.loads(base.read_text())
    hits = 0
    for p in providers:
        for m in p["models"]:
            if m["id"] == model:
                prices = m["prices"] if isinstance(m["prices"], list) else [{"prices": m["prices"]}]
                for cp in prices:
                    cp["prices"]["output_mtok"] = price
                    hits += 1
    assert hits
    out.write_text(json.dumps(providers))
    return out


def test_one_changed_price_reprices_exactly_that_model(
    ledger: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.json"
    assert run(["prices", "snapshot", str(base)]) == 0
    # the bundled catalog written out and loaded back re-prices nothing
    same = _json(capsys, ["prices", "update", str(base), "--dry-run"])
    assert same["changed_rows"] == []
    new = _with_output_price(base, tmp_path / "new.json", "gpt-4o-mini", "0.9")
    res = _json(capsys, ["prices", "update", str(new)])
    assert res["models_changed"] == ["openai/gpt-4o-mini"]
    rows = {r["day"]: r for r in res["changed_rows"]}
    # day 1: 10 calls x 100,000 output tokens x ($0.90 - $0.60) / 1M = $0.30
    assert Decimal(rows["2026-11-01"]["before"]) == Decimal("2.10")  # 10 x $0.21
    assert Decimal(rows["2026-11-01"]["change"]) == Decimal("0.30")
    assert Decimal(rows["2026-11-02"]["change"]) == Decimal("0.12")  # 4 calls
    assert "snapshot:" in res["catalog_after"] and "snapshot:" not in res["catalog_before"]
    answer = _json(capsys, ["costs", "--by", "model"])
    costs = {r["dims"]["model"]: Decimal(r["cost"]) for r in answer["rows"]}
    assert costs["gpt-4o-mini"] == Decimal("2.10") + Decimal("0.30") + 4 * Decimal("0.24")
    assert costs["gpt-4o"] == 5 * Decimal("3.50")  # 1M x $2.50/M + 100k x $10/M, unchanged
    status = _json(capsys, ["prices", "status"])
    assert status["source"] == "snapshot" and status["days_since_install"] == 0
    assert status["catalog_version"] == res["catalog_after"]
    hist = _json(capsys, ["prices", "history"])
    assert [h["models_changed"] for h in hist] == [["openai/gpt-4o-mini"]]


def test_dry_run_keeps_the_catalog(
    ledger: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.json"
    assert run(["prices", "snapshot", str(base)]) == 0
    new = _with_output_price(base, tmp_path / "new.json", "gpt-4o", "20")
    res = _json(capsys, ["prices", "update", str(new), "--dry-run"])
    assert res["models_changed"] == ["openai/gpt-4o"]
    # 5 calls x 100,000 x ($20 - $10) / 1M = $5.00
    assert sum(Decimal(r["change"]) for r in res["changed_rows"]) == Decimal("5.00")
    assert _json(capsys, ["prices", "status"])["source"] == "bundled with the package"
    assert _json(capsys, ["prices", "history"]) == []


def test_a_file_that_is_not_a_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"providers": []}')
    assert run(["prices", "update", str(bad)]) == 2
    assert "a JSON array of providers" in capsys.readouterr().err
    bad.write_text('[{"id": "x"}]')
    assert run(["prices", "update", str(bad)]) == 2
    assert "not a genai-prices snapshot" in capsys.readouterr().err


def test_changes_in_closed_months_are_marked() -> None:
    from datetime import date

    from unitecon.reconcile.reprice import diff

    key_oct, key_dec = (date(2026, 10, 31), "openai", "m"), (date(2026, 12, 1), "openai", "m")
    before = {key_oct: (Decimal(1), 3), key_dec: (Decimal(2), 4)}
    after = {key_oct: (Decimal("1.5"), 3), key_dec: (Decimal(2), 4)}
    rows = diff(before, after, today=date(2026, 12, 6))
    assert [(r["day"], r["change"], r["closed"]) for r in rows] == [
        (date(2026, 10, 31), Decimal("0.5"), True)
    ]


def test_from_a_url_and_every_priced_row_names_the_catalog(
    ledger: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import httpx

    from unitecon import config
    from unitecon.pricing import priced_events, snapshot

    base = tmp_path / "base.json"
    assert run(["prices", "snapshot", str(base)]) == 0
    body = _with_output_price(base, tmp_path / "new.json", "gpt-4o", "12").read_bytes()
    asked: list[str] = []

    def get(url: str, **kw: Any) -> httpx.Response:
        asked.append(url)
        return httpx.Response(200, content=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", get)
    res = _json(capsys, ["prices", "update", "--url"])
    assert asked == [snapshot.DEFAULT_URL] and res["models_changed"] == ["openai/gpt-4o"]
    with Ledger(read_only=True) as store:
        t = priced_events(store, config.Project())
        versions = t.select("catalog_version").distinct().to_pyarrow().to_pylist()
    assert versions == [{"catalog_version": res["catalog_after"]}]
    assert "snapshot:" + res["sha256"][:12] in res["catalog_after"]
