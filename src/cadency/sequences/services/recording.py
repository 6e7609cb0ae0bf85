"""Recording what the SMTP server answered, and moving the sequence on."""

import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence as Seq

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Suppression, SuppressionReason
from cadency.ledger.models import Event
from cadency.ledger.services import record_event, record_events
from cadency.mailboxes.health import Side, record_mailbox_failure, record_mailbox_working
from cadency.mailboxes.models import Health, Mailbox, SentCopy
from cadency.outbound.models import SentMessage
from cadency.outbound.smtp_send import SendOutcome, SendStatus
from cadency.sequences.models import (
    DelayUnit,
    Enrollment,
    EnrollmentStatus,
    Sequence,
    Step,
    StepRun,
    StepRunState,
    UnenrollReason,
)
from cadency.sequences.services import scheduling
from cadency.sequences.services.enrollment import contact_label, pause, policy_for, unenroll
from cadency.sequences.services.queue import enqueue_step_run
from cadency.sequences.services.runs import ClaimedSend, RunOutcome

OPEN = (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED)


def mark_accepted(run_id: int) -> None:
    """The server said 250: note it at once, before any bookkeeping, so a crash
    right after cannot make the message look unsent.

    A burst runs this once per message: one prepared statement rather than a
    queryset compiled each time (``StepRun.objects.filter(pk=run_id,
    state=SENDING).update(state=ACCEPTED, executed_at=now)``).
    """
    executed_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            ACCEPT_STATEMENT.format(
                table=connection.ops.quote_name(StepRun._meta.db_table),
                state=connection.ops.quote_name("state"),
                executed_at=connection.ops.quote_name("executed_at"),
                id=connection.ops.quote_name("id"),
            ),
            [StepRunState.ACCEPTED, executed_at, run_id, StepRunState.SENDING],
        )


ACCEPT_STATEMENT = (
    "UPDATE {table} SET {state} = %s, {executed_at} = %s WHERE {id} = %s AND {state} = %s"
)


def record_accepted(run_ids: Seq[int], *, mailbox: Mailbox | None = None) -> int:
    """Finish the bookkeeping of accepted sends: ledger, next steps, Sent copies.
    ``mailbox``: the one the runs were sent from, when known (a batch)."""
    if not run_ids:
        return 0
    with transaction.atomic():
        runs = list(
            StepRun.objects.select_for_update(of=("self",))
            .filter(pk__in=run_ids, state=StepRunState.ACCEPTED)
            .order_by("pk")
        )
        enrollments = {
            e.pk: e
            for e in Enrollment.objects.select_for_update(of=("self",))
            .select_related("contact")
            .filter(pk__in=[r.enrollment_id for r in runs])
        }
        share_relations(enrollments.values(), mailbox)
        record_sent_many([(enrollments[r.enrollment_id], r) for r in runs], timezone.now())
    return len(runs)


def share_relations(enrollments: Iterable[Enrollment], mailbox: Mailbox | None) -> None:
    """Enrollments handled together (a batch) share a mailbox and mostly a sequence
    and a rep: load each of those once, not once per row as ``select_related`` does."""
    enrollments = list(enrollments)
    sequences = Sequence.objects.in_bulk({e.sequence_id for e in enrollments})
    reps = User.objects.in_bulk({e.enrolled_by_id for e in enrollments})
    mailboxes = {mailbox.pk: mailbox} if mailbox else {}
    if missing := {e.mailbox_id for e in enrollments} - mailboxes.keys():
        mailboxes |= Mailbox.objects.in_bulk(missing)
    for enrollment in enrollments:
        enrollment.sequence = sequences[enrollment.sequence_id]
        enrollment.enrolled_by = reps[enrollment.enrolled_by_id]
        enrollment.mailbox = mailboxes[enrollment.mailbox_id]


