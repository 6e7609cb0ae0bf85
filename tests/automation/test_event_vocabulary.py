"""Every change the issue lists reaches automation: each producer's ledger event is
dispatched, read as its trigger type, and runs a workflow listening for it."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from cadency.automation.models import TriggerType, WorkflowRun
from cadency.automation.services.lists import add_to_list, create_list, remove_from_list
from cadency.automation.services.workflows import create_workflow
from cadency.contacts.editing import set_contact_field, update_company
from cadency.contacts.models import Contact
from cadency.contacts.services import upsert_contact
from cadency.deals.services import create_deal, update_deal_stage
from cadency.inbound.classification import Label
from cadency.meetings.services import log_meeting
from cadency.sequences.models import UnenrollReason
from cadency.sequences.services.enrollment import enroll, unenroll
from cadency.sequences.services.recording import record_sent_many
from tests.automation.support import run_automation
from tests.factories import make_company, make_contact, make_mailbox, make_sequence, make_user
from tests.inbound import support as inbound
from tests.tracking import support as tracking

pytestmark = pytest.mark.django_db


def listening(trigger_type: TriggerType) -> None:
    create_workflow(
        owner=make_user("wanda"),
        enabled=True,
        name=f"on {trigger_type}",
        trigger_type=trigger_type,
        trigger_filters={},
        conditions=[],
        actions=[{"type": "create_task", "title": "follow up", "assignee": "workflow_owner"}],
    )


def ran_for(contact: Contact) -> bool:
    run_automation()
    return WorkflowRun.objects.filter(contact=contact).exists()


def contact_created() -> Contact:
    return upsert_contact(email="jane@acme.test")[0]


def property_changed() -> Contact:
    contact = make_contact()
    set_contact_field(contact=contact, field="properties.plan", value="pro", actor=None)
    return contact


def list_joined() -> Contact:
    contact = make_contact()
    add_to_list(
        contact_list=create_list(name="L", kind="static", actor=None), contact=contact, actor=None
    )
    return contact


def list_left() -> Contact:
    contact, listed = make_contact(), create_list(name="L", kind="static", actor=None)
    add_to_list(contact_list=listed, contact=contact, actor=None)
    remove_from_list(contact_list=listed, contact=contact, actor=None)
    return contact


def company_changed() -> Contact:
    company = make_company()
    contact = make_contact(company=company)
    update_company(company=company, actor=None, properties={"tier": "1"})
    return contact


def deal_created() -> Contact:
    contact = make_contact(company=make_company())
    create_deal(actor=make_user(), name="Pilot", company=contact.company)
    return contact


def deal_stage_changed() -> Contact:
    contact = make_contact()
    deal = create_deal(actor=make_user(), name="Pilot", contacts=[contact])
    WorkflowRun.objects.all().delete()
    update_deal_stage(deal=deal, stage="won", actor=make_user())
    return contact


def rep_and_sequence() -> tuple[Any, Any]:
    user = make_user()
    make_mailbox(user)
    return user, make_sequence(user)


def enrollment_started() -> Contact:
    user, sequence = rep_and_sequence()
    contact = make_contact()
    enroll(contact=contact, sequence=sequence, user=user, run_first_step=False)
    return contact


def enrollment_ended() -> Contact:
    user, sequence = rep_and_sequence()
    enrollment = enroll(contact=make_contact(), sequence=sequence, user=user, run_first_step=False)
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=user)
    return enrollment.contact


def email_sent() -> Contact:
    user, sequence = rep_and_sequence()
    enrollment = enroll(contact=make_contact(), sequence=sequence, user=user, run_first_step=False)
    record_sent_many([(enrollment, enrollment.step_runs.get())], timezone.now())
    return enrollment.contact


def email_opened() -> Contact:
    user = make_user()
    make_mailbox(user)
    run = tracking.sent_run(user, tracking.tracked_sequence(user))
    assert tracking.click(tracking.open_path(run)).status_code == 200
    return tracking.enrollment_of(run).contact


def email_clicked() -> Contact:
    user = make_user()
    make_mailbox(user)
    run = tracking.sent_run(user, tracking.tracked_sequence(user))
    assert tracking.click(tracking.click_paths(run)[0]).status_code == 302
    return tracking.enrollment_of(run).contact


def email_replied() -> Contact:
    user, mailbox = inbound.rep("rita")
    contact = make_contact("jane@acme.test")
    enrollment = inbound.enrolled(user, contact)
    inbound.process(mailbox, inbound.classified(Label.HUMAN_REPLY), **inbound.reply_to(enrollment))
    return contact


def email_bounced() -> Contact:
    user, mailbox = inbound.rep("rita")
    contact = make_contact("jane@acme.test")
    enrollment = inbound.enrolled(user, contact)
    inbound.process(
        mailbox,
        inbound.classified(
            Label.BOUNCE_HARD,
            failed=[("jane@acme.test", "5.1.1")],
            original_message_id=inbound.our_id(enrollment, 1),
        ),
        sender="Mail Delivery System <mailer-daemon@mx.acme.test>",
        subject="Undelivered Mail Returned to Sender",
    )
    return contact


def meeting_booked() -> Contact:
    user = make_user()
    contact = make_contact()
    start = timezone.now() + dt.timedelta(days=1)
    log_meeting(
        actor=user,
        organizer=user,
        title="Intro call",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        time_zone="UTC",
        attendees=[contact],
        on=contact,
    )
    return contact


PRODUCERS: dict[TriggerType, Callable[[], Contact]] = {
    TriggerType.CONTACT_CREATED: contact_created,
    TriggerType.CONTACT_PROPERTY_CHANGED: property_changed,
    TriggerType.LIST_JOINED: list_joined,
    TriggerType.LIST_LEFT: list_left,
    TriggerType.COMPANY_PROPERTY_CHANGED: company_changed,
    TriggerType.DEAL_CREATED: deal_created,
    TriggerType.DEAL_STAGE_CHANGED: deal_stage_changed,
    TriggerType.EMAIL_SENT: email_sent,
    TriggerType.EMAIL_OPENED: email_opened,
    TriggerType.EMAIL_CLICKED: email_clicked,
    TriggerType.EMAIL_REPLIED: email_replied,
    TriggerType.EMAIL_BOUNCED: email_bounced,
    TriggerType.MEETING_BOOKED: meeting_booked,
    TriggerType.ENROLLMENT_STARTED: enrollment_started,
    TriggerType.ENROLLMENT_ENDED: enrollment_ended,
}


def test_every_trigger_type_has_a_producer() -> None:
    assert set(PRODUCERS) == set(TriggerType)


@pytest.mark.parametrize("trigger_type", list(TriggerType))
def test_the_change_runs_a_workflow_listening_for_it(trigger_type: TriggerType) -> None:
    listening(trigger_type)
    contact = PRODUCERS[trigger_type]()
    assert ran_for(contact)


@pytest.mark.parametrize(
    ("trigger_type", "other"),
    [
        (TriggerType.EMAIL_REPLIED, email_bounced),
        (TriggerType.EMAIL_BOUNCED, email_replied),
        (TriggerType.DEAL_STAGE_CHANGED, deal_created),
        (TriggerType.LIST_LEFT, list_joined),
    ],
)
def test_a_different_change_does_not_run_it(
    trigger_type: TriggerType, other: Callable[[], Contact]
) -> None:
    listening(trigger_type)
    assert not ran_for(other())


def test_an_out_of_office_is_not_a_reply() -> None:
    listening(TriggerType.EMAIL_REPLIED)
    user, mailbox = inbound.rep("rita")
    contact = make_contact("jane@acme.test")
    enrollment = inbound.enrolled(user, contact)
    inbound.process(mailbox, inbound.classified(Label.AUTO_REPLY), **inbound.reply_to(enrollment))
    assert not ran_for(contact)
