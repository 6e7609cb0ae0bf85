"""The periodic sweep: repairs whatever a lost task or a dead worker left behind."""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.ledger.services import record_event
from cadency.mailboxes.models import SentCopy
from cadency.mailboxes.sent_folder import SentFolderError, sent_folder_has
from cadency.sequences.models import Enrollment, StepRun, StepRunState
from cadency.sequences.services.queue import enqueue_step_run
from cadency.sequences.services.recording import record_accepted, record_sent_many
from cadency.sequences.services.runs import RunOutcome

logger = logging.getLogger(__name__)

ORPHAN_GRACE = dt.timedelta(seconds=60)


@dataclass
class SweepReport:
    requeued: int = 0
    bookkeeping_finished: int = 0
    recovered_sent: int = 0
    recovered_unsent: int = 0
    copies_requeued: int = 0
    resumed_after_out_of_office: int = 0
    absences_ended: int = 0
    reactions_requeued: int = 0
    webhook_deliveries_requeued: int = 0
    tasks_pruned: int = 0


def sweep() -> SweepReport:
    counts: dict[str, int] = {}
    for _, step in sweep_steps():
        counts.update(step())
    return SweepReport(**counts)


SweepStep = Callable[[], dict[str, int]]


def sweep_steps() -> list[tuple[str, SweepStep]]:
    """The sweep, step by step, each giving its counts for the report (named so
    ``bench/scale.py`` can time each one)."""
    from cadency.automation.recovery import requeue_lost_deliveries, requeue_stale_reactions
    from cadency.inbound.actions import resume_due
    from cadency.sequences.services.absence_return import end_due_absences
    from cadency.sequences.services.housekeeping import prune_finished_tasks

    return [
        ("requeue_orphaned_runs", lambda: {"requeued": requeue_orphaned_runs()}),
        (
            "finish_stale_accepted",
            lambda: {"bookkeeping_finished": record_accepted(stale_run_ids(StepRunState.ACCEPTED))},
        ),
        ("recover_stale_sending", recover_stale_sending),
        ("requeue_missing_copies", lambda: {"copies_requeued": requeue_missing_copies()}),
        ("resume_after_out_of_office", lambda: {"resumed_after_out_of_office": resume_due()}),
        ("end_due_absences", lambda: {"absences_ended": end_due_absences()}),
        ("requeue_stale_reactions", lambda: {"reactions_requeued": requeue_stale_reactions()}),
        (
            "requeue_lost_deliveries",
            lambda: {"webhook_deliveries_requeued": requeue_lost_deliveries()},
        ),
        ("prune_finished_tasks", lambda: {"tasks_pruned": prune_finished_tasks()}),
    ]


def recover_stale_sending() -> dict[str, int]:
    counts = {"recovered_sent": 0, "recovered_unsent": 0}
    for run_id in stale_run_ids(StepRunState.SENDING):
        try:
            outcome = recover_sending_run(run_id)
        except (OSError, SentFolderError) as exc:
            logger.warning("step run %s: cannot check the Sent folder yet: %s", run_id, exc)
            continue
        if outcome == RunOutcome.SENT:
            counts["recovered_sent"] += 1
        elif outcome == RunOutcome.RETRY_LATER:
            counts["recovered_unsent"] += 1
    return counts


def requeue_orphaned_runs(limit: int = 5000) -> int:
    """Due runs whose task is gone (lost, failed, or held by a dead worker)."""
    now = timezone.now()
    stale_running = now - dt.timedelta(seconds=settings.CADENCY_SENDING_STALE_SECONDS)
    # One primary-key probe per due run: the task table is never scanned.
    alive = DBTaskResult.objects.filter(pk=OuterRef("task_id")).filter(
        Q(status=TaskResultStatus.READY)
        | Q(status=TaskResultStatus.RUNNING, started_at__gt=stale_running)
    )
    orphans = list(
        StepRun.objects.filter(state=StepRunState.SCHEDULED, due_at__lte=now - ORPHAN_GRACE)
        .filter(~Exists(alive))
        .order_by("due_at")[:limit]
    )
    for run in orphans:
        with transaction.atomic():
            enqueue_step_run(run)
    return len(orphans)


