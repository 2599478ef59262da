"""Performance and self-hosting commands: `perf predict`, `perf catalog`, `selfhost compare`.

A thin translator: parse options, call `unitecon.models.perf` / `unitecon.models.selfhost`,
print. No metric is computed here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, money, table
from unitecon.errors import InputError
from unitecon.models import instances, selfhost
from unitecon.models.perf import calibrate, catalog, coverage, serving
from unitecon.models.perf.engines import ENGINES
from unitecon.models.perf.predict import deployment
from unitecon.terminal import shows_progress

perf_app = typer.Typer(
    help="""Predict LLM serving throughput and latency on GPUs.

Examples:
    unitecon perf predict --model Llama-3.1-8B --gpu H100 --input-len 1000 --output-len 200 --max-throughput
    unitecon perf predict --model my-model.yaml --gpu L40S --gpus 4 --precision fp8 --input-len 2000 --output-len 300 --concurrency 32 --json
""",  # noqa: E501
    no_args_is_help=True,
)
selfhost_app = typer.Typer(
    help="""Self-host vs API: GPU configurations ranked by monthly cost, with break-even volume.

Examples:
    unitecon selfhost compare --model Llama-3.1-70B --api-model openai:gpt-4.1 --input-len 2000 --output-len 300 --cached-share 0.5 --peak-tps 20000
    unitecon selfhost compare --model Llama-3.1-8B --api-model gpt-4.1-mini --input-len 800 --output-len 200 --cached-share 0 --peak-tps 5000 --gpu-price h100-sxm=2.10 --json
