"""`unitecon alerts --notify` delivers to the project file's webhook: Slack-compatible JSON
(or the answer itself) POSTed to a local HTTP receiver; a receiver that fails is an error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from unitecon.cli.main import run


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[str, dict[str, str], Any]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            n = int(self.headers["Content-Length"])
            got.posts.append((self.path, dict(self.headers), json.loads(self.rfile.read(n))))
            self.send_response(got.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook/T1", got
    finally:
        server.shutdown()
        server.server_close()


def _project(tmp_path: Path, url: str, fmt: str = "slack") -> Path:
    """A $1 monthly budget, and 20M input tokens of gpt-4o on 2026-11-02: over budget."""
    events = tmp_path / "e.jsonl"
    events.write_text(
        "\n".join(
            json.dumps({
                "event_id": f"e{i}", "ts": f"2026-11-02T0{i}:00:00Z", "provider": "openai",
                "model": "gpt-4o", "input_tokens": 10_000_000, "output_tokens": 0,
                "feature": "search",
            })
            for i in range(2)
        ) + "\n"
    )  # fmt: skip
    assert run(["ingest", str(events)]) == 0
    project = tmp_path / "unitecon.yaml"
    project.write_text(
        "governance:\n"
        "  budgets:\n"
        "    - {name: tiny, monthly: 1}\n"
        f"  notify: {{webhook: '{url}', format: {fmt}}}\n"
    )
    return project


def test_alerts_are_delivered_as_slack_json(
    tmp_path: Path, receiver: tuple[str, Receiver], capsys: pytest.CaptureFixture[str]
) -> None:
    url, got = receiver
    project = _project(tmp_path, url)
    capsys.readouterr()
    assert run(["alerts", "--notify", "--fail", "--config", str(project)]) == 1
    assert "Delivered to 127.0.0.1" in capsys.readouterr().out
    [(path, headers, body)] = got.posts
    assert path == "/hook/T1" and headers["Content-Type"] == "application/json"
    # Slack incoming webhook: a `text` and mrkdwn `blocks`
    assert set(body) == {"text", "blocks"}
    assert "1 need attention" in body["text"]
    budget = body["blocks"][1]["text"]
    assert body["blocks"][1]["text"]["type"] == "mrkdwn"
    # 20M input tokens x gpt-4o's $2.50 per million = $50.00 spent of a $1.00 budget
    assert "*tiny* (2026-11): spent $50.00 of $1.00" in budget["text"]
    assert "over budget" in budget["text"]


def test_json_format_posts_the_answer_itself(
    tmp_path: Path, receiver: tuple[str, Receiver], capsys: pytest.CaptureFixture[str]
) -> None:
    url, got = receiver
    project = _project(tmp_path, url, "json")
    capsys.readouterr()
    assert run(["alerts", "--notify", "--json", "--config", str(project)]) == 0
    printed = json.loads(capsys.readouterr().out)
    [(_, _, body)] = got.posts
    assert body == printed  # the same answer `alerts --json` prints (and the API returns)


def test_a_failing_receiver_is_an_error(
    tmp_path: Path, receiver: tuple[str, Receiver], capsys: pytest.CaptureFixture[str]
) -> None:
    url, got = receiver
    got.status = 500
    project = _project(tmp_path, url)
    capsys.readouterr()
    assert run(["alerts", "--notify", "--config", str(project)]) == 2
    assert "answered 500" in capsys.readouterr().err


def test_notify_without_a_webhook_says_how(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, "http://127.0.0.1:9/never")
    project.write_text("governance:\n  budgets:\n    - {name: tiny, monthly: 1}\n")
    assert run(["alerts", "--notify", "--config", str(project)]) == 2
    assert "notify: {webhook:" in capsys.readouterr().err
