"""Serve ``clients/`` on loopback for the mail-client browser tests.

The harness pages (``clients/harness/``: a Gmail-like compose window, an
Outlook-like one and the fake Office.js) stand in for the mail clients. They are
served from a port of their own, so their origin differs from the live Cadency
server's as Gmail's and Outlook's do from Cadency's.
"""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parents[2] / "clients"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@contextmanager
def serve_clients() -> Iterator[str]:
    """Serve ``clients/`` on 127.0.0.1; yield its origin (``http://127.0.0.1:PORT``)."""
    handler = functools.partial(QuietHandler, directory=str(CLIENTS))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
