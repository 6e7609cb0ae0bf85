"""``plan_unenroll`` and ``actionable_open``: what a bulk unenroll would end, and what it leaves."""

from typing import Any

import pytest

from cadency.accounts.models import Role
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.selectors import (
    EnrollmentFilter,
    actionable_open,
    filter_enrollments,
    plan_unenroll,
)
from cadency.sequences.services.enrollment import pause, unenroll
from tests.factories import make_sequence
from tests.sequences.pages import enroll_some, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def selection() -> Any:
    alice, bob, boss = person("alice"), person("bob"), person("boss", Role.MANAGER)
    sequence = make_sequence(alice)
    active, paused, ended = enroll_some(alice, sequence, 3)
    pause(enrollment=paused, actor=alice)
    unenroll(enrollment=ended, reason=UnenrollReason.REPLIED)
    theirs = enroll_some(bob, sequence, 2)
    everything = filter_enrollments(EnrollmentFilter(sequence_id=sequence.pk))
    return alice, boss, everything, [active.pk, paused.pk], [e.pk for e in theirs]


def test_a_rep_plans_to_end_only_their_open_enrollments(selection: Any) -> None:
    alice, _, everything, mine, _ = selection
    plan = plan_unenroll(everything, alice)
    assert (plan.to_end, plan.already_ended, plan.others, plan.selected) == (mine, 1, 2, 5)
    assert set(actionable_open(everything, alice).values_list("pk", flat=True)) == set(mine)


def test_a_manager_plans_to_end_every_open_enrollment(selection: Any) -> None:
    _, boss, everything, mine, theirs = selection
    plan = plan_unenroll(everything, boss)
    assert (plan.to_end, plan.already_ended, plan.others) == (sorted(mine + theirs), 1, 0)


def test_planning_changes_nothing(selection: Any) -> None:
    alice, _, everything, _, _ = selection
    before = list(Enrollment.objects.values_list("pk", "status").order_by("pk"))
    plan_unenroll(everything, alice)
    assert list(Enrollment.objects.values_list("pk", "status").order_by("pk")) == before
