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
import re
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from unitecon.ingest import validate as v
from unitecon.ingest.lines import (
    MAX_LINE_BYTES,
    LineBlock,
    _Broken,
    _to_lines,
    is_gzip,
    iter_line_blocks,
    key_colons,
    pick_lines,
    raw_blocks,
    read_whole,
    scan_csv,
    scan_text,
)
from unitecon.ledger.migrations import KEY_INPUTS
from unitecon.ledger.records import CHUNK_ROWS, Chunk, DirectRead, Rejected, Scanned
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
    import pyarrow.compute as pc  # not at the top: 0.07 s of a direct read's import

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
        except (duckdb.InvalidInputException, UnicodeDecodeError):
            # malformed JSON (DuckDB's message quotes the line, cut mid-character at times,
            # which then fails to decode: that is the same error)
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
def _data_name(i: int) -> str:
    """The column that carries the source's column `i`: the source's own names may be
    anything (`e`, `_pos`, a quote), so the query never sees them as identifiers."""
    return f"_d{i}"


def _columns_candidates(names: list[str], loc: str, source: str = "_cols") -> str:
    """Candidate rows from `source` (by default the registered table `_cols`), whose column
    `_d{i}` holds the source's column `names[i]`: known columns by name, the others
    collected into `_extra` (non-null values only). A name that comes twice is read the first
    time only; columns named with a leading `_`, or no name, are ignored."""
    firsts: dict[str, int] = {}
    for i, n in enumerate(names):
        firsts.setdefault(n, i)
    known = [(n, i) for n, i in firsts.items() if n in v.INPUT_FIELDS]
    unknown = [(n, i) for n, i in firsts.items() if n not in v.INPUT_FIELDS and n[:1] not in "_"]
    extra = "NULL"
    if unknown:
        entries = ", ".join(
            f"struct_pack(key := {v.q(n)}, value := CAST({_data_name(i)} AS VARCHAR))"
            for n, i in unknown
        )
        extra = f"map_from_entries(list_filter([{entries}], _x -> _x.value IS NOT NULL))"
    sel = ", ".join(f"{_data_name(i)} AS {n}" for n, i in known)
    return f"""(SELECT _pos, {loc} AS _loc, NULL AS _raw, _size, _error,
        {sel}{", " if sel else ""}{extra} AS _extra FROM {source})"""


def _run_columns(
    con: duckdb.DuckDBPyConnection,
    table: pa.Table,
    names: list[str],
    loc: str,
    val: v.Validator,
    raw_of: Callable[[int], str],
) -> Chunk:
    """Validate a table of the source's columns, `_d{i}` holding the column named
    `names[i]` (whatever its name), plus `_pos`, `_size`, `_error`.

    A column whose type the query cannot take (a Parquet struct of maps, say) is read as
    text instead; if even that fails, every row of the table is rejected with the reason."""
    try:
        out = _validate_columns(con, table, names, loc)
    except (duckdb.Error, pa.ArrowException, UnicodeDecodeError):
        try:
            out = _validate_columns(con, _as_text_columns(table, len(names)), names, loc)
        except (duckdb.Error, pa.ArrowException, UnicodeDecodeError) as e:
            return _reject_all(table, loc, raw_of, f"cannot read these rows' values: {e}")
    events, rejected = val.split(out)
    rejected = [
        r if r.raw else Rejected(r.location, r.reason, raw_of_loc(r, raw_of)) for r in rejected
    ]
    return Chunk(events, rejected, rows_read=events.num_rows + len(rejected))


def _column_types(names: list[str], types_of: list[pa.DataType]) -> dict[str, pa.DataType]:
    """The types of the known columns (the first of each name) and the candidate's meta
    columns, for `validate.validation_sql`."""
    firsts: dict[str, int] = {}
    for i, n in enumerate(names):
        firsts.setdefault(n, i)
    types = {n: types_of[i] for n, i in firsts.items() if n in v.INPUT_FIELDS}
    types.update({m: pa.string() for m in v.META_COLUMNS})
    return types


def _validate_columns(
    con: duckdb.DuckDBPyConnection, table: pa.Table, names: list[str], loc: str
) -> pa.Table:
    types = _column_types(
        names, [table.schema.field(_data_name(i)).type for i in range(len(names))]
    )
    con.register("_cols", table)
    try:
        return v._as_table(
            con.execute(v.validation_sql(_columns_candidates(names, loc), types)).arrow()
        )
    finally:
        con.unregister("_cols")


