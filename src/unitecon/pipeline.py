"""The data flow, end to end: ingest -> ledger -> price -> attribute -> economics -> report.

`run_demo` reads like the architecture diagram, one line a stage. The CLI and the server
call these functions; they compute no metric themselves.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from unitecon.errors import UniteconError
from unitecon.ledger.store import IngestResult, Ledger, home, sha256_file


class FileHashes:
    """The sha256 of each file (its lineage's `sha256`), computed in a background thread
    from the moment this is made, file after file, so that hashing (0.16 s per 140 MB)
    runs while the command opens the ledger and imports its readers, on the core that
    work leaves idle, or while DuckDB reads the file before (docs/benchmarks.md, "Session
    14"). A daemon thread: it only reads, and never holds up the end of the process."""

    def __init__(self, paths: Iterable[Path]) -> None:
        import threading
        from concurrent.futures import Future

        self._hashes: dict[Path, Future[str]] = {p: Future() for p in paths}
        threading.Thread(target=self._run, name="unitecon-sha256", daemon=True).start()

    def _run(self) -> None:
        for path, digest in self._hashes.items():
            if not digest.set_running_or_notify_cancel():
                continue
            try:
                digest.set_result(sha256_file(path))
            except BaseException as e:  # raised where it is asked for (`of`)
                digest.set_exception(e)

    def of(self, path: Path) -> str:
        """The file's sha256 (hashed here if it was not given when this was made)."""
        digest = self._hashes.get(path)
        return sha256_file(path) if digest is None else digest.result()

    def cancel(self) -> None:
        """Hash no more files than the one being hashed (the command stops early)."""
        for digest in self._hashes.values():
            digest.cancel()


def ingest_paths(
    ledger: Ledger,
    paths: Iterable[Path],
    *,
    fmt: str | None = None,
    quiet: bool = False,
    hashes: FileHashes | None = None,
) -> list[IngestResult]:
    """Read each file with its reader and write it to the ledger, showing progress.
    `hashes`: the files' sha256 being computed since before the ledger was opened (default:
    from now on, each file's beside the ingest of those before it)."""
    from unitecon.ingest import detect_format, read_path
    from unitecon.terminal import progress

    results = []
    files = sorted({p for p in paths})
    if hashes is None:
        hashes = FileHashes(files)
    with progress(quiet) as bar:
        overall = bar.add_task("ingest", total=len(files), unit="files") if len(files) > 1 else None
        for path in files:
            try:
                kind = fmt or detect_format(path)
            except UniteconError as e:
                results.append(_unreadable(ledger, path, None, e))
                continue
            task = bar.add_task(f"{path.name} ({kind})", total=None, unit="rows")

            def tick(res: IngestResult, task: Any = task) -> None:
                bar.update(task, completed=res.rows_read)

            try:
                res = ledger.ingest(
                    str(path),
                    read_path(path, kind),
                    sha256=hashes.of(path),
                    fmt=kind,
                    on_chunk=tick,
                )
            except Exception as e:  # one bad file never stops the others
                res = _unreadable(ledger, path, kind, e)
            bar.update(task, total=res.rows_read, completed=res.rows_read)
            if overall is not None:
                bar.advance(overall)
            results.append(res)
    return results


def _unreadable(ledger: Ledger, path: Path, kind: str | None, e: Exception) -> IngestResult:
    """Record a file that could not be read at all (or whose reader failed) as one
    quarantine entry naming it, so the files after it are still ingested; an error of the
    disk or the ledger itself (`operational.is_fatal`) stops the command instead."""
    from unitecon.ledger.operational import is_fatal
    from unitecon.ledger.records import Chunk, Rejected
    from unitecon.ledger.schema import EVENT_SCHEMA

    if is_fatal(e):
        raise e
    if isinstance(e, UniteconError):
        reason = str(e)
    else:
        reason = (
            f"could not be read ({type(e).__name__}: {str(e)[:300]}); the records before the "
            "failure are kept. Please report this with the file's format"
        )
    rejected = Rejected(str(path), reason, "")
    return ledger.ingest(str(path), [Chunk(EVENT_SCHEMA.empty_table(), [rejected])], fmt=kind)


DEMO_MARKER = "# The demo's project file."


def demo_ledger(home_dir: Path, *, days: int = 60, customers: int = 200, seed: int = 7) -> Path:
    """A demo data directory without the report or tour: demo traffic generated under
    `home_dir/demo`, ingested into `home_dir/ledger.duckdb` through the real readers, and the
    demo's project file. Returns the ledger's path (tests and benchmarks start here)."""
    from unitecon.demo import generate
    from unitecon.ingest import read_path

    files = generate(home_dir / "demo", seed=seed, days=days, customers=customers)
    path = home_dir / "ledger.duckdb"
    with Ledger(path) as ledger:
        for f in files.all:
            ledger.ingest(str(f), read_path(f, None))
    write_demo_project(home_dir)
    return path


def write_demo_project(home_dir: Path) -> Path:
    """Copy the demo project file to `home_dir/unitecon.yaml` (never over a user's own)."""
    from importlib.resources import files

    target = home_dir / "unitecon.yaml"
    if target.exists() and not target.read_text(encoding="utf-8").startswith(DEMO_MARKER):
        return target  # the user's own project file stays
    text = files("unitecon.demo").joinpath("unitecon.yaml").read_text(encoding="utf-8")
    text = text.replace("customers_csv: customers.csv", "customers_csv: demo/customers.csv")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


#: The demo TCO's made-up volume and unit cost, and what replaces them in the data directory's
#: copy: both measured on the demo ledger's support traffic (`models.tco`'s `from_ledger`).
_TCO_ANCHORS = {
    "  tasks_per_month: 2500000     # tickets and chat turns in month 1\n": (
        "  from_ledger: {feature: support-agent}   # measured: the ledger's tasks a month\n"
    ),
    "      - {name: frontier API, usd_per_task: "
    "{dist: triangular, low: 0.016, mode: 0.021, high: 0.03}}\n": (
        "      - {name: today, from_ledger: {feature: support-agent}}   # measured $ per task\n"
    ),
    "      - {name: frontier API with levers, usd_per_task: 0.0185}\n": (
        "      - {name: with levers, from_ledger: {feature: support-agent, whatif: whatif.yaml}}"
        "   # measured after replaying whatif.yaml\n"
    ),
}


def write_demo_scenarios(home_dir: Path) -> dict[str, Path]:
    """The demo's what-if and TCO files, editable, in `home_dir/scenarios/` (written once: a
    file already there is the user's and stays). The TCO is anchored to the demo ledger:
    its volume and the status quo's cost per task are measured there (`from_ledger`)."""
    from importlib.resources import files

    folder = home_dir / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in ("whatif.yaml", "whatif-growth.yaml", "tco.yaml"):
        text = files("unitecon.demo").joinpath("scenarios", name).read_text(encoding="utf-8")
        if name == "tco.yaml":
            for old, new in _TCO_ANCHORS.items():
                if old not in text:
                    raise AssertionError(f"demo tco.yaml: anchor line gone: {old.strip()}")
                text = text.replace(old, new)
            text = text.replace(
                "# Demo TCO:", "# Demo TCO (volume and today's cost measured on the ledger):", 1
            )
        target = folder / name
        if not target.exists():  # once: edits stay (delete the file for the demo's again)
            target.write_text(text, encoding="utf-8")
        out[name] = target
    return out


def import_demo_bill(ledger: Ledger, project: Any, folder: Path) -> list[Path]:
    """Write the demo's provider bills (`demo.bill`: what the ledger tracked, with untracked
    usage, a negotiated discount and an unknown model planted) and import them."""
    from dataclasses import asdict

    from unitecon.analysis import Analysis
    from unitecon.billing import import_lines, read_bill
    from unitecon.demo.bill import write_bill
    from unitecon.reconcile import ledger_days

    with Analysis(ledger, project) as analysis:
        days = ledger_days(analysis)
    files = write_bill(folder, [asdict(d) for d in days])
    for path in files:
        fmt, lines = read_bill(path)
        import_lines(ledger.con, str(path), fmt, lines, sha256_file(path))
    return files


def run_demo(
    *, seed: int = 7, days: int = 60, customers: int = 200, quiet: bool = False
) -> dict[str, Any]:
    """Generate demo traffic, ingest it through the real readers, price it, and report."""
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.demo import generate
    from unitecon.economics import levers
    from unitecon.report.html import local, write_report
    from unitecon.terminal import console

    started = time.perf_counter()
    out = home()
    files = generate(out / "demo", seed=seed, days=days, customers=customers)  # sources
    project_file = write_demo_project(out)
    project = config.load(project_file)
    scenarios = write_demo_scenarios(out)  # editable what-if and TCO files
    with Ledger(out / "ledger.duckdb") as ledger:
        results = ingest_paths(ledger, files.all, quiet=quiet)  # ingest -> ledger
        import_demo_bill(ledger, project, out / "demo" / "bills")  # the providers' bill
        with Analysis(ledger, project, project_file) as analysis:  # the analysis core
            found = levers.summary(levers.replay_on(analysis, scenarios["whatif.yaml"]))
            report = write_report(  # report: the analysis core's answers, laid out
                local(analysis), Filters(), out / "report.html", source=str(ledger.path),
                analysis=analysis, levers=found,
            )  # fmt: skip
    summary = {
        "ledger": str(out / "ledger.duckdb"),
        "report": str(report.path),
        "inputs": str(out / "demo"),
        "scenarios": {k: str(v) for k, v in scenarios.items()},
        "workbook": str(out / "tco.xlsx"),
        "window_start": files.summary.window_start,
        "window_end": files.summary.window_end,  # exclusive
        "events": sum(r.accepted for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "quarantined": sum(r.quarantined for r in results),
        "total_cost": report.total_cost,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if not quiet:
        report.print_summary(console)
        console.print(
            f"\n[bold green]Demo ready[/] in {summary['seconds']} s: "
            f"{summary['events']:,} events in {summary['ledger']}\n"
            f"Report: [bold]{summary['report']}[/]"
        )
    return summary
