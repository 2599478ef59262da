"""The dashboard in real headless Chromium (Debian's package, driven by Playwright).

A demo-like ledger (a week of the demo generator's traffic for 10 customers, plus agent trees
and self-hosted calls) is served by the real app on loopback. Each page must load, draw its
charts with data, show no console error, and save a screenshot under `test-artifacts/`; a
filter must change the numbers and the task drill-down must open.

Chromium comes from `scripts/install-browser.sh`. Without it the tests skip, except in CI
(`CI=true`), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from unitecon import config
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.server.app import create_app
from unitecon.server.auth import KeyStore

CHROMIUM = Path(os.environ.get("UNITECON_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "overview": "/",
    "units": "/unit-economics",
    "customers": "/customers",
    "tasks": "/tasks",
    "budgets": "/budgets",
    "endpoints": "/endpoints",
    "calculator": "/calculator",
}
PROJECT = """
revenue:
  plans:
    starter:
      monthly_fee: 20
      usage: [{metric: tasks, price: 0.02, included: 100}]
      fixed_cost_per_customer: 5
    team:
      per_seat: 15
      fixed_cost_per_customer: 10
  assign:
    - {plan: starter, hash_to: 0.5}
    - {plan: team, seats: 3}
endpoints:
  llama-70b:
    gpu: H100
    gpu_count: 2
    hourly: {on_demand: 2.5}
governance:
  budgets:
    - {name: all AI spend, monthly: 3000}
    - {name: support agent, monthly: 150, where: {feature: support-agent}}
  # a low bar, so that the week of data has runaway tasks to list and open
  runaway: {factor: 1.01, min_calls: 5}