""",  # noqa: E501
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ModelOpt = Annotated[str, typer.Option("--model", help="Catalog model name or a YAML/JSON file.")]
InputOpt = Annotated[int, typer.Option("--input-len", help="Input tokens per request.")]
OutputOpt = Annotated[int, typer.Option("--output-len", help="Output tokens per request.")]
TpotOpt = Annotated[
    float | None, typer.Option("--tpot-ms", help="Target time per output token [ms].")
]
TtftOpt = Annotated[
    float | None, typer.Option("--ttft-ms", help="Target time to first token [ms].")
]
EngineOpt = Annotated[str, typer.Option("--engine", help=f"Serving engine: {', '.join(ENGINES)}.")]


def register(app: typer.Typer) -> None:
    app.add_typer(perf_app, name="perf")
    app.add_typer(selfhost_app, name="selfhost")


def _gpu_price(value: str | None, gpu: catalog.Gpu) -> Decimal:
    if value is not None:
        try:
            return Decimal(value)
        except InvalidOperation as e:
            raise InputError(f"--gpu-price must be a number of USD per GPU-hour: {value!r}") from e
    if gpu.price_low_usd_h is None or gpu.price_high_usd_h is None:
        raise InputError(f"{gpu.name} has no price in the catalog; pass --gpu-price")
    return (gpu.price_low_usd_h + gpu.price_high_usd_h) / 2


def _point(
    dep: Any,
    lengths: serving.Lengths,
    concurrency: int | None,
    max_throughput: bool,
    tpot_ms: float | None,
    ttft_ms: float | None,
    engine: serving.Engine,
) -> serving.OperatingPoint:
    modes = sum([concurrency is not None, max_throughput, tpot_ms is not None or bool(ttft_ms)])
    if modes != 1:
        raise InputError(
            "give exactly one of --concurrency C, --max-throughput, or --tpot-ms/--ttft-ms"
        )
    eff = calibrate.fitted()
    if concurrency is not None:
        return serving.at_concurrency(dep, eff, engine, lengths, concurrency)
    if max_throughput:
        return serving.max_throughput(dep, eff, engine, lengths)
    return serving.at_latency_target(
        dep,
        eff,
        engine,
        lengths,
        tpot_ms / 1e3 if tpot_ms else None,
        ttft_ms / 1e3 if ttft_ms else None,
    )


@perf_app.command("predict")
@shows_progress("predicting serving performance")
def predict(
    model: ModelOpt,
    gpu: Annotated[str, typer.Option("--gpu", help="Catalog GPU (id, name) or a YAML/JSON file.")],
    input_len: InputOpt,
    output_len: OutputOpt,
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs per replica (tensor parallel).")] = 1,
    precision: Annotated[
        str, typer.Option("--precision", help="Weights: bf16, fp8, int8, int4, fp4, mxfp4.")
    ] = "bf16",
    kv_precision: Annotated[
        str | None, typer.Option("--kv-precision", help="KV cache (default: fp8 with fp8).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", help="Requests in flight.")
    ] = None,
    max_throughput: Annotated[
        bool, typer.Option("--max-throughput", help="Largest batch memory allows.")
    ] = False,
    tpot_ms: TpotOpt = None,
    ttft_ms: TtftOpt = None,
    gpu_price: Annotated[
        str | None, typer.Option("--gpu-price", help="USD per GPU-hour (default: catalog mid).")
    ] = None,
    utilization: Annotated[
        float, typer.Option("--utilization", help="Share of paid GPU time doing this work.")
    ] = 1.0,
    cached_share: Annotated[
        float, typer.Option("--cached-share", help="Share of input read from prefix cache.")
    ] = 0.0,
    engine: EngineOpt = "trtllm",
    as_json: JsonOpt = False,
) -> None:
    """Throughput, latency, max batch, bound and $/M tokens of one configuration, with the
    uncertainty band from its calibration coverage."""
    dep = deployment(model, gpu, gpus, precision, kv_precision)
    lengths = serving.Lengths(input_len, output_len, cached_share)
    eng = serving.Engine(name=engine)
    point = _point(dep, lengths, concurrency, max_throughput, tpot_ms, ttft_ms, eng)
    price = _gpu_price(gpu_price, dep.gpu)
    costs = selfhost.unit_costs(point, price, utilization)
    warning = selfhost.mismatch_warning(dep, point, calibrate.fitted())
    cov = coverage.assess(dep, eng.name, lengths)
    result = _predict_dict(dep, point, price, costs, warning, cov)
    result["engine"] = eng.name
    if as_json:
        emit_json(result)
        return
    _print_predict(result, point)


def _predict_dict(
    dep: Any,
    point: serving.OperatingPoint,
    price: Decimal,
    costs: dict[str, Decimal],
    warning: str | None,
    cov: coverage.Coverage,
) -> dict[str, Any]:
    return {
        "model": dep.arch.name,
        "gpu": dep.gpu.name,
        "num_gpus": dep.num_gpus,
        "weights": dep.weights.name,
        "math": dep.activations.name,
        "kv_cache": dep.kv.name,
        "output_tok_s": round(point.output_tok_s, 1),
        "output_tok_s_per_gpu": round(point.output_tok_s_per_gpu, 1),
        "output_tok_s_band": [
            round(point.output_tok_s * cov.low, 1),
            round(point.output_tok_s * cov.high, 1),
        ],
        "calibrated": cov.calibrated,
        "coverage_gaps": list(cov.gaps),
        "coverage_warning": cov.warning,
        "ttft_ms": round(point.ttft_s * 1e3, 2),
        "tpot_ms": round(point.tpot_s * 1e3, 2),
        "batch": round(point.batch, 1),
        "batch_limit": point.batch_limit,
        "max_batch": point.max_batch,
        "bound": point.bound,
        "reasons": point.reasons,
        "step_ms": {
            "memory": round(point.step.memory_s * 1e3, 3),
            "compute": round(point.step.compute_s * 1e3, 3),
            "attention": round(point.step.attention_s * 1e3, 3),
            "communication": round(point.step.comm_s * 1e3, 3),
            "overhead": round(point.step.overhead_s * 1e3, 3),
        },
        "gpu_s_per_input_token": point.gpu_s_per_input_token,
        "gpu_s_per_output_token": point.gpu_s_per_output_token,
        "usd_per_gpu_hour": price,
        "usd_per_mtok_input": costs["input"],
        "usd_per_mtok_output": costs["output"],
        "warning": warning,
    }


def _print_predict(r: dict[str, Any], point: serving.OperatingPoint) -> None:
    low, high = r["output_tok_s_band"]
    rows = [
        ("output tokens/s (total)", f"{r['output_tok_s']:,.0f}"),
        ("  uncertainty band", f"{low:,.0f} to {high:,.0f}"),
        ("output tokens/s per GPU", f"{r['output_tok_s_per_gpu']:,.0f}"),
        ("time to first token", f"{r['ttft_ms']:.1f} ms"),
        ("time per output token", f"{r['tpot_ms']:.2f} ms"),
        ("batch / max batch", f"{r['batch']:.0f} / {r['max_batch']} (limit: {r['batch_limit']})"),
        ("bound", r["bound"]),
        ("GPU-s per input token", f"{r['gpu_s_per_input_token']:.3g}"),
        ("GPU-s per output token", f"{r['gpu_s_per_output_token']:.3g}"),
        (
            f"$/M input tokens @ {money(r['usd_per_gpu_hour'])}/GPU-h",
            money(r["usd_per_mtok_input"], 4),
        ),
        ("$/M output tokens", money(r["usd_per_mtok_output"], 4)),
    ]
    title = (
        f"{r['model']} on {r['num_gpus']} x {r['gpu']} "
        f"(weights {r['weights']}, math {r['math']}, KV {r['kv_cache']})"
    )
    console.print(table(title, ["", "value"], rows, right=["value"]))
    for reason in point.reasons:
        console.print(f"  - {reason}")
    if r["coverage_warning"]:
        console.print(f"[bold yellow]UNCALIBRATED:[/] {r['coverage_warning']}")
    if r["warning"]:
        console.print(f"[yellow]warning:[/] {r['warning']}")


@perf_app.command("catalog")
def show_catalog(as_json: JsonOpt = False) -> None:
    """List the packaged GPUs, models and precisions."""
    gpus = [
        {
            "id": g.key,
            "name": g.name,
            "memory_gib": g.memory_bytes / catalog.GIB,
            "bandwidth_tb_s": g.bandwidth_b_s / 1e12,
            "link": g.link,
        }
        for g in catalog.gpus().values()
    ]
    models = list(catalog.architectures())
    precisions = list(catalog.precisions())
    if as_json:
        emit_json({"gpus": gpus, "models": models, "precisions": precisions})
        return
    rows = [
        (g["id"], g["name"], f"{g['memory_gib']:g}", f"{g['bandwidth_tb_s']:g}", g["link"])
        for g in gpus
    ]
    console.print(table("GPUs", ["id", "name", "GiB", "TB/s", "link"], rows))
    console.print("Models: " + ", ".join(models))
    console.print("Precisions: " + ", ".join(precisions))


def _price_overrides(values: list[str]) -> dict[str, Decimal]:
    out = {}
    for item in values:
        name, _, usd = item.partition("=")
        if not usd:
            raise InputError(
                f"--gpu-price takes GPU=USD_PER_HOUR, e.g. h100-sxm=2.10; got {item!r}"
            )
        out[catalog.find_gpu(name).key] = _gpu_price(usd, catalog.find_gpu(name))
    return out


@selfhost_app.command("compare")
@shows_progress("sizing GPU fleets against the API")
def compare(
    model: ModelOpt,
    api_model: Annotated[
        str, typer.Option("--api-model", help="API model, optionally 'provider:model'.")
    ],
    input_len: Annotated[
        int | None, typer.Option("--input-len", help="Input tokens per request.")
    ] = None,
    output_len: Annotated[
        int | None, typer.Option("--output-len", help="Output tokens per request.")
    ] = None,
    cached_share: Annotated[
        float | None,
        typer.Option("--cached-share", help="Share of input tokens that are cache reads."),
    ] = None,
    peak_tps: Annotated[
        float | None, typer.Option("--peak-tps", help="Peak input+output tokens per second.")
    ] = None,
    peak_to_average: Annotated[
        float, typer.Option("--peak-to-average", help="Peak / average load (monthly volume).")
    ] = 3.0,
    from_ledger: Annotated[
        bool,
        typer.Option("--from-ledger", help="Take the token mix and peak load from the ledger."),
    ] = False,
    feature: Annotated[
        str | None, typer.Option("--feature", help="With --from-ledger: the feature to size.")
    ] = None,
    gpu_price: Annotated[
        list[str] | None, typer.Option("--gpu-price", help="GPU=USD per GPU-hour (repeatable).")
    ] = None,
    gpu: Annotated[
        list[str] | None, typer.Option("--gpu", help="Only these GPUs (repeatable).")
    ] = None,
    plan: Annotated[
        str, typer.Option("--plan", help="Rank by: on_demand, reserved or spot.")
    ] = "reserved",
    tpot_ms: Annotated[float, typer.Option("--tpot-ms", help="SLO: time per output token.")] = 50,
    ttft_ms: Annotated[float, typer.Option("--ttft-ms", help="SLO: time to first token.")] = 2000,
    top: Annotated[int, typer.Option("--top", help="Options to show.")] = 10,
    engine: EngineOpt = "trtllm",
    pricing: Annotated[
        str,
        typer.Option(
            "--pricing", help="Node pricing: on_demand, reserved_1y, reserved_3y or spot."
        ),
    ] = "reserved_1y",
    cloud: Annotated[
        list[str] | None,
        typer.Option("--cloud", help="Only these clouds: aws, azure, gcp, marketplace."),
    ] = None,
    utilization: Annotated[
        float, typer.Option("--target-utilization", help="Fleet sized to peak at this load.")
    ] = 0.8,
    mlops_fte: Annotated[
        float | None,
        typer.Option("--mlops-fte", help="MLOps FTEs (default: project file selfhost.mlops_fte)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rank GPU configurations by monthly cost for a peak load, against an API model:
    per-GPU slices, then whole nodes as clouds rent them with the people to run them."""
    if plan not in ("on_demand", "reserved", "spot"):
        raise InputError(f"--plan must be on_demand, reserved or spot, got {plan!r}")
    workload = _workload(
        input_len, output_len, cached_share, peak_tps, peak_to_average, from_ledger, feature,
        quiet=as_json,
    )  # fmt: skip
    arch = catalog.find_architecture(model)
    deps = selfhost.candidates(arch, [catalog.find_gpu(g) for g in gpu]) if gpu else None
    result = selfhost.compare(
        workload,
        arch,
        api_model,
        on_demand_usd_h=_price_overrides(gpu_price or []),
        plan=plan,
        slo=selfhost.Slo(tpot_ms / 1e3, ttft_ms / 1e3),
        deployments=deps,
        engine=serving.Engine(name=engine),
    )
    fleets = selfhost.compare_fleets(
        workload,
        arch,
        api_model,
        shapes=instances.shapes(tuple(cloud) if cloud else None),
        plan=pricing,
        slo=selfhost.Slo(tpot_ms / 1e3, ttft_ms / 1e3),
        target_utilization=utilization,
        people=_people(mlops_fte),
        engine=serving.Engine(name=engine),
    )
    if as_json:
        emit_json({**_compare_dict(result, top), "fleets": _fleets_dict(fleets, top)})
        return
    _print_compare(result, top)
    _print_fleets(fleets, top)


