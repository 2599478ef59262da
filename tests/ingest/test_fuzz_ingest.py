"""A bounded mutation fuzzer over every input format (issue 22's acceptance).

Valid files of each format (JSONL, CSV, OTLP JSON, OTLP protobuf, Parquet), each holding
records with known ids, are mutated with a seeded generator and ingested into a ledger. For
every mutated file:

* nothing crashes and nothing hangs (each ingest runs under an alarm);
* every rejected record has a location and a reason;
* where the mutation is confined to one record (one line of a line format, one span of an
  OTLP request, one row of a Parquet file), every other record is kept, as it was.

Byte-level mutations anywhere in a file (which may break the container itself, a Parquet
footer or a protobuf length) only have to pass the first two checks. About 280 files, some
gzipped: 1.5-2 minutes on a busy 2-core machine.
"""

from __future__ import annotations

import gzip
import json
import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
from opentelemetry.proto.common.v1 import common_pb2 as cm

from unitecon.ingest import read_path
from unitecon.ledger.store import Ledger

N = 12  # records per file
SEED = 22
#: Byte strings a careless or hostile writer puts in a file.
HOSTILE = [
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\x00" * 40,
    b"\r",
    b"\r\n",
    b"\n",
    b'"',
    b"'",
    b",",
    b"\\",
    b"{",
    b"}",
    b"[" * 3000,
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x1b[31m",
    b"1e400",
    b"-1",
    b"NaN",
    b"99999999999999999999999",
    b"e",
    b"_pos",
    b"x" * 300_000,
    b"\xf0\x9f\x92\xa9",
    b"\xed\xa0\x80",
]
#: JSON values for one field or attribute of one record.
HOSTILE_VALUES: list[Any] = [
    None,
    "",
    "abc",
    "NaN",
    "1.5",
    1.5,
    -1,
    10**30,
    1e308,
    True,
    [],
    {},
    [[[[[[]]]]]],
    "\x00",
    "\x1b[2J",
    "x" * 5000,
    "2025-02-30",
    "\ud800",
]


def rec(i: int) -> dict[str, Any]:
    return {
        "event_id": f"ev{i:03d}",
        "ts": f"2025-03-01T10:{i:02d}:00Z",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 100 + i,
        "output_tokens": 20,
        "customer_id": f"c{i % 3}",
    }


IDS = [rec(i)["event_id"] for i in range(N)]


# -- ingest under an alarm ----
@contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def hang(*_: Any) -> None:
        raise TimeoutError(f"the ingest took over {seconds} s (a hang?)")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def ingest(path: Path, fmt: str) -> tuple[set[str], list[Any]]:
    """The event ids stored and the quarantine rows of one ingest into a fresh ledger."""
    with alarm(30), Ledger(":memory:") as led:
        led.ingest(str(path), read_path(path, fmt), fmt=fmt)
        ids = {r["event_id"] for r in led.rows("SELECT event_id FROM events")}
        q = led.quarantine()
    for row in q:
        assert row["location"] and row["reason"], row
    return ids, q


# -- line formats: mutate one line, the others must all be kept ----
def jsonl_lines() -> list[bytes]:
    return [json.dumps(rec(i)).encode() for i in range(N)]


def csv_lines() -> list[bytes]:
    cols = list(rec(0))
    return [",".join(cols).encode()] + [
        ",".join(str(v) for v in rec(i).values()).encode() for i in range(N)
    ]


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """One random edit: flip, insert (random or hostile bytes), delete, repeat or cut."""
    kind = rng.randrange(6)
    at = rng.randrange(len(data) + 1)
    if kind == 0 and data:
        at = min(at, len(data) - 1)
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]
    if kind == 1:
        return data[:at] + rng.choice(HOSTILE) + data[at:]
    if kind == 2:
        return data[:at] + rng.randbytes(rng.randrange(1, 8)) + data[at:]
    if kind == 3:
        return data[:at] + data[at + rng.randrange(1, 20) :]
    if kind == 4:
        end = min(len(data), at + rng.randrange(1, 40))
        return data[:end] + data[at:end] * rng.randrange(1, 4) + data[end:]
    return data[:at]


