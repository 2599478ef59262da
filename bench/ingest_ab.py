"""`unitecon ingest FILE.parquet` of two source trees beside the bare DuckDB read, alternately.

Each round runs, as fresh processes into fresh directories: the bare read (`python -c` that
opens a new DuckDB file and runs `CREATE TABLE t AS SELECT * FROM read_parquet(f)`), then
`unitecon ingest f --json` with `--baseline`'s `src` first on `PYTHONPATH`, then with
`--branch`'s. Printed: each run's wall and CPU time (user + system of the child, `wait4`)
and the load average, then the ratios of the best runs to the best bare read. On a shared
machine single runs swing by 25%: alternating in one series is what makes the two trees
comparable (docs/benchmarks.md, "Session 14").

    .venv/bin/python bench/ingest_ab.py FILE.parquet --baseline /work/main/src \
        --branch src [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one child process that must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[:3]} failed")
    return time.perf_counter() - t0, ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file", type=Path)
    ap.add_argument("--baseline", required=True, help="the baseline's src directory")
    ap.add_argument("--branch", required=True, help="the measured tree's src directory")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    path = str(args.file.resolve())
    unitecon = str(Path(sys.executable).with_name("unitecon"))
    work = Path(tempfile.mkdtemp(prefix="unitecon-bench-ab-"))
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "baseline": [], "branch": []}
    try:
        for i in range(args.rounds):
            for side, got in runs.items():
                home = work / side
                shutil.rmtree(home, ignore_errors=True)
                home.mkdir()
                env = {**os.environ, "UNITECON_HOME": str(home)}
                if side == "bare":
                    code = (
                        f"import duckdb; c = duckdb.connect({str(home / 'b.duckdb')!r}); "
                        f'c.execute("CREATE TABLE t AS SELECT * FROM read_parquet({path!r})")'
                    )
                    got.append(child([sys.executable, "-c", code], env))
                else:
                    env["PYTHONPATH"] = str(Path(getattr(args, side)).resolve())
                    got.append(child([unitecon, "ingest", path, "--json"], env))
                wall, cpu = got[-1]
                load = os.getloadavg()[0]
                print(
                    f"{i} {side:8} {wall:6.2f} s wall {cpu:6.2f} s CPU  load {load:.1f}", flush=True
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bare_wall = min(w for w, _ in runs["bare"])
    bare_cpu = min(c for _, c in runs["bare"])
    print(f"bare: best {bare_wall:.2f} s wall / {bare_cpu:.2f} s CPU")
    for side in ("baseline", "branch"):
        wall = min(w for w, _ in runs[side])
        cpu = min(c for _, c in runs[side])
        print(
            f"{side}: best {wall:.2f} s wall / {cpu:.2f} s CPU, "
            f"{wall / bare_wall:.2f}x wall / {cpu / bare_cpu:.2f}x CPU"
        )


if __name__ == "__main__":
    main()
