"""Folders beyond INBOX, end to end on Dovecot: a reply the rep's mail rules file
into another folder ends the enrollment like one in the inbox, the check before a
send reads those folders too, and nothing is read twice or read from before."""

import datetime as dt
import imaplib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from cadency.inbound.folders import imap_folder, set_watched_folders
from cadency.inbound.models import InboundMessage
from cadency.inbound.watcher import MailboxWatch, sync_inbox_now
from cadency.ledger.models import Event
from cadency.mailboxes.models import FolderSyncState, Health, Mailbox
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.e2e.conftest import run_worker_until_idle
from tests.e2e.test_watcher import reply_to, send_as, sent_message_id, wait_for
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]

FILE_REPLIES = """require ["fileinto", "mailbox"];
if header :matches "subject" "Re: *" { fileinto :create "Replies"; stop; }
"""

FileAsRep = Callable[[str, bytes], None]


@pytest.fixture
def fast_leases(settings: Any) -> None:
    settings.CADENCY_WATCHER_LEASE_SECONDS = 3


def watch(mailbox: Mailbox) -> Iterator[MailboxWatch]:
    stopping = threading.Event()
    watcher = MailboxWatch(mailbox.pk, stopping)
    watcher.start()
    yield watcher
    stopping.set()
    watcher.join(timeout=10)


def create_folder(stack: MailStack, name: str) -> None:
    client = stack.imap("rep@example.test")
    try:
        client.create(imap_folder(name))
    finally:
        client.logout()


def fresh(enrollment: Enrollment) -> Enrollment:
    return Enrollment.objects.get(pk=enrollment.pk)


def mailbox_of(rep: Any) -> Mailbox:
    mailbox: Mailbox = rep.mailboxes.get()
    return mailbox


def test_a_reply_filed_into_a_watched_folder_by_a_mail_rule_ends_the_enrollment(
    mailstack: MailStack,
    rep: Any,
    jane: Any,
    two_step_sequence: Any,
    rep_sieve: Callable[[str], None],
    settings: Any,
) -> None:
    settings.CADENCY_WATCHER_LEASE_SECONDS = 30  # lease renewals (and full reads) every 10 s
    rep_sieve(FILE_REPLIES)
    create_folder(mailstack, "Replies")
    mailbox = mailbox_of(rep)
    set_watched_folders(mailbox=mailbox, folders=["INBOX", "Replies"], actor=rep)
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    watching = watch(mailbox)
    next(watching)
    try:
        wait_for(lambda: FolderSyncState.objects.filter(last_synced_at__isnull=False).count() == 2)
        send_as(mailstack, "jane@acme.test", reply_to(sent_message_id(enrollment)))

        elapsed = wait_for(lambda: fresh(enrollment).status == "unenrolled", timeout=10)
    finally:
        next(watching, None)
    assert elapsed < 5, "seen by the STATUS poll every POLL_SECONDS, not at a lease renewal"
    assert (fresh(enrollment).reason, fresh(enrollment).evidence["from"]) == (
        "replied",
        "jane@acme.test",
    )
    assert mailstack.messages("rep@example.test") == [], "the rule filed it: INBOX is empty"
    (message,) = mailstack.messages("rep@example.test", "Replies")
    assert message["Subject"].startswith("Re:")
    assert InboundMessage.objects.get().folder == "Replies"
    assert fresh(enrollment).step_runs.get(position=2).state == "cancelled"


def test_a_reply_in_another_folder_just_before_the_next_step_stops_that_step(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, file_as_rep: FileAsRep
) -> None:
    create_folder(mailstack, "Réponses")  # a non-ASCII name: modified UTF-7 on the wire
    mailbox = mailbox_of(rep)
    set_watched_folders(mailbox=mailbox, folders=["Réponses"], actor=rep)
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    file_as_rep("Réponses", reply_to(sent_message_id(enrollment)).as_bytes())  # no watcher runs

    with time_machine.travel(timezone.now() + dt.timedelta(days=3), tick=True):
        run_worker_until_idle()  # step 2 is due: claimed, then every watched folder is read
    enrollment = fresh(enrollment)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "replied")
    assert enrollment.step_runs.get(position=2).state == "cancelled"
    assert Event.objects.filter(enrollment=enrollment, kind="send_withheld").exists()
    assert InboundMessage.objects.get().folder == "Réponses"
    time.sleep(0.5)
    assert len(mailstack.messages("jane@acme.test")) == 1, "no follow-up after the reply"


