"""Feature 3: the coding assistant with reasoning models, as native JSONL events.

Interactive tasks: `code.ask` (one o4-mini or o3 call, 5k to 25k input tokens of code
context), `code.edit` (an agent loop of 2 to 24 calls, longer for power users, whose context
grows by the files it read, up to 40k tokens; OpenAI caches the shared prefix in 128-token
steps) and `code.review` (one
gemini-2.5-pro call over a whole diff with its files, 30k to 380k tokens, so some cross the 200k
price tier). Reasoning is 500 to 8,000 tokens and counted inside the output. About one edit task
in six runs as a background agent on the `flex` tier (cheaper, slower, more 429s). Power users
send most of their tasks to o3. Rejected edits are often regenerated (attempt 2). Nightly test
generation runs through the Batch API (`batch: true`) for some team tenants.
"""

from __future__ import annotations

import numpy as np

from unitecon.demo.catalog import CODING, GEMINI_PRO, O3, O4_MINI, TEAMS
from unitecon.demo.dice import hex_ids, lognormal_ints, sessions
from unitecon.demo.native import Columns, concat, opt
from unitecon.demo.population import OFFICE_HOURS, Population, arrivals

MS = 1_000_000
S = 1_000 * MS
DAY = 86_400 * S
KINDS = np.array(["code.ask", "code.edit", "code.review"])
AGENTS = np.array(["code_chat", "code_agent", "code_reviewer"])


def generate_coding(
    rng: np.random.Generator,
    pop: Population,
    *,
    window_start: np.datetime64,
    days: int,
    total_tasks: float,
    total_batch: float,
) -> tuple[Columns, np.ndarray]:
    """All coding events as columns, and their start times [ns]."""
    cust, t0 = arrivals(
        rng, weight=pop.weight[CODING], utc_offset=pop.utc_offset, start_day=pop.start_day,
        growth=pop.growth, window_start=window_start, days=days, hours_shape=OFFICE_HOURS,
        weekend=0.15, total=total_tasks,
    )  # fmt: skip
    calls, ts = _interactive(rng, pop, cust, t0)
    batch, bts = _nightly_testgen(rng, pop, window_start, days, total_batch)
    return concat([calls, batch]), np.concatenate([ts, bts])


