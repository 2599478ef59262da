"""Fit the performance model's efficiency factors on the calibration table.

Usage:
    .venv/bin/python scripts/fit_perf.py            # fit + leave-one-source-out, write
                                                    # data/fitted.json + docs/perf-model.md
    .venv/bin/python scripts/fit_perf.py --no-fit   # only regenerate docs from fitted.json

Leave-one-source-out: for each source (table or publication) of the calibration rows, the
factors are re-fitted on the other sources and the left-out source's rows are predicted;
the held-out errors are reported (median, worst, per regime, per source) and their 80th
percentile |log error| is stored as the band's calibration width (`coverage.py`).

Method: one `Efficiency` for all rows (no per-row factors), with a weak prior at the
perf-notes starting points (`PRIOR_*`). Residuals are
log(predicted / measured): primary metrics (TPOT of the online rows at a finite rate, output
tokens/s of the saturated and offline rows) with weight 1, secondary metrics (TTFT of the
finite-rate rows, inter-token latency of the saturated rows) with weight 0.5. Bounded
`scipy.optimize.least_squares` (soft-L1 loss, so one odd row cannot drag the rest) from a
fixed grid of starting points; the best cost wins. Deterministic: the same table gives the
same numbers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
from dataclasses import asdict, replace
from pathlib import Path
from statistics import median

import numpy as np
from scipy.optimize import least_squares

from unitecon.models.perf import calibrate, coverage
from unitecon.models.perf.predict import deployment
from unitecon.models.perf.serving import Engine, Lengths, max_throughput
from unitecon.models.perf.step import Efficiency

ROOT = Path(__file__).resolve().parents[1]
FITTED = ROOT / "src/unitecon/models/perf/data/fitted.json"
DOC = ROOT / "docs/perf-model.md"
SECONDARY_WEIGHT = 0.5

# name: (lower, upper, prior centre, prior scale, physical meaning). The prior centres are
# the perf-notes §7 starting points (η_bw 0.6-0.8, η_fl 0.4-0.6, NCCL latency ~10 µs, link
# 0.7, request overhead 5 ms; η_kv 0.75 between them), per-layer overhead 30 µs (perf-notes
# §1: a few launches per layer at 7-30 µs each); γ 0.8: FP8 GEMMs at about 1.7x BF16, not
# 2x (an assumption). AMD: MI300X reaches ~45% of peak FLOP/s where H100 reaches up to 93%, and
# ~81% of its peak bandwidth (https://aiweekly.co/alerts/amd-mi300x-hits-only-45-of-peak-flops-in-practice,
# a summary of peer-reviewed measurements, seen 2026-12), so amd_compute's prior is
# 0.45/0.93 = 0.48 and amd_bandwidth's 0.9 (81% over the ~90% a copy kernel reaches on H100,
# an assumption); amd_link has no such figure (prior 1). A weak prior keeps factors that a
# subset of the rows cannot see (large-batch compute and links when only small-batch rows
# are fitted) near physical values. Weight 0.5: one prior term weighs half a row.
PARAMS: dict[str, tuple[float, float, float, float, str]] = {
    "bandwidth": (0.4, 0.95, 0.7, 0.15, "achieved / peak memory bandwidth"),
    "compute": (0.2, 0.9, 0.5, 0.15, "achieved / dense peak FLOP/s"),
    "kv_bandwidth": (0.4, 0.95, 0.75, 0.15, "achieved / peak bandwidth of KV-cache reads"),
    "layer_overhead_s": (0.0, 100e-6, 30e-6, 15e-6, "launch/sync time per layer per step [s]"),
    "allreduce_latency_s": (2e-6, 60e-6, 10e-6, 10e-6, "latency of one all-reduce [s]"),
    "link": (0.1, 0.95, 0.7, 0.25, "achieved / nominal per-direction link bandwidth"),
    "request_overhead_s": (0.0, 30e-3, 5e-3, 5e-3, "TTFT outside the GPU [s]"),
    "lowp_exponent": (0.3, 1.0, 0.8, 0.2, "FP8/FP4 realize (nominal speedup)^this over BF16"),
    "amd_bandwidth": (0.3, 1.3, 0.9, 0.3, "AMD Instinct + ROCm bandwidth relative to NVIDIA's"),
    "amd_compute": (0.15, 1.3, 0.48, 0.3, "AMD Instinct + ROCm FLOP/s relative to NVIDIA's"),
    "amd_link": (0.1, 1.3, 1.0, 0.5, "AMD Infinity Fabric + RCCL all-reduce relative to NCCL's"),
}
PRIOR_CENTER = np.array([p[2] for p in PARAMS.values()])
PRIOR_SCALE = np.array([p[3] for p in PARAMS.values()])
PRIOR_WEIGHT = 0.5
STARTS = int(os.environ.get("FIT_STARTS", "8"))
"""Starting points tried (a fixed grid; the best cost wins). FIT_STARTS=1 for quick looks."""


def efficiency(x: np.ndarray) -> Efficiency:
    base = Efficiency(step_overhead_s=0.0)  # the fixed part is per layer (`layer_overhead_s`)
    return replace(base, **dict(zip(PARAMS, map(float, x), strict=True)))


def residuals(x: np.ndarray, only: set[str] | None = None) -> np.ndarray:
    comps = calibrate.compare_all(efficiency(x), only)
    rows = [c.log_ratio * (1.0 if c.primary else SECONDARY_WEIGHT) for c in comps]
    prior = PRIOR_WEIGHT * (x - PRIOR_CENTER) / PRIOR_SCALE
    return np.concatenate([np.array(rows), prior])


def fit(only: set[str] | None = None) -> tuple[Efficiency, float]:
    """Fit on the rows of the sources in `only` (all rows if None)."""
    lower = np.array([b[0] for b in PARAMS.values()])
    upper = np.array([b[1] for b in PARAMS.values()])
    best = None
    grid = list(itertools.product((0.6, 0.8), (0.4, 0.6), (0.3, 0.7)))[:STARTS]
    for bw, fl, link in grid:
        x0 = PRIOR_CENTER.copy()
        x0[:6] = [bw, fl, 0.75, 30e-6, 10e-6, link]
        res = least_squares(
            residuals,
            x0,
            kwargs={"only": only},
            bounds=(lower, upper),
            loss="soft_l1",
            f_scale=0.2,
            x_scale=(upper - lower),
            diff_step=1e-3,
        )
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    return efficiency(best.x), float(best.cost)


def _regime(row_id: str) -> str:
    row = next(r for r in calibrate.rows() if r.id == row_id)
    return coverage.regime(Lengths(row.input_len, row.output_len))


def cross_validate() -> tuple[list[calibrate.Comparison], dict[str, Efficiency]]:
    """Held-out comparisons: each source predicted by factors fitted on the others.

    Returns the comparisons and, per held-out source, the factors that predicted it (stored
    in `data/fitted.json` so the test suite recomputes the table without re-fitting)."""
    out, folds = [], {}
    for source in calibrate.sources():
        rest = set(calibrate.sources()) - {source}
        eff, _ = fit(rest)
        folds[source] = eff
        out += calibrate.compare_all(eff, {source})
        print(f"  held out {source!r}: fitted on {len(rest)} other source(s)")
    return out, folds


def cv_summary(held: list[calibrate.Comparison]) -> dict[str, float]:
    primary = [c for c in held if c.primary]
    logs = sorted(abs(c.log_ratio) for c in primary)
    return {
        "median_abs_error": median(abs(c.rel_error) for c in primary),
        "worst_factor": math.exp(logs[-1]),
        "p80_abs_log_error": float(np.quantile(logs, 0.8)),
        "rows": len(primary),
    }


def _cv_lines(
    held: list[calibrate.Comparison], cv: dict[str, float], folds: dict[str, Efficiency]
) -> list[str]:
    primary = [c for c in held if c.primary]
    lines = [
        "## Out of sample: leave-one-source-out",
        "",
        "Each source is predicted by factors fitted on the OTHER sources only",
        "(`scripts/fit_perf.py` reproduces it). Held-out primary metrics: median |error| "
        f"{cv['median_abs_error']:.1%}, worst row off by x{cv['worst_factor']:.2f}, 80th "
        f"percentile |log error| {cv['p80_abs_log_error']:.3f} (the band's calibration width).",
        "",
        "A held-out source whose vendor no other source has (AMD) is predicted from the",
        "AMD factors' priors (the published utilizations above), not from AMD's own rows:",
        "that is the case the coverage warning and band exist for. The table below is",
        "recomputed from the stored per-fold factors by `tests/models/test_perf_calibration.py`",
        "(`test_leave_one_source_out_table_matches_the_stored_folds`), so it cannot drift.",
        "",
        "| held-out group | rows | median abs error | worst |",
        "|---|---:|---:|---:|",
    ]
    groups: dict[str, list[calibrate.Comparison]] = {}
    nvidia = [c for c in primary if not c.row_id.startswith("amd-")]
    groups["all NVIDIA sources (a vendor already in the data)"] = nvidia
    by_id = {r.id: r for r in calibrate.rows()}
    for c in primary:
        groups.setdefault(f"source: {c.source_table}", []).append(c)
    for c in primary:
        groups.setdefault(f"regime: {_regime(c.row_id)}", []).append(c)
    for c in primary:
        groups.setdefault(f"engine: {by_id[c.row_id].engine}", []).append(c)
    for c in primary:
        groups.setdefault(f"GPU: {by_id[c.row_id].gpu}", []).append(c)
    for c in primary:
        tp = "TP1" if by_id[c.row_id].num_gpus == 1 else "TP>1"
        groups.setdefault(f"parallelism: {tp}", []).append(c)
    for name, comps in groups.items():
        med, worst, row = calibrate.summary(comps)
        lines.append(f"| {name} | {len(comps)} | {med:.1%} | x{worst:.2f} (`{row}`) |")
    lines += ["", *_table(held), "", *_fold_table(folds), ""]
    return lines


def _fold_table(folds: dict[str, Efficiency]) -> list[str]:
    """The factors each fold fitted without its held-out source."""
    names = list(PARAMS)
    lines = [
        "Factors of each fold (fitted without the held-out source):",
        "",
        "| held out | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for source, eff in folds.items():
        vals = " | ".join(f"{getattr(eff, n):.3g}" for n in names)
        lines.append(f"| {source} | {vals} |")
    return lines


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%"


def _fmt(metric: str, value: float) -> str:
    return f"{value:,.0f}" if metric == "output_tok_s" else f"{value * 1e3:.1f} ms"


def _table(comps: list[calibrate.Comparison]) -> list[str]:
    lines = [
        "| row | metric | measured | predicted | error |",
        "|---|---|---:|---:|---:|",
    ]
    for c in comps:
        tag = "" if c.primary else " (secondary)"
        lines.append(
            f"| `{c.row_id}` | {c.metric}{tag} | {_fmt(c.metric, c.measured)} | "
            f"{_fmt(c.metric, c.predicted)} | {_pct(c.rel_error)} |"
        )
    return lines


def _stats(comps: list[calibrate.Comparison]) -> str:
    med, worst, row = calibrate.summary(comps)
    return f"median |error| {med:.1%}, worst row `{row}` off by x{worst:.2f}"


def _pathology(eff: Efficiency) -> list[str]:
    out = []
    lengths = Lengths(1000, 1000)
    for gpu in ("H100 SXM 80GB", "H200 SXM 141GB"):
        dep = deployment("Llama-3.1-70B", gpu, 1, "fp8", "fp8")
        p = max_throughput(dep, eff, Engine(), lengths)
        out.append(
            f"- Llama-3.1-70B FP8, 1 x {gpu}, 1000/1000: max batch {p.max_batch}, "
            f"{p.output_tok_s:,.0f} output tok/s ({'; '.join(p.reasons)})"
        )
    return out


def write_doc(
    eff: Efficiency, cost: float, held: list[calibrate.Comparison], folds: dict[str, Efficiency]
) -> None:
    cv = cv_summary(held)
    comps = calibrate.compare_all(eff)
    primary = [c for c in comps if c.primary]
    lines = [
        "# Performance model: calibration",
        "",
        "Generated by `scripts/fit_perf.py` (do not edit by hand). The model is described in",
        "`src/unitecon/models/perf/` (equations and units in each docstring); the formulation",
        "follows `shared/design/perf-notes.md` §7.",
        "",
        "## The model in brief",
        "",
        "Per replica of N GPUs (tensor parallel), decode batch B at mean context c = I + O/2,",
        "with P = B·I(1-s)/O prefill tokens mixed into each step (continuous batching) and",
        "T = B + P tokens in the step. Per-operator roofline: the GEMMs and the attention",
        "kernels run one after the other, so their times add:",
        "",
        "```",
        "T_lin  = max(W_touched(T) / (N·BW·bandwidth), T·2·P_act / (N·peak_eff·compute))",
        "T_attn = max(B·KV_seq(c) / (N·BW·kv_bandwidth), F_attn / (N·peak_eff·compute))",
        "T_comm = [N>1]·2L·(allreduce_latency + 2(N-1)/N·T·d·2 B / (link_bw·link))",
        "T_step = T_lin + T_attn + T_comm + L·layer_overhead      TPOT = T_step",
        "peak_eff = peak_bf16 · (peak_prec / peak_bf16)^lowp_exponent",
        "B      = min(KV capacity, max batch, max tokens per step)    tok/s = B / T_step",
        "TTFT   = request_overhead + T_step/2 + step prefilling the prompt",
        "```",
        "",
        "W_touched counts MoE experts by coverage 1-(1-k/E)^T, KV_seq applies sliding windows,",
        "F_attn is the attention math of the decode and prefill tokens. On AMD Instinct GPUs",
        "the bandwidth, FLOP/s and link terms are multiplied by `amd_bandwidth`, `amd_compute`,",
        "`amd_link`.",
        "",
        "### What changed for issue 18 (physics, not fit)",
        "",
        "Before this change the held-out (leave-one-source-out) error was median 18.2%, worst",
        "row x2.62, with the AMD source off by +128% to +162% and decode-heavy rows at 23%.",
        "Where the errors sat, and what was added for each:",
        "",
        "- *Long contexts at large batch* (decode-heavy rows, A100 1000/1000): the old step",
        "  took max(weights + KV reads, FLOPs), as if the attention kernels' KV reads hid under",
        "  the GEMMs' math. They are separate kernels, so the step now adds a GEMM roof and an",
        "  attention roof (LLM-Viewer sums per-operator rooflines, perf-notes §2.1), and the",
        "  KV reads get their own bandwidth factor `kv_bandwidth` (paged attention streams",
        "  many sequences' pages; small-batch weight GEMMs do not reach the same fraction).",
        "- *8B vs 70B at small batch* (8B TPOT +14% to +23%, 70B H200 -11%): a fixed time per",
        "  step became a time per layer per step (`layer_overhead`, kernel launches and",
        "  synchronization, perf-notes §1: 7-30 µs each, a few per layer), so a 32-layer model",
        "  pays less than an 80- or 126-layer one.",
        "- *FP8 vs FP16 at large batch* (A100 FP16 under-, L40S FP8 over-predicted): 8- and",
        "  4-bit tensor cores realize only part of their nominal 2x/4x over BF16 end to end;",
        "  `lowp_exponent` γ sets the realized speedup (nominal)^γ, one number for FP8 and FP4.",
        "- *AMD MI300X* (held out: +128% to +162%): a published measurement says MI300X",
        "  reaches about 45% of its peak FLOP/s on real workloads where H100 reaches up to 93%,",
        "  and about 81% of its 5.3 TB/s (aiweekly.co, 'AMD MI300X hits only 45% of peak FLOPs",
        "  in practice', summarizing peer-reviewed data; third party, not verified here). Those",
        "  ratios are the prior centres of `amd_compute` (0.45/0.93 = 0.48) and `amd_bandwidth`",
        "  (0.9), so a fold without AMD rows starts from them instead of from NVIDIA's",
        "  efficiency; the AMD all-reduce got its own factor (`amd_link`, prior 1) so AMD's",
        "  slow steps no longer drag NVIDIA's link efficiency down.",
        "",
        "## Fitted factors (one set for every row; no per-row factors)",
        "",
        "| factor | value | bounds | meaning |",
        "|---|---:|---|---|",
    ]
    for name, (lo, hi, _, _, meaning) in PARAMS.items():
        lines.append(f"| `{name}` | {getattr(eff, name):.4g} | {lo:g} to {hi:g} | {meaning} |")
    lines += [
        "",
        "Fixed, not fitted: each row runs on its own engine's defaults (`engines.py`:",
        "trtllm-bench's tokens per step follow the KV-limited batch x (1 + I/O) within 2,048",
        "to 32,768; vLLM 8,192 tokens and 1,024 sequences on >= 70 GiB GPUs; SGLang's",
        f"chunked prefill by GPU memory), per-GPU reserve {eff.reserve_gib:g} GiB, KV reserved",
        "for input+output per admitted request (GUARANTEED_NO_EVICT), memory_gb read as GiB,",
        f"`fp4_moe` {eff.fp4_moe:g} (no row can separate it yet). Each factor has a weak prior",
        "(centre, scale) at a physical value: the perf-notes §7 starting points, FP8 GEMMs at",
        "about 1.7x BF16 for γ (0.8, an assumption), the published MI300X utilizations for the",
        "AMD factors.",
        f"Fit cost (soft-L1): {cost:.4f}.",
        "",
        "## Error on the calibration table (in sample)",
        "",
        f"All primary metrics: {_stats(primary)}.",
        "",
    ]
    lines += _cv_lines(held, cv, folds)
    for table in dict.fromkeys(c.source_table for c in comps):
        in_table = [c for c in comps if c.source_table == table]
        lines += [
            f"### {table}",
            "",
            f"Primary metrics: {_stats([c for c in in_table if c.primary])}.",
            "",
            *_table(in_table),
            "",
        ]
    lines += [
        "## Known pathologies",
        "",
        *_pathology(eff),
        "",
        "The source notes for `trt017-70b-h200-tp1-1000-1000` give 839.97 tok/s for one H100",
        "in the same setting: the 70 GB of FP8 weights leave the H100 little KV cache, so the",
        "batch stays small and the step stays memory-bound on the weights.",
        "",
        "## Limits",
        "",
        "- `trt014-8b-h100-202-214-qpsinf` uses ShareGPT-like lengths (mean 202/214): the",
        "  burst drains with exponential output lengths (`finite_burst`), which now",
        "  under-predicts it by about a fifth; the real length distribution is not known.",
        "- MoE at large batch is over-predicted: Mixtral TP8 1000/1000 by about 30% in sample,",
        "  and the notes' Mixtral H200 TP1 128/2048 (15,095 tok/s) by about 30% as well. A",
        "  factor for the expert GEMMs' efficiency was tried: with a neutral prior the one",
        "  large-batch MoE row barely moves it, and with an informative prior it helps the",
        "  held-out row only through that prior, so it was left out until more MoE rows exist.",
        "- A100 rows are under-predicted by about 15%: the A100 reaches a higher share of its",
        "  datasheet FLOP/s than the H100 (no per-GPU-generation compute factor without a",
        "  published measurement to set it).",
        "- The calibration data are TensorRT-LLM on NVIDIA GPUs (the shared table), one SGLang",
        "  gpt-oss row, and AMD's own vLLM results for Llama 3.1 70B FP8 on 8 x MI300X (the",
        "  only AMD source, so the AMD factors rest on one setup and MI300X",
        "  predictions stay flagged). TGI, B200, FP4, MLA and long contexts run with these",
        "  factors untested, and every prediction there says so (next section).",
        "",
        *_COVERAGE_DOC,
    ]
    DOC.write_text("\n".join(lines))


_COVERAGE_DOC = [
    "## Coverage, bands and warnings",
    "",
    "Every prediction carries a band and, outside the calibration data, a warning",
    "(`src/unitecon/models/perf/coverage.py`). A configuration is described by vendor, GPU,",
    "engine, weight and KV formats, architecture (dense, MoE, MLA, windowed), tensor",
    "parallelism (TP1, TP>1 over a GPU link or PCIe) and regime (decode-heavy O >= 4I,",
    "balanced, prefill-heavy I >= 8O, long context I+O > 8k). A value fewer than 2",
    "calibration rows have is a gap, and a vendor needs 2 sources. The band on throughput",
    "is exp(-(w_cal + w_gap)) to exp(w_cal + w_gap/2):",
    "w_cal is the held-out 80th percentile |log error| above; w_gap = sqrt(sum of squared",
    "gap widths): vendor ln 2, GPU ln 1.6, weights ln 1.6, architecture ln 1.5, engine and",
    "regime ln 1.35, KV format and tensor parallelism ln 1.2. The band opens further below",
    "because the model's misses outside its data were optimistic (MI300X +99-129%, gpt-oss",
    "+168-225%, B200 FP4 up to +89% in the check that prompted issue 18). `perf predict`",
    "prints the band and an UNCALIBRATED line; `selfhost compare` and",
    "`POST /api/v1/selfhost/compare` rank options by their monthly cost at the LOW end of the",
    "band and add a ranking note whenever the first option is uncalibrated, naming the",
    "cheapest calibrated one.",
    "",
    "Earlier changes for issue 18, each from a documented engine default, format or an",
    "added public source, not from the held-out pages: per-engine scheduling defaults (the",
    "tokens per step that capped the 405B prefill-heavy row at 8,192 now follow",
    "trtllm-bench's `finetune_setting`, up to 32,768); KV cache FP8 by default with NVFP4",
    "weights (NVIDIA's FP4 checkpoints); gpt-oss's MXFP4 experts beside BF16 attention and",
    "embeddings, with a separate bandwidth factor for dequantized 4-bit experts; a finite",
    "burst of requests with ShareGPT-like (exponential) output lengths drains to the last",
    "token instead of running at full batch (the 202/214 row was +75%). AMD's Llama 3.1",
    "405B rows are left out of the calibration (the independent check keeps AMD's 405B",
    "posts).",
    "",
    "## The TPS audit (`unitecon audit ENDPOINT`)",
    "",
    "`src/unitecon/models/tps/` sets what an endpoint did beside what this model says its",
    "GPUs can do. Observations come from the ledger's spans of the endpoint (tokens,",
    "durations, TTFT; concurrency = sum of durations / window, peak from overlapping spans)",
    "and/or one or two scrapes of the engine's Prometheus metrics, a file or a URL: vLLM",
    "(`vllm:prompt_tokens_total`, `vllm:generation_tokens_total`,",
    "`vllm:num_requests_running/_waiting`, `vllm:kv_cache_usage_perc` or",
    "`vllm:gpu_cache_usage_perc`, `vllm:time_to_first_token_seconds`,",
    "`vllm:inter_token_latency_seconds` or `vllm:time_per_output_token_seconds`), SGLang",
    "(`sglang:num_running_reqs`, `sglang:num_queue_reqs`, `sglang:token_usage`,",
    "`sglang:gen_throughput`, ...) and TGI (`tgi_batch_current_size`, `tgi_queue_size`,",
    "`tgi_request_mean_time_per_token_duration`, ...; no TTFT, the queue wait stands in).",
    "It reports observed vs model-at-this-load vs theoretical maximum tokens/s, TTFT and",
    "TPOT; the binding constraint by rule (queue + KV >= 85% -> KV capacity; queue with KV",
    "to spare -> queueing; TPOT > 1.25x the model's -> I/O outside the GPU; under half the",
    "maximum batch -> arrivals; else the roof at load, memory bandwidth or compute); and the",
    "top three bottlenecks, each as a tokens/s multiplier and $/M output tokens before and",
    "after. Tested on constructed cases whose answer is known, on metric fixtures written",
    "from the documented names, and on the demo endpoint (`unitecon demo` tours it).",
    "",
    "## Check on a GPU",
    "",
    "Not run: no GPU machine was available to this task. The script it needs is the audit",
    "itself: start a vLLM server on the GPU (random weights of a real architecture need no",
    "download), drive it with `vllm bench serve`, then",
    "`unitecon audit gpu-check --metrics http://localhost:8000/metrics --interval 30",
    "--model ... --gpu H100 --engine vllm --json` sets predicted beside measured.",
    "",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-fit", action="store_true", help="reuse data/fitted.json")
    args = parser.parse_args()
    if args.no_fit:
        stored = json.loads(FITTED.read_text())
        eff, cost = calibrate.fitted(), stored["cost"]
        folds = calibrate.fold_efficiencies()
        held = calibrate.held_out()
    else:
        held, folds = cross_validate()
        eff, cost = fit()
    cv = cv_summary(held)
    stored = {
        "efficiency": asdict(eff),
        "cost": cost,
        "cv": {**cv, "folds": {k: asdict(v) for k, v in folds.items()}},
    }
    FITTED.write_text(json.dumps(stored, indent=2) + "\n")
    calibrate.fitted.cache_clear()
    write_doc(eff, cost, held, folds)
    primary = [c for c in calibrate.compare_all(eff) if c.primary]
    med = median(abs(c.rel_error) for c in primary)
    worst = max(math.exp(abs(c.log_ratio)) for c in primary)
    wrote = f"{DOC}" if args.no_fit else f"{FITTED} and {DOC}"
    print(
        f"in sample: median |error| {med:.1%}, worst x{worst:.2f}; held out: median "
        f"{cv['median_abs_error']:.1%}, worst x{cv['worst_factor']:.2f}; wrote {wrote}"
    )


if __name__ == "__main__":
    main()