"""
WAIT_MS = 240_000


def _browser_or_skip() -> Any:
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install playwright)"
    if reason is None and not CHROMIUM.exists():
        reason = f"no chromium at {CHROMIUM}: run scripts/install-browser.sh"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    return sync_playwright


def _span(
    i: int, t0: dt.datetime, sid: int, parent: int | None, op: str, **kw: Any
) -> dict[str, Any]:
    trace = f"{0xA0000 + i:032x}"
    return {
        "event_id": f"{trace}:{sid:016x}",
        "ts": t0 + dt.timedelta(seconds=sid),
        "duration_ms": 1500.0,
        "trace_id": trace,
        "span_id": f"{sid:016x}",
        "parent_span_id": None if parent is None else f"{parent:016x}",
        "operation": op,
        "task_id": f"tkt-tree-{i}",
        "task_type": "ticket.technical",
        "customer_id": f"c{1 + i % 10:04d}",
        "feature": "support-agent",
        "accepted": i % 4 != 0,
        "source": f"test#{i}:{sid}",
        **kw,
    }


def _agent_trees(day: dt.datetime, n: int) -> list[dict[str, Any]]:
    """Support-agent tasks: supervisor -> (chat, tool, researcher -> 3 chats, one of them on
    the self-hosted endpoint)."""
    rows = []
    for i in range(n):
        t0 = day + dt.timedelta(hours=3 * i)
        chat = {"provider": "openai", "model": "gpt-4o", "input_tokens": 200_000 + 100 * i}
        rows += [
            _span(i, t0, 1, None, "invoke_agent", agent="supervisor"),
            _span(i, t0, 2, 1, "chat", agent="supervisor", output_tokens=400, **chat),
            _span(i, t0, 3, 1, "execute_tool", agent="supervisor", unit_type="tool_call",
                  units=1.0),
            _span(i, t0, 4, 1, "invoke_agent", agent="researcher"),
            _span(i, t0, 5, 4, "chat", agent="researcher", output_tokens=20_000, **chat),
            _span(i, t0, 6, 4, "chat", agent="researcher", output_tokens=200, attempt=2, **chat),
            _span(i, t0, 7, 4, "chat", agent="researcher", endpoint="llama-70b",
                  model="llama-3.1-70b", input_tokens=5000, output_tokens=600),
        ]  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from unitecon.demo import generate
    from unitecon.ingest import read_path
    from unitecon.pipeline import import_demo_bill

    root = tmp_path_factory.mktemp("dash")
    files = generate(root / "demo", days=7, customers=10)
    ledger = root / "ledger.duckdb"
    with Ledger(ledger) as lg:
        for path in files.all:
            lg.ingest(str(path), read_path(path, None))
        start = dt.datetime.fromisoformat(files.summary.window_start.replace("Z", "+00:00"))
        lg.ingest("trees", [Chunk(schema.to_table(_agent_trees(start, 12)))])
        project = root / "unitecon.yaml"
        project.write_text(PROJECT)
        import_demo_bill(lg, config.load(project), root / "bills")  # the providers' bill
    return ledger, project


@pytest.fixture(scope="module")
def dashboard(demo_ledger: tuple[Path, Path], serve: Any) -> Iterator[tuple[str, str]]:
    ledger, project_file = demo_ledger
    store = KeyStore(ledger.parent / "keys.sqlite")
    key, _ = store.create("read", "browser test")
    app = create_app(ledger, config.load(project_file), keys=store, config_path=project_file)
    with serve(app) as url:
        yield url, key


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, dashboard: tuple[str, str]) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("requestfailed", lambda r: errors.append(f"{r.url}: {r.failure}"))
    pg.console_errors = errors
    yield pg
    ctx.close()


def _open(page: Any, dashboard: tuple[str, str], path: str) -> None:
    url, key = dashboard
    page.goto(f"{url}{path}#key={key}")
    page.wait_for_selector("body[data-ready=true]")


def _charts(page: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.eval_on_selector_all(
        ".chart",
        "els => els.map(e => ({id: e.id, points: Number(e.dataset.points),"
        " title: (e.querySelector('.gtitle') || {}).textContent || '',"
        " traces: (e.data || []).length}))",
    )
    return result


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_with_charts(
    page: Any,
    dashboard: tuple[str, str],
    name: str,
    layout_problems: Callable[[Any], list[str]],
) -> None:
    """Every page at 1400 px: its charts drawn with data and titles, no console error,
    nothing overflowing (a chart fits its card), a screenshot in test-artifacts/."""
    _open(page, dashboard, PAGES[name])
    if name == "calculator":
        page.wait_for_selector("#calc-chart")
    charts = _charts(page)
    assert charts, f"{name}: no chart drawn"
    for c in charts:
        assert c["points"] > 0 and c["traces"] > 0, c
        assert c["title"].strip(), f"{name}: chart {c['id']} has no title"
    assert page.locator("#status").is_hidden(), page.locator("#status").text_content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
    assert layout_problems(page) == []
    assert page.console_errors == []


def test_filter_changes_the_numbers(page: Any, dashboard: tuple[str, str]) -> None:
    _open(page, dashboard, "/")
    before = page.locator("[data-kpi=total] .value").text_content()
    page.select_option("#f-feature", "support-agent")
    page.click("#f-apply")
    page.wait_for_url("**feature=support-agent**")
    page.wait_for_selector("body[data-ready=true]")
    after = page.locator("[data-kpi=total] .value").text_content()
    assert before and after and before != after
    assert "feature=support-agent" in page.locator("nav a[data-page=tasks]").get_attribute("href")
    assert page.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview-filtered.png"), full_page=True)


def test_task_drill_down_opens(
    page: Any, dashboard: tuple[str, str], layout_problems: Callable[[Any], list[str]]
) -> None:
    """A click opens the task beside the list, in view; its tree shows two levels and builds
    the third when opened."""
    _open(page, dashboard, "/tasks")
    row = page.locator("tr.clickable", has_text="tkt-tree-").first
    row.click()
    page.wait_for_selector("#task-tree li li")
    tree = page.locator("#task-tree")
    text = tree.text_content() or ""
    assert "invoke_agent supervisor" in text and "invoke_agent researcher" in text
    assert page.locator("#task-tree-chart").get_attribute("data-points") != "0"
    # beside the list, and on screen without scrolling
    table = page.locator("table").first.bounding_box()
    panel = page.locator("#task-panel").bounding_box()
    assert panel["x"] >= table["x"] + table["width"] and panel["y"] < 1000
    # supervisor (level 0) -> researcher (level 1, open) -> its calls (level 2, not built yet)
    researcher = tree.locator("details[data-depth='1']").first
    assert researcher.get_attribute("open") is not None
    assert researcher.locator("ul").count() == 1  # built: depth 1 < 2 levels open
    assert tree.locator("details[data-depth='2']").count() == 0  # leaves only below it
    supervisor = tree.locator("details[data-depth='0'] > summary").first
    supervisor.click()  # collapse
    assert tree.locator("details[data-depth='0']").first.get_attribute("open") is None
    supervisor.click()
    assert page.url.endswith("task=" + (row.locator("td").first.text_content() or ""))
    assert layout_problems(page) == []
    assert page.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-task-drilldown.png"), full_page=True)


def test_without_a_key_asks_for_one(page: Any, dashboard: tuple[str, str]) -> None:
    url, key = dashboard
    page.goto(f"{url}/")
    page.wait_for_selector("#login[open]")
    page.fill("#login-key", "uk_read_00000000_" + "0" * 48)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login-error:not([hidden])")
    page.console_errors.clear()  # the refused key's 401 is logged by the browser itself
    page.fill("#login-key", key)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready=true]")
    assert page.console_errors == []


def test_assets_are_served_from_the_package(dashboard: tuple[str, str]) -> None:
    import httpx

    url, _ = dashboard
    html = httpx.get(f"{url}/").text
    assert "cdn" not in html.lower() and "https://" not in html
    js = httpx.get(f"{url}/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_budgets_page(page: Any, dashboard: tuple[str, str]) -> None:
    """Budgets & alerts: a burn-up per budget, the budgets in plain words, the daily spend;
    the feature filter changes the period's numbers; a runaway task opens its drill-down."""
    _open(page, dashboard, "/budgets")
    charts = {c["id"]: c for c in _charts(page)}
    for cid in ("budget-chart-0", "budget-chart-1", "daily-spend"):
        assert charts[cid]["points"] > 0 and charts[cid]["title"].strip(), charts
    # the support agent's $150 is spent: its row says so in plain words
    rows = page.locator("#content table").first.locator("tbody tr").all_text_contents()
    support = next(r for r in rows if r.startswith("support agent"))
    assert "Over budget" in support and "feature support-agent" in support and "$150.00" in support
    assert "On track" in next(r for r in rows if r.startswith("all AI spend"))
    before = page.locator("[data-kpi=period-spend] .value").text_content()
    untagged = page.locator("section.card", has_text="Tagging coverage").text_content()
    page.select_option("#f-feature", "support-agent")
    page.click("#f-apply")
    page.wait_for_url("**feature=support-agent**")
    page.wait_for_selector("body[data-ready=true]")
    after = page.locator("[data-kpi=period-spend] .value").text_content()
    assert before and after and before.startswith("$") and before != after
    assert page.locator("section.card", has_text="Tagging coverage").text_content() != untagged
    assert page.locator("#budget-chart-0").get_attribute("data-points") != "0"  # budgets stay
    assert page.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-budgets-filtered.png"), full_page=True)
    link = page.locator("a.drill").first
    task = parse_qs(urlsplit(link.get_attribute("href")).query)["task"][0]
    link.click()
    page.wait_for_url("**/tasks?**")
    page.wait_for_selector("#task-tree li")
    assert page.locator("#task-panel").get_attribute("data-task") == task
    assert page.console_errors == []