def _interactive(
    rng: np.random.Generator, pop: Population, cust: np.ndarray, t0: np.ndarray
) -> tuple[Columns, np.ndarray]:
    n = len(cust)
    kind = rng.choice(3, size=n, p=[0.55, 0.38, 0.07])
    edit = kind == 1
    o3 = rng.random(n) < pop.prefers_o3[cust]
    flex = edit & (rng.random(n) < 0.18)
    power = pop.power[cust]
    ncalls = np.where(edit, np.minimum(1 + rng.geometric(np.where(power, 0.12, 0.25)), 24), 1)
    staging = rng.random(n) < 0.015
    users = [
        "qa-bot" if s else u
        for s, u in zip(staging.tolist(), pop.user(cust, rng.random(n)), strict=True)
    ]
    task_ids = hex_ids(rng, n, 8, "code_")
    conv = sessions(rng, users, t0, 30 * 60 * S, "sess_")

    # One row per call: task index and step within the task.
    task = np.repeat(np.arange(n), ncalls)
    first = np.cumsum(ncalls) - ncalls
    step = np.arange(len(task)) - first[task]
    m = len(task)
    k, review = kind[task], kind[task] == 2
    use_o3 = o3[task] & ~review
    base = lognormal_ints(rng, n, 9_000, 0.45, 5_000, 22_000)[task]
    grow = lognormal_ints(rng, n, 2_500, 0.5, 500, 8_000)[task]
    inp = np.where(
        k == 0,
        lognormal_ints(rng, m, 11_000, 0.5, 5_000, 25_000),
        np.minimum(base + step * grow, 40_000),
    )
    inp = np.where(review, lognormal_ints(rng, m, 90_000, 0.75, 30_000, 380_000), inp)
    prev = np.where(step > 0, np.roll(inp, 1), 0)
    cache = np.where(
        step > 0,
        np.where(rng.random(m) < 0.9, steps128(prev), 0),
        np.where(rng.random(m) < 0.35, steps128((inp * 0.3).astype(np.int64)), 0),
    )
    cache = np.where(review, np.where(rng.random(m) < 0.2, (inp * 0.8).astype(np.int64), 0), cache)
    reasoning = np.where(
        use_o3,
        lognormal_ints(rng, m, 2_800, 0.6, 500, 8_000),
        lognormal_ints(rng, m, 1_500, 0.6, 500, 8_000),
    )
    reasoning = np.where(review, lognormal_ints(rng, m, 3_000, 0.5, 1_000, 8_000), reasoning)
    visible = np.where(
        k == 0,
        lognormal_ints(rng, m, 650, 0.6, 80, 3_000),
        lognormal_ints(rng, m, 900, 0.6, 100, 4_000),
    )
    visible = np.where(review, lognormal_ints(rng, m, 1_800, 0.5, 500, 5_000), visible)

    ttft_s = np.where(review, GEMINI_PRO.ttft_s, np.where(use_o3, O3.ttft_s, O4_MINI.ttft_s))
    tps = np.where(
        review, GEMINI_PRO.tokens_per_s, np.where(use_o3, O3.tokens_per_s, O4_MINI.tokens_per_s)
    )
    slow = np.where(flex[task], rng.uniform(1.3, 3.0, m), 1.0) * np.exp(
        0.2 * rng.standard_normal(m)
    )
    ttft = (ttft_s + inp * 1.5e-5 + reasoning / tps) * slow
    dur = ttft + visible / tps * slow
    err = rng.random(m) < np.where(flex[task], 0.05, 0.01)
    err_dur = rng.uniform(0.2, 2.0, m)
    backoff = rng.uniform(1.0, 8.0, m)
    tool = np.where(step > 0, np.exp(rng.normal(np.log(6.0), 0.7, m)), 0.0)
    lead = tool + np.where(err, err_dur + backoff, 0.0)
    # Call start = task start + all earlier calls' durations + tool time and error delays.
    elapsed = np.cumsum(lead + dur) - (lead + dur) + lead
    elapsed -= (np.cumsum(lead + dur) - (lead + dur))[first][task]
    t = t0[task] + (elapsed * S).astype(np.int64)

    last = step == ncalls[task] - 1
    x = rng.random(m)
    verdict = np.where(
        k == 1,
        np.where(x < 0.70, 1, np.where(x < 0.88, 0, -1)),
        np.where(k == 0, np.where(x < 0.05, 1, np.where(x < 0.09, 0, -1)), -1),
    )
    verdict = np.where(last, verdict, -1)

    model = np.where(review, GEMINI_PRO.response, np.where(use_o3, O3.response, O4_MINI.response))
    cols: Columns = {
        "event_id": hex_ids(rng, m, 10, "call_"),
        "duration_ms": np.round(dur * 1000, 1).tolist(),
        "ttft_ms": np.round(ttft * 1000, 1).tolist(),
        "operation": ["chat"] * m,
        "provider": np.where(review, "google", "openai").tolist(),
        "model": model.tolist(),
        "input_tokens": inp.tolist(),
        "cache_read_tokens": cache.tolist(),
        "output_tokens": (reasoning + visible).tolist(),
        "reasoning_tokens": reasoning.tolist(),
        "service_tier": opt(np.where(flex[task], "flex", "default"), ~review),
        "attempt": np.where(err, 2, 1).tolist(),
        "accepted": [None if v < 0 else bool(v) for v in verdict.tolist()],
        "agent": AGENTS[k].tolist(),
        **_dims(pop, cust[task], staging[task], users, task_ids, conv, task, KINDS[k]),
    }
    parts, times = [cols], [t]

    e = np.flatnonzero(err)
    errs = _take(cols, e)
    errs |= {
        "event_id": hex_ids(rng, len(e), 10, "call_"),
        "duration_ms": np.round(err_dur[e] * 1000, 1).tolist(),
        "ttft_ms": [None] * len(e),
        "input_tokens": [0] * len(e), "cache_read_tokens": [0] * len(e),
        "output_tokens": [0] * len(e), "reasoning_tokens": [0] * len(e),
        "status": ["error"] * len(e), "attempt": [1] * len(e), "accepted": [None] * len(e),
        "tags": [{"error.type": "rate_limit_exceeded" if f else "server_error"}
                 for f in flex[task][e].tolist()],
    }  # fmt: skip
    parts.append(errs)
    times.append(t[e] - ((err_dur[e] + backoff[e]) * S).astype(np.int64))

    r = np.flatnonzero((verdict == 0) & (rng.random(m) < 0.6))
    again = _take(cols, r)
    again |= {
        "event_id": hex_ids(rng, len(r), 10, "call_"),
        "attempt": (np.array(cols["attempt"])[r] + 1).tolist(),
        "accepted": (rng.random(len(r)) < 0.65).tolist(),
    }
    parts.append(again)
    times.append(t[r] + ((dur[r] + rng.uniform(30, 120, len(r))) * S).astype(np.int64))
    return concat(parts), np.concatenate(times)


