"""Issue 17, item 5: input vs output cost asymmetry per model and per feature (cost share
and cost per 1k tokens of input, output, cache reads and reasoning), worked by hand.

Rate card of the rows below [USD per M tokens]: m1 input 3, cache read 0.30, output 15;
m2 input 0.10, output 0.40.

    e1 m1 (feature a): 1,000 in, 200 out (50 reasoning)
         input 1,000 x 3/M = 0.003; output 200 x 15/M = 0.003
    e2 m1 (feature a): 2,000 in of which 1,000 cache reads, 100 out
         input 1,000 x 3/M + 1,000 x 0.30/M = 0.0033; output 100 x 15/M = 0.0015
         saving 1,000 x (3 - 0.30)/M = 0.0027
    e3 m2 (feature b): 4,000 in, 1,000 out
         input 4,000 x 0.10/M = 0.0004; output 1,000 x 0.40/M = 0.0004
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

from priced_rows import T0, MakePriced

from unitecon.attribution import variable_costs
from unitecon.config import Project
from unitecon.economics.asymmetry import asymmetry


def _rows() -> list[dict[str, Any]]:
    def ev(i: int, model: str, feature: str, **k: Any) -> dict[str, Any]:
        cost = D(k["input_cost"]) + D(k["output_cost"])
        base = {"event_id": f"e{i}", "ts": T0 + dt.timedelta(seconds=i), "model": model}
        return {**base, "feature": feature, "trace_id": f"t{i}", "cost": str(cost), **k}

    return [
        ev(1, "m1", "a", input_tokens=1000, output_tokens=200, reasoning_tokens=50,
           input_cost="0.003", output_cost="0.003"),
        ev(2, "m1", "a", input_tokens=2000, cache_read_tokens=1000, output_tokens=100,
           input_cost="0.0033", output_cost="0.0015", cache_saving="0.0027"),
        ev(3, "m2", "b", input_tokens=4000, output_tokens=1000,
           input_cost="0.0004", output_cost="0.0004"),
    ]  # fmt: skip


def _floor(x: D) -> D:
    return x.quantize(D("1e-12"), "ROUND_FLOOR")


def test_per_model(make_priced: MakePriced) -> None:
    c = variable_costs(make_priced(_rows()), Project())
    got = {a.key: a.as_dict() for a in asymmetry(c, "model")}
    m1 = got["m1"]
    # token cost T = input (0.003 + 0.0033) + output (0.003 + 0.0015) = 0.0063 + 0.0045
    assert m1["token_cost"] == D("0.0108")
    assert m1["input"]["cost"] == D("0.0063") and m1["input"]["tokens"] == 3000
    assert m1["input"]["cost_share"] == _floor(D("0.0063") / D("0.0108"))  # 0.583333...
    assert m1["input"]["cost_per_1k_tokens"] == D("0.0021")  # 0.0063 / 3,000 x 1,000
    assert m1["output"]["cost_per_1k_tokens"] == D("0.015")  # 0.0045 / 300 x 1,000
    # cache reads: p_in over m1's calls that write no cache (both):
    #   (input_cost + saving) / input tokens = (0.003 + 0.0033 + 0.0027) / 3,000 = 3/M;
    #   cost = 1,000 x 3/M - 0.0027 = 0.0003
    assert m1["cache_read"]["cost"] == D("0.0003")
    assert m1["cache_read"]["cost_per_1k_tokens"] == D("0.0003")  # = 0.30 per M
    assert m1["cache_read"]["cost_share"] == _floor(D("0.0003") / D("0.0108"))
    # reasoning: 0.0045 x 50 / 300 = 0.00075; per 1k: 0.00075 / 50 x 1,000 = 0.015
    assert m1["reasoning"]["cost"] == D("0.00075")
    assert m1["reasoning"]["cost_per_1k_tokens"] == D("0.015")
    # an output token costs (0.0045 / 300) / (0.0063 / 3,000) = 0.000015 / 0.0000021 = 7.142857x
    assert m1["output_input_price_ratio"] == _floor(D("0.000015") / D("0.0000021"))
    m2 = got["m2"]
    assert (m2["input"]["cost_share"], m2["output"]["cost_share"]) == (D("0.5"), D("0.5"))
    assert m2["output"]["cost_per_1k_tokens"] == D("0.0004")  # 0.0004 / 1,000 x 1,000


def test_per_feature_sums_the_models(make_priced: MakePriced) -> None:
    c = variable_costs(make_priced(_rows()), Project())
    got = {a.key: a.as_dict() for a in asymmetry(c, "feature")}
    assert got["a"]["token_cost"] == D("0.0108") and got["b"]["token_cost"] == D("0.0008")
    assert got["a"]["cache_read"]["cost"] == D("0.0003")


def test_cache_reads_of_a_call_that_also_writes_cache(make_priced: MakePriced) -> None:
    """e4 (m1, feature c): 3,000 in of which 1,000 cache reads and 1,000 cache writes
    (write price 3.75/M): input 1,000 x 3/M + 1,000 x 0.30/M + 1,000 x 3.75/M = 0.00705;
    saving 1,000 x 2.70/M = 0.0027. rho = p_cr / p_in from m1's call e2 (writes none):
    0.0003 / (0.0003 + 0.0027) = 0.1; cache-read cost = 0.0027 x 0.1 / 0.9 = 0.0003."""
    e4 = {"event_id": "e4", "ts": T0 + dt.timedelta(seconds=4), "model": "m1",
          "feature": "c", "trace_id": "t4", "input_tokens": 3000, "cache_read_tokens": 1000,
          "cache_write_tokens": 1000, "output_tokens": 0, "input_cost": "0.00705",
          "output_cost": "0", "cost": "0.00705", "cache_saving": "0.0027"}  # fmt: skip
    c = variable_costs(make_priced([*_rows(), e4]), Project())
    got = {a.key: a.as_dict() for a in asymmetry(c, "feature")}
    assert abs(got["c"]["cache_read"]["cost"] - D("0.0003")) <= D("1e-20")
    assert got["c"]["cache_read"]["cost_per_1k_tokens"] == D("0.0003")