def test_bill_vs_ledger(page: Any, dashboard: tuple[str, str]) -> None:
    """Budgets & alerts shows the capture rate per provider (the demo's OpenAI bill has
    usage the ledger never saw: below the threshold) and what explains the gap."""
    _open(page, dashboard, "/budgets")
    card = page.locator("section[data-section=bill]")
    rows = card.locator("table").first.locator("tbody tr").all_text_contents()
    openai = next(r for r in rows if r.startswith("openai"))
    assert "below" in openai and "%" in openai
    assert card.locator("table").first.locator("tfoot").count() == 0  # its "all" row is one
    charts = {c["id"]: c for c in _charts(page)}
    assert charts["bill-vs-ledger"]["points"] > 0 and charts["bill-vs-ledger"]["title"].strip()
    assert "untracked usage" in card.text_content()
    assert page.console_errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    card.screenshot(path=str(ARTIFACTS / "dashboard-bill-vs-ledger.png"))


def test_tables_sort_and_download_as_csv(page: Any, dashboard: tuple[str, str]) -> None:
    _open(page, dashboard, "/tasks")
    table = page.locator("table").first
    header = table.locator("th", has_text="Cost")
    header.click()  # ascending
    assert header.get_attribute("aria-sort") == "ascending"

    def costs() -> list[float]:
        cells = table.locator("tbody tr td:nth-child(5)").all_text_contents()
        return [float(c.replace("$", "").replace(",", "")) for c in cells]

    up = costs()
    assert len(up) > 1 and up == sorted(up)
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert costs() == sorted(up, reverse=True)
    with page.expect_download() as got:
        page.locator("a.csv").first.click()
    text = Path(got.value.path()).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("Task,Feature,Customer,Started,Cost")
    assert len(lines) == len(up) + 1  # a line per row, in the order shown
    assert page.console_errors == []


