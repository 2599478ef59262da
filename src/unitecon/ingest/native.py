"""Native sources: JSONL, CSV and Parquet whose field names are the event table's.

Unknown keys and columns go into `tags` as strings (keys with a null value are dropped). JSON
lines are parsed in DuckDB over a zero-copy Arrow array of the file's lines, so every record
keeps its exact line number. A block of lines runs first on a fast path that carries neither
the raw lines nor their key lists; only the lines it rejects or cannot settle (malformed JSON,
a bad value, unknown keys, not an object) are re-run on the exact path, so every reason and
raw record is the exact path's. A plain JSONL file is first offered to the ledger whole
(`JsonlChunks.direct`): DuckDB's `read_json` into the same validation, kept only when it
gives what the chunks would (`base.DirectRead`). CSV is read with Python's csv module (exact
line numbers, quoted newlines); Parquet in record batches. Every source goes through the same
validation (`validate.py`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from unitecon.ingest import validate as v
from unitecon.ingest.lines import (
    LineBlock,
    _Broken,
    _to_lines,
    is_gzip,
    iter_line_blocks,
    key_colons,
    pick_lines,
    raw_blocks,
    scan_text,
)
from unitecon.ledger.records import CHUNK_ROWS, Chunk, DirectRead, Rejected
from unitecon.ledger.schema import EVENT_SCHEMA

MALFORMED = "malformed JSON"
NOT_OBJECT = "expected a JSON object of event fields"
#: Reason the fast path gives a line it leaves to the exact path.
SLOW = "(re-run on the exact path)"
_KNOWN = v.sql_list(v.INPUT_FIELDS)
#: Arrow batch size handed to DuckDB: several batches let it scan on all cores.
SCAN_ROWS = 16_384


# -- JSONL ----------------------------------------------------------------------------------
#: Numeric fields the typed fast path reads as DOUBLE straight from JSON (see `_run_block`).
NUMERIC_FIELDS = frozenset(v.INT_FIELDS + v.FLOAT_FIELDS)


def _json_struct(typed: bool = False) -> str:
    def kind(f: str) -> str:
        return "DOUBLE" if typed and f in NUMERIC_FIELDS else "VARCHAR"

    return "{" + ", ".join(f'"{f}": "{kind(f)}"' for f in v.INPUT_FIELDS) + "}"


def _jsonl_candidates(name: str, guarded: bool, fast: bool = False, typed: bool = False) -> str:
    """Candidate rows from the registered table `_lines(_pos, line, _e, _c)`.

    The struct is unnested in a materialized step: referring to `json_transform(...).field`
    would make DuckDB parse the line once per field. The exact key list (`json_keys`) is only
    computed for lines with more key-colons with a value (`_c`) than known fields set (`_p`).

    `fast` leaves out the raw line and that key list: a line that would need them (a reader
    error, not an object, keys to put in `tags`) gets the reason `SLOW`, to be re-run exactly.
    """
    valid = "json_valid(line)" if guarded else "true"
    parsed = f"CASE WHEN _v THEN json_transform(line, {v.q(_json_struct(typed))}) END"
    present = " + ".join(f"({f} IS NOT NULL)::INTEGER" for f in v.INPUT_FIELDS)
    extra = (
        f"CASE WHEN NOT list_has_all({_KNOWN}, json_keys(line)) THEN "
        "map_from_entries(list_filter(map_entries(json_transform(line, "
        "'\"MAP(VARCHAR, VARCHAR)\"')), e -> e.value IS NOT NULL AND NOT list_contains("
        f"{_KNOWN}, e.key))) END"
    )
    error = (
        f"CASE WHEN _e IS NOT NULL THEN _e WHEN NOT _v THEN '{MALFORMED}' "
        f"WHEN _p = 0 AND json_type(line) <> 'OBJECT' THEN '{NOT_OBJECT}' END"
    )
    raw, extra = (
        ("NULL::VARCHAR", "NULL::MAP(VARCHAR, VARCHAR)")
        if fast
        else ("line", f"CASE WHEN _v AND _c > _p THEN {extra} END")
    )
    if fast:
        error = f"CASE WHEN _e IS NOT NULL OR NOT _v OR _p = 0 OR _c > _p THEN '{SLOW}' END"
    keep = "" if fast else "line, "
    cols = ", ".join(v.INPUT_FIELDS)
    blank = "trim(line, ' ' || chr(9) || chr(10) || chr(13)) = ''"
    return f"""(WITH l AS (SELECT *, {valid} AS _v FROM _lines
            WHERE _e IS NOT NULL OR strlen(line) > 2 OR NOT {blank}),
        s AS MATERIALIZED (SELECT _pos, {keep}strlen(line) AS _size, _e, _c, _v,
            unnest({parsed}) FROM l),
        t AS (SELECT *, {present} AS _p FROM s)
        SELECT _pos, {v.q(name + ":")} || _pos AS _loc, {raw} AS _raw,
        _size, {error} AS _error, {cols}, {extra} AS _extra, _p FROM t)"""


_JSONL_TYPES: dict[str, pa.DataType] = {
    **{f: pa.string() for f in v.INPUT_FIELDS},
    **{m: pa.string() for m in v.META_COLUMNS},
}
_JSONL_TYPED: dict[str, pa.DataType] = {
    **_JSONL_TYPES,
    **{f: pa.float64() for f in NUMERIC_FIELDS},
}


def _explain_malformed(rejected: list[Rejected]) -> list[Rejected]:
    """Give malformed lines Python's precise JSON error (few rows, so a loop is fine)."""
    out = []
    for r in rejected:
        if r.reason == MALFORMED:
            try:
                json.loads(r.raw)
            except json.JSONDecodeError as e:
                r = Rejected(r.location, f"{MALFORMED}: {e.msg} at column {e.colno}", r.raw)
        out.append(r)
    return out


