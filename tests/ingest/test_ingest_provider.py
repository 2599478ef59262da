"""Provider responses -> inclusive token counts, worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

ANTHROPIC = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [],
    "usage": {
        "input_tokens": 50,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
        "output_tokens": 80,
    },
}
OPENAI_CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1740823200,
    "model": "o3",
    "choices": [],
    "usage": {
        "prompt_tokens": 1000,
        "completion_tokens": 500,
        "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 400},
        "completion_tokens_details": {"reasoning_tokens": 300},
    },
}
OPENAI_RESP = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1740823200,
    "model": "gpt-5-unknown-model",
    "output": [],
    "service_tier": "flex",
    "usage": {
        "input_tokens": 900,
        "output_tokens": 90,
        "total_tokens": 990,
        "input_tokens_details": {"cached_tokens": 100},
        "output_tokens_details": {"reasoning_tokens": 40},
    },
}


def tokens(row: dict[str, object]) -> tuple[object, ...]:
    return tuple(
        row[f]
        for f in (
            "input_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "output_tokens",
            "reasoning_tokens",
        )
    )


def test_usage_becomes_inclusive(tmp_path: Path, read) -> None:
    f = tmp_path / "responses.jsonl"
    envelope = {
        "ts": "2025-03-01T10:00:00Z",
        "provider": "anthropic",
        "api_flavor": "default",
        "response": ANTHROPIC,
        "customer_id": "acme",
        "feature": "support",
        "region": "eu",
    }
    f.write_text(
        "\n".join(json.dumps(x) for x in (envelope, OPENAI_CHAT, OPENAI_RESP, ANTHROPIC)) + "\n"
    )
    res = read(f, "provider")
    rows = {r["event_id"]: r for r in res.rows}
    a = rows["anthropic:msg_01"]
    # Anthropic counts input without cache: 50 + 1000 + 200 = 1250 inclusive
    assert tokens(a) == (1250, 1000, 200, 80, 0)
    assert (a["customer_id"], a["feature"], dict(a["tags"])) == (
        "acme",
        "support",
        {"region": "eu"},
    )
    # OpenAI prompt_tokens already include cached; completion includes reasoning
    c = rows["openai:chatcmpl-1"]
    assert tokens(c) == (1000, 400, 0, 500, 300)
    assert (c["provider"], c["model"], c["ts"].isoformat()) == (
        "openai",
        "o3",
        "2025-03-01T10:00:00+00:00",
    )
    r = rows["openai:resp_1"]  # an unknown model still has its usage read
    assert tokens(r) == (900, 100, 0, 90, 40) and r["service_tier"] == "flex"
    # a raw Anthropic body has no timestamp: quarantined with a reason
    assert res.by_location() == {f"{f}:4": "ts: missing (required)"}
