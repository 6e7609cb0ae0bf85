"""Re-encrypting the secrets at rest with the newest key (``cadency keys``).

Every ``*_encrypted`` column holds a Fernet token made by ``lib.crypto`` with the
first of ``CADENCY_ENCRYPTION_KEYS``; all the keys listed can read. To rotate: put a
new key first, keep the old ones after it, run ``cadency keys rotate``, check with
``cadency keys check``, then drop the old keys. Rotating twice changes nothing the
second time; a row changed meanwhile (a new password saved) is left as saved.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models, transaction

from cadency.automation.models import Workflow
from cadency.calendars.models import CalendarConnection
from cadency.lib import crypto
from cadency.mailboxes.models import Mailbox

BATCH_SIZE = 200


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    column: str
    label: str  # the field that names a row to a person

    @property
    def name(self) -> str:
        return f"{self.model._meta.label}.{self.column}"


ENCRYPTED_COLUMNS = (
    EncryptedColumn(Mailbox, "secret_encrypted", "email"),
    EncryptedColumn(CalendarConnection, "secret_encrypted", "name"),
    EncryptedColumn(CalendarConnection, "refresh_token_encrypted", "name"),
    EncryptedColumn(Workflow, "webhook_secret_encrypted", "name"),
)


@dataclass(frozen=True)
class Row:
    pk: int
    label: str


@dataclass
class ColumnReport:
    """What rotating (or checking) one column found."""

    column: str
    rows: int = 0
    rotated: int = 0
    current: int = 0  # already encrypted with the newest key
    old_key: int = 0  # readable, but with an older key (check only)
    unreadable: list[Row] = field(default_factory=list)


def is_current(token: str) -> bool:
    """Whether the newest key made this token. Without configured keys there is one
    (derived) key, so a readable token is current."""
    keys: list[str] = list(settings.CADENCY_ENCRYPTION_KEYS)
    try:
        if keys:
            Fernet(keys[0]).decrypt(token.encode())
        else:
            crypto.decrypt(token)
    except (InvalidToken, crypto.SecretUnreadable):
        return False
    return True


def is_readable(token: str) -> bool:
    try:
        crypto.decrypt(token)
    except crypto.SecretUnreadable:
        return False
    return True


def batches(column: EncryptedColumn, size: int) -> Iterator[list[tuple[int, str, str]]]:
    """(pk, token, label) of the rows with a secret, ``size`` at a time, by pk."""
    last_pk = 0
    manager = column.model._default_manager
    while True:
        batch = list(
            manager.filter(pk__gt=last_pk)
            .exclude(**{column.column: ""})
            .order_by("pk")
            .values_list("pk", column.column, column.label)[:size]
        )
        if not batch:
            return
        yield batch
        last_pk = batch[-1][0]


def rotate(batch_size: int = BATCH_SIZE) -> list[ColumnReport]:
    """Re-encrypt every secret not made by the newest key; one transaction a batch."""
    reports = []
    for column in ENCRYPTED_COLUMNS:
        report = ColumnReport(column=column.name)
        manager = column.model._default_manager
        for batch in batches(column, batch_size):
            with transaction.atomic():
                for pk, token, label in batch:
                    report.rows += 1
                    if is_current(token):
                        report.current += 1
                        continue
                    try:
                        fresh = crypto.reencrypt(token)
                    except InvalidToken:
                        report.unreadable.append(Row(pk=pk, label=str(label)))
                        continue
                    # Only if unchanged since read: a secret saved meanwhile wins.
                    changed = manager.filter(pk=pk, **{column.column: token}).update(
                        **{column.column: fresh}
                    )
                    report.rotated += changed
                    report.current += 1 - changed
        reports.append(report)
    return reports


def check(batch_size: int = BATCH_SIZE) -> list[ColumnReport]:
    """Which secrets the configured keys read, and which still need the old keys."""
    reports = []
    for column in ENCRYPTED_COLUMNS:
        report = ColumnReport(column=column.name)
        for batch in batches(column, batch_size):
            for pk, token, label in batch:
                report.rows += 1
                if is_current(token):
                    report.current += 1
                elif is_readable(token):
                    report.old_key += 1
                else:
                    report.unreadable.append(Row(pk=pk, label=str(label)))
        reports.append(report)
    return reports
