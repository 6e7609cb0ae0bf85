"""Logged-in IMAP connections kept for the pre-send read of a worker process.

Opening one (greeting, STARTTLS, login) took most of a send batch's time; a kept
connection is checked with a NOOP, and a fresh SELECT of each folder shows the
mail delivered since, so reusing it reads exactly what a new one would.
"""

import contextlib
import hashlib
import imaplib
import threading
import time
from dataclasses import dataclass

from cadency.mailboxes.connections import open_imap
from cadency.mailboxes.models import Mailbox


@dataclass(frozen=True)
class Kept:
    client: imaplib.IMAP4
    opened: float
    login: tuple[object, ...]


class ImapPool:
    """At most one idle connection per mailbox and thread, reused for
    ``max_age_seconds`` while it was made with the mailbox's current login; any
    older one is logged out when another is given back."""

    def __init__(self, *, max_age_seconds: float = 60) -> None:
        self.max_age_seconds = max_age_seconds
        self._idle: dict[tuple[int, int], Kept] = {}
        self._lock = threading.Lock()

    def take(self, mailbox: Mailbox) -> Kept:
        """A logged-in connection: a kept one that still answers, else a new one
        (whose errors reach the caller)."""
        with self._lock:
            kept = self._idle.pop(_key(mailbox), None)
        if kept is not None:
            if kept.login == _login(mailbox) and not self._expired(kept) and _answers(kept):
                return kept
            _log_out(kept)
        return Kept(open_imap(mailbox), time.monotonic(), _login(mailbox))

    def give_back(self, mailbox: Mailbox, kept: Kept) -> None:
        """Keep a connection that worked (one that failed is logged out instead)."""
        with self._lock:
            self._idle[_key(mailbox)], replaced = kept, self._idle.get(_key(mailbox))
            expired = [key for key, other in self._idle.items() if self._expired(other)]
            dropped = [self._idle.pop(key) for key in expired]
        for other in [replaced, *dropped]:
            if other is not None and other is not kept:
                _log_out(other)

    def close_all(self) -> None:
        with self._lock:
            held, self._idle = list(self._idle.values()), {}
        for kept in held:
            _log_out(kept)

    def _expired(self, kept: Kept) -> bool:
        return time.monotonic() - kept.opened >= self.max_age_seconds


def _key(mailbox: Mailbox) -> tuple[int, int]:
    return threading.get_ident(), mailbox.pk


def _login(mailbox: Mailbox) -> tuple[object, ...]:
    """Everything the login used: a mailbox whose server or credentials changed
    gets a new connection."""
    return (
        mailbox.imap_host,
        mailbox.imap_port,
        mailbox.imap_security,
        mailbox.auth_method,
        mailbox.username,
        hashlib.sha256(mailbox.secret.encode()).digest(),
    )


def _answers(kept: Kept) -> bool:
    try:
        return kept.client.noop()[0] == "OK"
    except (OSError, imaplib.IMAP4.error):
        return False


def _log_out(kept: Kept) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        kept.client.logout()


presend_connections = ImapPool()