def _traces(page: Any) -> dict[str, list[tuple[str, str]]]:
    """chart id -> [(trace name, its colour)] for the traces shown in the legend."""
    result: dict[str, list[tuple[str, str]]] = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.chart')].map(e => [e.id,"
        " (e.data || []).filter(t => t.showlegend !== false && t.type !== 'icicle')"
        ".map(t => [t.name || '', String((t.marker || {}).color || (t.line || {}).color)])]))"
    )
    return result


@pytest.mark.parametrize("name", ["overview", "units", "customers", "budgets", "endpoints"])
def test_one_colour_per_series(page: Any, dashboard: tuple[str, str], name: str) -> None:
    """In a chart no two series share a colour; a series has one colour on every chart."""
    _open(page, dashboard, PAGES[name])
    seen: dict[str, str] = {}
    for cid, traces in _traces(page).items():
        colours = [c for _, c in traces]
        assert len(set(colours)) == len(colours), (cid, traces)
        for series, colour in traces:
            assert seen.setdefault(series, colour) == colour, (cid, series)
    if name == "units":  # variable cost is the same series on both charts
        t = _traces(page)
        by = {n: c for cid in ("cost-per-success", "loaded-vs-variable") for n, c in t[cid]}
        assert by["variable cost"] == by["variable (calls)"]


def test_presets_set_the_window(page: Any, dashboard: tuple[str, str]) -> None:
    """The presets end with the ledger's last day: 7 days = the 7 days up to it included
    (`until` is the next day), month to date = from the 1st of its month."""
    import httpx

    url, key = dashboard
    last = dt.date.fromisoformat(
        httpx.get(f"{url}/api/v1/filters", headers={"Authorization": f"Bearer {key}"}).json()[
            "last_day"
        ]
    )
    until = last + dt.timedelta(days=1)
    _open(page, dashboard, "/")
    page.click("#f-presets button[data-preset='7']")
    page.wait_for_url("**since=**")
    page.wait_for_selector("body[data-ready=true]")
    q = parse_qs(urlsplit(page.url).query)
    assert q["since"] == [str(until - dt.timedelta(days=7))] and q["until"] == [str(until)]
    assert page.locator("#f-presets button.active").get_attribute("data-preset") == "7"
    page.click("#f-presets button[data-preset='mtd']")
    page.wait_for_url(f"**since={last.replace(day=1)}**")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#f-presets button.active").get_attribute("data-preset") == "mtd"
    assert page.console_errors == []


def test_filters_only_where_they_apply(page: Any, dashboard: tuple[str, str]) -> None:
    """The feature and customer filters (the registry's filter dimensions) show on the pages
    whose questions take them; the endpoints take the period only, the calculator nothing."""
    from unitecon.ledger import dimensions

    wanted = dimensions.names(dimensions.FILTER)
    assert sorted(wanted) == ["customer", "feature"]
    _open(page, dashboard, "/tasks")
    for d in wanted:
        assert page.locator(f"#f-{d}").is_visible()
    _open(page, dashboard, "/endpoints")
    assert page.locator("#f-since").is_visible()
    for d in wanted:
        assert page.locator(f"#f-{d}").count() == 0
    _open(page, dashboard, "/calculator")
    assert page.locator("#filters").is_hidden()
    assert page.console_errors == []


