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
import functools
import importlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from unitecon.analysis import answers as ans
from unitecon.analysis.answers import Filters
from unitecon.errors import LedgerError, UniteconError


class Question(NamedTuple):
    """Where a question is answered: its read API path, its answer type, whether it takes
    the filters, the HTTP method (POST: the one parameter is the body), and for a question
    of a stage after the core, the function that answers it (`module:function`, called
    with the `Analysis` first)."""

    path: str
    answer: Any
    filtered: bool
    method: str = "GET"
    local: str | None = None
    read_back: bool = False
    """Hand a local answer over in the service's JSON form, read back (answers with loose
    dicts or dataclasses, which the command prints: the same text either way)."""


def _read_back(
    path: str, answer: Any, filtered: bool, method: str = "GET", local: str | None = None
) -> Question:
    """A question whose local answer is read back (`Question.read_back`)."""
    return Question(path, answer, filtered, method, local, read_back=True)


#: Question -> where it is answered (the `Analysis` method of that name unless `local`).
QUESTIONS: dict[str, Question] = {
    "filters": Question("/api/v1/filters", ans.FilterChoices, False),
    "costs": Question("/api/v1/costs", ans.Costs, True),
    # the same answer with its rows in columns (`analysis.cost_table`), for `costs --json`
    "cost_table": Question("/api/v1/costs", ans.Costs, True),
    "quarantine": Question("/api/v1/quarantine", ans.Quarantine, False),
    "prices_missing": Question("/api/v1/prices/missing", list[ans.MissingPrice], True),
    "units": Question("/api/v1/metrics/units", ans.UnitMetrics, True),
    "tasks": Question("/api/v1/tasks", ans.Table, True),
    "task": Question("/api/v1/tasks/{task_id}", ans.TaskTree, False),
    "endpoints": Question("/api/v1/endpoints", ans.Table, True),
    "asymmetry": Question("/api/v1/asymmetry", ans.AsymmetryTable, True),
    "margins": Question("/api/v1/margins", ans.MarginTable, True),
    "collapse": Question("/api/v1/collapse", ans.Table, True),
    "budgets": Question("/api/v1/budgets", ans.Budgets, False),
    "anomalies": Question("/api/v1/anomalies", ans.Anomalies, True),
    "runaway": Question("/api/v1/runaway", ans.RunawayTasks, True),
    "coverage": Question("/api/v1/coverage", ans.Coverage, True),
    "alerts": Question("/api/v1/alerts", ans.Alerts, False),
    "summary": Question("/api/v1/summary", ans.Summary, True),
    # the commands that read the ledger beyond the questions above (issue 15)
    "outcomes": _read_back("/api/v1/outcomes", ans.Outcomes, True),
    "collapse_plans": _read_back("/api/v1/collapse/plans", "PlanCollapse", True),
    "lineage": _read_back("/api/v1/lineage", ans.Ingests, False),
    "endpoint_spans": _read_back("/api/v1/endpoints/{endpoint}/spans", ans.EndpointSpans, False),
    "workload": _read_back("/api/v1/workload", "Workload", False),
    "measure": _read_back("/api/v1/measure", "Measured", False),
    "measure_whatif": _read_back("/api/v1/measure/whatif", "Measured", False, "POST"),
    "whatif": _read_back("/api/v1/whatif", ans.WhatIfResult, False, "POST"),
    "reconciliation": _read_back(
        "/api/v1/reconcile",
        "Reconciliation",
        True,
        local="unitecon.reconcile.answers:reconciliation",
    ),
    "focus_export": _read_back(
        "/api/v1/admin/export/focus",
        "FocusExport",
        False,
        "POST",
        local="unitecon.reconcile.export:focus_export",
    ),
    "lake_export": _read_back(
        "/api/v1/admin/export/lake",
        "LakeExport",
        False,
        "POST",
        local="unitecon.reconcile.export:lake_export",
    ),
    "bills": _read_back(
        "/api/v1/bills", "BillTotals", False, local="unitecon.reconcile.answers:bills"
    ),
}


def answer_type(q: Question) -> Any:
    """The answer type of `q` (named lazily where its module is slow to import)."""
    if not isinstance(q.answer, str):
        return q.answer
    if q.answer == "PlanCollapse":
        from unitecon.economics.collapse_plan import PlanCollapse

        return list[PlanCollapse]
    if q.answer == "Workload":
        from unitecon.models.selfhost import Workload

        return Workload
    if q.answer == "Measured":
        from unitecon.models.tco import Measured

        return Measured
    if q.answer in ("FocusExport", "LakeExport"):
        from unitecon.reconcile import export

        return getattr(export, q.answer)
    from unitecon.reconcile import answers as rec

    return rec.Reconciliation if q.answer == "Reconciliation" else list[rec.BillTotal]


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
            q = QUESTIONS[question]
            a = self._local()
            if a is None:
                return self._ask_service(question, f or Filters(), params)
            if q.local is not None:
                module, _, name = q.local.partition(":")
                method = functools.partial(getattr(importlib.import_module(module), name), a)
            else:
                method = getattr(a, question)
            got = method(f or Filters(), **params) if q.filtered else method(**params)
            if not q.read_back:
                return got
            # the answer as the service would hand it over: its JSON, read back
            kind = TypeAdapter(answer_type(q))
            return kind.validate_python(kind.dump_python(got, mode="json"))

    def _ask_service(self, question: str, f: Filters, params: dict[str, Any]) -> Any:
        assert self._remote is not None
        q = QUESTIONS[question]
        path = q.path
        for name in ("task_id", "endpoint"):
            if "{" + name + "}" in path:
                path = path.format(**{name: quote(str(params.pop(name)), safe="")})
        if q.method == "POST":
            (body,) = params.values()
            got = call_service(
                self._remote, "POST", path, json=body.model_dump(mode="json"), timeout=600
            )
        else:
            query = {k: _param(v, k) for k, v in params.items() if v is not None}
            if q.filtered:
                query.update({k: _param(v) for k, v in f.model_dump().items() if v is not None})
            got = call_service(self._remote, "GET", path, params=query, timeout=600)
        return TypeAdapter(answer_type(q)).validate_python(got)

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


def refuse_beside_service(ledger: Path, command: str, why: str) -> None:
    """Raise the one-line message of a command that must wait while `unitecon serve` holds
    the ledger (`docs/architecture.md` says why each must), if a service does."""
    from unitecon.engine import LedgerBusy

    svc = running_service(ledger)
    if svc is not None:
        raise LedgerBusy(
            f"`unitecon serve` (process {svc['pid']}, {svc['url']}) holds the ledger {ledger}; "
            f"`unitecon {command}` {why}: stop the service, run it, then start the service again."
        )


def write_through_service(ledger: Path, path: str, body: dict[str, Any], what: str) -> Any:
    """A write of the ledger (`unitecon forget`, `bills import`) while `unitecon serve`
    holds it: the service's writer does it (admin key of the service file), after what it
    was handed before; its JSON answer."""
    from unitecon.engine import LedgerBusy
    from unitecon.terminal import console

    svc = running_service(ledger)
    if svc is None:
        raise LedgerBusy(
            f"The ledger {ledger} is in use by another program; wait for it to finish."
        )
    shown = console.is_terminal
    with (
        console.status(f"{what} through `unitecon serve`", spinner="dots") if shown else _nothing()
    ):
        return call_service(svc, "POST", path, json=body, timeout=None)


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
    if isinstance(answer, BaseModel):
        return answer.model_dump(mode="json")
    return TypeAdapter(type(answer)).dump_python(answer, mode="json")
