"""Each read command's peak memory and time on a large ledger (issue 23: under 2 GB at 10M).

Runs every command of `bench/cli.py` (plus `asymmetry`) once, end to end, as a subprocess
on the ledger of `--home`, and prints its wall time, CPU time and peak resident memory
(the child's own `ru_maxrss`, from `os.wait4`), and the largest peak.

    .venv/bin/python bench/peak.py --home COPY_OF_10M_HOME

`bench/scale.py --events 10000000 --no-spark --keep` leaves a 10M-event ledger; commands
write their SQL cache into the home, so run on a copy. Not a test: minutes on 10M events.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from cli import COMMANDS
from ingest import measure

MORE = [["asymmetry", "--by", "model"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--home", type=Path, required=True)
    args = ap.parse_args(argv)
    unitecon = str(Path(sys.executable).with_name("unitecon"))
    env = {**os.environ, "UNITECON_HOME": str(args.home), "COLUMNS": "160"}
    print(f"{'command':44} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}")
    top = 0.0
    for cmd in [*COMMANDS, *MORE]:
        wall, cpu, peak, code, _, errors = measure([unitecon, *cmd], env)
        top = max(top, peak)
        flag = "" if code == 0 else f"  (exit {code}: {errors.strip()[-200:]})"
        print(f"{' '.join(cmd):44} {wall:7.2f} {cpu:7.2f} {peak:8.0f}{flag}", flush=True)
    print(f"largest peak: {top:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
