"""The mailbox's Sent folder: where copies go, and the witness of what left."""

import imaplib
import time
from typing import cast

from cadency.mailboxes.connections import encode_imap_folder, open_imap
from cadency.mailboxes.models import Mailbox


class SentFolderError(Exception):
    """The Sent folder could not be read or written."""


def append_to_sent(mailbox: Mailbox, raw: bytes, *, when: float | None = None) -> None:
    client = open_imap(mailbox)
    try:
        response = client.append(
            encode_imap_folder(mailbox.sent_folder),
            r"(\Seen)",
            imaplib.Time2Internaldate(when or time.time()),
            raw,
        )
        # typeshed declares str; imaplib returns (status, data) like every command.
        status, data = cast(tuple[str, list[bytes]], response)
        if status != "OK":
            raise SentFolderError(f"APPEND to {mailbox.sent_folder!r} failed: {data!r}")
    finally:
        client.logout()


def sent_folder_has(mailbox: Mailbox, message_id: str) -> bool:
    """Whether a message with this Message-ID is in the Sent folder."""
    client = open_imap(mailbox)
    try:
        status, data = client.select(encode_imap_folder(mailbox.sent_folder), readonly=True)
        if status != "OK":
            raise SentFolderError(f"cannot open {mailbox.sent_folder!r}: {data!r}")
        status, data = client.search(None, "HEADER", "Message-ID", f'"{message_id}"')
        if status != "OK":
            raise SentFolderError(f"SEARCH failed: {data!r}")
        return bool(data and data[0] and data[0].split())
    finally:
        client.logout()
