"""What a self-hosted endpoint did: from the ledger's spans or a serving engine's metrics.

Spans (one per request: start, duration, time to first token, tokens):

    window       = last end - first start                                       [s]
    concurrency  = Σ duration / window        (mean requests in flight; Little's law)
    peak         = most spans overlapping at once (sweep over starts and ends)
    output tok/s = Σ output tokens / window
    TTFT         = mean time to first token                                      [s]
    TPOT         = mean over requests of (duration - TTFT) / (output tokens - 1) [s]

Prometheus metrics (the engine's `/metrics` text; names per engine in `ENGINE_METRICS`):
with two scrapes Δt apart, rates are counter deltas over Δt and means are histogram
Δsum/Δcount; with one scrape the means are over the server's life and output tok/s is
Little's law on the gauges, running requests / TPOT (SGLang's `gen_throughput` gauge when
it is there). Gauges (running, waiting, KV-cache usage) come from the last scrape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from unitecon.errors import InputError


@dataclass(frozen=True)
class Observed:
    """An endpoint's measured behaviour, whatever it was measured from."""

    source: str
    """'spans' or 'metrics (<engine>)'."""
    output_tok_s: float
    """Output tokens per second over the window [tokens/s]."""
    input_tok_s: float
    """Prompt tokens per second over the window [tokens/s]."""
    ttft_s: float | None
    """Mean time to first token [s]."""
    tpot_s: float | None
    """Mean time per output token after the first [s]."""
    concurrency: float
    """Mean requests in flight (running) [requests]."""
    waiting: float = 0.0
    """Requests queued, not running [requests]."""
    kv_usage: float | None = None
    """KV-cache blocks in use [0-1]."""
    input_len: float | None = None
    """Mean prompt tokens per request."""
    output_len: float | None = None
    """Mean output tokens per request."""
    requests: int = 0
    peak_concurrency: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Span:
    """One request as the ledger saw it."""

    start_s: float
    """Start time [s since epoch]."""
    duration_s: float
    ttft_s: float | None
    input_tokens: int
    output_tokens: int


def from_spans(spans: Sequence[Span]) -> Observed:
    """Observed behaviour from request spans (module docstring)."""
    spans = [s for s in spans if s.duration_s > 0]
    if not spans:
        raise InputError("no spans with a duration for this endpoint; nothing to audit")
    first = min(s.start_s for s in spans)
    last = max(s.start_s + s.duration_s for s in spans)
    window = max(last - first, 1e-9)
    busy = sum(s.duration_s for s in spans)
    ttfts = [s.ttft_s for s in spans if s.ttft_s is not None]
    tpots = [
        (s.duration_s - s.ttft_s) / (s.output_tokens - 1)
        for s in spans
        if s.ttft_s is not None and s.output_tokens > 1 and s.duration_s > s.ttft_s
    ]
    n = len(spans)
    notes = [] if ttfts else ["spans carry no time to first token: TTFT and TPOT unknown"]
    return Observed(
        source="spans",
        output_tok_s=sum(s.output_tokens for s in spans) / window,
        input_tok_s=sum(s.input_tokens for s in spans) / window,
        ttft_s=sum(ttfts) / len(ttfts) if ttfts else None,
        tpot_s=sum(tpots) / len(tpots) if tpots else None,
        concurrency=busy / window,
        input_len=sum(s.input_tokens for s in spans) / n,
        output_len=sum(s.output_tokens for s in spans) / n,
        requests=n,
        peak_concurrency=float(peak_overlap(spans)),
        notes=notes,
    )