def test_totals_rows_and_iso_dates(page: Any, dashboard: tuple[str, str]) -> None:
    """The customers' totals row adds up the API's rows (summed here from the JSON with
    Decimal); dates and months read as ISO 8601."""
    import re
    from decimal import Decimal

    import httpx

    url, key = dashboard
    rows = httpx.get(
        f"{url}/api/v1/margins", params={"by": "customer"},
        headers={"Authorization": f"Bearer {key}"},
    ).json()["rows"]  # fmt: skip
    rows = [r for r in rows if r["customer"] is not None]
    revenue = sum(Decimal(r["revenue"]) for r in rows)
    margin = sum(Decimal(r["gross_margin"]) for r in rows)
    _open(page, dashboard, "/customers")
    foot = page.locator("section.card", has_text="All customers").locator("tfoot td")
    cells = [c.replace("$", "").replace(",", "") for c in foot.all_text_contents()]
    # Customer | Plan | Revenue | Variable | Fixed | Gross margin | Margin %
    assert abs(Decimal(cells[1]) - revenue) <= Decimal("0.5")
    assert abs(Decimal(cells[4]) - margin) <= Decimal("0.5")
    assert abs(Decimal(cells[5].rstrip("%")) - margin / revenue * 100) <= Decimal("0.05")
    _open(page, dashboard, "/budgets")
    months = page.locator("#b-month option").all_text_contents()
    assert all(re.fullmatch(r"\d{4}-\d{2}", m) for m in months[1:]), months
    period = page.locator("[data-kpi=period-spend] .hint").text_content() or ""
    assert re.search(r"\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}", period), period
    ticks = page.locator("#daily-spend .xtick text").all_text_contents()
    assert ticks and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) for t in ticks), ticks
    assert page.console_errors == []


def test_a_slow_read_says_what_it_is_working_out(page: Any, dashboard: tuple[str, str]) -> None:
    """A first read on a large ledger takes seconds: while one is outstanding the page says
    how many answers it is waiting for and over how many events (the ledger's count, read
    here through the API), and the line goes once the page is ready."""
    import re
    import time

    import httpx

    url, key = dashboard
    events = httpx.get(f"{url}/api/v1/filters", headers={"Authorization": f"Bearer {key}"}).json()[
        "events"
    ]

    def slow(route: Any) -> None:  # the margin model of a large ledger, played by a sleep
        time.sleep(2.5)
        route.continue_()

    page.route("**/api/v1/margins*", slow)
    page.goto(f"{url}/customers#key={key}")
    box = page.locator("#working")
    box.wait_for(state="visible")
    said = box.text_content() or ""
    assert re.match(rf"Working out \d+ answers? over {events:,} events… \d+ s\.", said), said
    page.wait_for_selector("body[data-ready=true]")
    box.wait_for(state="hidden")
    assert page.console_errors == []


def test_a_stale_answer_says_so(page: Any, dashboard: tuple[str, str]) -> None:
    """An answer the service marks stale (kept from before a restart, the ledger written
    since: tests/server/test_kept_answers.py) is shown at once, and the page says as of when
    and that it is being updated; a page of current answers says nothing."""
    _open(page, dashboard, "/customers")
    assert page.locator("#stale").is_hidden()

    def stale(route: Any) -> None:  # the service's headers on a kept answer of before
        got = route.fetch()
        headers = {**got.headers, "x-unitecon-fresh": "false"}
        headers["x-unitecon-as-of"] = "2026-03-01T10:00:00+00:00"
        route.fulfill(response=got, headers=headers)

    page.route("**/api/v1/costs*", stale)
    _open(page, dashboard, "/")
    said = page.locator("#stale").text_content() or ""
    assert page.locator("#stale").is_visible()
    assert said.startswith("Some figures are as of ") and "updating them" in said, said
    assert "2026" in said  # the oldest stale answer's time, in the reader's locale
    assert page.console_errors == []


def _cents(x: Any) -> str:
    """The CLI's money text, worked out here: half-even to the cent, `-$1,234.56`."""
    from decimal import ROUND_HALF_EVEN, Decimal

    v = Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{'-' if v < 0 else ''}${abs(v):,.2f}"


