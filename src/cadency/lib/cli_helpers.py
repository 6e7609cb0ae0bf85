"""Shared pieces of the ``cadency`` management commands.

Look-ups that fail with a clear :class:`CommandError`, JSON and table output,
secrets read from a flag, stdin or a prompt, and the confirmation prompt.
Commands stay thin: parse, look up, check access, call a service, print.
"""

import argparse
import datetime as dt
import getpass
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NoReturn

from django.core.management.base import CommandError, OutputWrapper
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Contact, ContactEmail
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment, Task
from cadency.sequences.models import Sequence as SequenceModel

# --- look-ups ---------------------------------------------------------------


def get_user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"there is no user named {username!r} (see `cadency user list`)")
    return user


def get_actor(username: str) -> User:
    """The user named by ``--as``: must exist and be active."""
    user = get_user(username)
    if not user.is_active:
        raise CommandError(f"{username!r} is deactivated and cannot act")
    return user


def clean_email(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidAddress as exc:
        raise CommandError(str(exc)) from exc


def get_contact(email: str, *, include_deleted: bool = False) -> Contact:
    """The contact owning this address, as primary address or as an additional one."""
    address = clean_email(email)
    contacts = Contact.objects.all() if include_deleted else Contact.objects.filter(deleted_at=None)
    contact = contacts.filter(email=address).first()
    if contact is None:
        alias = ContactEmail.objects.filter(email=address).values_list("contact_id", flat=True)
        contact = contacts.filter(pk__in=alias).first()
    if contact is None:
        raise CommandError(f"there is no contact with the address {address}")
    return contact


def get_sequence(pk: int) -> SequenceModel:
    sequence = SequenceModel.objects.select_related("owner").filter(pk=pk).first()
    if sequence is None:
        raise CommandError(f"there is no sequence with id {pk} (see `cadency sequence list`)")
    return sequence


def get_enrollment(pk: int) -> Enrollment:
    enrollment = (
        Enrollment.objects.select_related("contact", "sequence", "enrolled_by", "mailbox")
        .filter(pk=pk)
        .first()
    )
    if enrollment is None:
        raise CommandError(f"there is no enrollment with id {pk}")
    return enrollment


def get_task(pk: int) -> Task:
    task = Task.objects.select_related("assignee", "contact").filter(pk=pk).first()
    if task is None:
        raise CommandError(f"there is no task with id {pk} (see `cadency task list`)")
    return task


def get_mailbox(ref: str, *, user: User | None = None) -> Mailbox:
    """A mailbox by id or by address (of ``user`` when given)."""
    mailboxes = Mailbox.objects.select_related("user")
    if user is not None:
        mailboxes = mailboxes.filter(user=user)
    if ref.isdigit():
        found = list(mailboxes.filter(pk=int(ref)))
    else:
        found = list(mailboxes.filter(email=clean_email(ref)))
    owner = f" of {user.username}" if user is not None else ""
    if not found:
        raise CommandError(f"there is no mailbox{owner} {ref!r} (see `cadency mailbox list`)")
    if len(found) > 1:
        ids = ", ".join(str(m.pk) for m in found)
        raise CommandError(f"several users have the mailbox {ref}: give its id ({ids})")
    return found[0]


# --- parsing ----------------------------------------------------------------


def positive_int(text: str) -> int:
    """An argparse ``type`` for ids, counts and limits."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def parse_when(text: str, option: str) -> dt.datetime:
    """An ISO 8601 date-time with an explicit offset (``Z`` or ``+02:00``)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{option}: {text!r} is not an ISO 8601 date-time like 2030-06-03T09:00+02:00"
        ) from None
    if timezone.is_naive(value):
        raise CommandError(
            f"{option}: {text!r} has no UTC offset; add one, e.g. {text}Z or {text}+02:00"
        )
    return value


def read_secret(*, value: str | None, from_stdin: bool, prompt: str, repeat: bool = False) -> str:
    """A password or token: from the flag, one line of stdin, or a hidden prompt."""
    if value is not None and from_stdin:
        raise CommandError("give the secret either as an option or on stdin, not both")
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif value is not None:
        secret = value
    else:
        secret = getpass.getpass(f"{prompt}: ")
        if repeat and getpass.getpass(f"{prompt} (again): ") != secret:
            raise CommandError("the two entries do not match; nothing was changed")
    if not secret:
        raise CommandError(f"{prompt}: an empty value is not allowed")
    return secret


# --- output -----------------------------------------------------------------


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def short_time(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return timezone.localtime(value, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(out: OutputWrapper, data: Any) -> None:
    out.write(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def write_table(
    out: OutputWrapper,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    empty: str = "(none)",
) -> None:
    cells = [[("-" if cell is None or cell == "" else str(cell)) for cell in row] for row in rows]
    if not cells:
        out.write(empty)
        return
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out.write(line(headers))
    for row in cells:
        out.write(line(row))


def confirm(err: OutputWrapper, question: str, *, assume_yes: bool) -> bool:
    """Ask on stderr (stdout stays clean for --json); only "y"/"yes" confirms."""
    if assume_yes:
        return True
    err.write(f"{question} [y/N]", style_func=str, ending=" ")
    err.flush()
    try:
        answer = input()
    except EOFError:
        err.write("")
        return False
    return answer.strip().lower() in {"y", "yes"}


def exit_with(err: OutputWrapper, message: str, code: int = 1) -> NoReturn:
    """Print exactly ``message`` on stderr and exit (no "CommandError:" prefix)."""
    err.write(message)
    raise SystemExit(code)


class ProgressStream:
    """Lets tqdm draw on a command's stderr wrapper (no added newlines, no colour)."""

    def __init__(self, wrapper: OutputWrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return self.wrapper.isatty()


def enrollment_data(enrollment: Enrollment) -> dict[str, Any]:
    """An enrollment for --json output (expects contact, sequence, enrolled_by, mailbox)."""
    return {
        "id": enrollment.pk,
        "contact": enrollment.contact.email,
        "email": enrollment.email,
        "sequence": {"id": enrollment.sequence_id, "name": enrollment.sequence.name},
        "enrolled_by": enrollment.enrolled_by.username,
        "mailbox": enrollment.mailbox.email,
        "status": enrollment.status,
        "current_step": enrollment.current_position,
        "reason": enrollment.reason or None,
        "reason_text": enrollment.reason_text or None,
        "started_at": iso(enrollment.started_at),
        "ended_at": iso(enrollment.ended_at),
    }
