"""Fetching the reports from the APIs: paging by `next_page`, the key's header, the saved
pages import like a download. The providers are stood in for by httpx's MockTransport."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import httpx
import pytest

from unitecon.billing import read_bill
from unitecon.billing.fetch import download
from unitecon.errors import InputError

FIX = Path(__file__).parent / "fixtures"


def test_openai_usage_pages_are_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-test")
    pages = [json.loads(line) for line in (FIX / "openai_usage.jsonl").read_text().splitlines()]
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[1] if "page" in request.url.params else pages[0])

    client = httpx.Client(transport=httpx.MockTransport(answer))
    out = download("openai_usage", date(2026, 11, 1), date(2026, 11, 3), tmp_path / "u.jsonl",
                   client=client)  # fmt: skip
    assert len(seen) == 2
    assert seen[0].headers["authorization"] == "Bearer sk-admin-test"
    assert seen[0].url.params["start_time"] == "1793491200"  # 2026-11-01T00:00:00Z
    assert seen[1].url.params["page"] == pages[0]["next_page"]
    fmt, got = read_bill(out)
    _, want = read_bill(FIX / "openai_usage.jsonl")
    assert fmt == "openai_usage"
    assert [replace(x, location="") for x in got] == [replace(x, location="") for x in want]


def test_anthropic_error_is_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin-test")

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == "sk-ant-admin-test"
        return httpx.Response(401, json={"error": {"type": "authentication_error"}})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    with pytest.raises(InputError, match="HTTP 401"):
        download("anthropic_cost", date(2026, 11, 1), date(2026, 11, 2), tmp_path / "c.jsonl",
                 client=client)  # fmt: skip


def test_no_key_says_which_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    with pytest.raises(InputError, match="Set OPENAI_ADMIN_KEY"):
        download("openai_costs", date(2026, 11, 1), date(2026, 11, 2), tmp_path / "x.jsonl")