def _dims(
    pop: Population,
    cust: np.ndarray,
    staging: np.ndarray,
    users: list[str],
    task_ids: list[str],
    conv: list[str],
    task: np.ndarray,
    task_type: np.ndarray,
) -> Columns:
    ix = task.tolist()
    m = len(ix)
    return {
        "conversation_id": [conv[i] for i in ix],
        "task_id": [task_ids[i] for i in ix],
        "task_type": task_type.tolist(),
        "customer_id": opt([pop.ids[c] for c in cust.tolist()], ~staging),
        "user_id": [users[i] for i in ix],
        "feature": [CODING] * m,
        "team": [TEAMS[CODING]] * m,
        "environment": np.where(staging, "staging", "prod").tolist(),
    }


def _take(cols: Columns, ix: np.ndarray) -> Columns:
    return {k: [v[i] for i in ix.tolist()] for k, v in cols.items()}


def _nightly_testgen(
    rng: np.random.Generator, pop: Population, window_start: np.datetime64, days: int, total: float
) -> tuple[Columns, np.ndarray]:
    """Batch API jobs submitted at 01:00 to 03:00 UTC on weekdays, one request per test file."""
    ws = int(window_start.astype("datetime64[ns]").astype(np.int64))
    d = np.arange(days)
    weekday = (window_start.astype("datetime64[D]").astype(np.int64) + 3 + d) % 7 < 5
    lam = (
        pop.testgen_per_night[:, None]
        * np.exp(pop.growth[:, None] * d[None, :])
        * (d[None, :] >= pop.start_day[:, None] + 7)
        * weekday[None, :]
    )
    if lam.sum() <= 0:
        return {"event_id": []}, np.zeros(0, np.int64)
    counts = rng.poisson(lam * (total / lam.sum()))
    ci, di = np.nonzero(counts)
    job_ids = hex_ids(rng, len(ci), 12, "batch_")
    kk = counts[ci, di]
    c, day, job = np.repeat(ci, kk), np.repeat(di, kk), np.repeat(np.arange(len(ci)), kk)
    n = len(c)
    ts = ws + day * DAY + ((1.0 + 2.0 * rng.random(n)) * 3_600 * S).astype(np.int64)
    reasoning = lognormal_ints(rng, n, 2_000, 0.5, 500, 6_000)
    cols: Columns = {
        "event_id": hex_ids(rng, n, 10, "tg_"),
        "operation": ["chat"] * n,
        "provider": ["openai"] * n,
        "model": [O4_MINI.response] * n,
        "input_tokens": lognormal_ints(rng, n, 11_000, 0.4, 6_000, 20_000).tolist(),
        "cache_read_tokens": [0] * n,
        "output_tokens": (reasoning + lognormal_ints(rng, n, 1_400, 0.5, 400, 3_000)).tolist(),
        "reasoning_tokens": reasoning.tolist(),
        "batch": [True] * n,
        "accepted": (rng.random(n) < 0.72).tolist(),
        "agent": ["testgen"] * n,
        "task_id": hex_ids(rng, n, 8, "tg_"),
        "task_type": ["code.testgen"] * n,
        "customer_id": [pop.ids[i] for i in c.tolist()],
        "user_id": [f"svc-ci-{pop.ids[i]}" for i in c.tolist()],
        "feature": [CODING] * n,
        "team": [TEAMS[CODING]] * n,
        "environment": ["prod"] * n,
        "tags": [{"batch_id": job_ids[j]} for j in job.tolist()],
    }
    return cols, ts


def steps128(x: np.ndarray) -> np.ndarray:
    """Cached prefix as OpenAI counts it: 0 below 1,024 tokens, else in steps of 128."""
    return np.where(x >= 1024, (x // 128) * 128, 0)
