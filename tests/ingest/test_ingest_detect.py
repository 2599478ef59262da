from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import unitecon.ingest as ingest
from unitecon.errors import InputError
from unitecon.ingest import detect_format


def test_public_api() -> None:
    assert sorted(ingest.__all__) == ["FORMATS", "decode_request", "detect_format", "read_path"]


@pytest.mark.parametrize(
    ("name", "body", "fmt"),
    [
        ("a.jsonl", b'{"ts": 1}\n', "jsonl"),
        ("a.jsonl.gz", gzip.compress(b'{"ts": 1}\n', mtime=0), "jsonl"),
        ("a.json", b'{"resourceSpans": []}', "otlp-json"),
        ("a.json.gz", gzip.compress(b'{"resourceSpans": []}', mtime=0), "otlp-json"),
        ("a.log", b'{"object": "chat.completion", "usage": {}}\n', "provider"),
        ("a.jsonl", b'{"provider": "anthropic", "response": {"usage": {}}}\n', "provider"),
        ("a.csv.gz", gzip.compress(b"ts\n", mtime=0), "csv"),
        ("a.bin", b"PAR1....", "parquet"),
        ("a.binpb", b"\x0a\x00", "otlp-proto"),
    ],
)
def test_detect(tmp_path: Path, name: str, body: bytes, fmt: str) -> None:
    f = tmp_path / name
    f.write_bytes(body)
    assert detect_format(f) == fmt


def test_unknown_and_missing(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("hello")
    with pytest.raises(InputError, match="--format one of: jsonl, csv"):
        detect_format(f)
    with pytest.raises(InputError, match="No such file"):
        detect_format(tmp_path / "nope.jsonl")
    with pytest.raises(InputError) as e:  # before: "No such file" for a directory
        detect_format(tmp_path)
    assert str(e.value) == f"{tmp_path} is a directory: name the files in it."
