"""The cost answer in columns, and its JSON text written by Arrow.

`Analysis.costs` answers with a `Costs` model: one `CostRow` object per combination of the
dimensions. A `--by customer,day` question over a year holds hundreds of thousands of rows,
and building those objects, then walking them to quantize every figure (`answers.Model`'s
serializer) and to write every value as JSON text, took most of the command's time (issue
23: 14 of 30 CPU s at 10M events). `CostTable` keeps the rows as the engine hands them back
(an Arrow table) and writes their JSON text (UTF-8) column by column:

- money with `economics.quantize.texts` (Arrow's exact decimal rounding, half-even, to the
  micro-dollar; "0" for zero), the counts as integers;
- a dimension's value through the same rule as the model's (`quantize.for_json` of its
  text, then the surface's own string encoder), once per distinct value, not per row;
- each row's object with Arrow's string concatenation, in the key order, indentation and
  separators of the surface (`JsonStyle`), spliced into the text of the answer without its
  rows, which the surface writes as before.

The text is byte for byte the one the `Costs` model gives on that surface
(`tests/analysis/test_cost_table.py` compares them on awkward values). `answer()` builds the
`Costs` model itself, for the callers that read rows in Python.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from unitecon.analysis.answers import CostRow, Costs, Filters
from unitecon.economics.quantize import for_json, texts

if TYPE_CHECKING:
    import pyarrow as pa

ZERO = Decimal(0)
COUNTS = ("events", "input_tokens", "output_tokens", "unpriced_events")
"""The integer columns of a cost row, in the order of `CostRow`'s fields."""


@dataclasses.dataclass(frozen=True)
class JsonStyle:
    """How a surface writes JSON: the indentation (None: compact, no spaces) and the JSON
    text of one string (its encoder's escaping)."""

    indent: int | None
    string: Callable[[str], str]


def dim_text(v: Any) -> str | None:
    """A dimension's value as a cost row holds it: days and months as ISO dates."""
    if v is None:
        return None
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return str(v)


