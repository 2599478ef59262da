"""The demo's headline figures, re-derived from the ledger with plain SQL (issue 17).

A small demo (7 days, 12 customers, seed 7) is generated and ingested; then each figure the
report's headline cards and the margins page show is computed a second way: DuckDB SQL on
the `events` table and the demo's customers.csv, the rate card written here from the demo
project file, and `genai_prices.calc_price` for token prices (the published catalog's own
function), none of it through unitecon's pricing, attribution or economics code.

    variable spend = token cost + unit-priced cost + busy GPU-time cost       [USD, window]
      token cost    sum over leaf calls with a model (no endpoint) of calc_price(...) x w,
                    w = round(1/sample_rate, 6), Anthropic x 0.9 from 2026-11-01 (discount)
      unit cost     vector_query units x 0.10/1000 + web_search x 5/1000 + review_second
                    x 38/3600, x w
      GPU busy      per UTC day: 2 GPUs x $2.10/h x 24 h = $100.80 x B / max(B, 2 x 86,400),
                    B = sum(duration_ms / 1000 x 2 GPUs / concurrency 1) of the day's calls
    customers      distinct customer_id
    plan fees      per customer-month: fee (starter 49, support-pro 199, team 35 x seats)
                    x days of the month in the contract and the window / days in the month

The rest of the report's headline block (`report.html.headline`; the README names these
figures but prints none of them), with the project file read here with `yaml.safe_load`:

    window         [first event's UTC day, last event's UTC day + 1)
    fixed          per monthly cost (monthly, or gb x usd_per_gb_month): M x d / D, d = days
                    of the calendar month in the window, D = days in the month; per one-time
                    cost A over N months from s: month of life k = [s + k months, s + k + 1
                    months) recognizes A / N over its days, the window takes its days' part
    idle           per UTC day of the window: $100.80 - busy cost of the day (above)
    loaded         variable + fixed + idle
    tasks          per (customer, month, feature): distinct coalesce(task_id, trace_id,
                    event_id); successful: the last known `accepted` (by ts) is true
    revenue        plan fees (above) + usage beyond the allowance, per customer-month, each
                    to the cent: team 0.12 x max(0, tasks - 150 x seats x d / D); support-pro
                    0.99 x resolutions (distinct conversations, else tasks, of support-agent
                    holding a successful task)
    gross margin   revenue - loaded;  margin % = gross margin / revenue
    per success    loaded / successful tasks;  variable / successful tasks
    budgets        spend of the window's last month: all variable cost, or its feature's
    runaway        leaf calls per task > max(50, floor(3 x p99 of the feature's tasks' calls))
    past collapse  customers whose run-rate usage is past their plan's u0 (`_past_collapse`)

Not re-derived here: the anomaly count and the budgets' forecasts are models (a
weekday-adjusted baseline, a month-end forecast), checked by hand in tests/governance; a
budget's status is checked against its re-derived spend ("over budget" iff spend > budget).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from genai_prices import Usage, calc_price

CENT = Decimal("0.01")
STRUCTURAL = ("invoke_agent", "invoke_workflow", "create_agent")
UNIT_RATES = {
    "vector_query": Decimal("0.10") / 1000,
    "web_search": Decimal(5) / 1000,
    "review_second": Decimal(38) / 3600,
}
FEES = {"starter": (Decimal(49), Decimal(0)), "support-pro": (Decimal(199), Decimal(0)),
        "team": (Decimal(0), Decimal(35))}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unitecon.demo import generate
    from unitecon.ingest import read_path
    from unitecon.ledger.store import Ledger
    from unitecon.pipeline import write_demo_project

    home = tmp_path_factory.mktemp("headlines")
    files = generate(home / "demo", days=7, customers=12)
    with Ledger(home / "ledger.duckdb") as lg:
        for path in files.all:
            lg.ingest(str(path), read_path(path, None))
    write_demo_project(home)
    return home


def _sql(home: Path, query: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home / "ledger.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(query).fetchall()
    finally:
        con.close()


def _weight(sample_rate: float | None) -> Decimal:
    if sample_rate is None or sample_rate == 1:
        return Decimal(1)
    return round(Decimal(1) / Decimal(repr(sample_rate)), 6)


#: (month, feature, customer) -> variable cost [USD]
ByMonthFeature = dict[tuple[dt.date, str | None, str | None], Decimal]


def _add(acc: ByMonthFeature, key: tuple[dt.date, str | None, str | None], cost: Decimal) -> None:
    acc[key] = acc.get(key, Decimal(0)) + cost


def _token_cost(home: Path) -> tuple[ByMonthFeature, int]:
    rows = _sql(
        home,
        f"""
        SELECT provider, model, timezone('UTC', ts), input_tokens, cache_read_tokens,
               cache_write_tokens, output_tokens, reasoning_tokens, sample_rate, batch,
               service_tier, feature, customer_id
        FROM events
        WHERE operation NOT IN {STRUCTURAL} AND endpoint IS NULL
          AND model IS NOT NULL AND model <> ''
        """,
    )
    out: ByMonthFeature = {}
    unpriced = 0
    for prov, model, naive, i, cr, cw, o, rs, rate, batch, tier, feature, customer in rows:
        ts = naive.replace(tzinfo=dt.UTC)
        ctx = {k: v for k, v in (("processing", "batch" if batch else None),
                                 ("service_tier", tier)) if v}  # fmt: skip
        usage = Usage(input_tokens=i, cache_read_tokens=cr, cache_write_tokens=cw,
                      output_tokens=o, output_reasoning_tokens=rs)  # fmt: skip
        try:
            p = calc_price(usage, model, provider_id=prov or None,
                           genai_request_timestamp=ts, price_context=ctx or None)  # fmt: skip
        except LookupError:
            unpriced += 1
            continue
        cost = p.total_price
        if prov == "anthropic" and ts >= dt.datetime(2026, 11, 1, tzinfo=dt.UTC):
            cost *= Decimal("0.9")
        _add(out, (ts.date().replace(day=1), feature, customer), cost * _weight(rate))
    return out, unpriced


def _unit_cost(home: Path) -> ByMonthFeature:
    rows = _sql(
        home,
        f"""
        SELECT unit_type, units, sample_rate, date_trunc('month', timezone('UTC', ts))::DATE,
               feature, customer_id
        FROM events
        WHERE operation NOT IN {STRUCTURAL} AND endpoint IS NULL
          AND (model IS NULL OR model = '') AND unit_type IS NOT NULL
        """,
    )
    out: ByMonthFeature = {}
    for t, u, r, month, feature, customer in rows:
        if t in UNIT_RATES:
            _add(out, (month, feature, customer), Decimal(str(u)) * UNIT_RATES[t] * _weight(r))
    return out


DAY_COST = Decimal("100.80")  # 2 GPUs x $2.10/h x 24 h, the endpoint's provisioned day
PROVISIONED_S = Decimal(2 * 86_400)  # GPU-seconds a day


def _gpu_busy_cost(home: Path) -> ByMonthFeature:
    """Each call's share of its day: $100.80 x its GPU-s / max(the day's GPU-s, 172,800)."""
    rows = _sql(
        home,
        """
        SELECT CAST(timezone('UTC', ts) AS DATE) AS day, feature, customer_id, duration_ms,
               sum(duration_ms) OVER (PARTITION BY CAST(timezone('UTC', ts) AS DATE))
        FROM events WHERE endpoint = 'llama-70b-h100'
        """,
    )
    out: ByMonthFeature = {}
    for day, feature, customer, ms, day_ms in rows:
        busy, day_busy = Decimal(ms) / 1000 * 2, Decimal(day_ms) / 1000 * 2  # 2 GPUs, conc. 1
        share = DAY_COST * busy / max(day_busy, PROVISIONED_S)
        _add(out, (day.replace(day=1), feature, customer), share)
    return out


def _variable(home: Path) -> tuple[ByMonthFeature, int]:
    """Variable cost per (month, feature, customer): tokens + unit prices + busy GPU time."""
    tokens, unpriced = _token_cost(home)
    out: ByMonthFeature = {}
    for part in (tokens, _unit_cost(home), _gpu_busy_cost(home)):
        for key, cost in part.items():
            _add(out, key, cost)
    return out, unpriced


def test_variable_spend_customers_and_unpriced(demo: Path) -> None:
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.ledger.store import Ledger
    from unitecon.report.html import local, write_report
    from unitecon.terminal import money

    by_month_feature, unpriced = _variable(demo)
    want = sum(by_month_feature.values(), Decimal(0))
    (customers,) = _sql(demo, "SELECT count(DISTINCT customer_id) FROM events")[0]
    project = config.load(demo / "unitecon.yaml")
    with (
        Ledger(demo / "ledger.duckdb") as lg,
        Analysis(lg, project, demo / "unitecon.yaml") as a,
    ):
        rep = write_report(local(a), Filters(), demo / "report.html", analysis=a)
        by_customer = a.costs(Filters(), by="customer")
    assert rep.summary.variable_cost.quantize(CENT) == want.quantize(CENT)
    html = (demo / "report.html").read_text(encoding="utf-8")
    assert money(want) in html  # the report's headline and its cost tables
    assert sum(1 for r in by_customer.rows if r.dims["customer"] is not None) == customers
    assert sum(r.unpriced_events for r in by_customer.rows) == unpriced


def test_plan_fees_cover_the_window(demo: Path) -> None:
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.ledger.store import Ledger

    ((lo, hi),) = _sql(
        demo,
        "SELECT min(timezone('UTC', ts))::DATE, max(timezone('UTC', ts))::DATE + 1 FROM events",
    )
    contracts = _sql(
        demo,
        f"""
        SELECT customer_id, plan, coalesce(TRY_CAST(seats AS INTEGER), 1),
               TRY_CAST(contract_start AS DATE)
        FROM read_csv_auto('{demo / "demo" / "customers.csv"}', all_varchar = true)
        """,
    )
    want = Decimal(0)
    for _, plan, seats, start in contracts:
        fee, per_seat = FEES[plan]
        month = lo.replace(day=1)
        while month < hi:
            days = calendar.monthrange(month.year, month.month)[1]
            end = month + dt.timedelta(days=days)
            a, b = max(month, lo, start or month), min(end, hi)
            if b > a:
                amount = (fee + per_seat * seats) * (b - a).days / days
                want += amount.quantize(CENT, ROUND_HALF_EVEN)  # each component to the cent
            month = end
    project = config.load(demo / "unitecon.yaml")
    with Ledger(demo / "ledger.duckdb") as lg, Analysis(lg, project, demo / "unitecon.yaml") as a:
        m = a.margin_model(Filters())
    got = sum((it.amount for it in m.items if it.component in ("fee", "seats")), Decimal(0))
    assert got == want
    assert (m.inputs.window.since, m.inputs.window.until) == (lo, hi)


# -- the rest of the headline: fixed, idle, loaded, revenue, margin, tasks, budgets, runaways


def _window(home: Path) -> tuple[dt.date, dt.date]:
    ((lo, hi),) = _sql(
        home,
        "SELECT min(timezone('UTC', ts))::DATE, max(timezone('UTC', ts))::DATE + 1 FROM events",
    )
    return lo, hi


def _days(a: dt.date, b: dt.date) -> int:
    return max(0, (b - a).days)


def _month_end(month: dt.date) -> dt.date:
    return month + dt.timedelta(days=calendar.monthrange(month.year, month.month)[1])


def _months(lo: dt.date, hi: dt.date) -> list[dt.date]:
    out, m = [], lo.replace(day=1)
    while m < hi:
        out.append(m)
        m = _month_end(m)
    return out


def _plus_months(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.month - 1 + k, 12)
    year, month = d.year + y, m + 1
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


def _project(home: Path) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((home / "unitecon.yaml").read_text(encoding="utf-8"))
    return raw


def _fixed(home: Path, lo: dt.date, hi: dt.date) -> Decimal:
    """The project file's fixed costs charged in [lo, hi) (module docstring)."""
    total = Decimal(0)
    for fc in _project(home)["fixed_costs"]:
        if "amount" in fc:  # one-time: A / N per month of life, over that month's days
            a, n = Decimal(str(fc["amount"])), int(fc["amortize_months"])
            start = dt.date.fromisoformat(str(fc["start"]))  # YAML gives a date or a string
            for k in range(n):
                s, e = _plus_months(start, k), _plus_months(start, k + 1)
                total += a / n * _days(max(s, lo), min(e, hi)) / _days(s, e)
            continue
        monthly = (
            Decimal(str(fc["monthly"]))
            if "monthly" in fc
            else Decimal(str(fc["gb"])) * Decimal(str(fc["usd_per_gb_month"]))
        )
        for m in _months(lo, hi):
            e = _month_end(m)
            total += monthly * _days(max(m, lo), min(e, hi)) / _days(m, e)
    return total


