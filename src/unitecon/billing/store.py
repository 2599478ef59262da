"""Bill lines into the ledger (`bill_lines`, lineage in `bill_imports`), idempotently.

A bucket (source kind, provider, period start) comes from one download. Importing a bucket
that is stored with the same lines changes nothing; with other lines (a later download of
a day still open, a corrected invoice) it replaces the stored bucket whole, so a period is
never counted twice. Each import is one transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from unitecon.billing.lines import BillLine

LINE_COLUMNS = (
    "bucket", "fingerprint", "format", "kind", "provider", "period_start", "period_end",
    "model", "sku", "token_kind", "account", "api_key_id", "service_tier", "batch",
    "quantity", "unit", "amount", "list_amount", "currency", "invoice_id", "source",
    "location", "import_id",
)  # fmt: skip
_TYPES = {
    "period_start": pa.timestamp("us", tz="UTC"),
    "period_end": pa.timestamp("us", tz="UTC"),
    "batch": pa.bool_(),
    "quantity": pa.decimal128(38, 6),
    "amount": pa.decimal128(38, 12),
    "list_amount": pa.decimal128(38, 12),
}


@dataclass
class ImportResult:
    import_id: str
    source: str
    format: str
    lines_read: int = 0
    buckets_new: int = 0
    buckets_replaced: int = 0
    buckets_unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([(c, _TYPES.get(c, pa.string())) for c in LINE_COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)


def import_lines(
    con: Any, source: str, fmt: str, lines: list[BillLine], sha256: str | None = None
) -> ImportResult:
    """Write `lines` read from `source`; see the module doc for what replaces what."""
    res = ImportResult(uuid.uuid4().hex, source, fmt, lines_read=len(lines))
    by_bucket: dict[str, list[BillLine]] = defaultdict(list)
    for line in lines:
        by_bucket[line.bucket].append(line)
    con.execute("BEGIN TRANSACTION")
    try:
        stored: dict[str, list[str]] = defaultdict(list)
        if by_bucket:
            for bucket, fp in con.execute(
                "SELECT bucket, fingerprint FROM bill_lines WHERE list_contains(?, bucket)",
                [list(by_bucket)],
            ).fetchall():
                stored[bucket].append(fp)
        rows: list[dict[str, Any]] = []
        replaced: list[str] = []
        for bucket, group in by_bucket.items():
            if sorted(stored.get(bucket, [])) == sorted(line.fingerprint for line in group):
                res.buckets_unchanged += 1
                continue
            if bucket in stored:
                replaced.append(bucket)
            else:
                res.buckets_new += 1
            rows += [
                {**asdict(line), "bucket": bucket, "fingerprint": line.fingerprint,
                 "source": source, "import_id": res.import_id}
                for line in group
            ]  # fmt: skip
        res.buckets_replaced = len(replaced)
        if replaced:
            con.execute("DELETE FROM bill_lines WHERE list_contains(?, bucket)", [replaced])
        if rows:
            con.register("_bill_rows", _table(rows))
            try:
                con.execute(
                    f"INSERT INTO bill_lines SELECT {', '.join(LINE_COLUMNS)} FROM _bill_rows"
                )
            finally:
                con.unregister("_bill_rows")
        con.execute(
            "INSERT INTO bill_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [res.import_id, source, sha256, fmt, datetime.now(UTC), res.lines_read,
             res.buckets_new, res.buckets_replaced, res.buckets_unchanged],
        )  # fmt: skip
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return res


def imports(con: Any) -> list[dict[str, Any]]:
    """The lineage of every bill import, newest first."""
    rel = con.execute("SELECT * FROM bill_imports ORDER BY imported_at DESC")
    return rel.fetch_arrow_table().to_pylist()  # type: ignore[no-any-return]


def totals(con: Any) -> list[dict[str, Any]]:
    """Billed amount and lines per provider, month and source kind (what is stored)."""
    rel = con.execute(
        """
        SELECT provider, strftime(period_start, '%Y-%m') AS month, format, kind,
               count(*) AS lines, sum(amount) AS amount,
               sum(quantity) FILTER (WHERE token_kind IN ('input', 'output')) AS tokens,
               min(period_start) AS first, max(period_end) AS last
        FROM bill_lines GROUP BY ALL ORDER BY provider, month, format
        """
    )
    return rel.fetch_arrow_table().to_pylist()  # type: ignore[no-any-return]
