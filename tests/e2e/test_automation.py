"""Automation end to end: a real reply read by the watcher starts a workflow on the
real task worker, whose action makes a sequence's unenrollment trigger end a
colleague's enrollment — and that colleague gets no follow-up."""

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cadency.automation.models import RunStatus, TriggerType, WorkflowRun
from cadency.automation.services.triggers import add_trigger
from cadency.automation.services.workflows import create_workflow
from cadency.inbound.watcher import MailboxWatch
from cadency.sequences.models import Enrollment, StepRunState
from cadency.sequences.services.enrollment import enroll
from tests.e2e.conftest import run_worker_until_idle
from tests.e2e.test_watcher import reply_to, send_as, sent_message_id, wait_for
from tests.factories import ALWAYS_OPEN, make_company, make_contact, make_sequence
from tests.mailstack import MailStack

pytestmark = [pytest.mark.mail, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watcher(rep: Any, settings: Any) -> Iterator[MailboxWatch]:
    settings.CADENCY_WATCHER_LEASE_SECONDS = 3
    stopping = threading.Event()
    watch = MailboxWatch(rep.mailboxes.get().pk, stopping)
    watch.start()
    yield watch
    stopping.set()
    watch.join(timeout=10)


def test_a_reply_runs_a_workflow_whose_change_fires_a_colleagues_unenrollment_trigger(
    mailstack: MailStack, rep: Any, watcher: MailboxWatch
) -> None:
    acme = make_company("Acme", "acme.test")
    jane = make_contact("jane@acme.test", first_name="Jane", company=acme)
    john = make_contact("john@acme.test", first_name="John", company=acme)
    intro = make_sequence(rep, name="Intro", **{**ALWAYS_OPEN, "unenroll_same_company": False})
    workflow = create_workflow(
        owner=rep,
        enabled=True,
        name="Mark engaged accounts",
        trigger_type=TriggerType.EMAIL_REPLIED,
        trigger_filters={"sequence": intro.pk},
        conditions=[],
        actions=[
            {"type": "set_property", "field": "company.properties.status", "value": "engaged"}
        ],
    )
    add_trigger(
        sequence=intro,
        kind="property_value",
        config={
            "condition": {"field": "company.properties.status", "op": "is", "value": "engaged"}
        },
        actor=rep,
    )
    jane_enrollment = enroll(contact=jane, sequence=intro, user=rep)
    john_enrollment = enroll(contact=john, sequence=intro, user=rep)
    assert john_enrollment.step_runs.get(position=1).state == StepRunState.SENT

    send_as(mailstack, "jane@acme.test", reply_to(sent_message_id(jane_enrollment)))
    wait_for(lambda: Enrollment.objects.get(pk=jane_enrollment.pk).reason == "replied")
    run_worker_until_idle()  # the reaction to Jane's reply …
    run_worker_until_idle()  # … and to the company change it made

    run = WorkflowRun.objects.get(workflow=workflow)
    assert (run.contact, run.status) == (jane, RunStatus.SUCCEEDED)
    acme.refresh_from_db()
    assert acme.properties == {"status": "engaged"}
    john_enrollment.refresh_from_db()
    assert (john_enrollment.status, john_enrollment.reason) == ("unenrolled", "unenroll_trigger")
    assert john_enrollment.step_runs.get(position=2).state == StepRunState.CANCELLED
    john_mail = [m for m in mailstack.messages("john@acme.test")]
    assert len(john_mail) == 1  # the first step only: no follow-up after the trigger
