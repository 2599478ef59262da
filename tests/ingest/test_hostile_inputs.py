"""Hostile and careless files (issue 22, items 1-8): every malformed record becomes a
quarantine entry with its location and a reason, and every good record is kept, whatever the
bytes. Each file below is small and hand-made; the counts are worked out by hand."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from unitecon.cli.main import run
from unitecon.ingest import lines as lines_mod
from unitecon.ingest import read_path
from unitecon.ingest.validate import MAX_UNITS, MIN_SAMPLE_RATE
from unitecon.ledger.schema import MAX_TOKENS
from unitecon.ledger.store import Ledger

HEADER = "event_id,ts,provider,model,input_tokens,output_tokens"


def rec(i: int | str, **kw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "event_id": f"e{i}",
        "ts": "2025-03-01T10:00:00Z",
        "provider": "openai",
        "model": "gpt-4o",
        "input_tokens": 100,
        "output_tokens": 20,
    }
    r.update(kw)
    return r


def jsonl(n: int, start: int = 0) -> list[bytes]:
    return [json.dumps(rec(i)).encode() for i in range(start, start + n)]


def csv_rows(n: int, prefix: str = "c") -> list[str]:
    return [f"{prefix}{i},2025-03-01T10:00:00Z,openai,gpt-4o,100,20" for i in range(n)]


def ingest(path: Path) -> tuple[Any, list[str]]:
    with Ledger() as led:
        res = led.ingest(str(path), read_path(path), fmt=None)
        ids = [r["event_id"] for r in led.rows("SELECT event_id FROM events ORDER BY 1")]
    return res, ids


def reasons(path: Path) -> dict[str, str]:
    return {r.location: r.reason for c in read_path(path) for r in c.rejected}


# -- 1. invalid UTF-8 and binary garbage --------------------------------------------------------
def test_invalid_utf8_line_costs_only_itself(tmp_path: Path) -> None:
    lines = jsonl(40)
    lines.insert(10, b'{"event_id": "bad\xff", "ts": "2025-03-01T10:00:00Z", "model": "x"}')
    f = tmp_path / "utf8.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    res, _ids = ingest(f)
    assert (res.accepted, res.quarantined) == (40, 1)
    assert reasons(f) == {f"{f}:11": "not valid UTF-8 at byte 17"}  # `{"event_id": "bad` is 17


def test_binary_garbage_and_nuls_cost_only_their_lines(tmp_path: Path) -> None:
    lines = jsonl(40)
    lines.insert(5, bytes(range(256)).replace(b"\n", b""))
    lines.insert(20, b"\x00" * 50)
    f = tmp_path / "garbage.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    res, _ = ingest(f)
    assert (res.accepted, res.quarantined) == (40, 2)
    assert sorted(reasons(f)) == sorted([f"{f}:6", f"{f}:21"])


def test_invalid_utf8_in_csv_is_quarantined_not_replaced(tmp_path: Path) -> None:
    f = tmp_path / "bad8.csv"
    body = "\n".join([HEADER, *csv_rows(20)]).encode()
    f.write_bytes(body + b"\nx1,2025-03-01T10:00:00Z,openai,gpt\xff,1,1\n")
    res, ids = ingest(f)
    assert (res.accepted, res.quarantined) == (20, 1)
    assert "x1" not in ids
    # line 22: header + 20 rows; `x1,2025-03-01T10:00:00Z,openai,gpt` is 34 bytes
    assert reasons(f) == {f"{f}:22": "not valid UTF-8 at byte 34"}


def test_one_unreadable_file_never_stops_the_others(tmp_path: Path) -> None:
    bad = tmp_path / "a.parquet"
    bad.write_bytes(b"PAR1 this is not parquet at all")
    good = tmp_path / "b.jsonl"
    good.write_bytes(b"\n".join(jsonl(3)) + b"\n")
    assert run(["ingest", str(bad), str(good), "--json"]) == 4  # stored, one file quarantined
    with Ledger() as led:
        assert led.count() == 3
        (q,) = led.quarantine()
    assert q["location"] == str(bad) and "cannot read as Parquet" in q["reason"]


# -- 2. byte-order marks and UTF-16 -----------------------------------------------------------
@pytest.mark.parametrize(
    ("prefix", "codec"),
    [(b"\xef\xbb\xbf", "utf-8"), (b"", "utf-16"), (b"", "utf-16-le"), (b"", "utf-16-be")],
)
def test_csv_with_a_bom_or_in_utf16_keeps_its_ids(
    tmp_path: Path, prefix: bytes, codec: str
) -> None:
    text = "\n".join([HEADER, *csv_rows(20)]) + "\n"
    marked = tmp_path / "marked.csv"
    marked.write_bytes(prefix + text.encode(codec))  # "utf-16" writes its own BOM
    plain = tmp_path / "plain.csv"
    plain.write_text(text)
    res, ids = ingest(marked)
    assert res.accepted == 20 and ids == sorted(f"c{i}" for i in range(20))
    again, ids = ingest(plain)  # the same rows without the mark: the same events
    assert (again.accepted, again.duplicates, len(ids)) == (0, 20, 20)


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16"])
def test_jsonl_with_a_bom_or_in_utf16(tmp_path: Path, codec: str) -> None:
    f = tmp_path / "marked.jsonl"
    f.write_bytes(("\n".join(json.dumps(rec(i)) for i in range(5)) + "\n").encode(codec))
    res, ids = ingest(f)
    assert (res.accepted, res.quarantined) == (5, 0)
    assert ids == [f"e{i}" for i in range(5)]


# -- 3. bounded quantities ----------------------------------------------------------------------
def test_huge_units_and_tiny_sample_rates_are_refused_at_ingest(tmp_path: Path) -> None:
    rows = [
        rec(1, units=1e13, unit_type="web_search"),
        rec(2, sample_rate=1e-300),
        rec(3),
        rec(4, units=MAX_UNITS, unit_type="web_search"),  # at the limit: kept
        rec(5, sample_rate=MIN_SAMPLE_RATE),  # at the limit: kept (100 / 1e-6 = 1e8)
        rec(6, input_tokens=100_000_000, output_tokens=0, sample_rate=0.001),  # 1e11 > 1e10
        rec(7, duration_ms=1e300),
        rec(8, units=20, unit_type="web_search", sample_rate=1e-6),  # 2e7 > 1e7
    ]
    f = tmp_path / "big.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    _res, ids = ingest(f)
    assert ids == ["e3", "e4", "e5"]
    got = reasons(f)
    assert "units: '10000000000000.0' is over the limit of 1,000,000 " in got[f"{f}:1"]
    assert "sample_rate: '1e-300' is under the limit of 1e-06" in got[f"{f}:2"]
    assert (
        "a token count divided by sample_rate is 100000000000, over the limit of " in got[f"{f}:6"]
    )
    assert "duration_ms" in got[f"{f}:7"]
    assert "units divided by sample_rate is 20000000, over the limit of 10,000,000" in got[f"{f}:8"]


def test_every_report_runs_on_events_at_the_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the limits, `costs`, `unit`, `outcomes`, `anomalies` and `coverage` crashed
    with a decimal overflow on a 1e13-unit or 1e-300-sample-rate event."""
    cfg = tmp_path / "unitecon.yaml"
    cfg.write_text("unit_prices:\n  - unit_type: web_search\n    usd_per_unit: '0.01'\n")
    rows = [
        rec(1, units=1e13, unit_type="web_search", model=None),
        rec(2, sample_rate=1e-300),
        rec(3, units=MAX_UNITS, unit_type="web_search", model=None, sample_rate=0.1),
        rec(4, sample_rate=MIN_SAMPLE_RATE, input_tokens=10_000, output_tokens=10_000),
        rec(5, input_tokens=MAX_TOKENS, output_tokens=MAX_TOKENS, sample_rate=0.01),
    ]
    f = tmp_path / "limits.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert run(["ingest", str(f), "--json"]) in (0, 4)  # 4: stored, some quarantined
    for argv in (["costs"], ["unit"], ["outcomes"], ["anomalies"], ["coverage"]):
        capsys.readouterr()
        assert run([*argv, "--json"]) == 0, (argv, capsys.readouterr().err)
    capsys.readouterr()
    assert run(["costs", "--by", "model", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    web = next(r for r in out["rows"] if r["dims"]["model"] is None)
    # 1e6 units x $0.01 = $1e4, weighted by 1/0.1 = 10: $1e5
    assert float(web["cost"]) == pytest.approx(1e5)


# -- 4. decompression bombs and overlong lines -------------------------------------------------
def test_gzip_bomb_is_stopped_and_the_lines_before_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines_mod, "GZIP_RATIO_FREE_BYTES", 1 << 20)
    f = tmp_path / "bomb.jsonl.gz"
    # 3 good lines then 40 MiB of zeros: zlib packs them ~1000:1, far over the 200x limit
    f.write_bytes(gzip.compress(b"\n".join(jsonl(3)) + b"\n" + b"\0" * (40 << 20), 9))
    _res, ids = ingest(f)
    assert ids == ["e0", "e1", "e2"]
    (reason,) = reasons(f).values()
    assert "gzip expands over 200x its compressed size (a decompression bomb?)" in reason


def test_gzip_bomb_in_a_format_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lines_mod, "GZIP_RATIO_FREE_BYTES", 1 << 20)
    f = tmp_path / "bomb.json.gz"
    f.write_bytes(gzip.compress(b'{"resourceSpans": [' + b" " * (40 << 20), 9))
    (reason,) = reasons(f).values()
    assert "decompression bomb" in reason


