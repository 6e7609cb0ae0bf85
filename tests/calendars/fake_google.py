"""A tiny stand-in for the Google Calendar API on 127.0.0.1, serving recorded payloads.

Answers are queued per route (``calendar``, ``events``, ``freeBusy``) as
(status, fixture file) pairs and served in order; every request is recorded.
"""

import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "google"


@dataclass(frozen=True)
class Request:
    method: str
    route: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class FakeGoogle:
    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.handle(self, None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fake.handle(self, json.loads(self.rfile.read(length) or b"null"))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/calendar/v3"

    def queue(self, route: str, *answers: tuple[int, str]) -> None:
        self.answers[route].extend(answers)

    def route_of(self, path: str) -> str:
        if path.endswith("/freeBusy"):
            return "freeBusy"
        if path.endswith("/events"):
            return "events"
        return "calendar"

    def handle(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        url = urlsplit(handler.path)
        route = self.route_of(url.path)
        self.requests.append(
            Request(
                method=handler.command,
                route=route,
                path=unquote(url.path),
                query={k: v[0] for k, v in parse_qs(url.query).items()},
                headers=dict(handler.headers.items()),
                body=body,
            )
        )
        if self.answers[route]:
            status, fixture = self.answers[route].pop(0)
            payload = (FIXTURES / fixture).read_bytes()
        else:
            status, payload = 500, b'{"error": {"code": 500, "message": "nothing queued"}}'
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def __enter__(self) -> "FakeGoogle":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
