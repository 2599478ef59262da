"""OTLP request bodies -> candidate events, validated later in batches by the writer.

Validation is one DuckDB query whose cost is mostly fixed (about 40 ms to plan, whatever the
row count), so validating each request alone caps a 2-core server at a few hundred spans/s
for the small requests a low-latency exporter sends. The receiver therefore splits the work:

    request body --decode_otlp (thread or process, per request)--> candidate rows (Arrow)
    candidates of all queued requests --writer thread--> one validation + one transaction

`decode_otlp` maps spans to candidate rows with the ingest stage's own functions
(`parse_proto` + `proto_rows`, or `spans_from_json` + `span_rows`, then `candidates`), so the
events are the same as `unitecon.ingest.decode_request` gives. Those build the table column
by column, reading each resource's attributes once, with the values `candidate` defines
(512 spans of the load benchmark: about 9 ms of CPU from protobuf, 13-16 ms from JSON,
where a `candidate` dict per span and `pa.Table.from_pylist` took 22 and 27-33 ms).
`BatchValidator` validates many requests' rows at once and hands each request back its own
rejections (for OTLP partial success).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from unitecon.ingest import otlp as o
from unitecon.ingest import validate as v
from unitecon.ledger.records import Chunk, Rejected
from unitecon.ledger.schema import EVENT_SCHEMA
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
    is_json = "json" in content_type.lower()
    try:
        if is_json:
            spans = list(o.spans_from_json(json.loads(body)))
        else:
            req = o.parse_proto(body)
    except (*o.DECODE_ERRORS, AttributeError) as e:
        raise InvalidBody(
            f"Not a valid OTLP ExportTraceServiceRequest: cannot decode the OTLP request "
            f"body ({content_type}): {e}"
        ) from None
    rows = o.span_rows(spans) if is_json else o.proto_rows(req)
    table, skipped = o.candidates(rows, source)
    return Decoded(table, skipped)


def sample_request(spans: int = 64) -> bytes:
    """A protobuf `ExportTraceServiceRequest` of `spans` GenAI chat spans (two providers,
    usage, a customer and a feature), decoded and validated at start to warm the code paths
    and the prepared query, so that the first real requests do not pay for it. Never written
    to the ledger."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
    from opentelemetry.proto.common.v1 import common_pb2 as c
    from opentelemetry.proto.resource.v1 import resource_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    def attr(key: str, value: str | int) -> c.KeyValue:
        if isinstance(value, int):
            return c.KeyValue(key=key, value=c.AnyValue(int_value=value))
        return c.KeyValue(key=key, value=c.AnyValue(string_value=value))

    start = 1_763_900_000 * 10**9
    out = [
        trace_pb2.Span(
            trace_id=(i // 8 + 1).to_bytes(16, "big"),
            span_id=(i + 1).to_bytes(8, "big"),
            name="chat",
            kind=trace_pb2.Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=start + i,
            end_time_unix_nano=start + i + 10**9,
            attributes=[
                attr("gen_ai.operation.name", "chat"),
                attr("gen_ai.provider.name", ("openai", "anthropic")[i % 2]),
                attr("gen_ai.request.model", ("gpt-4o-mini", "claude-sonnet-4-5")[i % 2]),
                attr("gen_ai.usage.input_tokens", 1000 + i),
                attr("gen_ai.usage.output_tokens", 100 + i),
                attr("unitecon.customer.id", f"c{i % 7}"),
            ],
        )
        for i in range(spans)
    ]
    resource = resource_pb2.Resource(attributes=[attr("unitecon.feature", "warm-up")])
    req = ts.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=resource, scope_spans=[trace_pb2.ScopeSpans(spans=out)]
            )
        ]
    )
    return bytes(req.SerializeToString())


@dataclass(frozen=True)
class Validated:
    """A batch of requests validated together."""

    chunk: Chunk
    """The valid events of every request and all rejections."""
    rejected: list[list[Rejected]]
    """Each request's own rejections, in the order the requests were given."""


#: DuckDB optimizers that plan with table statistics (see BatchValidator).
STATS_OPTIMIZERS = (
    "statistics_propagation",
    "compressed_materialization",
    "row_group_pruner",
    "empty_result_pullup",
)