def _people(fte: float | None) -> selfhost.People:
    """MLOps people from the option, else from the project file's `selfhost` section."""
    from unitecon import config

    project = config.load()
    salary = Decimal(str(project.selfhost.loaded_salary_annual))
    chosen = fte if fte is not None else project.selfhost.mlops_fte
    return selfhost.People(Decimal(str(chosen)), salary)


def _fleets_dict(c: selfhost.FleetComparison, top: int) -> dict[str, Any]:
    return {
        "pricing": c.plan,
        "target_utilization": c.target_utilization,
        "people_monthly_usd": c.people.monthly_usd,
        "mlops_fte": c.people.fte,
        "ranking_note": c.ranking_note,
        "options": [
            {
                "cloud": f.shape.cloud,
                "instance": f.shape.instance,
                "gpus_per_node": f.shape.gpus,
                "gpu_id": f.shape.gpu_id,
                "tensor_parallel": f.deployment.num_gpus,
                "precision": f.deployment.weights.name,
                "replicas": f.replicas,
                "nodes": f.nodes,
                "node_usd_per_hour": selfhost.money(f.shape.usd_h[c.plan], Decimal("0.0001")),
                "price_derived": c.plan in f.shape.derived,
                "price_status": f.shape.price_status,
                "price_date": f.shape.price_date,
                "price_seen": f.shape.seen,
                "price_source": f.shape.source,
                "price_check_at": f.shape.check_at,
                "nodes_monthly_usd": f.monthly_usd[c.plan],
                "total_monthly_usd": f.total_usd(c.plan, c.people),
                "ratio_to_api": round(float(c.ratio(f)), 4),
                "calibrated": f.coverage.calibrated,
                "coverage_warning": f.coverage.warning,
            }
            for f in c.fleets[:top]
        ],
    }


