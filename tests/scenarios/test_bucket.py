"""The what-if replay's buckets are the same on every engine: MD5 of key || salt, first
8 hex digits as a number, mod 1e6, computed here independently with Python's hashlib.
(The Spark side is checked in tests/analysis/test_engines.py.)"""

from __future__ import annotations

import hashlib

import ibis
from hypothesis import given, settings
from hypothesis import strategies as st

from unitecon.economics.replay import BUCKETS, bucket


def by_hashlib(key: str | None, salt: str) -> int:
    digest = hashlib.md5(((key or "") + salt).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 1_000_000


def buckets(keys: list[str | None], salt: str) -> list[int]:
    t = ibis.memtable({"k": keys}, schema={"k": "string"})
    return t.select(b=bucket(t.k, salt)).to_pyarrow().column("b").to_pylist()


def test_known_keys() -> None:
    # md5("ev-1route0") = c7945055cbb0...: 0xc7945055 = 3348385877, mod 1e6 = 385877
    assert hashlib.md5(b"ev-1route0").hexdigest()[:8] == "c7945055"
    keys = ["ev-1", "abc", None, "", "é漢", "task-9:g0.1"]
    got = buckets(keys, "route0")
    assert got[0] == 385877
    assert got == [by_hashlib(k, "route0") for k in keys]
    assert got[2] == got[3]  # a null key is the empty key


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=1, max_size=30),
    st.from_regex(r"[a-z]{0,7}[0-9]{0,2}", fullmatch=True),  # salts: route0, grow1, ...
)
def test_any_key_matches_hashlib(keys: list[str | None], salt: str) -> None:
    keys = [k.replace("\x00", "") if k else k for k in keys]  # SQL text holds no NUL
    got = buckets(keys, salt)
    assert got == [by_hashlib(k, salt) for k in keys]
    assert all(0 <= b < BUCKETS for b in got)
