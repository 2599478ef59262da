"""Per self-hosted endpoint over the window: provisioned, busy and idle GPU time and cost,
calls and tokens (the sums; `economics.metrics` gives utilization, $/M tokens, ...).

Measured: provisioned, busy and idle GPU time and cost (busy time from the calls'
`duration_ms`), calls, tokens, output tokens per second of the timed calls. Configured: the
prefill and decode rates of the project file, which split the cost into input and output
by compute time, as OpenCost's inference costs do: prefill share
s = sum(input_tokens / prefill_tokens_per_s) /
    sum(input_tokens / prefill_tokens_per_s + output_tokens / decode_tokens_per_s)
over its calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from unitecon.attribution.costed import Costed
from unitecon.attribution.frame import ZERO
from unitecon.attribution.selfhosted import hourly_cost

if TYPE_CHECKING:
    from unitecon.config import Project


@dataclass(frozen=True)
class EndpointUsage:
    """Sums of one endpoint over the window [USD, GPU-s, tokens, s]."""

    endpoint: str
    gpu: str
    gpu_count: int
    hourly_cost: Decimal
    cost: Decimal
    allocated: Decimal
    idle: Decimal
    provisioned_gpu_s: Decimal
    busy_gpu_s: Decimal
    calls: int = 0
    timed_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    timed_output_tokens: int = 0
    timed_seconds: float = 0.0
    prefill_share: Decimal | None = None
    prefill_tokens_per_s: Decimal | None = None
    """Configured prefill rate [tokens/s] (the project file), behind the input/output split."""
    decode_tokens_per_s: Decimal | None = None
    """Configured decode rate [tokens/s] (the project file)."""


def endpoint_usage(c: Costed, project: Project) -> list[EndpointUsage]:
    """One row per configured endpoint (and per unconfigured one that has calls)."""
    t = c.scan()  # one pass: no table of every event for a handful of endpoints
    t = t.filter(t.price_status == "endpoint")
    timed = t.duration_ms.notnull() & (t.duration_ms > 0)
    agg = t.group_by("endpoint").agg(
        calls=t.count(),
        timed_calls=t.count(where=timed),
        input_tokens=t.input_tokens.sum(),
        output_tokens=t.output_tokens.sum(),
        timed_output_tokens=t.output_tokens.sum(where=timed),
        timed_seconds=(t.duration_ms / 1000.0).sum(where=timed),
        prefill=t.prefill_s.sum(),
        decode=t.decode_s.sum(),
    )
    stats = {r.pop("endpoint"): r for r in agg.to_pyarrow().to_pylist()}
    names = sorted(set(project.endpoints) | {k for k in stats if k})
    return [_row(c, project, name, stats.get(name, {})) for name in names]


def _row(c: Costed, project: Project, name: str, s: dict[str, Any]) -> EndpointUsage:
    ps = [p for p in c.periods if p.endpoint == name]
    ep = project.endpoints.get(name)
    pre, dec = float(s.get("prefill") or 0.0), float(s.get("decode") or 0.0)
    return EndpointUsage(
        endpoint=name,
        gpu=ep.gpu if ep else "(not configured)",
        gpu_count=ep.gpu_count if ep else 0,
        hourly_cost=hourly_cost(ep) if ep else ZERO,
        cost=sum((p.cost for p in ps), ZERO),
        allocated=sum((p.allocated for p in ps), ZERO),
        idle=sum((p.idle for p in ps), ZERO),
        provisioned_gpu_s=sum((p.provisioned_gpu_s for p in ps), ZERO),
        busy_gpu_s=sum((p.busy_gpu_s for p in ps), ZERO),
        calls=int(s.get("calls") or 0),
        timed_calls=int(s.get("timed_calls") or 0),
        input_tokens=int(s.get("input_tokens") or 0),
        output_tokens=int(s.get("output_tokens") or 0),
        timed_output_tokens=int(s.get("timed_output_tokens") or 0),
        timed_seconds=float(s.get("timed_seconds") or 0.0),
        prefill_share=Decimal(repr(round(pre / (pre + dec), 9))) if pre + dec > 0 else None,
        prefill_tokens_per_s=Decimal(ep.prefill_tokens_per_s) if ep else None,
        decode_tokens_per_s=Decimal(ep.decode_tokens_per_s) if ep else None,
    )