def _ratio(x: float) -> str:
    """Self-host / API as a percentage, or as a multiple from 10x up."""
    return f"x{x:,.0f}" if x >= 10 else f"{x:.0%}"


def _print_fleets(c: selfhost.FleetComparison, top: int) -> None:
    r = _fleets_dict(c, top)
    rows = [
        (
            f"{o['cloud']} {o['instance']}" + ("" if o["calibrated"] else " (UNCALIBRATED)"),
            f"{o['gpus_per_node']}x {o['gpu_id']}",
            f"TP{o['tensor_parallel']} {o['precision']}",
            o["nodes"],
            money(o["node_usd_per_hour"])
            + ("*" if o["price_derived"] else "")
            + ("†" if o["price_status"] == "unsourced" else ""),
            money(o["nodes_monthly_usd"]),
            money(o["total_monthly_usd"]),
            _ratio(o["ratio_to_api"]),
        )
        for o in r["options"]
    ]
    cols = ["instance", "node", "replica", "nodes", "node $/h", "nodes/mo", "with people", "vs API"]
    title = (
        f"Fleets of whole nodes, {c.plan} pricing, sized to peak at "
        f"{c.target_utilization:.0%} utilization"
    )
    console.print(table(title, cols, rows, right=cols[3:]))
    console.print(
        f"people: {c.people.fte} MLOps FTE = {money(r['people_monthly_usd'])}/month "
        "(project file `selfhost:` or --mlops-fte). * price derived from on-demand "
        "(1y 0.586, 3y 0.439, spot 0.35); dated sources in --json."
    )
    if any(o["price_status"] == "unsourced" for o in r["options"]):
        console.print(
            "† UNSOURCED price: a recalled list price no source was seen for; check it on the "
            "provider's page (price_check_at in --json) before relying on it."
        )
    if r["ranking_note"]:
        console.print(f"[bold yellow]warning:[/] {r['ranking_note']}")