def record_sent_many(pairs: Seq[tuple[Enrollment, StepRun]], now: dt.datetime) -> None:
    if not pairs:
        return
    for _, run in pairs:
        run.state = StepRunState.SENT
        run.executed_at = run.executed_at or now
        run.last_error = ""
    StepRun.objects.filter(pk__in=[r.pk for _, r in pairs]).update(
        state=StepRunState.SENT, executed_at=Coalesce("executed_at", Value(now)), last_error=""
    )
    SentMessage.objects.filter(step_run__in=[r for _, r in pairs]).update(accepted_at=now)
    record_events(
        [
            Event(
                occurred_at=now,
                kind="email_sent",
                contact_id=enrollment.contact_id,
                enrollment=enrollment,
                sequence_id=enrollment.sequence_id,
                sentence=f"Step {run.position} “{run.subject}” sent to {enrollment.email} "
                f"from {enrollment.mailbox.email}.",
                data={"message_id": run.message_id, "step_run": run.pk, "attempts": run.attempts},
            )
            for enrollment, run in pairs
        ]
    )
    from cadency.sequences.tasks import save_sent_copy

    for enrollment, run in pairs:
        if enrollment.mailbox.sent_copy == SentCopy.APPEND and not run.sent_copy_saved:
            save_sent_copy.enqueue(run.pk)
    advance_many(pairs, now)


def advance(enrollment: Enrollment, done: StepRun, now: dt.datetime) -> None:
    """Schedule the step after ``done``, or finish the enrollment after the last one."""
    advance_many([(enrollment, done)], now)


def advance_many(pairs: Seq[tuple[Enrollment, StepRun]], now: dt.datetime) -> None:
    open_pairs = [(e, r) for e, r in pairs if e.status in OPEN]
    if not open_pairs:
        return
    wanted = {(e.sequence_id, e.sequence_version, r.position + 1) for e, r in open_pairs}
    steps = {
        (s.sequence_id, s.version, s.position): s
        for s in Step.objects.filter(
            sequence_id__in={w[0] for w in wanted},
            version__in={w[1] for w in wanted},
            position__in={w[2] for w in wanted},
        )
    }
    new_runs: list[StepRun] = []
    moved: list[Enrollment] = []
    finished: list[Enrollment] = []
    for enrollment, done in open_pairs:
        step = steps.get((enrollment.sequence_id, enrollment.sequence_version, done.position + 1))
        if step is None:
            finished.append(enrollment)
            continue
        due = scheduling.follow_up_due(
            now, step.delay, DelayUnit(step.delay_unit), policy_for(enrollment)
        )
        new_runs.append(
            StepRun(
                enrollment=enrollment,
                step=step,
                position=step.position,
                mailbox_id=enrollment.mailbox_id,
                due_at=due,
            )
        )
        enrollment.current_position = step.position
        moved.append(enrollment)
    StepRun.objects.bulk_create(new_runs)
    for position in {e.current_position for e in moved}:
        Enrollment.objects.filter(
            pk__in=[e.pk for e in moved if e.current_position == position]
        ).update(current_position=position)
    for run in new_runs:
        enqueue_step_run(run)
    finish_many(finished, now)


def finish_many(enrollments: Seq[Enrollment], now: dt.datetime) -> None:
    """The last step ran: the enrollments end ``finished``, each with its sentence."""
    if not enrollments:
        return
    text = f"The last step ran on {now:%Y-%m-%d %H:%M} UTC."
    Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).update(
        status=EnrollmentStatus.FINISHED,
        reason=UnenrollReason.FINISHED,
        ended_at=now,
        reason_text=text,
    )
    for enrollment in enrollments:
        enrollment.status = EnrollmentStatus.FINISHED
        enrollment.reason = UnenrollReason.FINISHED
        enrollment.ended_at = now
        enrollment.reason_text = text
    record_events(
        [
            Event(
                occurred_at=now,
                kind="finished",
                contact_id=e.contact_id,
                enrollment=e,
                sequence_id=e.sequence_id,
                sentence=f"{contact_label(e.contact)} finished «{e.sequence.name}»: {text}",
            )
            for e in enrollments
        ]
    )