def test_a_folder_added_later_reads_a_reply_already_there_and_only_from_now_on(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, file_as_rep: FileAsRep
) -> None:
    mailbox = mailbox_of(rep)
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    old = reply_to("<unrelated@acme.test>", sender="john@acme.test").as_bytes()
    create_folder(mailstack, "Replies")
    client = mailstack.imap("rep@example.test")
    try:
        long_ago = imaplib.Time2Internaldate(time.time() - 90 * 86400)
        assert client.append(imap_folder("Replies"), None, long_ago, old)[0] == "OK"
    finally:
        client.logout()
    file_as_rep("Replies", reply_to(sent_message_id(enrollment)).as_bytes())

    sync_inbox_now(mailbox)
    assert fresh(enrollment).status == "active", "Replies is not watched yet"
    set_watched_folders(mailbox=mailbox, folders=["INBOX", "Replies"], actor=rep)
    sync_inbox_now(mailbox)
    sync_inbox_now(mailbox)
    assert fresh(enrollment).reason == "replied"
    (message,) = InboundMessage.objects.all()
    assert message.folder == "Replies", "the 90-day-old message is never read"


def test_a_message_moved_from_the_inbox_to_a_watched_folder_is_processed_once(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, file_as_rep: FileAsRep
) -> None:
    create_folder(mailstack, "Replies")
    mailbox = mailbox_of(rep)
    set_watched_folders(mailbox=mailbox, folders=["Replies"], actor=rep)
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    answer = reply_to(sent_message_id(enrollment), sender="john@acme.test")
    send_as(mailstack, "john@acme.test", answer)
    mailstack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(mailbox)
    file_as_rep("Replies", answer.as_bytes())  # the rep's client files a copy away

    result = sync_inbox_now(mailbox)
    assert result.fetched == 1, "read from Replies"
    assert InboundMessage.objects.count() == 1, "recognised by its Message-ID"
    assert Event.objects.filter(kind="message_received").count() == 1
    assert fresh(enrollment).reason == "replied_other_address"


def test_mail_older_than_the_connection_is_never_read_even_on_a_second_sync(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any
) -> None:
    mailbox = mailbox_of(rep)
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep, run_first_step=False)
    client = mailstack.imap("rep@example.test")
    try:
        old = reply_to("<old@acme.test>").as_bytes()
        long_ago = imaplib.Time2Internaldate(time.time() - 90 * 86400)
        assert client.append("INBOX", None, long_ago, old)[0] == "OK"
    finally:
        client.logout()
    for _ in range(2):
        assert sync_inbox_now(mailbox).fetched == 0
    assert not InboundMessage.objects.exists()
    assert fresh(enrollment).status == "active", "an old email from Jane is not 'emailed'"


def test_a_missing_watched_folder_holds_sends_but_the_inbox_is_still_watched(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, fast_leases: None
) -> None:
    mailbox = mailbox_of(rep)
    set_watched_folders(mailbox=mailbox, folders=["Gone"], actor=rep)
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    run = enrollment.step_runs.get(position=1)
    assert run.state == "scheduled", "held: Cadency cannot read a folder replies may be in"
    assert "'Gone'" in run.last_error
    mailbox.refresh_from_db()
    assert mailbox.health == Health.FAILING
    assert mailstack.messages("jane@acme.test") == []

    watching = watch(mailbox)
    next(watching)
    try:
        note = reply_to("<unrelated@acme.test>")
        del note["In-Reply-To"], note["References"]
        note.replace_header("Subject", "Lunch next week?")
        send_as(mailstack, "jane@acme.test", note)
        wait_for(lambda: fresh(enrollment).status == "unenrolled", timeout=10)
    finally:
        next(watching, None)
    assert fresh(enrollment).reason == "emailed"