def _workload(
    input_len: int | None,
    output_len: int | None,
    cached_share: float | None,
    peak_tps: float | None,
    peak_to_average: float,
    from_ledger: bool,
    feature: str | None,
    quiet: bool = False,
) -> selfhost.Workload:
    """The workload from the options, or measured from the ledger for `--feature`."""
    if from_ledger:
        if not feature:
            raise InputError("--from-ledger needs --feature F (the feature to size).")
        from unitecon.cli.session import session

        with session(None) as s:
            measured: selfhost.Workload = s.ask("workload", feature=feature)
        if quiet:  # --json: stdout holds the JSON only
            return measured
        console.print(
            f"Measured on feature {feature!r}: {measured.input_len:,} input / "
            f"{measured.output_len:,} output tokens per request, "
            f"{measured.cached_share:.0%} cached, peak {measured.peak_tokens_per_s:,.0f} "
            f"tokens/s (peak/average {measured.peak_to_average:.1f})"
        )
        return measured
    missing = [
        name
        for name, v in (
            ("--input-len", input_len),
            ("--output-len", output_len),
            ("--cached-share", cached_share),
            ("--peak-tps", peak_tps),
        )
        if v is None
    ]
    if missing:
        raise InputError(f"Give {', '.join(missing)}, or --from-ledger --feature F.")
    assert input_len is not None and output_len is not None
    assert cached_share is not None and peak_tps is not None
    return selfhost.Workload(input_len, output_len, cached_share, peak_tps, peak_to_average)


