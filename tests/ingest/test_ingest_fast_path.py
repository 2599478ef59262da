"""The JSONL fast path and the exact path it hands lines to give one result.

Plain lines are validated without their raw text or key list; a line that needs either (a
bad value, malformed JSON, unknown keys for `tags`, not an object) is re-run on the exact
path. The mix must come out as if every line had taken the exact path: the same events in
line order, and each rejection at its own `file:line` with its own reason.
"""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from unitecon.ingest import lines, native, otlp
from unitecon.ingest.lines import iter_line_blocks


def _event(i: int, **extra: object) -> str:
    rec: dict[str, object] = {
        "event_id": f"ev-{i}",
        "ts": "2026-10-01T00:00:00Z",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 100 + i,
        "output_tokens": 10,
        "duration_ms": None,
        "batch": False,
    }
    rec.update(extra)
    return json.dumps(rec)


def test_mixed_block_keeps_lines_reasons_and_tags(tmp_path: Path, read) -> None:
    f = tmp_path / "mixed.jsonl"
    text = [_event(i) for i in range(1, 11)]
    text[2] = _event(3, region="eu")  # unknown key -> tags (exact path)
    text[4] = _event(5, input_tokens=-1)  # rejected
    text[5] = '{"event_id": "ev-6", '  # malformed
    text[6] = "[1, 2]"  # not an object
    text[7] = ""  # blank: skipped
    text[8] = _event(9, zone=None)  # unknown key with a null value: no tag
    f.write_text("\n".join(text) + "\n", encoding="utf-8")
    got = read(f)
    assert [r["event_id"] for r in got.rows] == ["ev-1", "ev-2", "ev-3", "ev-4", "ev-9", "ev-10"]
    tags = {r["event_id"]: dict(r["tags"] or {}) for r in got.rows}
    assert tags["ev-3"] == {"region": "eu"} and tags["ev-9"] == {} and tags["ev-1"] == {}
    assert [r["source"] for r in got.rows][-1] == f"{f}:10"
    reasons = got.by_location()
    assert list(reasons) == [f"{f}:5", f"{f}:6", f"{f}:7"]
    assert reasons[f"{f}:5"].startswith("input_tokens: negative count")
    assert reasons[f"{f}:6"].startswith("malformed JSON")
    assert reasons[f"{f}:7"] == native.NOT_OBJECT
    assert got.rejected[0].raw == text[4]


def test_bad_value_never_taken_silently_on_the_fast_path(tmp_path: Path, read) -> None:
    f = tmp_path / "types.jsonl"
    rows = [
        _event(1, input_tokens=True),
        _event(2, input_tokens="12x"),
        _event(3, input_tokens={"n": 1}),
        _event(4, batch="maybe"),
        _event(5, input_tokens="12"),
    ]
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = read(f)
    assert sorted(got.by_location()) == [f"{f}:{i}" for i in (1, 2, 3, 4)]
    assert [(r["event_id"], r["input_tokens"]) for r in got.rows] == [("ev-5", 12)]


@pytest.mark.parametrize("zipped", [False, True])
def test_blocks_span_reads_and_keep_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zipped: bool
) -> None:
    monkeypatch.setattr(lines, "READ_BYTES", 256)
    data = "".join(_event(i) + "\n" for i in range(1, 101)) + _event(101)
    f = tmp_path / ("many.jsonl.gz" if zipped else "many.jsonl")
    f.write_bytes(gzip.compress(data.encode()) if zipped else data.encode())
    blocks = [b for b in iter_line_blocks(f, 30) if len(b.lines)]
    assert [(b.first, len(b.lines)) for b in blocks] == [
        (1, 30),
        (31, 30),
        (61, 30),
        (91, 10),
        (101, 1),
    ]
    assert json.loads(blocks[1].lines[0].as_py())["event_id"] == "ev-31"


