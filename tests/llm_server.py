"""A chat-completions server on loopback that answers from a script, shared by the language-model tests.

``ScriptedServer`` plays scripted :class:`Reply` objects in order (a chat completion, a raw body with
an HTTP status, an answer slower than the client's timeout) and records every request it received,
so a test can check both what a client returned and what it sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from filmaster_dag.llm import ChatClient

TIMEOUT_S = 0.3  # the client's patience in the timeout tests; a "slow" reply takes longer than this
SLOW_S = 1.0
PATIENT_S = 10.0  # elsewhere: a loaded machine must not turn a prompt reply into a timeout


@dataclass
class Reply:
    """One scripted answer: a chat completion whose text is ``content``, or a raw ``body`` with ``status``."""

    content: str | None = None
    status: int = 200
    body: str | None = None
    delay_s: float = 0.0
    finish_reason: str = "stop"

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body.encode()
        return json.dumps(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": "served-name",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content}, "finish_reason": self.finish_reason}],
            }
        ).encode()


def ok(value: Any) -> Reply:
    return Reply(content=json.dumps(value))


class ScriptedServer:
    """A chat-completions server on 127.0.0.1 that plays ``replies`` in order and records each request."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(self.rfile.read(length))})
                reply = server.replies.popleft() if server.replies else Reply(status=500, body="the test's script ran out of replies")
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (the timeout tests)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def client(self, **kwargs: Any) -> ChatClient:
        options = {"timeout_s": PATIENT_S, "retries": 2, "backoff_s": 0.0} | kwargs
        return ChatClient(self.base_url, "test-model", **options)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def response_formats(server: ScriptedServer) -> list[str | None]:
    return [(r["body"].get("response_format") or {}).get("type") for r in server.requests]


@pytest.fixture
def server():
    """A scripted chat-completions server on loopback for one test (shared through conftest)."""
    with ScriptedServer() as s:
        yield s