def peak_overlap(spans: Iterable[Span]) -> int:
    """Most spans in flight at once (an end at the same instant as a start comes first)."""
    events = []
    for s in spans:
        events += [(s.start_s, 1), (s.start_s + s.duration_s, -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    now = best = 0
    for _, step in events:
        now += step
        best = max(best, now)
    return best


@dataclass(frozen=True)
class MetricNames:
    """One engine's Prometheus names for what the audit reads (first present wins)."""

    prompt_tokens: tuple[str, ...]
    generation_tokens: tuple[str, ...]
    running: tuple[str, ...]
    waiting: tuple[str, ...]
    kv_usage: tuple[str, ...]
    ttft: tuple[str, ...]
    """Histograms (name without _sum/_count)."""
    tpot: tuple[str, ...]
    requests: tuple[str, ...]
    """A histogram observed once per finished request (its _count)."""
    throughput_gauge: tuple[str, ...] = ()


# One place for every engine's metric names (vLLM docs "Production Metrics"; SGLang
# `srt/metrics/collector.py`; TGI docs "Metrics"). vLLM renamed the KV gauge in V1
# (gpu_cache_usage_perc -> kv_cache_usage_perc) and the TPOT histogram in 0.11
# (time_per_output_token_seconds -> inter_token_latency_seconds): both are read.
ENGINE_METRICS = {
    "vllm": MetricNames(
        prompt_tokens=("vllm:prompt_tokens_total",),
        generation_tokens=("vllm:generation_tokens_total",),
        running=("vllm:num_requests_running",),
        waiting=("vllm:num_requests_waiting",),
        kv_usage=("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        ttft=("vllm:time_to_first_token_seconds",),
        tpot=(
            "vllm:inter_token_latency_seconds",
            "vllm:time_per_output_token_seconds",
            "vllm:request_time_per_output_token_seconds",
        ),
        requests=("vllm:e2e_request_latency_seconds",),
    ),
    "sglang": MetricNames(
        prompt_tokens=("sglang:prompt_tokens_total",),
        generation_tokens=("sglang:generation_tokens_total",),
        running=("sglang:num_running_reqs",),
        waiting=("sglang:num_queue_reqs",),
        kv_usage=("sglang:token_usage",),
        ttft=("sglang:time_to_first_token_seconds",),
        tpot=("sglang:inter_token_latency_seconds", "sglang:time_per_output_token_seconds"),
        requests=("sglang:e2e_request_latency_seconds",),
        throughput_gauge=("sglang:gen_throughput",),
    ),
    "tgi": MetricNames(
        prompt_tokens=("tgi_request_input_length_sum",),
        generation_tokens=("tgi_request_generated_tokens_sum",),
        running=("tgi_batch_current_size",),
        waiting=("tgi_queue_size",),
        kv_usage=(),
        ttft=("tgi_request_queue_duration",),  # queue wait; TGI has no TTFT histogram
        tpot=("tgi_request_mean_time_per_token_duration",),
        requests=("tgi_request_duration",),
    ),
}


Samples = dict[str, float]


def parse_scrape(text: str, where: str = "<metrics>") -> Samples:
    """Sample name -> value summed over label sets (replicas, models), via prometheus_client."""
    out: Samples = defaultdict(float)
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name.endswith("_bucket") or s.name.endswith("_created"):
                    continue
                out[s.name] += float(s.value)
    except ValueError as e:
        raise InputError(f"{where}: not Prometheus text format: {e}") from e
    if not out:
        raise InputError(f"{where}: no metrics found")
    return dict(out)


def detect_engine(samples: Samples) -> str:
    """The engine whose metric prefix the scrape uses."""
    for engine, prefix in (("vllm", "vllm:"), ("sglang", "sglang:"), ("tgi", "tgi_")):
        if any(k.startswith(prefix) for k in samples):
            return engine
    raise InputError(
        "no vllm:, sglang: or tgi_ metrics in the scrape; is this a serving engine's /metrics?"
    )


def _first(samples: Samples, names: Sequence[str]) -> float | None:
    return next((samples[n] for n in names if n in samples), None)


def _hist_mean(new: Samples, old: Samples | None, names: Sequence[str]) -> float | None:
    for n in names:
        if f"{n}_sum" in new and f"{n}_count" in new:
            total, count = new[f"{n}_sum"], new[f"{n}_count"]
            if old is not None:
                total -= old.get(f"{n}_sum", 0.0)
                count -= old.get(f"{n}_count", 0.0)
            return total / count if count > 0 else None
    return None


def from_metrics(
    scrapes: Sequence[str], interval_s: float | None = None, where: str = "<metrics>"
) -> Observed:
    """Observed behaviour from one or two scrapes of an engine's /metrics (module docstring)."""
    if not scrapes or len(scrapes) > 2:
        raise InputError("give one or two scrapes of the metrics")
    parsed = [parse_scrape(t, where) for t in scrapes]
    new, old = parsed[-1], (parsed[0] if len(parsed) == 2 else None)
    engine = detect_engine(new)
    m = ENGINE_METRICS[engine]
    ttft = _hist_mean(new, old, m.ttft)
    tpot = _hist_mean(new, old, m.tpot)
    running = _first(new, m.running) or 0.0
    notes = []
    gen, prompt = _first(new, m.generation_tokens), _first(new, m.prompt_tokens)
    reqs = _hist_count(new, old, m.requests)
    if old is not None:
        if not interval_s or interval_s <= 0:
            raise InputError("two scrapes need the seconds between them (--interval)")
        gen = (gen or 0) - (_first(old, m.generation_tokens) or 0)
        prompt = (prompt or 0) - (_first(old, m.prompt_tokens) or 0)
        out_s, in_s = gen / interval_s, prompt / interval_s
    else:
        gauge = _first(new, m.throughput_gauge)
        if gauge is not None:
            out_s = gauge
            notes.append(f"one scrape: output tok/s from {m.throughput_gauge[0]}")
        else:
            out_s = running / tpot if tpot else 0.0
            notes.append("one scrape: output tok/s = running requests / mean TPOT (Little's law)")
        in_s = out_s * (prompt or 0) / gen if gen else 0.0
    if engine == "tgi":
        notes.append("TGI exports no TTFT: the TTFT shown is the mean queue wait")
    return Observed(
        source=f"metrics ({engine})",
        output_tok_s=out_s,
        input_tok_s=in_s,
        ttft_s=ttft,
        tpot_s=tpot,
        concurrency=running,
        waiting=_first(new, m.waiting) or 0.0,
        kv_usage=_first(new, m.kv_usage),
        input_len=(prompt / reqs) if prompt and reqs else None,
        output_len=(gen / reqs) if gen and reqs else None,
        requests=int(reqs or 0),
        notes=notes,
    )


def _hist_count(new: Samples, old: Samples | None, names: Sequence[str]) -> float | None:
    for n in names:
        if f"{n}_count" in new:
            return new[f"{n}_count"] - (old.get(f"{n}_count", 0.0) if old else 0.0)
    return None
