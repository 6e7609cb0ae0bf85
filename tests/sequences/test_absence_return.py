"""Back from an absence: only what it paused resumes, and the backlog is spread."""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.accounts.models import User
from cadency.inbound.actions import resume_due
from cadency.inbound.models import ScheduledResume
from cadency.ledger.models import Event
from cadency.sequences.models import (
    AbsencePause,
    Enrollment,
    EnrollmentStatus,
    PauseOutcome,
    StepRun,
    Task,
)
from cadency.sequences.services.absence import current_absence, pause_if_absent, start_absence
from cadency.sequences.services.absence_return import end_absence
from cadency.sequences.services.enrollment import enroll, pause
from cadency.sequences.services.recovery import sweep
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY = dt.datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
BACK = dt.date(2027, 3, 8)
RETURN_NIGHT = dt.datetime(2027, 3, 8, 0, 1, tzinfo=UTC)  # the sweep runs every 30 s
WORKING_HOURS: dict[str, Any] = {
    "send_window": ["09:00", "17:00"],
    "send_days": ["mon", "tue", "wed", "thu", "fri"],
}


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann(clock: time_machine.Coordinates) -> User:
    user = make_user("ann", first_name="Ann", last_name="Archer")
    make_mailbox(user)
    return user


def enrolled(user: User, count: int = 1, **start: Any) -> list[Enrollment]:
    sequence = make_sequence(user, name=f"Intro {count}", **WORKING_HOURS)
    return [
        enroll(contact=make_contact(), sequence=sequence, user=user, run_first_step=False, **start)
        for _ in range(count)
    ]


def ooo_paused(enrollment: Enrollment, resume_on: dt.date) -> ScheduledResume:
    """As an out-of-office reply does it (inbound.actions.pause_until)."""
    pause(enrollment=enrollment, actor=None)
    return ScheduledResume.objects.create(enrollment=enrollment, resume_on=resume_on)


def status(enrollment: Enrollment) -> str:
    return Enrollment.objects.get(pk=enrollment.pk).status


def ready_tasks(run: StepRun) -> list[Any]:
    return [
        t
        for t in DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        if t.args_kwargs["args"] == [run.pk]
    ]


def test_120_overdue_sends_with_capacity_50_go_out_50_50_20(
    ann: User, clock: Any, settings: Any
) -> None:
    settings.CADENCY_ABSENCE_CATCHUP_PER_DAY = 50
    enrolled(ann, 120)
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    assert sweep().absences_ended == 1
    days = Counter(run.due_at.date() for run in StepRun.objects.all())
    assert sorted(days.items()) == [
        (dt.date(2027, 3, 8), 50),
        (dt.date(2027, 3, 9), 50),
        (dt.date(2027, 3, 10), 20),
    ]
    assert all(9 <= run.due_at.hour < 17 for run in StepRun.objects.all())
    assert Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE).count() == 120


def test_each_rescheduled_step_has_exactly_one_queued_task_at_its_time(
    ann: User, clock: Any
) -> None:
    enrollments = enrolled(ann, 3)
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    sweep()  # a second sweep neither resumes nor queues anything again
    for enrollment in enrollments:
        run = enrollment.step_runs.get()
        queued = ready_tasks(run)
        assert len(queued) == 1
        assert queued[0].id == run.task_id
        assert queued[0].run_after == run.due_at


def test_the_mailboxs_daily_limit_caps_the_catch_up(ann: User, clock: Any, settings: Any) -> None:
    settings.CADENCY_ABSENCE_CATCHUP_PER_DAY = 50
    ann.mailboxes.update(daily_limit=8)
    enrolled(ann, 20)
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert sorted(Counter(r.due_at.date() for r in StepRun.objects.all()).values()) == [4, 8, 8]


def test_a_step_not_yet_due_keeps_its_time_and_its_queued_task(ann: User, clock: Any) -> None:
    later = dt.datetime(2027, 3, 9, 15, 0, tzinfo=UTC)
    enrollment = enrolled(ann, start_at=later)[0]
    run = enrollment.step_runs.get()
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert status(enrollment) == EnrollmentStatus.ACTIVE
    kept = StepRun.objects.get(pk=run.pk)
    assert (kept.due_at, kept.task_id) == (later, run.task_id)
    assert len(ready_tasks(kept)) == 1
    assert (
        "step 1 stays due 2027-03-09 15:00 UTC"
        in Event.objects.filter(kind="resumed").get(enrollment=enrollment).sentence
    )


