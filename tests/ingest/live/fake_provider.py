"""A tiny local HTTP server answering like the OpenAI (Chat Completions), Anthropic
(Messages) and Gemini (generateContent, streamGenerateContent) APIs, with realistic usage:
cache reads, 5-minute and 1-hour cache writes, reasoning (Gemini's thoughts), and a stream
sent without `include_usage` (no usage at all).

The usage each response carries is the truth the test prices with `genai_prices.calc_price`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The Chat Completions usage the fake returns for model `gpt-4o-2024-08-06`.
OPENAI_USAGE: dict[str, Any] = {
    "prompt_tokens": 1200,
    "completion_tokens": 300,
    "total_tokens": 1500,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}
#: The Messages usage the fake returns (Anthropic counts input *excluding* the cache).
ANTHROPIC_USAGE: dict[str, Any] = {
    "input_tokens": 150,
    "cache_read_input_tokens": 20000,
    "cache_creation_input_tokens": 3000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
    "output_tokens": 500,
    "service_tier": "standard",
}
#: The Gemini usage the fake returns (`promptTokenCount` includes the cached tokens;
#: thoughts are billed as output beside `candidatesTokenCount`).
GEMINI_USAGE: dict[str, Any] = {
    "promptTokenCount": 1200,
    "cachedContentTokenCount": 1024,
    "candidatesTokenCount": 300,
    "thoughtsTokenCount": 100,
    "totalTokenCount": 1600,
}
_counter = iter(range(1, 1 << 30))


def gemini_body(model: str, usage: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hello!"}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "modelVersion": model,
        "responseId": f"resp-{next(_counter)}",
    }
    if usage:
        out["usageMetadata"] = GEMINI_USAGE
    return out


def openai_body(model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{next(_counter)}",
        "object": "chat.completion",
        "created": 1767225600,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": OPENAI_USAGE,
        "service_tier": "default",
        "system_fingerprint": "fp_1",
    }


def anthropic_body(model: str) -> dict[str, Any]:
    return {
        "id": f"msg_{next(_counter):024d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": ANTHROPIC_USAGE,
    }


def _chunks(model: str, include_usage: bool) -> Iterator[dict[str, Any]]:
    cid = f"chatcmpl-{next(_counter)}"
    base = {"id": cid, "object": "chat.completion.chunk", "created": 1767225600, "model": model}
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}
    yield {
        **base,
        "choices": [{"index": 0, "delta": {"content": "lo!"}, "finish_reason": "stop"}],
    }
    if include_usage:
        yield {**base, "choices": [], "usage": OPENAI_USAGE}


def _anthropic_events(model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """A Messages stream: the input usage on `message_start`, the output on `message_delta`."""
    msg = {**anthropic_body(model), "content": [], "stop_reason": None}
    msg["usage"] = {**ANTHROPIC_USAGE, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": msg}
    block = {"type": "text", "text": ""}
    yield "content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
    delta = {"type": "text_delta", "text": "Hello!"}
    yield "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": ANTHROPIC_USAGE["output_tokens"]},
        },
    )
    yield "message_stop", {"type": "message_stop"}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
        model = body.get("model", "")
        if self.path.endswith("/chat/completions") and body.get("stream"):
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for chunk in _chunks(model, usage):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        if self.path.endswith("/messages") and body.get("stream"):
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for event, data in _anthropic_events(model):
                self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
            return
        if ":streamGenerateContent" in self.path:
            # Gemini streams: text chunks, the usage on the last one (server-sent events)
            name = self.path.split("/models/")[1].split(":")[0]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            first = {**gemini_body(name, usage=False)}
            first["candidates"] = [{"content": {"parts": [{"text": "Hel"}], "role": "model"},
                                    "index": 0}]  # fmt: skip
            for chunk in (first, gemini_body(name)):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            return
        if ":generateContent" in self.path:
            out = gemini_body(self.path.split("/models/")[1].split(":")[0])
        elif self.path.endswith("/chat/completions"):
            out = openai_body(model)
        elif self.path.endswith("/messages"):
            out = anthropic_body(model)
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve() -> Iterator[str]:
    """The fake's base URL (http://127.0.0.1:PORT) while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
