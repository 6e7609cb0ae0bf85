"""The mailbox watcher: IMAP IDLE on each inbox, every new message stored then processed.

Each mailbox is held by exactly one watcher at a time through a lease row that
the holder renews; a watcher that dies stops renewing and another takes over.
The watcher never marks, moves or deletes mail (read-only EXAMINE, BODY.PEEK).
It remembers UIDVALIDITY and the last UID it read, so after any gap — a
restart, a dropped connection, a new UIDVALIDITY — it reads what it missed.
"""

import contextlib
import datetime as dt
import imaplib
import io
import logging
import os
import re
import select
import socket
import ssl
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from cadency.mailboxes.connections import encode_imap_folder, open_imap
from cadency.mailboxes.models import FolderSyncState, Mailbox, WatcherLease

logger = logging.getLogger("cadency.watcher")

MAX_BACKOFF_SECONDS = 60
UID_IN_FETCH = re.compile(rb"UID (\d+)")


class SyncError(Exception):
    """The folder could not be read."""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def lease_seconds() -> int:
    return int(settings.CADENCY_WATCHER_LEASE_SECONDS)


def idle_seconds() -> int:
    """Each IDLE round renews the lease and re-checks the folder: a third of the lease."""
    return max(1, lease_seconds() // 3)


def acquire_lease(mailbox_id: int, holder: str) -> bool:
    """Take or renew the mailbox's lease; False while another live watcher holds it."""
    now = timezone.now()
    seconds = lease_seconds()
    for _ in range(2):
        try:
            with transaction.atomic():
                lease, _ = WatcherLease.objects.select_for_update().get_or_create(
                    mailbox_id=mailbox_id
                )
                free = lease.expires_at is None or lease.expires_at < now
                if lease.holder != holder and not free:
                    return False
                lease.holder = holder
                lease.expires_at = now + dt.timedelta(seconds=seconds)
                lease.save(update_fields=["holder", "expires_at"])
                return True
        except IntegrityError:
            continue  # two watchers created the row at once: read it again
    return False


def release_lease(mailbox_id: int, holder: str) -> None:
    WatcherLease.objects.filter(mailbox_id=mailbox_id, holder=holder).update(
        holder="", expires_at=None
    )


@dataclass
class SyncResult:
    fetched: int = 0
    uidvalidity_changed: bool = False


def sync_folder(client: imaplib.IMAP4, mailbox: Mailbox, folder: str = "INBOX") -> SyncResult:
    """Store and process every message that arrived since the last sync."""
    from cadency.inbound.pipeline import process_message, store_message

    status, data = client.select(encode_imap_folder(folder), readonly=True)
    if status != "OK":
        raise SyncError(f"cannot open {folder!r}: {data!r}")
    uidvalidity = int(_response(client, "UIDVALIDITY"))
    # From here on, an EXISTS the server sends means mail newer than this sync.
    for name in ("EXISTS", "RECENT"):
        client.untagged_responses.pop(name, None)
    state, _ = FolderSyncState.objects.get_or_create(mailbox=mailbox, folder=folder)
    result = SyncResult()
    if state.uidvalidity is None:
        # First sync: read what arrived since the mailbox was connected.
        uids = _search(client, "SINCE", _imap_date(mailbox.created_at - dt.timedelta(days=1)))
    elif state.uidvalidity != uidvalidity:
        # The server renumbered the folder: read again what may be new since the
        # last sync; messages already stored are recognised by Message-ID.
        result.uidvalidity_changed = True
        since = (state.last_synced_at or mailbox.created_at) - dt.timedelta(days=1)
        uids = _search(client, "SINCE", _imap_date(since))
    else:
        uids = [u for u in _search(client, "UID", f"{state.last_uid + 1}:*") if u > state.last_uid]
    if state.uidvalidity != uidvalidity:
        state.uidvalidity = uidvalidity
        state.last_uid = 0
    for uid in sorted(uids):
        raw = _fetch(client, uid)
        if raw is not None:
            message, _ = store_message(
                mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, uid=uid, raw=raw
            )
            process_message(message)
            result.fetched += 1
        state.last_uid = max(state.last_uid, uid)
        state.save(update_fields=["uidvalidity", "last_uid"])
    state.last_synced_at = timezone.now()
    state.save(update_fields=["uidvalidity", "last_uid", "last_synced_at"])
    return result


def sync_inbox_now(mailbox: Mailbox) -> SyncResult:
    """Read the inbox once, now (the check made just before a send)."""
    client = open_imap(mailbox)
    try:
        return sync_folder(client, mailbox)
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _response(client: imaplib.IMAP4, name: str) -> str:
    _, values = client.response(name)
    if not values or values[0] is None:
        raise SyncError(f"the server sent no {name}")
    value = values[-1]
    return value.decode() if isinstance(value, bytes) else str(value)


def _search(client: imaplib.IMAP4, *criteria: str) -> list[int]:
    status, data = client.uid("SEARCH", *criteria)
    if status != "OK":
        raise SyncError(f"UID SEARCH failed: {data!r}")
    return [int(u) for u in (data[0] or b"").split()]


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        raise SyncError(f"UID FETCH {uid} failed: {data!r}")
    for part in data:
        if isinstance(part, tuple) and UID_IN_FETCH.search(part[0]):
            return bytes(part[1])
    return None  # expunged meanwhile


def _imap_date(when: dt.datetime) -> str:
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{when.day:02d}-{months[when.month - 1]}-{when.year}"


def idle(client: imaplib.IMAP4, seconds: float) -> bool:
    """IMAP IDLE (RFC 2177) for up to ``seconds``: True when the server reported a change."""
    if any(client.untagged_responses.get(name) for name in ("EXISTS", "RECENT")):
        return True  # mail arrived while the last sync ran: read it before idling
    tag = client._new_tag().decode()
    client.send(f"{tag} IDLE\r\n".encode())
    first = client.readline()
    if not first.startswith(b"+"):
        raise SyncError(f"IDLE refused: {first!r}")
    sock = client.socket()
    changed = False
    if _has_buffered_input(client) or select.select([sock], [], [], seconds)[0]:
        line = client.readline()
        changed = line.startswith(b"* ") and (b"EXISTS" in line or b"RECENT" in line)
    client.send(b"DONE\r\n")
    while True:
        line = client.readline()
        if not line:
            raise SyncError("the server closed the connection during IDLE")
        if line.startswith(b"* ") and b"EXISTS" in line:
            changed = True
        if line.startswith(tag.encode()):
            return changed


def _has_buffered_input(client: imaplib.IMAP4) -> bool:
    """Whether a response already sits in imaplib's or TLS's buffers, where select()
    cannot see it (a server often sends EXISTS right after "+ idling")."""
    sock = client.socket()
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    reader = client.file
    if not isinstance(reader, io.BufferedReader):
        return False
    timeout = sock.gettimeout()
    sock.settimeout(0.0)
    try:
        return bool(reader.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(timeout)


class MailboxWatch(threading.Thread):
    """Watches one mailbox for as long as this process holds its lease."""

    def __init__(self, mailbox_id: int, stopping: threading.Event) -> None:
        super().__init__(name=f"watch-{mailbox_id}", daemon=True)
        self.mailbox_id = mailbox_id
        self.stopping = stopping
        self.holder = holder_name()

    def run(self) -> None:
        self.holder = holder_name()
        backoff = 1.0
        try:
            while not self.stopping.is_set():
                close_old_connections()
                if not acquire_lease(self.mailbox_id, self.holder):
                    self.stopping.wait(idle_seconds())
                    continue
                try:
                    self.watch()
                    backoff = 1.0
                except (OSError, imaplib.IMAP4.error, SyncError) as exc:
                    logger.warning(
                        "mailbox %s: %s; retrying in %.0f s", self.mailbox_id, exc, backoff
                    )
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        finally:
            release_lease(self.mailbox_id, self.holder)
            connection.close()

    def watch(self) -> None:
        mailbox = Mailbox.objects.get(pk=self.mailbox_id)
        client = open_imap(mailbox)
        try:
            sync_folder(client, mailbox)
            while not self.stopping.is_set() and acquire_lease(self.mailbox_id, self.holder):
                idle(client, idle_seconds())
                sync_folder(client, mailbox)
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()


def watch_all(stopping: threading.Event, *, rescan_seconds: float = 15) -> None:
    """Watch every mailbox; new mailboxes are picked up within ``rescan_seconds``."""
    watches: dict[int, MailboxWatch] = {}
    while not stopping.is_set():
        close_old_connections()
        for mailbox_id in Mailbox.objects.values_list("pk", flat=True):
            current = watches.get(mailbox_id)
            if current is None or not current.is_alive():
                watches[mailbox_id] = MailboxWatch(mailbox_id, stopping)
                watches[mailbox_id].start()
        stopping.wait(rescan_seconds)
    for watch in watches.values():
        watch.join(timeout=idle_seconds() + 5)
