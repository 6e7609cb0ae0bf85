"""The contact timeline: every email out and in, step runs, tasks and ledger events, merged."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.contacts.timeline import (
    EntryKind,
    InboundEmail,
    LedgerEntry,
    OutboundEmail,
    StepRunEntry,
    TaskEntry,
    contact_timeline,
)
from cadency.inbound.classification import Label
from cadency.ledger.services import record_event
from cadency.sequences.models import Enrollment, StepRun, Task, UnenrollReason
from cadency.sequences.services.enrollment import unenroll
from tests.contacts.support import signed_in
from tests.factories import make_contact, make_sequence
from tests.inbound.support import classified, enrolled, process, rep, reply_to

pytestmark = pytest.mark.django_db

MONDAY = "Mon, 23 Nov 2026 09:00:00 +0000"
TUESDAY = "Tue, 24 Nov 2026 09:00:00 +0000"


def history(user: User, contact: Contact) -> Enrollment:
    """One sent email, an out-of-office, a human reply that ended it, and a call task."""
    enrollment = enrolled(user, contact)
    run = StepRun.objects.get(enrollment=enrollment, position=1)
    record_event(
        kind="email_sent",
        enrollment=enrollment,
        sentence="Step 1 “Quick question” sent to jane@acme.test from alice@example.test.",
        data={"step_run": run.pk},
    )
    mailbox = enrollment.mailbox
    process(
        mailbox,
        classified(Label.AUTO_REPLY, reasons=["Auto-Submitted: auto-replied"]),
        **reply_to(enrollment, subject="Out of office", date=MONDAY),
    )
    process(
        mailbox,
        classified(Label.HUMAN_REPLY, reasons=["no automatic marker", "quotes our message"]),
        **reply_to(enrollment, subject="Re: Quick question", date=TUESDAY),
    )
    Task.objects.create(
        assignee=user,
        contact=contact,
        kind="call",
        title="Call Jane back",
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    return enrollment


def of_kind(entries: list[Any], kind: type) -> list[Any]:
    return [entry for entry in entries if isinstance(entry, kind)]


def test_it_merges_every_source_newest_first() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    history(alice, jane)
    entries = contact_timeline(jane)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    kinds = {entry.kind for entry in entries}
    assert {EntryKind.EMAIL_OUT, EntryKind.EMAIL_IN, EntryKind.TASK, EntryKind.EVENT} <= kinds


def test_an_email_out_carries_its_subject_step_state_and_its_ledger_sentence() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    enrollment = history(alice, jane)
    [sent] = of_kind(contact_timeline(jane), OutboundEmail)
    assert (sent.subject, sent.step_position, sent.state) == ("Quick question", 1, "sent")
    assert (sent.to_email, sent.enrollment_id) == ("jane@acme.test", enrollment.pk)
    assert sent.sequence_name == enrollment.sequence.name
    assert [e.event_kind for e in sent.events] == ["email_sent"]
    standalone = of_kind(contact_timeline(jane), LedgerEntry)
    assert "email_sent" not in {e.event_kind for e in standalone}, "shown once, on the email"


def test_an_email_in_carries_label_confidence_reasons_and_decision() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    history(alice, jane)
    reply, out_of_office = of_kind(contact_timeline(jane), InboundEmail)
    assert (out_of_office.label, out_of_office.subject) == ("auto_reply", "Out of office")
    assert out_of_office.reasons == ("Auto-Submitted: auto-replied",)
    assert out_of_office.confidence == pytest.approx(0.95)
    assert out_of_office.decision == "timeline_only"
    assert (reply.label, reply.decision) == ("human_reply", "unenrolled")
    assert reply.reasons == ("no automatic marker", "quotes our message")
    assert "replied" in reply.decision_sentence


def test_the_unenrollment_stands_as_its_own_ledger_entry_with_its_sentence() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    enrollment = history(alice, jane)
    enrollment.refresh_from_db()
    assert enrollment.reason == UnenrollReason.REPLIED
    events = {e.event_kind: e for e in of_kind(contact_timeline(jane), LedgerEntry)}
    assert {"enrolled", "unenrolled"} <= set(events)
    assert events["unenrolled"].sentence == enrollment.reason_text


def test_tasks_and_step_runs_without_an_email_are_listed() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    sequence = make_sequence(alice, name="Later")
    enrollment = enrolled(alice, jane, sequence, sent_steps=0)
    Task.objects.create(
        assignee=alice, contact=jane, kind="call", title="Call Jane", due_at=timezone.now()
    )
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=alice)
    entries = contact_timeline(jane)
    [run] = of_kind(entries, StepRunEntry)
    assert (run.step_position, run.state, run.sequence_name) == (1, "cancelled", "Later")
    assert enrollment.ended_at is not None and run.at <= enrollment.ended_at
    [task] = of_kind(entries, TaskEntry)
    assert (task.title, task.task_kind_label, task.status) == ("Call Jane", "Call task", "open")
    assert task.assignee == alice.display_name


def test_a_step_task_is_one_entry_not_two() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    sequence = make_sequence(alice, name="Calls", steps=[{"type": "call", "title": "Call"}])
    from cadency.sequences.services.enrollment import enroll

    enroll(contact=jane, sequence=sequence, user=alice)
    entries = contact_timeline(jane)
    [task] = of_kind(entries, TaskEntry)
    assert (task.sequence_name, task.step_position) == ("Calls", 1)
    assert of_kind(entries, StepRunEntry) == []
    assert [e.event_kind for e in task.events] == ["task_created"]


def test_it_costs_five_queries_however_long_the_history(django_assert_num_queries: Any) -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    for _ in range(3):
        history(alice, jane)
    with django_assert_num_queries(5):
        entries = contact_timeline(jane)
    assert len(of_kind(entries, InboundEmail)) == 6


def test_limit_keeps_the_newest_entries() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    history(alice, jane)
    newest = [(e.kind, e.at) for e in contact_timeline(jane)][:3]
    assert [(e.kind, e.at) for e in contact_timeline(jane, limit=3)] == newest


def test_another_contacts_history_is_not_shown() -> None:
    alice, _ = rep()
    jane = make_contact("jane@acme.test")
    sam = make_contact("sam@globex.test", first_name="Sam")
    history(alice, jane)
    assert contact_timeline(sam) == []


def test_the_record_page_shows_the_timeline() -> None:
    user, _ = rep()
    jane = make_contact("jane@acme.test")
    history(user, jane)
    page = signed_in(user).get(f"/contacts/{jane.pk}/").content.decode()
    assert "Email sent" in page and "“Quick question” to jane@acme.test" in page
    assert "Email received" in page and "auto_reply · 95%" in page
    assert "Auto-Submitted: auto-replied" in page
    assert "<strong>Decision:</strong> Unenrolled" in page
    assert "“Call Jane back”" in page
    assert page.index("Call Jane back") < page.index("Out of office"), "newest first"


def test_the_record_page_costs_the_same_queries_for_a_short_or_long_history(
    django_assert_max_num_queries: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, _ = rep()
    jane = make_contact("jane@acme.test")
    history(user, jane)
    client = signed_in(user)
    with CaptureQueriesContext(connection) as short:
        assert client.get(f"/contacts/{jane.pk}/").status_code == 200
    for _ in range(4):
        history(user, jane)
    with django_assert_max_num_queries(len(short.captured_queries)):
        page = client.get(f"/contacts/{jane.pk}/").content.decode()
    assert page.count("Email received") == 10
