"""The read API under `/api/v1/`: a thin translator from query parameters to library calls.

Every endpoint calls the function the CLI calls (pricing, economics, attribution, models) on
its own read cursor of the ledger; none computes a metric itself. Filters (`since`, `until`,
`feature`, `customer`) narrow the priced events before the function sees them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar, cast

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from pydantic_core import to_json

from unitecon import engine
from unitecon.analysis.core import Analysis, check_window
from unitecon.analysis.cost_table import JsonStyle
from unitecon.errors import LookupFailed, UniteconError
from unitecon.ledger import dimensions
from unitecon.reconcile.export import (
    FocusExport,
    FocusRequest,
    LakeExport,
    LakeRequest,
    focus_export,
    lake_export,
)
from unitecon.server.app import LedgerView
from unitecon.server.auth import KeyInfo, Kind, require
from unitecon.server.cache import Answer, Obsolete, pack, unpack
from unitecon.server.errors import COMMON_RESPONSES, InvalidBody, NotFound
from unitecon.server.health import ServiceHealth, service_health
from unitecon.server.models import (
    Costs,
    FilterChoices,
    Filters,
    KeyListing,
    MissingPrice,
    Quarantine,
    SelfHostCatalog,
    SelfHostComparison,
    SelfHostOption,
    SelfHostRequest,
)

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES)
ReadKey = Annotated[KeyInfo, Depends(require(Kind.READ))]
AdminKey = Annotated[KeyInfo, Depends(require(Kind.ADMIN))]


def filters(
    since: Annotated[dt.date | None, Query(description="From this UTC day (inclusive).")] = None,
    until: Annotated[dt.date | None, Query(description="Up to this UTC day (exclusive).")] = None,
    feature: Annotated[str | None, Query(description="Only this product feature.")] = None,
    customer: Annotated[str | None, Query(description="Only this customer id.")] = None,
) -> Filters:
    f = Filters(since=since, until=until, feature=feature or None, customer=customer or None)
    try:
        check_window(f)
    except UniteconError as e:
        raise InvalidBody(str(e)) from None
    return f


FilterParams = Annotated[Filters, Depends(filters)]


def month_of(text: str | None) -> dt.date | None:
    """A `YYYY-MM` query parameter as the month's first day."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text + "-01")
    except ValueError:
        raise InvalidBody(f"`month` {text!r}: expected YYYY-MM, e.g. 2026-10.") from None


#: Longest a read waits for the ledger to hold the batches acknowledged before it [s]. The
#: committer runs at a low priority (`writer.py`), so on a machine whose cores are all busy
#: a commit can take tens of seconds; a read asked after an acknowledged write waits for it
#: rather than answer without it (10 s was seen to answer stale with both cores busy).
CATCH_UP_S = 60.0


def view(request: Request) -> LedgerView:
    """This worker thread's read cursor of the ledger, once the ledger holds every batch
    acknowledged so far (the writer answers ingest before its commit: `writer.py`)."""
    request.app.state.writer.caught_up(CATCH_UP_S)
    v: LedgerView = request.app.state.reads.view()
    return v


T = TypeVar("T")


def project_fingerprint(app: Any) -> str:
    """The project configuration (and where its CSV paths are relative to), as a digest."""
    text = app.state.project.model_dump_json() + "\0" + str(app.state.config_path)
    return hashlib.sha256(text.encode()).hexdigest()


