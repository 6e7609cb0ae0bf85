"""Deleting a sequence or a contact, deactivating a user: their enrollments end.

Nothing is erased: a deleted sequence is archived and a deleted contact is
soft-deleted (with a snapshot in the ledger), so history and reports stay.
"""

from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.ledger.models import Event
from cadency.ledger.services import record_event, record_events
from cadency.sequences.models import Enrollment, Sequence, Task, TaskStatus, UnenrollReason
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.enrollment import contact_label, unenroll


class DeactivationError(ValueError):
    """The deactivation cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class Deactivation:
    enrollments_ended: int
    tasks_reassigned: int
    tasks_cancelled: int
    reassigned_to: User | None = None


@dataclass(frozen=True)
class DeactivationPreview:
    """What deactivating a user would do, for the confirmation."""

    open_enrollments: int
    open_tasks: int


def deactivation_preview(user: User) -> DeactivationPreview:
    return DeactivationPreview(
        open_enrollments=Enrollment.objects.filter(
            enrolled_by=user, status__in=OPEN_STATUSES
        ).count(),
        open_tasks=Task.objects.filter(assignee=user, status=TaskStatus.OPEN).count(),
    )


def delete_sequence(*, sequence: Sequence, actor: User | None) -> int:
    """Archive the sequence (reports keep working) and unenroll its open enrollments.
    Deleting an already deleted sequence changes nothing."""
    with transaction.atomic():
        locked = Sequence.objects.select_for_update().get(pk=sequence.pk)
        if locked.archived_at is not None:
            return 0
        sequence.archived_at = timezone.now()
        sequence.save(update_fields=["archived_at"])
        ended = _unenroll_all(
            Enrollment.objects.filter(sequence=sequence, status__in=OPEN_STATUSES),
            UnenrollReason.SEQUENCE_DELETED,
            actor,
            f"the sequence «{sequence.name}» was deleted",
        )
        record_event(
            kind="sequence_deleted",
            sequence=sequence,
            actor=actor,
            sentence=f"«{sequence.name}» was deleted; {ended} open enrollments ended.",
        )
    return ended


def delete_contact(*, contact: Contact, actor: User | None) -> int:
    """Soft-delete the contact, keep a snapshot in the ledger, end its enrollments.
    Deleting an already deleted contact changes nothing."""
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        if locked.deleted_at is not None:
            return 0
        ended = _unenroll_all(
            Enrollment.objects.filter(contact=contact, status__in=OPEN_STATUSES),
            UnenrollReason.CONTACT_DELETED,
            actor,
            f"the contact {contact_label(contact)} was deleted",
        )
        contact.deleted_at = timezone.now()
        contact.save(update_fields=["deleted_at"])
        record_event(
            kind="contact_deleted",
            contact=contact,
            actor=actor,
            sentence=f"{contact_label(contact)} was deleted.",
            data={
                "snapshot": {
                    "email": contact.email,
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "company": contact.company.name if contact.company else None,
                    "aliases": list(contact.aliases.values_list("email", flat=True)),
                    "properties": contact.properties,
                }
            },
        )
    return ended


def check_deactivation(
    *, user: User, actor: User | None, reassign_tasks_to: User | None = None
) -> None:
    """Refuse (DeactivationError) a deactivation that cannot be done as asked."""
    if actor is not None and actor.pk == user.pk:
        raise DeactivationError("you cannot deactivate yourself; ask another manager or admin")
    if reassign_tasks_to is not None:
        if reassign_tasks_to.pk == user.pk:
            raise DeactivationError(
                f"the open tasks of {user.username} cannot be reassigned to {user.username}, "
                "who is being deactivated"
            )
        if not reassign_tasks_to.is_active:
            raise DeactivationError(
                f"{reassign_tasks_to.username} is deactivated and cannot take over tasks"
            )


def deactivate_user(
    *, user: User, actor: User | None, reassign_tasks_to: User | None = None
) -> Deactivation:
    """Deactivate a user: the enrollments they made end with ``user_deactivated``
    (their history stays) and their other open tasks go to ``reassign_tasks_to``,
    or are cancelled when nobody is named. Deactivating an inactive user again
    only finishes what is left (the sweep relies on it). Permissions are the
    caller's to check (``accounts.permissions.check_may_deactivate_user``)."""
    check_deactivation(user=user, actor=actor, reassign_tasks_to=reassign_tasks_to)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        ended = _unenroll_all(
            Enrollment.objects.filter(enrolled_by=user, status__in=OPEN_STATUSES),
            UnenrollReason.USER_DEACTIVATED,
            actor,
            f"{user.display_name}, who enrolled this contact, was deactivated",
        )
        moved = _hand_over_tasks(user, reassign_tasks_to, actor)
        result = Deactivation(
            enrollments_ended=ended,
            tasks_reassigned=moved if reassign_tasks_to else 0,
            tasks_cancelled=0 if reassign_tasks_to else moved,
            reassigned_to=reassign_tasks_to,
        )
        record_event(
            kind="user_deactivated",
            actor=actor,
            sentence=f"{user.display_name} was deactivated; {_summary(result)}",
            data={
                "user": user.pk,
                "enrollments_ended": ended,
                "tasks_reassigned": result.tasks_reassigned,
                "tasks_cancelled": result.tasks_cancelled,
                "tasks_reassigned_to": reassign_tasks_to.pk if reassign_tasks_to else None,
            },
        )
    return result