def _run_block(
    con: duckdb.DuckDBPyConnection, block: LineBlock, name: str, val: v.Validator
) -> Chunk:
    """Validate a block: all lines on the fast path (typed values only), then the lines it
    rejected (or could not handle) again on the exact path, with raw lines and tags.

    The fast path knows no line's key list. Each line's count of keys with a value (`_c`,
    `LineBlock.colons`) is at least the count of known fields it sets (`_p`), and equal only
    when it has no other key with a value; so when the block's total count equals the sum of
    `_p`, no line has keys for `tags`. Otherwise the count per line finds those lines, and
    they go to the exact path too.
    """
    n = len(block.lines)
    errs = (
        pa.array([block.errors.get(i) for i in range(n)], pa.string())
        if block.errors
        else pa.nulls(n, pa.string())
    )
    nulls = pa.nulls(n, pa.int32())
    lines = pa.table({"_pos": block.positions, "line": block.lines, "_e": errs, "_c": nulls})
    table = _validate_lines(con, lines, name, fast=True, typed=block.bools_named)
    redo = pc.is_valid(table["_reason"])
    counted = pc.sum(table["_p"]).as_py() or 0
    if block.key_total is None or counted != block.key_total:
        colons = block.colons()
        lines = lines.set_column(3, "_c", colons)
        at = pc.subtract(table["_pos"], pa.scalar(block.first, pa.int64()))
        redo = pc.or_(redo, pc.greater(pc.take(colons, at), table["_p"]))
    if pc.any(redo).as_py():
        again = lines.filter(pc.is_in(lines["_pos"], value_set=table.filter(redo)["_pos"]))
        exact = _validate_lines(con, again, name, fast=False)
        table = pa.concat_tables([table.filter(pc.invert(redo)), exact.cast(table.schema)])
        table = table.take(pc.sort_indices(table["_pos"]))
    events, rejected = val.split(table)
    if block.truncated is not None:
        rejected.append(block.truncated)
    return Chunk(events, _explain_malformed(rejected), rows_read=events.num_rows + len(rejected))


def _validate_lines(
    con: duckdb.DuckDBPyConnection,
    lines: pa.Table,
    name: str,
    *,
    fast: bool,
    typed: bool = False,
) -> pa.Table:
    """Run validation over `lines`; a block with malformed JSON is re-run guarded.

    `typed` (fast path only) reads the numeric fields as DOUBLE instead of text. That gives
    the value the text path would (a number, or a string holding one), or NULL (then the
    line's `_p` falls short of its key count and it goes to the exact path), except for a
    JSON boolean, which would become 1 or 0: the caller sets `typed` only for blocks whose
    booleans all belong to the boolean fields (`LineBlock.bools_named`).
    """
    lines = pa.Table.from_batches(lines.to_batches(max_chunksize=SCAN_ROWS), lines.schema)
    types = _JSONL_TYPED if fast and typed else _JSONL_TYPES
    con.register("_lines", lines)
    try:
        try:
            cand = _jsonl_candidates(name, False, fast, fast and typed)
            return v._as_table(con.execute(v.validation_sql(cand, types, ["_p"])).arrow())
        except duckdb.InvalidInputException:
            cand = _jsonl_candidates(name, True, fast, fast and typed)
            return v._as_table(con.execute(v.validation_sql(cand, types, ["_p"])).arrow())
    finally:
        con.unregister("_lines")