class BatchValidator:
    """Validates many requests' candidates in one query (one per writer thread).

    The validation query is long (about 17,000 characters); planning it costs far more than
    running it on a few thousand rows. So it is planned once, as a prepared statement over
    a temporary table of `CANDIDATE_SCHEMA`; each batch replaces that table's rows and
    executes the plan. The result goes through `validate.Validator.split` exactly as
    `validate.validate` does, so the events and rejections are the same. A batch whose
    columns differ from `CANDIDATE_SCHEMA` (never the case for `decode_otlp`'s tables) is
    validated by `validate.validate` itself.
    """

    TABLE = "_server_candidates"
    STATEMENT = "_server_validation"

    def __init__(self, source: str, *, threads: int = 1) -> None:
        self.source = source
        self._con = v.connect()
        # A batch is a few thousand rows: one thread runs it without waking others, and
        # leaves the second core to the HTTP loop and the decoders.
        self._con.execute(f"SET threads = {int(threads)}")
        # The plan must not depend on the rows the table held when it was prepared (none):
        # these optimizers fold expressions and prune by the table's statistics, which a
        # prepared plan would keep for every later batch (an empty table's statistics say
        # every column is NULL, and the checks would fold away).
        self._con.execute(f"SET disabled_optimizers = '{','.join(STATS_OPTIMIZERS)}'")
        self._schema = CANDIDATE_SCHEMA
        _empty = self._schema.empty_table()
        self._con.execute(f"CREATE TEMP TABLE {self.TABLE} AS SELECT * FROM _empty")
        types = {f.name: f.type for f in self._schema}
        sql = v.validation_sql(self.TABLE, types)
        self._con.execute(f"PREPARE {self.STATEMENT} AS {sql}")

    def validate(self, batch: list[pa.Table]) -> Validated:
        """Validate `batch` (one candidate table per request) as one table."""
        # Positions run on across the batch: request i's spans are (starts[i], ends[i]].
        # A request's positions count its non-GenAI spans too, so they go up to its last
        # span's position, not to its row count.
        starts, ends, tables, offset = [], [], [], 0
        for t in batch:
            starts.append(offset)
            pos = pc.add(t["_pos"], pa.scalar(offset, pa.int64()))
            tables.append(t.set_column(t.schema.get_field_index("_pos"), "_pos", pos))
            offset += int(pc.max(t["_pos"]).as_py() or 0) + 1
            ends.append(offset - 1)
        table = pa.concat_tables(tables)

        def locate(pos: int) -> str:
            if len(batch) == 1:
                return f"span {pos} of the same request"
            i = bisect.bisect_right(starts, pos - 1) - 1
            return f"{self.source} request {i + 1} of its batch (span {pos - starts[i]})"

        if not table.schema.equals(self._schema):
            events, rejected = v.validate(table, v.Validator(locate=locate), self._con)
            return self._validated(events, rejected, _by_location(batch, rejected))
        out = self._run(table)
        events, rejected = v.Validator(locate=locate).split(out)
        if not rejected:  # the usual case: every request is fully accepted
            return self._validated(events, rejected, [[] for _ in batch])
        # Some rejections: split again request by request, in order, with one Validator
        # (its seen ids carry over, so an id first seen in request 1 and re-sent with other
        # content in request 3 is rejected in request 3, as in the one split above) to know
        # whose each rejection is; a duplicate's location alone names the first request.
        again = v.Validator(locate=locate)
        pos = out["_pos"]
        parts = []
        for start, end in zip(starts, ends, strict=True):
            mine = pc.and_(pc.greater(pos, start), pc.less_equal(pos, end))
            parts.append(again.split(out.filter(mine)))
        events = pa.concat_tables([e for e, _ in parts])
        own = [r for _, r in parts]
        return self._validated(events, [r for rs in own for r in rs], own)

    @staticmethod
    def _validated(
        events: pa.Table, rejected: list[Rejected], own: list[list[Rejected]]
    ) -> Validated:
        chunk = Chunk(events, rejected, rows_read=events.num_rows + len(rejected))
        return Validated(chunk, own)

    def _run(self, table: pa.Table) -> pa.Table:
        """The prepared validation over `table`'s rows.

        The rows come in through DuckDB's replacement scan of the local variable
        `_server_batch`, not `register()`: registering creates a view, a change of the
        catalog, after which DuckDB binds and plans the prepared statement again at every
        execution (about 20 ms of CPU each time), as if it had never been prepared.
        """
        con = self._con
        _server_batch = table
        con.execute(f"DELETE FROM {self.TABLE}")
        con.execute(f"INSERT INTO {self.TABLE} SELECT * FROM _server_batch")
        out = con.execute(f"EXECUTE {self.STATEMENT}").arrow()
        return out if isinstance(out, pa.Table) else out.read_all()

    def close(self) -> None:
        self._con.close()


_process_validator: BatchValidator | None = None
"""This decoder process's validator (`decode_validated`)."""


def decode_validated(body: bytes, content_type: str, source: str) -> Chunk:
    """`decode_otlp`, then validate the request's candidates on their own: what a decoder
    process runs, so that the server process only spools and commits.

    Validating in the decoder process moves about half of the server's CPU per span (the
    validation query, ~13 ms per 512 spans) out of the process that answers HTTP and writes
    the ledger, and off its GIL. A batch of many small requests is then many validations,
    not one; the prepared query costs about 1 ms fixed, so that is cheap. The validator is
    made on first use and kept for the life of the process.
    """
    global _process_validator
    decoded = decode_otlp(body, content_type, source)
    if decoded.candidates.num_rows == 0:  # no GenAI span
        return Chunk(EVENT_SCHEMA.empty_table())
    if _process_validator is None:
        _process_validator = BatchValidator(source)
    return _process_validator.validate([decoded.candidates]).chunk


def _by_location(batch: list[pa.Table], rejected: list[Rejected]) -> list[list[Rejected]]:
    """Rejections grouped by the request whose span they are, by location (the first request
    with that location: right unless two requests carry the same span)."""
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
