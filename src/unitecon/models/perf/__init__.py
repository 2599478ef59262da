"""Performance model of LLM serving (models stage; pure functions, never imports the store).

    catalog   GPUs, architectures, precisions (packaged CSVs + custom YAML/JSON files)
    arch      parameters, weight bytes, KV bytes, FLOPs per token
    step      one engine step: memory, compute, all-reduce, overhead
    serving   KV capacity, max batch, operating points (concurrency, rate, latency, max)
    predict   names -> Deployment
    calibrate the calibration table and the fitted Efficiency (data/fitted.json)

Typical use:

    dep = deployment("Llama-3.1-70B", "H200", 1, "fp8")
    point = max_throughput(dep, fitted(), Engine(), Lengths(1000, 1000))
    point.output_tok_s, point.tpot_s, point.bound, point.reasons
"""

from unitecon.models.perf.calibrate import fitted
from unitecon.models.perf.catalog import Architecture, Gpu, Precision, find_architecture, find_gpu
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import (
    Engine,
    Lengths,
    OperatingPoint,
    at_concurrency,
    at_latency_target,
    at_request_rate,
    max_throughput,
)
from unitecon.models.perf.step import Deployment, Efficiency, StepTime, critical_batch

__all__ = [
    "Architecture",
    "Deployment",
    "Efficiency",
    "Engine",
    "Gpu",
    "Lengths",
    "OperatingPoint",
    "Precision",
    "StepTime",
    "at_concurrency",
    "at_latency_target",
    "at_request_rate",
    "critical_batch",
    "deployment",
    "find_architecture",
    "find_gpu",
    "fitted",
    "max_throughput",
]
