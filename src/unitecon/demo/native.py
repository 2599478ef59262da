"""Native JSONL encoding: one event per line, the event schema's field names.

Features build their events as columns (lists, `None` where a field is absent); this module
turns columns into lines (absent fields are left out, so the reader applies its defaults) and
splits them into one file per calendar month, as an application's daily log export would be
rolled up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii as _q
from pathlib import Path
from typing import Any

import numpy as np

from unitecon.ledger.schema import FIELD_NAMES

Columns = dict[str, list[Any]]


def opt(values: np.ndarray | Sequence[Any], keep: np.ndarray) -> list[Any]:
    """`values` as a list, `None` where `keep` is false."""
    vals = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return [v if k else None for v, k in zip(vals, keep.tolist(), strict=True)]


def iso(ts_ns: np.ndarray) -> list[str]:
    """ISO-8601 UTC with microseconds, e.g. `2026-10-01T14:03:22.123456Z`."""
    us = ts_ns.astype("datetime64[ns]").astype("datetime64[us]")
    return [s + "Z" for s in np.datetime_as_string(us, unit="us").tolist()]


def _encode(key: str, values: list[Any]) -> list[str]:
    """`"key":value` per row ("" where the value is None), dispatching once per column."""
    head = _q(key) + ":"
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        enc = {True: head + "true", False: head + "false", None: ""}
        return [enc[v] for v in values]
    if isinstance(sample, str):
        return ["" if v is None else head + _q(v) for v in values]
    if isinstance(sample, dict):
        return [
            "" if v is None else head + json.dumps(v, sort_keys=True, separators=(",", ":"))
            for v in values
        ]
    return ["" if v is None else head + repr(v) for v in values]


def concat(parts: list[Columns]) -> Columns:
    """Concatenate column sets; a field missing from one set is `None` there."""
    keys = [k for k in FIELD_NAMES if any(k in p for p in parts)]
    out: Columns = {k: [] for k in keys}
    for p in parts:
        n = len(p["event_id"])
        for k in keys:
            out[k].extend(p.get(k, [None] * n))
    return out


def write_monthly(out_dir: Path, stem: str, cols: Columns, ts_ns: np.ndarray) -> list[Path]:
    """Write `stem-YYYY-MM.jsonl` files in time order; returns their paths."""
    order = np.argsort(ts_ns, kind="stable")
    ts_sorted = ts_ns[order]
    cols = {k: [v[i] for i in order.tolist()] for k, v in cols.items()}
    cols["ts"] = iso(ts_sorted)
    encoded = [_encode(k, cols[k]) for k in FIELD_NAMES if k in cols]
    lines = ["{" + ",".join(filter(None, row)) + "}\n" for row in zip(*encoded, strict=True)]
    months = ts_sorted.astype("datetime64[ns]").astype("datetime64[M]")
    paths = []
    for m in np.unique(months):
        ix = np.flatnonzero(months == m)
        path = out_dir / f"{stem}-{m}.jsonl"
        with path.open("w") as f:
            f.writelines(lines[i] for i in ix.tolist())
        paths.append(path)
    return paths
