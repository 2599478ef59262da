"""Catalogs of GPUs, model architectures and numeric precisions, and custom entries from files.

The packaged CSVs in `data/` are copies of `shared/data/*.csv` with every source column kept
(specs, price ranges, sources, verification notes). We appended only lookup and structure
columns the sources give as prose: `id`, `aliases` (GPUs) and `attention`, `q_lora_rank`,
`kv_lora_rank`, `qk_rope_head_dim`, `v_head_dim`, `dense_layers`, `sliding_window`,
`window_layers`, `aliases` (models; Llama 3.3 70B shares Llama 3.1 70B's architecture).
A custom GPU or model is a YAML or JSON mapping with the same field
names; it goes through the same validation (`GpuRecord`, `ModelRecord`) as the packaged rows.

Units: `memory_gb` is read as GiB (2^30 bytes), because vendors' "80GB" HBM parts report
81,559 MiB in `nvidia-smi`; bandwidth in TB/s is 1e12 B/s; TFLOPS are dense (no sparsity).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from unitecon.errors import ConfigError, InputError, LookupFailed

GIB = 2**30
_NUM = re.compile(r"^\s*~?\s*(-?\d+(?:\.\d+)?)")
# PCIe x16 bandwidth per direction [B/s] (PCI-SIG: Gen4 16 GT/s, Gen5 32 GT/s per lane).
_PCIE_B_S = {"3": 16e9, "4": 32e9, "5": 64e9}
_PEAK_COLUMNS = {
    "bf16": "bf16_dense_tflops",
    "fp8": "fp8_dense_tflops",
    "int8": "int8_dense_tops",
    "fp4": "fp4_dense_tflops",
}


def leading_number(value: object) -> float | None:
    """Leading number of a catalog cell: `'~70 (llm-analysis)'` -> 70.0, `'n/a'` -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _NUM.match(str(value))
    return float(match.group(1)) if match else None


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        if isinstance(v, bool):
            return str(v).lower()
        return None if v == "" else v


class GpuRecord(_Record):
    """One row of `gpus.csv` or a custom GPU file (same field names)."""

    gpu: str
    """Display name, e.g. 'H100 SXM5 80GB'."""
    memory_gb: str
    """Device memory [GiB]."""
    mem_bandwidth_tb_s: str
    """Peak HBM/GDDR bandwidth [TB/s]."""
    bf16_dense_tflops: str
    """Dense BF16 tensor throughput [TFLOP/s]."""
    memory_type: str | None = None
    """HBM3, GDDR6, ..."""
    fp8_dense_tflops: str | None = None
    """Dense FP8 throughput [TFLOP/s]; 'n/a' when unsupported."""
    int8_dense_tops: str | None = None
    """Dense INT8 throughput [TOP/s]."""
    fp4_dense_tflops: str | None = None
    """Dense FP4 throughput [TFLOP/s]."""
    tdp_w: str | None = None
    """Board power [W]."""
    interconnect: str | None = None
    """GPU-to-GPU link, e.g. 'NVLink4 900 GB/s' (bidirectional) or 'PCIe Gen4'."""
    price_usd_per_gpu_hr_low: str | None = None
    """Low end of observed rental price [USD/GPU-hour]."""
    price_usd_per_gpu_hr_high: str | None = None
    """High end of observed rental price [USD/GPU-hour]."""
    price_basis: str | None = None
    """Where the price range comes from."""
    price_date: str | None = None
    """When the prices were observed."""
    spec_source: str | None = None
    """Datasheet URL for the specs."""
    price_source: str | None = None
    """URL(s) for the prices."""
    verification_notes: str | None = None
    """What was or was not verified."""
    id: str | None = None
    """Short lookup key, e.g. 'h100-sxm' (added by us)."""
    aliases: str | None = None
    """Other names, ';'-separated (added by us)."""


