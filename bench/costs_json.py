"""After the query: `costs --by customer,day --json`'s answer from the engine's rows to its
JSON bytes, the object path (before issue 23) against the columnar one (`CostTable`), on
the same Arrow result in one process. Not a test; figures in docs/benchmarks.md.

    UNITECON_HOME=/tmp/json2m/ledger .venv/bin/python bench/costs_json.py [--by customer,day]

Prints the CPU seconds of the query and of each step of both paths, and checks that both
paths write the same bytes (the CLI's and the read API's).
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal, localcontext
from typing import Any

from unitecon.analysis import Analysis
from unitecon.analysis.answers import CostRow, Costs, Filters
from unitecon.analysis.cost_table import CostTable, JsonStyle, dim_text
from unitecon.cli.output import _json_string, dumps
from unitecon.cli.session import dump
from unitecon.economics.costs import cost_table, parse_dims
from unitecon.server.api import API_JSON


class Clock:
    def __init__(self) -> None:
        self.t = time.process_time()

    def lap(self, what: str) -> None:
        now = time.process_time()
        print(f"  {what:<44} {now - self.t:6.2f} CPU s")
        self.t = now


def old_path(t: Any, by: list[str], f: Filters, c: Clock) -> tuple[bytes, Costs]:
    """The answer as `Analysis.costs` built it before issue 23, and the CLI's text of it."""
    rows = t.to_pylist()
    c.lap("old: Arrow -> Python rows (costs_by)")
    with localcontext() as exact:
        exact.prec = 80
        total = sum((Decimal(r["cost"] or 0) for r in rows), start=Decimal(0))
    got = Costs(
        by=by,
        filters=f,
        total_cost=total,
        total_rows=len(rows),
        rows=[
            CostRow(
                dims={d: dim_text(r[d]) for d in by},
                cost=Decimal(r["cost"] or 0),
                events=int(r["events"]),
                input_tokens=int(r["input_tokens"] or 0),
                output_tokens=int(r["output_tokens"] or 0),
                unpriced_events=int(r["unpriced_events"] or 0),
            )
            for r in rows
        ],
    )
    c.lap("old: CostRow objects (validated)")
    data = dump(got)
    c.lap("old: model_dump + quantization walk")
    text = (dumps(data) + "\n").encode()
    c.lap("old: for_output walk + indented json.dumps")
    return text, got


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--by", default="customer,day")
    args = p.parse_args()
    by, f = parse_dims(args.by), Filters()
    c = Clock()
    with Analysis.open(None) as a:
        c.lap("open the ledger")
        t = cost_table(a.events(f, once=True), by)
        c.lap(f"query ({t.num_rows:,} rows)")
    old, model = old_path(t, by, f, c)
    old_api = model.model_dump_json().encode()
    c.lap("old: API JSON (model_dump_json)")
    new = CostTable.of(by, f, t, 0)
    c.lap("new: CostTable (exact total by Arrow)")
    text = new.json_bytes(dumps(dump(new.header())), JsonStyle(2, _json_string)) + b"\n"
    c.lap("new: CLI JSON bytes, column by column")
    api = new.json_bytes(new.header().model_dump_json(), API_JSON)
    c.lap("new: API JSON bytes, column by column")
    assert text == old, "the CLI's bytes differ"
    assert api == old_api, "the API's bytes differ"
    new.answer()
    c.lap("new: answer() (CostRow objects, unvalidated)")
    print(f"  same bytes: CLI {len(text):,} B, API {len(api):,} B")


if __name__ == "__main__":
    main()
