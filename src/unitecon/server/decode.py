"""OTLP request bodies -> candidate events, validated later in batches by the writer.

Validation is one DuckDB query whose cost is mostly fixed (about 40 ms to plan, whatever the
row count), so validating each request alone caps a 2-core server at a few hundred spans/s
for the small requests a low-latency exporter sends. The receiver therefore splits the work:

    request body --decode_otlp (thread or process, per request)--> candidate rows (Arrow)
    candidates of all queued requests --writer thread--> one validation + one transaction

`decode_otlp` maps spans to candidate rows with the ingest stage's own functions
(`spans_from_proto`, `spans_from_json`, `is_genai`, `candidate`), so the events are the same
as `unitecon.ingest.decode_request` gives; `validate_batch` validates many requests' rows at
once and hands each request back its own rejections (for OTLP partial success).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from unitecon.ingest import otlp as o
from unitecon.ingest import validate as v
from unitecon.ingest.base import Chunk, Rejected
from unitecon.server.errors import InvalidBody

#: The candidate rows' Arrow schema (raw strings plus validation's meta columns).
CANDIDATE_SCHEMA: pa.Schema = o._CANDIDATE_SCHEMA


@dataclass(frozen=True)
class Decoded:
    """One request's spans as candidate events, not yet validated."""

    candidates: pa.Table
    """Candidate rows of the GenAI spans (CANDIDATE_SCHEMA), `_pos` from 1 in the request."""
    skipped: int
    """Spans that are not GenAI (no `gen_ai.*` nor `unitecon.*` attribute): not kept."""


def decode_otlp(body: bytes, content_type: str, source: str) -> Decoded:
    """Parse an `ExportTraceServiceRequest`; a body that is not one at all is 422."""
    try:
        if "json" in content_type.lower():
            spans = list(o.spans_from_json(json.loads(body)))
        else:
            spans = list(o.spans_from_proto(body))
    except (*o.DECODE_ERRORS, AttributeError) as e:
        raise InvalidBody(
            f"Not a valid OTLP ExportTraceServiceRequest: cannot decode the OTLP request "
            f"body ({content_type}): {e}"
        ) from None
    rows = [o.candidate(s, pos, source) for pos, s in enumerate(spans, 1) if o.is_genai(s)]
    table = pa.Table.from_pylist(rows, schema=CANDIDATE_SCHEMA)
    return Decoded(table, len(spans) - len(rows))


@dataclass(frozen=True)
class Validated:
    """A batch of requests validated together."""

    chunk: Chunk
    """The valid events of every request and all rejections."""
    rejected: list[list[Rejected]]
    """Each request's own rejections, in the order the requests were given."""


class BatchValidator:
    """Validates many requests' candidates in one query (one per writer thread)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._con = v.connect()

    def validate(self, batch: list[pa.Table]) -> Validated:
        """Validate `batch` (one candidate table per request) as one table."""
        starts, tables, offset = [], [], 0
        for t in batch:
            starts.append(offset)
            pos = pc.add(t["_pos"], pa.scalar(offset, pa.int64()))
            tables.append(t.set_column(t.schema.get_field_index("_pos"), "_pos", pos))
            offset += t.num_rows + 1
        table = pa.concat_tables(tables)

        def locate(pos: int) -> str:
            i = bisect.bisect_right(starts, pos - 1) - 1
            return f"{self.source} request {i + 1} of its batch (span {pos - starts[i]})"

        events, rejected = v.validate(table, v.Validator(locate=locate), self._con)
        chunk = Chunk(events, rejected, rows_read=events.num_rows + len(rejected))
        return Validated(chunk, _by_request(batch, rejected))

    def close(self) -> None:
        self._con.close()


def _by_request(batch: list[pa.Table], rejected: list[Rejected]) -> list[list[Rejected]]:
    """Rejections grouped by the request whose span they are (by location, first wins)."""
    out: list[list[Rejected]] = [[] for _ in batch]
    if not rejected:
        return out
    owner: dict[str, int] = {}
    for i, t in enumerate(batch):
        for loc in t["_loc"].to_pylist():
            owner.setdefault(loc, i)
    for r in rejected:
        out[owner.get(r.location, 0)].append(r)
    return out