def line_cases(fmt: str, count: int) -> Iterator[tuple[str, bytes, int | None]]:
    """(name, file bytes, the record index the mutation touched or None: any)."""
    rng = random.Random(f"{SEED}-{fmt}")
    make = jsonl_lines if fmt == "jsonl" else csv_lines
    head = 0 if fmt == "jsonl" else 1  # the CSV header is not a record
    for n in range(count):
        lines = make()
        if n % 4 == 3:  # anywhere in the file (the header, line ends, the end)
            data = mutate_bytes(rng, b"\n".join(lines) + b"\n")
            yield f"{fmt}-any-{n}", data, None
            continue
        i = rng.randrange(N)
        line = lines[head + i]
        while (new := mutate_bytes(rng, line)) == line:
            pass
        lines[head + i] = new
        # a mutation at the very start of the file may change how the whole file reads (a
        # byte-order mark): that one counts as touching everything
        touched = i if head + i > 0 else None
        yield f"{fmt}-line{i}-{n}", b"\n".join(lines) + b"\n", touched


def check_kept(ids: set[str], touched: int | None, q: list[Any], name: str) -> None:
    if touched is None:
        return
    want = {e for j, e in enumerate(IDS) if j != touched}
    assert want <= ids, (name, sorted(want - ids), [(r["location"], r["reason"]) for r in q])


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_fuzz_line_formats(tmp_path: Path, fmt: str) -> None:
    for n, (name, data, touched) in enumerate(line_cases(fmt, 60)):
        suffix = ".jsonl" if fmt == "jsonl" else ".csv"
        if n % 5 == 4:
            data, suffix = gzip.compress(data), suffix + ".gz"
        f = tmp_path / f"{name}{suffix}"
        f.write_bytes(data)
        ids, q = ingest(f, fmt)
        check_kept(ids, touched, q, name)
        f.unlink()


# -- OTLP JSON: one span's value or structure, or any bytes ----
def otlp_span(i: int) -> dict[str, Any]:
    return {
        "traceId": f"{i + 1:032x}",
        "spanId": f"{i + 1:016x}",
        "name": "chat gpt-4o",
        "startTimeUnixNano": str(1740823200000000000 + i * 10**9),
        "endTimeUnixNano": str(1740823201000000000 + i * 10**9),
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(100 + i)}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "20"}},
        ],
    }


SPAN_IDS = [f"{i + 1:032x}:{i + 1:016x}" for i in range(N)]


def otlp_doc(spans: list[Any]) -> dict[str, Any]:
    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": spans}]}]}


def mutate_span(rng: random.Random, span: dict[str, Any]) -> None:
    kind = rng.randrange(4)
    if kind == 0:  # a top-level field
        span[rng.choice(list(span))] = rng.choice(HOSTILE_VALUES)
    elif kind == 1:  # an attribute's value
        attr = rng.choice(span["attributes"])
        key = rng.choice(["stringValue", "intValue", "doubleValue", "boolValue", "bytesValue"])
        attr["value"] = {key: rng.choice(HOSTILE_VALUES)}
    elif kind == 2:  # an attribute's shape
        span["attributes"][rng.randrange(4)] = rng.choice(HOSTILE_VALUES)
    else:  # a nested value
        deep: dict[str, Any] = {"stringValue": "x"}
        for _ in range(rng.choice([10, 70, 300])):
            deep = {rng.choice(["arrayValue", "kvlistValue"]): {"values": [deep]}}
        span["attributes"].append({"key": "app.deep", "value": deep})


def test_fuzz_otlp_json(tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}-otlp-json")
    for n in range(60):
        spans = [otlp_span(i) for i in range(N)]
        touched: int | None = None
        if n % 4 == 3:
            raw = mutate_bytes(rng, json.dumps(otlp_doc(spans)).encode())
        else:
            touched = rng.randrange(N)
            mutate_span(rng, spans[touched])
            raw = json.dumps(otlp_doc(spans)).encode()
        f = tmp_path / f"otlp-{n}.json"
        f.write_bytes(raw)
        ids, q = ingest(f, "otlp-json")
        if touched is not None:
            want = {s for j, s in enumerate(SPAN_IDS) if j != touched}
            assert want <= ids, (n, sorted(want - ids), [(r["location"], r["reason"]) for r in q])
        f.unlink()


