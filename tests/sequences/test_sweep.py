"""The sweep repairs what a lost task or a stopped worker left behind."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cadency.sequences.models import Enrollment, StepRun, StepRunState
from cadency.sequences.services.claiming import claim
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.recording import mark_accepted
from cadency.sequences.services.recovery import sweep
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrollment() -> Enrollment:
    rep = make_user("alice")
    make_mailbox(rep)
    return enroll(
        contact=make_contact(), sequence=make_sequence(rep), user=rep, run_first_step=False
    )


def overdue(run: StepRun) -> None:
    StepRun.objects.filter(pk=run.pk).update(due_at=timezone.now() - dt.timedelta(minutes=5))


def test_a_due_run_whose_task_was_lost_is_queued_again(enrollment: Enrollment) -> None:
    run = enrollment.step_runs.get()
    overdue(run)
    DBTaskResult.objects.all().delete()
    assert sweep().requeued == 1
    run.refresh_from_db()
    assert DBTaskResult.objects.filter(id=run.task_id, status="READY").exists()
    assert sweep().requeued == 0, "a run with a live task is left alone"


def test_a_run_whose_task_failed_is_queued_again(enrollment: Enrollment) -> None:
    run = enrollment.step_runs.get()
    overdue(run)
    DBTaskResult.objects.update(status="FAILED")
    assert sweep().requeued == 1


def test_a_run_held_by_a_worker_that_stopped_long_ago_is_queued_again(
    enrollment: Enrollment,
) -> None:
    run = enrollment.step_runs.get()
    overdue(run)
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now() - dt.timedelta(hours=1))
    assert sweep().requeued == 1


def test_a_future_run_is_not_touched(enrollment: Enrollment) -> None:
    StepRun.objects.update(due_at=timezone.now() + dt.timedelta(days=1))
    DBTaskResult.objects.all().delete()
    assert sweep().requeued == 0


def test_an_accepted_send_left_without_bookkeeping_is_completed(
    enrollment: Enrollment, settings: Any
) -> None:
    settings.CADENCY_SENDING_STALE_SECONDS = 0
    run = enrollment.step_runs.get()
    claimed = claim(run.pk)
    assert not isinstance(claimed, (str, list))
    mark_accepted(run.pk)  # the server said 250, then the worker died
    report = sweep()
    assert report.bookkeeping_finished == 1
    run.refresh_from_db()
    assert run.state == StepRunState.SENT
    assert enrollment.step_runs.get(position=2).state == StepRunState.SCHEDULED


def test_a_run_another_sweep_recovered_and_a_worker_claimed_again_is_left_alone(
    enrollment: Enrollment, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers' sweeps see the same stale ``sending`` run. The first sends it back
    to the queue and a live worker claims it again; the second must not take that
    live claim for the crashed one (that sent the email twice)."""
    from cadency.sequences.services import recovery

    settings.CADENCY_SENDING_STALE_SECONDS = 60
    run = enrollment.step_runs.get()
    claim(run.pk)
    StepRun.objects.filter(pk=run.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))

    def meanwhile_recovered_and_claimed_again(mailbox: Any, message_id: str) -> bool:
        StepRun.objects.filter(pk=run.pk).update(claimed_at=timezone.now())  # a live claim
        return False

    monkeypatch.setattr(recovery, "sent_folder_has", meanwhile_recovered_and_claimed_again)
    assert recovery.recover_sending_run(run.pk) == recovery.RunOutcome.NOT_SCHEDULED
    run.refresh_from_db()
    assert run.state == StepRunState.SENDING  # still the live worker's
    assert not enrollment.events.filter(kind="send_recovered").exists()


def test_a_stale_sending_run_not_in_the_sent_folder_is_sent_again(
    enrollment: Enrollment, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cadency.sequences.services import recovery

    settings.CADENCY_SENDING_STALE_SECONDS = 60
    run = enrollment.step_runs.get()
    claim(run.pk)
    StepRun.objects.filter(pk=run.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))
    monkeypatch.setattr(recovery, "sent_folder_has", lambda mailbox, message_id: False)
    assert recovery.recover_sending_run(run.pk) == recovery.RunOutcome.RETRY_LATER
    run.refresh_from_db()
    assert run.state == StepRunState.SCHEDULED
