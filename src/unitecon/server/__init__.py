"""Server stage: the HTTP service over one ledger (`unitecon serve`).

Where it sits in the flow: a source (OTLP/HTTP receiver, native events endpoint) and an
output (read API, dashboard). It computes nothing itself: ingest decodes bodies
(`unitecon.ingest`), the ledger stores them, and the read API hands priced events to the
pricing, attribution and economics functions.

    app.py        create_app(ledger_path, project, keys=, settings=, config_path=)
    writer.py     the single writer (ack once spooled, group commit behind, 503 when full)
    decode.py     OTLP bodies to validated events (in decoder processes by default)
    auth.py       API keys (ingest / read / admin), hashed at rest, constant-time checked
    errors.py     the one JSON error shape (and OTLP's protobuf Status)
    body.py       body limits (413), content types and encodings (415)
    otlp.py       POST /v1/traces, POST /api/v1/events
    api.py        /api/v1: health, filters, costs, quarantine, prices missing, self-host
    api_units.py  /api/v1: unit metrics, tasks and trees, endpoints, margins, collapse
    dashboard.py  the pages and static/ (plotly.js from the installed plotly package)

May import: unitecon.ledger, unitecon.ingest, unitecon.pricing, unitecon.attribution,
unitecon.economics, unitecon.models, unitecon.config; FastAPI, uvicorn, opentelemetry-proto.
"""

from unitecon.server.app import Settings, create_app

__all__ = ["Settings", "create_app"]
