"""The bad-input corpus: every bad record quarantined with file:line and a reason naming the
field and value; every good record kept. Counts below are worked out line by line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from unitecon.ingest.validate import MAX_TAG_CHARS, TRUNCATED_MARK
from unitecon.ledger.store import Ledger

GOOD = {
    "event_id": "e1",
    "ts": "2025-03-01T10:00:00Z",
    "provider": "openai",
    "model": "gpt-4o",
    "input_tokens": 1000,
    "cache_read_tokens": 400,
    "output_tokens": 200,
    "customer_id": "acme",
}


def base(**kw: object) -> str:
    rec = {"ts": "2025-03-01T10:00:00Z", "model": "gpt-4o", **kw}
    return json.dumps(rec)


CORPUS: list[str | bytes] = [
    json.dumps(GOOD),  # 1 good
    '{"event_id": "e2", "ts": ',  # 2 malformed
    base(input_tokens="many"),  # 3 wrong type
    base(output_tokens=-5),  # 4 negative
    base(input_tokens=100, cache_read_tokens=80, cache_write_tokens=30),  # 5 impossible
    base(output_tokens=10, reasoning_tokens=20),  # 6 reasoning > out
    base(input_tokens=200_000_000),  # 7 absurd
    base(input_tokens=10, cache_read_tokens=50),  # 8 cache > input
    json.dumps({"model": "gpt-4o", "input_tokens": 5}),  # 9 no ts
    json.dumps({"ts": "2025-03-01", "input_tokens": 5}),  # 10 no model
    base(status="maybe"),  # 11 unknown status
    base(service_tier="gold"),  # 12 unknown tier
    base(operation="Not An Op"),  # 13 bad operation
    base(attempt=0),  # 14 attempt < 1
    base(sample_rate=0),  # 15 sample rate
    json.dumps({**GOOD, "output_tokens": 999}),  # 16 dup id, differs
    json.dumps(GOOD),  # 17 dup id, same: kept
    "",  # 18 blank: skipped
    base(event_id="big-tag", notes="x" * 10_000),  # 19 huge tag: cut
    base(event_id="big-rec", blob="y" * 1_100_000),  # 20 huge record
    json.dumps(
        {
            "ts": 1740823200,
            "model": "claude-sonnet-4-5",
            "provider": "anthropic",
            "service_tier": "flex",
            "region": "eu",
            "input_tokens": 7,
        }
    ),  # 21 good
    "[1, 2]",  # 22 not an object
    b'{"ts": "2025-03-01", "model": "m\xff\xfe"}',  # 23 bad UTF-8
    json.dumps({"ts": 1740823200123, "operation": "invoke_agent", "agent": "boss"}),  # 24
    base(ts="yesterday"),  # 25 bad ts
    base(input_tokens=1.5),  # 26 fractional
]


def write_corpus(path: Path) -> Path:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in CORPUS)
    path.write_bytes(data)
    return path


def test_each_bad_line_is_rejected_with_its_line_and_reason(tmp_path: Path, read) -> None:
    f = write_corpus(tmp_path / "corpus.jsonl")
    res = read(f)
    got = res.by_location()
    n = str(f)
    assert sorted(int(loc.rsplit(":", 1)[1]) for loc in got) == [
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        20,
        22,
        23,
        25,
        26,
    ]
    assert got[f"{n}:2"].startswith("malformed JSON")
    assert got[f"{n}:3"] == "input_tokens: expected a whole number, got 'many'"
    assert got[f"{n}:4"] == "output_tokens: negative count '-5'"
    assert got[f"{n}:5"].startswith(
        "cache_read_tokens + cache_write_tokens (110) exceed input_tokens (100)"
    )
    assert got[f"{n}:6"].startswith("reasoning_tokens (20) exceeds output_tokens (10)")
    assert "over the limit of 100,000,000 tokens" in got[f"{n}:7"]
    assert got[f"{n}:8"].startswith("cache_read_tokens (50) exceeds input_tokens (10)")
    assert got[f"{n}:9"] == "ts: missing (required)"
    assert got[f"{n}:10"].startswith("model: missing")
    assert got[f"{n}:11"] == "status: unknown value 'maybe', expected ok or error"
    assert got[f"{n}:12"].startswith("service_tier: unknown value 'gold'")
    assert got[f"{n}:13"].startswith("operation: 'Not An Op' is neither")
    assert got[f"{n}:14"] == "attempt: must be 1 or more, got '0'"
    assert got[f"{n}:15"] == "sample_rate: must be in (0, 1], got '0'"
    assert got[f"{n}:16"] == (
        f"event_id: duplicate 'e1' with different content; first seen at {n}:1"
    )
    assert got[f"{n}:20"].startswith("record is 11")
    assert got[f"{n}:22"] == "expected a JSON object of event fields"
    assert got[f"{n}:23"].startswith("not valid UTF-8")
    assert got[f"{n}:25"].startswith("ts: cannot read 'yesterday'")
    assert got[f"{n}:26"] == "input_tokens: expected a whole number, got '1.5'"
    assert res.rows_read == 25  # 26 lines minus the blank one


def test_every_good_line_is_kept_with_its_values(tmp_path: Path, read) -> None:
    f = write_corpus(tmp_path / "corpus.jsonl")
    rows = {r["source"].rsplit(":", 1)[1]: r for r in read(f).rows}
    assert sorted(rows, key=int) == ["1", "17", "19", "21", "24"]
    one = rows["1"]
    assert (one["event_id"], one["input_tokens"], one["cache_read_tokens"]) == ("e1", 1000, 400)
    assert one["ts"].isoformat() == "2025-03-01T10:00:00+00:00"
    tag = dict(rows["19"]["tags"])["notes"]
    assert tag == "x" * MAX_TAG_CHARS + TRUNCATED_MARK
    r21 = rows["21"]
    assert r21["event_id"].startswith("sha256:") and len(r21["event_id"]) == 7 + 64
    assert r21["ts"].isoformat() == "2025-03-01T10:00:00+00:00"  # epoch seconds
    assert (r21["service_tier"], dict(r21["tags"])) == ("flex", {"region": "eu"})
    r24 = rows["24"]
    assert r24["ts"].isoformat() == "2025-03-01T10:00:00.123000+00:00"  # epoch ms
    assert (r24["operation"], r24["model"], r24["agent"]) == ("invoke_agent", None, "boss")


def test_ledger_quarantines_the_corpus(tmp_path: Path) -> None:
    from unitecon.ingest import read_path

    f = write_corpus(tmp_path / "corpus.jsonl")
    with Ledger(":memory:") as led:
        res = led.ingest(str(f), read_path(f))
        assert (res.accepted, res.duplicates, res.quarantined) == (4, 1, 20)
        assert led.count() == 4
        assert {q["location"] for q in led.quarantine()} >= {f"{f}:2", f"{f}:26"}
        again = led.ingest(str(f), read_path(f))
        assert (again.accepted, again.duplicates, again.quarantined) == (0, 5, 20)
        assert len(led.quarantine()) == 20


def test_truncated_gzip_keeps_what_came_before(tmp_path: Path, read) -> None:
    lines = [
        json.dumps({**GOOD, "event_id": f"g{i}", "customer_id": f"c{i % 7}"}) for i in range(5000)
    ]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    f = tmp_path / "cut.jsonl.gz"
    f.write_bytes(whole[: len(whole) // 2])
    res = read(f)
    kept = sorted(int(r["event_id"][1:]) for r in res.rows)
    assert kept == list(range(len(kept))) and 0 < len(kept) < 5000
    assert len(res.rejected) == 1
    (rej,) = res.rejected
    assert rej.location == f"{f}:{len(kept) + 1}"
    assert "truncated gzip" in rej.reason


def test_whole_gzip_reads_like_plain(tmp_path: Path, read) -> None:
    plain = write_corpus(tmp_path / "c.jsonl")
    gz = tmp_path / "c.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = read(plain), read(gz)
    assert [r["event_id"] for r in a.rows] == [r["event_id"] for r in b.rows]
    assert [r.reason for r in a.rejected] == [
        r.reason.replace(str(gz), str(plain)) for r in b.rejected
    ]


def test_unknown_keys_found_whatever_the_spacing(tmp_path: Path, read) -> None:
    f = tmp_path / "spaced.jsonl"
    f.write_text(
        '{"ts" : "2025-03-01", "model":"m", "zone" :\t"x", "tags": {"a": 1}}\n'
        '{"ts": "2025-03-01", "model": null, "endpoint": "llama-pool", "n": "a\\":b"}\n'
        '{"ts": "2025-03-01", "model": "m"}\n'
    )
    tags = [dict(r["tags"] or {}) for r in read(f).rows]
    assert tags == [{"a": "1", "zone": "x"}, {"n": 'a":b'}, {}]


def test_values_that_fit_no_column_are_rejected_not_fatal(tmp_path: Path, read) -> None:
    """NaN, a 64-bit epoch at its limit, an attempt over 32 bits: each line is rejected
    with its reason and the good line around them is kept (they used to fail the block)."""
    f = tmp_path / "edges.jsonl"
    f.write_text(
        "\n".join(
            [
                base(input_tokens="NaN"),
                base(ts=-9223372036854775808),
                base(attempt=3_000_000_000),
                json.dumps(GOOD),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    got = read(f)
    assert got.by_location() == {
        f"{f}:1": "input_tokens: expected a whole number, got 'NaN'",
        f"{f}:2": "ts: '-9223372036854775808' is outside 2000..2099",
        f"{f}:3": "attempt: '3000000000' is over the limit of 2,147,483,647",
    }
    assert [r["event_id"] for r in got.rows] == ["e1"]