def test_the_ledger_says_why_and_where_each_step_went(ann: User, clock: Any) -> None:
    enrollment = enrolled(ann)[0]
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    event = Event.objects.get(kind="resumed", enrollment=enrollment)
    assert event.actor is None
    assert "after Ann Archer's absence; step 1 rescheduled to 2027-03-08 09:00 UTC" in (
        event.sentence
    )
    assert event.data["rescheduled"] == {"1": "2027-03-08T09:00:00+00:00"}
    ended = Event.objects.get(kind="absence_ended")
    assert "Ann Archer is back (2027-03-08): 1 enrollment(s) resumed" in ended.sentence


def test_the_sweep_waits_for_the_return_day(ann: User, clock: Any) -> None:
    enrollment = enrolled(ann)[0]
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(dt.datetime(2027, 3, 7, 23, 59, tzinfo=UTC))
    assert sweep().absences_ended == 0
    assert status(enrollment) == EnrollmentStatus.PAUSED
    clock.move_to(RETURN_NIGHT)
    assert sweep().absences_ended == 1
    assert sweep().absences_ended == 0
    assert status(enrollment) == EnrollmentStatus.ACTIVE


def test_a_person_paused_enrollment_stays_paused(ann: User, clock: Any) -> None:
    held = enrolled(ann)[0]
    paused_before = enrolled(ann)[0]
    pause(enrollment=paused_before, actor=ann)
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert status(held) == EnrollmentStatus.ACTIVE
    assert status(paused_before) == EnrollmentStatus.PAUSED


