"""A real HTTP server in a thread that records what chat webhooks are sent."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    path: str
    query: dict
    headers: dict
    body: dict


@dataclass
class Receiver:
    """Answers every POST with `answer` (JSON) and keeps what it got."""

    answer: dict = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    received: list[Received] = field(default_factory=list)

    def start(self) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length", 0))
                parts = urlsplit(self.path)
                receiver.received.append(Received(parts.path, parse_qs(parts.query), dict(self.headers),
                                                  json.loads(self.rfile.read(length) or b"{}")))
                body = json.dumps(receiver.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
