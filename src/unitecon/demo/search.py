"""Feature 2: RAG search, as native JSONL events.

Per query: an `embeddings` call (text-embedding-3-small, the query expanded with the page
context: 200 to 800 tokens), a `vector_query` (unit_type `vector_query`; hybrid searches count
two), and a `chat` call that answers from about eight retrieved chunks. The answer model is
routed by plan: starter tenants go to the self-hosted Llama 3.3 70B endpoint, team tenants to
gpt-4o-mini until the migration day and gemini-2.5-flash after it, support-pro tenants to
gemini-2.5-flash. OpenAI and Gemini cache the 1,100-token system prompt (1,024 tokens counted,
as the APIs cache in 128-token steps from 1,024) when the tenant asked within five minutes.
Users sometimes regenerate an answer (attempt 2, the first one rejected) or rate it.
"""

from __future__ import annotations

import numpy as np

from unitecon.demo.catalog import (
    EMBED,
    GEMINI_FLASH,
    GPT4O_MINI,
    SEARCH,
    SELF_HOSTED_ENDPOINT,
    SELF_HOSTED_MODEL,
    SELF_HOSTED_PROVIDER,
    TEAMS,
)
from unitecon.demo.dice import hex_ids, lognormal_ints, sessions
from unitecon.demo.native import Columns, concat, opt
from unitecon.demo.population import OFFICE_HOURS, Population, arrivals

MS = 1_000_000
S = 1_000 * MS


def generate_search(
    rng: np.random.Generator,
    pop: Population,
    *,
    window_start: np.datetime64,
    days: int,
    total: float,
    migration_ns: int,
) -> tuple[Columns, np.ndarray]:
    """All search events as columns, and their start times [ns]."""
    cust, t0 = arrivals(
        rng, weight=pop.weight[SEARCH], utc_offset=pop.utc_offset, start_day=pop.start_day,
        growth=pop.growth, window_start=window_start, days=days, hours_shape=OFFICE_HOURS,
        weekend=0.25, total=total,
    )  # fmt: skip
    n = len(cust)
    staging = rng.random(n) < 0.02
    plan = pop.plan[cust]
    users = [
        ("qa-bot" if s else u)
        for s, u in zip(staging.tolist(), pop.user(cust, rng.random(n)), strict=True)
    ]
    base = {
        "task_id": hex_ids(rng, n, 8, "srch_"),
        "conversation_id": sessions(rng, users, t0, 30 * 60 * S, "sess_"),
        "customer_id": opt([pop.ids[c] for c in cust.tolist()], ~staging),
        "user_id": users,
        "environment": np.where(staging, "staging", "prod").tolist(),
    }

    emb_dur = (0.11 * np.exp(0.4 * rng.standard_normal(n)) * S).astype(np.int64)
    vq_t = t0 + emb_dur + int(3 * MS)
    vq_dur = (0.04 * np.exp(0.45 * rng.standard_normal(n)) * S).astype(np.int64)
    emb = _common(base, n, "emb_", rng)
    emb |= {
        "duration_ms": np.round(emb_dur / MS, 1).tolist(), "operation": ["embeddings"] * n,
        "provider": [EMBED.provider] * n, "model": [EMBED.response] * n,
        "input_tokens": lognormal_ints(rng, n, 420, 0.35, 200, 800).tolist(),
    }  # fmt: skip
    hybrid = rng.random(n) < 0.2
    vq = _common(base, n, "vq_", rng)
    vq |= {
        "duration_ms": np.round(vq_dur / MS, 1).tolist(), "operation": ["vector_query"] * n,
        "unit_type": ["vector_query"] * n, "units": np.where(hybrid, 2.0, 1.0).tolist(),
        "tags": [{"index": "kb-v3", "db.system": "pinecone", "mode": "hybrid" if h else "dense"}
                 for h in hybrid.tolist()],
    }  # fmt: skip

    chat_t = vq_t + vq_dur + int(4 * MS)
    route = np.where(
        staging | (plan == "support-pro"),
        2,
        np.where(plan == "starter", 0, np.where(chat_t < migration_ns, 1, 2)),
    )
    answer, answer_t = _answers(rng, base, cust, route, chat_t)
    parts = [_finish(p) for p in (emb, vq, *answer)]
    return concat(parts), np.concatenate([t0, vq_t, *answer_t])


def _common(base: Columns, n: int, prefix: str, rng: np.random.Generator) -> Columns:
    cols: Columns = {"event_id": hex_ids(rng, n, 10, prefix)}
    cols.update(base)
    cols["feature"] = [SEARCH] * n
    cols["team"] = [TEAMS[SEARCH]] * n
    cols["task_type"] = ["search.query"] * n
    return cols