def cached(
    request: Request, response: Response, name: str, compute: Callable[[], T], **query: Any
) -> T:
    """The latest answer of endpoint `name` for `query` (its parsed parameters), computed by
    `compute()` only if there has never been one; refreshed in the background after commits.

    The key is the project fingerprint, `name` and `query`; the answer's ledger generation
    and age go in the response headers (`cache.py` has the freshness rule). A request with
    `Cache-Control: no-cache` gets an answer that includes every commit so far.
    """
    app = request.app
    fp = project_fingerprint(app)
    key = (fp, name, tuple(sorted((k, _key_part(v)) for k, v in query.items())))

    def checked() -> Any:
        if project_fingerprint(app) != fp:
            raise Obsolete(name)
        value = compute()
        if project_fingerprint(app) != fp:  # changed while computing: not this key's answer
            raise Obsolete(name)
        return pack(value)  # kept packed (`cache.pack`): the cache's bytes bound it

    cc = request.headers.get("cache-control", "").lower()
    fresh = "no-cache" in cc or "max-age=0" in cc
    try:
        answer: Answer[Any] = app.state.read_cache.get(key, checked, fresh=fresh)
    except Obsolete:  # the configuration changed meanwhile: answer for the new one
        return cached(request, response, name, compute, **query)
    h = response.headers
    h["X-Unitecon-Generation"] = str(answer.generation)
    h["X-Unitecon-Ledger-Generation"] = str(app.state.writer.generation)
    h["X-Unitecon-As-Of"] = dt.datetime.fromtimestamp(answer.as_of, dt.UTC).isoformat()
    h["X-Unitecon-Fresh"] = "true" if answer.fresh else "false"
    h["Age"] = str(int(answer.age_s()))
    return cast(T, unpack(answer.value))


def _key_part(v: Any) -> Any:
    return v.model_dump_json() if isinstance(v, BaseModel) else v


def ask(request: Request, question: Callable[[Analysis], T]) -> T:
    """The answer of the analysis core to `question`, on this thread's read cursor (once the
    ledger holds every acknowledged batch). Whatever the core materialized for it is
    released before this returns; a user's mistake is a 422, an unknown task a 404. The
    `Analysis` shares plain results of the window with the other requests of the same
    ledger generation and project (`shared.SharedWork`)."""
    app = request.app
    cursor = view(request)  # the ledger holds every acknowledged batch from here on
    # what the other reads of this ledger state and configuration computed for the window
    shared = app.state.shared.scoped(project_fingerprint(app), app.state.writer.generation)
    with (
        app.state.reads.reading(),
        Analysis(cursor, app.state.project, app.state.config_path, shared) as a,
    ):
        try:
            return question(a)
        except LookupFailed as e:
            if e.args and str(e).startswith("Unknown task"):
                raise NotFound(f"{e} List tasks with GET /api/v1/tasks.") from None
            raise InvalidBody(str(e)) from None
        except UniteconError as e:
            raise InvalidBody(str(e)) from None
        except engine.engine_errors() as e:
            raise engine.friendly(e) from None


@router.get("/health", response_model=ServiceHealth, tags=["service"], responses={})
def health(request: Request, response: Response) -> ServiceHealth:
    """Liveness, the writer's counters, disk space and the ledger's state (`health.py`);
    503 when ingest is failing. Needs no key and shows no data."""
    return service_health(request, response)


@router.get("/whoami", response_model=KeyListing, tags=["service"])
def whoami(key: ReadKey) -> KeyListing:
    """The read (or admin) key this request carries: id, kind, name (never the secret)."""
    return KeyListing(
        key_id=key.key_id,
        kind=key.kind.value,
        name=key.name,
        created_at=key.created_at,
        revoked_at=None,
    )


@router.get("/filters", response_model=FilterChoices, tags=["read"])
def filter_choices(request: Request, response: Response, key: ReadKey) -> FilterChoices:
    """The period the ledger covers and the features and customers it holds."""

    return cached(request, response, "filters", lambda: ask(request, lambda a: a.filters()))


@router.get("/costs", response_model=Costs, tags=["read"])
def costs(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        str,
        Query(
            description="Comma-separated dimensions: " + dimensions.help_text(dimensions.COSTS),
            json_schema_extra={"examples": ["model", "day,model", "customer"]},
        ),
    ] = "model",
    limit: Annotated[int, Query(ge=0, le=100_000, description="Rows (0 = all).")] = 0,
) -> Response:
    """Cost by any combination of dimensions and periods, priced at query time."""

    def answer() -> bytes:
        got = ask(request, lambda a: a.cost_table(f, by, limit))
        # the JSON FastAPI writes for the `Costs` model, its rows written by Arrow
        return got.json_bytes(got.header().model_dump_json(), API_JSON)

    body = cached(request, response, "costs", answer, f=f, by=by, limit=limit)
    return json_response(body, response)


def _json_string(s: str) -> str:
    return to_json(s).decode()


