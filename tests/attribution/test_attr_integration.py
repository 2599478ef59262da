"""Through the real stages: OTLP reader -> ledger -> pricing (genai-prices) -> attribution,
and the CLI commands on that ledger."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from unitecon.attribution import allocate, variable_costs
from unitecon.config import Project
from unitecon.economics.metrics import unit_rows
from unitecon.economics.tasks import task_details
from unitecon.ingest.otlp import read_otlp_json
from unitecon.ledger.store import Ledger
from unitecon.pricing import priced_events

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
NS = 1_780_000_000_000_000_000  # 2026-05-28


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _span(sid: str, parent: str, name: str, start_s: float, **attrs: Any) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": sid,
        "parentSpanId": parent,
        "name": name,
        "startTimeUnixNano": str(NS + int(start_s * 1e9)),
        "endTimeUnixNano": str(NS + int((start_s + 2) * 1e9)),
        "attributes": [_attr(k.replace("__", "."), v) for k, v in attrs.items()],
    }


def _usage(inp: int, out: int) -> dict[str, Any]:
    return {
        "gen_ai__provider__name": "openai",
        "gen_ai__request__model": "gpt-4o",
        "gen_ai__usage__input_tokens": inp,
        "gen_ai__usage__output_tokens": out,
    }


def _otlp(path: Path) -> Path:
    """An agent span that repeats the summed usage of its two chat children, as real
    instrumentations do (1,000 + 3,000 input, 200 + 600 output)."""
    spans = [
        _span(
            "a" * 16,
            "",
            "invoke_agent triage",
            0,
            gen_ai__operation__name="invoke_agent",
            gen_ai__agent__name="triage",
            **_usage(4000, 800),
        ),
        _span(
            "b" * 16,
            "a" * 16,
            "chat gpt-4o",
            1,
            gen_ai__operation__name="chat",
            **_usage(1000, 200),
        ),
        _span(
            "c" * 16,
            "a" * 16,
            "chat gpt-4o",
            3,
            gen_ai__operation__name="chat",
            **_usage(3000, 600),
        ),
    ]
    resource = {"attributes": [_attr("unitecon.feature", "support")]}
    doc = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def ledger(tmp_path: Path) -> Any:
    with Ledger(tmp_path / "l.duckdb") as led:
        led.ingest("t.json", read_otlp_json(_otlp(tmp_path / "t.json")))
        yield led


def test_agent_span_usage_is_priced_once(ledger: Any) -> None:
    """gpt-4o: $2.50 / M input, $10 / M output (genai-prices). Leaves only:
    (4,000 x 2.5 + 800 x 10) / 10^6 = 0.010 + 0.008 = $0.018 (not $0.036)."""
    project = Project()
    c = variable_costs(priced_events(ledger, project), project)
    a = allocate(c, project, "feature")
    assert a.variable == Decimal("0.018")
    rows, _ = unit_rows(c, project, "feature")
    m = {r.key: r.metrics() for r in rows}["support"]
    assert (m["requests"], m["tasks"]) == (2, 1)
    assert m["cost_per_1k_tokens"] == Decimal("0.00375")  # 0.018 / 4,800 x 1,000
    d = task_details(c, TRACE)
    assert d is not None and d.stats.agents == {"triage": (Decimal("0.018"), Decimal("0.018"))}


@pytest.fixture
def home_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from unitecon.ledger import store

    home = Path(store.home())
    with Ledger(home / store.DB_NAME) as led:
        led.ingest("t.json", read_otlp_json(_otlp(tmp_path / "t.json")))
    Path("unitecon.yaml").write_text(
        "fixed_costs:\n  - {name: platform, monthly: 3100, driver: requests}\n"
    )
    return home


def _cli(argv: list[str]) -> int:
    """The commands as `unitecon` runs them (registered on a fresh app, so this does not
    depend on `cli.main` listing the module yet)."""
    import typer

    from unitecon.cli import attribution

    app = typer.Typer()
    app.command("noop", hidden=True)(lambda: None)  # keep typer in multi-command mode
    attribution.register(app)
    try:
        app(args=argv, standalone_mode=False)
    except typer.Exit as e:
        return int(e.exit_code or 0)
    return 0


@pytest.mark.parametrize(
    "argv",
    [
        ["unit", "--by", "feature", "--loaded", "--json"],
        ["unit", "--by", "agent", "--chart", "u.html"],
        ["tasks", "--top", "3"],
        ["trace", TRACE, "--json"],
        ["outcomes", "--json"],
        ["endpoints", "--json"],
        ["asymmetry", "--by", "model"],
        ["asymmetry", "--by", "feature", "--json"],
    ],
)
def test_cli(home_ledger: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if "--json" in argv:
        json.loads(out)
    if argv[:2] == ["unit", "--by"] and "--json" in argv:
        data = json.loads(out)
        assert Decimal(data["total_cost"]) == Decimal("0.018") + Decimal("100")
        assert sum(Decimal(r["loaded_cost"]) for r in data["rows"]) == Decimal(data["total_cost"])


def test_cli_asymmetry(home_ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """gpt-4o at $2.50/M input, $10/M output (genai-prices): leaves 4,000 in, 800 out.
    input 4,000 x 2.5/M = 0.010, output 800 x 10/M = 0.008; token cost 0.018.
    input share 0.010 / 0.018 = 0.555556 (6 places); $/1k in 0.010 / 4 = 0.0025, out
    0.008 / 0.8 = 0.01; an output token costs 0.00001 / 0.0000025 = 4x an input token."""
    assert _cli(["asymmetry", "--by", "model", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert row["key"] == "gpt-4o" and Decimal(row["token_cost"]) == Decimal("0.018")
    assert row["input"]["cost_share"] == "0.555556"
    assert Decimal(row["input"]["cost_per_1k_tokens"]) == Decimal("0.0025")
    assert Decimal(row["output"]["cost_per_1k_tokens"]) == Decimal("0.01")
    assert Decimal(row["output_input_price_ratio"]) == 4