def _idle(home: Path, lo: dt.date, hi: dt.date) -> Decimal:
    """$100.80 a day provisioned, less the day's busy cost (capped at the day)."""
    busy = dict(
        _sql(
            home,
            """
            SELECT CAST(timezone('UTC', ts) AS DATE), sum(duration_ms) FROM events
            WHERE endpoint = 'llama-70b-h100' GROUP BY 1
            """,
        )
    )
    total = Decimal(0)
    for k in range(_days(lo, hi)):
        b = Decimal(busy.get(lo + dt.timedelta(days=k), 0)) / 1000 * 2
        total += DAY_COST - DAY_COST * b / max(b, PROVISIONED_S)
    return total


_TASKS = """
    WITH t AS (
        SELECT coalesce(customer_id, '(unattributed)') AS customer,
               date_trunc('month', timezone('UTC', ts))::DATE AS month, feature,
               coalesce(task_id, trace_id, event_id) AS task,
               arg_max(accepted, ts) FILTER (WHERE accepted IS NOT NULL) IS TRUE AS ok,
               max(conversation_id) AS conv
        FROM events GROUP BY 1, 2, 3, 4
    )
"""


def _tasks(home: Path) -> tuple[int, int]:
    """Tasks and successful tasks, per (customer, month, feature) as margins count them."""
    ((n, ok),) = _sql(home, _TASKS + "SELECT count(*), count(*) FILTER (WHERE ok) FROM t")
    return int(n), int(ok)


