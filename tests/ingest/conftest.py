"""Helpers for the ingest tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pytest

from unitecon.ingest import read_path
from unitecon.ledger.records import Chunk, Rejected


class Result:
    """All chunks of one read, concatenated."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        chunks = list(chunks)
        self.events = pa.concat_tables([c.events for c in chunks]) if chunks else None
        self.rejected: list[Rejected] = [r for c in chunks for r in c.rejected]
        self.rows_read = sum(c.rows_read for c in chunks)
        self.skipped = sum(c.skipped for c in chunks)

    @property
    def rows(self) -> list[dict[str, object]]:
        return self.events.to_pylist() if self.events is not None else []

    def by_location(self) -> dict[str, str]:
        return {r.location: r.reason for r in self.rejected}


@pytest.fixture
def read():
    def _read(path: Path, fmt: str | None = None) -> Result:
        return Result(read_path(path, fmt))

    return _read
