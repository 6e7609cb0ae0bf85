"""Never send blind: read the mailbox's watched folders (INBOX and any other) just
before a send, and hold back a step whose enrollment ended meanwhile (SPEC §8,
"Replies caught in seconds")."""

import datetime as dt
import imaplib
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cadency.ledger.models import Event
from cadency.ledger.services import record_events
from cadency.mailboxes.models import FolderSyncState, Health, Mailbox
from cadency.sequences.models import Enrollment, EnrollmentStatus, StepRun, StepRunState
from cadency.sequences.services.queue import enqueue_step_run
from cadency.sequences.services.runs import ClaimedSend, RunOutcome

HOLD_SECONDS = 30


def synced_recently(mailbox: Mailbox) -> bool:
    """Every watched folder was read within ``CADENCY_PRESEND_SYNC_SECONDS``."""
    window = settings.CADENCY_PRESEND_SYNC_SECONDS
    if window <= 0:
        return False
    cutoff = timezone.now() - dt.timedelta(seconds=window)
    folders = mailbox.folders_to_watch
    fresh = FolderSyncState.objects.filter(
        mailbox=mailbox, folder__in=folders, last_synced_at__gte=cutoff
    ).count()
    return fresh == len(folders)


def check_inbox_before_sending(
    sends: list[ClaimedSend],
) -> tuple[list[ClaimedSend], dict[int, RunOutcome]]:
    """Sync the watched folders (their replies are processed and may end enrollments), then keep
    only the sends whose enrollment is still active. Returns what to send and the
    outcome of each send held back."""
    from cadency.inbound.watcher import SyncError, sync_inbox_now

    mailbox = sends[0].mailbox
    if not synced_recently(mailbox):
        try:
            sync_inbox_now(mailbox)
        except (OSError, imaplib.IMAP4.error, SyncError) as exc:
            why = f"the mail of {mailbox.email} could not be read for replies ({exc})"
            Mailbox.objects.filter(pk=mailbox.pk).update(
                health=Health.FAILING, last_error=why, last_checked_at=timezone.now()
            )
            hold(sends, why)
            return [], {s.run_id: RunOutcome.HELD for s in sends}
    statuses = dict(
        Enrollment.objects.filter(pk__in={s.enrollment_id for s in sends}).values_list(
            "pk", "status"
        )
    )
    keep = [s for s in sends if statuses[s.enrollment_id] == EnrollmentStatus.ACTIVE]
    withheld = [s for s in sends if statuses[s.enrollment_id] != EnrollmentStatus.ACTIVE]
    if withheld:
        withhold(withheld, statuses)
    return keep, {s.run_id: RunOutcome.WITHHELD for s in withheld}


def withhold(sends: list[ClaimedSend], statuses: dict[int, str]) -> None:
    """The enrollment ended (or paused) between the claim and the send: do not send."""
    with transaction.atomic():
        runs = runs_in_flight(sends)
        for run in runs:
            paused = statuses[run.enrollment_id] == EnrollmentStatus.PAUSED
            run.state = StepRunState.SCHEDULED if paused else StepRunState.CANCELLED
            run.save(update_fields=["state"])
        record_run_events(
            runs,
            "send_withheld",
            lambda run: f"Step {run.position} was not sent: the inbox, read just before "
            f"sending, showed the enrollment had {statuses[run.enrollment_id]}.",
        )


def hold(sends: list[ClaimedSend], why: str) -> None:
    """The inbox cannot be read: hold the sends and try again shortly."""
    later = timezone.now() + dt.timedelta(seconds=HOLD_SECONDS)
    with transaction.atomic():
        runs = runs_in_flight(sends)
        for run in runs:
            run.state = StepRunState.SCHEDULED
            run.due_at = later
            run.last_error = why
            run.save(update_fields=["state", "due_at", "last_error"])
            enqueue_step_run(run)
        record_run_events(
            runs,
            "send_held",
            lambda run: f"Step {run.position} is held: {why}. Cadency never sends without "
            f"checking for replies first; it tries again in {HOLD_SECONDS} s.",
        )


def runs_in_flight(sends: list[ClaimedSend]) -> list[StepRun]:
    return list(
        StepRun.objects.select_for_update(of=("self",))
        .select_related("enrollment")
        .filter(pk__in=[s.run_id for s in sends], state=StepRunState.SENDING)
    )


def record_run_events(runs: list[StepRun], kind: str, sentence: Callable[[StepRun], str]) -> None:
    now = timezone.now()
    record_events(
        [
            Event(
                occurred_at=now,
                kind=kind,
                contact_id=run.enrollment.contact_id,
                enrollment_id=run.enrollment_id,
                sequence_id=run.enrollment.sequence_id,
                sentence=sentence(run),
            )
            for run in runs
        ]
    )
