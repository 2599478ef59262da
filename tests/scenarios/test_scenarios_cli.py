"""`unitecon tco` and `unitecon whatif` through the CLI layer; scenario-file errors."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from unitecon.cli import scenarios
from unitecon.errors import ConfigError
from unitecon.models import scenario as sc
from unitecon.models import semantic, tco

DEMO = resources.files("unitecon.demo").joinpath("scenarios")


def app() -> typer.Typer:
    a = typer.Typer()
    scenarios.register(a)
    return a


def test_tco_json_matches_the_model(tmp_path: Path) -> None:
    path = Path(str(DEMO.joinpath("tco.yaml")))
    out = CliRunner().invoke(
        app(),
        ["tco", str(path), "--json", "--draws", "500", "--charts", str(tmp_path)],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    model = tco.resolve_perf(sc.load(tco.TcoModel, path))
    exact = tco.run(model)
    assert data["alternatives"]["hybrid"]["npv"] == str(exact.alternatives["hybrid"].npv)
    assert data["monte_carlo"]["draws"] == 500
    assert data["tornado"]["output"] == "incremental_npv.hybrid"
    # only inputs that move the hybrid's NPV against the baseline; the others are named
    bars = data["tornado"]["bars"]
    assert bars and all(Decimal(b["swing"]) != 0 for b in bars)
    dropped = data["tornado"]["zero_swing_inputs"]
    assert "alternatives.self_hosted.routes[0].gpus.server_capex" in dropped
    assert not {b["input"] for b in bars} & set(dropped)
    for p in data["files"].values():
        assert Path(p).exists()
        if p.endswith(".html"):  # offline: plotly.js inlined, nothing fetched from a CDN
            text = Path(p).read_text(encoding="utf-8")
            assert not re.search(r"<script[^>]*\ssrc=", text)
            assert "Plotly.newPlot" in text and len(text) > 1_000_000


def test_demo_scenario_file_is_valid() -> None:
    s = sc.load(sc.Scenario, Path(str(DEMO.joinpath("whatif.yaml"))))
    assert [t.kind for t in s.transformations] == [
        "route",
        "prompt_cache",
        "semantic_cache",
        "batch",
        "price_change",
    ]
    other = sc.load(sc.Scenario, Path(str(DEMO.joinpath("whatif-growth.yaml"))))
    assert [t.kind for t in other.transformations] == ["self_host", "growth"]


def test_errors_name_the_file_line_and_field() -> None:
    text = "name: x\ntransformations:\n  - kind: route\n    to_modle: gpt-4o-mini\n"
    with pytest.raises(ConfigError) as e:
        sc.parse(sc.Scenario, text, "s.yaml")
    msg = str(e.value)
    assert "s.yaml:4: transformations.0.route.to_modle: Extra inputs are not permitted" in msg
    assert "s.yaml:3: transformations.0.route.to_model: Field required" in msg


def test_semantic_hits_count_near_duplicates_of_earlier_requests() -> None:
    e = [[1.0, 0.0], [0.0, 1.0], [0.999, 0.0447], [0.6, 0.8]]
    assert semantic.hits(e, 0.99) == 1  # only the third is a near-repeat of the first
    assert semantic.hit_rate_of(e, 0.99) == Decimal("0.25")
    assert semantic.hit_rate_of(e, 0.7) == Decimal("0.5")  # and the fourth, close to the second
