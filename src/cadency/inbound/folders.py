"""Which folders of a mailbox the watcher reads: INBOX, plus the folders a rep's
mail rules file replies into (``Mailbox.watched_folders``).

Folder names are kept as the rep's mail client shows them ("Réponses",
"Sales/Replies") and encoded for IMAP (RFC 3501 modified UTF-7) only on the wire.
"""

import base64
import imaplib
import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.ledger.services import record_event
from cadency.mailboxes.connections import encode_imap_folder
from cadency.mailboxes.models import INBOX, FolderSyncState, Mailbox

MAX_FOLDER_LENGTH = 200  # FolderSyncState.folder, InboundMessage.folder
MAX_WATCHED_FOLDERS = 20
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
UTF7_RUN = re.compile(r"&([^-]*)-")
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')


class FolderError(ValueError):
    """A folder list that cannot be watched; the message says why."""


def clean_folder_names(names: Iterable[str]) -> list[str]:
    """INBOX first, then each other folder once, names trimmed; FolderError when a
    name is unusable. INBOX is always watched: replies arrive there."""
    folders = [INBOX]
    for raw in names:
        name = raw.strip()
        if not name or name.upper() == INBOX:
            continue
        if CONTROL.search(name):
            raise FolderError(f"the folder name {name!r} contains a control character")
        if len(name) > MAX_FOLDER_LENGTH:
            raise FolderError(f"the folder name {name[:40]!r}… is longer than 200 characters")
        if name not in folders:
            folders.append(name)
    if len(folders) > MAX_WATCHED_FOLDERS:
        raise FolderError(f"at most {MAX_WATCHED_FOLDERS} folders can be watched per mailbox")
    return folders


def set_watched_folders(*, mailbox: Mailbox, folders: Iterable[str], actor: User | None) -> bool:
    """Watch these folders (INBOX always included). Returns whether anything changed.

    A folder added now is read from now on, not from when the mailbox was
    connected; a folder no longer watched forgets how far it was read, so watching
    it again later starts afresh. The watcher picks the change up within a lease
    renewal (``CADENCY_WATCHER_LEASE_SECONDS`` / 3).
    """
    wanted = clean_folder_names(folders)
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        before = locked.folders_to_watch
        if wanted == before and locked.watched_folders == wanted:
            return False
        locked.watched_folders = wanted
        locked.save(update_fields=["watched_folders"])
        added = [f for f in wanted if f not in before]
        removed = [f for f in before if f not in wanted]
        FolderSyncState.objects.filter(mailbox=locked, folder__in=removed).delete()
        now = timezone.now()
        for folder in added:
            FolderSyncState.objects.update_or_create(
                mailbox=locked,
                folder=folder,
                defaults={"uidvalidity": None, "last_uid": 0, "watched_since": now},
            )
        who = actor.display_name if actor else "Cadency"
        record_event(
            kind="mailbox_folders_changed",
            actor=actor,
            sentence=f"{who} set the folders watched for replies in {locked.email}: "
            f"{', '.join(wanted)}.",
            data={"mailbox": locked.pk, "folders": wanted, "added": added, "removed": removed},
        )
    mailbox.watched_folders = wanted
    return True


# --- folder names on the wire (RFC 3501 §5.1.3) ----------------------------------------


def to_imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7: ``Réponses`` → ``R&AOk-ponses``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def from_imap_utf7(name: str) -> str:
    def decode(run: re.Match[str]) -> str:
        body = run.group(1)
        if not body:
            return "&"
        padded = body.replace(",", "/") + "=" * (-len(body) % 4)
        return base64.b64decode(padded).decode("utf-16-be")

    return UTF7_RUN.sub(decode, name)


def imap_folder(name: str) -> str:
    """The folder name as an IMAP command argument: encoded and quoted."""
    return encode_imap_folder(to_imap_utf7(name))


def server_folders(client: imaplib.IMAP4) -> list[str]:
    """Every selectable folder on the server, named as a mail client shows them."""
    status, data = client.list()
    if status != "OK":
        raise imaplib.IMAP4.error(f"LIST failed: {data!r}")
    names: list[str] = []
    for item in data:
        line, literal = (item[0], item[1]) if isinstance(item, tuple) else (item, None)
        if not isinstance(line, bytes):
            continue
        found = LIST_LINE.match(line)
        if found is None or b"\\noselect" in found["flags"].lower():
            continue
        if literal is not None:
            raw = bytes(literal)
        else:
            raw = found["name"].strip()
            if raw.startswith(b'"') and raw.endswith(b'"'):
                raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
        names.append(from_imap_utf7(raw.decode("ascii", "replace")))
    return names


def missing_folders(folders: Iterable[str], existing: Iterable[str]) -> list[str]:
    """The folders that are not on the server (INBOX always is)."""
    present = set(existing)
    return [f for f in folders if f.upper() != INBOX and f not in present]
