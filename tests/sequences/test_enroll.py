"""Enrolling: refusals of SPEC §2.2 write nothing; a start step and start time are honoured."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cadency.contacts.models import ContactEmail, Suppression
from cadency.ledger.models import Event
from cadency.mailboxes.models import Health
from cadency.sequences.models import Enrollment, StepRun, StepRunState
from cadency.sequences.services.authoring import replace_steps
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.errors import EnrollmentRefused, RefusalCode
from cadency.sequences.services.lifecycle import delete_sequence
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

LATER = dict(run_first_step=False)


def counts() -> tuple[int, int, int]:
    return Enrollment.objects.count(), StepRun.objects.count(), Event.objects.count()


def refused(code: RefusalCode, **kwargs: Any) -> EnrollmentRefused:
    before = counts()
    with pytest.raises(EnrollmentRefused) as caught:
        enroll(**kwargs)
    assert caught.value.code == code
    assert counts() == before, "a refused enrollment must write nothing"
    return caught.value


@pytest.fixture
def rep() -> Any:
    user = make_user("alice")
    make_mailbox(user)
    return user


def test_it_creates_the_enrollment_its_first_step_run_and_a_ledger_row(rep: Any) -> None:
    sequence = make_sequence(rep)
    contact = make_contact("jane@acme.test")
    enrollment = enroll(contact=contact, sequence=sequence, user=rep, **LATER)
    assert enrollment.status == "active"
    assert enrollment.email == "jane@acme.test"
    run = enrollment.step_runs.get()
    assert (run.position, run.state) == (1, StepRunState.SCHEDULED)
    assert run.due_at <= timezone.now()
    assert run.task_id, "the first step is queued in the same transaction"
    event = Event.objects.get(kind="enrolled")
    assert "alice" in event.sentence.lower() and "jane@acme.test" in event.sentence


def test_it_starts_at_the_chosen_step_and_time(rep: Any) -> None:
    sequence = make_sequence(rep)
    start = timezone.now() + dt.timedelta(days=3)
    enrollment = enroll(
        contact=make_contact(), sequence=sequence, user=rep, start_step=2, start_at=start
    )
    run = enrollment.step_runs.get()
    assert (run.position, run.due_at, run.state) == (2, start, StepRunState.SCHEDULED)
    assert enrollment.current_position == 2


def test_it_refuses_a_contact_without_a_valid_email(rep: Any) -> None:
    error = refused(
        RefusalCode.INVALID_EMAIL,
        contact=make_contact("not-an-address"),
        sequence=make_sequence(rep),
        user=rep,
    )
    assert "not-an-address" in error.message


def test_it_refuses_a_suppressed_address(rep: Any) -> None:
    Suppression.objects.create(email="jane@acme.test", reason="bounced")
    error = refused(
        RefusalCode.SUPPRESSED,
        contact=make_contact("jane@acme.test"),
        sequence=make_sequence(rep),
        user=rep,
    )
    assert "bounced" in error.message


def test_it_refuses_a_contact_already_in_an_open_enrollment(rep: Any) -> None:
    contact = make_contact()
    enroll(contact=contact, sequence=make_sequence(rep, name="First"), user=rep, **LATER)
    error = refused(
        RefusalCode.ALREADY_ENROLLED,
        contact=contact,
        sequence=make_sequence(rep, name="Second"),
        user=rep,
    )
    assert "«First»" in error.message or "'First'" in error.message


def test_it_refuses_a_user_without_a_mailbox() -> None:
    lonely = make_user("bob")
    refused(
        RefusalCode.NO_WORKING_MAILBOX,
        contact=make_contact(),
        sequence=make_sequence(lonely),
        user=lonely,
    )


def test_it_refuses_a_failing_mailbox(rep: Any) -> None:
    rep.mailboxes.update(health=Health.FAILING, last_error="login refused")
    error = refused(
        RefusalCode.NO_WORKING_MAILBOX,
        contact=make_contact(),
        sequence=make_sequence(rep),
        user=rep,
    )
    assert "no working mailbox" in error.message


def test_it_refuses_someone_elses_mailbox(rep: Any) -> None:
    other = make_user("carol")
    their_mailbox = make_mailbox(other)
    refused(
        RefusalCode.NO_WORKING_MAILBOX,
        contact=make_contact(),
        sequence=make_sequence(rep),
        user=rep,
        mailbox=their_mailbox,
    )


def test_it_refuses_a_token_with_no_value_and_no_fallback(rep: Any) -> None:
    sequence = make_sequence(
        rep,
        steps=[{"type": "automated_email", "subject": "Hello", "body": "At {{ company.name }}"}],
    )
    error = refused(
        RefusalCode.MISSING_TOKEN, contact=make_contact(company=None), sequence=sequence, user=rep
    )
    assert "company.name" in error.message and "step 1" in error.message


def test_it_refuses_a_start_step_that_does_not_exist(rep: Any) -> None:
    refused(
        RefusalCode.INVALID_START_STEP,
        contact=make_contact(),
        sequence=make_sequence(rep),
        user=rep,
        start_step=7,
    )


def test_it_refuses_a_deleted_sequence(rep: Any) -> None:
    sequence = make_sequence(rep)
    delete_sequence(sequence=sequence, actor=rep)
    refused(RefusalCode.SEQUENCE_ARCHIVED, contact=make_contact(), sequence=sequence, user=rep)


def test_an_enrollment_keeps_the_steps_it_started_with(rep: Any) -> None:
    sequence = make_sequence(rep)
    before = enroll(contact=make_contact(), sequence=sequence, user=rep, **LATER)
    replace_steps(
        sequence=sequence,
        steps_spec=[{"type": "call", "title": "Call them"}],
        actor=rep,
    )
    after = enroll(contact=make_contact(), sequence=sequence, user=rep, **LATER)
    assert before.step_runs.get().step.kind == "automated_email"
    assert after.step_runs.get().step.kind == "call"


def test_an_alias_does_not_count_as_a_second_contact(rep: Any) -> None:
    contact = make_contact("jane@acme.test")
    ContactEmail.objects.create(contact=contact, email="j.doe@acme.test")
    enroll(contact=contact, sequence=make_sequence(rep), user=rep, **LATER)
    assert Enrollment.objects.get().email == "jane@acme.test"
