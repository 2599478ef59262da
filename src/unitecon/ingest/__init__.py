"""Ingest stage: sources -> usage events + rejected records with locations.

Imports only unitecon.ledger.schema and unitecon.errors.
"""

from unitecon.ingest.detect import FORMATS, detect_format, read_path
from unitecon.ingest.otlp import decode_request

__all__ = ["FORMATS", "decode_request", "detect_format", "read_path"]