def _revenue(home: Path, lo: dt.date, hi: dt.date) -> Decimal:
    """Plan fees, seats and usage per customer-month, each to the cent (module docstring)."""
    plans = _project(home)["revenue"]["plans"]
    tasks = {
        (c, m): int(n)
        for c, m, n in _sql(home, _TASKS + "SELECT customer, month, count(*) FROM t GROUP BY 1, 2")
    }
    resolutions = {
        (c, m): int(n)
        for c, m, n in _sql(
            home,
            _TASKS + "SELECT customer, month, count(DISTINCT coalesce(conv, task)) FROM t "
            "WHERE ok AND feature = 'support-agent' GROUP BY 1, 2",
        )
    }
    contracts = _sql(
        home,
        f"""
        SELECT customer_id, plan, coalesce(TRY_CAST(seats AS INTEGER), 1),
               TRY_CAST(contract_start AS DATE)
        FROM read_csv_auto('{home / "demo" / "customers.csv"}', all_varchar = true)
        """,
    )
    total = Decimal(0)
    for customer, plan, seats, start in contracts:
        p = plans[plan]
        for m in _months(lo, hi):
            e = _month_end(m)
            f = Decimal(_days(max(m, lo, start or m), min(e, hi))) / _days(m, e)
            w = Decimal(_days(max(m, lo), min(e, hi))) / _days(m, e)
            fee = Decimal(str(p.get("monthly_fee", 0))) * f
            seat = Decimal(str(p.get("per_seat", 0))) * seats * f
            total += fee.quantize(CENT, ROUND_HALF_EVEN) + seat.quantize(CENT, ROUND_HALF_EVEN)
            for u in p.get("usage", []):
                units = (resolutions if u["metric"] == "resolutions" else tasks).get(
                    (customer, m), 0
                )
                allowance = Decimal(str(u.get("included_per_seat", 0))) * seats * w
                over = max(Decimal(0), units - allowance) * Decimal(str(u["price"]))
                total += over.quantize(CENT, ROUND_HALF_EVEN)
    return total


