"""`unitecon audit ENDPOINT`: the TPS audit of a self-hosted endpoint.

A thin translator: read the endpoint's spans from the ledger and/or a scrape of the
engine's Prometheus metrics (file or URL), resolve the deployment from the options and the
project file, call `unitecon.models.tps`, print. No metric is computed here.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, money, table
from unitecon.errors import InputError, UniteconError
from unitecon.models import tps
from unitecon.models.perf import calibrate, catalog, serving
from unitecon.models.perf.engines import ENGINES
from unitecon.models.perf.predict import deployment
from unitecon.terminal import shows_progress


def register(app: typer.Typer) -> None:
    app.command(
        "audit",
        help="""TPS audit of a self-hosted endpoint: observed vs theoretical tokens/s, TTFT and
TPOT, the binding constraint, and the top three bottlenecks with their effect on
throughput and $/M tokens.

Examples:
    unitecon audit llama-70b-h100 --precision fp8
    unitecon audit vllm-prod --metrics http://10.0.0.5:8000/metrics --interval 30 --model Llama-3.1-8B --gpu H100 --json
""",  # noqa: E501
    )(audit_command)


def _fetch(source: str) -> str:
    if source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(source, timeout=10) as r:
                return str(r.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise InputError(f"{source}: cannot fetch the metrics: {e}") from e
    try:
        return Path(source).read_text("utf-8")
    except OSError as e:
        raise InputError(f"{source}: cannot read the metrics file: {e}") from e


def _scrapes(sources: list[str], interval: float | None) -> list[str]:
    if len(sources) > 2:
        raise InputError("--metrics takes one or two scrapes (files or URLs)")
    texts = [_fetch(s) for s in sources]
    if len(sources) == 1 and sources[0].startswith("http") and interval:
        console.print(f"scraping {sources[0]} again in {interval:g} s ...")
        time.sleep(interval)
        texts.append(_fetch(sources[0]))
    return texts


def _spans(endpoint: str) -> list[tps.Span]:
    from unitecon.cli.session import session

    with session(None) as s:
        got = s.ask("endpoint_spans", endpoint=endpoint)
    cols = [got.start_s, got.duration_ms, got.ttft_ms, got.input_tokens, got.output_tokens]
    return [
        tps.Span(float(s), float(d) / 1e3, None if f is None else float(f) / 1e3, int(i), int(o))
        for s, d, f, i, o in zip(*cols, strict=True)
    ]


def _endpoint_config(endpoint: str) -> Any:
    from unitecon import config

    return config.load().endpoints.get(endpoint)


def _price(value: str | None, cfg: Any, gpu: catalog.Gpu) -> Decimal:
    if value is not None:
        try:
            return Decimal(value)
        except InvalidOperation as e:
            raise InputError(f"--gpu-price must be USD per GPU-hour, got {value!r}") from e
    if cfg is not None and cfg.hourly:
        kind = cfg.billing or next(iter(cfg.hourly))
        return Decimal(cfg.hourly[kind])
    if gpu.price_low_usd_h is None or gpu.price_high_usd_h is None:
        raise InputError(f"{gpu.name} has no price in the catalog; pass --gpu-price")
    return (gpu.price_low_usd_h + gpu.price_high_usd_h) / 2


@shows_progress("auditing the endpoint")
def audit_command(
    endpoint: Annotated[str, typer.Argument(help="Endpoint name (the events' `endpoint`).")],
    metrics: Annotated[
        list[str] | None,
        typer.Option("--metrics", help="Prometheus scrape: file or URL (give two for rates)."),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option("--interval", help="Seconds between the two scrapes (a URL: wait this)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model (default: the endpoint's `models`).")
    ] = None,
    gpu: Annotated[
        str | None, typer.Option("--gpu", help="GPU (default: the endpoint's `gpu`).")
    ] = None,
    gpus: Annotated[
        int | None, typer.Option("--gpus", help="GPUs per replica (default: `gpu_count`).")
    ] = None,
    precision: Annotated[str, typer.Option("--precision", help="Weights format.")] = "bf16",
    kv_precision: Annotated[
        str | None, typer.Option("--kv-precision", help="KV cache format.")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option("--engine", help=f"{', '.join(ENGINES)} (default: from the metrics)."),
    ] = None,
    gpu_price: Annotated[
        str | None, typer.Option("--gpu-price", help="USD per GPU-hour (default: project).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also write an HTML chart here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """TPS audit of a self-hosted endpoint."""
    cfg = _endpoint_config(endpoint)
    sources: list[tuple[str, tps.Observed]] = []
    if metrics:
        sources.append(("metrics", tps.from_metrics(_scrapes(metrics, interval), interval)))
    try:
        spans = _spans(endpoint)
    except UniteconError:
        if not metrics:
            raise
        spans = []  # no ledger: the metrics alone
    if spans:
        sources.append(("spans", tps.from_spans(spans)))
    if not sources:
        raise InputError(
            f"no spans with a duration for endpoint {endpoint!r} in the ledger and no --metrics;"
            " give --metrics FILE_OR_URL or check `unitecon endpoints`"
        )
    dep = _deployment(cfg, endpoint, model, gpu, gpus, precision, kv_precision)
    name = engine or _engine_of(sources) or "vllm"
    price = _price(gpu_price, cfg, dep.gpu)
    eff, eng = calibrate.fitted(), serving.Engine(name=name)
    audits = [(label, tps.audit(obs, dep, eff, eng, price)) for label, obs in sources]
    if chart is not None:
        _chart(endpoint, [a for _, a in audits], chart)
    if as_json:
        emit_json({"endpoint": endpoint, "audits": [_audit_dict(a) for _, a in audits]})
        return
    for label, a in audits:
        _print(endpoint, label, a)


def _chart(endpoint: str, audits: list[tps.Audit], path: Path) -> None:
    """Tokens/s observed vs the model (log scale), and each bottleneck's $/M before/after."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("output tokens/s", "$ per million output tokens, bottleneck removed"),
    )
    for a in audits:
        src = a.observed.source
        fig.add_trace(
            go.Bar(
                x=["observed", "model at this load", "theoretical max"],
                y=[a.observed.output_tok_s, a.at_load.output_tok_s, a.ceiling.output_tok_s],
                name=f"tokens/s ({src})",
            ),
            row=1,
            col=1,
        )
        names = [b.name for b in a.bottlenecks]
        fig.add_trace(
            go.Bar(x=names, y=[float(b.usd_per_mtok_before) for b in a.bottlenecks],
                   name=f"now ({src})"),
            row=1,
            col=2,
        )  # fmt: skip
        fig.add_trace(
            go.Bar(x=names, y=[float(b.usd_per_mtok_after) for b in a.bottlenecks],
                   name=f"after ({src})"),
            row=1,
            col=2,
        )  # fmt: skip
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_layout(title=f"TPS audit of {endpoint}", barmode="group")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs=True)
    console.print(f"chart: {path}")


