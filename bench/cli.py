"""Read commands as a user runs them: each one end to end, as a subprocess, on a demo ledger.

The reference, measured in the same run: a bare `python -c "import duckdb; ..."` subprocess
that opens the same ledger read-only and sums the token columns by feature (what the
cheapest possible answer to `costs --by feature` costs a fresh process). Each command's
time is printed with its ratio to that reference, best of `--runs`, and its CPU time.

    .venv/bin/python bench/cli.py [--days 60] [--customers 200] [--runs 3] [--home DIR]

Without `--home` a demo ledger is generated first (`unitecon demo --no-tour`); with it, the
ledger and project file there are used as they are, except that one read runs untimed
first (`WARMUP`): a ledger an older unitecon wrote is migrated by its first read (once,
0.3 s of CPU on the demo ledger), which is not what a read costs, and would otherwise be
counted in the first command's cold time.

The engine keeps the SQL it compiles in `<home>/cache/sql` (`engine/duck.py`), so a
command's first run after a change of code or question compiles and its next runs do not.
Each command is therefore run once *cold* (that folder emptied first: what a new question
costs) and then `--runs` times *warm* (best of); both are printed.

`--baseline SRC` compares with other sources of unitecon in the same run (e.g. main's,
`git archive main src | tar -x -C /tmp/base`, then `--baseline /tmp/base/src`, run with
`PYTHONPATH=SRC` by the same interpreter): per command, the two alternate, `--cold` cold
runs each and `--runs` warm ones, and the least wall and the least CPU of each are printed
(on a shared machine the least CPU is the steadier figure), each followed by the median in
brackets. `--only TEXT` (repeatable) times the commands that start with one of them only.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = [
    ["costs", "--by", "feature"],
    ["costs", "--by", "customer,day", "--json"],
    ["costs", "--by", "feature", "--since", "2030-01-01"],
    ["unit", "--by", "feature", "--loaded"],
    ["tasks", "--top", "5"],
    ["outcomes", "--by", "feature"],
    ["endpoints"],
    ["margins", "--by", "plan"],
    ["budgets"],
    ["anomalies"],
    ["runaway"],
    ["coverage"],
    ["alerts"],
    ["prices", "missing"],
]

#: Run once, untimed, before the measurements (see the docstring).
WARMUP = ["costs", "--by", "feature", "--since", "2030-01-01"]

BARE = (
    "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
    "c.execute('SELECT feature, sum(input_tokens), sum(output_tokens) FROM events "
    "GROUP BY 1').fetchall()"
)


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the child, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode:
        sys.stderr.write(r.stdout[-500:] + r.stderr[-500:])
    return wall, cpu, r.returncode


def best(argv: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, float, int]:
    results = [timed(argv, env, cwd) for _ in range(runs)]
    return min(results)


def compare(
    unitecon: str,
    env: dict[str, str],
    home: Path,
    baseline: Path,
    runs: int,
    colds: int,
    commands: list[list[str]],
) -> None:
    """Each command for the baseline sources and these, alternating (see the docstring)."""
    envs = {"baseline": {**env, "PYTHONPATH": str(baseline)}, "this": env}
    head = "".join(f" {h:>13}" for h in ("cold s", "CPU s", "warm s", "CPU s"))
    print(f"{'command':44} {'':9}{head}  (least [median])")
    for cmd in commands:
        got: dict[str, tuple[list[tuple[float, float, int]], ...]] = {n: ([], []) for n in envs}
        for _ in range(colds):
            for name, e in envs.items():
                shutil.rmtree(home / "cache" / "sql", ignore_errors=True)
                got[name][0].append(timed([unitecon, *cmd], e, home))
        for _ in range(runs):
            for name, e in envs.items():
                got[name][1].append(timed([unitecon, *cmd], e, home))
        for name in envs:
            cold, warm = got[name]
            cells = [_cell([r[i] for r in rs]) for rs in (cold, warm) for i in (0, 1)]
            flag = "" if all(r[2] == 0 for r in cold + warm) else "  (failed)"
            print(f"{' '.join(cmd):44} {name:9} {' '.join(cells)}{flag}", flush=True)


def _cell(xs: list[float]) -> str:
    return f"{min(xs):5.2f} [{statistics.median(xs):5.2f}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--customers", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--home", type=Path)
    ap.add_argument("--baseline", type=Path, help="other sources to compare with (see above)")
    ap.add_argument("--cold", type=int, default=1, help="cold runs a command (--baseline)")
    ap.add_argument("--only", action="append", help="time the commands starting with this")
    args = ap.parse_args(argv)
    only = args.only or [""]
    commands = [c for c in COMMANDS if any(" ".join(c).startswith(o) for o in only)]
    unitecon = str(Path(sys.executable).with_name("unitecon"))
    home = args.home or Path(tempfile.mkdtemp(prefix="unitecon-bench-cli-"))
    env = {**os.environ, "UNITECON_HOME": str(home), "COLUMNS": "160"}
    if args.home is None:
        print(f"demo ledger: {args.days} days, {args.customers} customers in {home}", flush=True)
        demo = [unitecon, "demo", "--no-tour", "--days", str(args.days)]
        subprocess.run([*demo, "--customers", str(args.customers)], env=env, cwd=home,
                       check=True, capture_output=True)  # fmt: skip
    ledger = home / "ledger.duckdb"
    timed([unitecon, *WARMUP], env, home)
    ref, ref_cpu, _ = best([sys.executable, "-c", BARE, str(ledger)], env, home, args.runs)
    print(f"reference (bare DuckDB in a fresh process): {ref:.2f} s wall, {ref_cpu:.2f} s CPU")
    if args.baseline is not None:
        compare(unitecon, env, home, args.baseline, args.runs, args.cold, commands)
        return 0
    head = f"{'command':44} {'cold s':>7} {'CPU s':>7} {'warm s':>7} {'CPU s':>7} {'x ref':>7}"
    print(head)
    worst = cold_worst = 0.0
    for cmd in commands:
        shutil.rmtree(home / "cache" / "sql", ignore_errors=True)
        cold, cold_cpu, _ = timed([unitecon, *cmd], env, home)
        wall, cpu, code = best([unitecon, *cmd], env, home, args.runs)
        worst, cold_worst = max(worst, wall), max(cold_worst, cold)
        flag = "" if code == 0 else f"  (exit {code})"
        line = f"{' '.join(cmd):44} {cold:7.2f} {cold_cpu:7.2f} {wall:7.2f} {cpu:7.2f}"
        print(f"{line} {wall / ref:7.1f}{flag}", flush=True)
    print(f"slowest read command: {worst:.2f} s warm, {cold_worst:.2f} s cold")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
