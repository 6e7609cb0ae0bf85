"""Claiming due steps under row locks: re-check, act, or fix the message and mark it sending.

A run's own task claims it; while it is at it, the task also claims other due
email steps of the same mailbox (a batch), so a burst of sends shares one
transaction instead of paying for one each.
"""

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cadency.contacts.models import Suppression
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Mailbox
from cadency.meetings.links_in_email import add_enrollment_ref
from cadency.outbound.compose import OutgoingEmail, Thread, message_bytes, new_message_id
from cadency.outbound.models import SentMessage
from cadency.sequences.models import (
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
from cadency.sequences.services.enrollment import contact_label, policy_for, unenroll
from cadency.sequences.services.queue import enqueue_step_run
from cadency.sequences.services.recording import advance, share_relations
from cadency.sequences.services.runs import ClaimedSend, RunOutcome
from cadency.sequences.services.templates import MissingToken, render
from cadency.tracking.links import with_tracking

logger = logging.getLogger(__name__)

COUNTED_STATES = [
    StepRunState.SENDING,
    StepRunState.ACCEPTED,
    StepRunState.SENT,
    StepRunState.BOUNCED,
]
ENROLLMENT_RELATIONS = ("contact__company", "sequence", "mailbox", "enrolled_by")


@dataclass(frozen=True)
class Quota:
    """How many more emails the mailbox may send now, and when it may send again."""

    remaining: int
    next_allowed: dt.datetime


def claim(step_run_id: int, *, batch: int = 1) -> ClaimedSend | RunOutcome | list[ClaimedSend]:
    """Claim one run; with ``batch`` > 1, also other due email runs of its mailbox.

    Returns the trigger's outcome when it needed no sending (a task, a
    postponement, a suppression, nothing to do), the claimed send for a batch of
    one, or the list of claimed sends.
    """
    row = StepRun.objects.filter(pk=step_run_id).values("enrollment_id").first()
    if row is None:
        return RunOutcome.MISSING
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related(*ENROLLMENT_RELATIONS)
            .get(pk=row["enrollment_id"])
        )
        run = (
            StepRun.objects.select_for_update(of=("self",))
            .select_related("step")
            .get(pk=step_run_id)
        )
        now = timezone.now()
        outcome = act_without_sending(enrollment, run, now)
        if outcome is not None:
            return outcome
        quota = send_quota(enrollment.mailbox, enrollment, now)
        if quota.remaining < 1:
            postpone(enrollment, run, quota.next_allowed)
            return RunOutcome.POSTPONED
        claimed = [mark_sending(enrollment, run, now)]
        if batch > 1 and quota.remaining > 1:
            claimed += claim_companions(
                enrollment.mailbox, now, min(batch, quota.remaining) - 1, exclude=run.pk
            )
    return claimed if batch > 1 else claimed[0]


def act_without_sending(
    enrollment: Enrollment, run: StepRun, now: dt.datetime
) -> RunOutcome | None:
    """Everything that ends a claim before an email is fixed: None means "send it"."""
    if run.state != StepRunState.SCHEDULED:
        return RunOutcome.NOT_SCHEDULED
    if enrollment.status != EnrollmentStatus.ACTIVE:
        return RunOutcome.NOT_ACTIVE
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
    return None


def claim_more(mailbox: Mailbox, limit: int) -> list[ClaimedSend]:
    """A burst going on: the mailbox's next due emails, as many as its limits allow."""
    with transaction.atomic():
        now = timezone.now()
        left = min(sends_left(mailbox, now))
        return claim_companions(mailbox, now, min(limit, left)) if left > 0 else []


def claim_companions(
    mailbox: Mailbox, now: dt.datetime, limit: int, *, exclude: int | None = None
) -> list[ClaimedSend]:
    """Other due first-attempt email runs of the mailbox, claimed in bulk.

    Rows another worker holds are skipped, as are runs needing more than a send
    (tasks, retries, suppressed addresses): their own tasks handle them.
    """
    due = StepRun.objects.filter(
        mailbox=mailbox,
        state=StepRunState.SCHEDULED,
        due_at__lte=now,
        attempts=0,
        step__kind=StepKind.AUTOMATED_EMAIL,
        enrollment__status=EnrollmentStatus.ACTIVE,
    )
    if exclude is not None:
        due = due.exclude(pk=exclude)
    candidates = list(due.order_by("due_at").values_list("pk", "enrollment_id")[:limit])
    if not candidates:
        return []
    enrollments = {
        e.pk: e
        for e in Enrollment.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("contact__company")
        .filter(pk__in=[e for _, e in candidates], status=EnrollmentStatus.ACTIVE)
        .order_by("pk")
    }
    share_relations(enrollments.values(), mailbox)
    runs = list(
        StepRun.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(
            pk__in=[r for r, _ in candidates],
            state=StepRunState.SCHEDULED,
            attempts=0,
            enrollment_id__in=enrollments,
        )
        .order_by("due_at")
    )
    steps = Step.objects.in_bulk({r.step_id for r in runs})
    for run in runs:
        run.step = steps[run.step_id]
    suppressed = set(
        Suppression.objects.filter(
            email__in=[enrollments[r.enrollment_id].email for r in runs]
        ).values_list("email", flat=True)
    )
    runs = [r for r in runs if enrollments[r.enrollment_id].email not in suppressed]
    messages = [fix_message(enrollments[r.enrollment_id], r) for r in runs]
    SentMessage.objects.bulk_create(messages)
    for run in runs:
        start_attempt(run, now)
    fixed = SentMessage.objects.filter(step_run=OuterRef("pk"))
    StepRun.objects.filter(pk__in=[r.pk for r in runs]).update(
        state=StepRunState.SENDING,
        attempts=F("attempts") + 1,
        claimed_at=now,
        message_id=Subquery(fixed.values("message_id")[:1]),
        subject=Subquery(fixed.values("subject")[:1]),
    )
    retire_tasks(r.task_id for r in runs)
    return [
        ClaimedSend(r.pk, r.enrollment_id, mailbox, m.to_email, bytes(m.raw))
        for r, m in zip(runs, messages, strict=True)
    ]