def _jsonl_chunks(path: Path, name: str) -> Iterator[Chunk]:
    con = v.connect()
    val = v.Validator(locate=lambda pos: f"{name}:{pos}")
    for block in iter_line_blocks(path, CHUNK_ROWS, name):
        if len(block.lines) or block.truncated is not None:
            yield _run_block(con, block, name, val)


class JsonlChunks(Iterator[Chunk]):
    """The chunks of a JSONL file (read on first `next`), and `direct()`: the same file as
    one statement for the ledger to run, when it can."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self._chunks: Iterator[Chunk] | None = None

    def __next__(self) -> Chunk:
        if self._chunks is None:
            self._chunks = _jsonl_chunks(self.path, self.name)
        return next(self._chunks)

    def direct(self) -> DirectRead | None:
        """The file read by DuckDB's `read_json` (in parallel, as a COPY reads it) into the
        same validation query as a block's fast path, for a plain file whose path DuckDB
        takes literally (no glob characters) and whose head gives no reason to expect it
        back (`_head_is_plain`)."""
        if self._chunks is not None or any(ch in str(self.path) for ch in "*?[]{}"):
            return None
        try:
            if is_gzip(self.path) or not _head_is_plain(self.path):
                return None
        except OSError:
            return None
        path, name = self.path, self.name
        return DirectRead(
            query=_direct_sql(path),
            location=v.q(name + ":"),
            scan=lambda: scan_text(path, v.MAX_RECORD_BYTES),
            redo=lambda numbers: _redo(path, name, numbers),
        )


#: How much of a file `_head_is_plain` reads.
HEAD_BYTES = 256 << 10


def _head_is_plain(path: Path) -> bool:
    """Whether the file's first lines (up to HEAD_BYTES) are each a JSON object of known
    fields: a file whose head already has a blank or malformed line, or a key for `tags`,
    goes to the chunked read without the direct read's attempt (which would parse it whole
    only to give it up)."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    lines = head.split(b"\n")
    if len(head) == HEAD_BYTES:
        lines = lines[:-1]  # the last one may be cut
    elif lines and not lines[-1].strip():
        lines = lines[:-1]  # the file's own last newline
    for line in lines:
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):  # malformed, or nested too deep for Python
            return False
        if not isinstance(rec, dict):
            return False
        if any(k not in v.INPUT_FIELDS and val is not None for k, val in rec.items()):
            return False
    return True


#: A key's colon with a value (`lines.key_colons`), in the text of a JSON object.
_VALUED_KEY = r'"[ \t\r]*:[ \t\r]*([^n \t\r]|n[^u]|nu[^l]|nul[^l])'


def _direct_sql(path: Path) -> str:
    """`DirectRead.query` for `path`: each record's known fields as text, as the exact
    path reads them (a JSON boolean in a number field stays `true` and is rejected). Lines
    longer than the record limit are not accepted (`scan_text`); so `_size` stays NULL.

    `_p` counts, as the scan does, the keys with a value inside a `tags` object too, but
    only where that count is certain (the object's text holds no escape, so no string in it
    holds a quote); anywhere else it counts fewer than the scan, and the file is not
    accepted. It can never count more, so an equal count leaves no room for an unknown key.
    """
    struct = (
        "{"
        + ", ".join(f'"{f}": "{"JSON" if f == "tags" else "VARCHAR"}"' for f in v.INPUT_FIELDS)
        + "}"
    )
    source = (
        f"read_json({v.q(str(path))}, format = 'newline_delimited', "
        f"columns = {struct}, compression = 'uncompressed')"
    )
    cols = ", ".join(
        """json_transform(tags, '"VARCHAR"') AS tags, tags AS _tags_json""" if f == "tags" else f
        for f in v.INPUT_FIELDS
    )
    present = " + ".join(f"({f} IS NOT NULL)::INTEGER" for f in v.INPUT_FIELDS)
    nested = (
        "CASE WHEN json_type(_tags_json) = 'OBJECT' AND NOT contains(_tags_json, chr(92)) "
        f"THEN len(regexp_extract_all(_tags_json, {v.q(_VALUED_KEY)})) ELSE 0 END"
    )
    meta = (
        "NULL::BIGINT AS _pos, NULL::VARCHAR AS _loc, NULL::VARCHAR AS _raw, "
        "NULL::BIGINT AS _size, NULL::VARCHAR AS _error, NULL::MAP(VARCHAR, VARCHAR) AS _extra"
    )
    cand = (
        f"(SELECT {meta}, {', '.join(v.INPUT_FIELDS)}, {present} + {nested} AS _p "
        f"FROM (SELECT {cols} FROM {source}))"
    )
    fields = ", ".join(n for n in EVENT_SCHEMA.names if n not in ("source", "ingest_id"))
    return f"SELECT {fields}, _reason, _p FROM ({v.validation_sql(cand, _JSONL_TYPES, ['_p'])})"