def _as_text_columns(table: pa.Table, n: int) -> pa.Table:
    """The data columns `_d0.._d{n-1}` of `table` as strings (JSON for nested values)."""
    for i in range(n):
        name = _data_name(i)
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            continue
        text = pa.array(
            [None if x is None else json.dumps(x, default=str) for x in col.to_pylist()],
            pa.string(),
        )
        table = table.set_column(table.schema.get_field_index(name), name, text)
    return table


def _reject_all(table: pa.Table, loc: str, raw_of: Callable[[int], str], reason: str) -> Chunk:
    prefix = loc.split("'")[1] if loc.count("'") >= 2 else ""
    rejected = [
        Rejected(f"{prefix}{pos}", reason, raw_of(pos)[: v.MAX_RAW_CHARS])
        for pos in table.column("_pos").to_pylist()
    ]
    return Chunk(EVENT_SCHEMA.empty_table(), rejected, rows_read=len(rejected))


def raw_of_loc(r: Rejected, raw_of: Callable[[int], str]) -> str:
    tail = r.location.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]
    return raw_of(int(tail))[: v.MAX_RAW_CHARS] if tail.isdigit() else ""


def _parquet_chunks(path: Path, name: str) -> Iterator[Chunk]:
    """Parquet in record batches (plain or gzip); locations are `file:row N` (1-based). A
    file that is not Parquet, or a row group that cannot be read, is one rejection naming
    the file (rows before it are kept)."""
    con = v.connect()
    val = v.Validator(locate=lambda pos: f"{name}:row {pos}")
    first = 1
    try:
        source: Any = path
        if is_gzip(path):
            source = pa.BufferReader(read_whole(path))
        batches = pq.ParquetFile(source).iter_batches(batch_size=CHUNK_ROWS)
        for batch in batches:
            n = batch.num_rows
            names = list(batch.schema.names)
            table = pa.Table.from_batches([batch])
            table = table.rename_columns([_data_name(i) for i in range(len(names))])
            table = _with_meta(table, first, [None] * n)
            rows = batch

            def raw_of(pos: int, rows: pa.RecordBatch = rows, first: int = first) -> str:
                return _parquet_raw(rows.slice(pos - first, 1))

            yield _run_columns(con, table, names, _parquet_loc(name), val, raw_of)
            first += n
    except (pa.ArrowException, OSError, _Broken, ValueError) as e:
        where = f"{name}:row {first}" if first > 1 else name
        reason = f"cannot read as Parquet ({type(e).__name__}: {str(e)[:300]}); " + (
            "rows from here on are lost" if first > 1 else "no row kept"
        )
        yield Chunk(EVENT_SCHEMA.empty_table(), [Rejected(where, reason, "")], rows_read=1)


def _parquet_loc(name: str) -> str:
    return f"{v.q(name + ':row ')} || _pos"


def _parquet_raw(row: pa.RecordBatch | pa.Table) -> str:
    """A rejected Parquet row as kept in the quarantine: its columns as JSON."""
    return json.dumps(row.to_pylist()[0], default=str)