def retire_tasks(task_ids: Iterable[object]) -> None:
    """The companions' own queued tasks have nothing left to do."""
    DBTaskResult.objects.filter(
        id__in=[t for t in task_ids if t], status=TaskResultStatus.READY
    ).update(
        status=TaskResultStatus.SUCCESSFUL,
        finished_at=timezone.now(),
        return_value="claimed in a batch",
    )


def mark_sending(enrollment: Enrollment, run: StepRun, now: dt.datetime) -> ClaimedSend:
    if run.attempts:
        message = SentMessage.objects.only("raw", "to_email").get(step_run=run)
    else:
        message = fix_message(enrollment, run)
        message.save()
    start_attempt(run, now)
    run.save(update_fields=["state", "attempts", "claimed_at", "message_id", "subject"])
    return ClaimedSend(
        run.pk, enrollment.pk, enrollment.mailbox, message.to_email, bytes(message.raw)
    )


def start_attempt(run: StepRun, now: dt.datetime) -> None:
    run.state = StepRunState.SENDING
    run.attempts += 1
    run.claimed_at = now


def fix_message(enrollment: Enrollment, run: StepRun) -> SentMessage:
    """Render the email once: every attempt sends exactly these bytes with this
    Message-ID. The SentMessage is returned unsaved, for bulk inserts."""
    step = run.step
    contact = enrollment.contact
    sender = enrollment.enrolled_by
    try:
        subject = render(step.subject, contact=contact, sender=sender)
        body = render(step.body, contact=contact, sender=sender)
    except MissingToken as exc:
        # The contact changed since enrollment; send the text as written rather than nothing.
        logger.warning("step run %s: %s", run.pk, exc)
        subject, body = step.subject, step.body
    body = add_enrollment_ref(body, enrollment.pk)
    run.message_id = new_message_id(enrollment.mailbox)
    thread = thread_for(enrollment, run)
    run.subject = f"Re: {thread.subject}" if thread else subject
    email = OutgoingEmail(
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
    # Last: links are wrapped as they will be sent (after any other rewriting of the body).
    raw = message_bytes(with_tracking(email, run_id=run.pk, send_settings=enrollment.send_settings))
    return SentMessage(
        step_run=run,
        enrollment=enrollment,
        message_id=run.message_id,
        to_email=enrollment.email,
        subject=run.subject,
        raw=raw,
    )


def thread_for(enrollment: Enrollment, run: StepRun) -> Thread | None:
    threaded = run.step.thread_as_reply and enrollment.send_settings.get("thread_follow_ups", True)
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


def send_quota(mailbox: Mailbox, enrollment: Enrollment, now: dt.datetime) -> Quota:
    """What is left of the mailbox's per-minute and daily limits (the day is the mailbox's)."""
    left_today, left_this_minute = sends_left(mailbox, now)
    if left_today < 1:
        tomorrow = (mailbox_day_start(mailbox, now) + dt.timedelta(days=1)).astimezone(dt.UTC)
        return Quota(0, scheduling.next_send_time(tomorrow, policy_for(enrollment)))
    return Quota(min(left_today, left_this_minute), now + dt.timedelta(seconds=60))


def sends_left(mailbox: Mailbox, now: dt.datetime) -> tuple[int, int]:
    """How many more sends the mailbox's daily and per-minute limits allow."""
    local_midnight = mailbox_day_start(mailbox, now)
    minute_ago = now - dt.timedelta(minutes=1)
    counts = StepRun.objects.filter(
        mailbox=mailbox,
        claimed_at__gte=min(local_midnight, minute_ago),
        state__in=COUNTED_STATES,
    ).aggregate(
        today=Count("pk", filter=Q(claimed_at__gte=local_midnight)),
        last_minute=Count("pk", filter=Q(claimed_at__gt=minute_ago)),
    )
    return mailbox.daily_limit - counts["today"], mailbox.per_minute_limit - counts["last_minute"]


def mailbox_day_start(mailbox: Mailbox, now: dt.datetime) -> dt.datetime:
    return scheduling.day_start(now, scheduling.resolve_zone(mailbox.time_zone))


def postpone(enrollment: Enrollment, run: StepRun, later: dt.datetime) -> None:
    run.due_at = later
    run.save(update_fields=["due_at"])
    enqueue_step_run(run)
    record_event(
        kind="send_postponed",
        enrollment=enrollment,
        sentence=f"Step {run.position} postponed to {later:%Y-%m-%d %H:%M} UTC: "
        f"{enrollment.mailbox.email} reached its send limit.",
    )


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
