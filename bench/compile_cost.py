"""What a read command spends compiling Ibis expressions to SQL when nothing is kept (cold).

Runs each command of `bench/cli.py` in this process, one at a time in a fresh interpreter
(a subprocess of this script), with the home's compiled-SQL cache emptied first, and
prints the CPU seconds its Ibis compiles took (Ibis' rewrites and sqlglot), how many
statements it compiled and how many operation nodes they held together (a node read by
two statements counts twice: what the compiler walks).

    .venv/bin/python bench/compile_cost.py --home DEMO_HOME [--runs 3]

Run with `PYTHONPATH=OTHER/src` to measure other sources of unitecon the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from cli import COMMANDS

CHILD = """
import json, sys, time
from ibis.backends.duckdb import Backend as Ibis

spent = [0.0, 0, 0]
ibis_compile = Ibis.compile


def compile_(self, expr, /, **kw):
    t0 = time.process_time()
    try:
        return ibis_compile(self, expr, **kw)
    finally:
        spent[0] += time.process_time() - t0
        spent[1] += 1
        spent[2] += sum(1 for _ in expr.op().find(lambda n: True))


Ibis.compile = compile_
sys.argv = ["unitecon", *sys.argv[1:]]
from unitecon.cli.main import main

try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\n" + json.dumps(spent) + "\\n")
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    env = {**os.environ, "UNITECON_HOME": str(args.home), "COLUMNS": "160"}
    print(f"{'command':44} {'compile CPU s':>13} {'statements':>10} {'nodes':>7}")
    for cmd in COMMANDS:
        best: list[float] | None = None
        for _ in range(args.runs):
            shutil.rmtree(args.home / "cache" / "sql", ignore_errors=True)
            r = subprocess.run(
                [sys.executable, "-c", CHILD, *cmd],
                env=env, cwd=args.home, capture_output=True, text=True,
            )  # fmt: skip
            got = json.loads(r.stderr.strip().splitlines()[-1])
            best = got if best is None or got[0] < best[0] else best
        assert best is not None
        print(f"{' '.join(cmd):44} {best[0]:13.3f} {best[1]:10d} {best[2]:7d}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
