"""Where a command's question goes: the analysis core on the ledger, or the running service.

Every read command asks one question of the analysis core (`unitecon.analysis`) and prints
its answer (or, with `--json`, the answer itself: the object the read API returns). DuckDB
lets one process write a ledger file and no other process open it meanwhile, so while
`unitecon serve` runs on the ledger the command asks the service instead, through the same
read API, with the key the service left for this user beside the ledger (`service_file`):
the answer is the same object either way.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from unitecon.analysis import answers as ans
from unitecon.analysis.answers import Filters
from unitecon.errors import LedgerError, UniteconError

#: Question -> (read API path, answer type, whether it takes the filters).
QUESTIONS: dict[str, tuple[str, Any, bool]] = {
    "filters": ("/api/v1/filters", ans.FilterChoices, False),
    "costs": ("/api/v1/costs", ans.Costs, True),
    "quarantine": ("/api/v1/quarantine", ans.Quarantine, False),
    "prices_missing": ("/api/v1/prices/missing", list[ans.MissingPrice], True),
    "units": ("/api/v1/metrics/units", ans.UnitMetrics, True),
    "tasks": ("/api/v1/tasks", ans.Table, True),
    "task": ("/api/v1/tasks/{task_id}", ans.TaskTree, False),
    "endpoints": ("/api/v1/endpoints", ans.Table, True),
    "asymmetry": ("/api/v1/asymmetry", ans.AsymmetryTable, True),
    "margins": ("/api/v1/margins", ans.MarginTable, True),
    "collapse": ("/api/v1/collapse", ans.Table, True),
    "budgets": ("/api/v1/budgets", ans.Budgets, False),
    "anomalies": ("/api/v1/anomalies", ans.Anomalies, True),
    "runaway": ("/api/v1/runaway", ans.RunawayTasks, True),
    "coverage": ("/api/v1/coverage", ans.Coverage, True),
    "alerts": ("/api/v1/alerts", ans.Alerts, False),
    "summary": ("/api/v1/summary", ans.Summary, True),
}


def service_file(ledger: Path) -> Path:
    """Where a running `unitecon serve` says where it listens, beside its ledger."""
    return ledger.with_name(ledger.name + ".service.json")


def running_service(ledger: Path) -> dict[str, Any] | None:
    """The service file of a live service on `ledger` (None: no service, or a stale file)."""
    path = service_file(ledger)
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


class Session:
    """Asks questions: of a local `Analysis` (opened on first use) or of the service."""

    def __init__(self, config: Path | None, quiet: bool = False) -> None:
        from unitecon.ledger.store import DB_NAME, home

        self.config = config
        self.quiet = quiet
        self.ledger = home() / DB_NAME
        self._analysis: Any = None
        self._remote: dict[str, Any] | None = None
        self._stack: Any = None

    def _local(self) -> Any:
        if self._analysis is None and self._remote is None:
            from contextlib import ExitStack

            from unitecon.analysis import Analysis
            from unitecon.engine import LedgerBusy

            stack = ExitStack()
            try:
                self._analysis = stack.enter_context(Analysis.open(self.config))
            except LedgerBusy:
                stack.close()
                self._remote = running_service(self.ledger)
                if self._remote is None:
                    raise
            else:
                self._stack = stack
        return self._analysis

    @property
    def project(self) -> Any:
        from unitecon import config as cfg

        a = self._local()
        return a.project if a is not None else cfg.load(self.config)

    def ask(self, question: str, f: Filters | None = None, **params: Any) -> Any:
        """The answer to `question` (a key of `QUESTIONS`) under the filters `f`; a spinner
        on a terminal while it is computed."""
        from unitecon.terminal import working

        with working(f"{question}…", quiet=self.quiet):
            a = self._local()
            if a is not None:
                method = getattr(a, question)
                if QUESTIONS[question][2]:
                    return method(f or Filters(), **params)
                return method(**params)
            return self._ask_service(question, f or Filters(), params)

    def _ask_service(self, question: str, f: Filters, params: dict[str, Any]) -> Any:

        assert self._remote is not None
        path, kind, filtered = QUESTIONS[question]
        if "{task_id}" in path:
            path = path.format(task_id=params.pop("task_id"))
        query = {k: _param(v, k) for k, v in params.items() if v is not None}
        if filtered:
            query.update({k: _param(v) for k, v in f.model_dump().items() if v is not None})
        got = call_service(self._remote, "GET", path, params=query, timeout=600)
        return TypeAdapter(kind).validate_python(got)

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()


def _param(v: Any, name: str = "") -> Any:
    if isinstance(v, dt.date) and name == "month":
        return v.strftime("%Y-%m")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


@contextmanager
def session(config: Path | None) -> Iterator[Session]:
    """A `Session` for the duration of a command."""
    s = Session(config)
    try:
        yield s
    finally:
        s.close()


def ingest_through_service(
    ledger: Path, paths: list[Path], fmt: str | None, *, quiet: bool = False
) -> list[Any]:
    """`unitecon ingest` while `unitecon serve` holds the ledger: the service's writer
    ingests the files (they are on its machine) with the ledger's own file path."""

    from unitecon.engine import LedgerBusy
    from unitecon.ledger.store import IngestResult
    from unitecon.terminal import console

    svc = running_service(ledger)
    if svc is None:
        raise LedgerBusy(
            f"The ledger {ledger} is in use by another program; wait for it to finish."
        )
    body = {"paths": [str(p.resolve()) for p in paths], "format": fmt}
    with (
        console.status(f"ingesting through `unitecon serve` ({svc['url']})", spinner="dots")
        if (not quiet)
        else _nothing()
    ):
        got = call_service(svc, "POST", "/api/v1/admin/ingest", json=body, timeout=None)
    out = []
    for d in got:
        res = IngestResult(d["ingest_id"], d["source"], d["sha256"], d["format"])
        res.rows_read, res.accepted = d["rows_read"], d["accepted"]
        res.duplicates, res.quarantined = d["duplicates"], d["quarantined"]
        out.append(res)
    return out


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def call_service(svc: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    """The JSON answer of the running service `svc` (its service file) to one request,
    with the key it left for this user; its error message, or a hint, when it fails."""
    import httpx

    headers = {"Authorization": f"Bearer {svc['key']}", "Cache-Control": "no-cache"}
    try:
        r = httpx.request(method, svc["url"].rstrip("/") + path, headers=headers, **kw)
    except httpx.HTTPError as e:
        raise LedgerError(
            f"The ledger is held by `unitecon serve` at {svc['url']}, which did not answer "
            f"({type(e).__name__}). Check that it runs, or stop it."
        ) from None
    if r.status_code != 200:
        raise UniteconError(_message(r))
    return r.json()


def _message(r: Any) -> str:
    try:
        return str(r.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return str(r.text[:200])


def dump(answer: Any) -> Any:
    """An answer as the JSON the read API returns for it."""
    if isinstance(answer, list):
        return [dump(x) for x in answer]
    return answer.model_dump(mode="json")


@contextmanager
def costed_ledger(
    config: Path | None, since: dt.date | None = None, until: dt.date | None = None
) -> Iterator[tuple[Any, Any]]:
    """(Costed, Project) over the ledger's events in [since, until) (UTC days; None: all),
    from the analysis core, for the commands whose question the service does not offer."""
    from unitecon.analysis import Analysis

    with Analysis.open(config) as a:
        yield a.costed(Filters(since=since, until=until)), a.project