def _engine_of(sources: list[tuple[str, tps.Observed]]) -> str | None:
    for _, obs in sources:
        if obs.source.startswith("metrics ("):
            return obs.source[len("metrics (") : -1]
    return None


def _deployment(
    cfg: Any,
    endpoint: str,
    model: str | None,
    gpu: str | None,
    gpus: int | None,
    precision: str,
    kv: str | None,
) -> Any:
    model = model or (cfg.models[0] if cfg is not None and cfg.models else None)
    gpu = gpu or (cfg.gpu if cfg is not None else None)
    if model is None or gpu is None:
        raise InputError(
            f"endpoint {endpoint!r} is not in the project file's `endpoints` with a GPU and "
            "`models`; pass --model and --gpu"
        )
    count = gpus or (cfg.gpu_count if cfg is not None else 1)
    return deployment(model, gpu, count, precision, kv)


def _audit_dict(a: tps.Audit) -> dict[str, Any]:
    o = a.observed
    return {
        "source": o.source,
        "model": a.deployment.arch.name,
        "gpu": a.deployment.gpu.name,
        "num_gpus": a.deployment.num_gpus,
        "weights": a.deployment.weights.name,
        "lengths": [a.lengths.input_len, a.lengths.output_len],
        "observed": {
            "output_tok_s": round(o.output_tok_s, 2),
            "ttft_ms": None if o.ttft_s is None else round(o.ttft_s * 1e3, 2),
            "tpot_ms": None if o.tpot_s is None else round(o.tpot_s * 1e3, 2),
            "concurrency": round(o.concurrency, 3),
            "waiting": o.waiting,
            "kv_usage": o.kv_usage,
            "requests": o.requests,
        },
        "predicted_at_load": {
            "output_tok_s": round(a.at_load.output_tok_s, 2),
            "ttft_ms": round(a.at_load.ttft_s * 1e3, 2),
            "tpot_ms": round(a.at_load.tpot_s * 1e3, 2),
            "batch": a.at_load.batch,
            "bound": a.at_load.bound,
        },
        "theoretical_max": {
            "output_tok_s": round(a.ceiling.output_tok_s, 2),
            "tpot_ms": round(a.ceiling.tpot_s * 1e3, 2),
            "batch": a.ceiling.batch,
            "limit": a.ceiling.batch_limit,
            "bound": a.ceiling.bound,
        },
        "share_of_max": round(a.share_of_ceiling, 4),
        "usd_per_gpu_hour": a.usd_per_gpu_h,
        "binding_constraint": a.binding,
        "binding_reason": a.binding_reason,
        "bottlenecks": [
            {
                "name": b.name,
                "constraint": b.constraint,
                "evidence": b.evidence,
                "throughput_gain": round(b.gain, 3),
                "output_tok_s_after": round(b.output_tok_s_after, 2),
                "usd_per_mtok_output_before": b.usd_per_mtok_before,
                "usd_per_mtok_output_after": b.usd_per_mtok_after,
            }
            for b in a.bottlenecks
        ],
        "calibrated": a.coverage.calibrated,
        "coverage_warning": a.coverage.warning,
        "notes": o.notes,
    }


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x:,.1f} ms"


