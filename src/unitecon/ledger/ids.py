"""The id of an event that comes without one: the sha256 of its canonical form.

The canonical form is text defined here field by field, not any engine's JSON (a DuckDB
upgrade that changed `to_json` must not change ids, which would break idempotency), so any
engine or a few lines of Python compute the same id (docs/ingest.md, "Event ids", gives the
form and a Python version; tests/ingest/test_event_id_canonical.py checks the two agree):

    unitecon.event/1\\n
    ts=<enc(text of ts)>\\n
    duration_ms=<enc(...)>\\n
    ...                       (every field of CANONICAL_FIELDS, in that order)

`enc(NULL)` is `~`; `enc(s)` is the UTF-8 byte length of `s`, `:`, then `s`. The text of a
value by type: a string as is; an integer in decimal; a double with exactly 9 decimals (the
exact binary value rounded half to even, as C's `printf("%.9f")`); a boolean `true`/`false`;
a timestamp in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`; `reported_cost` (DECIMAL(38, 12)) with
exactly 12 decimals; `tags` as `enc(key) enc(value)` for each entry in key order (Unicode
code points), concatenated. The id is `sha256:` + the lower-case hex sha256 of the UTF-8 text.
"""

from __future__ import annotations

import pyarrow as pa

from unitecon.ledger.schema import EVENT_SCHEMA

#: The first line of the canonical form: a new form gets a new version (and new ids).
VERSION = "unitecon.event/1"
#: The fields hashed, in order: every event field but the id and the lineage columns.
CANONICAL_FIELDS = tuple(
    n for n in EVENT_SCHEMA.names if n not in ("event_id", "source", "ingest_id")
)


def _enc(expr: str) -> str:
    """SQL: `~` for NULL, else the UTF-8 byte length, `:`, the text."""
    return f"CASE WHEN ({expr}) IS NULL THEN '~' ELSE strlen({expr}) || ':' || ({expr}) END"


def _text(name: str, t: pa.DataType) -> str:
    """SQL for the canonical text of column `name` of type `t` (NULL stays NULL)."""
    if pa.types.is_string(t):
        return name
    if pa.types.is_integer(t):
        return f"CAST({name} AS VARCHAR)"
    if pa.types.is_floating(t):
        return f"printf('%.9f', {name})"
    if pa.types.is_boolean(t):
        return f"CASE WHEN {name} THEN 'true' WHEN NOT {name} THEN 'false' END"
    if pa.types.is_timestamp(t):
        return f"strftime({name} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')"
    if pa.types.is_decimal(t):
        return f"CAST(CAST({name} AS DECIMAL(38, 12)) AS VARCHAR)"
    if pa.types.is_map(t):
        pair = f"{_enc('e.key')} || {_enc('e.value')}"
        return (
            f"CASE WHEN {name} IS NOT NULL THEN array_to_string(list_transform("
            f"list_sort(map_entries({name})), e -> {pair}), '') END"
        )
    raise TypeError(f"no canonical text for {name}: {t}")  # pragma: no cover


def canonical_sql() -> str:
    """SQL for the canonical form of a row with the event columns (CANONICAL_FIELDS) typed
    as in EVENT_SCHEMA."""
    parts = [f"'{VERSION}' || chr(10)"]
    for name in CANONICAL_FIELDS:
        text = _text(name, EVENT_SCHEMA.field(name).type)
        parts.append(f"'{name}=' || {_enc(text)} || chr(10)")
    return " || ".join(parts)


def event_id_sql() -> str:
    """SQL for the id of a row without one: `sha256:` + sha256 of its canonical form."""
    return f"'sha256:' || sha256({canonical_sql()})"
