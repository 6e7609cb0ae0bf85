#!/usr/bin/env python3
"""A tiny OAuth2 token introspection endpoint for Dovecot's oauth2 passdb (stdlib only).

Usage: python3 scripts/services/oauth2_introspect.py BASE [PORT]

Listens on 127.0.0.1:PORT (default 8089) and answers RFC 7662 introspection
requests from the token file BASE/oauth2/tokens: one `TOKEN USER` pair per line
(blank lines and `#` comments are skipped). The file is re-read on every
request, so tests mint a token by appending a line and revoke one by removing
its line.

The token is taken from, in order: a form-encoded POST body `token=...`
(Dovecot's `introspection_mode = post`), the query string `?token=...`
(`introspection_mode = get` with an URL ending in `?token=`), or an
`Authorization: Bearer ...` header (`introspection_mode = auth`).

- Known token: 200 `{"active": true, "username": USER, "email": USER, ...}`.
- Unknown, revoked or missing token: 401 `{"active": false}`. Dovecot treats
  a 4xx answer as "token not valid" (login refused), while a 5xx answer or
  an unreachable URL is a temporary failure.

Each request is logged as one line on stderr (start.sh sends it to BASE/oauth2.log).
"""

import contextlib
import json
import pathlib
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_PORT = 8089
MAX_BODY = 64 * 1024


def load_tokens(path: pathlib.Path) -> dict[str, str]:
    tokens: dict[str, str] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return tokens
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#"):
            tokens[fields[0]] = fields[1]
    return tokens


class Handler(BaseHTTPRequestHandler):
    server_version = "cadency-oauth2-introspect/1"
    protocol_version = "HTTP/1.1"  # keep-alive: Dovecot reuses its connection
    token_file: pathlib.Path

    def do_GET(self) -> None:
        self.introspect(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.reply(413, {"error": "request too large"}, "?")
            return
        self.introspect(self.rfile.read(length))

    def introspect(self, body: bytes) -> None:
        token = self.find_token(body)
        user = load_tokens(self.token_file).get(token) if token else None
        if user is None:
            self.reply(401, {"active": False}, token)
            return
        now = int(time.time())
        self.reply(
            200,
            {
                "active": True,
                "username": user,
                "email": user,
                "sub": user,
                "scope": "https://mail.google.com/",
                "client_id": "cadency-test",
                "token_type": "Bearer",
                "iat": now,
                "exp": now + 3600,
            },
            token,
        )

    def find_token(self, body: bytes) -> str:
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("token"):
            return form["token"][0]
        query = parse_qs(urlsplit(self.path).query)
        if query.get("token"):
            return query["token"][0]
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return value.strip()
        return ""

    def reply(self, status: int, payload: dict[str, object], token: str) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)
        # Log a token prefix only, never the whole token.
        user = payload.get("username", "-")
        sys.stderr.write(
            f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {self.command} {urlsplit(self.path).path} "
            f"token={token[:6] or '-'}... -> {status} {user}\n"
        )
        sys.stderr.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass  # reply() logs one line per request


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    base = pathlib.Path(sys.argv[1]).resolve()
    port = int(sys.argv[2]) if len(sys.argv) == 3 else DEFAULT_PORT
    Handler.token_file = base / "oauth2" / "tokens"
    # A recognisable name in ps and /proc/PID/comm, which stop.sh checks.
    with contextlib.suppress(OSError):
        pathlib.Path("/proc/self/comm").write_text("cadency-oauth2")
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
