"""Feature 1: the customer-support agent, one OTLP trace per ticket.

Tree per ticket (OpenTelemetry GenAI conventions):

    invoke_agent supervisor                  root; outcome and acceptance of the ticket
    ├── chat claude-sonnet-4-5               supervisor plans
    ├── invoke_agent triage → chat haiku     classifies the ticket (a fine-tune in an A/B test)
    ├── invoke_agent retriever               embeddings, retrieval (vector_query), web_search
    │   or invoke_agent billing_agent        handoff for billing tickets: lookup_invoice tool
    ├── invoke_agent responder → chat        one per draft; attempt 2, 3 after a rejection
    └── chat claude-sonnet-4-5               supervisor checks each draft (accepted or not)

Prompt caching follows Anthropic's 5-minute TTL per tenant and agent: a call whose prefix was
used in the last five minutes reads it from the cache, otherwise writes it. Drafts rejected three
times go to one of the vendor's human reviewers, as does a 2% audit sample of resolved tickets
(native `human_review` events, `review_second` units). During the incident one customer's
supervisor loops between planning and web search until the context overflows or a 30-minute
watchdog kills the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unitecon.demo.catalog import EMBED, FT_TRIAGE, HAIKU, SONNET, SUPPORT, TEAMS, Model
from unitecon.demo.dice import Dice
from unitecon.demo.otlp import CLIENT, INTERNAL, Resource, Scope, Span, kv
from unitecon.demo.population import CONSUMER_HOURS, Population, arrivals

MS = 1_000_000
S = 1_000 * MS
CACHE_TTL = 300 * S
WATCHDOG = 1_800 * S
CONTEXT_LIMIT = 200_000

#: Ticket categories (task types), their share and how often drafts get rejected (relative).
CATEGORIES = ("ticket.how_to", "ticket.technical", "ticket.billing", "ticket.account")
CATEGORY_SHARE = (0.38, 0.27, 0.20, 0.15)
REJECT_FACTOR = {
    "ticket.how_to": 0.7,
    "ticket.technical": 1.6,
    "ticket.billing": 0.9,
    "ticket.account": 1.0,
}
#: Cached system prompt + tool definitions per agent [tokens] (plus a per-tenant policy block).
PREFIX = {"supervisor": 3_300, "triage": 4_300, "responder": 2_800, "billing_agent": 3_100}
P_API_ERROR = 0.012

AGENT_SCOPE = "northwind.support.orchestrator"
LLM_SCOPES = {
    "anthropic": Scope("opentelemetry.instrumentation.anthropic", "0.47.3"),
    "openai": Scope("opentelemetry.instrumentation.openai_v2", "2.1b0"),
}


@dataclass
class Ticket:
    """What one trace needs to know about its ticket."""

    c: int  # customer index, -1 for internal QA traffic (staging)
    customer_id: str | None
    user_id: str
    t0: int
    resource: Resource
    loop: bool
    ft_triage: bool
    category: str = ""
    trace_id: str = ""
    common: list[str] = field(default_factory=list)


@dataclass
class SupportStats:
    tickets: int = 0
    resolved: int = 0
    escalated: int = 0
    reviews: int = 0
    loop_tickets: int = 0
    loop_calls: int = 0
    max_calls_per_task: int = 0


class TicketBuilder:
    """Builds ticket traces in time order (the prompt-cache state depends on the order)."""

    def __init__(self, dice: Dice, difficulty: np.ndarray, tenant_prefix: np.ndarray) -> None:
        self.d = dice
        self.difficulty = difficulty
        self.tenant_prefix = tenant_prefix
        self.warm: dict[tuple[int, str], int] = {}
        self.seq = 0
        self.stats = SupportStats()
        self.reviews: list[dict[str, Any]] = []

    # -- spans -----------------------------------------------------------------------------

    def _span(
        self, tk: Ticket, parent: str | None, name: str, kind: int, t: int, scope: Scope
    ) -> Span:
        return Span(tk.trace_id, self.d.hex(8), parent, name, kind, t, t, [], tk.resource, scope)

    def _agent(self, out: list[Span], tk: Ticket, agent: str, parent: str | None, t: int) -> Span:
        sp = self._span(tk, parent, f"invoke_agent {agent}", INTERNAL, t, self._agent_scope(tk))
        sp.attrs += [kv("gen_ai.operation.name", "invoke_agent"), kv("gen_ai.agent.name", agent)]
        sp.attrs += tk.common
        out.append(sp)
        return sp

    def _agent_scope(self, tk: Ticket) -> Scope:
        version = dict(tk.resource.attrs).get("service.version", "")
        return Scope(AGENT_SCOPE, version)

    def _gap(self, t: int) -> int:
        return t + int(self.d.seconds(0.006, 0.6) * S)

    def _chat(
        self,
        out: list[Span],
        tk: Ticket,
        parent: str,
        agent: str,
        model: Model,
        t: int,
        *,
        fresh: int,
        out_tokens: int,
        history: int = 0,
        new_history: int = 0,
        attempt: int | None = None,
        accepted: bool | None = None,
        finish: str = "end_turn",
    ) -> int:
        """One LLM call (after any overloaded errors and their retries); returns its end."""
        d = self.d
        scope = LLM_SCOPES[model.provider]
        base_attempt = attempt or 1
        while d.chance(P_API_ERROR):
            sp = self._span(tk, parent, f"chat {model.request}", CLIENT, t, scope)
            sp.end = t + int(d.seconds(0.8, 0.7) * S)
            sp.error = "overloaded_error: Overloaded"
            sp.attrs += [
                *self._llm_attrs("chat", model, agent, tk),
                kv("error.type", "overloaded_error"),
                kv("unitecon.attempt", base_attempt),
            ]
            out.append(sp)
            t = sp.end + int(d.seconds(1.5, 0.5) * S)
            base_attempt += 1
        prefix = PREFIX.get(agent, 3_000) + (int(self.tenant_prefix[tk.c]) if tk.c >= 0 else 0)
        if model is FT_TRIAGE:
            prefix = 0  # the fine-tune needs no few-shot prompt and caches nothing
        key = (tk.c, agent)
        warm = t - self.warm.get(key, -CACHE_TTL) < CACHE_TTL
        if prefix:
            self.warm[key] = t
        cache_read = (prefix if warm else 0) + history
        cache_write = (0 if warm else prefix) + new_history
        input_tokens = cache_read + cache_write + fresh
        ttft = d.seconds(model.ttft_s, 0.35) + fresh * 4e-5 + (cache_read + cache_write) * 6e-6
        dur = ttft + out_tokens / (model.tokens_per_s * d.seconds(1.0, 0.15))
        sp = self._span(tk, parent, f"chat {model.request}", CLIENT, t, scope)
        sp.end = t + int(dur * S)
        sp.attrs += [
            *self._llm_attrs("chat", model, agent, tk),
            kv("gen_ai.response.id", self._response_id(model)),
            kv("gen_ai.response.finish_reasons", [finish]),
            kv("gen_ai.usage.input_tokens", input_tokens),
            kv("gen_ai.usage.output_tokens", out_tokens),
            kv("gen_ai.usage.cache_read.input_tokens", cache_read),
            kv("gen_ai.usage.cache_creation.input_tokens", cache_write),
            kv("gen_ai.response.time_to_first_chunk", round(ttft, 3)),
        ]
        if attempt is not None or base_attempt > 1:
            sp.attrs.append(kv("unitecon.attempt", base_attempt))
        if accepted is not None:
            sp.attrs.append(kv("unitecon.accepted", accepted))
        out.append(sp)
        return sp.end

    def _llm_attrs(self, op: str, model: Model, agent: str, tk: Ticket) -> list[str]:
        return [
            kv("gen_ai.operation.name", op),
            kv("gen_ai.provider.name", model.provider),
            kv("gen_ai.request.model", model.request),
            kv("gen_ai.response.model", model.response),
            kv("gen_ai.agent.name", agent),
            *tk.common,
        ]

    def _response_id(self, model: Model) -> str:
        if model.provider == "anthropic":
            return "msg_01" + self.d.hex(11)
        return "chatcmpl-" + self.d.hex(12)

    def _tool(
        self, out: list[Span], tk: Ticket, parent: str, agent: str, tool: str, t: int, units: bool
    ) -> int:
        d = self.d
        sp = self._span(tk, parent, f"execute_tool {tool}", INTERNAL, t, self._agent_scope(tk))
        sp.end = t + int(d.seconds(1.1 if units else 0.15, 0.45) * S)
        sp.attrs += [
            kv("gen_ai.operation.name", "execute_tool"),
            kv("gen_ai.tool.name", tool),
            kv("gen_ai.tool.type", "function"),
            kv("gen_ai.tool.call.id", "toolu_01" + d.hex(10)),
            kv("gen_ai.agent.name", agent),
            *tk.common,
        ]
        if units:
            sp.attrs += [kv("unitecon.unit.type", "web_search"), kv("unitecon.units", 1)]
        out.append(sp)
        return sp.end

    def _retrieve(self, out: list[Span], tk: Ticket, parent: str, t: int, web: int) -> int:
        d = self.d
        ag = self._agent(out, tk, "retriever", parent, t)
        sp = self._span(
            tk, ag.span_id, f"embeddings {EMBED.request}", CLIENT, t, LLM_SCOPES["openai"]
        )
        sp.end = t + int(d.seconds(0.12, 0.4) * S)
        sp.attrs += [
            *self._llm_attrs("embeddings", EMBED, "retriever", tk),
            kv("gen_ai.usage.input_tokens", d.lognorm(420, 0.35, 200, 800)),
            kv("gen_ai.embeddings.dimension.count", 1536),
        ]
        out.append(sp)
        t = self._gap(sp.end)
        kb = f"kb-{tk.customer_id or 'qa'}"
        sp = self._span(tk, ag.span_id, f"retrieval {kb}", CLIENT, t, self._agent_scope(tk))
        sp.end = t + int(d.seconds(0.045, 0.4) * S)
        sp.attrs += [
            kv("gen_ai.operation.name", "retrieval"),
            kv("gen_ai.data_source.id", kb),
            kv("gen_ai.agent.name", "retriever"),
            kv("db.system.name", "pinecone"),
            kv("unitecon.unit.type", "vector_query"),
            kv("unitecon.units", 1),
            *tk.common,
        ]
        out.append(sp)
        t = sp.end
        for _ in range(web):
            t = self._tool(out, tk, ag.span_id, "retriever", "web_search", self._gap(t), True)
        ag.end = self._gap(t)
        return ag.end

    # -- tickets ---------------------------------------------------------------------------

    def build(self, tk: Ticket) -> list[Span]:
        """All spans of one ticket; also records human reviews and statistics."""
        d = self.d
        self.seq += 1
        tk.trace_id = d.hex(16)
        tk.category = d.pick(CATEGORIES, CATEGORY_SHARE)
        task_id = f"tkt-{self.seq:06d}"
        tk.common = [
            kv("unitecon.task.id", task_id),
            kv("unitecon.task.type", tk.category),
            kv("gen_ai.conversation.id", "conv_" + d.hex(8)),
            kv("unitecon.user.id", tk.user_id),
        ]
        if tk.customer_id is not None:
            tk.common.append(kv("unitecon.customer.id", tk.customer_id))
        out: list[Span] = []
        root = self._agent(out, tk, "supervisor", None, tk.t0)
        t = self._chat(
            out, tk, root.span_id, "supervisor", SONNET, self._gap(tk.t0),
            fresh=d.lognorm(700, 0.5, 150, 2500), out_tokens=d.lognorm(190, 0.4, 40, 600),
            finish="tool_use",
        )  # fmt: skip
        tri = self._agent(out, tk, "triage", root.span_id, self._gap(t))
        t = self._chat(
            out, tk, tri.span_id, "triage", FT_TRIAGE if tk.ft_triage else HAIKU,
            self._gap(tri.start),
            fresh=d.lognorm(650, 0.5, 120, 2500), out_tokens=d.lognorm(70, 0.35, 20, 200),
        )  # fmt: skip
        tri.end = self._gap(t)
        if tk.loop:
            outcome, t = self._loop(out, tk, root, tri.end)
        else:
            outcome, t = self._answer(out, tk, root, tri.end)
        root.end = self._gap(t)
        root.attrs += [
            kv("unitecon.outcome", outcome),
            kv("unitecon.accepted", outcome == "resolved"),
        ]
        self._count(out, tk, outcome)
        if tk.loop:
            self.stats.loop_tickets += 1
            self.stats.loop_calls += len(out)
        return out

    def _answer(self, out: list[Span], tk: Ticket, root: Span, t: int) -> tuple[str, int]:
        d = self.d
        handoff = tk.category == "ticket.billing" and d.chance(0.55)
        worker = "billing_agent" if handoff else "responder"
        if handoff:
            docs = d.lognorm(900, 0.4, 300, 2500)
        else:
            t = self._retrieve(
                out, tk, root.span_id, self._gap(t), d.pick((0, 1, 2), (0.7, 0.22, 0.08))
            )
            docs = d.lognorm(2200, 0.45, 800, 5000)
        p_reject = 0.1 if tk.c < 0 else min(0.6, self.difficulty[tk.c] * REJECT_FACTOR[tk.category])
        for attempt in (1, 2, 3):
            ag = self._agent(out, tk, worker, root.span_id, self._gap(t))
            if handoff:
                ag.attrs.append(kv("unitecon.handoff.from", "triage"))
                t = self._tool(
                    out, tk, ag.span_id, worker, "lookup_invoice", self._gap(ag.start), False
                )
            else:
                t = ag.start
            rejected = d.chance(p_reject)
            t = self._chat(
                out, tk, ag.span_id, worker, SONNET, self._gap(t),
                fresh=docs + 350 * (attempt - 1), out_tokens=d.lognorm(520, 0.45, 150, 1500),
                attempt=attempt, accepted=not rejected,
            )  # fmt: skip
            ag.end = self._gap(t)
            t = self._chat(
                out, tk, root.span_id, "supervisor", SONNET, self._gap(ag.end),
                fresh=d.lognorm(1000, 0.35, 400, 3000), out_tokens=d.lognorm(80, 0.4, 20, 250),
            )  # fmt: skip
            if not rejected:
                outcome = d.pick(("resolved", "escalated", "abandoned"), (0.86, 0.08, 0.06))
                if outcome == "resolved" and d.chance(0.02):  # quality audit sample
                    self._review(tk, root, t, d.lognorm(150, 0.5, 30, 900))
                return outcome, t
        self._review(tk, root, t, d.lognorm(420, 0.6, 60, 3600))
        return "escalated", t

    def _loop(self, out: list[Span], tk: Ticket, root: Span, t: int) -> tuple[str, int]:
        """The runaway: re-plan, search, re-plan ... with an ever longer context."""
        d = self.d
        history, i = 0, 0
        while True:
            delta = d.lognorm(520, 0.5, 80, 3000)
            if PREFIX["supervisor"] + history + delta > CONTEXT_LIMIT - 1_000:
                root.error = "invalid_request_error: prompt is too long"
                return "failed", t
            if t - tk.t0 > WATCHDOG:
                root.error = "DeadlineExceeded: task killed by watchdog after 1800 s"
                return "failed", t
            out_tokens = d.lognorm(140, 0.3, 40, 400)
            t = self._chat(
                out, tk, root.span_id, "supervisor", SONNET, self._gap(t),
                fresh=d.lognorm(60, 0.3, 20, 200), out_tokens=out_tokens,
                history=history, new_history=delta, finish="tool_use",
            )  # fmt: skip
            history += delta + out_tokens
            t = self._tool(out, tk, root.span_id, "supervisor", "web_search", self._gap(t), True)
            if i % 4 == 3:
                t = self._retrieve(out, tk, root.span_id, self._gap(t), 0)
            i += 1

    def _review(self, tk: Ticket, root: Span, t: int, seconds: int) -> None:
        d = self.d
        ts = t + int(d.seconds(2_400, 0.8) * S)
        span_id = d.hex(8)
        row: dict[str, Any] = {
            "event_id": f"{tk.trace_id}:{span_id}",
            "ts": ts,
            "duration_ms": float(seconds * 1000),
            "trace_id": tk.trace_id,
            "span_id": span_id,
            "parent_span_id": root.span_id,
            "operation": "human_review",
            "unit_type": "review_second",
            "units": float(seconds),
            "agent": "human_reviewer",
            "task_id": f"tkt-{self.seq:06d}",
            "task_type": tk.category,
            "customer_id": tk.customer_id,
            "user_id": f"reviewer-{d.lognorm(6, 0.8, 1, 24):02d}",
            "feature": SUPPORT,
            "team": TEAMS[SUPPORT],
            "environment": "prod" if tk.c >= 0 else "staging",
        }
        self.reviews.append(row)
        self.stats.reviews += 1

    def _count(self, out: list[Span], tk: Ticket, outcome: str) -> None:
        s = self.stats
        s.tickets += 1
        s.resolved += outcome == "resolved"
        s.escalated += outcome == "escalated"
        calls = sum(1 for sp in out if not sp.name.startswith("invoke_agent"))
        s.max_calls_per_task = max(s.max_calls_per_task, calls)


# -- the feature's traffic -----------------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    """The runaway-agent incident: one customer's supervisor loops for a few hours."""

    customer_id: str
    start_ns: int
    end_ns: int
    tickets: int = 0
    calls: int = 0


