"""The mailbox watcher: every new message of every watched folder stored, then processed.

Each mailbox is held by exactly one watcher at a time through a lease row that
the holder renews; a watcher that dies stops renewing and another takes over.
The watcher never marks, moves or deletes mail (read-only EXAMINE, BODY.PEEK).
It remembers each folder's UIDVALIDITY and the last UID it read, so after any
gap — a restart, a dropped connection, a new UIDVALIDITY — it reads what it missed.

One connection per mailbox: it waits in IMAP IDLE on INBOX (IDLE watches only the
selected folder) and, when other folders are watched, wakes every
``POLL_SECONDS`` to ask each of them for its UIDNEXT and UIDVALIDITY (STATUS, one
short command per folder); a folder is opened and read only when they changed.
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
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from cadency.inbound.folders import imap_folder
from cadency.inbound.imap_pool import presend_connections
from cadency.mailboxes.connections import open_imap
from cadency.mailboxes.health import Side, record_mailbox_failure, record_mailbox_working
from cadency.mailboxes.models import INBOX, FolderSyncState, Mailbox, WatcherLease

logger = logging.getLogger("cadency.watcher")

MAX_BACKOFF_SECONDS = 60
# While IDLE waits on INBOX, the other watched folders are checked this often.
POLL_SECONDS = 2.0
UID_IN_FETCH = re.compile(rb"UID (\d+)")
STATUS_ITEM = re.compile(rb"(UIDNEXT|UIDVALIDITY) (\d+)", re.IGNORECASE)


class SyncError(Exception):
    """The folder could not be read."""


class FolderMissing(SyncError):
    """The server has no such folder (renamed or deleted since it was configured)."""


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
    folders: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def add(self, other: "SyncResult") -> None:
        self.fetched += other.fetched
        self.uidvalidity_changed |= other.uidvalidity_changed
        self.folders += other.folders
        self.missing += other.missing


def sync_folder(client: imaplib.IMAP4, mailbox: Mailbox, folder: str = INBOX) -> SyncResult:
    """Store and process every message that arrived in ``folder`` since its last sync."""
    from cadency.inbound.pipeline import process_message, store_message

    status, data = client.select(imap_folder(folder), readonly=True)
    if status != "OK":
        raise FolderMissing(f"cannot open the folder {folder!r}: {_text(data)}")
    uidvalidity = int(_response(client, "UIDVALIDITY"))
    uidnext = _optional_response(client, "UIDNEXT")
    # From here on, an EXISTS the server sends means mail newer than this sync.
    for name in ("EXISTS", "RECENT"):
        client.untagged_responses.pop(name, None)
    state, _ = FolderSyncState.objects.get_or_create(mailbox=mailbox, folder=folder)
    result = SyncResult(folders=[folder])
    if state.uidvalidity is None:
        # First sync: read what arrived since the mailbox was connected (or since
        # this folder was added to it).
        since = state.watched_since or mailbox.created_at
        uids = _search(client, "SINCE", _imap_date(since - dt.timedelta(days=1)))
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
    if uidnext is not None:
        # Every message below UIDNEXT existed when the folder was opened, so the
        # search saw it: older mail a first sync skipped is never read later.
        state.last_uid = max(state.last_uid, int(uidnext) - 1)
    state.last_synced_at = timezone.now()
    state.save(update_fields=["uidvalidity", "last_uid", "last_synced_at"])
    return result


def has_news(client: imaplib.IMAP4, mailbox: Mailbox, folder: str) -> bool:
    """Whether ``folder`` (not the selected one) may hold mail the watcher has not
    read: its UIDNEXT or UIDVALIDITY moved since the last sync (IMAP STATUS)."""
    # STATUS first, even for a folder never read: a folder that is missing fails
    # here, and not at SELECT, which would leave no folder selected for IDLE.
    status, data = client.status(imap_folder(folder), "(UIDNEXT UIDVALIDITY)")
    if status != "OK":
        raise FolderMissing(f"cannot open the folder {folder!r}: {_text(data)}")
    state = FolderSyncState.objects.filter(mailbox=mailbox, folder=folder).first()
    if state is None or state.uidvalidity is None:
        return True
    items = {
        key.upper(): int(value)
        for line in data
        if isinstance(line, bytes)
        for key, value in STATUS_ITEM.findall(line.rsplit(b"(", 1)[-1])  # after the name
    }
    if b"UIDNEXT" not in items or b"UIDVALIDITY" not in items:
        return True  # a server that does not say: read the folder
    return items[b"UIDVALIDITY"] != state.uidvalidity or items[b"UIDNEXT"] > state.last_uid + 1


def sync_folders(
    client: imaplib.IMAP4,
    mailbox: Mailbox,
    folders: list[str],
    *,
    only_news: bool = False,
    missing_ok: bool = False,
) -> SyncResult:
    """Read each of ``folders``, INBOX last so that it stays selected for IDLE.

    ``only_news``: open a folder other than INBOX only when STATUS says it changed.
    ``missing_ok``: a folder the server no longer has is reported in
    ``result.missing`` instead of stopping the sync (INBOX always exists).
    """
    result = SyncResult()
    others = [f for f in folders if f != INBOX]
    for folder in others:
        try:
            if not only_news or has_news(client, mailbox, folder):
                result.add(sync_folder(client, mailbox, folder))
        except FolderMissing:
            if not missing_ok:
                raise
            result.missing.append(folder)
    if INBOX in folders:
        result.add(sync_folder(client, mailbox, INBOX))
    return result


def sync_inbox_now(mailbox: Mailbox) -> SyncResult:
    """Read every watched folder once, now (the check made just before a send).

    Raises SyncError (FolderMissing included) or an IMAP/network error when any
    watched folder cannot be read: the caller must not send blind.
    """
    try:
        kept = presend_connections.take(mailbox)
    except (OSError, imaplib.IMAP4.error) as exc:
        report_login_failed(mailbox, exc)
        raise
    try:
        result = sync_folders(kept.client, mailbox, mailbox.folders_to_watch)
    except BaseException:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            kept.client.logout()
        raise
    presend_connections.give_back(mailbox, kept)
    report_logged_in(mailbox)
    return result


def report_login_failed(mailbox: Mailbox, exc: Exception) -> None:
    """Count a failed IMAP connection or login (``mailboxes.health``); a problem
    recording it is logged, never raised into the caller's own handling."""
    error = f"IMAP {mailbox.imap_host}:{mailbox.imap_port}: {exc}"
    try:
        record_mailbox_failure(mailbox, Side.IMAP, error)
    except Exception:
        logger.exception("mailbox %s: could not record the IMAP failure", mailbox.pk)


