"""The promises of the sending engine, against real Postfix + Dovecot on loopback."""

import datetime as dt
import re
import time

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from cadency.contacts.models import Suppression
from cadency.ledger.models import Event
from cadency.mailboxes.models import Health, SentCopy
from cadency.outbound.smtp_send import send_message
from cadency.sequences.models import Enrollment, StepRun, StepRunState, UnenrollReason
from cadency.sequences.services.claiming import claim
from cadency.sequences.services.enrollment import enroll, unenroll
from cadency.sequences.services.recovery import sweep
from tests.e2e.conftest import run_worker_until_idle
from tests.factories import make_contact, make_sequence
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


def three_days_later():  # type: ignore[no-untyped-def]
    return time_machine.travel(timezone.now() + dt.timedelta(days=3), tick=True)


def test_the_first_email_leaves_at_once_with_the_right_headers_and_a_sent_copy(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    started = time.monotonic()
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    [received] = mailstack.wait_for_messages("jane@acme.test", 1)
    assert time.monotonic() - started < 5

    run = enrollment.step_runs.get(position=1)
    assert run.state == StepRunState.SENT
    assert received["Message-ID"] == run.message_id
    assert run.message_id.endswith("@example.test>")
    assert received["From"] == "Alice Martin <rep@example.test>"
    assert received["To"] == "Jane Doe <jane@acme.test>"
    assert received["Subject"] == "Quick question, Jane"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<http://testserver/u/" in received["List-Unsubscribe"]
    assert "mailto:rep@example.test" in received["List-Unsubscribe"]
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and html is not None
    assert "Hi Jane," in text.get_content()
    assert "http://testserver/u/" in text.get_content()
    assert "Unsubscribe</a>" in html.get_content()

    run_worker_until_idle()  # files the copy in the rep's Sent folder
    [copy] = mailstack.wait_for_messages("rep@example.test", 1, folder="Sent")
    assert copy["Message-ID"] == run.message_id


def test_the_second_step_follows_in_the_same_thread(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    second = enrollment.step_runs.get(position=2)
    assert second.due_at - timezone.now() > dt.timedelta(days=1, hours=23)

    with three_days_later():
        run_worker_until_idle()
    first, follow_up = mailstack.wait_for_messages("jane@acme.test", 2)
    assert follow_up["Subject"] == "Re: Quick question, Jane"
    assert follow_up["In-Reply-To"] == first["Message-ID"]
    assert follow_up["References"] == first["Message-ID"]
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("finished", "finished")


def test_after_unenrolling_nothing_more_is_sent_and_history_stays(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    mailstack.wait_for_messages("jane@acme.test", 1)
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=rep)

    with three_days_later():
        run_worker_until_idle()
    time.sleep(1)
    assert len(mailstack.messages("jane@acme.test")) == 1
    states = dict(enrollment.step_runs.values_list("position", "state"))
    assert states == {1: StepRunState.SENT, 2: StepRunState.CANCELLED}
    assert enrollment.messages.count() == 1
    assert Event.objects.filter(enrollment=enrollment, kind="email_sent").count() == 1


def test_a_stopped_smtp_server_delays_the_step_and_it_is_sent_once_it_is_back(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    mailstack.stop_smtp()
    try:
        enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
        run = enrollment.step_runs.get(position=1)
        assert run.state == StepRunState.SCHEDULED
        assert run.attempts == 1
        assert "cannot connect" in run.last_error
        assert enrollment.mailbox.health == Health.FAILING
        assert Event.objects.filter(kind="send_deferred").exists()
    finally:
        mailstack.start_smtp()

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=True):
        run_worker_until_idle()
    [received] = mailstack.wait_for_messages("jane@acme.test", 1)
    run.refresh_from_db()
    assert run.state == StepRunState.SENT
    assert received["Message-ID"] == run.message_id, "the retry sends the same message"
    enrollment.mailbox.refresh_from_db()
    assert enrollment.mailbox.health == Health.OK


def test_a_recipient_the_server_refuses_is_bounced_and_suppressed(
    mailstack: MailStack, rep, two_step_sequence
) -> None:
    ghost = make_contact("nobody@acme.test", first_name="Nobody")
    enrollment = enroll(contact=ghost, sequence=two_step_sequence, user=rep)
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "bounced")
    assert enrollment.evidence["status"] == "5.1.1"
    assert "5.1.1" in enrollment.reason_text
    assert Suppression.objects.get(email="nobody@acme.test").reason == "bounced"
    assert enrollment.step_runs.get(position=1).state == StepRunState.BOUNCED


def unsubscribe_path(mailstack: MailStack) -> str:
    [received] = mailstack.wait_for_messages("jane@acme.test", 1)
    match = re.search(r"<http://testserver(/u/[^>]+)>", received["List-Unsubscribe"])
    assert match
    return match.group(1)


def test_the_unsubscribe_link_confirms_then_unenrolls_and_suppresses(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    path = unsubscribe_path(mailstack)
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert b"Unsubscribe jane@acme.test?" in page.content
    assert Enrollment.objects.get(pk=enrollment.pk).status == "active", "GET changes nothing"

    assert client.post(path).status_code == 200
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "unsubscribed")
    assert Suppression.objects.get(email="jane@acme.test").reason == "unsubscribed"
    assert client.post(path).status_code == 200, "repeating is harmless"
    assert Event.objects.filter(kind="unenrolled", enrollment=enrollment).count() == 1


def test_one_click_list_unsubscribe_works_without_a_page(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    path = unsubscribe_path(mailstack)
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.reason == "unsubscribed"
    assert enrollment.evidence["via"] == "one_click"


def test_a_forged_or_altered_unsubscribe_token_changes_nothing(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    path = unsubscribe_path(mailstack)
    altered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    for bad in (altered, "/u/forged-token/"):
        response = Client().post(bad)
        assert response.status_code == 400
        assert b"not valid" in response.content
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    assert not Suppression.objects.exists()


def age_claim(run: StepRun) -> None:
    StepRun.objects.filter(pk=run.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))


def test_a_worker_that_died_before_smtp_is_resent_once_with_the_same_message_id(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep, run_first_step=False)
    run = enrollment.step_runs.get()
    claimed = claim(run.pk)  # the worker claims the run, then dies
    assert not isinstance(claimed, str)
    age_claim(run)

    assert sweep().recovered_unsent == 1
    run_worker_until_idle()
    [received] = mailstack.wait_for_messages("jane@acme.test", 1)
    run.refresh_from_db()
    assert run.state == StepRunState.SENT
    assert received["Message-ID"] == run.message_id
    time.sleep(0.5)
    assert len(mailstack.messages("jane@acme.test")) == 1


def test_a_worker_that_died_after_smtp_is_not_sent_twice(
    mailstack: MailStack, rep, jane, two_step_sequence
) -> None:
    # A provider that files sent mail itself (Gmail, Microsoft 365): its Sent
    # folder holds the message as soon as SMTP accepted it.
    rep.mailboxes.update(sent_copy=SentCopy.PROVIDER)
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep, run_first_step=False)
    run = enrollment.step_runs.get()
    claimed = claim(run.pk)
    assert not isinstance(claimed, str)
    assert send_message(claimed.mailbox, claimed.raw, claimed.recipient).status == "accepted"
    imap = mailstack.imap("rep@example.test")
    imap.append('"Sent"', r"(\Seen)", None, claimed.raw)  # what the provider does
    imap.logout()
    age_claim(run)  # ...and the worker died before recording the send

    assert sweep().recovered_sent == 1
    run_worker_until_idle()
    time.sleep(1)
    assert len(mailstack.messages("jane@acme.test")) == 1
    run.refresh_from_db()
    assert run.state == StepRunState.SENT
    assert enrollment.step_runs.get(position=2).state == StepRunState.SCHEDULED


def test_a_burst_of_due_steps_is_sent_once_each_and_respects_the_minute_limit(
    mailstack: MailStack, rep
) -> None:
    rep.mailboxes.update(per_minute_limit=12)
    sequence = make_sequence(
        rep, steps=[{"type": "automated_email", "subject": "Hi", "body": "Hello"}]
    )
    recipients = [f"contact{n:03d}@acme.test" for n in range(1, 21)]
    enrollments = [
        enroll(contact=make_contact(email), sequence=sequence, user=rep, run_first_step=False)
        for email in recipients
    ]
    gone = enrollments[5]
    unenroll(enrollment=gone, reason=UnenrollReason.MANUAL, actor=rep)

    run_worker_until_idle()
    sent = StepRun.objects.filter(state=StepRunState.SENT)
    assert sent.count() == 12, "the per-minute limit caps the burst"
    postponed = StepRun.objects.filter(state=StepRunState.SCHEDULED)
    assert postponed.count() == 7
    assert all(r.due_at > timezone.now() for r in postponed)

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2), tick=True):
        run_worker_until_idle()
    assert StepRun.objects.filter(state=StepRunState.SENT).count() == 19
    mailstack.wait_for_messages(recipients[-1], 1)
    time.sleep(0.5)
    for email in recipients:
        expected = 0 if email == gone.email else 1
        assert len(mailstack.wait_for_messages(email, expected, timeout=3)) == expected
    assert Event.objects.filter(kind="email_sent").count() == 19
    assert Enrollment.objects.filter(status="finished").count() == 19