def _runaways(home: Path) -> int:
    ((n,),) = _sql(
        home,
        f"""
        WITH t AS (
            SELECT coalesce(task_id, trace_id, event_id) AS task, any_value(feature) AS feature,
                   count(*) AS calls
            FROM events WHERE operation NOT IN {STRUCTURAL} GROUP BY 1
        ), p AS (SELECT feature, quantile_cont(calls, 0.99) AS p99 FROM t GROUP BY 1)
        SELECT count(*) FROM t JOIN p ON t.feature IS NOT DISTINCT FROM p.feature
        WHERE calls > greatest(50, floor(3 * p99))
        """,
    )
    return int(n)


def _past_collapse(home: Path, lo: dt.date, hi: dt.date, cost: ByMonthFeature) -> set[str]:
    """Customers past their plan's zero-margin usage u0 (the collapse notation of
    finops-notes §6, on each customer's own unit cost):

        u   = run rate: units of the latest months covering >= 1 month of data / their share
        c_i = the customer's variable cost / its units (the plan's threshold metric: tasks;
              support-pro: resolutions of support-agent)
        P = monthly_fee + per_seat x seats;  F = fixed_cost_per_customer;
        A = included_per_seat x seats;  p = the metric's price beyond A
        u0  = (P - F) / c_i when that is within A; else A + (P - F - c_i A) / (c_i - p),
              never when p >= c_i;  past when u >= u0
    """
    plans = _project(home)["revenue"]["plans"]
    units = {
        (c, m, metric): int(n)
        for metric, where in (
            ("tasks", "TRUE"),
            ("resolutions", "ok AND feature = 'support-agent'"),
        )
        for c, m, n in _sql(
            home,
            _TASKS + f"SELECT customer, month, "
            f"{'count(*)' if metric == 'tasks' else 'count(DISTINCT coalesce(conv, task))'} "
            f"FROM t WHERE {where} GROUP BY 1, 2",
        )
    }
    contracts = _sql(
        home,
        f"""
        SELECT customer_id, plan, coalesce(TRY_CAST(seats AS INTEGER), 1)
        FROM read_csv_auto('{home / "demo" / "customers.csv"}', all_varchar = true)
        """,
    )
    share = {m: Decimal(_days(max(m, lo), min(_month_end(m), hi))) / _days(m, _month_end(m))
             for m in _months(lo, hi)}  # fmt: skip
    past = set()
    for customer, plan, seats in contracts:
        p = plans[plan]
        usage = p.get("usage", [])
        metric = usage[0]["metric"] if usage else "tasks"
        n = {m: units.get((customer, m, metric), 0) for m in share}
        spent = {m: sum((v for (mm, _, cc), v in cost.items() if (mm, cc) == (m, customer)),
                        Decimal(0)) for m in share}  # fmt: skip
        total_units = sum(n.values())
        if not total_units:
            continue  # no usage: u = 0, below any u0 > 0
        covered, recent = Decimal(0), 0
        for m in sorted(share, reverse=True):
            recent, covered = recent + n[m], covered + share[m]
            if covered >= 1:
                break
        u = recent / covered
        c = sum(spent.values(), Decimal(0)) / total_units
        price = Decimal(str(p.get("monthly_fee", 0))) + Decimal(str(p.get("per_seat", 0))) * seats
        fixed = Decimal(str(p.get("fixed_cost_per_customer", 0)))
        allowance = Decimal(str(usage[0].get("included_per_seat", 0))) * seats if usage else 0
        over = Decimal(str(usage[0]["price"])) if usage else Decimal(0)
        if c <= 0:
            continue
        if (price - fixed) / c <= allowance:
            u0: Decimal | None = (price - fixed) / c
        elif over >= c:
            u0 = None
        else:
            u0 = allowance + (price - fixed - c * allowance) / (c - over)
        if u0 is not None and u >= u0:
            past.add(customer)
    return past