def _answers(
    rng: np.random.Generator,
    base: Columns,
    cust: np.ndarray,
    route: np.ndarray,
    t: np.ndarray,
) -> tuple[list[Columns], list[np.ndarray]]:
    """Chat calls: errors and their retry, first answer, regenerated answer."""
    n = len(route)
    inp = lognormal_ints(rng, n, 3200, 0.35, 1500, 7000)
    out = lognormal_ints(rng, n, 300, 0.5, 60, 1200)
    # A tenant's prefix is warm if it asked within five minutes (sorted by tenant, time).
    order = np.lexsort((t, cust))
    prev = np.full(n, -(10**18), dtype=np.int64)
    same = cust[order][1:] == cust[order][:-1]
    prev[order[1:]] = np.where(same, t[order][:-1], -(10**18))
    warm = (t - prev < 300 * S) & (route > 0) & (rng.random(n) < np.where(route == 1, 0.95, 0.8))
    cache = np.where(warm, 1024, 0)

    err = rng.random(n) < 0.006
    err_dur = (np.where(route == 0, 30.0, 10.0) * rng.random(n) * S).astype(np.int64)
    t1 = t + np.where(err, err_dur + 2 * S, 0)
    first = _chat_cols(rng, base, route, t1, inp, cache, out)
    regen = rng.random(n) < 0.04
    rating = rng.random(n)
    first["attempt"] = np.where(err, 2, 1).tolist()
    first["accepted"] = [
        False if r else (True if x < 0.06 else (False if x < 0.075 else None))
        for r, x in zip(regen.tolist(), rating.tolist(), strict=True)
    ]
    first_end = t1 + (np.array(first["duration_ms"]) * MS).astype(np.int64)

    e = np.flatnonzero(err)
    errors = _chat_cols(rng, _take(base, e), route[e], t[e], inp[e] * 0, cache[e] * 0, out[e] * 0)
    errors["duration_ms"] = np.round(err_dur[e] / MS, 1).tolist()
    errors["status"] = ["error"] * len(e)
    errors["tags"] = [
        {"error.type": "timeout" if r == 0 else "rate_limit"} for r in route[e].tolist()
    ]
    for k in ("ttft_ms",):
        errors[k] = [None] * len(e)

    g = np.flatnonzero(regen)
    t2 = first_end[g] + (20 * np.exp(0.6 * rng.standard_normal(len(g))) * S).astype(np.int64)
    again = _chat_cols(rng, _take(base, g), route[g], t2, inp[g] + 250, cache[g], out[g])
    again["attempt"] = [2] * len(g)
    again["accepted"] = [True if x < 0.3 else None for x in rng.random(len(g)).tolist()]
    return [errors, first, again], [t[e], t1, t2]


def _take(base: Columns, ix: np.ndarray) -> Columns:
    return {k: [v[i] for i in ix.tolist()] for k, v in base.items()}


def _chat_cols(
    rng: np.random.Generator,
    base: Columns,
    route: np.ndarray,
    t: np.ndarray,
    inp: np.ndarray,
    cache: np.ndarray,
    out: np.ndarray,
) -> Columns:
    """Chat events for routes 0 (self-hosted Llama), 1 (gpt-4o-mini), 2 (gemini-2.5-flash)."""
    n = len(route)
    hosted = route == 0
    ttft_api = np.where(route == 1, GPT4O_MINI.ttft_s, GEMINI_FLASH.ttft_s) + inp * 2e-5
    tps_api = np.where(route == 1, GPT4O_MINI.tokens_per_s, GEMINI_FLASH.tokens_per_s)
    # vLLM, FP8, TP=2 on 2 x H100 at low concurrency: ~25k tok/s prefill, ~22 ms per token.
    ttft = np.where(hosted, 0.04 + inp / 25_000, ttft_api) * np.exp(0.3 * rng.standard_normal(n))
    decode = np.where(hosted, out * 0.022, out / tps_api) * np.exp(0.15 * rng.standard_normal(n))
    provider = np.where(hosted, SELF_HOSTED_PROVIDER, np.where(route == 1, "openai", "google"))
    model = np.where(
        hosted, SELF_HOSTED_MODEL, np.where(route == 1, GPT4O_MINI.response, GEMINI_FLASH.response)
    )
    cols: Columns = {"event_id": hex_ids(rng, n, 10, "chat_")}
    cols.update(base)
    cols |= {
        "duration_ms": np.round((ttft + decode) * 1000, 1).tolist(),
        "ttft_ms": np.round(ttft * 1000, 1).tolist(),
        "operation": ["chat"] * n,
        "provider": provider.tolist(),
        "model": model.tolist(),
        "endpoint": opt([SELF_HOSTED_ENDPOINT] * n, hosted),
        "input_tokens": inp.tolist(),
        "cache_read_tokens": cache.tolist(),
        "output_tokens": out.tolist(),
        "feature": [SEARCH] * n,
        "team": [TEAMS[SEARCH]] * n,
        "task_type": ["search.query"] * n,
        "agent": ["answerer"] * n,
    }
    return cols


def _finish(cols: Columns) -> Columns:
    """numpy columns to lists; durations rounded to 0.1 ms."""
    for k, v in list(cols.items()):
        if isinstance(v, np.ndarray):
            cols[k] = np.round(v, 1).tolist() if v.dtype.kind == "f" else v.tolist()
    return cols