# -- OTLP protobuf: one span's values, or any bytes ----
def proto_request(mutate: Callable[[Any], None] | None = None) -> bytes:
    req = ts.ExportTraceServiceRequest()
    scope = req.resource_spans.add().scope_spans.add()
    for i in range(N):
        s = scope.spans.add()
        s.trace_id = (i + 1).to_bytes(16, "big")
        s.span_id = (i + 1).to_bytes(8, "big")
        s.name = "chat gpt-4o"
        s.start_time_unix_nano = 1740823200000000000 + i * 10**9
        s.end_time_unix_nano = s.start_time_unix_nano + 10**9
        for key, value in (
            ("gen_ai.request.model", cm.AnyValue(string_value="gpt-4o")),
            ("gen_ai.system", cm.AnyValue(string_value="openai")),
            ("gen_ai.usage.input_tokens", cm.AnyValue(int_value=100 + i)),
            ("gen_ai.usage.output_tokens", cm.AnyValue(int_value=20)),
        ):
            s.attributes.add(key=key, value=value)
    if mutate is not None:
        mutate(scope)
    return bytes(req.SerializeToString())


PROTO_VALUES = [
    cm.AnyValue(int_value=-(2**63)),
    cm.AnyValue(int_value=2**63 - 1),
    cm.AnyValue(double_value=float("nan")),
    cm.AnyValue(double_value=float("inf")),
    cm.AnyValue(string_value="\x00\x1b[2J"),
    cm.AnyValue(string_value="x" * 5000),
    cm.AnyValue(bool_value=True),
    cm.AnyValue(bytes_value=b"\xff" * 10),
    cm.AnyValue(),
]


def test_fuzz_otlp_protobuf(tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}-otlp-proto")
    for n in range(50):
        touched: int | None = None
        if n % 3 == 2:
            raw = mutate_bytes(rng, proto_request())
        else:
            touched = rng.randrange(N)

            def mutate(scope: Any, i: int = touched) -> None:
                s = scope.spans[i]
                kind = rng.randrange(3)
                if kind == 0:
                    s.attributes[rng.randrange(4)].value.CopyFrom(rng.choice(PROTO_VALUES))
                elif kind == 1:
                    s.start_time_unix_nano = rng.choice([0, 1, 2**64 - 1])
                else:
                    s.span_id = rng.choice([b"", b"\x00" * 3, b"\xff" * 40])

            raw = proto_request(mutate)
        f = tmp_path / f"otlp-{n}.pb"
        f.write_bytes(raw)
        ids, q = ingest(f, "otlp-proto")
        if touched is not None:
            want = {s for j, s in enumerate(SPAN_IDS) if j != touched}
            assert want <= ids, (n, sorted(want - ids), [(r["location"], r["reason"]) for r in q])
        f.unlink()


# -- Parquet: one row's cell, or any bytes ----
def test_fuzz_parquet(tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}-parquet")
    base = tmp_path / "base.parquet"
    rows = [rec(i) for i in range(N)]
    pq.write_table(pa.Table.from_pylist(rows), base)
    for n in range(60):
        f = tmp_path / f"p-{n}.parquet"
        touched: int | None = None
        if n % 3 == 2:
            f.write_bytes(mutate_bytes(rng, base.read_bytes()))
        else:
            touched = rng.randrange(N)
            col = rng.choice([c for c in rows[0] if c != "event_id"] + ["e", "_pos", "tags"])
            value = rng.choice(HOSTILE_VALUES[:-1])  # a lone surrogate is not storable
            cells = [r.get(col) for r in rows]
            cells[touched] = value
            try:
                arr = pa.array(cells)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # mixed: all as text
                arr = pa.array([None if c is None else str(c) for c in cells])
            table = pa.Table.from_pylist(rows)
            if col in table.column_names:
                table = table.set_column(table.column_names.index(col), col, arr)
            else:
                table = table.append_column(col, arr)
            pq.write_table(table, f)
        ids, q = ingest(f, "parquet")
        if touched is not None:
            want = {e for j, e in enumerate(IDS) if j != touched}
            assert want <= ids, (n, sorted(want - ids), [(r["location"], r["reason"]) for r in q])
        f.unlink()
