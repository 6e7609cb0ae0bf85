"""The promise: a human's answer in the rep's inbox ends the enrollment within
seconds, with nobody calling anything; a machine's answer never does."""

import smtplib
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from cadency.inbound.models import InboundMessage
from cadency.inbound.watcher import MailboxWatch, acquire_lease
from cadency.mailboxes.models import WatcherLease
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fast_leases(settings: Any) -> None:
    settings.CADENCY_WATCHER_LEASE_SECONDS = 3


@pytest.fixture
def watcher(rep: Any, fast_leases: None) -> Iterator[MailboxWatch]:
    stopping = threading.Event()
    watch = MailboxWatch(rep.mailboxes.get().pk, stopping)
    watch.start()
    yield watch
    stopping.set()
    watch.join(timeout=10)


def send_as(stack: MailStack, sender: str, message: EmailMessage) -> None:
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as client:
        client.starttls(context=stack.tls())
        client.login(sender, stack.password)
        client.send_message(message)


def reply_to(first_id: str, *, sender: str = "jane@acme.test", **headers: str) -> EmailMessage:
    body = headers.pop("body", "Thanks Alice, Tuesday at 10 works for me.\n\nJane")
    message = EmailMessage()
    message["From"] = f"Jane Doe <{sender}>"
    message["To"] = "Alice Martin <rep@example.test>"
    message["Subject"] = "Re: Quick question, Jane"
    message["Message-ID"] = make_msgid(domain="acme.test")
    message["In-Reply-To"] = first_id
    message["References"] = first_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def wait_for(predicate: Any, timeout: float = 8) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


def sent_message_id(enrollment: Enrollment) -> str:
    return enrollment.step_runs.get(position=1).message_id