def _option_dict(o: selfhost.Option) -> dict[str, Any]:
    return {
        "gpu": o.gpu,
        "gpu_id": o.gpu_id,
        "num_gpus": o.num_gpus,
        "precision": o.precision,
        "replicas": o.replicas,
        "tokens_per_s_per_replica": round(o.tokens_per_s_per_replica, 1),
        "tpot_ms": round(o.point.tpot_s * 1e3, 2),
        "ttft_ms": round(o.point.ttft_s * 1e3, 2),
        "bound": o.point.bound,
        "monthly_usd": o.monthly_usd,
        "usd_per_mtok": o.usd_per_mtok,
        "break_even_mtok_per_month": o.break_even_mtok_per_month,
        "calibrated": o.calibrated,
        "throughput_band": [round(o.coverage.low, 3), round(o.coverage.high, 3)],
        "conservative_monthly_usd": o.conservative_monthly_usd,
        "coverage_warning": o.coverage.warning,
        "warning": o.warning,
        "price_status": o.price_status,
        "price_source": o.price_source if o.price_status == "sourced" else "",
    }


def _compare_dict(c: selfhost.Comparison, top: int) -> dict[str, Any]:
    return {
        "api_model": f"{c.api.provider}:{c.api.model}",
        "api_usd_per_mtok_blended": selfhost.money(c.api.usd_per_mtok_blended, Decimal("0.0001")),
        "monthly_mtok": round(c.workload.monthly_tokens / 1e6, 3),
        "api_monthly_usd": c.api_monthly_usd,
        "plan": c.plan,
        "options": [_option_dict(o) for o in c.options[:top]],
        "ranking": "by monthly cost at the low end of each option's throughput band",
        "ranking_note": c.ranking_note,
        "skipped": c.skipped,
    }


def _print_compare(c: selfhost.Comparison, top: int) -> None:
    r = _compare_dict(c, top)
    console.print(
        f"API {r['api_model']}: {money(r['api_usd_per_mtok_blended'], 4)}/M tokens for this mix; "
        f"{r['monthly_mtok']:,.0f} M tokens/month -> {money(r['api_monthly_usd'])}/month"
    )
    rows = [
        (
            f"{o['num_gpus']}x {o['gpu_id']}" + ("" if o["calibrated"] else " (UNCALIBRATED)"),
            o["precision"],
            o["replicas"],
            f"{o['tokens_per_s_per_replica']:,.0f}",
            o["bound"],
            money(o["monthly_usd"]["on_demand"])
            + ("†" if o["price_status"] == "unsourced" else ""),
            money(o["monthly_usd"]["reserved"]),
            money(o["monthly_usd"]["spot"]),
            f"{o['break_even_mtok_per_month']:,.0f}",
        )
        for o in r["options"]
    ]
    cols = [
        "config",
        "weights",
        "replicas",
        "tok/s each",
        "bound",
        "on-demand/mo",
        "reserved/mo",
        "spot/mo",
        "break-even Mtok/mo",
    ]
    console.print(table("Self-hosted options, cheapest first", cols, rows, right=cols[2:]))
    console.print(
        f"break-even: monthly volume above which the {c.plan} fleet beats the API. Ranked by "
        "the monthly cost if throughput is at the low end of each option's band."
    )
    if any(o["price_status"] == "unsourced" for o in r["options"]):
        console.print(
            "† UNSOURCED per-GPU price (the GPU table marks it unverified): pass --gpu-price "
            "GPU=USD to use a quoted one."
        )
    if r["ranking_note"]:
        console.print(f"[bold yellow]warning:[/] {r['ranking_note']}")
    best = c.cheapest
    if best is not None:
        verdict = "cheaper" if best.monthly_usd[c.plan] < c.api_monthly_usd else "dearer"
        console.print(
            f"Cheapest meeting the SLO: {best.num_gpus} x {best.gpu} {best.precision}, "
            f"{best.replicas} replica(s), {money(best.monthly_usd[c.plan])}/month ({c.plan}), "
            f"{verdict} than the API at this volume."
        )
    for o in r["options"]:
        if o["coverage_warning"]:
            where = f"{o['num_gpus']} x {o['gpu']}"
            console.print(f"[yellow]UNCALIBRATED[/] ({where}): {o['coverage_warning']}")
        if o["warning"]:
            console.print(f"[yellow]warning[/] ({o['num_gpus']} x {o['gpu']}): {o['warning']}")
    if not c.options:
        console.print("No configuration meets the SLO; see --json for the reasons.")
