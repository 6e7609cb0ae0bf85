"""The two fuzz targets and the promises they check on every input.

Imported by the harness after ``django.setup()``, inside ``atheris.instrument_imports``.

- classifier: ``classify_message`` returns a well-formed Classification that the
  database can store (no NUL, no lone surrogate: PostgreSQL refuses both) and
  that survives its JSON round trip, or refuses the bytes with ``UnparseableMessage``.
- pipeline: store raw → classify → identify → decide → act. The message row exists
  with its raw bytes byte for byte and ends ``processed`` (or ``ignored_own``), or
  ``failed`` because the classifier found nothing usable; any other failure is a bug
  the pipeline caught, and reported here as one. A failed message reprocesses
  without raising. Each input runs in a transaction rolled back afterwards, so
  every input meets the same rep, contacts and open enrollments.
"""

import datetime as dt
import json
import logging
import traceback
from collections.abc import Iterator
from typing import Any

from django.core.management import call_command
from django.db import transaction

from cadency.inbound.classification import Classification, Label
from cadency.inbound.classifier import UnparseableMessage, classify_message
from cadency.inbound.models import (
    InboundMessage,
    InboundStatus,
    classification_from_json,
    classification_to_json,
)
from cadency.inbound.pipeline import process_message, reprocess, store_message
from cadency.mailboxes.models import Mailbox

NOW = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)
FINAL = {InboundStatus.PROCESSED, InboundStatus.IGNORED_OWN, InboundStatus.FAILED}
EXPECTED_FAILURE = "classify: UnparseableMessage"
STORED_TEXT = [
    "message_id",
    "in_reply_to",
    "references",
    "from_address",
    "from_name",
    "subject",
    "error",
    "label",
    "decision",
]


class Broken(Exception):
    """An input broke one of the inbound pipeline's promises."""

    def __init__(self, promise: str, detail: str = "") -> None:
        super().__init__(promise)
        self.promise = promise
        self.detail = detail


# --- checks shared by both targets ---------------------------------------------------


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def check_storable(value: Any, where: str) -> None:
    """Text PostgreSQL accepts: no NUL character, valid UTF-8 (no lone surrogate)."""
    for text in strings_in(value):
        if "\x00" in text:
            raise Broken(f"{where}: NUL character (PostgreSQL refuses it)", repr(text[:300]))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise Broken(f"{where}: lone surrogate (not UTF-8)", repr(text[:300])) from None


def check_classification(result: Classification) -> None:
    if not isinstance(result.label, Label):
        raise Broken("classification: unknown label", repr(result.label))
    if not 0 <= result.confidence <= 1:
        raise Broken("classification: confidence outside 0..1", repr(result.confidence))
    if not result.reasons:
        raise Broken("classification: no reason given")
    stored = classification_to_json(result)
    check_storable(stored, "classification")
    if classification_from_json(json.loads(json.dumps(stored))) != result:
        raise Broken("classification: changed by its JSON round trip", repr(stored)[:2000])


# --- the classifier ------------------------------------------------------------------


def classifier_target(raw: bytes) -> str:
    """Classify ``raw``; the outcome (label or ``unparseable``) for the tallies."""
    try:
        result = classify_message(raw, now=NOW)
    except UnparseableMessage:
        return "unparseable"
    check_classification(result)
    return result.label.value


# --- the pipeline --------------------------------------------------------------------


class LastFailure(logging.Handler):
    """Keeps the traceback of the last failure the pipeline caught and logged."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.text = "".join(traceback.format_exception(record.exc_info[1]))


LAST_FAILURE = LastFailure()


def prepare_database() -> Mailbox:
    """Migrate the (empty, temporary) database and build the rep's world; her mailbox.

    Alice enrolled Maria (the seeds' sender, paused on out-of-office replies) and her
    colleague Li Wei at Globex; our first email to Maria has the seeds' THREAD_ID.
    """
    from tests.factories import make_company, make_contact
    from tests.inbound.support import enrolled, rep

    from cadency.outbound.models import SentMessage
    from cadency.sequences.models import StepRun
    from fuzz.seeds import COLLEAGUE, CONTACT, THREAD_ID

    call_command("migrate", verbosity=0, interactive=False)
    user, mailbox = rep("alice")
    globex = make_company("Globex", "globex.test")
    maria = make_contact(CONTACT, first_name="Maria", last_name="Rossi", company=globex)
    li = make_contact(COLLEAGUE, first_name="Li", last_name="Wei", company=globex)
    enrollment = enrolled(user, maria, pause_on_out_of_office=True)
    StepRun.objects.filter(enrollment=enrollment).update(message_id=THREAD_ID)
    SentMessage.objects.filter(enrollment=enrollment).update(message_id=THREAD_ID)
    enrolled(user, li, sent_steps=2)
    pipeline_log = logging.getLogger("cadency.inbound.pipeline")
    pipeline_log.handlers = [LAST_FAILURE]
    pipeline_log.setLevel(logging.WARNING)
    pipeline_log.propagate = False
    return mailbox


def pipeline_target(mailbox: Mailbox, raw: bytes) -> str:
    """Store and process ``raw``, check every promise, roll back; the outcome for the tallies."""
    with transaction.atomic():
        LAST_FAILURE.text = ""
        message, created = store_message(
            mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=1, raw=raw
        )
        if not created:
            raise Broken("store: the message was not stored")
        process_message(message, now=NOW)
        outcome = check_stored(message.pk, raw)
        if outcome == InboundStatus.FAILED:
            reprocess(InboundMessage.objects.filter(pk=message.pk), now=NOW)
            check_stored(message.pk, raw)
        transaction.set_rollback(True)
    return outcome


def check_stored(pk: int, raw: bytes) -> str:
    stored = InboundMessage.objects.filter(pk=pk).first()
    if stored is None:
        raise Broken("store: the message row is gone")
    if bytes(stored.raw) != raw:
        raise Broken("store: the raw bytes changed")
    if stored.status not in FINAL:
        raise Broken(f"process: left {stored.status!r}")
    check_storable([getattr(stored, name) for name in STORED_TEXT], "message row")
    check_storable([stored.classification, stored.decision_evidence], "message row JSON")
    if stored.status == InboundStatus.FAILED:
        if not stored.error.startswith(EXPECTED_FAILURE):
            raise Broken(f"process: failed with {stored.error[:200]}", LAST_FAILURE.text)
        return str(stored.status)
    return f"{stored.status}:{stored.decision}:{stored.label}"