def _print(endpoint: str, label: str, a: tps.Audit) -> None:
    o, d = a.observed, a.deployment
    rows = [
        (
            "output tokens/s",
            f"{o.output_tok_s:,.1f}",
            f"{a.at_load.output_tok_s:,.1f}",
            f"{a.ceiling.output_tok_s:,.0f}",
        ),
        ("time to first token", _ms(o.ttft_s and o.ttft_s * 1e3), _ms(a.at_load.ttft_s * 1e3), ""),
        (
            "time per output token",
            _ms(o.tpot_s and o.tpot_s * 1e3),
            _ms(a.at_load.tpot_s * 1e3),
            _ms(a.ceiling.tpot_s * 1e3),
        ),
        (
            "requests in flight",
            f"{o.concurrency:,.3g}",
            f"{a.at_load.batch:,.0f}",
            f"{a.ceiling.batch:,.0f} ({a.ceiling.batch_limit})",
        ),
    ]
    title = (
        f"TPS audit of {endpoint} from {o.source}: {d.arch.name} on {d.num_gpus} x {d.gpu.name}"
        f" ({d.weights.name}), {a.lengths.input_len}/{a.lengths.output_len} tokens"
    )
    cols = ["", "observed", "model at this load", "theoretical max"]
    console.print(table(title, cols, rows, right=cols[1:]))
    console.print(
        f"{a.share_of_ceiling:.2%} of the theoretical maximum. [bold]Binding constraint: "
        f"{a.binding}[/] — {a.binding_reason}"
    )
    brows = [
        (
            str(i),
            b.name,
            b.constraint,
            f"x{b.gain:.2f}",
            f"{b.output_tok_s_after:,.0f}",
            f"{money(b.usd_per_mtok_before, 4)} -> {money(b.usd_per_mtok_after, 4)}",
        )
        for i, b in enumerate(a.bottlenecks, 1)
    ]
    bcols = ["#", "bottleneck", "constraint", "tok/s gain", "tok/s after", "$/M output tokens"]
    console.print(table("Top bottlenecks", bcols, brows, right=bcols[3:]))
    for b in a.bottlenecks:
        console.print(f"  - {b.name}: {b.evidence}")
    for note in o.notes:
        console.print(f"  note: {note}")
    if a.coverage.warning:
        console.print(f"[bold yellow]UNCALIBRATED:[/] {a.coverage.warning}")
