"""The sweep queues again the Sent-folder copies that were never filed: recent sends
of "append" mailboxes only, found through the per-mailbox claim index."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cadency.mailboxes.models import SentCopy
from cadency.sequences.models import StepRun, StepRunState
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.recovery import requeue_missing_copies
from tests.factories import make_contact, make_mailbox, make_sequence, make_user

pytestmark = pytest.mark.django_db

SAVE_COPY = "cadency.sequences.tasks.save_sent_copy"


def sent_run(sent_copy: SentCopy, *, sent_ago: dt.timedelta, claimed_earlier: dt.timedelta) -> int:
    rep = make_user()
    make_mailbox(rep, sent_copy=sent_copy)
    enrollment = enroll(
        contact=make_contact(), sequence=make_sequence(rep), user=rep, run_first_step=False
    )
    run = enrollment.step_runs.get()
    executed = timezone.now() - sent_ago
    StepRun.objects.filter(pk=run.pk).update(
        state=StepRunState.SENT,
        claimed_at=executed - claimed_earlier,
        executed_at=executed,
        sent_copy_saved=False,
    )
    return run.pk


def copies_queued() -> list[int]:
    tasks = DBTaskResult.objects.filter(task_path=SAVE_COPY).values_list("args_kwargs", flat=True)
    return sorted(args["args"][0] for args in tasks)


def test_an_unfiled_copy_of_a_recent_send_is_queued_again() -> None:
    minute = dt.timedelta(minutes=1)
    just_sent = sent_run(SentCopy.APPEND, sent_ago=5 * minute, claimed_earlier=minute)
    recovered = sent_run(
        SentCopy.APPEND, sent_ago=dt.timedelta(hours=3), claimed_earlier=10 * minute
    )
    assert requeue_missing_copies() == 2
    assert copies_queued() == sorted([just_sent, recovered])


def test_copies_are_not_queued_for_old_sends_or_other_mailboxes() -> None:
    minute = dt.timedelta(minutes=1)
    sent_run(SentCopy.APPEND, sent_ago=dt.timedelta(days=3), claimed_earlier=minute)
    sent_run(SentCopy.PROVIDER, sent_ago=5 * minute, claimed_earlier=minute)
    sent_run(SentCopy.NONE, sent_ago=5 * minute, claimed_earlier=minute)
    sent_run(SentCopy.APPEND, sent_ago=dt.timedelta(seconds=5), claimed_earlier=minute)
    assert requeue_missing_copies() == 0
    assert copies_queued() == []
