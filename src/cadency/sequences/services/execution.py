"""Running a due step: claim under a row lock, send outside it, record the outcome.

The states make a crash safe (docs/architecture.md, "Why nothing is sent twice"):
``scheduled`` → ``sending`` (committed, with the message's bytes and Message-ID
fixed) → SMTP → ``sent``. A run found in ``sending`` after a crash is resolved
by looking for its Message-ID in the mailbox's Sent folder before any resend.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from cadency.contacts.models import Suppression, SuppressionReason
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Health, Mailbox, SentCopy
from cadency.mailboxes.sent_folder import append_to_sent, sent_folder_has
from cadency.outbound.compose import OutgoingEmail, Thread, message_bytes, new_message_id
from cadency.outbound.models import SentMessage
from cadency.outbound.smtp_send import SendOutcome, SendStatus, send_message
from cadency.sequences.models import (
    DelayUnit,
    Enrollment,
    EnrollmentStatus,
    Step,
    StepKind,
    StepRun,
    StepRunState,
    Task,
    UnenrollReason,
)
from cadency.sequences.services import scheduling
from cadency.sequences.services.enrollment import (
    contact_label,
    pause,
    policy_for,
    unenroll,
)
from cadency.sequences.services.queue import enqueue_step_run
from cadency.sequences.services.templates import MissingToken, render

logger = logging.getLogger(__name__)


class RunOutcome(StrEnum):
    SENT = "sent"
    TASK_CREATED = "task_created"
    POSTPONED = "postponed"
    RETRY_LATER = "retry_later"
    BOUNCED = "bounced"
    BLOCKED = "blocked"
    SUPPRESSED = "suppressed"
    NOT_DUE = "not_due"
    NOT_SCHEDULED = "not_scheduled"
    NOT_ACTIVE = "not_active"
    MISSING = "missing"
    COPY_SAVED = "copy_saved"
    COPY_NOT_NEEDED = "copy_not_needed"


@dataclass(frozen=True)
class ClaimedSend:
    run_id: int
    enrollment_id: int
    mailbox: Mailbox
    recipient: str
    raw: bytes


def execute_step_run(step_run_id: int) -> RunOutcome:
    claimed = claim(step_run_id)
    if isinstance(claimed, RunOutcome):
        return claimed
    outcome = send_message(claimed.mailbox, claimed.raw, claimed.recipient)
    return record_outcome(claimed, outcome)


def claim(step_run_id: int) -> ClaimedSend | RunOutcome:
    """Under row locks: re-check everything, then either act (task, postpone,
    suppress) or fix the message and mark the run ``sending``."""
    enrollment_id = (
        StepRun.objects.filter(pk=step_run_id).values_list("enrollment_id", flat=True).first()
    )
    if enrollment_id is None:
        return RunOutcome.MISSING
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("contact__company", "sequence", "mailbox", "enrolled_by")
            .get(pk=enrollment_id)
        )
        run = (
            StepRun.objects.select_for_update(of=("self",))
            .select_related("step")
            .get(pk=step_run_id)
        )
        if run.state != StepRunState.SCHEDULED:
            return RunOutcome.NOT_SCHEDULED
        if enrollment.status != EnrollmentStatus.ACTIVE:
            return RunOutcome.NOT_ACTIVE
        now = timezone.now()
        if run.due_at > now + dt.timedelta(seconds=1):
            return RunOutcome.NOT_DUE
        if run.step.step_kind.is_task:
            create_step_task(enrollment, run, now)
            return RunOutcome.TASK_CREATED
        suppression = Suppression.objects.filter(email=enrollment.email).first()
        if suppression is not None:
            run.state = StepRunState.CANCELLED
            run.save(update_fields=["state"])
            unenroll(
                enrollment=enrollment,
                reason=UnenrollReason(suppression.reason),
                evidence={"suppression": suppression.pk},
                sentence=f"{enrollment.email} was suppressed ({suppression.reason}) before step "
                f"{run.position} could send; nothing was sent.",
            )
            return RunOutcome.SUPPRESSED
        later = limit_postponement(enrollment, now)
        if later is not None:
            run.due_at = later
            run.save(update_fields=["due_at"])
            enqueue_step_run(run)
            record_event(
                kind="send_postponed",
                enrollment=enrollment,
                sentence=f"Step {run.position} postponed to {later:%Y-%m-%d %H:%M} UTC: "
                f"{enrollment.mailbox.email} reached its send limit.",
            )
            return RunOutcome.POSTPONED
        message = (
            SentMessage.objects.only("raw").get(step_run=run)
            if run.attempts
            else fix_message(enrollment, run)
        )
        run.state = StepRunState.SENDING
        run.attempts += 1
        run.claimed_at = now
        run.save(update_fields=["state", "attempts", "claimed_at", "message_id", "subject"])
    return ClaimedSend(
        run.pk, enrollment.pk, enrollment.mailbox, enrollment.email, bytes(message.raw)
    )


def fix_message(enrollment: Enrollment, run: StepRun) -> SentMessage:
    """Render the email once; every attempt sends exactly these bytes."""
    step: Step = run.step
    contact = enrollment.contact
    sender = enrollment.enrolled_by
    try:
        subject = render(step.subject, contact=contact, sender=sender)
        body = render(step.body, contact=contact, sender=sender)
    except MissingToken as exc:
        # The contact changed since enrollment; fall back to blank rather than "{{ }}".
        logger.warning("step run %s: %s", run.pk, exc)
        subject, body = step.subject, step.body
    run.message_id = new_message_id(enrollment.mailbox)
    thread = thread_for(enrollment, run, step)
    run.subject = f"Re: {thread.subject}" if thread else subject
    raw = message_bytes(
        OutgoingEmail(
            mailbox=enrollment.mailbox,
            sender_name=enrollment.mailbox.display_name or sender.display_name,
            to_name=contact.full_name,
            to_email=enrollment.email,
            subject=subject,
            body=body,
            message_id=run.message_id,
            enrollment_id=enrollment.pk,
            thread=thread,
        )
    )
    return SentMessage.objects.create(
        step_run=run,
        enrollment=enrollment,
        message_id=run.message_id,
        to_email=enrollment.email,
        subject=run.subject,
        raw=raw,
    )


def thread_for(enrollment: Enrollment, run: StepRun, step: Step) -> Thread | None:
    threaded = step.thread_as_reply and enrollment.send_settings.get("thread_follow_ups", True)
    if not threaded or run.position == 1:
        return None
    earlier = list(
        SentMessage.objects.filter(
            enrollment=enrollment,
            step_run__position__lt=run.position,
            step_run__state=StepRunState.SENT,
        )
        .order_by("step_run__position")
        .values_list("message_id", "subject")
    )
    if not earlier:
        return None
    first_subject = earlier[0][1]
    return Thread(subject=first_subject.removeprefix("Re: "), message_ids=[m for m, _ in earlier])


def limit_postponement(enrollment: Enrollment, now: dt.datetime) -> dt.datetime | None:
    """When the mailbox's daily or per-minute limit is reached: the next allowed time."""
    mailbox = enrollment.mailbox
    mailbox_zone = scheduling.resolve_zone(mailbox.time_zone)
    local_midnight = dt.datetime.combine(
        now.astimezone(mailbox_zone).date(), dt.time(0), tzinfo=mailbox_zone
    )
    minute_ago = now - dt.timedelta(minutes=1)
    counts = StepRun.objects.filter(
        mailbox=mailbox,
        claimed_at__gte=min(local_midnight, minute_ago),
        state__in=[StepRunState.SENDING, StepRunState.SENT, StepRunState.BOUNCED],
    ).aggregate(
        today=Count("pk", filter=Q(claimed_at__gte=local_midnight)),
        last_minute=Count("pk", filter=Q(claimed_at__gt=minute_ago)),
    )
    if counts["last_minute"] >= mailbox.per_minute_limit:
        return now + dt.timedelta(seconds=60)
    if counts["today"] >= mailbox.daily_limit:
        tomorrow = local_midnight + dt.timedelta(days=1)
        return scheduling.next_send_time(tomorrow.astimezone(dt.UTC), policy_for(enrollment))
    return None