@dataclasses.dataclass(frozen=True)
class CostTable:
    """`Costs` with its rows in columns: `rows` holds the first `limit` rows as
    `economics.costs.cost_table` returns them (one column per dimension of `by`, then
    `cost`, `events`, `input_tokens`, `output_tokens`, `unpriced_events`); None: no row."""

    by: list[str]
    filters: Filters
    total_cost: Decimal
    total_rows: int
    rows: pa.Table | None = None

    @classmethod
    def of(cls, by: list[str], filters: Filters, table: pa.Table, limit: int) -> CostTable:
        """The answer of all of `table`'s rows: its total, and the first `limit` (0: all)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        cost = table["cost"]
        if pa.types.is_decimal(cost.type):  # exact, however many rows and digits
            s = pc.sum(pc.cast(cost, pa.decimal256(76, max(cost.type.scale, 0)))).as_py()
            total = ZERO if s is None else s
        else:
            total = sum((Decimal(v or 0) for v in cost.to_pylist()), start=ZERO)
        shown = table.slice(0, limit) if limit else table
        return cls(by, filters, total, table.num_rows, shown)

    def header(self) -> Costs:
        """The answer without its rows."""
        return Costs(
            by=self.by,
            filters=self.filters,
            total_cost=self.total_cost,
            total_rows=self.total_rows,
            rows=[],
        )

    def answer(self) -> Costs:
        """The `Costs` model, one `CostRow` a row (values already typed by the engine)."""
        rows = [] if self.rows is None else self.rows.to_pylist()
        got = self.header()
        got.rows = [
            CostRow.model_construct(
                dims={d: dim_text(r[d]) for d in self.by},
                cost=Decimal(r["cost"] or 0),
                events=int(r["events"] or 0),
                input_tokens=int(r["input_tokens"] or 0),
                output_tokens=int(r["output_tokens"] or 0),
                unpriced_events=int(r["unpriced_events"] or 0),
            )
            for r in rows
        ]
        return got

    def json_bytes(self, header: str, style: JsonStyle) -> bytes:
        """The answer's JSON text (UTF-8): `header`, the text of `header()` on the surface,
        with its empty `rows` list replaced by the rows written column by column in
        `style`."""
        at = header.rindex("[]")  # `rows` is the last field: its empty list ends the text
        if header[at + 2 :].strip() != "}":
            raise ValueError("the header's last field is not the empty `rows` list")
        if self.rows is None or self.rows.num_rows == 0:
            return header.encode()
        return b"".join((header[:at].encode(), self._rows_text(style), header[at + 2 :].encode()))

    def _rows_text(self, style: JsonStyle) -> bytes:
        import pyarrow as pa
        import pyarrow.compute as pc

        assert self.rows is not None
        t = {name: self.rows[name].combine_chunks() for name in self.rows.column_names}
        dims = [(d, _strings(t[d], d, style)) for d in self.by]
        cost = pc.cast(pc.fill_null(texts(t["cost"]), "0"), pa.large_string())
        fields: list[tuple[str, Any]] = [
            ("dims", _object(dims, style, level=4)),
            ("cost", _quoted(cost)),
            *((k, _integers(t[k])) for k in COUNTS),
        ]
        rows = _object(fields, style, level=3)
        if style.indent is None:
            inner, close = ",", "]"
        else:
            inner = ",\n" + " " * (2 * style.indent)
            close = "\n" + " " * style.indent + "]"
        one = pa.LargeListArray.from_arrays(pa.array([0, len(rows)], pa.int64()), rows)
        body = pc.binary_join(one, pa.scalar(inner, pa.large_string()))[0]
        opening = "[" + inner.removeprefix(",")
        return b"".join((opening.encode(), body.as_buffer(), close.encode()))


def _object(fields: list[tuple[str, Any]], style: JsonStyle, level: int) -> Any:
    """Each row's JSON object of `fields` (name, JSON text of each row), written at depth
    `level` (its members one deeper), as `json.dumps` / pydantic write it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if style.indent is None:
        sep, colon, first, end = ",", ":", "", "}"
    else:
        pad = "\n" + " " * (style.indent * level)
        sep, colon, first = "," + pad, ": ", pad
        end = "\n" + " " * (style.indent * (level - 1)) + "}"
    if not fields:
        return "{}"
    parts: list[Any] = ["{" + first]
    for i, (name, values) in enumerate(fields):
        parts += [(sep if i else "") + style.string(name) + colon, values]
    parts.append(end)
    if not any(isinstance(p, pa.Array | pa.ChunkedArray) for p in parts):
        return "".join(parts)  # every value the same text
    big = pa.large_string()
    return pc.binary_join_element_wise(
        *(pa.scalar(p, big) if isinstance(p, str) else p for p in parts), pa.scalar("", big)
    )


def _strings(col: pa.Array, name: str, style: JsonStyle) -> pa.Array:
    """A dimension column as JSON text (`null` where not set): each distinct value through
    the rule of the `Costs` model's JSON (`for_json` under the dimension's name)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if col.null_count == len(col):
        return pa.array(["null"] * len(col), pa.large_string())
    coded = pc.dictionary_encode(col)
    words = [
        style.string(for_json({name: dim_text(v)})[name]) for v in coded.dictionary.to_pylist()
    ]
    return pc.fill_null(pc.take(pa.array(words, pa.large_string()), coded.indices), "null")


def _integers(col: pa.Array) -> pa.Array:
    """A count column as JSON text (0 where null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(col.type):
        return pc.cast(pc.fill_null(col, 0), pa.large_string())
    return pa.array([str(int(v or 0)) for v in col.to_pylist()], pa.large_string())


def _quoted(col: pa.Array) -> pa.Array:
    """Each text as a JSON string (money texts hold no character to escape)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    q = pa.scalar('"', pa.large_string())
    return pc.binary_join_element_wise(q, col, q, pa.scalar("", pa.large_string()))