def test_decode_request_reuses_one_connection_per_thread() -> None:
    body = json.dumps({"resourceSpans": []}).encode()
    otlp.decode_request(body, "application/json", None, "http")
    mine = otlp._thread_con()
    otlp.decode_request(body, "application/json", None, "http")
    assert otlp._thread_con() is mine
    other: list[object] = []
    t = threading.Thread(target=lambda: other.append(otlp._thread_con()))
    t.start()
    t.join()
    assert other and other[0] is not mine


def test_typed_fast_path_gives_the_text_paths_values(tmp_path: Path, read) -> None:
    """Numbers read as DOUBLE straight from JSON: strings holding numbers, exponents and
    text booleans come out as on the exact path."""
    f = tmp_path / "typed.jsonl"
    rows = [
        _event(1, input_tokens="12", units="0.3", batch="1"),
        _event(2, input_tokens=1e3, units=1e-7, batch=True, attempt="2"),
        _event(3, input_tokens=" 7", duration_ms=12.345678901234567, sample_rate="1"),
    ]
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    (block,) = [b for b in iter_line_blocks(f) if len(b.lines)]
    assert block.bools_named  # only `batch` holds a JSON boolean: the typed path runs
    got = [
        (r["input_tokens"], r["units"], r["batch"], r["attempt"], r["duration_ms"])
        for r in read(f).rows
    ]
    assert got == [
        (12, 0.3, True, 1, None),
        (1000, 1e-7, True, 2, None),
        (7, 0.0, False, 1, 12.345678901234567),
    ]


def test_boolean_in_a_number_field_is_never_read_as_one(tmp_path: Path, read) -> None:
    f = tmp_path / "boolnum.jsonl"
    rows = [_event(i) for i in range(1, 6)]
    rows[2] = _event(3, input_tokens=True)
    rows[3] = _event(4, units=False)
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    (block,) = [b for b in iter_line_blocks(f) if len(b.lines)]
    assert not block.bools_named  # so the block is read as text
    got = read(f)
    assert got.by_location() == {
        f"{f}:3": "input_tokens: expected a whole number, got 'true'",
        f"{f}:4": "units: expected a number, got 'false'",
    }
    assert [r["event_id"] for r in got.rows] == ["ev-1", "ev-2", "ev-5"]


def test_key_total_is_the_sum_of_the_line_counts() -> None:
    text = (
        b'{"a": 1, "b" :\tnull, "c":"x:y", "d" : {"e": true}}\n'
        b'  {"model":"m","n":"a\\":b","z": null }\n'
        b"[1, 2]\n"
        b'{"batch": false, "accepted":true}\n'
    )
    buf = np.frombuffer(text, np.uint8)
    ends = np.flatnonzero(buf == 10) + 1
    per_line = lines.key_colons(buf, ends).to_pylist()
    assert per_line == [4, 3, 0, 2]
    assert lines.key_total(buf) == (9, False)  # "e": true is not a boolean field
    assert lines.key_total(buf[ends[2] :]) == (2, True)


def test_unknown_key_found_when_the_block_total_differs(tmp_path: Path, read) -> None:
    """A block whose key total exceeds the known fields counts lines one by one; only the
    line with the extra key gets tags, the others are unchanged."""
    f = tmp_path / "extra.jsonl"
    rows = [_event(i) for i in range(1, 41)]
    rows[17] = _event(18, region="eu", zone=None)
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = read(f).rows
    assert [r["event_id"] for r in got] == [f"ev-{i}" for i in range(1, 41)]
    assert {r["event_id"]: dict(r["tags"]) for r in got if r["tags"]} == {"ev-18": {"region": "eu"}}


def test_a_nan_literal_is_a_value_so_an_unknown_key_beside_it_is_still_a_tag(
    tmp_path: Path, read
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "nan.jsonl"
    line = _event(1, zone="eu").replace('"batch": false', '"batch": false, "team": nan')
    f.write_text(line + "\n", encoding="utf-8")
    got = read(f)
    assert [(r["team"], dict(r["tags"] or {})) for r in got.rows] == [("nan", {"zone": "eu"})]
