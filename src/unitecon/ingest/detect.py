"""Which reader a file needs: by extension (under `.gz`), else by sniffing its first bytes."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from unitecon.errors import InputError
from unitecon.ingest import exports, native, otlp, provider
from unitecon.ingest.lines import _Broken, raw_blocks
from unitecon.ledger.records import Chunk

Reader = Callable[[Path, str | None], Iterator[Chunk]]

READERS: dict[str, Reader] = {
    "jsonl": native.read_jsonl,
    "csv": native.read_csv,
    "parquet": native.read_parquet,
    "otlp-json": otlp.read_otlp_json,
    "otlp-proto": otlp.read_otlp_proto,
    "provider": provider.read_provider,
    "json": exports.read_json_document,
    "export-csv": exports.read_export_csv,
}
FORMATS = tuple(READERS)
_BY_SUFFIX = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".pb": "otlp-proto",
    ".binpb": "otlp-proto",
    ".otlp": "otlp-proto",
}
SNIFF_BYTES = 64 << 10


def _head(path: Path) -> bytes:
    out = b""
    try:
        for block in raw_blocks(path):
            out += block
            if len(out) >= SNIFF_BYTES:
                break
    except _Broken:
        pass
    return out[:SNIFF_BYTES]


def _sniff_json(head: bytes) -> str:
    text = head.lstrip()
    if b'"resourceSpans"' in text[:4096] or b'"resource_spans"' in text[:4096]:
        return "otlp-json"
    if text[:1] == b"[":
        return "json"  # an array of records
    first = text.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
    except ValueError:
        # not one object per line: a pretty-printed document (or a broken line, which the
        # JSONL reader reports where it is)
        return "json" if first.strip() in (b"{", b"[") else "jsonl"
    if isinstance(obj, dict) and _looks_like_response(obj):
        return "provider"
    if isinstance(obj, dict) and exports.kind_of(obj) in ("litellm", "langfuse"):
        return "json"
    if isinstance(obj, dict) and isinstance(obj.get("data"), list):
        return "json"
    return "jsonl"


def _sniff_csv(head: bytes) -> str:
    first = head.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n", 1)[0]
    try:  # any line ending (CR-only too), any bytes: the header only picks the reader
        header = next(csv.reader([first.decode("utf-8-sig", errors="replace")]), [])
    except csv.Error:
        return "csv"
    return "export-csv" if exports.csv_is_export(header) else "csv"


def _looks_like_response(obj: dict[str, object]) -> bool:
    body = obj.get("response") if isinstance(obj.get("response"), dict) else obj
    assert isinstance(body, dict)
    return ("usage" in body or "usageMetadata" in body) and (
        body.get("object") in ("chat.completion", "response")
        or body.get("type") == "message"
        or "usageMetadata" in body
        or "response" in obj
    )


def detect_format(path: Path | str) -> str:
    """One of FORMATS. Raises InputError when the file is missing or unrecognisable."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory: name the files in it.")
    if not path.is_file():
        raise InputError(f"No such file: {path}")
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext in _BY_SUFFIX and _BY_SUFFIX[ext] != "csv":
        return _BY_SUFFIX[ext]
    head = _head(path)
    if ext == ".csv":
        return _sniff_csv(head)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip()[:1] in (b"{", b"["):
        return _sniff_json(head)
    if ext in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    raise InputError(
        f"Cannot tell the format of {path}. Use a known extension or --format one of: "
        f"{', '.join(FORMATS)}."
    )


def read_path(path: Path, fmt: str | None = None) -> Iterator[Chunk]:
    """Chunks of events read from `path` (format detected unless given)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in READERS:
        raise InputError(f"Unknown format {fmt!r}. Expected one of: {', '.join(FORMATS)}.")
    if not path.is_file():
        raise InputError(f"No such file: {path}")
    return READERS[fmt](path, str(path))
