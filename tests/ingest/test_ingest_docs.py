"""docs/ingest.md cannot drift from keys.py and the validation limits."""

from __future__ import annotations

from pathlib import Path

from unitecon.ingest import FORMATS, keys, validate

DOC = (Path(__file__).parents[2] / "docs" / "ingest.md").read_text()


def test_every_attribute_key_is_documented() -> None:
    all_keys = [k for name in dir(keys) if name.isupper() for k in getattr(keys, name)]
    assert len(all_keys) > 40
    assert [k for k in all_keys if f"`{k}`" not in DOC] == []


def test_formats_and_limits_are_documented() -> None:
    assert [f for f in FORMATS if f"`{f}`" not in DOC] == []
    for number in (validate.MAX_TAG_CHARS, validate.MAX_FIELD_CHARS, validate.MAX_TOKENS):
        assert f"{number:,}" in DOC
    assert validate.TRUNCATED_MARK in DOC