def record_failure(claimed: ClaimedSend, outcome: SendOutcome) -> RunOutcome:
    """A send that was not accepted: bounce, policy block, or try again later."""
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("contact", "sequence", "mailbox")
            .get(pk=claimed.enrollment_id)
        )
        run = StepRun.objects.select_for_update().get(pk=claimed.run_id)
        if run.state != StepRunState.SENDING:
            return RunOutcome.NOT_SCHEDULED
        now = timezone.now()
        mailbox = enrollment.mailbox
        if outcome.mailbox_fault:
            mark_mailbox(mailbox, Health.FAILING, outcome.detail, now)
        match outcome.status:
            case SendStatus.RECIPIENT_REJECTED:
                record_bounce(enrollment, run, outcome, now)
                return RunOutcome.BOUNCED
            case SendStatus.POLICY_BLOCKED:
                run.state = StepRunState.SCHEDULED
                run.last_error = outcome.detail
                run.save(update_fields=["state", "last_error"])
                record_event(
                    kind="send_blocked",
                    enrollment=enrollment,
                    sentence=f"{mailbox.email}'s server refused to send step {run.position} "
                    f"({outcome.detail}). This concerns the sending mailbox, not the contact: "
                    "the enrollment is paused until someone resumes it.",
                    data={"code": outcome.code, "status": outcome.enhanced_status},
                )
                pause(enrollment=enrollment, actor=None)
                return RunOutcome.BLOCKED
            case _:
                recipient_specific = not outcome.mailbox_fault
                if recipient_specific and run.attempts >= settings.CADENCY_MAX_RECIPIENT_ATTEMPTS:
                    record_bounce(enrollment, run, outcome, now)
                    return RunOutcome.BOUNCED
                run.state = StepRunState.SCHEDULED
                run.last_error = outcome.detail
                run.due_at = retry_time(enrollment, run, now)
                run.save(update_fields=["state", "last_error", "due_at"])
                enqueue_step_run(run)
                record_event(
                    kind="send_deferred",
                    enrollment=enrollment,
                    sentence=f"Step {run.position} could not be sent ({outcome.detail}); "
                    f"attempt {run.attempts}, next try at {run.due_at:%Y-%m-%d %H:%M:%S} UTC.",
                    data={"attempt": run.attempts, "code": outcome.code},
                )
                return RunOutcome.RETRY_LATER


def retry_time(enrollment: Enrollment, run: StepRun, now: dt.datetime) -> dt.datetime:
    """After the backoff; follow-ups stay inside the send window, the first step
    (sent "at once" when enrolling) does not wait for it."""
    delays = settings.CADENCY_RETRY_DELAYS
    later = now + dt.timedelta(seconds=delays[min(run.attempts, len(delays)) - 1])
    is_first = not enrollment.step_runs.filter(position__lt=run.position).exists()
    return later if is_first else scheduling.next_send_time(later, policy_for(enrollment))


def mark_mailbox(mailbox: Mailbox, health: Health, error: str, now: dt.datetime) -> None:
    """Mark the mailbox's health at once; a failure is also counted once this
    transaction commits (``mailboxes.health``: enough in a row pause its enrollments),
    outside the row locks the send holds."""
    Mailbox.objects.filter(pk=mailbox.pk).update(
        health=health, last_error=error, last_checked_at=now
    )
    mailbox.health = health
    mailbox.last_error = error
    if health == Health.FAILING:
        transaction.on_commit(lambda: record_mailbox_failure(mailbox, Side.SMTP, error, now=now))


def mark_mailbox_working(mailbox: Mailbox) -> None:
    """The SMTP server accepted a send: the mailbox works (what Cadency paused for
    it resumes). One small query when it was healthy already."""
    record_mailbox_working(mailbox, [Side.SMTP], via="a send was accepted")


def record_bounce(
    enrollment: Enrollment, run: StepRun, outcome: SendOutcome, now: dt.datetime
) -> None:
    run.state = StepRunState.BOUNCED
    run.executed_at = now
    run.last_error = outcome.detail
    run.save(update_fields=["state", "executed_at", "last_error"])
    Suppression.objects.get_or_create(
        email=enrollment.email,
        defaults={
            "reason": SuppressionReason.BOUNCED,
            "detail": outcome.detail,
            "enrollment": enrollment,
        },
    )
    unenroll(
        enrollment=enrollment,
        reason=UnenrollReason.BOUNCED,
        evidence={
            "message_id": run.message_id,
            "smtp_code": outcome.code,
            "status": outcome.enhanced_status,
            "detail": outcome.detail,
        },
        sentence=f"Step {run.position} to {enrollment.email} bounced: the server answered "
        f"“{outcome.detail}” on {now:%Y-%m-%d %H:%M} UTC. The address is suppressed.",
    )