def test_money_to_the_cent_however_large(page: Any, dashboard: tuple[str, str]) -> None:
    """Every amount in the customers' table and its totals row reads to the cent, as the CLI
    prints it, however large: the margins answer is served scaled up to tens of thousands of
    dollars, with exact half-cent ties a float would round either way; each cell equals the
    answer's decimal string rounded half-even to the cent, each total the exact sum so
    rounded (before: amounts of $10,000 or more lost their cents)."""
    import json
    from decimal import Decimal

    import httpx

    from unitecon.terminal import money

    url, key = dashboard
    answer = httpx.get(
        f"{url}/api/v1/margins", params={"by": "customer"},
        headers={"Authorization": f"Bearer {key}"},
    ).json()  # fmt: skip
    cols = ["revenue", "variable_cost", "fixed_cost", "gross_margin"]
    rows = [r for r in answer["rows"] if r["customer"] is not None]
    assert len(rows) >= 3
    for r in rows:
        for k in cols:
            r[k] = str(Decimal(r[k]) * 1000 + Decimal("10000.001"))
    # ties at the half cent: half-even keeps .66 and makes .68, -$11,620.00
    rows[0]["revenue"], rows[1]["revenue"] = "12345.665", "12345.675"
    rows[2]["gross_margin"] = "-11620.005"

    def scaled(route: Any) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answer))

    page.route("**/api/v1/margins*", scaled)
    _open(page, dashboard, "/customers")
    table = page.locator("section.card", has_text="All customers").locator("table")
    shown = [
        [c.strip() for c in tr.locator("td").all_text_contents()]
        for tr in table.locator("tbody tr").all()
    ]
    # Customer | Plan | Revenue | Variable cost | Fixed cost | Gross margin | Margin %
    assert [s[2:6] for s in shown] == [[_cents(r[k]) for k in cols] for r in rows]
    assert shown[0][2] == "$12,345.66" and shown[1][2] == "$12,345.68"
    assert shown[2][5] == "-$11,620.00"
    assert shown[0][2] == money(Decimal(rows[0]["revenue"]))  # the CLI's own formatter
    foot = [c.strip() for c in table.locator("tfoot td").all_text_contents()]
    assert foot[1:5] == [_cents(sum(Decimal(r[k]) for r in rows)) for k in cols]
    assert all(Decimal(c.strip("-$").replace(",", "")) >= 10_000 for c in foot[1:4])
    assert page.console_errors == []


def test_customers_show_the_cli_labels(page: Any, dashboard: tuple[str, str]) -> None:
    """The customers page never shows a row key meant for programs (`__idle__`,
    `__unallocated__`): the idle GPU capacity row reads as the CLI prints it (`LABELS`), in
    the tables and the chart."""
    import httpx

    from unitecon.attribution.frame import IDLE, LABELS, UNALLOCATED

    url, key = dashboard
    rows = httpx.get(
        f"{url}/api/v1/margins", params={"by": "customer"},
        headers={"Authorization": f"Bearer {key}"},
    ).json()["rows"]  # fmt: skip
    assert IDLE in {r["customer"] for r in rows}  # the self-hosted endpoint's idle time
    _open(page, dashboard, "/customers")
    shown = page.locator("main").text_content() or ""
    charted = page.evaluate(
        "() => JSON.stringify([...document.querySelectorAll('.chart')].map((d) => d.data))"
    )
    for internal in (IDLE, UNALLOCATED):
        assert internal not in shown and internal not in charted
    assert LABELS[IDLE] == "Idle GPU capacity"
    table = page.locator("section.card", has_text="All customers")
    assert LABELS[IDLE] in table.locator("tbody tr td:first-child").all_text_contents()
    assert LABELS[IDLE] in charted  # the worst-margins chart's bar
    assert page.console_errors == []


def test_cost_per_task_says_which_cost(page: Any, dashboard: tuple[str, str]) -> None:
    """The overview's unit cost trend is of the variable cost (the units answer without
    `loaded`), and says so."""
    _open(page, dashboard, "/")
    title = page.locator("#unit-cost-trend").get_attribute("data-title") or ""
    assert title.startswith("Variable cost per task"), title
    _open(page, dashboard, "/unit-economics")
    heads = page.locator("section.card", has_text="By feature").locator("thead th")
    assert "Variable cost per task" in heads.all_text_contents()