def test_a_line_too_long_to_hold_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines_mod, "MAX_LINE_BYTES", 1 << 20)
    monkeypatch.setattr(lines_mod, "READ_BYTES", 1 << 16)
    big = b'{"ts": "' + b"x" * (3 << 20) + b'"}'
    f = tmp_path / "long.jsonl"
    f.write_bytes(b"\n".join([*jsonl(2), big, *jsonl(2, start=2)]) + b"\n")
    _res, ids = ingest(f)
    assert ids == ["e0", "e1", "e2", "e3"]
    assert list(reasons(f)) == [f"{f}:3"]


# -- 5. hostile column names ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra", [["e", "_pos"], ["_error", "_size"], ['we"ird', "x y"], ["e", "e"]]
)
def test_any_column_names(tmp_path: Path, extra: list[str]) -> None:
    header = HEADER + "," + ",".join(f'"{c.replace(chr(34), 2 * chr(34))}"' for c in extra)
    f = tmp_path / "cols.csv"
    f.write_text("\n".join([header, *(r + ",a,b" for r in csv_rows(5))]) + "\n")
    res, _ = ingest(f)
    assert (res.accepted, res.quarantined) == (5, 0)
    p = tmp_path / "cols.parquet"
    cols = {n: [f"p{i}" for i in range(5)] if n == "event_id" else ["x"] * 5 for n in ["event_id"]}
    table = pa.table(
        {
            **cols,
            "ts": ["2025-03-01T10:00:00Z"] * 5,
            "model": ["gpt-4o"] * 5,
            "input_tokens": [1] * 5,
        }
    )
    for i, c in enumerate(extra):
        table = table.append_column(pa.field(c, pa.int64()), pa.array([i] * 5))
    pq.write_table(table, p)
    res, _ids = ingest(p)
    assert (res.accepted, res.quarantined) == (5, 0)


