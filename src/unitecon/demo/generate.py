"""Generate the demo's traffic: customers, then each feature's events, then the files.

`generate(out_dir)` writes

    out_dir/customers.csv              tenants: plan, seats, region, contract start
    out_dir/otlp/support-DATE.json     one ExportTraceServiceRequest per UTC day (support agent)
    out_dir/native/FEATURE-MONTH.jsonl native events (search, coding, human reviews)
    out_dir/manifest.json              the files and a summary

Everything is drawn from one `numpy.random.Generator(PCG64(seed))` in a fixed order, so the
same arguments give byte-identical files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from unitecon.demo.catalog import API_MODELS, CODING, MISSING_MODELS, SEARCH, SUPPORT
from unitecon.demo.coding import generate_coding
from unitecon.demo.dice import Dice
from unitecon.demo.native import concat, write_monthly
from unitecon.demo.otlp import write_request
from unitecon.demo.population import PLANS, make_population
from unitecon.demo.search import generate_search
from unitecon.demo.support import generate_support

#: Last day (exclusive) of the default window: fixed, so output depends on the seed only.
DEFAULT_END = date(2026, 11, 15)

#: Expected volume per 200 customers and 60 days.
SUPPORT_TICKETS = 9_000
SEARCH_QUERIES = 28_000
CODING_TASKS = 20_000
TESTGEN_REQUESTS = 14_000


@dataclass(frozen=True)
class IncidentSummary:
    customer_id: str
    start: str
    end: str
    tasks: int
    calls: int


@dataclass(frozen=True)
class DemoSummary:
    """Counts of what was generated (spans count as events)."""

    seed: int
    window_start: str
    window_end: str
    customers_by_plan: dict[str, int]
    events: int
    otlp_spans: int
    native_events: int
    events_by_feature: dict[str, int]
    tickets: int
    tickets_resolved: int
    human_reviews: int
    max_calls_per_task: int
    incident: IncidentSummary
    power_users: list[str]
    api_models: list[str] = field(default_factory=list)
    missing_models: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoFiles:
    """Where the demo wrote its data."""

    out_dir: Path
    customers_csv: Path
    native: tuple[Path, ...]
    otlp: tuple[Path, ...]
    manifest: Path
    summary: DemoSummary

    @property
    def all(self) -> tuple[Path, ...]:
        return self.native + self.otlp


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    days: int = 60,
    customers: int = 200,
    end: date | None = None,
) -> DemoFiles:
    """Write `days` of traffic of `customers` tenants ending before `end`; deterministic by seed."""
    if days < 7 or customers < 10:
        raise ValueError(
            f"need days >= 7 and customers >= 10, got days={days}, customers={customers}"
        )
    end = end or DEFAULT_END
    start = end - timedelta(days=days)
    ws = np.datetime64(start.isoformat(), "D")
    rng = np.random.Generator(np.random.PCG64(seed))
    scale = customers / 200 * days / 60
    pop = make_population(rng, customers, days)

    support = generate_support(
        rng, Dice(rng), pop, window_start=ws, days=days, total=SUPPORT_TICKETS * scale
    )
    search, search_ts = generate_search(
        rng, pop, window_start=ws, days=days, total=SEARCH_QUERIES * scale,
        migration_ns=_ns(ws + np.timedelta64(days // 2, "D")),
    )  # fmt: skip
    coding, coding_ts = generate_coding(
        rng, pop, window_start=ws, days=days, total_tasks=CODING_TASKS * scale,
        total_batch=TESTGEN_REQUESTS * scale,
    )  # fmt: skip

    out_dir = Path(out_dir)
    _clean(out_dir)
    (out_dir / "native").mkdir(parents=True, exist_ok=True)
    (out_dir / "otlp").mkdir(parents=True, exist_ok=True)
    customers_csv = out_dir / "customers.csv"
    pop.write_csv(customers_csv, ws)

    native: list[Path] = []
    native += write_monthly(out_dir / "native", SEARCH, search, search_ts)
    native += write_monthly(out_dir / "native", CODING, coding, coding_ts)
    reviews = concat([_columns(support.reviews)]) if support.reviews else {"event_id": []}
    review_ts = np.array([r["ts"] for r in support.reviews], dtype=np.int64)
    native += write_monthly(out_dir / "native", "support-reviews", reviews, review_ts)

    otlp: list[Path] = []
    spans = 0
    for day in sorted(support.spans_by_day):
        path = out_dir / "otlp" / f"support-{start + timedelta(days=int(day))}.json"
        spans += write_request(path, support.spans_by_day[day])
        otlp.append(path)

    n_native = len(search["event_id"]) + len(coding["event_id"]) + len(support.reviews)
    inc = support.incident
    summary = DemoSummary(
        seed=seed,
        window_start=f"{start}T00:00:00Z",
        window_end=f"{end}T00:00:00Z",
        customers_by_plan={p: int((pop.plan == p).sum()) for p in PLANS},
        events=spans + n_native,
        otlp_spans=spans,
        native_events=n_native,
        events_by_feature={
            SUPPORT: spans + len(support.reviews),
            SEARCH: len(search["event_id"]),
            CODING: len(coding["event_id"]),
        },
        tickets=support.stats.tickets,
        tickets_resolved=support.stats.resolved,
        human_reviews=len(support.reviews),
        max_calls_per_task=support.stats.max_calls_per_task,
        incident=IncidentSummary(
            inc.customer_id, _iso(inc.start_ns), _iso(inc.end_ns), inc.tickets, inc.calls
        ),
        power_users=[pop.ids[i] for i in np.flatnonzero(pop.power).tolist()],
        api_models=[f"{m.provider}:{m.response}" for m in API_MODELS],
        missing_models=[f"{m.provider}:{m.response}" for m in MISSING_MODELS],
    )
    manifest = out_dir / "manifest.json"
    rel = [str(p.relative_to(out_dir)) for p in [customers_csv, *native, *otlp]]
    manifest.write_text(json.dumps({"files": rel, "summary": asdict(summary)}, indent=2) + "\n")
    return DemoFiles(out_dir, customers_csv, tuple(native), tuple(otlp), manifest, summary)


def _ns(d: np.datetime64) -> int:
    return int(d.astype("datetime64[ns]").astype(np.int64))


def _iso(ns: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(microseconds=ns // 1000)).isoformat() + "Z"


def _columns(rows: list[dict[str, object]]) -> dict[str, list[object]]:
    keys = [k for k in rows[0] if k != "ts"]
    return {k: [r[k] for r in rows] for k in keys}


def _clean(out_dir: Path) -> None:
    """Remove the files a previous run listed in its manifest (and nothing else)."""
    manifest = out_dir / "manifest.json"
    if not manifest.exists():
        return
    for rel in json.loads(manifest.read_text()).get("files", []):
        (out_dir / rel).unlink(missing_ok=True)
    manifest.unlink()
