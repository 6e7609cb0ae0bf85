"""The mailbox's Sent folder: where copies go, and the witness of what left."""

import imaplib
import time
from typing import cast

from cadency.mailboxes.connections import encode_imap_folder, open_imap
from cadency.mailboxes.models import Mailbox


class SentFolderError(Exception):
    """The Sent folder could not be read or written."""


def _holds(client: imaplib.IMAP4, mailbox: Mailbox, message_id: str) -> bool:
    status, data = client.select(encode_imap_folder(mailbox.sent_folder), readonly=True)
    if status != "OK":
        raise SentFolderError(f"cannot open {mailbox.sent_folder!r}: {data!r}")
    status, data = client.search(None, "HEADER", "Message-ID", f'"{message_id}"')
    if status != "OK":
        raise SentFolderError(f"SEARCH failed: {data!r}")
    return bool(data and data[0] and data[0].split())


def sent_folder_has(mailbox: Mailbox, message_id: str) -> bool:
    """Whether a message with this Message-ID is in the Sent folder."""
    client = open_imap(mailbox)
    try:
        return _holds(client, mailbox, message_id)
    finally:
        client.logout()


def file_in_sent(mailbox: Mailbox, message_id: str, raw: bytes) -> bool:
    """Append the copy unless one with this Message-ID is there already (repeated
    tasks must not file it twice). Returns whether it appended. One IMAP session."""
    client = open_imap(mailbox)
    try:
        if _holds(client, mailbox, message_id):
            return False
        response = client.append(
            encode_imap_folder(mailbox.sent_folder),
            r"(\Seen)",
            imaplib.Time2Internaldate(time.time()),
            raw,
        )
        # typeshed declares str; imaplib returns (status, data) like every command.
        status, data = cast(tuple[str, list[bytes]], response)
        if status != "OK":
            raise SentFolderError(f"APPEND to {mailbox.sent_folder!r} failed: {data!r}")
        return True
    finally:
        client.logout()