def test_parquet_gzipped_and_unreadable(tmp_path: Path) -> None:
    table = pa.table(
        {"event_id": ["p1", "p2"], "ts": ["2025-03-01T10:00:00Z"] * 2, "model": ["m"] * 2}
    )
    p = tmp_path / "t.parquet"
    pq.write_table(table, p)
    gz = tmp_path / "t.parquet.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    _res, ids = ingest(gz)
    assert ids == ["p1", "p2"]
    broken = tmp_path / "cut.parquet"
    broken.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    got = reasons(broken)
    assert list(got) == [str(broken)] and "cannot read as Parquet" in got[str(broken)]


# -- 6/7. OTLP JSON values, deep nesting ------------------------------------------------------
def _span(i: int, **over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "traceId": "0" * 31 + "1",
        "spanId": f"{i:016x}",
        "name": "chat gpt-4o",
        "startTimeUnixNano": "1740823200000000000",
        "endTimeUnixNano": "1740823201000000000",
        "attributes": [
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "100"}},
        ],
    }
    s.update(over)
    return s


def _attr(key: str, value: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": "gen_ai.request.model", "value": {"stringValue": "m"}},
        {"key": key, "value": value},
    ]


BAD_SPANS = [
    ({"startTimeUnixNano": "abc"}, "startTimeUnixNano: expected an integer, got 'abc'"),
    ({"attributes": _attr("gen_ai.usage.input_tokens", {"intValue": "NaN"})}, "intValue"),
    ({"attributes": _attr("gen_ai.usage.input_tokens", {"intValue": 1.5})}, "got '1.5'"),
    ({"attributes": _attr("x", {"bytesValue": "!!!"})}, "base64"),
    ({"attributes": {"gen_ai.request.model": "m"}}, "attributes: expected a list"),
    ({"status": "weird"}, "AttributeError"),
]


