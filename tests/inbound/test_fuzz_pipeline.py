"""Fuzzing the whole inbound pipeline with the mutated messages of ``test_fuzz_classifier``.

A mailbox whose rep enrolled the seeds' sender, in the seeds' thread: every mutant is
stored byte for byte and processed to a final status, ``processed`` or ``failed``
(never an exception); a failed one is listed as failed with its error, and
``reprocess`` runs it again without raising. Each example runs in a savepoint that is
rolled back, so every mutant meets the same open enrollment.
"""

import itertools

import pytest
from django.db import transaction
from hypothesis import given

from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.inbound.pipeline import pending_messages, process_message, reprocess, store_message
from cadency.inbound.selectors import visible_messages
from cadency.mailboxes.models import Mailbox
from cadency.outbound.models import SentMessage
from cadency.sequences.models import StepRun
from tests.factories import make_contact
from tests.inbound.support import WHEN, enrolled, rep
from tests.inbound.test_fuzz_classifier import (
    CONTACT,
    FUZZ_SETTINGS,
    SEEDS,
    THREAD_ID,
    mutated_messages,
)

pytestmark = pytest.mark.django_db

FINAL = {InboundStatus.PROCESSED, InboundStatus.FAILED, InboundStatus.IGNORED_OWN}
_uid = itertools.count(1)


def in_thread_mailbox() -> Mailbox:
    """A rep's mailbox, with the seeds' sender enrolled and our first email sent as THREAD_ID."""
    user, mailbox = rep()
    enrollment = enrolled(user, make_contact(CONTACT))
    StepRun.objects.filter(enrollment=enrollment).update(message_id=THREAD_ID)
    SentMessage.objects.filter(enrollment=enrollment).update(message_id=THREAD_ID)
    return mailbox


def store_and_process(mailbox: Mailbox, raw: bytes) -> InboundMessage:
    message, created = store_message(
        mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=next(_uid), raw=raw
    )
    assert created
    return process_message(message, now=WHEN)


def check_pipeline(mailbox: Mailbox, raw: bytes) -> InboundMessage:
    """Store and process ``raw``, check every promise, then roll it all back."""
    with transaction.atomic():
        message = store_and_process(mailbox, raw)
        stored = InboundMessage.objects.get(pk=message.pk)
        assert bytes(stored.raw) == raw
        assert stored.status in FINAL
        if stored.status == InboundStatus.FAILED:
            assert stored.error
            assert stored in pending_messages(mailbox)
            assert stored in visible_messages(mailbox.user).filter(status=InboundStatus.FAILED)
            report = reprocess([stored], now=WHEN)
            assert report.failed + report.processed == 1
            assert bytes(InboundMessage.objects.get(pk=message.pk).raw) == raw
        transaction.set_rollback(True)
    return stored


def test_every_seed_is_processed() -> None:
    mailbox = in_thread_mailbox()
    for name, raw in SEEDS.items():
        assert check_pipeline(mailbox, raw).status == InboundStatus.PROCESSED, name


def test_a_mutated_message_ends_processed_or_failed_with_its_bytes_kept() -> None:
    mailbox = in_thread_mailbox()

    @FUZZ_SETTINGS
    @given(raw=mutated_messages())
    def run(raw: bytes) -> None:
        check_pipeline(mailbox, raw)

    run()


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n", b"\x00\x00\x00"])
def test_an_unparseable_message_is_failed_with_its_raw_bytes(raw: bytes) -> None:
    mailbox = in_thread_mailbox()
    message = store_and_process(mailbox, raw)
    message.refresh_from_db()
    assert message.status == InboundStatus.FAILED
    assert message.error.startswith("classify: UnparseableMessage")
    assert bytes(message.raw) == raw
    assert reprocess(pending_messages(mailbox), now=WHEN).failed == 1
