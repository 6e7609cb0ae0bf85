"""What each SMTP refusal does, against real Postfix answers (SPEC §8 "Honest bounces")."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from cadency.contacts.models import Suppression
from cadency.ledger.models import Event
from cadency.mailboxes.models import Health
from cadency.sequences.models import Enrollment, StepRunState
from cadency.sequences.services.enrollment import enroll
from tests.e2e.conftest import run_worker_until_idle
from tests.factories import make_contact
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


def enroll_address(email: str, rep: Any, sequence: Any) -> Enrollment:
    return enroll(contact=make_contact(email), sequence=sequence, user=rep)


def test_a_busy_mailbox_is_retried_and_the_contact_stays_enrolled(
    mailstack: MailStack, rep: Any, two_step_sequence: Any
) -> None:
    enrollment = enroll_address("busy@acme.test", rep, two_step_sequence)
    run = enrollment.step_runs.get()
    assert (enrollment.status, run.state, run.attempts) == ("active", StepRunState.SCHEDULED, 1)
    assert "4.2.1" in run.last_error
    assert run.due_at > timezone.now()
    enrollment.mailbox.refresh_from_db()
    assert enrollment.mailbox.health == Health.OK, "the recipient's problem, not the mailbox's"
    assert not Suppression.objects.exists()


def test_a_full_mailbox_counts_as_a_bounce_only_after_the_retries(
    mailstack: MailStack, rep: Any, two_step_sequence: Any, settings: Any
) -> None:
    settings.CADENCY_MAX_RECIPIENT_ATTEMPTS = 3
    enrollment = enroll_address("full@acme.test", rep, two_step_sequence)
    for attempt in (2, 3):
        assert enrollment.step_runs.get().attempts == attempt - 1
        enrollment.refresh_from_db()
        assert enrollment.status == "active"
        with time_machine.travel(timezone.now() + dt.timedelta(hours=attempt), tick=True):
            run_worker_until_idle()
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "bounced")
    assert enrollment.evidence["status"] == "5.2.2"
    assert Suppression.objects.get(email="full@acme.test").reason == "bounced"
    assert Event.objects.filter(enrollment=enrollment, kind="send_deferred").count() == 2


def test_a_policy_block_pauses_and_alerts_instead_of_suppressing(
    mailstack: MailStack, rep: Any, two_step_sequence: Any
) -> None:
    enrollment = enroll_address("policy@acme.test", rep, two_step_sequence)
    enrollment.refresh_from_db()
    assert enrollment.status == "paused"
    assert not Suppression.objects.exists()
    alert = Event.objects.get(enrollment=enrollment, kind="send_blocked")
    assert "5.7.1" in alert.sentence and "not the contact" in alert.sentence
    run = enrollment.step_runs.get()
    assert run.state == StepRunState.SCHEDULED, "the step waits for the rep to resume"