def _redo(path: Path, name: str, numbers: list[int]) -> list[Rejected] | None:
    """The chunked read's rejections of lines `numbers` (exact path: its reasons and raw
    lines); None when it would keep any of them."""
    picked = pick_lines(path, numbers)
    if len(picked) != len(numbers):
        return None
    data = b"".join(picked)
    ends = np.cumsum([len(x) for x in picked], dtype=np.int64)
    arr, errors = _to_lines(data if data.endswith(b"\n") else data + b"\n", None)
    if errors or len(arr) != len(numbers):
        return None
    table = pa.table(
        {
            "_pos": pa.array(numbers, pa.int64()),
            "line": arr,
            "_e": pa.nulls(len(numbers), pa.string()),
            "_c": key_colons(np.frombuffer(data, dtype=np.uint8), ends),
        }
    )
    out = _validate_lines(v.connect(), table, name, fast=False)
    events, rejected = v.Validator(locate=lambda pos: f"{name}:{pos}").split(out)
    return None if events.num_rows else _explain_malformed(rejected)


def read_jsonl(path: Path, name: str | None = None) -> JsonlChunks:
    """Native JSON lines (plain or gzip)."""
    return JsonlChunks(path, name or str(path))


# -- columnar sources (CSV, Parquet) --------------------------------------------------------------
def _columns_candidates(columns: Iterable[str], loc: str) -> str:
    """Candidate rows from the registered table `_cols`: known columns by name, the others
    collected into `_extra` (non-null values only)."""
    cols = list(columns)
    known = [c for c in cols if c in v.INPUT_FIELDS]
    unknown = [c for c in cols if c not in v.INPUT_FIELDS and not c.startswith("_")]
    extra = "NULL"
    if unknown:
        entries = ", ".join(
            f"struct_pack(key := {v.q(c)}, value := CAST({_ident(c)} AS VARCHAR))" for c in unknown
        )
        extra = f"map_from_entries(list_filter([{entries}], e -> e.value IS NOT NULL))"
    sel = ", ".join(_ident(c) for c in known)
    return f"""(SELECT _pos, {loc} AS _loc, NULL AS _raw, _size, _error,
        {sel}{", " if sel else ""}{extra} AS _extra FROM _cols)"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run_columns(
    con: duckdb.DuckDBPyConnection,
    table: pa.Table,
    loc: str,
    val: v.Validator,
    raw_of: Callable[[int], str],
) -> Chunk:
    data_cols = [c for c in table.column_names if not c.startswith("_")]
    types = {c: table.schema.field(c).type for c in data_cols if c in v.INPUT_FIELDS}
    types.update({m: pa.string() for m in v.META_COLUMNS})
    con.register("_cols", table)
    try:
        out = v._as_table(
            con.execute(v.validation_sql(_columns_candidates(data_cols, loc), types)).arrow()
        )
    finally:
        con.unregister("_cols")
    events, rejected = val.split(out)
    rejected = [
        r if r.raw else Rejected(r.location, r.reason, raw_of_loc(r, raw_of)) for r in rejected
    ]
    return Chunk(events, rejected, rows_read=events.num_rows + len(rejected))


def raw_of_loc(r: Rejected, raw_of: Callable[[int], str]) -> str:
    tail = r.location.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]
    return raw_of(int(tail))[: v.MAX_RAW_CHARS] if tail.isdigit() else ""


def read_parquet(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """Parquet in record batches; locations are `file:row N` (1-based)."""
    name = name or str(path)
    con = v.connect()
    val = v.Validator(locate=lambda pos: f"{name}:row {pos}")
    first = 1
    for batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
        n = batch.num_rows
        table = pa.Table.from_batches([batch])
        table = _with_meta(table, first, [None] * n)
        rows = batch

        def raw_of(pos: int, rows: pa.RecordBatch = rows, first: int = first) -> str:
            return json.dumps(rows.slice(pos - first, 1).to_pylist()[0], default=str)

        yield _run_columns(con, table, f"{v.q(name + ':row ')} || _pos", val, raw_of)
        first += n


def _with_meta(table: pa.Table, first: int, errors: list[str | None]) -> pa.Table:
    n = table.num_rows
    table = table.append_column("_pos", pa.array(range(first, first + n), pa.int64()))
    table = table.append_column("_size", pa.nulls(n, pa.int64()))
    return table.append_column("_error", pa.array(errors, pa.string()))


# -- CSV --------------------------------------------------------------------------------------
def _text_lines(path: Path) -> Iterator[str]:
    """Decoded lines (newline kept) of a plain or gzip file; raises _Broken when cut short."""
    pending = b""
    for data in raw_blocks(path):
        pending += data
        cut = pending.rfind(b"\n") + 1
        if cut:
            text = pending[:cut].decode("utf-8", "replace")
            pending = pending[cut:]
            yield from text.splitlines(keepends=True)
    if pending:
        yield pending.decode("utf-8", "replace")


def _csv_rows(path: Path, name: str) -> Iterator[tuple[int, list[str] | Rejected]]:
    """(line, fields) per CSV record, or a Rejected for a truncated file."""
    lines = _text_lines(path)
    reader = csv.reader(lines)
    last = 0
    try:
        for fields in reader:
            yield last + 1, fields
            last = reader.line_num
    except (_Broken, csv.Error) as e:
        reason = f"{e}: the file ends inside or before this line; lines from here on are lost"
        yield last + 1, Rejected(f"{name}:{last + 1}", reason, "")


def read_csv(path: Path, name: str | None = None) -> Iterator[Chunk]:
    """CSV with a header row of event field names; locations are `file:line`."""
    name = name or str(path)
    con = v.connect()
    val = v.Validator(locate=lambda pos: f"{name}:{pos}")
    rows = _csv_rows(path, name)
    first = next(rows, None)
    if first is None or isinstance(first[1], Rejected):
        if first is not None and isinstance(first[1], Rejected):
            yield Chunk(EVENT_SCHEMA.empty_table(), [first[1]], rows_read=1)
        return
    header = [h.strip() for h in first[1]]
    batch: list[tuple[int, list[str]]] = []
    for item in rows:
        line, fields = item
        if isinstance(fields, Rejected):
            yield from _csv_chunk(con, header, batch, name, val, [fields])
            return
        if fields:
            batch.append((line, fields))
        if len(batch) >= CHUNK_ROWS:
            yield from _csv_chunk(con, header, batch, name, val, [])
            batch = []
    if batch:
        yield from _csv_chunk(con, header, batch, name, val, [])


def _csv_chunk(
    con: duckdb.DuckDBPyConnection,
    header: list[str],
    batch: list[tuple[int, list[str]]],
    name: str,
    val: v.Validator,
    extra_rejected: list[Rejected],
) -> Iterator[Chunk]:
    width = len(header)
    errors = [
        None if len(f) == width else f"expected {width} fields (as in the header), got {len(f)}"
        for _, f in batch
    ]
    cols = {
        h: pa.array(
            [(f[i] if len(f) == width and f[i] != "" else None) for _, f in batch], pa.string()
        )
        for i, h in enumerate(header)
    }
    table = _with_meta(
        pa.table(cols) if cols else pa.table({}), batch[0][0] if batch else 1, errors
    )
    table = table.set_column(
        table.schema.get_field_index("_pos"), "_pos", pa.array([ln for ln, _ in batch], pa.int64())
    )
    by_line = {ln: f for ln, f in batch}

    def raw_of(pos: int) -> str:
        return ",".join(by_line.get(pos, []))

    chunk = _run_columns(con, table, f"{v.q(name + ':')} || _pos", val, raw_of)
    chunk.rejected.extend(extra_rejected)
    chunk.rows_read += len(extra_rejected)
    yield chunk