def _plain_path(path: Path) -> bool:
    """A file DuckDB may read by its path: no glob characters (DuckDB would expand them),
    not gzip (the chunked readers inflate it with their own limits)."""
    if any(ch in str(path) for ch in "*?[]{}"):
        return False
    try:
        return not is_gzip(path)
    except OSError:
        return False


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class ParquetChunks(Iterator[Chunk]):
    """The chunks of a Parquet file (read on first `next`), and `direct()`: the same file
    as one statement for the ledger to run (DuckDB's `read_parquet`, in parallel)."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self._chunks: Iterator[Chunk] | None = None

    def __next__(self) -> Chunk:
        if self._chunks is None:
            self._chunks = _parquet_chunks(self.path, self.name)
        return next(self._chunks)

    def direct(self) -> DirectRead | None:
        """`read_parquet` into the same validation query as a record batch (the same column
        types, from the file's Arrow schema, so the same SQL), for a plain file whose column
        names DuckDB sees as they are (none twice, whatever the case). Its rows are
        numbered as the batches number them; a rejected row's entry comes from the chunked
        read of that row alone (`_parquet_redo`)."""
        if self._chunks is not None or not _plain_path(self.path):
            return None
        try:
            meta = pq.ParquetFile(self.path).metadata
            schema = meta.schema.to_arrow_schema()
            con = v.connect()
            seen = con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({v.q(str(self.path))})"
            ).fetchall()
        except (pa.ArrowException, OSError, ValueError, duckdb.Error, UnicodeDecodeError):
            return None
        names = list(schema.names)
        if [r[0] for r in seen] != names or len({n.lower() for n in names}) != len(names):
            return None
        path, name, rows = self.path, self.name, int(meta.num_rows)
        types = _column_types(names, [schema.field(i).type for i in range(len(names))])
        cols = ", ".join(f"{_ident(n)} AS {_data_name(i)}" for i, n in enumerate(names))
        source = f"(SELECT {_NO_META}, {cols} FROM read_parquet({v.q(str(path))}))"
        # the same rows numbered by DuckDB's reader (0-based `file_row_number`), in parallel
        numbered = (
            f"(SELECT file_row_number + 1 AS _pos, {_NO_SIZE}, {cols} "
            f"FROM read_parquet({v.q(str(path))}, file_row_number = true))"
        )
        ids = (
            f"SELECT {v.text_value(_ident('event_id'))} AS event_id "
            f"FROM read_parquet({v.q(str(path))})"
            if "event_id" in names
            else None
        )
        return DirectRead(
            query=_columns_direct_sql(names, source, types),
            location=v.q(name + ":row "),
            scan=lambda: Scanned(rows, 0),
            redo=lambda numbers: _parquet_redo(path, name, numbers),
            # (DuckDB refuses its row numbers for a file with a column of that name)
            numbered=None
            if "file_row_number" in {n.lower() for n in names}
            else _columns_direct_sql(names, numbered, types, numbered=True),
            ids=ids,
            keys=_parquet_keys(path, names, schema),
        )


def _parquet_keys(path: Path, names: list[str], schema: pa.Schema) -> str:
    """`DirectRead.keys` of a Parquet file: its distinct values of the key fields, through
    the validation of its rows (the same column types, so the same SQL for those fields)."""
    kept = [n for n in names if n in KEY_INPUTS]
    types = _column_types(kept, [schema.field(n).type for n in kept])
    cols = ", ".join(f"{_ident(n)} AS {_data_name(i)}" for i, n in enumerate(kept))
    source = (
        f"(SELECT DISTINCT {_NO_META}{', ' if cols else ''}{cols} "
        f"FROM read_parquet({v.q(str(path))}))"
    )
    return _columns_direct_sql(kept, source, types)


#: The meta columns of a direct read's source: its rows are numbered by the ledger.
_NO_SIZE = "NULL::BIGINT AS _size, NULL::VARCHAR AS _error"
_NO_META = f"NULL::BIGINT AS _pos, {_NO_SIZE}"


def _columns_direct_sql(
    names: list[str], source: str, types: dict[str, pa.DataType], *, numbered: bool = False
) -> str:
    """`DirectRead.query` over `source` (columns `_d{i}` and the meta columns): the event
    columns, `_reason` and `_p` (0: a columnar source's unknown columns are known); with
    `numbered`, also `_pos`, the source's own (`DirectRead.numbered`)."""
    cand = f"(SELECT *, 0 AS _p FROM {_columns_candidates(names, 'NULL::VARCHAR', source)})"
    fields = ", ".join(n for n in EVENT_SCHEMA.names if n not in ("source", "ingest_id"))
    pos = ", _pos" if numbered else ""
    return f"SELECT {fields}, _reason, _p{pos} FROM ({v.validation_sql(cand, types, ['_p'])})"


def _parquet_redo(path: Path, name: str, numbers: list[int]) -> list[Rejected] | None:
    """The chunked read's rejections of rows `numbers` (1-based): those rows read alone,
    with their types, through the same validation; None when it would keep any of them."""
    pf = pq.ParquetFile(path)
    want = np.asarray(numbers, dtype=np.int64) - 1
    sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
    starts = np.cumsum([0, *sizes])
    parts = []
    for g in np.unique(np.searchsorted(starts, want, side="right") - 1):
        at = want[(want >= starts[g]) & (want < starts[g + 1])] - starts[g]
        parts.append(pf.read_row_group(int(g)).take(pa.array(at)))
    rows = pa.concat_tables(parts) if parts else pf.schema_arrow.empty_table()
    if rows.num_rows != len(numbers):
        return None
    names = list(rows.schema.names)
    table = rows.rename_columns([_data_name(i) for i in range(len(names))])
    table = _with_meta(table, 1, [None] * rows.num_rows)
    table = table.set_column(
        table.schema.get_field_index("_pos"), "_pos", pa.array(numbers, pa.int64())
    )
    index = {n: i for i, n in enumerate(numbers)}

    def raw_of(pos: int) -> str:
        return _parquet_raw(rows.slice(index[pos], 1))

    val = v.Validator(locate=lambda pos: f"{name}:row {pos}")
    chunk = _run_columns(v.connect(), table, names, _parquet_loc(name), val, raw_of)
    return None if chunk.events.num_rows else chunk.rejected


def read_parquet(path: Path, name: str | None = None) -> ParquetChunks:
    """Parquet (plain or gzip); locations are `file:row N` (1-based)."""
    return ParquetChunks(path, name or str(path))


def _with_meta(table: pa.Table, first: int, errors: list[str | None]) -> pa.Table:
    n = table.num_rows
    table = table.append_column("_pos", pa.array(range(first, first + n), pa.int64()))
    table = table.append_column("_size", pa.nulls(n, pa.int64()))
    return table.append_column("_error", pa.array(errors, pa.string()))


# -- CSV --------------------------------------------------------------------------------------
#: A CSV record (a quoted field may span lines) is at most this many lines ...
MAX_CSV_RECORD_LINES = 1000
#: ... and characters; past either, a quote was most likely left open (`_csv_rows`).
MAX_CSV_RECORD_CHARS = v.MAX_RECORD_BYTES
_LINE_END = re.compile(rb"\r\n|\n|\r")


def _physical_lines(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(number, text with its line end, why it is bad or None) for each line of a plain or
    gzip file; `\n`, `\r\n` and a lone `\r` each end a line. A line that is not UTF-8 is
    decoded with replacement characters and flagged; one over `MAX_LINE_BYTES` is skipped to
    its end and flagged. Raises _Broken (after the lines before) when the file is cut short."""
    no = 1
    pending = b""
    skipping = False
    for data in raw_blocks(path):
        pending += data
        pos = 0
        for m in _LINE_END.finditer(pending):
            if m.end() == len(pending) and m.group() == b"\r":
                break  # a \r at the end of the block: a \n may follow in the next one
            line = pending[pos : m.end()]
            pos = m.end()
            if skipping:
                skipping = False
                yield no, "\n", _too_long_line()
            else:
                yield no, *_decoded(line)
            no += 1
        pending = pending[pos:]
        if len(pending) > MAX_LINE_BYTES:
            skipping, pending = True, b""
    if skipping:
        yield no, "\n", _too_long_line()
    elif pending:
        yield no, *_decoded(pending)


def _too_long_line() -> str:
    return f"line is over {MAX_LINE_BYTES >> 20} MiB, the limit (no record is that large); skipped"


def _decoded(line: bytes) -> tuple[str, str | None]:
    try:
        return line.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return line.decode("utf-8", "replace"), f"not valid UTF-8 at byte {e.start}"


class _RecordTooLong(Exception):
    pass


class _Feed(Iterator[str]):
    """The lines handed to `csv.reader`, remembering those taken for the current record,
    with lines pushed back to be read again."""

    def __init__(self, lines: Iterator[tuple[int, str, str | None]]) -> None:
        self.lines = lines
        self.back: deque[tuple[int, str, str | None]] = deque()
        self.taken: list[tuple[int, str, str | None]] = []
        self.chars = 0

    def start(self) -> None:
        self.taken, self.chars = [], 0

    def __next__(self) -> str:
        item = self.back.popleft() if self.back else next(self.lines)
        self.taken.append(item)
        self.chars += len(item[1])
        if len(self.taken) > MAX_CSV_RECORD_LINES or self.chars > MAX_CSV_RECORD_CHARS:
            raise _RecordTooLong(
                f"a record over {MAX_CSV_RECORD_LINES} lines or {MAX_CSV_RECORD_CHARS:,} characters"
            )
        return item[1]


_CsvRow = tuple[int, list[str], str | None]


def _csv_rows(path: Path, name: str, width: list[int]) -> Iterator[_CsvRow | Rejected]:
    """(line, fields, why the record is bad or None) per CSV record, or a Rejected.

    A record that spans lines (a quoted field holding a newline) but does not come out with
    the header's width, or runs past the record limits, is taken for a quote left open: its
    first line is rejected alone and the lines after it are read again, so one stray quote
    costs one line. A file cut short ends with one rejection. `width` holds the header's
    width once the caller knows it (empty before)."""
    feed = _Feed(_physical_lines(path))
    reader = csv.reader(feed)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_RECORD_CHARS + 1))
    while True:
        feed.start()
        error: str | None = None
        fields: list[str] | None = None
        try:
            fields = next(reader)
        except StopIteration:
            return
        except _Broken as e:
            at = feed.taken[0][0] if feed.taken else None
            reason = f"{e}: the file ends inside or before this line; lines from here on are lost"
            yield Rejected(f"{name}:{at}" if at else name, reason, "")
            return
        except (csv.Error, _RecordTooLong) as e:
            error = str(e)
        taken = feed.taken
        if not taken:
            return
        line = taken[0][0]
        bad_width = bool(fields and width and len(fields) != width[0])
        if len(taken) > 1 and (fields is None or bad_width):
            yield Rejected(
                f"{name}:{line}",
                "unterminated quoted field: a quote opened on this line does not close "
                f"where the record ends ({error or f'{len(fields or [])} fields'}); "
                f"the line is rejected alone and reading resumes at line {line + 1}",
                taken[0][1][: v.MAX_RAW_CHARS],
            )
            feed.back.extendleft(reversed(taken[1:]))
            continue
        if fields is None:
            yield Rejected(f"{name}:{line}", error or "unreadable", taken[0][1][: v.MAX_RAW_CHARS])
            continue
        bad = next((f"{e}" for _, _, e in taken if e), None)
        yield line, fields, bad


def _csv_chunks(path: Path, name: str) -> Iterator[Chunk]:
    con = v.connect()
    val = v.Validator(locate=lambda pos: f"{name}:{pos}")
    width: list[int] = []
    rows = _csv_rows(path, name, width)
    header: list[str] | None = None
    rejected: list[Rejected] = []
    for item in rows:
        if isinstance(item, Rejected):
            rejected.append(item)
            continue
        line, fields, bad = item
        if not fields:
            continue
        if bad is not None:
            rejected.append(Rejected(f"{name}:{line}", f"header: {bad}", ",".join(fields)))
            break
        header = [h.strip() for h in fields]
        break
    if header is None:
        if rejected:
            yield Chunk(EVENT_SCHEMA.empty_table(), rejected, rows_read=len(rejected))
        return
    width.append(len(header))
    batch: list[_CsvRow] = []
    for item in rows:
        if isinstance(item, Rejected):
            rejected.append(item)
        elif item[1]:
            batch.append(item)
        if len(batch) + len(rejected) >= CHUNK_ROWS:
            yield from _csv_chunk(con, header, batch, name, val, rejected)
            batch, rejected = [], []
    if batch or rejected:
        yield from _csv_chunk(con, header, batch, name, val, rejected)


class CsvChunks(Iterator[Chunk]):
    """The chunks of a CSV file (read on first `next`), and `direct()`: the same file as
    one statement for the ledger to run (DuckDB's `read_csv`, in parallel)."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self._chunks: Iterator[Chunk] | None = None

    def __next__(self) -> Chunk:
        if self._chunks is None:
            self._chunks = _csv_chunks(self.path, self.name)
        return next(self._chunks)

    def direct(self) -> DirectRead | None:
        """`read_csv` (every column as text, strict RFC 4180 quoting, no sniffing) into the
        same validation query as a chunk, for a plain file whose first line is its header.
        The ledger keeps it only when the scan (`scan_csv`) finds one record per line
        after the header and DuckDB read as many: then record N is line N + 1, as the
        chunked read numbers it. A file DuckDB cannot read strictly (a short row, a stray
        quote, bad UTF-8) fails the statement and is read in chunks, which say where."""
        if self._chunks is not None or not _plain_path(self.path):
            return None
        header = _csv_header(self.path)
        if header is None:
            return None
        path, name = self.path, self.name
        types = _column_types(header, [pa.string()] * len(header))
        columns = "{" + ", ".join(f"{v.q(_data_name(i))}: 'VARCHAR'" for i in range(len(header)))
        read = (
            f"read_csv({v.q(str(path))}, header = true, columns = {columns}}}, delim = ',', "
            "quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, "
            f"null_padding = false, compression = 'none', max_line_size = {CSV_DIRECT_LINE})"
        )
        cols = ", ".join(
            f"NULLIF({_data_name(i)}, '') AS {_data_name(i)}" for i in range(len(header))
        )
        source = f"(SELECT {_NO_META}, {cols} FROM {read})"
        return DirectRead(
            query=_columns_direct_sql(header, source, types),
            location=v.q(name + ":"),
            scan=lambda: _scan_records(path, len(header) - 1),
            redo=lambda numbers: _csv_redo(path, name, header, numbers),
            first=2,
        )


#: The longest line (bytes) a direct CSV read takes; a longer one sends the file to the
#: chunked read (which takes lines up to `MAX_LINE_BYTES`).
CSV_DIRECT_LINE = 8 << 20


def _csv_header(path: Path) -> list[str] | None:
    """The header as the chunked read takes it, when it is the file's whole first line."""
    try:
        with path.open("rb") as f:
            line = f.readline(CSV_DIRECT_LINE)
        text = line.decode("utf-8-sig")  # the chunked read drops a UTF-8 BOM too
    except (OSError, UnicodeDecodeError):
        return None
    if not text.endswith("\n") or text.count('"') % 2 or "\r" in text[:-2] or "\0" in text:
        return None
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error:
        return None
    return [h.strip() for h in fields] or None


def _scan_records(path: Path, commas: int) -> Scanned | None:
    lines = scan_csv(path, CSV_DIRECT_LINE, commas)
    return None if lines is None else Scanned(lines - 1, 0)


def _csv_redo(
    path: Path, name: str, header: list[str], numbers: list[int]
) -> list[Rejected] | None:
    """The chunked read's rejections of lines `numbers` (each one whole record, as the scan
    found); None when it would keep any of them."""
    picked = pick_lines(path, numbers)
    if len(picked) != len(numbers):
        return None
    batch: list[_CsvRow] = []
    for no, line in zip(numbers, picked, strict=True):
        try:
            batch.append((no, next(csv.reader([line.decode("utf-8")]), []), None))
        except (UnicodeDecodeError, csv.Error):
            return None
    val = v.Validator(locate=lambda pos: f"{name}:{pos}")
    chunks = list(_csv_chunk(v.connect(), header, batch, name, val, []))
    if any(c.events.num_rows for c in chunks):
        return None
    return [r for c in chunks for r in c.rejected]


def read_csv(path: Path, name: str | None = None) -> CsvChunks:
    """CSV with a header row of event field names; locations are `file:line`."""
    return CsvChunks(path, name or str(path))


def _csv_chunk(
    con: duckdb.DuckDBPyConnection,
    header: list[str],
    batch: list[_CsvRow],
    name: str,
    val: v.Validator,
    extra_rejected: list[Rejected],
) -> Iterator[Chunk]:
    width = len(header)
    errors = [
        bad
        if bad is not None
        else None
        if len(f) == width
        else f"expected {width} fields (as in the header), got {len(f)}"
        for _, f, bad in batch
    ]
    cols = {
        _data_name(i): pa.array(
            [
                (f[i] if len(f) == width and bad is None and f[i] != "" else None)
                for _, f, bad in batch
            ],
            pa.string(),
        )
        for i in range(width)
    }
    table = _with_meta(
        pa.table(cols, schema=pa.schema([(c, pa.string()) for c in cols])), 1, errors
    )
    table = table.set_column(
        table.schema.get_field_index("_pos"),
        "_pos",
        pa.array([ln for ln, _, _ in batch], pa.int64()),
    )
    by_line = {ln: f for ln, f, _ in batch}

    def raw_of(pos: int) -> str:
        return ",".join(by_line.get(pos, []))

    chunk = _run_columns(con, table, header, f"{v.q(name + ':')} || _pos", val, raw_of)
    chunk.rejected.extend(extra_rejected)
    chunk.rejected.sort(key=v._order)
    chunk.rows_read += len(extra_rejected)
    yield chunk
