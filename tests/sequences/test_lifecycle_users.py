"""A user deactivated: the enrollments they made end ``user_deactivated``, their open
tasks are reassigned or cancelled, history and reports stay (issue 6, §5)."""

import pytest
from django.utils import timezone

from cadency.accounts.models import Role, User
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    StepRun,
    Task,
    TaskStatus,
    UnenrollReason,
)
from cadency.sequences.reports import performance
from cadency.sequences.services.lifecycle import (
    DeactivationError,
    deactivate_user,
    finish_deactivations,
    reactivate_user,
)
from tests.api.support import enrolled, task_first_sequence
from tests.factories import make_contact, make_mailbox, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rex() -> User:
    user = make_user("rex", first_name="Rex", last_name="Rep")
    make_mailbox(user)
    return user


@pytest.fixture
def maya() -> User:
    user = make_user("maya", role=Role.MANAGER, first_name="Maya", last_name="Manager")
    make_mailbox(user)
    return user


def loose_task(user: User, contact: Contact, title: str = "Call back") -> Task:
    """A task that belongs to no enrollment (e.g. made on the contact record)."""
    return Task.objects.create(
        assignee=user, contact=contact, kind="call", title=title, due_at=timezone.now()
    )


def test_deactivating_ends_the_users_enrollments_and_keeps_their_history(
    rex: User, maya: User
) -> None:
    sequence = task_first_sequence(maya)
    mine = enrolled(rex, sequence)
    theirs = enrolled(maya, sequence)
    runs_before = StepRun.objects.count()

    done = deactivate_user(user=rex, actor=maya)

    assert done.enrollments_ended == 1
    rex.refresh_from_db()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert not rex.is_active
    assert (mine.status, mine.reason) == (EnrollmentStatus.UNENROLLED, "user_deactivated")
    assert mine.ended_by == maya
    assert "Rex Rep, who enrolled this contact, was deactivated" in mine.reason_text
    assert theirs.status == EnrollmentStatus.ACTIVE
    assert StepRun.objects.count() == runs_before, "no step run is deleted"
    assert Event.objects.filter(enrollment=mine, kind="enrolled").exists()
    event = Event.objects.get(kind="user_deactivated")
    assert event.actor == maya and event.data["enrollments_ended"] == 1


def test_the_sequence_report_is_the_same_after_a_deactivation(rex: User, maya: User) -> None:
    sequence = task_first_sequence(maya)
    for _ in range(3):
        enrolled(rex, sequence)
    before = performance(sequence)

    deactivate_user(user=rex, actor=maya)

    after = performance(sequence)
    assert after.enrolled == before.enrolled == 3
    assert after.steps == before.steps
    assert after.unenrolled_by_reason == {UnenrollReason.USER_DEACTIVATED.value: 3}


def test_open_tasks_go_to_the_chosen_user(rex: User, maya: User) -> None:
    contact = make_contact()
    task = loose_task(rex, contact)
    done_already = loose_task(rex, contact, "Done already")
    done_already.status = TaskStatus.COMPLETED
    done_already.save()

    done = deactivate_user(user=rex, actor=maya, reassign_tasks_to=maya)

    assert (done.tasks_reassigned, done.tasks_cancelled) == (1, 0)
    task.refresh_from_db()
    done_already.refresh_from_db()
    assert (task.assignee, task.status) == (maya, TaskStatus.OPEN)
    assert done_already.assignee == rex, "finished tasks keep who did them"
    event = Event.objects.get(kind="task_reassigned")
    assert event.contact == contact and event.data == {
        "task": task.pk,
        "from": rex.pk,
        "to": maya.pk,
    }
    assert "reassigned from Rex Rep to Maya Manager" in event.sentence


def test_open_tasks_are_cancelled_when_nobody_takes_them(rex: User, maya: User) -> None:
    sequence = task_first_sequence(maya)
    enrollment = enrolled(rex, sequence)
    sequence_task = Task.objects.get(step_run__enrollment=enrollment)
    other = loose_task(rex, make_contact())

    done = deactivate_user(user=rex, actor=maya)

    assert (done.tasks_reassigned, done.tasks_cancelled) == (0, 1)
    sequence_task.refresh_from_db()
    other.refresh_from_db()
    assert sequence_task.status == TaskStatus.CANCELLED, "cancelled with its enrollment"
    assert other.status == TaskStatus.CANCELLED
    assert Event.objects.filter(kind="task_cancelled", data__task=other.pk).exists()


@pytest.mark.parametrize("case", ["self", "heir_is_the_user", "heir_inactive"])
def test_an_impossible_deactivation_changes_nothing(case: str, rex: User, maya: User) -> None:
    enrollment = enrolled(rex, task_first_sequence(maya))
    heir = {"self": None, "heir_is_the_user": rex, "heir_inactive": make_user("gone")}[case]
    if heir is not None and case == "heir_inactive":
        User.objects.filter(pk=heir.pk).update(is_active=False)
        heir.refresh_from_db()
    actor = rex if case == "self" else maya
    events = Event.objects.count()

    with pytest.raises(DeactivationError):
        deactivate_user(user=rex, actor=actor, reassign_tasks_to=heir)

    rex.refresh_from_db()
    enrollment.refresh_from_db()
    assert rex.is_active and enrollment.status == EnrollmentStatus.ACTIVE
    assert Event.objects.count() == events


def test_reactivating_does_not_enroll_anyone_again(rex: User, maya: User) -> None:
    enrollment = enrolled(rex, task_first_sequence(maya))
    deactivate_user(user=rex, actor=maya)

    assert reactivate_user(user=rex, actor=maya)

    rex.refresh_from_db()
    enrollment.refresh_from_db()
    assert rex.is_active
    assert enrollment.status == EnrollmentStatus.UNENROLLED
    assert not Enrollment.objects.filter(enrolled_by=rex, status=EnrollmentStatus.ACTIVE).exists()
    assert Event.objects.filter(kind="user_reactivated", actor=maya).exists()
    assert not reactivate_user(user=rex, actor=maya), "already active: nothing to do"


def test_the_sweep_ends_what_a_deactivation_by_another_path_left_open(
    rex: User, maya: User
) -> None:
    """A user switched off in a shell or in the database: the worker's sweep ends
    their enrollments all the same."""
    enrollment = enrolled(rex, task_first_sequence(maya))
    User.objects.filter(pk=rex.pk).update(is_active=False)

    assert finish_deactivations() == 1
    assert finish_deactivations() == 0

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.reason) == ("unenrolled", "user_deactivated")
    assert enrollment.ended_by is None