def create_step_task(enrollment: Enrollment, run: StepRun, now: dt.datetime) -> Task:
    step = run.step
    contact = enrollment.contact
    sender = enrollment.enrolled_by

    def fill(text: str) -> str:
        try:
            return render(text, contact=contact, sender=sender)
        except MissingToken:
            return text

    notes = f"Subject: {fill(step.subject)}\n\n{fill(step.body)}" if step.body else ""
    title = fill(step.task_title) or f"{StepKind(step.kind).label}: {contact_label(contact)}"
    task = Task.objects.create(
        assignee=sender,
        contact=contact,
        step_run=run,
        kind=step.kind,
        title=title,
        notes=notes,
        due_at=now,
    )
    run.state = StepRunState.TASK_OPEN if step.pause_until_complete else StepRunState.DONE
    run.executed_at = now
    run.save(update_fields=["state", "executed_at"])
    record_event(
        kind="task_created",
        enrollment=enrollment,
        sentence=f"Step {run.position}: task “{title}” created for {sender.display_name}"
        + (" (the sequence waits for it)." if step.pause_until_complete else "."),
        data={"task": task.pk, "step_run": run.pk},
    )
    if not step.pause_until_complete:
        advance(enrollment, run, now)
    return task


def advance(enrollment: Enrollment, done: StepRun, now: dt.datetime) -> StepRun | None:
    """Schedule the step after ``done``, or finish the enrollment after the last one."""
    if enrollment.status not in (EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED):
        return None
    next_step = Step.objects.filter(
        sequence_id=enrollment.sequence_id,
        version=enrollment.sequence_version,
        position=done.position + 1,
    ).first()
    if next_step is None:
        finish(enrollment, now)
        return None
    due = scheduling.follow_up_due(
        now, next_step.delay, DelayUnit(next_step.delay_unit), policy_for(enrollment)
    )
    run = StepRun.objects.create(
        enrollment=enrollment,
        step=next_step,
        position=next_step.position,
        mailbox=enrollment.mailbox,
        due_at=due,
    )
    enrollment.current_position = next_step.position
    enrollment.save(update_fields=["current_position"])
    enqueue_step_run(run)
    return run