class ModelRecord(_Record):
    """One row of `models.csv` or a custom architecture file (same field names)."""

    model: str
    """Name, e.g. 'Llama-3.1-8B'."""
    layers: str
    """Transformer blocks."""
    hidden_size: str
    """Residual width d_model."""
    num_attention_heads: str
    """Query heads."""
    vocab_size: str
    """Vocabulary size."""
    num_kv_heads: str | None = None
    """Key/value heads (GQA); defaults to the query heads; ignored for MLA."""
    head_dim: str | None = None
    """Per-head width; defaults to hidden/heads. For MLA: qk_nope_head_dim."""
    intermediate_size: str | None = None
    """Dense (gated) FFN width."""
    moe_intermediate_size: str | None = None
    """Per-expert FFN width."""
    num_routed_experts: str | None = None
    """Routed experts per MoE layer (blank = dense model)."""
    experts_per_token: str | None = None
    """Routed experts each token uses (top-k)."""
    shared_experts: str | None = None
    """Always-on experts per MoE layer."""
    tie_word_embeddings: str | None = None
    """'true' when the LM head shares the embedding matrix."""
    hf_repo: str | None = None
    """Hugging Face repository."""
    arch_type: str | None = None
    """Free-text summary, e.g. 'MoE GQA'."""
    total_params_b: str | None = None
    """Published total parameters [1e9] (cross-check only)."""
    active_params_b: str | None = None
    """Published active parameters [1e9] (cross-check only)."""
    kv_cache_bytes_per_token_bf16: str | None = None
    """Published KV bytes per token in BF16 (cross-check only)."""
    max_context: str | None = None
    """Maximum context [tokens]."""
    attention_notes: str | None = None
    """Free text."""
    source: str | None = None
    """Config URL."""
    verification: str | None = None
    """What was cross-checked."""
    attention: str | None = None
    """'gqa' (default) or 'mla' (added by us)."""
    q_lora_rank: str | None = None
    """MLA query low-rank width (0 or blank: full-rank queries)."""
    kv_lora_rank: str | None = None
    """MLA latent KV width, cached per token and layer."""
    qk_rope_head_dim: str | None = None
    """MLA decoupled RoPE key width, cached per token and layer."""
    v_head_dim: str | None = None
    """MLA value head width."""
    dense_layers: str | None = None
    """Leading dense layers in an MoE model (DeepSeek first_k_dense_replace)."""
    sliding_window: str | None = None
    """Attention window [tokens] of the windowed layers."""
    window_layers: str | None = None
    """How many layers use the window (the rest attend globally)."""
    aliases: str | None = None
    """Other names, ';'-separated, e.g. Llama 3.3 70B for the same architecture (added by us)."""