def reactivate_user(*, user: User, actor: User | None) -> bool:
    """Let a deactivated user sign in again. Nothing they had is restarted: their
    ended enrollments stay ended (enroll the contacts again if needed)."""
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=False).update(is_active=True)
        user.is_active = True
        if changed:
            record_event(
                kind="user_reactivated",
                actor=actor,
                sentence=f"{user.display_name} was reactivated; enrollments that ended when "
                "they were deactivated stay ended.",
                data={"user": user.pk},
            )
    return bool(changed)


def finish_deactivations() -> int:
    """End what a deactivation made some other way left open (a user switched off in
    a shell or directly in the database): open enrollments made by inactive users
    end ``user_deactivated`` and their open tasks are cancelled. The sweep calls
    this; it reads one indexed query when there is nothing to do."""
    users = User.objects.filter(is_active=False, enrollments__status__in=OPEN_STATUSES).distinct()
    return sum(deactivate_user(user=user, actor=None).enrollments_ended for user in users)


def _hand_over_tasks(user: User, to: User | None, actor: User | None) -> int:
    """The user's open tasks (sequence tasks of the enrollments that just ended were
    cancelled with them) go to ``to``, else are cancelled; one ledger event each."""
    tasks = list(
        Task.objects.select_for_update(of=("self",))
        .filter(assignee=user, status=TaskStatus.OPEN)
        .select_related("contact", "step_run")
        .order_by("pk")
    )
    if not tasks:
        return 0
    ids = [task.pk for task in tasks]
    if to is not None:
        Task.objects.filter(pk__in=ids).update(assignee=to)
        kind = "task_reassigned"
        what = f"reassigned from {user.display_name} to {to.display_name}"
    else:
        Task.objects.filter(pk__in=ids).update(status=TaskStatus.CANCELLED)
        kind = "task_cancelled"
        what = "cancelled"
    now = timezone.now()
    record_events(
        [
            Event(
                occurred_at=now,
                kind=kind,
                contact_id=task.contact_id,
                enrollment_id=task.step_run.enrollment_id if task.step_run else None,
                actor=actor,
                sentence=f"The task “{task.title}” for {contact_label(task.contact)} was "
                f"{what}, because {user.display_name} was deactivated.",
                data={"task": task.pk, "from": user.pk, "to": to.pk if to else None},
            )
            for task in tasks
        ]
    )
    return len(tasks)


def _summary(result: Deactivation) -> str:
    parts = [f"{result.enrollments_ended} open enrollments ended"]
    if result.reassigned_to is not None:
        parts.append(
            f"{result.tasks_reassigned} open tasks went to {result.reassigned_to.display_name}"
        )
    else:
        parts.append(f"{result.tasks_cancelled} open tasks were cancelled")
    return "; ".join(parts) + "."


def _unenroll_all(
    enrollments: "models.QuerySet[Enrollment]",
    reason: UnenrollReason,
    actor: User | None,
    because: str,
) -> int:
    ended = 0
    for enrollment in enrollments.select_related("contact", "sequence"):
        sentence = (
            f"{contact_label(enrollment.contact)} was unenrolled from "
            f"«{enrollment.sequence.name}» because {because}."
        )
        ended += unenroll(enrollment=enrollment, reason=reason, actor=actor, sentence=sentence)
    return ended
