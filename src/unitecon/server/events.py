"""Native usage events from an HTTP body, read by the native JSONL reader.

The reader (`unitecon.ingest.native.read_jsonl`) reads files, so the body is written to a
temporary JSON-lines file first: a JSON array becomes one line per element, JSON lines are
written as they came. Records keep their position as location (`api-events:3`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa

from unitecon.errors import InputError
from unitecon.ledger.records import Chunk


def _as_lines(body: bytes, kind: str) -> bytes:
    text = body.lstrip()
    if kind == "jsonl" or not text.startswith(b"["):
        return body
    try:
        records = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"the JSON array is malformed: {e.msg} at line {e.lineno}") from None
    except UnicodeDecodeError as e:
        raise InputError(f"the body is not UTF-8 (byte {e.start})") from None
    except RecursionError:
        raise InputError("the JSON array is nested too deep") from None
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)


def decode_events(body: bytes, kind: str, source: str) -> Chunk:
    """One chunk of valid events and rejected records from a JSON array or JSON lines."""
    from unitecon.ingest.native import read_jsonl

    lines = _as_lines(body, kind)
    with tempfile.TemporaryDirectory(prefix="unitecon-events-") as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_bytes(lines)
        chunks = list(read_jsonl(path, source))
    if not chunks:
        raise InputError("the body holds no events")
    events = pa.concat_tables([c.events for c in chunks])
    rejected = [r for c in chunks for r in c.rejected]
    return Chunk(events, rejected, rows_read=sum(c.rows_read for c in chunks))