def report_logged_in(mailbox: Mailbox) -> None:
    """The IMAP login worked (``mailboxes.health``: one small query when healthy)."""
    try:
        record_mailbox_working(mailbox, [Side.IMAP], via="the mailbox was read")
    except Exception:
        logger.exception("mailbox %s: could not record that IMAP works", mailbox.pk)


def _response(client: imaplib.IMAP4, name: str) -> str:
    _, values = client.response(name)
    if not values or values[0] is None:
        raise SyncError(f"the server sent no {name}")
    value = values[-1]
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional_response(client: imaplib.IMAP4, name: str) -> str | None:
    try:
        return _response(client, name)
    except SyncError:
        return None


def _text(data: object) -> str:
    if isinstance(data, list) and data and isinstance(data[0], bytes):
        return data[0].decode("utf-8", "replace")
    return repr(data)


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
        self.connecting: Mailbox | None = None

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
                    if self.connecting is not None:
                        report_login_failed(self.connecting, exc)
                    logger.warning(
                        "mailbox %s: %s; retrying in %.0f s", self.mailbox_id, exc, backoff
                    )
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        finally:
            release_lease(self.mailbox_id, self.holder)
            connection.close()

    def watch(self) -> None:
        """IDLE on INBOX; STATUS on the other watched folders every ``POLL_SECONDS``;
        renew the lease (and re-read the folder list) every ``idle_seconds()``."""
        mailbox = Mailbox.objects.get(pk=self.mailbox_id)
        self.connecting = mailbox  # a failure until logged in counts (mailboxes.health)
        client = open_imap(mailbox)
        self.connecting = None
        report_logged_in(mailbox)
        missing: set[str] = set()
        try:
            self.report_missing(
                mailbox,
                sync_folders(client, mailbox, mailbox.folders_to_watch, missing_ok=True),
                missing,
            )
            renew_at = time.monotonic() + idle_seconds()
            while not self.stopping.is_set():
                if time.monotonic() >= renew_at:
                    if not acquire_lease(self.mailbox_id, self.holder):
                        return
                    renew_at = time.monotonic() + idle_seconds()
                    mailbox.refresh_from_db(fields=["watched_folders"])
                    # The periodic full check: nothing depends on IDLE alone.
                    found = sync_folders(
                        client, mailbox, mailbox.folders_to_watch, only_news=True, missing_ok=True
                    )
                    self.report_missing(mailbox, found, missing)
                    continue
                others = [f for f in mailbox.folders_to_watch if f != INBOX and f not in missing]
                wait = renew_at - time.monotonic()
                if others:
                    wait = min(wait, POLL_SECONDS)
                inbox_changed = idle(client, max(wait, 0.05))
                found = sync_folders(client, mailbox, others, only_news=True, missing_ok=True)
                self.report_missing(mailbox, found, missing)
                if inbox_changed or found.folders or found.missing:
                    sync_folder(client, mailbox, INBOX)  # selects INBOX again for IDLE
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()

    def report_missing(self, mailbox: Mailbox, result: SyncResult, missing: set[str]) -> None:
        """Log once each folder the server lacks; until it reappears it is checked only
        at lease renewals, and INBOX stays watched. (The check before a send refuses
        to send until the folder list is fixed.)"""
        for folder in result.missing:
            if folder not in missing:
                missing.add(folder)
                logger.warning(
                    "mailbox %s: the watched folder %r does not exist on the server; "
                    "fix the folder list with `cadency mailbox folders %s --watch …`",
                    mailbox.email,
                    folder,
                    mailbox.pk,
                )
        missing.difference_update(result.folders)


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