def otlp_doc(extra_spans: list[dict[str, Any]]) -> dict[str, Any]:
    spans = [_span(i) for i in range(10)] + extra_spans
    return {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": spans}]}]}


def test_otlp_json_bad_values_cost_only_their_span(tmp_path: Path) -> None:
    bad = [_span(100 + i, **over) for i, (over, _) in enumerate(BAD_SPANS)]
    f = tmp_path / "edge.json"
    f.write_text(json.dumps(otlp_doc(bad)))
    res, _ids = ingest(f)
    assert (res.accepted, res.quarantined) == (10, len(BAD_SPANS))
    got = reasons(f)
    for i, (_, why) in enumerate(BAD_SPANS):
        assert why in got[f"{f}#{100 + i:016x}"]


def test_deeply_nested_json_is_a_rejection(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    f = tmp_path / "deep.json"
    f.write_text('{"resourceSpans": ' + deep + "}")
    got = reasons(f)
    assert len(got) == 1 and "malformed JSON" in next(iter(got.values()))
    j = tmp_path / "deep.jsonl"
    j.write_text("\n".join([json.dumps(rec(1)), '{"a": ' + deep + "}", json.dumps(rec(2))]) + "\n")
    res, ids = ingest(j)
    assert (ids, res.quarantined) == (["e1", "e2"], 1)
    # a span whose attribute value nests deeper than the decoder follows: that span alone
    doc = json.dumps(otlp_doc([]))
    inner = '{"arrayValue": {"values": [' * 200 + '{"stringValue": "x"}' + "]}}" * 200
    span = json.dumps(_span(99, attributes=_attr("app.deep", {"stringValue": "@"})))
    span = span.replace('{"stringValue": "@"}', inner)
    k = tmp_path / "deepspan.json"
    k.write_text(doc.replace('"spans": [', '"spans": [' + span + ", ", 1))
    res, ids = ingest(k)
    assert (res.accepted, res.quarantined) == (10, 1)
    assert "nested over 64 levels" in reasons(k)[f"{k}#{99:016x}"]


# -- 8. CSV quoting, huge fields, line endings ---------------------------------------------------
def test_csv_unterminated_quote_costs_one_line(tmp_path: Path) -> None:
    rows = csv_rows(20)
    rows.insert(2, 'q1,2025-03-01T10:00:00Z,openai,"gpt-4o,100,20')
    f = tmp_path / "quote.csv"
    f.write_text("\n".join([HEADER, *rows]) + "\n")
    res, _ids = ingest(f)
    assert (res.accepted, res.quarantined) == (20, 1)
    got = reasons(f)
    assert list(got) == [f"{f}:4"] and "unterminated quoted field" in got[f"{f}:4"]


def test_csv_quoted_newlines_still_read_as_one_record(tmp_path: Path) -> None:
    f = tmp_path / "multi.csv"
    f.write_text(HEADER + ",note\n" + 'c1,2025-03-01T10:00:00Z,openai,gpt-4o,1,1,"two\nlines"\n')
    with Ledger() as led:
        led.ingest(str(f), read_path(f))
        (row,) = led.rows("SELECT tags FROM events")
    assert dict(row["tags"]) == {"note": "two\nlines"}


def test_csv_huge_field_costs_one_line(tmp_path: Path) -> None:
    rows = csv_rows(20)
    rows.insert(2, "h1,2025-03-01T10:00:00Z,openai," + "x" * 200_000 + ",100,20")
    f = tmp_path / "huge.csv"
    f.write_text("\n".join([HEADER, *rows]) + "\n")
    res, _ids = ingest(f)
    assert (res.accepted, res.quarantined) == (20, 1)
    assert "over the limit of 1024" in reasons(f)[f"{f}:4"]


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_csv_any_line_ending(tmp_path: Path, end: str) -> None:
    f = tmp_path / "ends.csv"
    f.write_bytes(end.join([HEADER, *csv_rows(20)]).encode() + end.encode())
    res, _ids = ingest(f)
    assert (res.accepted, res.quarantined, res.rows_read) == (20, 0, 20)


def _pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb_len(field: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _pb_varint(field << 3 | 2) + _pb_varint(len(payload)) + payload


def test_protobuf_with_one_span_too_deep_or_not_utf8_keeps_the_others(tmp_path: Path) -> None:
    from opentelemetry.proto.common.v1 import common_pb2 as cm
    from opentelemetry.proto.trace.v1 import trace_pb2

    spans = []
    for i in range(1, 6):
        s = trace_pb2.Span(trace_id=i.to_bytes(16, "big"), span_id=i.to_bytes(8, "big"))
        s.start_time_unix_nano = 1740823200000000000
        s.attributes.add(key="gen_ai.request.model", value=cm.AnyValue(string_value="gpt-4o"))
        spans.append(bytearray(s.SerializeToString()))
    # span 2: an attribute 150 arrays deep (the parser stops at 100 levels), written by hand
    deep = cm.AnyValue(string_value="x").SerializeToString()
    for _ in range(150):  # AnyValue.array_value (5) -> ArrayValue.values (1) -> AnyValue
        deep = _pb_len(5, _pb_len(1, deep))
    spans[1] += _pb_len(9, _pb_len(1, b"app.deep") + _pb_len(2, deep))  # Span.attributes
    # span 5: its model string made invalid UTF-8 in place
    spans[4][spans[4].find(b"gpt-4o")] = 0xFF
    scope = b"".join(_pb_len(2, bytes(sp)) for sp in spans)  # ScopeSpans.spans
    body = _pb_len(1, _pb_len(2, scope))  # request.resource_spans -> scope_spans
    f = tmp_path / "deep.pb"
    f.write_bytes(body)
    res, ids = ingest(f)
    # spans 1, 3, 4 kept; span 2 (too deep) and span 5 (not UTF-8) rejected, by span id
    assert len(ids) == 3 and res.quarantined == 2
    got = reasons(f)
    assert set(got) == {f"{f}#{2:016x}", f"{f}#{5:016x}"}
    assert all("cannot decode this span" in r for r in got.values())