def test_an_enrollment_paused_again_by_someone_during_the_absence_stays_paused(
    ann: User, clock: Any
) -> None:
    from cadency.sequences.services.enrollment import resume

    enrollment = enrolled(ann)[0]
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(MONDAY + dt.timedelta(days=1))
    resume(enrollment=enrollment, actor=ann)
    pause(enrollment=enrollment, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert status(enrollment) == EnrollmentStatus.PAUSED
    assert AbsencePause.objects.get().outcome == PauseOutcome.PAUSED_BY_SOMEONE


def test_an_out_of_office_pause_ending_after_the_return_is_untouched(ann: User, clock: Any) -> None:
    enrollment = enrolled(ann)[0]
    pending = ooo_paused(enrollment, dt.date(2027, 3, 12))
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert status(enrollment) == EnrollmentStatus.PAUSED
    pending.refresh_from_db()
    assert not pending.done
    assert not AbsencePause.objects.exists()


def test_an_out_of_office_pause_ending_while_away_waits_for_the_return(
    ann: User, clock: Any
) -> None:
    enrollment = enrolled(ann)[0]
    ooo_paused(enrollment, dt.date(2027, 3, 4))
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(dt.datetime(2027, 3, 4, 0, 1, tzinfo=UTC))
    assert resume_due() == 0, "the contact is back, but the rep is not"
    assert status(enrollment) == EnrollmentStatus.PAUSED
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert status(enrollment) == EnrollmentStatus.ACTIVE
    assert enrollment.step_runs.get().due_at == dt.datetime(2027, 3, 8, 9, tzinfo=UTC)


def test_an_early_return_hands_an_out_of_office_pause_back(ann: User, clock: Any) -> None:
    enrollment = enrolled(ann)[0]
    ooo_paused(enrollment, dt.date(2027, 3, 5))
    absence = start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(dt.datetime(2027, 3, 2, 12, tzinfo=UTC))
    end_absence(absence=absence, actor=ann)
    assert status(enrollment) == EnrollmentStatus.PAUSED
    pending = ScheduledResume.objects.get(done=False)
    assert pending.resume_on == dt.date(2027, 3, 5)
    clock.move_to(dt.datetime(2027, 3, 5, 0, 1, tzinfo=UTC))
    assert resume_due() == 1


def test_a_new_enrollment_while_away_waits_for_the_return(ann: User, clock: Any) -> None:
    start_absence(user=ann, until=BACK, actor=ann)
    enrollment = enrolled(ann)[0]  # enroll() holds it
    assert status(enrollment) == EnrollmentStatus.PAUSED
    assert Event.objects.filter(kind="absence_held_enrollment", enrollment=enrollment).exists()
    assert not pause_if_absent(enrollment), "already held"
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert status(enrollment) == EnrollmentStatus.ACTIVE


def test_no_hold_for_a_user_who_is_not_away(ann: User) -> None:
    enrollment = enrolled(ann)[0]
    assert not pause_if_absent(enrollment)
    assert status(enrollment) == EnrollmentStatus.ACTIVE


def test_tasks_that_fell_due_while_away_are_spread_too(
    ann: User, clock: Any, settings: Any
) -> None:
    settings.CADENCY_ABSENCE_TASKS_PER_DAY = 2
    moved = Task.objects.create(
        assignee=ann, contact=make_contact(), kind="call", title="Moved", due_at=MONDAY
    )
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(MONDAY + dt.timedelta(days=2))
    arrived = [
        Task.objects.create(
            assignee=ann, contact=make_contact(), kind="task", title=f"New {i}", due_at=MONDAY
        )
        for i in range(3)
    ]
    clock.move_to(RETURN_NIGHT)
    sweep()
    due = {t.title: t.due_at for t in Task.objects.all()}
    assert due["Moved"] == dt.datetime(2027, 3, 8, 9, tzinfo=UTC)
    assert sorted(Counter(d.date() for d in due.values()).items()) == [
        (dt.date(2027, 3, 8), 2),
        (dt.date(2027, 3, 9), 2),
    ]
    assert all(Task.objects.get(pk=t.pk).due_at >= RETURN_NIGHT for t in arrived)
    assert moved.pk in {t.pk for t in Task.objects.filter(due_at__date=dt.date(2027, 3, 8))}


def test_a_task_someone_rescheduled_while_away_is_left_alone(ann: User, clock: Any) -> None:
    task = Task.objects.create(
        assignee=ann, contact=make_contact(), kind="call", title="Call", due_at=MONDAY
    )
    start_absence(user=ann, until=BACK, actor=ann)
    chosen = dt.datetime(2027, 3, 15, 10, tzinfo=UTC)
    Task.objects.filter(pk=task.pk).update(due_at=chosen)
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert Task.objects.get(pk=task.pk).due_at == chosen


def test_the_rep_of_another_mailbox_is_not_affected(ann: User, clock: Any) -> None:
    bob = make_user("bob")
    make_mailbox(bob)
    bobs = enrolled(bob)[0]
    start_absence(user=ann, until=BACK, actor=ann)
    clock.move_to(RETURN_NIGHT)
    sweep()
    assert bobs.step_runs.get().due_at == MONDAY


def test_an_out_of_office_pause_a_person_took_over_is_not_held(ann: User, clock: Any) -> None:
    from cadency.sequences.services.enrollment import resume

    enrollment = enrolled(ann)[0]
    pending = ooo_paused(enrollment, dt.date(2027, 3, 4))
    clock.move_to(MONDAY + dt.timedelta(minutes=5))
    resume(enrollment=enrollment, actor=ann)
    pause(enrollment=enrollment, actor=ann)
    start_absence(user=ann, until=BACK, actor=ann)
    assert not AbsencePause.objects.exists()
    pending.refresh_from_db()
    assert not pending.done


def test_one_absence_that_cannot_end_does_not_hold_up_the_others(
    ann: User, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cadency.sequences.services import absence_return as service

    bob = make_user("bob")
    make_mailbox(bob)
    start_absence(user=ann, until=BACK, actor=ann)
    start_absence(user=bob, until=BACK, actor=bob)
    real = service.finish_absence

    def broken_for_ann(absence: Any, actor: Any, now: dt.datetime) -> Any:
        if absence.user_id == ann.pk:
            raise RuntimeError("a broken send window")
        return real(absence, actor, now)

    monkeypatch.setattr(service, "finish_absence", broken_for_ann)
    clock.move_to(RETURN_NIGHT)
    assert service.end_due_absences() == 1
    assert current_absence(ann) is not None
    assert current_absence(bob) is None
