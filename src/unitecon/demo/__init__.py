"""Demo stage: deterministic, realistic traffic for a multi-tenant AI product.

`generate(out_dir)` writes 60 days of usage of a product with about 200 tenants on three plans:
a support agent (OTLP traces), RAG search and a coding assistant (native JSONL), plus the
customer list. It stands before ingest in the data flow and imports only the ledger schema.
"""

from unitecon.demo.catalog import API_MODELS, MISSING_MODELS, Model
from unitecon.demo.generate import DemoFiles, DemoSummary, IncidentSummary, generate

__all__ = [
    "API_MODELS",
    "MISSING_MODELS",
    "DemoFiles",
    "DemoSummary",
    "IncidentSummary",
    "Model",
    "generate",
]
