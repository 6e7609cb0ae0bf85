"""``same_company_would_end``: the open enrollments the same-company rule would end —
a person of the same company answered the sending mailbox since the enrollment started."""

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone

from cadency.contacts.models import Contact
from cadency.inbound.models import InboundMessage, InboundStatus
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.selectors_company import same_company_would_end
from cadency.sequences.services.enrollment import enroll, unenroll
from tests.factories import make_company, make_contact, make_sequence
from tests.sequences.pages import person

pytestmark = pytest.mark.django_db
_uids = itertools.count(1)


@pytest.fixture
def rep() -> Any:
    return person("alice")


def enrolled(rep: Any, sequence: Any, email: str, **fields: Any) -> Enrollment:
    return enroll(
        contact=make_contact(email, **fields), sequence=sequence, user=rep, run_first_step=False
    )


def answer(
    mailbox: Mailbox,
    sender: str,
    *,
    label: str = "human_reply",
    contact: Contact | None = None,
    at: dt.datetime | None = None,
    status: str = InboundStatus.PROCESSED,
) -> InboundMessage:
    return InboundMessage.objects.create(
        mailbox=mailbox,
        folder="INBOX",
        uidvalidity=1,
        uid=next(_uids),
        raw=b"",
        from_address=sender,
        from_name="Someone",
        subject="Re: Quick question",
        status=status,
        label=label,
        contact=contact,
        received_at=at or timezone.now(),
    )


def ended_ids(sequence: Any) -> list[int]:
    return [w.enrollment.pk for w in same_company_would_end(sequence)]


def test_a_colleague_at_the_same_domain_answering_would_end_it(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    other = enrolled(rep, sequence, "omar@globex.test")
    message = answer(jane.mailbox, "Peter@Initech.test")
    found = same_company_would_end(sequence)
    assert [w.enrollment.pk for w in found] == [jane.pk]
    assert (found[0].answer.message_id, found[0].company) == (message.pk, "initech.test")
    assert found[0].answer.company.how == "domain"
    assert other.pk not in ended_ids(sequence)


def test_a_subdomain_is_the_same_registered_domain(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    answer(jane.mailbox, "peter@mail.initech.test")
    assert ended_ids(sequence) == [jane.pk]


def test_the_associated_company_joins_different_domains(rep: Any) -> None:
    acme = make_company("Acme", "acme.test")
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@acme-europe.test", company=acme)
    colleague = make_contact("raj@acme.test")  # acme.test belongs to Acme
    answer(jane.mailbox, colleague.email, contact=colleague)
    found = same_company_would_end(sequence)
    assert [w.enrollment.pk for w in found] == [jane.pk]
    assert (found[0].company, found[0].answer.company.how) == ("Acme", "company")


def test_two_different_associated_companies_are_not_one(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@shared.test", company=make_company("A", "a.test"))
    other = make_contact("raj@shared.test", company=make_company("B", "b.test"))
    answer(jane.mailbox, other.email, contact=other)
    assert ended_ids(sequence) == []


def test_free_mail_never_makes_two_people_one_company(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane.doe@gmail.com")
    answer(jane.mailbox, "somebody.else@gmail.com")
    assert ended_ids(sequence) == []


@pytest.mark.parametrize("label", ["auto_reply", "bounce_hard", "read_receipt", "delay"])
def test_machine_mail_never_counts(rep: Any, label: str) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    answer(jane.mailbox, "peter@initech.test", label=label)
    assert ended_ids(sequence) == []


def test_a_meeting_answer_counts_like_a_reply(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    answer(jane.mailbox, "peter@initech.test", label="calendar_reply")
    assert ended_ids(sequence) == [jane.pk]


def test_an_answer_before_the_enrollment_started_does_not_count(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    answer(jane.mailbox, "peter@initech.test", at=jane.started_at - dt.timedelta(minutes=1))
    assert ended_ids(sequence) == []


def test_an_unprocessed_message_does_not_count_yet(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    answer(jane.mailbox, "peter@initech.test", status=InboundStatus.RECEIVED)
    assert ended_ids(sequence) == []


def test_the_contacts_own_answer_is_not_a_colleagues(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    answer(jane.mailbox, "jane@initech.test", contact=jane.contact)
    answer(jane.mailbox, "jane+news@initech.test")  # the same mailbox written differently
    assert ended_ids(sequence) == []


def test_only_the_mailbox_that_sends_to_the_contact_counts(rep: Any) -> None:
    sequence = make_sequence(rep)
    enrolled(rep, sequence, "jane@initech.test")
    elsewhere = person("bob").mailboxes.get()
    answer(elsewhere, "peter@initech.test")
    assert ended_ids(sequence) == []


def test_a_colleague_of_the_rep_is_not_the_contacts_company(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@example.test")  # the rep's own domain
    answer(jane.mailbox, "manager@example.test")
    assert ended_ids(sequence) == []


def test_ended_enrollments_are_not_listed(rep: Any) -> None:
    sequence = make_sequence(rep)
    jane = enrolled(rep, sequence, "jane@initech.test")
    unenroll(enrollment=jane, reason=UnenrollReason.MANUAL, actor=rep)
    answer(jane.mailbox, "peter@initech.test")
    assert ended_ids(sequence) == []


def test_a_sequence_with_no_answers_reads_no_enrollment(
    rep: Any, django_assert_max_num_queries: Any
) -> None:
    sequence = make_sequence(rep)
    enrolled(rep, sequence, "jane@initech.test")
    with django_assert_max_num_queries(3):
        assert same_company_would_end(sequence) == []
