"""A tiny local HTTP server answering like the OpenAI (Chat Completions) and Anthropic
(Messages) APIs, with realistic usage: cache reads, 5-minute and 1-hour cache writes,
reasoning, and a stream sent without `include_usage` (no usage at all).

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
_counter = iter(range(1, 1 << 30))


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
        if self.path.endswith("/chat/completions"):
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
