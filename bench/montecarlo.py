"""Monte Carlo of the demo TCO: 10,000 draws against one exact (Decimal) evaluation.

Prints the time of the exact model run (`tco.run`, the reference measured in the same run),
of `uncertainty.simulate` with N draws of every distribution input, and their ratio.
Target (issue 7): 10,000 draws finish within seconds.

    .venv/bin/python bench/montecarlo.py [--draws 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from unitecon.models import scenario as sc
from unitecon.models import tco as t
from unitecon.models import uncertainty as u


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    path = Path(str(files("unitecon.demo").joinpath("scenarios", "tco.yaml")))
    m = t.resolve_perf(sc.load(t.TcoModel, path))
    ins = t.inputs(m)

    def fn(v: Any) -> Any:
        return t.draw_outputs(m, v)

    exact = best_of(args.runs, lambda: t.run(m))
    mc = best_of(args.runs, lambda: u.simulate(ins, fn, draws=args.draws, seed=0))
    tor = best_of(args.runs, lambda: u.tornado(ins, fn, "incremental_npv.hybrid"))
    print(f"exact Decimal model (1 evaluation)   {exact:8.3f} s")
    print(f"Monte Carlo, {args.draws:,} draws       {mc:8.3f} s  ({args.draws / mc:,.0f} draws/s)")
    print(f"tornado                               {tor:8.3f} s")
    print(f"ratio: {args.draws:,} draws cost {mc / exact:.1f}x one exact evaluation")
    ok = mc < 10
    print("target met (< 10 s)" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