@dataclass(frozen=True)
class Gpu:
    """A GPU type with the numbers the performance model needs."""

    name: str
    key: str
    memory_bytes: float
    bandwidth_b_s: float
    peak_flop_s: Mapping[str, float]
    link_b_s: float
    link: str
    tdp_w: float | None
    price_low_usd_h: Decimal | None
    price_high_usd_h: Decimal | None
    source: str
    price_date: str
    price_source: str = ""
    """Where the per-GPU price range was seen (URLs), or 'unverified'."""

    @property
    def price_status(self) -> str:
        """'sourced' when the price range names where it was seen (URL + date), else
        'unsourced' (the shared table marks it 'unverified' or 'not fetched')."""
        src = self.price_source.lower()
        if not src or src == "unverified" or "not fetched" in src or "http" not in src:
            return "unsourced"
        return "sourced"

    @property
    def vendor(self) -> str:
        """'amd' for Instinct (MI*) parts, else 'nvidia'."""
        amd = self.key.lower().startswith("mi") or " mi" in f" {self.name.lower()}"
        return "amd" if amd else "nvidia"

    @property
    def pcie_only(self) -> bool:
        """True when GPUs talk over PCIe only (no NVLink/Infinity Fabric). A parenthesis
        qualifies: 'PCIe Gen4 (no NVLink)' is PCIe only, 'PCIe Gen5 (+ optional NVLink
        bridge)' is not."""
        low = self.link.lower()
        return low.startswith("pcie") and ("nvlink" not in low or "no nvlink" in low)


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer, dense or MoE, GQA or MLA, optionally windowed."""

    name: str
    layers: int
    hidden: int
    q_heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied_embeddings: bool = False
    moe_intermediate: int = 0
    experts: int = 0
    experts_per_token: int = 0
    shared_experts: int = 0
    dense_layers: int = 0
    attention: str = "gqa"
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    sliding_window: int = 0
    window_layers: int = 0
    source: str = ""

    @property
    def is_moe(self) -> bool:
        return self.experts > 0


@dataclass(frozen=True)
class Precision:
    """A number format and where it may be used."""

    name: str
    bytes_per_value: float
    for_weights: bool
    for_activations: bool
    for_kv: bool
    peak_key: str | None
    notes: str


def _data_text(name: str) -> str:
    return resources.files("unitecon.models.perf").joinpath("data", name).read_text("utf-8")


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(_data_text(name).splitlines()))


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", name.lower())


def _link_b_s(text: str) -> float:
    """Per-direction link bandwidth [B/s] from the interconnect text.

    A figure like 'NVLink4 900 GB/s' is NVIDIA's bidirectional total, so it is halved; a
    'PCIe GenN' link without NVLink uses the x16 per-direction rate.
    """
    low = text.lower()
    pcie = re.search(r"pcie gen\s*(\d)", low)
    if pcie and "nvlink" not in low.split("(")[0]:
        return _PCIE_B_S.get(pcie.group(1), 32e9)
    match = re.search(r"(\d+(?:\.\d+)?)\s*(tb|gb)/s", low)
    if match:
        scale = 1e12 if match.group(2) == "tb" else 1e9
        return float(match.group(1)) * scale / 2
    return _PCIE_B_S["4"]


def _required(value: str | None, field: str, name: str) -> float:
    number = leading_number(value)
    if number is None or number <= 0:
        raise ConfigError(f"{name}: field {field!r} must be a positive number, got {value!r}")
    return number


def _decimal(value: str | None) -> Decimal | None:
    number = leading_number(value)
    return None if number is None else Decimal(str(number))


def gpu_from_record(rec: GpuRecord) -> Gpu:
    """Turn a validated GPU row into the model's `Gpu` (units converted to SI)."""
    peaks = {"bf16": _required(rec.bf16_dense_tflops, "bf16_dense_tflops", rec.gpu) * 1e12}
    for prec, column in _PEAK_COLUMNS.items():
        number = leading_number(getattr(rec, column))
        if number:
            peaks[prec] = number * 1e12
    return Gpu(
        name=rec.gpu,
        key=rec.id or _key(rec.gpu),
        memory_bytes=_required(rec.memory_gb, "memory_gb", rec.gpu) * GIB,
        bandwidth_b_s=_required(rec.mem_bandwidth_tb_s, "mem_bandwidth_tb_s", rec.gpu) * 1e12,
        peak_flop_s=peaks,
        link_b_s=_link_b_s(rec.interconnect or "PCIe Gen4"),
        link=rec.interconnect or "PCIe Gen4",
        tdp_w=leading_number(rec.tdp_w),
        price_low_usd_h=_decimal(rec.price_usd_per_gpu_hr_low),
        price_high_usd_h=_decimal(rec.price_usd_per_gpu_hr_high),
        source=rec.spec_source or "",
        price_date=rec.price_date or "",
        price_source=rec.price_source or "",
    )


def _int(value: str | None, default: int = 0) -> int:
    number = leading_number(value)
    return default if number is None else int(number)