def test_every_headline_figure(demo: Path) -> None:
    """The report's headline block, figure by figure, against the plain-SQL derivation."""
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.ledger.store import Ledger
    from unitecon.report.html import headline, local, write_report
    from unitecon.terminal import money

    lo, hi = _window(demo)
    by_month_feature, _ = _variable(demo)
    variable = sum(by_month_feature.values(), Decimal(0))
    fixed, idle = _fixed(demo, lo, hi), _idle(demo, lo, hi)
    loaded = variable + fixed + idle  # fully loaded = variable + fixed + idle
    revenue = _revenue(demo, lo, hi)
    margin = revenue - loaded  # gross margin = revenue - fully loaded cost
    tasks, successes = _tasks(demo)
    project = config.load(demo / "unitecon.yaml")
    with Ledger(demo / "ledger.duckdb") as lg, Analysis(lg, project, demo / "unitecon.yaml") as a:
        s = write_report(local(a), Filters(), demo / "report.html", analysis=a).summary
    assert (s.since.date(), s.until.date()) == (lo, hi)
    # the money figures, to the cent (the report prints cents)
    for name, got, want in [
        ("variable", s.variable_cost, variable),
        ("fixed", s.fixed_cost, fixed),
        ("idle", s.idle_cost, idle),
        ("fully loaded", s.total_cost, loaded),
        ("revenue", s.revenue, revenue),
        ("gross margin", s.gross_margin, margin),
    ]:
        assert got.quantize(CENT) == want.quantize(CENT), (name, got, want)
    assert s.gross_margin_pct is not None
    assert round(s.gross_margin_pct, 4) == round(margin / revenue, 4)
    assert (s.tasks, s.successful_tasks) == (tasks, successes)
    assert s.cost_per_successful_task is not None
    assert s.variable_cost_per_successful_task is not None
    # cost per successful task = loaded / successes; variable / successes [USD/task]
    assert round(s.cost_per_successful_task, 4) == round(loaded / successes, 4)
    assert round(s.variable_cost_per_successful_task, 4) == round(variable / successes, 4)
    assert s.runaway_tasks == _runaways(demo)
    past = _past_collapse(demo, lo, hi, by_month_feature)
    assert {c.customer_id for c in s.customers_past_collapse} == past
    # the budgets of the window's last month: spend to date, all of it or one feature's
    last = (hi - dt.timedelta(days=1)).replace(day=1)
    for b in s.budgets:
        feature = b.where.get("feature")
        spent = sum(
            (c for (m, f, _), c in by_month_feature.items() if m == last and feature in (None, f)),
            Decimal(0),
        )
        assert b.actual.quantize(CENT) == spent.quantize(CENT), b.name
        assert (b.status == "over budget") == (spent > b.budget), b.name
    # each figure as the headline block prints it
    html = (demo / "report.html").read_text(encoding="utf-8")
    shown = dict(headline(s))
    for label, want in [
        ("fully loaded AI cost", money(loaded)),
        ("fixed costs", money(fixed)),
        ("idle self-hosted GPU time", money(idle)),
        ("revenue", money(revenue)),
        ("gross margin", money(margin)),
        ("gross margin %", f"{margin / revenue * 100:.1f}%"),
        ("cost per successful task (fully loaded)", money(loaded / successes, 4)),
        ("cost per successful task (variable)", money(variable / successes, 4)),
        ("successful tasks / tasks", f"{successes:,} / {tasks:,}"),
        ("customers past collapse (margin < 0)", f"{len(past):,}"),
    ]:
        assert shown[label] == want, label
        assert f">{want}<" in html, label
