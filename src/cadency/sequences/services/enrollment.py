"""Enrolling, pausing, resuming, finishing and unenrolling (SPEC §2, §3, §4)."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.addresses import InvalidAddress, normalize_email
from cadency.contacts.models import Contact, Suppression
from cadency.ledger.services import record_event
from cadency.mailboxes.models import Health, Mailbox
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    Sequence,
    Step,
    StepRun,
    StepRunState,
    Task,
    TaskStatus,
    UnenrollReason,
)
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services import scheduling
from cadency.sequences.services.errors import EnrollmentRefused, RefusalCode
from cadency.sequences.services.queue import enqueue_step_run
from cadency.sequences.services.templates import MissingToken, render


def choose_mailbox(user: User, mailbox: Mailbox | None) -> Mailbox:
    if mailbox is not None:
        if mailbox.user_id != user.pk:
            raise EnrollmentRefused(
                RefusalCode.NO_WORKING_MAILBOX,
                f"the mailbox {mailbox.email} belongs to another user",
            )
        if not mailbox.is_working:
            raise EnrollmentRefused(
                RefusalCode.NO_WORKING_MAILBOX,
                f"the mailbox {mailbox.email} is failing: {mailbox.last_error or 'check it'}",
            )
        return mailbox
    working = user.mailboxes.exclude(health=Health.FAILING).order_by("pk").first()
    if working is None:
        raise EnrollmentRefused(
            RefusalCode.NO_WORKING_MAILBOX,
            f"{user.display_name} has no working mailbox: connect one first",
        )
    return working


def check_tokens(steps: Iterable[Step], contact: Contact, sender: User) -> None:
    for step in steps:
        try:
            for text in (step.subject, step.body, step.task_title):
                render(text, contact=contact, sender=sender)
        except MissingToken as exc:
            raise EnrollmentRefused(
                RefusalCode.MISSING_TOKEN, f"step {step.position}: {exc}"
            ) from exc


def check_enrollable(
    *, contact: Contact, sequence: Sequence, user: User, mailbox: Mailbox | None, start: int
) -> tuple[str, Mailbox, list[Step]]:
    """Every refusal of SPEC §2.2, checked before anything is written."""
    if not user.is_active:
        raise EnrollmentRefused(RefusalCode.USER_INACTIVE, f"{user.display_name} is deactivated")
    if contact.deleted_at is not None:
        raise EnrollmentRefused(RefusalCode.CONTACT_DELETED, "the contact was deleted")
    if sequence.archived_at is not None:
        raise EnrollmentRefused(
            RefusalCode.SEQUENCE_ARCHIVED, f"the sequence {sequence.name!r} was deleted"
        )
    try:
        email = normalize_email(contact.email)
    except InvalidAddress as exc:
        raise EnrollmentRefused(RefusalCode.INVALID_EMAIL, str(exc)) from exc
    suppression = Suppression.objects.filter(email=email).first()
    if suppression is not None:
        raise EnrollmentRefused(
            RefusalCode.SUPPRESSED,
            f"{email} is suppressed ({suppression.reason} on {suppression.created_at:%Y-%m-%d})",
        )
    current = (
        Enrollment.objects.filter(contact=contact, status__in=OPEN_STATUSES)
        .select_related("sequence")
        .first()
    )
    if current is not None:
        raise EnrollmentRefused(
            RefusalCode.ALREADY_ENROLLED,
            f"{email} is already {current.status} in the sequence {current.sequence.name!r}",
        )
    chosen = choose_mailbox(user, mailbox)
    steps = list(sequence.current_steps())
    if not steps:
        raise EnrollmentRefused(RefusalCode.SEQUENCE_EMPTY, "the sequence has no steps")
    if not 1 <= start <= len(steps):
        raise EnrollmentRefused(
            RefusalCode.INVALID_START_STEP,
            f"there is no step {start}: the sequence has {len(steps)} steps",
        )
    check_tokens(steps[start - 1 :], contact, user)
    return email, chosen, steps


def enroll(
    *,
    contact: Contact,
    sequence: Sequence,
    user: User,
    mailbox: Mailbox | None = None,
    start_step: int = 1,
    start_at: dt.datetime | None = None,
    run_first_step: bool = True,
) -> Enrollment:
    """Enroll a contact; the first step runs at once unless a later start is given.

    Raises EnrollmentRefused (and writes nothing) when SPEC §2.2 forbids it.
    A ``start_at`` in the past means "now".
    """
    if start_at is not None and timezone.is_naive(start_at):
        raise ValueError("start_at must carry a time zone")
    now = timezone.now()
    with transaction.atomic():
        # Serialise enrollments of one contact so the "one open enrollment" rule holds.
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        sequence = Sequence.objects.get(pk=sequence.pk)
        email, chosen, steps = check_enrollable(
            contact=contact, sequence=sequence, user=user, mailbox=mailbox, start=start_step
        )
        enrollment = Enrollment.objects.create(
            contact=contact,
            sequence=sequence,
            sequence_version=sequence.current_version,
            enrolled_by=user,
            mailbox=chosen,
            email=email,
            current_position=start_step,
            send_settings=scheduling.sequence_settings_snapshot(sequence),
            started_at=now,
        )
        due = start_at if start_at is not None and start_at > now else now
        run = StepRun.objects.create(
            enrollment=enrollment,
            step=steps[start_step - 1],
            position=start_step,
            mailbox=chosen,
            due_at=due,
        )
        record_event(
            kind="enrolled",
            enrollment=enrollment,
            actor=user,
            sentence=(
                f"{user.display_name} enrolled {contact_label(contact)} in «{sequence.name}» "
                f"from step {start_step}, sending from {chosen.email}."
            ),
            data={"start_step": start_step, "mailbox": chosen.email, "due_at": due.isoformat()},
        )
        enqueue_step_run(run)
        from cadency.sequences.services.absence import pause_if_absent

        held = pause_if_absent(enrollment)
    if run_first_step and due <= now and not held:
        from cadency.sequences.services.execution import execute_step_run

        execute_step_run(run.pk)
        enrollment.refresh_from_db()
    return enrollment


def contact_label(contact: Contact) -> str:
    return f"{contact.full_name} ({contact.email})" if contact.full_name else contact.email


def unenroll(
    *,
    enrollment: Enrollment,
    reason: UnenrollReason,
    actor: User | None = None,
    sentence: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> bool:
    """End an open enrollment. Idempotent: returns False if it had already ended."""
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if locked.status not in OPEN_STATUSES:
            return False
        now = timezone.now()
        sentence = sentence or default_sentence(locked, reason, actor, now)
        locked.status = EnrollmentStatus.UNENROLLED
        locked.reason = reason
        locked.reason_text = sentence
        locked.evidence = evidence or {}
        locked.ended_at = now
        locked.ended_by = actor
        locked.save(
            update_fields=["status", "reason", "reason_text", "evidence", "ended_at", "ended_by"]
        )
        cancelled = cancel_pending_work([locked.pk])
        record_event(
            kind="unenrolled",
            enrollment=locked,
            actor=actor,
            sentence=sentence,
            data={"reason": reason.value, "evidence": evidence or {}, "cancelled": cancelled},
        )
    enrollment.refresh_from_db()
    return True


def default_sentence(
    enrollment: Enrollment, reason: UnenrollReason, actor: User | None, when: dt.datetime
) -> str:
    who = contact_label(enrollment.contact)
    at = f"{when:%Y-%m-%d %H:%M} UTC"
    name = enrollment.sequence.name
    match reason:
        case UnenrollReason.MANUAL:
            by = actor.display_name if actor else "A user"
            return f"{by} unenrolled {who} from «{name}» on {at}."
        case UnenrollReason.FINISHED:
            return f"{who} finished «{name}» on {at}."
        case _:
            return f"{who} was unenrolled from «{name}» ({reason.label}) on {at}."


def cancel_pending_work(enrollment_ids: list[int]) -> dict[str, int]:
    """Cancel scheduled step runs and open tasks. A send already in flight is left to finish."""
    runs = StepRun.objects.filter(
        enrollment_id__in=enrollment_ids, state=StepRunState.SCHEDULED
    ).update(state=StepRunState.CANCELLED)
    tasks = Task.objects.filter(
        step_run__enrollment_id__in=enrollment_ids, status=TaskStatus.OPEN
    ).update(status=TaskStatus.CANCELLED)
    return {"step_runs": runs, "tasks": tasks}


def pause(*, enrollment: Enrollment, actor: User | None) -> bool:
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if locked.status != EnrollmentStatus.ACTIVE:
            return False
        locked.status = EnrollmentStatus.PAUSED
        locked.paused_at = timezone.now()
        locked.save(update_fields=["status", "paused_at"])
        who = actor.display_name if actor else "Cadency"
        record_event(
            kind="paused",
            enrollment=locked,
            actor=actor,
            sentence=f"{who} paused {contact_label(locked.contact)} in «{locked.sequence.name}».",
        )
    enrollment.refresh_from_db()
    return True


def resume(*, enrollment: Enrollment, actor: User | None) -> bool:
    """Resume a paused enrollment; steps that fell due meanwhile go at the next window."""
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if locked.status != EnrollmentStatus.PAUSED:
            return False
        now = timezone.now()
        locked.status = EnrollmentStatus.ACTIVE
        locked.paused_at = None
        locked.save(update_fields=["status", "paused_at"])
        policy = policy_for(locked)
        for run in locked.step_runs.select_for_update().filter(state=StepRunState.SCHEDULED):
            if run.due_at < now:
                run.due_at = scheduling.next_send_time(now, policy)
                run.save(update_fields=["due_at"])
            enqueue_step_run(run)
        who = actor.display_name if actor else "Cadency"
        record_event(
            kind="resumed",
            enrollment=locked,
            actor=actor,
            sentence=f"{who} resumed {contact_label(locked.contact)} in «{locked.sequence.name}».",
        )
    enrollment.refresh_from_db()
    return True


def policy_for(enrollment: Enrollment) -> scheduling.SendPolicy:
    zone = scheduling.resolve_zone(enrollment.contact.time_zone, enrollment.mailbox.time_zone)
    return scheduling.policy_from_snapshot(enrollment.send_settings, zone)
