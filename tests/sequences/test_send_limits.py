"""Daily and per-minute send limits postpone a step, never drop it (SPEC §2.3)."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cadency.ledger.models import Event
from cadency.sequences.models import StepRun, StepRunState
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.execution import execute_step_run
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
WORKING_HOURS = {
    "send_window": ["09:00", "17:00"],
    "send_days": ["mon", "tue", "wed", "thu", "fri"],
}


def fill_sent(enrollment_owner: Any, count: int, when: dt.datetime) -> None:
    """Earlier sends of the same mailbox, recorded as step runs of other enrollments."""
    for _ in range(count):
        other = enroll(
            contact=make_contact(),
            sequence=make_sequence(enrollment_owner, **WORKING_HOURS),
            user=enrollment_owner,
            run_first_step=False,
        )
        other.step_runs.update(state=StepRunState.SENT, claimed_at=when)


@pytest.fixture
def rep() -> Any:
    user = make_user("alice")
    make_mailbox(user, daily_limit=3, per_minute_limit=2, time_zone="Europe/Paris")
    return user


def pending_run(rep: Any) -> StepRun:
    enrollment = enroll(
        contact=make_contact(time_zone="Europe/Paris"),
        sequence=make_sequence(rep, **WORKING_HOURS),
        user=rep,
        run_first_step=False,
    )
    return enrollment.step_runs.get()


@time_machine.travel(dt.datetime(2026, 12, 2, 15, 0, tzinfo=PARIS), tick=False)
def test_the_daily_limit_moves_the_step_to_the_next_days_window(rep: Any) -> None:
    fill_sent(rep, 3, timezone.now() - dt.timedelta(hours=2))
    run = pending_run(rep)
    assert execute_step_run(run.pk) == "postponed"
    run.refresh_from_db()
    assert run.state == StepRunState.SCHEDULED
    assert run.due_at == dt.datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)
    assert Event.objects.filter(kind="send_postponed").count() == 1


@time_machine.travel(dt.datetime(2026, 12, 4, 15, 0, tzinfo=PARIS), tick=False)
def test_a_daily_limit_reached_on_friday_waits_for_monday(rep: Any) -> None:
    fill_sent(rep, 3, timezone.now() - dt.timedelta(hours=1))
    run = pending_run(rep)
    execute_step_run(run.pk)
    run.refresh_from_db()
    assert run.due_at == dt.datetime(2026, 12, 7, 9, 0, tzinfo=PARIS)


@time_machine.travel(dt.datetime(2026, 12, 2, 15, 0, tzinfo=PARIS), tick=False)
def test_sends_of_yesterday_do_not_count_today(rep: Any) -> None:
    fill_sent(rep, 3, timezone.now() - dt.timedelta(days=1))
    run = pending_run(rep)
    # Under the limit: the run is claimed for sending (no mail server is needed to see it).
    from cadency.sequences.services.claiming import claim

    assert not isinstance(claim(run.pk), str)
    run.refresh_from_db()
    assert run.state == StepRunState.SENDING


@time_machine.travel(dt.datetime(2026, 12, 2, 15, 0, tzinfo=PARIS), tick=False)
def test_the_per_minute_limit_postpones_by_a_minute(rep: Any) -> None:
    fill_sent(rep, 2, timezone.now() - dt.timedelta(seconds=20))
    run = pending_run(rep)
    assert execute_step_run(run.pk) == "postponed"
    run.refresh_from_db()
    assert run.due_at == timezone.now() + dt.timedelta(seconds=60)
    assert run.task_id, "the postponed run is queued again for its new time"
