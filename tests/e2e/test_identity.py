"""Who answered, end to end: real mail through Postfix and Dovecot, read by the
watcher's sync, decided by the SPEC §3 rules."""

from typing import Any

import pytest

from cadency.contacts.models import ContactEmail
from cadency.inbound.watcher import sync_inbox_now
from cadency.sequences.models import Enrollment
from cadency.sequences.services.enrollment import enroll
from tests.e2e.test_watcher import reply_to, send_as, sent_message_id
from tests.factories import make_company, make_contact, make_sequence
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


def deliver_and_read(stack: MailStack, rep: Any, sender: str, message: Any) -> None:
    send_as(stack, sender, message)
    stack.wait_for_messages("rep@example.test", 1)
    sync_inbox_now(rep.mailboxes.get())


def fresh(enrollment: Enrollment) -> Enrollment:
    return Enrollment.objects.get(pk=enrollment.pk)


def test_an_email_from_an_alias_outside_the_thread_ends_it_as_emailed_from_alias(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any
) -> None:
    ContactEmail.objects.create(contact=jane, email="mary@acme.test")
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    note = reply_to("<unrelated@acme.test>", sender="mary@acme.test")
    del note["In-Reply-To"], note["References"]
    note.replace_header("Subject", "Lunch next week?")
    deliver_and_read(mailstack, rep, "mary@acme.test", note)
    assert (fresh(enrollment).status, fresh(enrollment).reason) == (
        "unenrolled",
        "emailed_from_alias",
    )


def test_someone_else_replying_in_the_thread_ends_it_as_replied_other_address(
    mailstack: MailStack, rep: Any, jane: Any, two_step_sequence: Any
) -> None:
    enrollment = enroll(contact=jane, sequence=two_step_sequence, user=rep)
    answer = reply_to(sent_message_id(enrollment), sender="ana@globex.test")
    deliver_and_read(mailstack, rep, "ana@globex.test", answer)
    assert fresh(enrollment).reason == "replied_other_address"
    assert fresh(enrollment).evidence["from"] == "ana@globex.test"


@pytest.mark.parametrize("rule_on", [True, False])
def test_a_colleague_replying_ends_the_company_only_when_the_sequence_asks(
    mailstack: MailStack, rep: Any, rule_on: bool
) -> None:
    acme = make_company("Acme", "acme.test")
    sequence = make_sequence(
        rep,
        name="Accounts",
        unenroll_same_company=rule_on,
        send_window=["00:00", "23:59:59"],
        send_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        business_days_only=False,
    )
    jane = enroll(contact=make_contact("jane@acme.test", company=acme), sequence=sequence, user=rep)
    john = enroll(
        contact=make_contact("john@acme.test", company=acme, first_name="John"),
        sequence=sequence,
        user=rep,
    )
    deliver_and_read(mailstack, rep, "jane@acme.test", reply_to(sent_message_id(jane)))
    assert fresh(jane).reason == "replied"
    if rule_on:
        assert (fresh(john).status, fresh(john).reason) == ("unenrolled", "company_replied")
    else:
        assert fresh(john).status == "active"
