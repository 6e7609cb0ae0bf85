"""A small world owned by one rep (Alice), seen by another (Bob), with HTML and
script in every name a user can type: the access tests act on Alice's objects as
Bob; the escaping tests render every page that shows them."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.test import Client
from django.utils import timezone

from cadency.accounts.alerts import alert_user
from cadency.accounts.models import Alert, ApiToken, Role, User
from cadency.accounts.tokens import create_token
from cadency.automation.models import ContactList, UnenrollTrigger, Workflow, WorkflowRun
from cadency.automation.models.workflows import RunStatus
from cadency.automation.services.lists import add_to_list, create_list
from cadency.automation.services.triggers import add_trigger
from cadency.automation.services.workflows import create_workflow
from cadency.calendars.models import CalendarConnection, CalendarKind
from cadency.contacts.models import Company, Contact, ContactEmail
from cadency.deals.models import Deal
from cadency.deals.services import create_deal
from cadency.inbound.classification import Label
from cadency.inbound.models import InboundMessage
from cadency.ledger.models import Event
from cadency.mailboxes.models import Mailbox
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingLink, MeetingSource
from cadency.sequences.models import Enrollment, Sequence, Task
from cadency.sequences.services.enrollment import enroll
from tests.factories import ALWAYS_OPEN, make_company, make_contact, make_mailbox, make_user
from tests.inbound.support import classified, process

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
BOLD = "<b>bold</b>"
# Every raw form a name may take; none may reach a page unescaped.
PAYLOADS = (SCRIPT, IMG, BOLD, "<img src=x onerror=alert(1)>", "<b>")

STEPS = [
    {"type": "call", "title": "Call {{ contact.first_name }} " + BOLD},
    {
        "type": "automated_email",
        "delay": 3,
        "subject": "Hello {{ contact.first_name }} " + BOLD,
        "body": "Hi {{ contact.first_name }},\n\n" + SCRIPT + "\n" + IMG,
    },
]


@dataclass
class World:
    alice: User
    bob: User
    manager: User
    mailbox: Mailbox
    company: Company
    contact: Contact  # owned by Alice, enrolled by her
    other_contact: Contact  # owned by Alice, on her static list
    alias: str
    sequence: Sequence
    enrollment: Enrollment
    task: Task
    event: Event
    workflow: Workflow
    run: WorkflowRun
    dynamic_list: ContactList
    static_list: ContactList
    trigger: UnenrollTrigger
    meeting_link: MeetingLink
    meeting: Meeting
    deal: Deal
    message: InboundMessage
    alert: Alert
    token: ApiToken
    calendar: CalendarConnection

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


def person(username: str, role: Role = Role.REP) -> User:
    user = make_user(username, role=role, first_name=username.capitalize(), last_name=BOLD)
    make_mailbox(user)
    return user


def build_world() -> World:
    alice, bob = person("alice"), person("bob")
    manager = person("maya", Role.MANAGER)
    mailbox = alice.mailboxes.get()
    company = make_company(name=IMG, domain="acme.test")
    contact = make_contact(
        "jane@acme.test", first_name=SCRIPT, last_name=IMG, company=company, owner=alice
    )
    alias = "jane.doe@acme.test"
    ContactEmail.objects.create(contact=contact, email=alias)
    other = make_contact("kim@acme.test", first_name=IMG, last_name=SCRIPT, owner=alice)
    sequence = _sequence(alice)
    enrollment = enroll(contact=contact, sequence=sequence, user=alice)
    task = Task.objects.get(step_run__enrollment=enrollment)
    workflow = create_workflow(
        owner=alice,
        enabled=False,
        name=f"Workflow {SCRIPT}",
        trigger_type="contact_property_changed",
        trigger_filters={"field": "lifecycle_stage", "value": "customer"},
        conditions=[],
        actions=[{"type": "unenroll", "sequence": None}],
    )
    event = Event.objects.filter(contact=contact).order_by("pk").first()
    assert event is not None
    now = timezone.now()
    run = WorkflowRun.objects.create(
        workflow=workflow,
        event=event,
        contact=contact,
        status=RunStatus.SUCCEEDED,
        steps=[{"action": "unenroll", "outcome": "skipped", "detail": SCRIPT}],
        started_at=now,
        finished_at=now,
    )
    dynamic_list = create_list(
        name=f"Dynamic {SCRIPT}",
        kind="dynamic",
        actor=alice,
        conditions=[{"field": "properties.tier", "op": "is", "value": "gold"}],
    )
    static_list = create_list(name=f"Static {IMG}", kind="static", actor=alice)
    add_to_list(contact_list=static_list, contact=other, actor=alice)
    trigger, _ = add_trigger(
        sequence=sequence,
        kind="property_value",
        config={"condition": {"field": "lifecycle_stage", "op": "is", "value": "customer"}},
        actor=alice,
    )
    link = MeetingLink.objects.create(user=alice, slug="intro", title=f"Intro {SCRIPT}")
    deal = create_deal(actor=alice, name=f"Deal {IMG}", company=company, contacts=[other])
    return World(
        alice=alice,
        bob=bob,
        manager=manager,
        mailbox=mailbox,
        company=company,
        contact=contact,
        other_contact=other,
        alias=alias,
        sequence=sequence,
        enrollment=enrollment,
        task=task,
        event=event,
        workflow=workflow,
        run=run,
        dynamic_list=dynamic_list,
        static_list=static_list,
        trigger=trigger,
        meeting_link=link,
        meeting=_meeting(alice, other),
        deal=deal,
        message=_inbound(mailbox),
        alert=alert_user(
            user=alice, kind="test", key="test:1", title=f"Alert {SCRIPT}", body=IMG, link="/"
        ),
        token=create_token(user=alice, name=f"Token {SCRIPT}").token,
        calendar=_calendar(alice),
    )


def _sequence(owner: User) -> Sequence:
    from cadency.sequences.services.authoring import create_sequence

    return create_sequence(
        owner=owner, spec={"name": f"Sequence {SCRIPT}", "settings": ALWAYS_OPEN, "steps": STEPS}
    )


def _meeting(organizer: User, contact: Contact) -> Meeting:
    start = timezone.now() + dt.timedelta(days=2)
    meeting = Meeting.objects.create(
        organizer=organizer,
        created_by=organizer,
        title=f"Meeting {SCRIPT}",
        notes=IMG,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        source=MeetingSource.CONTACT_RECORD,
    )
    MeetingAttendee.objects.create(
        meeting=meeting, email=contact.email, name=SCRIPT, contact=contact
    )
    return meeting


def _inbound(mailbox: Mailbox) -> InboundMessage:
    return process(
        mailbox,
        classified(Label.HUMAN_REPLY, reasons=[f"reason {SCRIPT}"]),
        sender=f"{SCRIPT} <stranger@globex.test>",
        subject=f"Subject {SCRIPT} {IMG}",
        body=f"Body {SCRIPT}\n{IMG}",
    )


def _calendar(user: User) -> CalendarConnection:
    calendar = CalendarConnection(
        user=user,
        kind=CalendarKind.CALDAV,
        name=f"Calendar {SCRIPT}",
        caldav_url="http://127.0.0.1:9/",
        calendar_url="http://127.0.0.1:9/alice/",
    )
    calendar.set_secret("caldav password")
    calendar.save()
    return calendar


# --- "nothing changed" -----------------------------------------------------------

# Columns a refused request may still write: bookkeeping, not the user's data.
VOLATILE = {
    "accounts.ApiToken": {"last_used_at"},
    "accounts.User": {"last_login"},
}
SKIPPED_MODELS = {"sessions.Session", "admin.LogEntry", "accounts.LoginFailure"}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model (less bookkeeping columns): equal before and after a
    refused request means nothing changed."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        label = model._meta.label
        if label in SKIPPED_MODELS:
            continue
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if field.attname not in VOLATILE.get(label, set())
        ]
        manager: models.Manager[Any] = model._base_manager
        state[label] = list(manager.order_by("pk").values_list(*columns))
    return state


def changes(before: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    after = snapshot()
    return [label for label in before if before[label] != after[label]]
