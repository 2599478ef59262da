"""Ingest endpoints: the OTLP/HTTP receiver and the native events endpoint.

`POST /v1/traces` takes an `ExportTraceServiceRequest` as the OpenTelemetry exporters send it
(`application/x-protobuf` or `application/json`, gzip or plain) and answers an
`ExportTraceServiceResponse` in the request's encoding. With decoder processes (the default
on 2 cores or more) the body is decoded and validated there (`decode.decode_validated`) and
the writer only spools and commits; otherwise it is decoded into candidate rows off the event
loop and the writer validates the candidates of every queued request in one query. Spans
that cannot become events go to the quarantine with their reason; the answer then carries
`partial_success` with the count of rejected spans and a message (OTLP specification,
"Partial Success").

`POST /api/v1/events` takes usage events in unitecon's native format, as a JSON array or as
JSON lines.

Both need an ingest (or admin) key, answer once the events are durable (in the writer's
spool, or committed where the ledger has no spool: `writer.py`), and answer 503 with
`Retry-After` when the writer's queue is full.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ProcessPoolExecutor
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from pydantic import BaseModel, ConfigDict

from unitecon.errors import UniteconError
from unitecon.ledger.records import Chunk, Rejected
from unitecon.server.auth import KeyInfo, Kind, require
from unitecon.server.body import media_type, read_body
from unitecon.server.decode import decode_otlp, decode_validated
from unitecon.server.errors import COMMON_RESPONSES, ErrorBody, InvalidBody
from unitecon.server.writer import Writer

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
OTLP_TYPES = {PROTOBUF: "protobuf", JSON: "json"}
EVENT_TYPES = {
    JSON: "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "application/jsonlines": "jsonl",
}
#: Reasons shown in a partial-success message before "and N more".
SHOWN_REASONS = 3

router = APIRouter()
IngestKey = Annotated[KeyInfo, Depends(require(Kind.INGEST))]

INGEST_RESPONSES: dict[int | str, dict[str, object]] = {
    **COMMON_RESPONSES,
    413: {"model": ErrorBody, "description": "The body is over the size limit."},
    415: {"model": ErrorBody, "description": "A content type or encoding not taken."},
    503: {"model": ErrorBody, "description": "The ingest queue is full: retry after Retry-After."},
}


def _rejection_message(rejected: list[Rejected]) -> str:
    reasons = "; ".join(f"{r.location}: {r.reason}" for r in rejected[:SHOWN_REASONS])
    more = len(rejected) - SHOWN_REASONS
    tail = f"; and {more} more" if more > 0 else ""
    return (
        f"{len(rejected)} span(s) rejected and quarantined: {reasons}{tail}. "
        "List them with `unitecon quarantine` or GET /api/v1/quarantine."
    )


def otlp_response(rejected: list[Rejected], kind: str) -> Response:
    """The `ExportTraceServiceResponse`, protobuf or JSON like the request."""
    msg = trace_service_pb2.ExportTraceServiceResponse()
    if rejected:
        msg.partial_success.rejected_spans = len(rejected)
        msg.partial_success.error_message = _rejection_message(rejected)
    if kind == "protobuf":
        return Response(msg.SerializeToString(), media_type=PROTOBUF)
    text = json_format.MessageToJson(msg, indent=None)
    return Response(text, media_type=JSON)


@router.post(
    "/v1/traces",
    tags=["ingest"],
    summary="OTLP/HTTP trace receiver",
    responses={
        200: {
            "description": "ExportTraceServiceResponse (protobuf or JSON, like the request).",
            "content": {PROTOBUF: {}, JSON: {}},
        },
        **INGEST_RESPONSES,
    },
    response_class=Response,
)
async def receive_traces(request: Request, key: IngestKey) -> Response:
    """Receive OpenTelemetry spans (GenAI semantic conventions) and write them to the ledger.

    Point an OTLP/HTTP exporter at `http://HOST:4318` (or `.../v1/traces`) with the header
    `Authorization: Bearer <ingest key>`.
    """
    kind = media_type(request, OTLP_TYPES)
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    ct = PROTOBUF if kind == "protobuf" else JSON
    writer: Writer = request.app.state.writer
    pool = request.app.state.decoders
    loop = asyncio.get_running_loop()
    if isinstance(pool, ProcessPoolExecutor):  # decoded and validated there
        chunk = await loop.run_in_executor(pool, decode_validated, body, ct, writer.source)
        if chunk.events.num_rows == 0 and not chunk.rejected:  # no GenAI span
            return otlp_response([], kind)
        done = await writer.submit(chunk)
        return otlp_response(done.rejections, kind)
    if pool is None:
        decoded = decode_otlp(body, ct, writer.source)
    else:
        decoded = await loop.run_in_executor(pool, decode_otlp, body, ct, writer.source)
    if decoded.candidates.num_rows == 0:  # no GenAI span: nothing to write
        return otlp_response([], kind)
    done = await writer.submit_candidates(decoded.candidates)
    return otlp_response(done.rejections, kind)


class EventsAccepted(BaseModel):
    """The answer to a native events upload."""

    model_config = ConfigDict(extra="forbid")

    received: int
    """Records in the body."""
    written: int
    """Valid events handed to the ledger (re-sent event ids are kept once)."""
    rejected: int
    """Records quarantined (see GET /api/v1/quarantine)."""
    errors: list[str]
    """The first few rejections as `location: reason`."""
    ingest_id: str
    """The ledger ingest (lineage) that wrote them."""


def _decode_events(body: bytes, kind: str, source: str) -> Chunk:
    from unitecon.server.events import decode_events

    try:
        return decode_events(body, kind, source)
    except UniteconError as e:
        raise InvalidBody(f"Not valid usage events ({kind}): {e}") from None


@router.post(
    "/api/v1/events",
    tags=["ingest"],
    summary="Native usage events (JSON array or JSON lines)",
    response_model=EventsAccepted,
    responses=INGEST_RESPONSES,
)
async def receive_events(request: Request, key: IngestKey) -> EventsAccepted:
    """Write usage events in unitecon's native format (the fields of `docs/schema.md`)."""
    kind = media_type(request, EVENT_TYPES)
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    writer: Writer = request.app.state.writer
    chunk = await run_in_threadpool(_decode_events, body, kind, "api-events")
    done = await writer.submit(chunk)
    return EventsAccepted(
        received=chunk.events.num_rows + len(chunk.rejected),
        written=done.rows,
        rejected=done.rejected,
        errors=[str(r) for r in chunk.rejected[:SHOWN_REASONS]],
        ingest_id=done.ingest_id,
    )