def stale_run_ids(state: StepRunState) -> list[int]:
    """Runs left in ``sending`` or ``accepted`` by a worker that stopped."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.CADENCY_SENDING_STALE_SECONDS)
    return list(
        StepRun.objects.filter(state=state, claimed_at__lt=cutoff).values_list("pk", flat=True)[
            :5000
        ]
    )


def still_stale(run: StepRun, stale_claim: dt.datetime | None) -> bool:
    cutoff = timezone.now() - dt.timedelta(seconds=settings.CADENCY_SENDING_STALE_SECONDS)
    return (
        run.state == StepRunState.SENDING
        and run.claimed_at == stale_claim
        and run.claimed_at is not None
        and run.claimed_at < cutoff
    )


def recover_sending_run(run_id: int) -> RunOutcome:
    """A worker died while this run was ``sending``: did the message leave?

    The Sent folder is the witness. Found there → it was sent; not found → it
    goes back to ``scheduled`` and is sent again with the same Message-ID.

    Every worker sweeps: another sweep may have recovered this run meanwhile and a
    live worker claimed it again. So the run is recovered only if, under its lock,
    it is still the same stale claim (same ``claimed_at``, older than the cutoff).
    """
    run = StepRun.objects.select_related("mailbox").get(pk=run_id)
    if run.state != StepRunState.SENDING:
        return RunOutcome.NOT_SCHEDULED
    stale_claim = run.claimed_at
    witnessed = run.mailbox.sent_copy != SentCopy.NONE
    found = witnessed and sent_folder_has(run.mailbox, run.message_id)
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("contact", "sequence", "mailbox")
            .get(pk=run.enrollment_id)
        )
        run = StepRun.objects.select_for_update().get(pk=run_id)
        if not still_stale(run, stale_claim):
            return RunOutcome.NOT_SCHEDULED
        now = timezone.now()
        if found:
            run.sent_copy_saved = True
            run.save(update_fields=["sent_copy_saved"])
            record_sent_many([(enrollment, run)], now)
            record_event(
                kind="send_recovered",
                enrollment=enrollment,
                sentence=f"Step {run.position} was interrupted by a worker crash; its "
                f"Message-ID {run.message_id} is in the Sent folder, so it is recorded as sent.",
            )
            return RunOutcome.SENT
        run.state = StepRunState.SCHEDULED
        run.due_at = now
        run.save(update_fields=["state", "due_at"])
        enqueue_step_run(run)
        how = (
            "is not in the Sent folder"
            if witnessed
            else "cannot be checked (this mailbox keeps no Sent copy)"
        )
        record_event(
            kind="send_recovered",
            enrollment=enrollment,
            sentence=f"Step {run.position} was interrupted by a worker crash; its Message-ID "
            f"{run.message_id} {how}, so it is sent again with the same Message-ID.",
        )
        return RunOutcome.RETRY_LATER


COPY_WINDOW = dt.timedelta(days=2)
# A run is claimed before it is sent: minutes before, or longer if its send was
# recovered after a crash. Bounding the claim too lets the per-mailbox claim index
# (steprun_mailbox_claimed) find the runs: the sends of the last days, never the history.
CLAIMED_BEFORE_SENT = dt.timedelta(days=1)


def requeue_missing_copies() -> int:
    """Sent runs of "append" mailboxes whose Sent-folder copy was never filed."""
    from cadency.sequences.tasks import save_sent_copy

    cutoff = timezone.now() - ORPHAN_GRACE
    pending = list(
        StepRun.objects.filter(
            state=StepRunState.SENT,
            sent_copy_saved=False,
            mailbox__sent_copy=SentCopy.APPEND,
            claimed_at__gt=cutoff - COPY_WINDOW - CLAIMED_BEFORE_SENT,
            executed_at__lt=cutoff,
            executed_at__gt=cutoff - COPY_WINDOW,
        ).values_list("pk", flat=True)[:1000]
    )
    for run_id in pending:
        save_sent_copy.enqueue(run_id)
    return len(pending)