def finish(enrollment: Enrollment, now: dt.datetime) -> None:
    enrollment.status = EnrollmentStatus.FINISHED
    enrollment.reason = UnenrollReason.FINISHED
    enrollment.ended_at = now
    enrollment.reason_text = (
        f"{contact_label(enrollment.contact)} finished «{enrollment.sequence.name}»: "
        f"the last step ran on {now:%Y-%m-%d %H:%M} UTC."
    )
    enrollment.save(update_fields=["status", "reason", "ended_at", "reason_text"])
    record_event(kind="finished", enrollment=enrollment, sentence=enrollment.reason_text)


def record_outcome(claimed: ClaimedSend, outcome: SendOutcome) -> RunOutcome:
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
        elif mailbox.health != Health.OK:
            mark_mailbox(mailbox, Health.OK, "", now)
        match outcome.status:
            case SendStatus.ACCEPTED:
                record_sent(enrollment, run, now)
                return RunOutcome.SENT
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
            case SendStatus.TEMPORARY:
                recipient_specific = not outcome.mailbox_fault
                if recipient_specific and run.attempts >= settings.CADENCY_MAX_RECIPIENT_ATTEMPTS:
                    record_bounce(enrollment, run, outcome, now)
                    return RunOutcome.BOUNCED
                run.state = StepRunState.SCHEDULED
                run.last_error = outcome.detail
                run.due_at = now + retry_delay(run.attempts)
                run.save(update_fields=["state", "last_error", "due_at"])
                enqueue_step_run(run)
                record_event(
                    kind="send_deferred",
                    enrollment=enrollment,
                    sentence=f"Step {run.position} could not be sent ({outcome.detail}); "
                    f"attempt {run.attempts}, next try at {run.due_at:%H:%M:%S} UTC.",
                    data={"attempt": run.attempts, "code": outcome.code},
                )
                return RunOutcome.RETRY_LATER
    raise AssertionError(f"unhandled send status {outcome.status}")


def retry_delay(attempts: int) -> dt.timedelta:
    delays = settings.CADENCY_RETRY_DELAYS
    return dt.timedelta(seconds=delays[min(attempts, len(delays)) - 1])


def mark_mailbox(mailbox: Mailbox, health: Health, error: str, now: dt.datetime) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(
        health=health, last_error=error, last_checked_at=now
    )
    mailbox.health = health
    mailbox.last_error = error


def record_sent(enrollment: Enrollment, run: StepRun, now: dt.datetime) -> None:
    run.state = StepRunState.SENT
    run.executed_at = now
    run.last_error = ""
    run.save(update_fields=["state", "executed_at", "last_error"])
    SentMessage.objects.filter(step_run=run).update(accepted_at=now)
    record_event(
        kind="email_sent",
        enrollment=enrollment,
        sentence=f"Step {run.position} “{run.subject}” sent to {enrollment.email} "
        f"from {enrollment.mailbox.email}.",
        data={"message_id": run.message_id, "step_run": run.pk, "attempts": run.attempts},
    )
    if enrollment.mailbox.sent_copy == SentCopy.APPEND:
        from cadency.sequences.tasks import save_sent_copy as save_task

        save_task.enqueue(run.pk)
    advance(enrollment, run, now)


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


def save_sent_copy(step_run_id: int) -> RunOutcome:
    run = StepRun.objects.select_related("mailbox").get(pk=step_run_id)
    if run.sent_copy_saved or run.mailbox.sent_copy != SentCopy.APPEND:
        return RunOutcome.COPY_NOT_NEEDED
    message = SentMessage.objects.get(step_run=run)
    # A repeated task (the sweep re-queues unsaved copies) must not file it twice.
    if not sent_folder_has(run.mailbox, message.message_id):
        append_to_sent(run.mailbox, bytes(message.raw))
    StepRun.objects.filter(pk=run.pk).update(sent_copy_saved=True)
    return RunOutcome.COPY_SAVED