def architecture_from_record(rec: ModelRecord) -> Architecture:
    """Turn a validated model row into an `Architecture`."""
    hidden = int(_required(rec.hidden_size, "hidden_size", rec.model))
    heads = int(_required(rec.num_attention_heads, "num_attention_heads", rec.model))
    attention = (rec.attention or "gqa").lower()
    if attention not in ("gqa", "mla"):
        raise ConfigError(f"{rec.model}: attention must be 'gqa' or 'mla', got {attention!r}")
    experts = _int(rec.num_routed_experts)
    intermediate = _int(rec.intermediate_size)
    if not experts and not intermediate:
        raise ConfigError(f"{rec.model}: a dense model needs intermediate_size")
    return Architecture(
        name=rec.model,
        layers=int(_required(rec.layers, "layers", rec.model)),
        hidden=hidden,
        q_heads=heads,
        kv_heads=_int(rec.num_kv_heads, heads),
        head_dim=_int(rec.head_dim, hidden // heads),
        intermediate=intermediate,
        vocab=int(_required(rec.vocab_size, "vocab_size", rec.model)),
        tied_embeddings=(rec.tie_word_embeddings or "").lower() == "true",
        moe_intermediate=_int(rec.moe_intermediate_size),
        experts=experts,
        experts_per_token=_int(rec.experts_per_token, 1 if experts else 0),
        shared_experts=_int(rec.shared_experts),
        dense_layers=_int(rec.dense_layers),
        attention=attention,
        q_lora_rank=_int(rec.q_lora_rank),
        kv_lora_rank=_int(rec.kv_lora_rank),
        qk_rope_head_dim=_int(rec.qk_rope_head_dim),
        v_head_dim=_int(rec.v_head_dim),
        sliding_window=_int(rec.sliding_window),
        window_layers=_int(rec.window_layers),
        source=rec.source or "",
    )


@cache
def gpus() -> dict[str, Gpu]:
    """The packaged GPU catalog, keyed by short id."""
    return {g.key: g for g in (gpu_from_record(GpuRecord(**r)) for r in _rows("gpus.csv"))}


@cache
def _gpu_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for row in _rows("gpus.csv"):
        for name in [row["id"], row["gpu"], *row["aliases"].split(";")]:
            names[_key(name)] = row["id"]
    return names


@cache
def architectures() -> dict[str, Architecture]:
    """The packaged model catalog, keyed by model name."""
    records = (ModelRecord(**r) for r in _rows("models.csv"))
    return {a.name: a for a in map(architecture_from_record, records)}


@cache
def precisions() -> dict[str, Precision]:
    """The packaged precision catalog, keyed by name."""
    out = {}
    for r in _rows("precisions.csv"):
        out[r["precision"]] = Precision(
            name=r["precision"],
            bytes_per_value=float(r["bits_per_value"]) / 8,
            for_weights=r["weights"] == "yes",
            for_activations=r["activations"] == "yes",
            for_kv=r["kv_cache"] == "yes",
            peak_key=r["precision"] if r["peak_column"] else None,
            notes=r["notes"],
        )
    return out


@cache
def _precision_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for r in _rows("precisions.csv"):
        for name in [r["precision"], *r["aliases"].split(";")]:
            names[_key(name)] = r["precision"]
    return names


def precision(name: str, role: str = "weights") -> Precision:
    """Look up a precision by name or alias ('FP16' is bf16) and check it suits `role`."""
    key = _precision_names().get(_key(name))
    if key is None:
        raise LookupFailed("precision", name, precisions())
    prec = precisions()[key]
    if not getattr(prec, _ROLE_ATTR[role]):
        usable = [p.name for p in precisions().values() if getattr(p, _ROLE_ATTR[role])]
        raise InputError(f"{prec.name} cannot be used for {role}; use one of {', '.join(usable)}")
    return prec


_ROLE_ATTR = {"weights": "for_weights", "activations": "for_activations", "kv": "for_kv"}


def _load_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise InputError(f"{path}: cannot read: {e}") from e
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of column names to values")
    return {str(k): v for k, v in data.items()}


def _validate(cls: type[_Record], data: dict[str, Any], path: Path) -> Any:
    try:
        return cls(**data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise ConfigError(f"{path}: {problems}") from e


def _is_file_ref(name: str) -> bool:
    return name.endswith((".yaml", ".yml", ".json")) or Path(name).is_file()


def find_gpu(name: str) -> Gpu:
    """A GPU by id, name or alias, or from a YAML/JSON file with `gpus.csv` column names."""
    if _is_file_ref(name):
        path = Path(name)
        return gpu_from_record(_validate(GpuRecord, _load_file(path), path))
    key = _gpu_names().get(_key(name))
    if key is None:
        choices = [n for r in _rows("gpus.csv") for n in (r["id"], *r["aliases"].split(";"))]
        raise LookupFailed("GPU", name, choices)
    return gpus()[key]


def find_architecture(name: str) -> Architecture:
    """A model by name or HF repo, or from a YAML/JSON file with `models.csv` column names."""
    if _is_file_ref(name):
        path = Path(name)
        return architecture_from_record(_validate(ModelRecord, _load_file(path), path))
    by_key = {_key(n): a for n, a in architectures().items()}
    for row in _rows("models.csv"):
        found = architectures()[row["model"]]
        by_key.setdefault(_key(row["hf_repo"].split(" ")[0]), found)
        for alias in filter(None, (row.get("aliases") or "").split(";")):
            by_key.setdefault(_key(alias), found)
    arch = by_key.get(_key(name))
    if arch is None:
        raise LookupFailed("model", name, architectures())
    return arch
