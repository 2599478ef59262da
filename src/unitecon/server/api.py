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
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from unitecon import __version__
from unitecon.errors import UniteconError
from unitecon.server.app import LedgerView
from unitecon.server.auth import KeyInfo, Kind, require
from unitecon.server.cache import Answer, Obsolete
from unitecon.server.errors import COMMON_RESPONSES, InvalidBody
from unitecon.server.models import (
    CostRow,
    Costs,
    FilterChoices,
    Filters,
    Health,
    KeyListing,
    MissingPrice,
    Quarantine,
    QuarantineRecord,
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
    if since and until and until <= since:
        raise InvalidBody(f"`until` ({until}) must be after `since` ({since}).")
    return Filters(since=since, until=until, feature=feature or None, customer=customer or None)


FilterParams = Annotated[Filters, Depends(filters)]


#: Longest a read waits for the ledger to hold the batches acknowledged before it [s].
CATCH_UP_S = 10.0


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

    def checked() -> T:
        if project_fingerprint(app) != fp:
            raise Obsolete(name)
        value = compute()
        if project_fingerprint(app) != fp:  # changed while computing: not this key's answer
            raise Obsolete(name)
        return value

    cc = request.headers.get("cache-control", "").lower()
    fresh = "no-cache" in cc or "max-age=0" in cc
    try:
        answer: Answer[T] = app.state.read_cache.get(key, checked, fresh=fresh)
    except Obsolete:  # the configuration changed meanwhile: answer for the new one
        return cached(request, response, name, compute, **query)
    h = response.headers
    h["X-Unitecon-Generation"] = str(answer.generation)
    h["X-Unitecon-Ledger-Generation"] = str(app.state.writer.generation)
    h["X-Unitecon-As-Of"] = dt.datetime.fromtimestamp(answer.as_of, dt.UTC).isoformat()
    h["X-Unitecon-Fresh"] = "true" if answer.fresh else "false"
    h["Age"] = str(int(answer.age_s()))
    return answer.value


def _key_part(v: Any) -> Any:
    return v.model_dump_json() if isinstance(v, BaseModel) else v


def priced(request: Request, f: Filters) -> Any:
    """The priced events (pricing stage), narrowed to the feature and customer filters."""
    from unitecon.pricing import priced_events

    t = priced_events(view(request), request.app.state.project, f.since, f.until)
    if f.feature is not None:
        t = t.filter(t.feature == f.feature)
    if f.customer is not None:
        t = t.filter(t.customer_id == f.customer)
    return t


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return str(v)


@router.get("/health", response_model=Health, tags=["service"], responses={})
def health(request: Request) -> Health:
    """Liveness and the writer's counters. Needs no key and shows no data."""
    stats = request.app.state.writer.stats
    return Health(
        status="ok",
        version=__version__,
        spans_written=stats.rows_written,
        queue_rows=stats.queue_rows,
        refused=stats.refused,
    )


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

    def answer() -> FilterChoices:
        v = view(request)
        span = v.rows("SELECT min(ts)::DATE AS lo, max(ts)::DATE AS hi, count(*) AS n FROM events")
        feats = v.rows("SELECT DISTINCT feature FROM events WHERE feature IS NOT NULL ORDER BY 1")
        custs = v.rows(
            "SELECT DISTINCT customer_id FROM events WHERE customer_id IS NOT NULL ORDER BY 1"
        )
        return FilterChoices(
            first_day=span[0]["lo"],
            last_day=span[0]["hi"],
            features=[r["feature"] for r in feats],
            customers=[r["customer_id"] for r in custs],
            events=int(span[0]["n"]),
        )

    return cached(request, response, "filters", answer)


@router.get("/costs", response_model=Costs, tags=["read"])
def costs(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        str, Query(description="Comma-separated: day, week, month, model, provider, feature, ...")
    ] = "model",
    limit: Annotated[int, Query(ge=0, le=100_000, description="Rows (0 = all).")] = 0,
) -> Costs:
    """Cost by any combination of dimensions and periods, priced at query time."""

    def answer() -> Costs:
        from unitecon.economics.costs import costs_by, parse_dims

        try:
            dims = parse_dims(by)
        except UniteconError as e:
            raise InvalidBody(str(e)) from None
        rows = costs_by(priced(request, f), dims, since=f.since, until=f.until)
        total = sum((r["cost"] for r in rows), start=Decimal(0))
        shown = rows[:limit] if limit else rows
        return Costs(
            by=dims,
            filters=f,
            total_cost=total,
            rows=[
                CostRow(
                    dims={d: _text(r[d]) for d in dims},
                    cost=r["cost"],
                    events=r["events"],
                    input_tokens=r["input_tokens"],
                    output_tokens=r["output_tokens"],
                    unpriced_events=r["unpriced_events"],
                )
                for r in shown
            ],
        )

    return cached(request, response, "costs", answer, f=f, by=by, limit=limit)


@router.get("/quarantine", response_model=Quarantine, tags=["read"])
def quarantine(
    request: Request,
    key: ReadKey,
    source: Annotated[str | None, Query(description="Only this source.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> Quarantine:
    """Records that could not become events, with where they came from and why."""
    rows = view(request).quarantine()
    if source:
        rows = [r for r in rows if r["source"] == source]
    return Quarantine(total=len(rows), records=[QuarantineRecord(**r) for r in rows[:limit]])


@router.get("/prices/missing", response_model=list[MissingPrice], tags=["read"])
def prices_missing(
    request: Request, response: Response, key: ReadKey, f: FilterParams
) -> list[MissingPrice]:
    """Models in the ledger with no price, their volume, and the override to add."""

    def answer() -> list[MissingPrice]:
        from unitecon.pricing import missing_prices

        rows = missing_prices(view(request), request.app.state.project, f.since, f.until)
        return [MissingPrice(**r.as_dict()) for r in rows]

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
        calibrated_gpu=o.calibrated,
        warning=o.warning,
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
