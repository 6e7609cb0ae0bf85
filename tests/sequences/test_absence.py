"""Rep absence: enrollments and tasks wait while the rep is away (SPEC §8)."""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from cadency.accounts.models import Role, User
from cadency.ledger.models import Event
from cadency.sequences.models import (
    Absence,
    AbsencePause,
    Enrollment,
    EnrollmentStatus,
    StepRun,
    Task,
    TaskStatus,
)
from cadency.sequences.services.absence import (
    AbsenceCode,
    AbsenceRefused,
    preview_absence,
    start_absence,
)
from cadency.sequences.services.absence_return import end_absence
from cadency.sequences.services.enrollment import enroll, pause, resume
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY = dt.datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
BACK = dt.date(2027, 3, 8)  # the next Monday
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


@pytest.fixture
def bob(clock: time_machine.Coordinates) -> User:
    user = make_user("bob", first_name="Bob", last_name="Baker")
    make_mailbox(user)
    return user


def enrolled(user: User, count: int = 1, **start: Any) -> list[Enrollment]:
    sequence = make_sequence(user, name=f"Intro {user.username}", **WORKING_HOURS)
    return [
        enroll(contact=make_contact(), sequence=sequence, user=user, run_first_step=False, **start)
        for _ in range(count)
    ]


def task_for(user: User, due_at: dt.datetime, title: str = "Call") -> Task:
    return Task.objects.create(
        assignee=user, contact=make_contact(), kind="call", title=title, due_at=due_at
    )


def statuses(enrollments: list[Enrollment]) -> list[str]:
    return [Enrollment.objects.get(pk=e.pk).status for e in enrollments]


def snapshot() -> tuple[Any, ...]:
    return (
        list(Enrollment.objects.order_by("pk").values_list("pk", "status", "paused_at")),
        list(StepRun.objects.order_by("pk").values_list("pk", "state", "due_at", "task_id")),
        list(Task.objects.order_by("pk").values_list("pk", "status", "due_at")),
        list(Absence.objects.order_by("pk").values_list("pk", "ended_at")),
        Event.objects.count(),
    )


# --- going away -------------------------------------------------------------------


def test_it_pauses_all_and_only_the_users_active_enrollments(ann: User, bob: User) -> None:
    active = enrolled(ann, 2)
    paused_by_ann = enrolled(ann)[0]
    pause(enrollment=paused_by_ann, actor=ann)
    bobs = enrolled(bob)
    absence = start_absence(user=ann, until=BACK, actor=ann, note="Skiing")
    assert statuses(active) == ["paused", "paused"]
    assert statuses(bobs) == ["active"]
    assert set(absence.pauses.values_list("enrollment_id", flat=True)) == {e.pk for e in active}
    assert absence.returns_at == dt.datetime(2027, 3, 8, tzinfo=UTC)
    event = Event.objects.get(kind="absence_started")
    assert "Ann Archer is away until 2027-03-08: 2 enrollment(s) paused" in event.sentence
    assert event.actor == ann


def test_the_return_day_is_counted_in_the_users_time_zone(clock: Any) -> None:
    rep = make_user("kim")
    make_mailbox(rep, time_zone="America/New_York")
    absence = start_absence(user=rep, until=BACK, actor=rep)
    assert absence.returns_at == dt.datetime(2027, 3, 8, 5, 0, tzinfo=UTC)


def test_nothing_is_sent_while_away(ann: User, clock: Any) -> None:
    from cadency.sequences.services.execution import execute_step_run

    enrollment = enrolled(ann)[0]
    start_absence(user=ann, until=BACK, actor=ann)
    run = enrollment.step_runs.get()
    clock.move_to(MONDAY + dt.timedelta(days=2))
    assert execute_step_run(run.pk) == "not_active"


