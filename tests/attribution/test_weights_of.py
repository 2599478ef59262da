"""`fixed.weights_of` (every fixed cost's driver weights in one query) against the second
path, `fixed.weights` (one query per cost, over the events in the cost's scope only), on
a 7-day demo ledger: every driver, a feature's and an agent's scope, a scope no event is
in, and a cost whose driver is summed in floating point (its own query).

A group with no event in a cost's scope is absent from that cost's weights on both paths
(`weights` never sees it; `weights_of` drops the groups whose count in scope is 0)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unitecon.analysis import Analysis
from unitecon.analysis.answers import Filters
from unitecon.attribution.allocation import keyed
from unitecon.attribution.fixed import weights, weights_of
from unitecon.config import parse

COSTS = """
fixed_costs:
  - {name: a, monthly: 100, driver: variable_cost}
  - {name: b, monthly: 100, driver: requests}
  - {name: c, monthly: 100, driver: tokens, feature: rag-search}
  - {name: d, monthly: 100, driver: tasks, feature: support-agent}
  - {name: e, monthly: 100, driver: even}
  - {name: f, monthly: 100, driver: tasks, agent: triage}
  - {name: g, monthly: 100, driver: requests, feature: no-such-feature}
  - {name: h, monthly: 100, driver: metric, metric: input_tokens}
"""


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("weights_of")
    demo_ledger(home, days=7, customers=12)
    return home


@pytest.fixture
def analysis(demo_home: Path) -> Iterator[Analysis]:
    with Analysis.open(demo_home / "unitecon.yaml", ledger=demo_home / "ledger.duckdb") as a:
        yield a


@pytest.mark.parametrize("dim", ["feature", "customer", "model"])
def test_weights_of_is_weights_cost_by_cost(analysis: Analysis, dim: str) -> None:
    fcs = list(parse(COSTS).fixed_costs)
    t: Any = keyed(analysis.costed(Filters()), dim, {"feature": "support-agent"}, agents=True)
    keys = ["_key", "_vis"]

    got = weights_of(t, fcs, keys)

    want = [weights(t, fc, keys) for fc in fcs]
    assert got == want
    by_name = dict(zip((fc.name for fc in fcs), got, strict=True))
    assert by_name["g"] == {}  # no event in scope: nothing to split over
    assert all(by_name[n] for n in "abcdefh")  # the demo has events in every other scope
    assert all(w == 1 for w in by_name["e"].values())  # `even`: one per group in scope


def test_weights_of_nothing_is_no_query(analysis: Analysis) -> None:
    t: Any = keyed(analysis.costed(Filters()), "feature")
    assert weights_of(t, [], ["_key", "_vis"]) == []