@dataclass
class SupportTraffic:
    spans_by_day: dict[int, list[Span]]
    reviews: list[dict[str, Any]]
    stats: SupportStats
    incident: Incident


def _resource(env: str, version: str) -> Resource:
    return Resource(
        (
            ("service.name", "support-agent"),
            ("service.version", version),
            ("deployment.environment.name", env),
            ("unitecon.feature", SUPPORT),
            ("unitecon.team", TEAMS[SUPPORT]),
            ("cloud.provider", "aws"),
            ("cloud.region", "us-east-1"),
            ("telemetry.sdk.name", "opentelemetry"),
            ("telemetry.sdk.language", "python"),
            ("telemetry.sdk.version", "1.38.0"),
        )
    )


def incident_window(window_start_ns: int, days: int) -> tuple[int, int]:
    """A weekday about two thirds into the window, 14:00 to 18:30 UTC (morning in the US)."""
    day = int(days * 0.7)
    dow = (window_start_ns // (86_400 * S) + 3 + day) % 7  # Mon=0
    day += {5: 2, 6: 1}.get(int(dow), 0)
    day = min(day, days - 1)
    start = window_start_ns + day * 86_400 * S + 14 * 3_600 * S
    return start, start + 4 * 3_600 * S + 1_800 * S


def plan_incident(
    cust: np.ndarray, ts: np.ndarray, plan: np.ndarray, region: np.ndarray, window: tuple[int, int]
) -> int:
    """The support-pro customer (US first) with most tickets in the incident window."""
    inside = (ts >= window[0]) & (ts < window[1])
    counts = np.bincount(cust[inside], minlength=len(plan)).astype(np.float64)
    eligible = plan == "support-pro"
    score = np.where(eligible, counts + np.where(region == "us", 0.5, 0.0), -1.0)
    return int(np.argmax(score))


def resubmissions(dice: Dice, starts: list[int], window: tuple[int, int]) -> list[int]:
    """Users whose ticket got no answer resubmit it (p = 0.6) 10 to 30 minutes later."""
    extra: list[int] = []
    queue = list(starts)
    while queue:
        t = queue.pop()
        if dice.chance(0.6):
            t2 = t + int(dice.seconds(900, 0.4) * S)
            if t2 < window[1]:
                extra.append(t2)
                queue.append(t2)
    return extra


def generate_support(
    rng: np.random.Generator,
    dice: Dice,
    pop: Population,
    *,
    window_start: np.datetime64,
    days: int,
    total: float,
) -> SupportTraffic:
    """All ticket traces, grouped by the UTC day the ticket started."""
    ws = int(window_start.astype("datetime64[ns]").astype(np.int64))
    cust, ts = arrivals(
        rng, weight=pop.weight[SUPPORT], utc_offset=pop.utc_offset, start_day=pop.start_day,
        growth=pop.growth, window_start=window_start, days=days, hours_shape=CONSUMER_HOURS,
        weekend=0.55, total=total,
    )  # fmt: skip
    window = incident_window(ws, days)
    ic = plan_incident(cust, ts, pop.plan, pop.region, window)
    hit = (cust == ic) & (ts >= window[0]) & (ts < window[1])
    extra = np.array(resubmissions(dice, ts[hit].tolist(), window), dtype=np.int64)
    cust = np.concatenate([cust, np.full(len(extra), ic)])
    ts = np.concatenate([ts, extra])
    order = np.argsort(ts, kind="stable")
    cust, ts = cust[order], ts[order]
    staging = rng.random(len(ts)) < 0.03
    users = pop.user(cust, rng.random(len(ts)))
    ft = staging | ((ts >= ws + (days // 2) * 86_400 * S) & (rng.random(len(ts)) < 0.04))

    builder = TicketBuilder(dice, pop.difficulty, rng.integers(200, 1_500, pop.n))
    resources: dict[tuple[str, str], Resource] = {}
    by_day: dict[int, list[Span]] = {}
    calls = tickets = 0
    for c, t, stg, user, f in zip(
        cust.tolist(), ts.tolist(), staging.tolist(), users, ft.tolist(), strict=True
    ):
        env, version = _deployment(t, stg, window)
        res = resources.setdefault((env, version), _resource(env, version))
        loop = (not stg) and c == ic and window[0] <= t < window[1]
        tk = Ticket(
            c=-1 if stg else c,
            customer_id=None if stg else pop.ids[c],
            user_id="qa-bot" if stg else user,
            t0=t,
            resource=res,
            loop=loop,
            ft_triage=f,
        )
        spans = builder.build(tk)
        by_day.setdefault((t - ws) // (86_400 * S), []).extend(spans)
        if loop:
            tickets += 1
            calls += sum(1 for sp in spans if not sp.name.startswith("invoke_agent"))
    incident = Incident(pop.ids[ic], window[0], window[1], tickets, calls)
    return SupportTraffic(by_day, builder.reviews, builder.stats, incident)


def _deployment(t: int, staging: bool, window: tuple[int, int]) -> tuple[str, str]:
    """Environment and service version: 2.15.0 shipped the loop bug, 2.15.1 fixed it."""
    if staging:
        return "staging", "2.15.0-rc.3" if t < window[0] - 2 * 86_400 * S else "2.15.1-rc.1"
    if t < window[0] - 1_200 * S:
        return "prod", "2.14.2"
    return "prod", "2.15.0" if t < window[1] else "2.15.1"