def test_open_tasks_due_before_the_return_move_after_it(ann: User, bob: User) -> None:
    overdue = task_for(ann, MONDAY - dt.timedelta(days=1))
    this_week = task_for(ann, MONDAY + dt.timedelta(days=2))
    after = task_for(ann, dt.datetime(2027, 3, 10, 14, tzinfo=UTC))
    done = task_for(ann, MONDAY + dt.timedelta(days=1))
    Task.objects.filter(pk=done.pk).update(status=TaskStatus.COMPLETED)
    bobs = task_for(bob, MONDAY + dt.timedelta(days=1))
    absence = start_absence(user=ann, until=BACK, actor=ann)
    for task in (overdue, this_week):
        task.refresh_from_db()
        assert task.due_at >= absence.returns_at
        assert task.due_at.weekday() < 5 and 9 <= task.due_at.hour < 17
    assert Task.objects.get(pk=after.pk).due_at == after.due_at
    assert Task.objects.get(pk=done.pk).due_at == done.due_at
    assert Task.objects.get(pk=bobs.pk).due_at == bobs.due_at
    assert set(absence.tasks.values_list("task_id", flat=True)) == {overdue.pk, this_week.pk}
    assert Task.objects.get(pk=overdue.pk).due_at < Task.objects.get(pk=this_week.pk).due_at


def test_tasks_are_moved_at_most_so_many_a_day(ann: User, settings: Any) -> None:
    settings.CADENCY_ABSENCE_TASKS_PER_DAY = 3
    for hours in range(7):
        task_for(ann, MONDAY + dt.timedelta(hours=hours))
    start_absence(user=ann, until=BACK, actor=ann)
    days = Counter(t.due_at.date() for t in Task.objects.all())
    assert sorted(days.items()) == [
        (dt.date(2027, 3, 8), 3),
        (dt.date(2027, 3, 9), 3),
        (dt.date(2027, 3, 10), 1),
    ]


def test_the_preview_counts_what_would_wait(ann: User) -> None:
    enrolled(ann, 3)
    task_for(ann, MONDAY + dt.timedelta(days=1))
    task_for(ann, dt.datetime(2027, 4, 1, tzinfo=UTC))
    preview = preview_absence(user=ann, until=BACK)
    assert (preview.enrollments, preview.tasks) == (3, 1)


def test_a_manager_may_set_a_rep_away(ann: User) -> None:
    maya = make_user("maya", role=Role.MANAGER)
    enrolled(ann)
    absence = start_absence(user=ann, until=BACK, actor=maya)
    assert absence.created_by == maya
    assert "(set by Maya Example)" in Event.objects.get(kind="absence_started").sentence


# --- refusals ---------------------------------------------------------------------


@pytest.mark.parametrize("until", [dt.date(2027, 3, 1), dt.date(2027, 2, 20)])
def test_a_return_date_that_is_not_in_the_future_is_refused(ann: User, until: dt.date) -> None:
    enrolled(ann)
    before = snapshot()
    with pytest.raises(AbsenceRefused, match="must be after today") as refused:
        start_absence(user=ann, until=until, actor=ann)
    assert refused.value.code == AbsenceCode.DATE_NOT_IN_FUTURE
    assert snapshot() == before


def test_a_return_date_more_than_a_year_away_is_refused(ann: User) -> None:
    with pytest.raises(AbsenceRefused, match="more than 365 days") as refused:
        start_absence(user=ann, until=dt.date(2028, 6, 1), actor=ann)
    assert refused.value.code == AbsenceCode.DATE_TOO_FAR
    assert not Absence.objects.exists()


def test_someone_already_away_cannot_go_away_again(ann: User) -> None:
    start_absence(user=ann, until=BACK, actor=ann)
    before = snapshot()
    with pytest.raises(AbsenceRefused, match="already away until 2027-03-08") as refused:
        start_absence(user=ann, until=dt.date(2027, 3, 20), actor=ann)
    assert refused.value.code == AbsenceCode.ALREADY_AWAY
    assert snapshot() == before


def test_a_rep_cannot_set_another_rep_away(ann: User, bob: User) -> None:
    enrolled(bob)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="ann is a rep"):
        start_absence(user=bob, until=BACK, actor=ann)
    assert snapshot() == before


