"""Sequence reports on a hand-built history: the per-step funnel, unenrollments by reason,
the Manage tab's summary, and numbers that an unenrollment does not change."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cadency.ledger.models import Event
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    Sequence,
    StepRun,
    StepRunState,
    UnenrollReason,
)
from cadency.sequences.reports import performance, summary_rates, with_summary
from cadency.sequences.services.authoring import replace_steps
from cadency.sequences.services.enrollment import unenroll
from tests.factories import make_sequence
from tests.sequences.pages import enroll_some, person

pytestmark = pytest.mark.django_db

S = StepRunState
THREE_STEPS = [
    {"type": "automated_email", "subject": "Hello", "body": "Hi there"},
    {"type": "automated_email", "delay": 2, "body": "Following up"},
    {"type": "call", "delay": 1, "title": "Call them"},
]


def ran(enrollment: Enrollment, *states: str) -> None:
    """Give the enrollment runs at positions 1.. in these states (position 1 exists)."""
    steps = {s.position: s for s in enrollment.sequence.current_steps()}
    now = timezone.now()
    for position, state in enumerate(states, start=1):
        StepRun.objects.update_or_create(
            enrollment=enrollment,
            position=position,
            defaults={
                "step": steps[position],
                "mailbox": enrollment.mailbox,
                "state": state,
                "due_at": now - dt.timedelta(days=10 - position),
            },
        )


def ended(enrollment: Enrollment, reason: UnenrollReason) -> None:
    status = (
        EnrollmentStatus.FINISHED
        if reason == UnenrollReason.FINISHED
        else EnrollmentStatus.UNENROLLED
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=status, reason=reason, ended_at=timezone.now()
    )


def tracked(kind: str, enrollment: Enrollment, position: int) -> None:
    Event.objects.create(
        occurred_at=timezone.now(),
        kind=kind,
        enrollment=enrollment,
        contact=enrollment.contact,
        sequence=enrollment.sequence,
        sentence=f"{enrollment.email} {kind} step {position}.",
        data={"position": position},
    )


@pytest.fixture
def history() -> Any:
    alice = person("alice")
    sequence = make_sequence(alice, steps=THREE_STEPS, name="Funnel")
    e1, e2, e3, e4, e5, e6, e7 = enroll_some(alice, sequence, 7)
    ran(e1, S.SENT, S.SENT)
    ended(e1, UnenrollReason.REPLIED)
    ran(e2, S.SENT)
    ended(e2, UnenrollReason.MEETING_BOOKED)
    ran(e3, S.BOUNCED)
    ended(e3, UnenrollReason.BOUNCED)
    ran(e4, S.SENT, S.ACCEPTED, S.DONE)
    ended(e4, UnenrollReason.FINISHED)
    ran(e5, S.SENT)
    ended(e5, UnenrollReason.UNSUBSCRIBED)
    ran(e6, S.SENT, S.SCHEDULED)  # still active: step 2 not yet sent
    ended(e7, UnenrollReason.EMAILED)  # answered before any step ran
    tracked("opened", e1, 1)
    tracked("opened", e1, 1)  # a second open of the same email counts once
    tracked("opened", e2, 1)
    tracked("opened", e1, 2)
    tracked("clicked", e2, 1)
    return alice, sequence, e6


def funnel_numbers(sequence: Sequence) -> list[tuple[int, ...]]:
    report = performance(sequence)
    return [
        (
            s.position,
            s.sent,
            s.opened,
            s.clicked,
            s.replied,
            s.meetings,
            s.bounced,
            s.unsubscribed,
        )
        for s in report.steps
    ]


def test_the_funnel_counts_each_step_from_history(history: Any) -> None:
    _, sequence, _ = history
    assert funnel_numbers(sequence) == [
        (1, 6, 2, 1, 0, 1, 1, 1),
        (2, 2, 1, 0, 1, 0, 0, 0),
        (3, 1, 0, 0, 0, 0, 0, 0),
    ]
    report = performance(sequence)
    first = report.steps[0]
    assert (first.rate("bounced"), first.rate("opened"), first.rate("meetings")) == (
        16.7,
        33.3,
        16.7,
    )
    assert [s.kind for s in report.steps] == ["automated_email", "automated_email", "call"]
    assert (report.enrolled, report.sent, report.emails_sent) == (7, 9, 8)


def test_unenrollments_are_counted_by_reason(history: Any) -> None:
    _, sequence, _ = history
    report = performance(sequence)
    assert report.unenrolled_by_reason == {
        "replied": 1,
        "meeting_booked": 1,
        "bounced": 1,
        "unsubscribed": 1,
        "emailed": 1,
    }
    assert report.unenrolled == 5, "finishing is not an unenrollment"
    assert (report.replied, report.meetings) == (2, 1), "an answer before any step counts too"


def test_a_manual_unenrollment_changes_no_number_but_its_own(history: Any) -> None:
    alice, sequence, active = history
    before = performance(sequence)
    funnel_before = funnel_numbers(sequence)
    assert unenroll(enrollment=active, reason=UnenrollReason.MANUAL, actor=alice)
    after = performance(sequence)
    assert funnel_numbers(sequence) == funnel_before
    assert (after.enrolled, after.sent, after.emails_sent) == (
        before.enrolled,
        before.sent,
        before.emails_sent,
    )
    assert after.unenrolled_by_reason == {**before.unenrolled_by_reason, "manual": 1}
    assert StepRun.objects.get(enrollment=active, position=2).state == S.CANCELLED


def test_an_open_task_counts_as_its_step_having_run(history: Any) -> None:
    alice, sequence, _ = history
    (late,) = enroll_some(alice, sequence, 1, domain="late.test")
    ran(late, S.SENT, S.SENT, S.TASK_OPEN)
    ended(late, UnenrollReason.REPLIED)
    third = performance(sequence).steps[2]
    assert (third.sent, third.replied) == (2, 1)


def test_steps_only_older_versions_had_keep_their_numbers_and_names(history: Any) -> None:
    alice, sequence, _ = history
    replace_steps(
        sequence=sequence,
        steps_spec=[{"type": "automated_email", "subject": "New", "body": "Hi"}],
        actor=alice,
    )
    report = performance(sequence)
    assert [(s.position, s.kind, s.subject, s.sent) for s in report.steps] == [
        (1, "automated_email", "New", 6),
        (2, "automated_email", "", 2),
        (3, "call", "", 1),
    ]


def test_the_summary_counts_and_rates_every_sequence_in_one_query(
    history: Any, django_assert_num_queries: Any
) -> None:
    alice, sequence, _ = history
    empty = make_sequence(alice, name="Empty")
    with django_assert_num_queries(1):
        rows = {s.pk: s for s in with_summary(Sequence.objects.all())}
    funnel = rows[sequence.pk]
    assert (
        funnel.step_count,
        funnel.enrolled_count,
        funnel.active_count,
        funnel.paused_count,
        funnel.finished_count,
        funnel.unenrolled_count,
        funnel.replied_count,
        funnel.meeting_count,
        funnel.bounced_count,
    ) == (3, 7, 1, 0, 1, 5, 2, 1, 1)
    rates = summary_rates(funnel)
    assert (rates.reply, rates.meeting, rates.bounce) == (28.6, 14.3, 14.3)
    assert (rows[empty.pk].step_count, rows[empty.pk].enrolled_count) == (2, 0)
    assert summary_rates(rows[empty.pk]).reply == 0.0