def test_a_reply_in_the_inbox_ends_the_enrollment_within_seconds(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, watcher: MailboxWatch
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    first_id = sent_message_id(enrollment)
    send_as(mailstack, "jane@acme.test", reply_to(first_id))

    elapsed = wait_for(lambda: Enrollment.objects.get(pk=enrollment.pk).status == "unenrolled")
    assert elapsed < 5
    enrollment.refresh_from_db()
    assert enrollment.reason == "replied"
    assert enrollment.evidence["from"] == "jane@acme.test"
    assert "replied" in enrollment.reason_text
    assert enrollment.step_runs.get(position=2).state == "cancelled"


def test_an_out_of_office_leaves_the_enrollment_running(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, watcher: MailboxWatch
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    auto = reply_to(
        sent_message_id(enrollment),
        Auto_Submitted="auto-replied (vacation)",
        body="I am out of the office until Monday with limited access to email.\n",
    )
    auto.replace_header("Subject", "Automatic reply: Quick question, Jane")
    send_as(mailstack, "jane@acme.test", auto)

    wait_for(lambda: InboundMessage.objects.filter(status="processed").exists())
    message = InboundMessage.objects.get()
    assert message.label == "auto_reply"
    enrollment.refresh_from_db()
    assert enrollment.status == "active"


def test_only_one_watcher_holds_a_mailbox_and_another_takes_over_when_it_stops(
    mailstack: MailStack, rep: Any, fast_leases: None
) -> None:
    mailbox_id = rep.mailboxes.get().pk
    first_stop, second_stop = threading.Event(), threading.Event()
    first = MailboxWatch(mailbox_id, first_stop)
    first.start()
    wait_for(lambda: WatcherLease.objects.filter(mailbox_id=mailbox_id).exclude(holder="").exists())
    holder = WatcherLease.objects.get(mailbox_id=mailbox_id).holder
    assert not acquire_lease(mailbox_id, "someone-else"), "a live lease is not shared"

    second = MailboxWatch(mailbox_id, second_stop)
    second.start()
    time.sleep(1)
    assert WatcherLease.objects.get(mailbox_id=mailbox_id).holder == holder

    first_stop.set()
    first.join(timeout=10)
    took = wait_for(
        lambda: WatcherLease.objects.get(mailbox_id=mailbox_id).holder not in ("", holder)
    )
    assert took < 5
    second_stop.set()
    second.join(timeout=10)


def test_mail_that_arrives_while_no_watcher_runs_is_read_once_when_one_starts(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, fast_leases: None
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    stopping = threading.Event()
    watch = MailboxWatch(rep.mailboxes.get().pk, stopping)
    watch.start()
    wait_for(lambda: rep.mailboxes.get().sync_states.filter(last_synced_at__isnull=False).exists())
    stopping.set()
    watch.join(timeout=10)

    for n in range(3):
        note = reply_to(sent_message_id(enrollment), sender="john@acme.test")
        note.replace_header("Subject", f"Note {n}")
        send_as(mailstack, "john@acme.test", note)
    mailstack.wait_for_messages("rep@example.test", 3)

    for _ in range(2):  # a restart, then another: nothing is read twice
        stopping = threading.Event()
        watch = MailboxWatch(rep.mailboxes.get().pk, stopping)
        watch.start()
        wait_for(lambda: InboundMessage.objects.filter(status__in=["processed"]).count() >= 3)
        time.sleep(1)
        stopping.set()
        watch.join(timeout=10)
    assert InboundMessage.objects.count() == 3


def test_a_reply_that_arrives_just_before_the_next_step_stops_that_step(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any
) -> None:
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from cadency.ledger.models import Event
    from tests.e2e.conftest import run_worker_until_idle

    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    send_as(mailstack, "jane@acme.test", reply_to(sent_message_id(enrollment)))
    mailstack.wait_for_messages("rep@example.test", 1)  # in the inbox; no watcher runs

    with time_machine.travel(timezone.now() + dt.timedelta(days=3), tick=True):
        run_worker_until_idle()  # step 2 is due: claimed, then the inbox is read first
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "replied")
    assert enrollment.step_runs.get(position=2).state == "cancelled"
    assert Event.objects.filter(enrollment=enrollment, kind="send_withheld").exists()
    time.sleep(0.5)
    assert len(mailstack.messages("jane@acme.test")) == 1, "no follow-up after the reply"


def test_postfixs_real_bounce_ends_the_enrollment_and_suppresses_the_address(
    mailstack: MailStack, rep: Any, two_step_sequence: Any, watcher: MailboxWatch
) -> None:
    from cadency.contacts.models import Suppression
    from tests.factories import make_contact

    # Postfix accepts the message, Dovecot's LMTP refuses the user, Postfix mails a DSN back.
    ghost = make_contact("ghost@lmtp-bounce.test", first_name="Ghost")
    enrollment = enroll(contact=ghost, sequence=two_step_sequence, user=rep)
    assert enrollment.status == "active", "accepted at SMTP time"

    wait_for(lambda: Enrollment.objects.get(pk=enrollment.pk).status == "unenrolled", timeout=15)
    enrollment.refresh_from_db()
    assert enrollment.reason == "bounced"
    assert Suppression.objects.get(email="ghost@lmtp-bounce.test").reason == "bounced"
    dsn = InboundMessage.objects.get(label="bounce_hard")
    assert dsn.enrollment_id == enrollment.pk


def test_an_exchange_style_automatic_reply_without_auto_submitted_changes_nothing(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any, watcher: MailboxWatch
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    auto = reply_to(
        sent_message_id(enrollment),
        X_MS_Exchange_Generated_Message_Source="Mailbox Rules Agent",
        X_Auto_Response_Suppress="All",
        body="Thank you for your message. I am currently out of the office with no access "
        "to email. I will respond to your message when I return.\n",
    )
    auto.replace_header("Subject", "Automatic reply: Quick question, Jane")
    send_as(mailstack, "jane@acme.test", auto)

    wait_for(lambda: InboundMessage.objects.filter(status="processed").exists())
    assert InboundMessage.objects.get().label == "auto_reply"
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