def test_a_rep_cannot_end_another_reps_absence(ann: User, bob: User) -> None:
    absence = start_absence(user=bob, until=BACK, actor=bob)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        end_absence(absence=absence, actor=ann)
    assert snapshot() == before


def test_a_deactivated_user_cannot_be_set_away(ann: User) -> None:
    User.objects.filter(pk=ann.pk).update(is_active=False)
    ann.refresh_from_db()
    maya = make_user("maya", role=Role.ADMIN)
    with pytest.raises(AbsenceRefused, match="deactivated"):
        start_absence(user=ann, until=BACK, actor=maya)


# --- coming back early ------------------------------------------------------------


def test_an_early_return_resumes_and_spreads_from_now(ann: User, clock: Any) -> None:
    enrollments = enrolled(ann, 3)
    later = task_for(ann, dt.datetime(2027, 3, 5, 11, tzinfo=UTC), "Later this week")
    absence = start_absence(user=ann, until=BACK, actor=ann)
    wednesday = dt.datetime(2027, 3, 3, 8, 0, tzinfo=UTC)
    clock.move_to(wednesday)
    report = end_absence(absence=absence, actor=ann)
    assert report.ended and report.resumed == 3
    assert statuses(enrollments) == ["active"] * 3
    dues = sorted(StepRun.objects.values_list("due_at", flat=True))
    assert dues[0] == dt.datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    assert all(d.date() == wednesday.date() for d in dues)
    assert Task.objects.get(pk=later.pk).due_at == later.due_at, "not due yet: back to its time"
    absence.refresh_from_db()
    assert absence.ended_at == wednesday and absence.ended_by == ann
    assert "Ann Archer is back early" in Event.objects.get(kind="absence_ended").sentence


def test_ending_twice_changes_nothing(ann: User) -> None:
    enrolled(ann, 2)
    absence = start_absence(user=ann, until=BACK, actor=ann)
    assert end_absence(absence=absence, actor=ann).ended
    before = snapshot()
    again = end_absence(absence=absence, actor=ann)
    assert not again.ended and again.resumed == 0
    assert snapshot() == before


def test_going_away_again_after_coming_back(ann: User) -> None:
    enrolled(ann)
    first = start_absence(user=ann, until=BACK, actor=ann)
    end_absence(absence=first, actor=ann)
    second = start_absence(user=ann, until=dt.date(2027, 3, 10), actor=ann)
    assert second.pk != first.pk
    assert AbsencePause.objects.filter(absence=second).count() == 1


def test_an_enrollment_resumed_by_someone_during_the_absence_is_left_alone(ann: User) -> None:
    enrollment = enrolled(ann)[0]
    absence = start_absence(user=ann, until=BACK, actor=ann)
    resume(enrollment=enrollment, actor=ann)
    due = enrollment.step_runs.get().due_at
    report = end_absence(absence=absence, actor=ann)
    assert (report.resumed, report.left_as_they_were) == (0, 1)
    assert enrollment.step_runs.get().due_at == due


def test_an_enrollment_that_ended_during_the_absence_stays_ended(ann: User) -> None:
    from cadency.sequences.models import UnenrollReason
    from cadency.sequences.services.enrollment import unenroll

    enrollment = enrolled(ann)[0]
    absence = start_absence(user=ann, until=BACK, actor=ann)
    unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=ann)
    assert end_absence(absence=absence, actor=ann).resumed == 0
    assert statuses([enrollment]) == [EnrollmentStatus.UNENROLLED]


def test_absences_are_kept_as_history(ann: User) -> None:
    absence = start_absence(user=ann, until=BACK, actor=ann, note="Conference")
    end_absence(absence=absence, actor=ann)
    kept = Absence.objects.get()
    assert (kept.note, kept.until, kept.created_by) == ("Conference", BACK, ann)
    assert kept.ended_at == timezone.now()
