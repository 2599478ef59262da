/* unitecon dashboard: plain JS over the read API; charts with the bundled plotly.js. */
"use strict";

const KEY_STORE = "unitecon.readKey";
const PAGE = document.body.dataset.page;
const content = document.getElementById("content");
const statusEl = document.getElementById("status");

// ---- formatting -------------------------------------------------------------------------
const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

function num(v) { return v === null || v === undefined || v === "" ? null : Number(v); }

// Money as the CLI prints it (`unitecon.terminal.money`): the answer's exact decimal string
// rounded half-even to a fixed number of places (cents for amounts), thousands separators,
// "-$" before a negative amount. Worked in integers (BigInt), never through a float, so a
// figure reads the same here as in the terminal; totals add the decimal strings exactly.
/** `v` (a decimal string, a number or a dec) as { n: BigInt, scale }: v = n / 10^scale. */
function dec(v) {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "object" && typeof v.n === "bigint") return v;
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  const m = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/.exec(String(v).trim());
  if (!m || !(m[2] || m[3])) return null;
  const frac = m[3] || "";
  let n = BigInt((m[2] || "0") + frac);
  let scale = frac.length - Number(m[4] || 0);
  if (scale < 0) { n *= 10n ** BigInt(-scale); scale = 0; }
  return { n: m[1] === "-" ? -n : n, scale };
}
/** The exact sum of decimals (null ones left out; null when all are). */
function decSum(values) {
  let out = null;
  for (const v of values) {
    const d = dec(v);
    if (d === null) continue;
    if (out === null) { out = d; continue; }
    const s = Math.max(out.scale, d.scale);
    out = { n: out.n * 10n ** BigInt(s - out.scale) + d.n * 10n ** BigInt(s - d.scale), scale: s };
  }
  return out;
}
/** `d` rounded half-even to `places`: an integer count of 10^-places. */
function roundHalfEven(d, places) {
  if (d.scale <= places) return d.n * 10n ** BigInt(places - d.scale);
  const div = 10n ** BigInt(d.scale - places);
  const neg = d.n < 0n;
  const a = neg ? -d.n : d.n;
  let q = a / div;
  const r2 = (a % div) * 2n;
  if (r2 > div || (r2 === div && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}
/** `$1,234.56` (`places` after the point), `-$5.00`, "—" for no value. */
function usd(v, places = 2) {
  const d = dec(v);
  if (d === null) return "—";
  const q = roundHalfEven(d, places);
  const a = q < 0n ? -q : q;
  const p = 10n ** BigInt(places);
  const whole = (a / p).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = places ? `.${(a % p).toString().padStart(places, "0")}` : "";
  return `${q < 0n ? "-" : ""}$${whole}${frac}`;
}
/** An amount, to the cent (the CLI's scale for amounts and totals). */
function money(v) { return usd(v, 2); }
/** A cost per unit (per task, per call, per 1M tokens): 4 places, as the CLI shows them. */
function unitCost(v) { return usd(v, 4); }
/** A unit rate ($ per 1k tokens of one kind): to the micro-dollar, as `unitecon asymmetry`. */
function rate(v) { return usd(v, 6); }
function count(v) { const n = num(v); return n === null ? "—" : int.format(n); }
function pct(v) { const n = num(v); return n === null ? "—" : `${dec1.format(n * 100)}%`; }

// What people read for a row key that is not a value (idle GPU capacity, fixed cost with no
// driver, untagged spend): the service's own `LABELS` (unitecon.attribution.frame), embedded
// in the page by the server, the same names the CLI prints. No value reads as untagged.
const LABELS = JSON.parse(document.getElementById("labels").textContent);
const UNTAGGED = LABELS["(none)"];
function text(v) { return v === null || v === undefined || v === "" ? UNTAGGED : (LABELS[v] ?? String(v)); }
/** A customer's plan: none reads "—", as in the CLI's table. */
function plan(v) { return v === null || v === undefined || v === "" ? "—" : text(v); }
/** A row's name: the answer's `label` where it gives one, else its key's label. */
function rowLabel(r, key) { return r.label !== undefined && r.label !== null ? String(r.label) : text(key); }
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// ---- key and API ------------------------------------------------------------------------
function takeKeyFromHash() {
  const m = location.hash.match(/key=([^&]+)/);
  if (m) {
    localStorage.setItem(KEY_STORE, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}
function readKey() { return localStorage.getItem(KEY_STORE); }

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// ---- progress -----------------------------------------------------------------------------
// A read nobody asked before is computed from every event of its period (seconds on a large
// ledger); the service keeps the answer, so the next read of it is at once. While reads are
// outstanding for more than WORKING_AFTER_MS, a line says how many, over how many events,
// and for how long.
const WORKING_AFTER_MS = 700;
const working = { pending: 0, since: 0, events: null, timer: null };
function showWorking() {
  const box = document.getElementById("working");
  if (!box) return;
  if (!working.pending) {
    box.hidden = true;
    clearInterval(working.timer);
    working.timer = null;
    return;
  }
  const ms = performance.now() - working.since;
  if (ms < WORKING_AFTER_MS) return;
  const n = working.pending;
  const over = working.events === null ? "" : ` over ${count(working.events)} events`;
  box.textContent = `Working out ${n} answer${n === 1 ? "" : "s"}${over}… ${Math.round(ms / 1000)} s. ` +
    "A period's first read prices every event in it; the service keeps the answer, so the next read is at once.";
  box.hidden = false;
}
function readStarted() {
  if (!working.pending++) working.since = performance.now();
  if (!working.timer) working.timer = setInterval(showWorking, 250);
}
function readDone() {
  working.pending = Math.max(0, working.pending - 1);
  if (!working.pending) showWorking();
}

// An answer the service marks stale (`X-Unitecon-Fresh: false`: worked out before the
// latest writes, e.g. kept from before a restart) is shown at once while the service works
// out the current one; the page says so, with the oldest such answer's time.
let staleAsOf = null;
function noteFreshness(r) {
  if (r.headers.get("X-Unitecon-Fresh") !== "false") return;
  const asOf = new Date(r.headers.get("X-Unitecon-As-Of") || Date.now());
  if (staleAsOf === null || asOf < staleAsOf) staleAsOf = asOf;
  const box = document.getElementById("stale");
  if (!box) return;
  box.textContent = `Some figures are as of ${staleAsOf.toLocaleString()}, before the latest data ` +
    "arrived; the service is updating them. Reload in a moment for the current figures.";
  box.hidden = false;
}

async function api(path, params = {}, init = {}) {
  const url = new URL(`/api/v1/${path}`, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
  const headers = { Authorization: `Bearer ${readKey()}`, ...(init.headers || {}) };
  readStarted();
  try {
    const r = await fetch(url, { ...init, headers });
    noteFreshness(r);
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new ApiError(r.status, (body.error && body.error.message) || r.statusText);
    return body;
  } finally { readDone(); }
}

function askForKey(message) {
  const dlg = document.getElementById("login");
  const err = document.getElementById("login-error");
  err.hidden = !message;
  err.textContent = message || "";
  dlg.showModal();
  document.getElementById("login-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const key = document.getElementById("login-key").value.trim();
    localStorage.setItem(KEY_STORE, key);
    const check = await fetch("/api/v1/whoami", { headers: { Authorization: `Bearer ${key}` } });
    if (!check.ok) {
      localStorage.removeItem(KEY_STORE);
      const body = await check.json().catch(() => ({}));
      err.textContent = (body.error && body.error.message) || "That key was not accepted.";
      err.hidden = false;
      return;
    }
    dlg.close();
    start();
  };
}

function showStatus(msg, kind = "error") {
  statusEl.textContent = msg;
  statusEl.className = `status ${kind === "info" ? "info" : ""}`;
  statusEl.hidden = false;
}

// ---- filters ----------------------------------------------------------------------------
// Which filters a page's questions take: its period (since/until) and the dimension
// registry's filter dimensions (those whose `uses` include "filter", listed by /filters).
// A filter a page ignores is not shown there. Budgets follow their own month picker (the
// period and dimensions still drive anomalies, runaways, coverage); an endpoint's GPU hours
// are paid whatever calls use them, so its page takes the period only; the calculator
// sizes a workload you type and takes neither.
const APPLIES = {
  overview: { period: true, dims: true }, units: { period: true, dims: true },
  customers: { period: true, dims: true }, tasks: { period: true, dims: true },
  budgets: { period: true, dims: true }, endpoints: { period: true, dims: false },
  calculator: { period: false, dims: false },
};
const PERIOD = ["since", "until"];
// the values each filter dimension can take, from /filters
const CHOICES = { feature: "features", customer: "customers" };
let FILTERS = PERIOD.slice();

function currentFilters() {
  const q = new URLSearchParams(location.search);
  const f = {};
  for (const k of FILTERS) f[k] = q.get(k) || "";
  return f;
}
function filterQuery(f) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}
/** The period and filter dimensions in the address, whether or not this page takes them
 * (the navigation carries them to the pages that do). */
function carriedQuery() {
  const q = new URLSearchParams(location.search);
  q.delete("task"); q.delete("month");
  const s = q.toString();
  return s ? `?${s}` : "";
}
function isoDay(d) { return d.toISOString().slice(0, 10); }
function addDays(day, n) { const d = new Date(`${day}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + n); return isoDay(d); }
/** A preset's window, ending with the ledger's last day (its `until` is the day after). */
function presetWindow(preset, lastDay) {
  const until = addDays(lastDay, 1);
  const since = preset === "mtd" ? `${lastDay.slice(0, 7)}-01` : addDays(until, -Number(preset));
  return { since, until };
}

async function setupFilters() {
  const form = document.getElementById("filters");
  const applies = APPLIES[PAGE] || { period: true, dims: true };
  const choices = await api("filters");
  working.events = num(choices.events);
  const dims = applies.dims ? (choices.dimensions || []).filter((d) => d.uses.includes("filter") && d.name in CHOICES) : [];
  FILTERS = [...(applies.period ? PERIOD : []), ...dims.map((d) => d.name)];
  const f = currentFilters();
  form.hidden = !FILTERS.length;
  document.getElementById("f-period").hidden = !applies.period;
  const box = document.getElementById("f-dims");
  box.replaceChildren();
  for (const d of dims) {
    const label = el(`<label>${esc(d.label)} <select name="${esc(d.name)}" id="f-${esc(d.name)}">` +
      `<option value="">All ${esc(CHOICES[d.name])}</option></select></label>`);
    const sel = label.querySelector("select");
    for (const v of choices[CHOICES[d.name]] || []) {
      const o = document.createElement("option");
      o.value = v; o.textContent = text(v); sel.appendChild(o);
    }
    box.appendChild(label);
  }
  for (const k of FILTERS) document.getElementById(`f-${k}`).value = f[k];
  document.getElementById("f-range").textContent = choices.first_day
    ? `Data from ${choices.first_day} to ${choices.last_day} · ${count(choices.events)} events`
    : "The ledger is empty: send spans to /v1/traces or run `unitecon demo`.";
  const go = (nf) => {
    const q = new URLSearchParams(location.search);
    q.delete("task");
    for (const k of FILTERS) { if (nf[k]) q.set(k, nf[k]); else q.delete(k); }
    const s = q.toString();
    location.search = s ? `?${s}` : "";
  };
  const read = () => Object.fromEntries(FILTERS.map((k) => [k, document.getElementById(`f-${k}`).value]));
  form.onsubmit = (ev) => { ev.preventDefault(); go(read()); };
  for (const b of document.querySelectorAll("#f-presets button")) {
    b.disabled = !choices.last_day;
    if (!choices.last_day) continue;
    const w = presetWindow(b.dataset.preset, choices.last_day);
    b.title = `${w.since} to ${choices.last_day} (the ledger's last day)`;
    if (f.since === w.since && f.until === w.until) b.classList.add("active");
    b.onclick = () => go({ ...read(), ...w });
  }
  document.getElementById("f-reset").onclick = () => { location.search = ""; };
  for (const a of document.querySelectorAll("nav a")) a.href = a.getAttribute("href").split("?")[0] + carriedQuery();
  return { filters: f, choices };
}

// ---- building blocks --------------------------------------------------------------------
function el(html) {
  const t = document.createElement("template");
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}
function kpis(items) {
  const box = el('<div class="kpis"></div>');
  for (const [label, value, hint, id] of items) {
    box.appendChild(el(`<div class="kpi" data-kpi="${esc(id || label)}"><div class="label">${esc(label)}</div>` +
      `<div class="value">${esc(value)}</div>${hint ? `<div class="hint">${esc(hint)}</div>` : ""}</div>`));
  }
  content.appendChild(box);
}
function grid() { const g = el('<div class="grid"></div>'); content.appendChild(g); return g; }
function card(parent, title, opts = {}) {
  const c = el(`<section class="card${opts.wide ? " wide" : ""}"><h2>${esc(title)}</h2></section>`);
  parent.appendChild(c);
  return c;
}
/** Scroll `e` into view only when its top is off screen (beside the list it already is). */
function inView(e) {
  const r = e.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 80) e.scrollIntoView({ block: "start" });
}
function note(parent, msg) { parent.appendChild(el(`<p class="note">${esc(msg)}</p>`)); }

const LAYOUT = {
  margin: { t: 40, r: 20, b: 60, l: 70 }, font: { family: "system-ui, sans-serif", size: 12 },
  paper_bgcolor: "#fff", plot_bgcolor: "#fff", legend: { orientation: "h", y: -0.2 },
};
const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

// One colour per series, the same series the same colour on every chart and page: series
// that mean the same thing share a key (SERIES), other names (models, plans, kinds) get the
// next free palette colour the first time any chart shows them, remembered in the browser.
const PALETTE = ["#e8590c", "#1098ad", "#d6336c", "#5c940d", "#845ef7", "#495057", "#74c0fc", "#ffa94d",
  "#63e6be", "#e599f7", "#ffd43b", "#66d9e8", "#a9e34b", "#f783ac", "#8d6e63", "#364fc7"];
const SERIES = {
  variable: "#2f6fed", fixed: "#f59f00", idle: "#98a2b3", loaded: "#ae3ec9", spent: "#101828",
  forecast: "#2f6fed", budget: "#c4320a", api: "#c4320a", tracked: "#2f6fed", billed: "#101828",
  unusual: "#c4320a", spend: "#98a2b3", own: "#2f6fed", delegated: "#0ca678", busy: "#2f6fed",
};
const COLOUR_STORE = "unitecon.colours";
const colours = (() => { try { return JSON.parse(localStorage.getItem(COLOUR_STORE) || "{}"); } catch { return {}; } })();
function colourOf(name) {
  if (name in SERIES) return SERIES[name];
  if (!(name in colours)) {
    const used = new Set(Object.values(colours));
    colours[name] = PALETTE.find((c) => !used.has(c)) || PALETTE[Object.keys(colours).length % PALETTE.length];
    try { localStorage.setItem(COLOUR_STORE, JSON.stringify(colours)); } catch { /* private mode */ }
  }
  return colours[name];
}
/** Give each trace its series colour (`t.series` or its name) unless it sets one. */
function colourTraces(traces) {
  for (const t of traces) {
    const key = t.series || t.name;
    delete t.series;
    if (!key || t.type === "icicle") continue;
    const c = colourOf(key);
    if (t.type === "bar") { if (!(t.marker && t.marker.color)) t.marker = { ...(t.marker || {}), color: c }; }
    else {
      if (!(t.line && t.line.color) && !t.fill) t.line = { ...(t.line || {}), color: c };
      if (!(t.marker && t.marker.color)) t.marker = { ...(t.marker || {}), color: c };
    }
  }
  return traces;
}

const pendingCharts = [];
function drawCharts() { for (const draw of pendingCharts.splice(0)) draw(); }

/** Draw a titled plotly chart in `parent`; data-points records how many points it shows. */
function chart(parent, id, title, traces, layout = {}) {
  const div = el(`<div class="chart" id="${esc(id)}" role="img" aria-label="${esc(title)}"></div>`);
  parent.appendChild(div);
  const points = traces.reduce((n, t) => n + ((t.x || t.values || t.y || []).length), 0);
  div.dataset.points = String(points);
  div.dataset.title = title;
  if (!points) { div.replaceWith(el(`<p class="note" data-empty-chart="${esc(id)}">${esc(title)}: no data for these filters.</p>`)); return; }
  // Drawn once the code placing its card has placed the others too (a chart drawn while its
  // card was alone in the grid would keep the full row's width); the title wraps to the
  // card's width (plotly draws one line, cut at the chart's edge).
  pendingCharts.push(() => {
    const lines = wrapWords(title, Math.max(20, Math.floor((div.clientWidth || 600) / 7.6)));
    const margin = { ...LAYOUT.margin, ...(layout.margin || {}) };
    margin.t = Math.max(margin.t, 22 + 18 * lines.length);
    Plotly.newPlot(div, colourTraces(traces),
      { ...LAYOUT, title: { text: lines.join("<br>"), x: 0, font: { size: 14 } }, ...layout, margin }, CONFIG);
  });
  if (pendingCharts.length === 1) queueMicrotask(drawCharts);
}
/** `text` in lines of at most `width` characters, broken between words. */
function wrapWords(text, width) {
  const lines = [];
  let line = "";
  for (const w of String(text).split(" ")) {
    if (line && line.length + 1 + w.length > width) { lines.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}
const moneyAxis = { tickprefix: "$", separatethousands: true, rangemode: "tozero" };
const dateAxis = { type: "date", tickformat: "%Y-%m-%d", hoverformat: "%Y-%m-%d" };

/** A table of `rows`: click a header to sort by it (numbers by value), "CSV" downloads
 * the rows as the answer gives them (raw values, not the formatted cells). A column with
 * `sum` (the row's raw value; `as` formats the total, money by default) or `total` (all rows
 * -> text) fills a totals row under the rows; `opts.shown` says the rows are the top N of
 * more (the totals are then of the rows shown). Tables of alternatives or of overlapping
 * scopes (budgets, anomalies) have no sums, so no totals row. */
function tableOf(parent, cols, rows, opts = {}) {
  const t = el("<table><thead><tr></tr></thead><tbody></tbody></table>");
  const head = t.querySelector("tr");
  const body = t.querySelector("tbody");
  const value = (c, r) => (c.raw ? c.raw(r) : c.get(r));
  let shown = rows.slice();
  const fill = () => {
    body.replaceChildren();
    for (const r of shown) {
      const tr = document.createElement("tr");
      for (const c of cols) {
        const v = c.get(r);
        const td = document.createElement("td");
        if (c.num) td.className = "num";
        if (c.sign && num(c.raw(r)) < 0) td.classList.add("neg");
        td.textContent = v;
        tr.appendChild(td);
      }
      if (opts.onClick) { tr.className = "clickable"; tr.tabIndex = 0; tr.onclick = () => opts.onClick(r, tr); }
      body.appendChild(tr);
    }
  };
  cols.forEach((c) => {
    const th = el(`<th class="${c.num ? "num " : ""}sortable" tabindex="0" aria-sort="none" title="sort">${esc(c.label)}</th>`);
    const sort = () => {
      const asc = th.getAttribute("aria-sort") !== "ascending";
      for (const h of head.children) h.setAttribute("aria-sort", "none");
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      // numbers by value: the answer's raw value, or the cell's text without $ , % and spaces
      const key = (r) => {
        if (!c.num) return String(c.get(r) ?? "");
        const v = c.raw ? num(c.raw(r)) : num(String(c.get(r)).replace(/[$,%\s]/g, "").replace("—", ""));
        return v === null || Number.isNaN(v) ? -Infinity : v;
      };
      shown = rows.slice().sort((a, b) => {
        const x = key(a), y = key(b);
        const o = c.num ? (x === y ? 0 : x < y ? -1 : 1) : x.localeCompare(y);
        return asc ? o : -o;
      });
      fill();
    };
    th.onclick = sort;
    th.onkeydown = (e) => { if (e.key === "Enter") sort(); };
    head.appendChild(th);
  });
  fill();
  if (rows.length && cols.some((c) => c.sum || c.total)) {
    const tr = document.createElement("tr");
    cols.forEach((c, i) => {
      const td = document.createElement(i === 0 ? "th" : "td");
      if (c.num) td.className = "num";
      if (c.total) td.textContent = c.total(rows);
      else if (c.sum) {
        if (c.as === count) td.textContent = count(rows.reduce((a, r) => a + (num(c.sum(r)) || 0), 0));
        else {  // money: the answer's decimal strings added exactly, then rounded as a cell
          const v = decSum(rows.map((r) => c.sum(r)));
          td.textContent = (c.as || money)(v === null ? 0 : v);
          if (c.sign && v !== null && v.n < 0n) td.classList.add("neg");
        }
      } else if (i === 0) td.textContent = opts.shown ? `Total of the ${rows.length} shown` : "Total";
      tr.appendChild(td);
    });
    const foot = document.createElement("tfoot");
    foot.appendChild(tr);
    t.appendChild(foot);
  }
  parent.appendChild(t);
  if (!rows.length) { note(parent, opts.empty || "Nothing to show for these filters."); return t; }
  const csv = () => {
    const cell = (v) => { const s = v == null ? "" : String(v); return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
    const lines = [cols.map((c) => cell(c.label)).join(",")];
    for (const r of shown) lines.push(cols.map((c) => cell(value(c, r))).join(","));
    return lines.join("\n") + "\n";
  };
  const a = el(`<a class="csv" href="#" download="${esc(opts.name || "table")}.csv">CSV</a>`);
  a.onclick = () => { a.href = URL.createObjectURL(new Blob([csv()], { type: "text/csv" })); };
  parent.appendChild(a);
  return t;
}

// ---- pages ------------------------------------------------------------------------------
async function overview(f) {
  const [byDayModel, byFeature, byCustomer, units] = await Promise.all([
    api("costs", { ...f, by: "day,model" }),
    api("costs", { ...f, by: "feature", limit: 10 }),
    api("costs", { ...f, by: "customer", limit: 10 }),
    api("metrics/units", { ...f, by: "month" }),
  ]);
  const days = new Set(byDayModel.rows.map((r) => r.dims.day));
  const events = byDayModel.rows.reduce((n, r) => n + r.events, 0);
  const unpriced = byDayModel.rows.reduce((n, r) => n + r.unpriced_events, 0);
  kpis([
    ["Total spend", money(byDayModel.total_cost), "variable cost of AI calls", "total"],
    ["Model calls and spans", count(events), `${days.size} days`, "events"],
    ["Calls without a price", count(unpriced), unpriced ? "see Prices missing below" : "all priced", "unpriced"],
  ]);
  const g = grid();
  const models = [...new Set(byDayModel.rows.map((r) => text(r.dims.model)))];
  const traces = models.map((m) => {
    const rows = byDayModel.rows.filter((r) => text(r.dims.model) === m).sort((a, b) => (a.dims.day < b.dims.day ? -1 : 1));
    return { type: "bar", name: m, x: rows.map((r) => r.dims.day), y: rows.map((r) => num(r.cost)),
      hovertemplate: "%{x}<br>" + esc(m) + ": $%{y:,.2f}<extra></extra>" };
  });
  chart(card(g, "Spend by day and model", { wide: true }), "spend-by-day", "Spend by day and model (USD)", traces,
    { barmode: "stack", yaxis: moneyAxis, xaxis: dateAxis });
  const hbar = (rows, key) => [{ type: "bar", orientation: "h", series: "variable", x: rows.map((r) => num(r.cost)).reverse(),
    y: rows.map((r) => text(r.dims[key])).reverse(), hovertemplate: "%{y}: $%{x:,.2f}<extra></extra>" }];
  chart(card(g, "Top features"), "top-features", "Top features by spend (USD)", hbar(byFeature.rows, "feature"),
    { xaxis: moneyAxis, yaxis: { automargin: true }, margin: { ...LAYOUT.margin, l: 140 } });
  chart(card(g, "Top customers"), "top-customers", "Top customers by spend (USD)", hbar(byCustomer.rows, "customer"),
    { xaxis: moneyAxis, yaxis: { automargin: true }, margin: { ...LAYOUT.margin, l: 110 } });
  const months = units.rows.filter((r) => !String(r.key).startsWith("__")).sort((a, b) => (a.key < b.key ? -1 : 1));
  // the answer's costs per task are of the variable cost unless it says `loaded`
  const basis = units.loaded ? "fully loaded" : "variable";
  const c = card(g, "Unit cost trend");
  const mx = months.map((r) => String(r.key).slice(0, 7));
  chart(c, "unit-cost-trend", `${basis[0].toUpperCase()}${basis.slice(1)} cost per task and per successful task, by month (USD)`, [
    { type: "scatter", mode: "lines+markers", name: `${basis} cost per task`, x: mx, y: months.map((r) => num(r.cost_per_task)) },
    { type: "scatter", mode: "lines+markers", name: `${basis} cost per successful task`, x: mx, y: months.map((r) => num(r.cost_per_successful_task)) },
  ], { yaxis: moneyAxis, xaxis: { type: "category" } });
  note(c, "A task is one agent run or request flow; successful means its outcome was accepted.");
  await missingPrices(g, f);
}

async function missingPrices(g, f) {
  const rows = await api("prices/missing", f);
  if (!rows.length) return;
  const c = card(g, "Prices or usage missing", { wide: true });
  tableOf(c, [
    { label: "Provider", get: (r) => text(r.provider) },
    { label: "Model", get: (r) => r.model },
    { label: "Calls", num: true, sum: (r) => r.events, as: count, get: (r) => count(r.events) },
    { label: "Why", get: (r) => r.reason },
  ], rows);
  note(c, "These calls have no cost above (never $0): a model without a price until one is added to the project file, or calls that came without usage (fix at the source) (unitecon prices missing).");
}

async function unitEconomics(f) {
  const [v, l] = await Promise.all([api("metrics/units", { ...f, by: "feature" }), api("metrics/units", { ...f, by: "feature", loaded: true })]);
  const loaded = Object.fromEntries(l.rows.map((r) => [r.key, r]));
  const rows = v.rows.filter((r) => !(r.key in LABELS));
  const g = grid();
  const feats = rows.map((r) => rowLabel(r, r.key));
  chart(card(g, "Cost per successful task"), "cost-per-success", "Cost per successful task by feature (USD)", [
    { type: "bar", name: "variable cost", series: "variable", x: feats, y: rows.map((r) => num(r.cost_per_successful_task)) },
    { type: "bar", name: "loaded cost", series: "loaded", x: feats, y: rows.map((r) => num((loaded[r.key] || {}).cost_per_successful_task)) },
  ], { barmode: "group", yaxis: moneyAxis });
  chart(card(g, "Variable and loaded cost"), "loaded-vs-variable", "Variable vs fully loaded cost by feature (USD)", [
    { type: "bar", name: "variable (calls)", series: "variable", x: feats, y: rows.map((r) => num(r.variable_cost)) },
    { type: "bar", name: "fixed costs allocated", series: "fixed", x: feats, y: rows.map((r) => num(r.fixed_cost)) },
    { type: "bar", name: "idle GPU time", series: "idle", x: feats, y: rows.map((r) => num(r.idle_cost)) },
  ], { barmode: "stack", yaxis: moneyAxis });
  chart(card(g, "Rework"), "rework", "Share of spend on rework (retries, rejected outputs)", [
    { type: "bar", series: "rework share", x: feats, y: rows.map((r) => num(r.rework_share)), hovertemplate: "%{x}: %{y:.1%}<extra></extra>" },
  ], { yaxis: { tickformat: ".0%", rangemode: "tozero" } });
  const c = card(g, "By feature", { wide: true });
  tableOf(c, [
    { label: "Feature", get: (r) => rowLabel(r, r.key) },
    { label: "Variable cost", num: true, sum: (r) => r.variable_cost, get: (r) => money(r.variable_cost) },
    { label: "Loaded cost", num: true, sum: (r) => r.loaded_cost, get: (r) => money(r.loaded_cost) },
    { label: "Tasks", num: true, sum: (r) => r.tasks, as: count, get: (r) => count(r.tasks) },
    { label: "Successful", num: true, sum: (r) => r.successful_tasks, as: count, get: (r) => count(r.successful_tasks) },
    { label: "Variable cost per task", num: true, raw: (r) => r.cost_per_task, get: (r) => unitCost(r.cost_per_task) },
    { label: "Variable cost per successful task", num: true, raw: (r) => r.cost_per_successful_task, get: (r) => unitCost(r.cost_per_successful_task) },
    { label: "Rework share", num: true, get: (r) => pct(r.rework_share) },
    { label: "Cost per 1,000 tokens", num: true, raw: (r) => r.cost_per_1k_tokens, get: (r) => unitCost(r.cost_per_1k_tokens) },
  ], v.rows);
  note(c, "Loaded cost adds allocated fixed costs and idle self-hosted GPU time to the calls' variable cost.");
  const asym = await api("asymmetry", { ...f, by: "model" });
  const kinds = [["input", "Input"], ["output", "Output"], ["cache_read", "Cache reads"], ["reasoning", "Reasoning"]];
  const ac = card(g, "Input vs output cost by model", { wide: true });
  // horizontal bars, the largest model on top (as the report draws it): long model names
  // read on the y axis instead of rotated into the legend below
  chart(ac, "asymmetry", "Share of each model's token cost by kind of token", kinds.map(([k, label]) => (
    { type: "bar", orientation: "h", name: label, y: asym.rows.map((r) => text(r.key)).reverse(),
      x: asym.rows.map((r) => num((r[k] || {}).cost_share)).reverse(), hovertemplate: "%{y}: %{x:.1%}<extra></extra>" }
  )), { barmode: "group", xaxis: { tickformat: ".0%", rangemode: "tozero" }, yaxis: { type: "category", automargin: true },
    legend: { orientation: "h", y: -0.12, traceorder: "normal" } });
  const asymDiv = ac.querySelector("#asymmetry");
  if (asymDiv) asymDiv.style.height = `${Math.max(340, 140 + 56 * asym.rows.length)}px`;
  tableOf(ac, [
    { label: "Model", get: (r) => text(r.key) },
    { label: "Token cost", num: true, sum: (r) => r.token_cost, get: (r) => money(r.token_cost) },
    ...kinds.map(([k, label]) => ({ label: `${label} per 1k tokens`, num: true, get: (r) => rate((r[k] || {}).cost_per_1k_tokens) })),
    { label: "Output / input price", num: true, get: (r) => (r.output_input_price_ratio == null ? "—" : `${num(r.output_input_price_ratio).toFixed(1)}x`) },
  ], asym.rows);
  const asymF = await api("asymmetry", { ...f, by: "feature" });
  tableOf(ac, [
    { label: "Feature", get: (r) => text(r.key) },
    { label: "Token cost", num: true, sum: (r) => r.token_cost, get: (r) => money(r.token_cost) },
    ...kinds.map(([k, label]) => ({ label: `${label} share`, num: true, get: (r) => pct((r[k] || {}).cost_share) })),
    ...kinds.map(([k, label]) => ({ label: `${label} per 1k tokens`, num: true, get: (r) => rate((r[k] || {}).cost_per_1k_tokens) })),
  ], asymF.rows);
  note(ac, "API calls over the period, by model (chart and first table) and by feature. Cache reads are part of input, reasoning part of output (unitecon asymmetry).");
  const t = await api("tasks", { ...f, limit: 20 });
  const sup = card(g, "Supervisor overhead", { wide: true });
  const top = t.rows.filter((r) => r.supervisor);
  chart(sup, "supervisor", "Most expensive tasks: the supervisor's own calls vs work it delegated (USD)", [
    { type: "bar", name: "supervisor's own calls", series: "own", x: top.map((r) => r.task), y: top.map((r) => num(r.supervisor_cost)) },
    { type: "bar", name: "delegated to sub-agents and tools", series: "delegated", x: top.map((r) => r.task), y: top.map((r) => num(r.cost) - num(r.supervisor_cost)) },
  ], { barmode: "stack", yaxis: moneyAxis, xaxis: { type: "category", showticklabels: false, title: "tasks, most expensive first" } });
}

async function customers(f) {
  const [m, col] = await Promise.all([api("margins", { ...f, by: "customer" }), api("collapse", f)]);
  const g = grid();
  const c1 = card(g, "Margin vs usage", { wide: true });
  if (col.rows.length) {
    const traces = [];
    const shapes = [];
    col.rows.forEach((plan, i) => {
      const color = colourOf(`plan ${plan.plan}`);
      const pos = plan.positions;
      traces.push({ type: "scatter", mode: "markers", name: `${plan.plan} customers`, marker: { color, size: 9 },
        x: pos.map((p) => num(p.usage)), y: pos.map((p) => num(p.gross_margin)), text: pos.map((p) => text(p.customer_id)),
        hovertemplate: "%{text}<br>usage %{x:,.0f} " + esc(plan.unit) + "<br>margin $%{y:,.2f}<extra></extra>" });
      const mean = plan.lines && plan.lines.mean ? plan.lines.mean : {};
      for (const [k, label, dash] of [["u0", "break-even", "solid"], ["u_m", "target margin", "dot"]]) {
        if (mean[k] !== null && mean[k] !== undefined) {
          shapes.push({ type: "line", xref: "x", yref: "paper", x0: num(mean[k]), x1: num(mean[k]), y0: 0, y1: 1, line: { color, dash, width: 1.5 } });
          traces.push({ type: "scatter", mode: "lines", name: `${plan.plan}: ${label} at ${dec1.format(num(mean[k]))} ${plan.unit}`,
            x: [num(mean[k]), num(mean[k])], y: [null, null], line: { color, dash }, hoverinfo: "skip" });
        }
      }
    });
    chart(c1, "margin-vs-usage", "Gross margin per customer vs usage, with each plan's collapse lines", traces,
      { shapes, xaxis: { title: "usage per month", rangemode: "tozero" }, yaxis: { ...moneyAxis, rangemode: "normal", title: "gross margin (USD)" } });
    note(c1, "Right of a solid line a customer on that plan loses money; right of a dotted line it is below the target margin.");
  } else {
    note(c1, "No price plans configured: add a `revenue` section (plans, customers) to the project file.");
  }
  const rows = m.rows.filter((r) => r.customer !== null);
  const worst = rows.slice(0, 15);
  chart(card(g, "Gross margin by customer"), "margin-by-customer", "Gross margin by customer, worst 15 (USD)", [
    { type: "bar", orientation: "h", x: worst.map((r) => num(r.gross_margin)).reverse(), y: worst.map((r) => rowLabel(r, r.customer)).reverse(),
      marker: { color: worst.map((r) => (num(r.gross_margin) < 0 ? "#c4320a" : "#067647")).reverse() },
      hovertemplate: "%{y}: $%{x:,.2f}<extra></extra>" },
  ], { xaxis: moneyAxis, yaxis: { automargin: true }, margin: { ...LAYOUT.margin, l: 110 } });
  const under = rows.filter((r) => num(r.gross_margin) < 0);
  const c2 = card(g, `Underwater customers (${under.length})`);
  tableOf(c2, [
    { label: "Customer", get: (r) => rowLabel(r, r.customer) },
    { label: "Plan", get: (r) => plan(r.plan) },
    { label: "Revenue", num: true, sum: (r) => r.revenue, get: (r) => money(r.revenue) },
    { label: "Cost", num: true, sum: (r) => decSum([r.variable_cost, r.fixed_cost]), get: (r) => money(decSum([r.variable_cost, r.fixed_cost])) },
    { label: "Gross margin", num: true, sign: true, sum: (r) => r.gross_margin, raw: (r) => r.gross_margin, get: (r) => money(r.gross_margin) },
  ], under, { empty: "No customer is underwater for these filters." });
  const c3 = card(g, "All customers", { wide: true });
  tableOf(c3, [
    { label: "Customer", get: (r) => rowLabel(r, r.customer) },
    { label: "Plan", get: (r) => plan(r.plan) },
    { label: "Revenue", num: true, sum: (r) => r.revenue, get: (r) => money(r.revenue) },
    { label: "Variable cost", num: true, sum: (r) => r.variable_cost, get: (r) => money(r.variable_cost) },
    { label: "Fixed cost", num: true, sum: (r) => r.fixed_cost, get: (r) => money(r.fixed_cost) },
    { label: "Gross margin", num: true, sign: true, sum: (r) => r.gross_margin, raw: (r) => r.gross_margin, get: (r) => money(r.gross_margin) },
    { label: "Margin %", num: true, get: (r) => pct(r.gross_margin_pct),
      total: (all) => { const rev = all.reduce((a, r) => a + num(r.revenue), 0); return rev ? pct(all.reduce((a, r) => a + num(r.gross_margin), 0) / rev) : "—"; } },
  ], rows);
}

// The task tree renders its first levels; a deeper level is built when its parent is
// opened, and a long list of siblings shows its first TREE_CHUNK with a button for the rest,
// so a runaway task of hundreds of spans opens at once.
const TREE_OPEN_DEPTH = 2;
const TREE_CHUNK = 40;
function leafCount(n) { return n.children.length ? n.children.reduce((a, c) => a + leafCount(c), 0) : 1; }
function treeLabel(n) {
  return `<span class="node"><span class="op">${esc(n.label)}</span>` +
    `${n.agent ? `<span class="agent">${esc(n.agent)}</span>` : ""}` +
    `<span class="num">${usd(n.inclusive_cost, 6)}</span>` +
    `${n.children.length ? `<span class="muted">own ${usd(n.cost, 6)} · ${count(leafCount(n))} calls</span>` : ""}</span>`;
}
function treeList(nodes, depth) {
  const ul = document.createElement("ul");
  const more = (from) => {
    for (const n of nodes.slice(from, from + TREE_CHUNK)) ul.appendChild(treeItem(n, depth));
    const rest = nodes.length - from - TREE_CHUNK;
    if (rest > 0) {
      const li = el(`<li><button type="button" class="secondary more">Show ${count(Math.min(rest, TREE_CHUNK))} more of ${count(rest)}</button></li>`);
      li.querySelector("button").onclick = () => { li.remove(); more(from + TREE_CHUNK); };
      ul.appendChild(li);
    }
  };
  more(0);
  return ul;
}
function treeItem(n, depth) {
  const li = document.createElement("li");
  if (!n.children.length) { li.innerHTML = treeLabel(n); return li; }
  const d = el(`<details><summary>${treeLabel(n)}</summary></details>`);
  d.dataset.depth = String(depth);
  const build = () => { if (!d.dataset.built) { d.dataset.built = "1"; d.appendChild(treeList(n.children, depth + 1)); } };
  if (depth < TREE_OPEN_DEPTH) { d.open = true; build(); }
  d.addEventListener("toggle", () => { if (d.open) build(); });
  li.appendChild(d);
  return li;
}

async function openTask(id, panel) {
  panel.innerHTML = "";
  panel.appendChild(el(`<h2>Task ${esc(id)}</h2>`));
  const wait = el('<p class="muted">Loading its agent tree…</p>');
  panel.appendChild(wait);
  const t = await api(`tasks/${encodeURIComponent(id)}`);
  wait.remove();
  panel.dataset.task = id;
  const box = el('<div class="kpis"></div>');
  panel.appendChild(box);
  for (const [label, value] of [["Task cost", unitCost(t.cost)], ["Calls", count(t.calls)], ["Depth", count(t.depth)], ["Widest fan-out", count(t.fan_out)]]) {
    box.appendChild(el(`<div class="kpi"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div></div>`));
  }
  const ids = [], parents = [], labels = [], values = [];
  const walk = (n, parent) => {
    ids.push(n.span_id); parents.push(parent); labels.push(n.label); values.push(num(n.inclusive_cost));
    n.children.forEach((c) => walk(c, n.span_id));
  };
  t.roots.forEach((r) => walk(r, ""));
  chart(panel, "task-tree-chart", `Where the cost of task ${id} went (USD)`,
    [{ type: "icicle", ids, parents, labels, values, branchvalues: "total", hovertemplate: "%{label}<br>$%{value:,.4f}<extra></extra>" }],
    { margin: { t: 40, r: 10, b: 10, l: 10 } });
  const tree = el('<div class="tree" id="task-tree"></div>');
  tree.appendChild(treeList(t.roots, 0));
  panel.appendChild(tree);
  note(panel, "Only the calls at the leaves cost money; an agent's amount is the sum of everything below it.");
}

async function tasks(f) {
  const [t, agents] = await Promise.all([api("tasks", { ...f, limit: 25 }), api("costs", { ...f, by: "agent" })]);
  // the list and the open task side by side; the task's panel stays in view while scrolling
  const split = el('<div class="split"></div>');
  content.appendChild(split);
  const c = card(split, "Most expensive tasks");
  const panel = el('<section class="card task-panel" id="task-panel"><p class="muted">Click a task to see its agent tree.</p></section>');
  tableOf(c, [
    { label: "Task", get: (r) => r.task },
    { label: "Feature", get: (r) => text(r.feature) },
    { label: "Customer", get: (r) => text(r.customer_id) },
    { label: "Started", get: (r) => (r.start || "").replace("T", " ").slice(0, 16) },
    { label: "Cost", num: true, sum: (r) => r.cost, as: unitCost, raw: (r) => r.cost, get: (r) => unitCost(r.cost) },
    { label: "Calls", num: true, sum: (r) => r.calls, as: count, get: (r) => count(r.calls) },
    { label: "Agents", num: true, get: (r) => count(r.agents) },
  ], t.rows, {
    shown: true,
    onClick: (r, tr) => {
      for (const x of c.querySelectorAll("tr.selected")) x.classList.remove("selected");
      tr.classList.add("selected");
      const q = new URLSearchParams(location.search);
      q.set("task", r.task);
      history.replaceState(null, "", `${location.pathname}?${q}`);
      openTask(r.task, panel).then(() => inView(panel)).catch(fail);
    },
  });
  split.appendChild(panel);
  const wanted = new URLSearchParams(location.search).get("task");
  if (wanted) {
    await openTask(wanted, panel);
    inView(panel);
  }
  const g = grid();
  const rows = agents.rows.filter((r) => r.dims.agent !== null);
  chart(card(g, "Spend by agent", { wide: true }), "spend-by-agent", "Spend by agent (USD)",
    [{ type: "bar", series: "variable", x: rows.map((r) => r.dims.agent), y: rows.map((r) => num(r.cost)), hovertemplate: "%{x}: $%{y:,.2f}<extra></extra>" }],
    { yaxis: moneyAxis });
}

async function endpoints(f) {
  const e = await api("endpoints", f);
  const g = grid();
  if (!e.rows.length) {
    note(card(g, "Self-hosted endpoints", { wide: true }),
      "No self-hosted endpoints configured: add an `endpoints` section (GPU type, count, $/hour) to the project file.");
    return;
  }
  const names = e.rows.map((r) => r.endpoint);
  chart(card(g, "Utilization"), "utilization", "GPU utilization by endpoint (busy share of paid time)", [
    { type: "bar", series: "utilization", x: names, y: e.rows.map((r) => num(r.utilization)), hovertemplate: "%{x}: %{y:.1%}<extra></extra>" },
  ], { yaxis: { tickformat: ".0%", range: [0, 1] } });
  chart(card(g, "Busy and idle cost"), "idle-cost", "Cost of busy vs idle GPU time by endpoint (USD)", [
    { type: "bar", name: "busy (charged to calls)", series: "busy", x: names, y: e.rows.map((r) => num(r.allocated_cost)) },
    { type: "bar", name: "idle (shared)", series: "idle", x: names, y: e.rows.map((r) => num(r.idle_cost)) },
  ], { barmode: "stack", yaxis: moneyAxis });
  const c = card(g, "Endpoints", { wide: true });
  tableOf(c, [
    { label: "Endpoint", get: (r) => r.endpoint },
    { label: "GPUs", get: (r) => r.gpu },
    { label: "Per hour", num: true, get: (r) => money(r.hourly_cost) },
    { label: "Cost", num: true, sum: (r) => r.cost, get: (r) => money(r.cost) },
    { label: "Idle cost", num: true, sum: (r) => r.idle_cost, get: (r) => money(r.idle_cost) },
    { label: "Utilization", num: true, get: (r) => pct(r.utilization) },
    { label: "Calls", num: true, sum: (r) => r.calls, as: count, get: (r) => count(r.calls) },
    { label: "Per 1M input tokens", num: true, raw: (r) => r.usd_per_mtok_input, get: (r) => unitCost(r.usd_per_mtok_input) },
    { label: "Per 1M output tokens", num: true, raw: (r) => r.usd_per_mtok_output, get: (r) => unitCost(r.usd_per_mtok_output) },
  ], e.rows);
}

async function calculator() {
  const cat = await api("selfhost/catalog");
  const g = grid();
  const c = card(g, "Your workload", { wide: true });
  const form = el(`<form class="calc" id="calc-form">
    <label>Open model to host <select name="model">${cat.models.map((m) => `<option${m === "Llama-3.1-70B" ? " selected" : ""}>${esc(m)}</option>`).join("")}</select></label>
    <label>API model to compare <input name="api_model" value="openai:gpt-4.1-mini"></label>
    <label>Input tokens per request <input name="input_len" type="number" min="1" value="2000"></label>
    <label>Output tokens per request <input name="output_len" type="number" min="1" value="300"></label>
    <label>Share of input from cache <input name="cached_share" type="number" min="0" max="1" step="0.05" value="0.3"></label>
    <label>Peak tokens per second <input name="peak_tokens_per_s" type="number" min="1" value="20000"></label>
    <label>Peak / average load <input name="peak_to_average" type="number" min="1" step="0.5" value="3"></label>
    <label>GPU price plan <select name="plan"><option value="reserved">reserved</option><option value="on_demand">on demand</option><option value="spot">spot</option></select></label>
    <label>&nbsp;<button type="submit" id="calc-run">Compare</button></label>
  </form>`);
  c.appendChild(form);
  const out = el('<section class="card wide" id="calc-out"></section>');
  g.appendChild(out);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const d = Object.fromEntries(new FormData(form).entries());
    for (const k of ["input_len", "output_len"]) d[k] = parseInt(d[k], 10);
    for (const k of ["cached_share", "peak_tokens_per_s", "peak_to_average"]) d[k] = Number(d[k]);
    out.innerHTML = '<p class="muted">Sizing GPU fleets…</p>';
    try {
      const r = await api("selfhost/compare", {}, { method: "POST", body: JSON.stringify({ ...d, top: 8 }), headers: { "Content-Type": "application/json" } });
      renderComparison(out, r);
    } catch (e) { out.innerHTML = ""; out.appendChild(el(`<p class="error">${esc(e.message)}</p>`)); }
  };
  form.requestSubmit();
}

function renderComparison(out, r) {
  out.innerHTML = "";
  out.appendChild(el(`<h2>Self-hosting vs ${esc(r.api_model)}</h2>`));
  const best = r.options[0];
  kpisInto(out, [
    ["API cost per month", money(r.api_monthly_usd), `${dec1.format(r.monthly_mtok)} M tokens at ${unitCost(r.api_usd_per_mtok_blended)} per 1M`],
    ["Cheapest self-hosted", best ? money(best.monthly_usd[r.plan]) : "—", best ? `${best.replicas} × ${best.num_gpus} ${best.gpu} (${best.precision})` : "nothing meets the latency target"],
    ["Break-even volume", best ? `${count(best.break_even_mtok_per_month)} M tokens/month` : "—", "above it the GPUs are cheaper"],
  ]);
  if (r.ranking_note) out.appendChild(el(`<p class="warning"><strong>Warning:</strong> ${esc(r.ranking_note)}</p>`));
  const labels = r.options.map((o) => `${o.replicas}×${o.num_gpus} ${o.gpu_id} ${o.precision}`);
  chart(out, "calc-chart", `Monthly cost: self-hosted options (${r.plan.replace("_", "-")}) vs the API (USD)`, [
    { type: "bar", name: "self-hosted fleet", x: labels, y: r.options.map((o) => num(o.monthly_usd[r.plan])) },
    { type: "scatter", mode: "lines", name: "API", series: "api", x: labels, y: labels.map(() => num(r.api_monthly_usd)), line: { dash: "dash" } },
  ], { yaxis: moneyAxis });
  tableOf(out, [
    { label: "Configuration", get: (o) => `${o.replicas} replica(s) of ${o.num_gpus} × ${o.gpu}` },
    { label: "Weights", get: (o) => o.precision },
    { label: "Per month", num: true, get: (o) => money(o.monthly_usd[r.plan]) },
    { label: "Per 1M output tokens", num: true, get: (o) => unitCost(o.usd_per_mtok.output) },
    { label: "Break-even (M tokens/month)", num: true, get: (o) => count(o.break_even_mtok_per_month) },
    { label: "Performance model", get: (o) => (o.calibrated ? "calibrated" : `UNCALIBRATED: ${o.coverage_warning}`) },
  ], r.options, { empty: "No configuration meets the latency target." });
}
function kpisInto(parent, items) {
  const box = el('<div class="kpis"></div>');
  for (const [label, value, hint] of items) box.appendChild(el(`<div class="kpi"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="hint">${esc(hint)}</div></div>`));
  parent.appendChild(box);
}

// ---- budgets & alerts -------------------------------------------------------------------
const BUDGET_STATUS = {
  ok: "On track",
  warning: "Alert level reached",
  "forecast over": "Forecast to go over budget",
  "over budget": "Over budget",
};
const DIM_NAME = {
  total: "All spend", feature: "Feature", customer_id: "Customer", model: "Model", provider: "Provider",
  team: "Team", agent: "Agent", environment: "Environment", user_id: "User",
};
function dimValue(dim, value) {
  const v = text(value);
  return `${(DIM_NAME[dim] || dim).toLowerCase()} ${v}`;
}
function seriesName(a) { return a.dim === "total" ? "All spend" : dimValue(a.dim, a.value).replace(/^./, (c) => c.toUpperCase()); }
function scopeName(where) {
  const parts = Object.entries(where || {}).map(([k, v]) => dimValue(k, v));
  return parts.length ? parts.join(", ") : "all spend";
}
function monthName(ym) { return String(ym).slice(0, 7); }
function monthsBetween(first, last) {
  const out = [];
  if (!first || !last) return out;
  let [y, m] = first.slice(0, 7).split("-").map(Number);
  const [y1, m1] = last.slice(0, 7).split("-").map(Number);
  while (y < y1 || (y === y1 && m <= m1)) {
    out.push(`${y}-${String(m).padStart(2, "0")}`);
    m += 1; if (m > 12) { m = 1; y += 1; }
  }
  return out.reverse();
}
function dayText(d) { return d ? String(d).slice(0, 10) : "—"; }

function budgetChart(parent, b, i) {
  const days = b.days;
  const spent = days.filter((d) => d.spent !== null);
  const fc = days.filter((d) => d.forecast !== null);
  const traces = [];
  if (fc.length) {
    traces.push({ type: "scatter", mode: "lines", x: fc.map((d) => d.day), y: fc.map((d) => num(d.forecast_high)),
      line: { width: 0 }, showlegend: false, hoverinfo: "skip" });
    traces.push({ type: "scatter", mode: "lines", name: "likely range (80%)", x: fc.map((d) => d.day), y: fc.map((d) => num(d.forecast_low)),
      fill: "tonexty", fillcolor: "rgba(47,111,237,0.15)", line: { width: 0 }, hoverinfo: "skip" });
    traces.push({ type: "scatter", mode: "lines", name: "forecast", x: fc.map((d) => d.day), y: fc.map((d) => num(d.forecast)),
      line: { color: "#2f6fed", dash: "dash" }, hovertemplate: "%{x}<br>forecast $%{y:,.2f}<extra></extra>" });
  }
  traces.push({ type: "scatter", mode: "lines+markers", name: "spent", x: spent.map((d) => d.day), y: spent.map((d) => num(d.spent)),
    line: { color: "#101828" }, marker: { size: 5 }, hovertemplate: "%{x}<br>spent $%{y:,.2f}<extra></extra>" });
  traces.push({ type: "scatter", mode: "lines", name: `budget ${money(b.budget)}`, x: [days[0].day, days[days.length - 1].day],
    y: [num(b.budget), num(b.budget)], line: { color: "#c4320a" }, hovertemplate: `budget ${money(b.budget)}<extra></extra>` });
  chart(parent, `budget-chart-${i}`, `${b.name}: spend so far and month-end forecast, ${monthName(b.month)} (USD)`, traces,
    { yaxis: { ...moneyAxis, title: "spent since the 1st" }, xaxis: dateAxis });
}

async function budgets(f, choices) {
  const month = new URLSearchParams(location.search).get("month") || "";
  const [b, an, run, cov] = await Promise.all([
    api("budgets", { month }),
    api("anomalies", f),
    api("runaway", { ...f, top: 20 }),
    api("coverage", f),
  ]);
  const atRisk = b.budgets.filter((x) => x.status !== "ok").length;
  kpis([
    ["Budgets needing attention", `${count(atRisk)} of ${count(b.budgets.length)}`, b.month ? monthName(b.month) : "no data yet", "budgets-at-risk"],
    ["Spend in the period", money(an.period_cost), an.first_day ? `${dayText(an.first_day)} to ${dayText(an.as_of)} (not included)` : "no data", "period-spend"],
    ["Unusual spend days", count(an.total), "spikes far above the usual for that weekday", "anomalies"],
    ["Runaway tasks", count(run.total), "agent loops far beyond their feature's tasks", "runaways"],
  ]);
  const g = grid();

  // budgets: month picker, one burn-up chart per budget, the table
  const top = card(g, "Budgets", { wide: true });
  const months = monthsBetween(choices.first_day, choices.last_day);
  const pick = el(`<label class="inline">Month <select id="b-month"><option value="">Latest (${esc(b.month ? monthName(b.month) : "—")})</option>` +
    months.map((m) => `<option value="${esc(m)}">${esc(monthName(m))}</option>`).join("") + "</select></label>");
  top.appendChild(pick);
  const sel = pick.querySelector("select");
  sel.value = month;
  sel.onchange = () => {
    const q = new URLSearchParams(location.search);
    if (sel.value) q.set("month", sel.value); else q.delete("month");
    const s = q.toString();
    location.search = s ? `?${s}` : "";
  };
  if (!b.budgets.length) {
    note(top, "No budgets yet: add a `governance: budgets:` section to the project file, e.g. `- {name: all AI spend, monthly: 5000}`.");
  } else {
    tableOf(top, [
      { label: "Budget", get: (r) => r.name },
      { label: "Covers", get: (r) => scopeName(r.where) },
      { label: "Monthly budget", num: true, get: (r) => money(r.budget) },
      { label: "Spent so far", num: true, get: (r) => money(r.actual) },
      { label: "Used", num: true, get: (r) => pct(r.used) },
      { label: "Forecast for the month", num: true, get: (r) => money(r.forecast) },
      { label: "Likely range (80%)", num: true, get: (r) => (r.forecast_low === r.forecast_high ? "—" : `${money(r.forecast_low)} – ${money(r.forecast_high)}`) },
      { label: "Runs out on", get: (r) => (r.runs_out ? dayText(r.runs_out) : "not this month") },
      { label: "Status", get: (r) => BUDGET_STATUS[r.status] || r.status },
    ], b.budgets);
    for (const tr of top.querySelectorAll("tbody tr")) tr.lastChild.classList.add("status-cell");
    top.querySelectorAll("tbody tr").forEach((tr, i) => { tr.dataset.status = b.budgets[i].status; });
    const msgs = b.budgets.flatMap((x) => x.alerts);
    if (msgs.length) top.appendChild(el(`<ul class="alerts">${msgs.map((m) => `<li>${esc(m)}</li>`).join("")}</ul>`));
    note(top, `Spend counted up to ${dayText(b.as_of)} (not included). The forecast adds what the last four weeks predict for each remaining day; ` +
      "the month ends inside the likely range 8 times out of 10. Budgets follow the month chosen here, not the filters above.");
    b.budgets.forEach((x, i) => budgetChart(card(g, `Budget: ${x.name}`), x, i));
  }

  // daily spend with the anomalies marked, and the anomalies
  const c2 = card(g, "Unusual spend", { wide: true });
  const byDay = Object.fromEntries(an.daily.map((d) => [d.day, num(d.cost)]));
  const marked = {};
  for (const a of an.anomalies) (marked[a.day] = marked[a.day] || []).push(`${seriesName(a)}: ${money(a.cost)}, usually ${money(a.expected)}`);
  const mdays = Object.keys(marked).filter((d) => d in byDay).sort();
  chart(c2, "daily-spend", "Daily spend, unusual days marked (USD)", [
    { type: "bar", name: "spend", x: an.daily.map((d) => d.day), y: an.daily.map((d) => num(d.cost)), marker: { color: "#98a2b3" },
      hovertemplate: "%{x}<br>$%{y:,.2f}<extra></extra>" },
    { type: "scatter", mode: "markers", name: "unusual day", x: mdays, y: mdays.map((d) => byDay[d]),
      text: mdays.map((d) => marked[d].join("<br>")), marker: { color: "#c4320a", size: 13, symbol: "x" },
      hovertemplate: "%{x}<br>%{text}<extra></extra>" },
  ], { yaxis: moneyAxis, xaxis: dateAxis });
  tableOf(c2, [
    { label: "Day", get: (r) => dayText(r.day) },
    { label: "What", get: (r) => seriesName(r) },
    { label: "Spent", num: true, get: (r) => money(r.cost) },
    { label: "Usual for that weekday", num: true, get: (r) => money(r.expected) },
    { label: "Above usual", num: true, get: (r) => money(r.impact) },
    { label: "Driven by", get: (r) => r.contributors.map((c) => `${dimValue(c.dim, c.value)} (+${money(c.above_usual)})`).join(", ") || "—" },
  ], an.anomalies, { empty: "No unusual spend days in this period." });
  note(c2, "A day is unusual when its spend is far above what the four weeks before it predict for that weekday, for all spend or " +
    "for one feature, customer or model. Only days with four weeks of history before them are checked.");

  // runaway tasks
  const c3 = card(g, "Runaway tasks", { wide: true });
  const t3 = tableOf(c3, [
    { label: "Task", get: (r) => r.task },
    { label: "Feature", get: (r) => text(r.feature) },
    { label: "Customer", get: (r) => text(r.customer_id) },
    { label: "Started", get: (r) => (r.started || "").replace("T", " ").slice(0, 16) },
    { label: "Calls", num: true, sum: (r) => r.calls, as: count, get: (r) => count(r.calls) },
    { label: "Normal at most", num: true, get: (r) => count(r.calls_limit) },
    { label: "Cost", num: true, sum: (r) => r.cost, get: (r) => money(r.cost) },
    { label: "Agent making most calls", get: (r) => (r.agent ? `${r.agent} (${count(r.agent_calls)} calls)` : "—") },
    { label: "", get: () => "" },
  ], run.rows, { empty: "No runaway tasks in this period.", shown: run.total > run.rows.length });
  t3.querySelectorAll("tbody tr").forEach((tr, i) => {
    const id = run.rows[i].task;
    const q = new URLSearchParams(filterQuery(f));
    q.set("task", id);
    tr.lastChild.appendChild(el(`<a class="drill" href="/tasks?${esc(q.toString())}">Open task</a>`));
  });
  note(c3, "Tasks that made far more calls than their feature's tasks usually do (an agent looping). Open one to see its agent tree.");

  // tagging coverage
  const c4 = card(g, "Tagging coverage", { wide: true });
  tableOf(c4, [
    { label: "Tag", get: (r) => (DIM_NAME[r.dimension] || r.dimension).toLowerCase() },
    { label: "Spend tagged", num: true, get: (r) => pct(r.cost_coverage) },
    { label: "Spend not tagged", num: true, get: (r) => (r.dimension === "usage" ? "—" : money(r.untagged_cost)) },
    { label: "Calls tagged", num: true, get: (r) => pct(r.call_coverage) },
    // the usage row counts calls without usage per source (its cost is unknown, not $0)
    { label: "Most untagged spend from", get: (r) => r.top_untagged_sources.map((s) => `${s.source.split("/").pop()} (${r.dimension === "usage" ? `${count(s.cost)} calls without usage` : money(s.cost)})`).join(", ") || "—" },
  ], cov.rows);
  note(c4, "Spend without a customer or team cannot be charged back; fix it where the calls are made (the sources listed). The usage row: model calls that came with their token counts; those without have an unknown cost, never $0.");

  await billVsLedger(g, f);
}

// The provider bills against the ledger: capture rate (tracked / billed) and what explains the gap.
async function billVsLedger(g, f) {
  const rec = await api("reconcile", { since: f.since, until: f.until, limit: 500 });
  const c5 = card(g, "Bill vs ledger", { wide: true });
  c5.dataset.section = "bill";
  if (!rec.total_rows) {
    note(c5, "No provider bills imported: `unitecon bills import FILE` (OpenAI / Anthropic cost and usage reports, an invoice CSV), then the capture rate shows here.");
    return;
  }
  tableOf(c5, [
    { label: "Provider", get: (r) => r.provider },
    // the answer's own "all" row is the total
    { label: "Tracked (ledger)", num: true, get: (r) => money(r.tracked) },
    { label: "Billed", num: true, get: (r) => money(r.billed) },
    { label: "Capture rate", num: true, get: (r) => pct(r.rate) },
    { label: "Status", get: (r) => (r.alert ? `below ${pct(rec.threshold)}` : "ok") },
  ], rec.capture).querySelectorAll("tbody tr").forEach((tr, i) => { tr.dataset.status = rec.capture[i].alert ? "alert" : "ok"; });
  const days = [...new Set(rec.rows.map((r) => r.period_start))].sort();
  const sum = (rows, get) => days.map((d) => rows.filter((r) => r.period_start === d).reduce((a, r) => a + get(r), 0));
  const kinds = [...new Set(rec.rows.flatMap((r) => r.explanations.map((e) => e.kind)))];
  chart(c5, "bill-vs-ledger", "Tracked cost and what explains the rest of the bill (USD per bill period)", [
    { type: "bar", name: "tracked", series: "tracked", x: days, y: sum(rec.rows, (r) => num(r.computed)) },
    ...kinds.map((k) => ({ type: "bar", name: k.replace(/_/g, " "), x: days,
      y: sum(rec.rows, (r) => r.explanations.filter((e) => e.kind === k).reduce((a, e) => a + num(e.amount), 0)) })),
    { type: "scatter", mode: "lines+markers", name: "billed", series: "billed", x: days, y: sum(rec.rows, (r) => num(r.billed)) },
  ], { barmode: "relative", yaxis: moneyAxis, xaxis: dateAxis });
  tableOf(c5, [
    { label: "Provider", get: (r) => r.provider },
    { label: "Explained by", get: (r) => r.kind.replace(/_/g, " ") },
    { label: "Rows", num: true, sum: (r) => r.rows, as: count, get: (r) => count(r.rows) },
    { label: "Amount", num: true, sign: true, sum: (r) => r.amount, raw: (r) => r.amount, get: (r) => money(r.amount) },
    { label: "Largest row", get: (r) => r.example },
  ], rec.summary, { empty: "Every row matches the bill within tolerance." });
  note(c5, "Capture rate = the ledger's computed cost / what the provider billed, over the bills' periods (`unitecon reconcile`).");
}

// ---- start ------------------------------------------------------------------------------
const PAGES = { overview, units: unitEconomics, customers, tasks, budgets, endpoints, calculator };

function fail(e) {
  if (e instanceof ApiError && e.status === 401) { askForKey(e.message); return; }
  showStatus(e.message || String(e));
}

async function start() {
  content.innerHTML = "";
  statusEl.hidden = true;
  staleAsOf = null;
  document.getElementById("stale").hidden = true;
  if (!readKey()) { askForKey(); return; }
  document.body.classList.add("loading");
  try {
    const { filters, choices } = await setupFilters();
    await PAGES[PAGE](filters, choices);
    drawCharts();
    document.body.dataset.ready = "true";
  } catch (e) { fail(e); } finally { document.body.classList.remove("loading"); }
}

takeKeyFromHash();
start();