#: JSON as FastAPI writes a model: compact, strings escaped by Pydantic.
API_JSON = JsonStyle(None, _json_string)


def json_response(body: bytes, response: Response) -> Response:
    """`body` (JSON text) as the response FastAPI makes of a model, with the headers the
    endpoint set on `response` (an endpoint that returns a `Response` answers with it)."""
    out = Response(content=body, media_type="application/json")
    out.headers.raw.extend(response.headers.raw)
    return out


@router.get("/quarantine", response_model=Quarantine, tags=["read"])
def quarantine(
    request: Request,
    key: ReadKey,
    source: Annotated[str | None, Query(description="Only this source.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Quarantine:
    """Records that could not become events, with where they came from and why."""
    return ask(request, lambda a: a.quarantine(source, limit))


@router.get("/prices/missing", response_model=list[MissingPrice], tags=["read"])
def prices_missing(
    request: Request, response: Response, key: ReadKey, f: FilterParams
) -> list[MissingPrice]:
    """Models in the ledger with no price, their volume, and the override to add."""

    def answer() -> list[MissingPrice]:
        return ask(request, lambda a: a.prices_missing(f))

    return cached(request, response, "prices_missing", answer, f=f)


@router.get("/selfhost/catalog", response_model=SelfHostCatalog, tags=["self-host"])
def selfhost_catalog(key: ReadKey) -> SelfHostCatalog:
    """The open-weights models and GPUs the self-host calculator knows."""
    from unitecon.models.perf import catalog

    return SelfHostCatalog(
        models=sorted(a.name for a in catalog.architectures().values()),
        gpus={k: g.name for k, g in sorted(catalog.gpus().items())},
    )


@router.post("/selfhost/compare", response_model=SelfHostComparison, tags=["self-host"])
def selfhost_compare(body: SelfHostRequest, key: ReadKey) -> SelfHostComparison:
    """Self-hosted GPU fleets for a workload's peak, cheapest first, against an API model."""
    from unitecon.models import selfhost
    from unitecon.models.perf import catalog

    try:
        workload = selfhost.Workload(
            body.input_len,
            body.output_len,
            body.cached_share,
            body.peak_tokens_per_s,
            body.peak_to_average,
        )
        prices = {catalog.find_gpu(g).key: p for g, p in body.gpu_prices.items()}
        c = selfhost.compare(
            workload,
            body.model,
            body.api_model,
            on_demand_usd_h=prices,
            plan=body.plan,
            slo=selfhost.Slo(body.tpot_ms / 1e3, body.ttft_ms / 1e3),
        )
    except UniteconError as e:
        raise InvalidBody(str(e)) from None
    return SelfHostComparison(
        api_model=f"{c.api.provider}:{c.api.model}",
        api_usd_per_mtok_blended=selfhost.money(c.api.usd_per_mtok_blended, Decimal("0.0001")),
        monthly_mtok=round(c.workload.monthly_tokens / 1e6, 3),
        api_monthly_usd=c.api_monthly_usd,
        plan=c.plan,
        options=[_option(o) for o in c.options[: body.top]],
        ranking_note=c.ranking_note,
        skipped=c.skipped,
    )


def _option(o: Any) -> SelfHostOption:
    return SelfHostOption(
        gpu=o.gpu,
        gpu_id=o.gpu_id,
        num_gpus=o.num_gpus,
        precision=o.precision,
        replicas=o.replicas,
        tokens_per_s_per_replica=round(o.tokens_per_s_per_replica, 1),
        tpot_ms=round(o.point.tpot_s * 1e3, 2),
        ttft_ms=round(o.point.ttft_s * 1e3, 2),
        bound=o.point.bound,
        monthly_usd=o.monthly_usd,
        usd_per_mtok=o.usd_per_mtok,
        break_even_mtok_per_month=o.break_even_mtok_per_month,
        calibrated=o.calibrated,
        throughput_band=[round(o.coverage.low, 3), round(o.coverage.high, 3)],
        coverage_warning=o.coverage.warning,
        warning=o.warning,
        price_status=o.price_status,
        price_source=o.price_source if o.price_status == "sourced" else "",
    )


@router.get("/admin/keys", response_model=list[KeyListing], tags=["admin"])
def list_keys(request: Request, key: AdminKey) -> list[KeyListing]:
    """The API keys (ids, kinds, names; never the secrets). Needs an admin key."""
    return [
        KeyListing(
            key_id=k.key_id,
            kind=k.kind.value,
            name=k.name,
            created_at=k.created_at,
            revoked_at=k.revoked_at,
        )
        for k in request.app.state.keys.list()
    ]


class IngestFiles(BaseModel):
    """Files on the service's machine to ingest, as `unitecon ingest` would."""

    paths: list[str]
    format: str | None = None
    """jsonl, csv, parquet, otlp-json, otlp-proto, provider (None: detect each)."""


@router.post("/admin/ingest", tags=["admin"])
async def ingest_files(request: Request, body: IngestFiles, key: AdminKey) -> list[dict[str, Any]]:
    """Ingest files that lie on the service's machine into its ledger (what `unitecon
    ingest` does while the service holds the ledger): lineage, quarantine with `file:line`,
    idempotent. Needs an admin key. Answers with each file's lineage once it is committed."""
    import asyncio
    from pathlib import Path

    missing = [p for p in body.paths if not Path(p).is_file()]
    if missing:
        raise InvalidBody(f"No such file on the service's machine: {', '.join(missing)}")
    done = request.app.state.writer.ingest_files([(p, body.format) for p in body.paths])
    try:
        results = await asyncio.wrap_future(done)
    except UniteconError as e:
        raise InvalidBody(str(e)) from None
    return [r.as_dict() | {"errors": [str(e) for e in r.errors]} for r in results]


@router.post("/admin/export/focus", response_model=FocusExport, tags=["admin"])
def export_focus(request: Request, body: FocusRequest, key: AdminKey) -> FocusExport:
    """Write the ledger's cost as FOCUS 1.2 to a file on the service's machine (what
    `unitecon export --focus` does while the service holds the ledger). Needs an admin key."""
    return ask(request, lambda a: focus_export(a, body))


@router.post("/admin/export/lake", response_model=LakeExport, tags=["admin"])
def export_lake(request: Request, body: LakeRequest, key: AdminKey) -> LakeExport:
    """Write the ledger's events, quarantine and lineage as a Parquet lake in a folder on
    the service's machine (`unitecon export --lake`). Needs an admin key."""
    return ask(request, lambda a: lake_export(a, body))


class Forget(BaseModel):
    """A source to forget, as `unitecon lineage` lists it."""

    source: str


@router.post("/admin/forget", tags=["admin"])
async def forget(request: Request, body: Forget, key: AdminKey) -> dict[str, Any]:
    """Remove every event a source stored and its quarantine entries, on the service's
    writer (what `unitecon forget` does while the service holds the ledger). Needs an admin
    key."""
    return dict(await _write(request, lambda ledger: ledger.forget(body.source)))


@router.post("/admin/bills", tags=["admin"])
async def import_bills(request: Request, body: IngestFiles, key: AdminKey) -> list[dict[str, Any]]:
    """Import bill files that lie on the service's machine into its ledger (what `unitecon
    bills import` does while the service holds the ledger). Needs an admin key."""
    from pathlib import Path

    from unitecon.billing import import_lines, read_bill
    from unitecon.ledger.store import sha256_file

    missing = [p for p in body.paths if not Path(p).is_file()]
    if missing:
        raise InvalidBody(f"No such file on the service's machine: {', '.join(missing)}")

    def write(ledger: Any) -> list[dict[str, Any]]:
        out = []
        for p in body.paths:
            kind, lines = read_bill(Path(p), body.format)
            out.append(import_lines(ledger.con, p, kind, lines, sha256_file(Path(p))).as_dict())
        return out

    return list(await _write(request, write))


async def _write(request: Request, fn: Callable[[Any], T]) -> T:
    """`fn(ledger)` on the service's writer, after what was handed over before."""
    import asyncio

    try:
        return await asyncio.wrap_future(request.app.state.writer.write(fn))
    except UniteconError as e:
        raise InvalidBody(str(e)) from None
    except engine.engine_errors() as e:
        raise engine.friendly(e) from None
