"""Unenrolling: idempotent, cancels what is pending, keeps every bit of history."""

from typing import Any

import pytest

from cadency.ledger.models import AppendOnlyError, Event
from cadency.sequences.models import Enrollment, StepRunState, Task, TaskStatus, UnenrollReason
from cadency.sequences.services.bulk import unenroll_many
from cadency.sequences.services.enrollment import enroll, pause, resume, unenroll
from cadency.sequences.services.execution import execute_step_run
from cadency.sequences.services.lifecycle import deactivate_user, delete_contact, delete_sequence
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

CALL_THEN_EMAIL = [
    {"type": "call", "title": "Call {{ contact.first_name }}"},
    {"type": "automated_email", "delay": 1, "subject": "Hi", "body": "Hello again"},
]


@pytest.fixture
def rep() -> Any:
    user = make_user("alice")
    make_mailbox(user)
    return user


def enrolled(rep: Any, **kwargs: Any) -> Enrollment:
    sequence = kwargs.pop("sequence", None) or make_sequence(rep)
    return enroll(
        contact=kwargs.pop("contact", None) or make_contact(),
        sequence=sequence,
        user=rep,
        run_first_step=False,
        **kwargs,
    )


def test_it_ends_the_enrollment_with_reason_sentence_and_evidence(rep: Any) -> None:
    enrollment = enrolled(rep)
    assert unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=rep)
    enrollment.refresh_from_db()
    assert enrollment.status == "unenrolled"
    assert enrollment.reason == "manual"
    assert enrollment.ended_by == rep
    assert "Alice Example unenrolled" in enrollment.reason_text
    assert enrollment.step_runs.get().state == StepRunState.CANCELLED
    assert Event.objects.filter(kind="unenrolled", enrollment=enrollment).count() == 1


def test_unenrolling_twice_changes_nothing_the_second_time(rep: Any) -> None:
    enrollment = enrolled(rep)
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=rep)
    events = Event.objects.count()
    assert not unenroll(enrollment=enrollment, reason=UnenrollReason.REPLIED)
    enrollment.refresh_from_db()
    assert enrollment.reason == "manual"
    assert Event.objects.count() == events


def test_a_finished_enrollment_cannot_be_unenrolled(rep: Any) -> None:
    sequence = make_sequence(rep, steps=[{"type": "task", "title": "Say hello"}])
    enrollment = enrolled(rep, sequence=sequence)
    execute_step_run(enrollment.step_runs.get().pk)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("finished", "finished")
    assert not unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=rep)


def test_it_cancels_open_tasks_but_keeps_them(rep: Any) -> None:
    sequence = make_sequence(rep, steps=CALL_THEN_EMAIL)
    enrollment = enrolled(rep, sequence=sequence)
    execute_step_run(enrollment.step_runs.get(position=1).pk)
    task = Task.objects.get()
    assert task.status == TaskStatus.OPEN
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=rep)
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert enrollment.step_runs.count() == 2


def test_the_ledger_is_append_only(rep: Any) -> None:
    enrolled(rep)
    event = Event.objects.first()
    assert event is not None
    event.sentence = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_bulk_unenroll_ends_only_open_enrollments_and_is_repeatable(rep: Any) -> None:
    open_ones = [enrolled(rep) for _ in range(5)]
    already = enrolled(rep)
    unenroll(enrollment=already, reason=UnenrollReason.REPLIED)
    ids = [e.pk for e in [*open_ones, already]]
    assert unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=rep) == 5
    assert unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=rep) == 0
    already.refresh_from_db()
    assert already.reason == "replied", "an ended enrollment keeps its first reason"
    assert Enrollment.objects.filter(reason="manual").count() == 5
    assert Event.objects.filter(kind="unenrolled").count() == 6


def test_pause_holds_the_steps_and_resume_releases_them(rep: Any) -> None:
    enrollment = enrolled(rep)
    run = enrollment.step_runs.get()
    assert pause(enrollment=enrollment, actor=rep)
    assert execute_step_run(run.pk) == "not_active"
    assert resume(enrollment=enrollment, actor=rep)
    run.refresh_from_db()
    assert run.state == StepRunState.SCHEDULED
    assert [e.kind for e in Event.objects.order_by("id")][-2:] == ["paused", "resumed"]


def test_a_task_step_that_pauses_waits_for_completion(rep: Any) -> None:
    from cadency.sequences.services.task_completion import complete_task

    steps = [{**CALL_THEN_EMAIL[0], "pause_until_complete": True}, CALL_THEN_EMAIL[1]]
    enrollment = enrolled(rep, sequence=make_sequence(rep, steps=steps))
    execute_step_run(enrollment.step_runs.get().pk)
    assert enrollment.step_runs.count() == 1, "the next step waits for the task"
    complete_task(task=Task.objects.get(), actor=rep)
    assert enrollment.step_runs.count() == 2
    assert enrollment.step_runs.get(position=2).state == StepRunState.SCHEDULED


def test_a_task_step_without_pause_moves_on_at_once(rep: Any) -> None:
    enrollment = enrolled(rep, sequence=make_sequence(rep, steps=CALL_THEN_EMAIL))
    execute_step_run(enrollment.step_runs.get().pk)
    assert Task.objects.get().title == "Call Jane"
    assert enrollment.step_runs.get(position=2).state == StepRunState.SCHEDULED


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("sequence", UnenrollReason.SEQUENCE_DELETED),
        ("contact", UnenrollReason.CONTACT_DELETED),
        ("user", UnenrollReason.USER_DEACTIVATED),
    ],
)
def test_deleting_or_deactivating_ends_enrollments_with_their_reason(
    rep: Any, action: str, reason: UnenrollReason
) -> None:
    admin = make_user("root", role="admin")
    enrollment = enrolled(rep)
    if action == "sequence":
        delete_sequence(sequence=enrollment.sequence, actor=admin)
    elif action == "contact":
        delete_contact(contact=enrollment.contact, actor=admin)
    else:
        deactivate_user(user=rep, actor=admin)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", reason)
    assert Enrollment.objects.filter(pk=enrollment.pk).exists(), "history stays"
