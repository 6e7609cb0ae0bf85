"""Deleting a sequence or a contact, deactivating a user: their enrollments end."""

from django.db import models, transaction
from django.utils import timezone

from cadency.accounts.models import User
from cadency.contacts.models import Contact
from cadency.ledger.services import record_event
from cadency.sequences.models import Enrollment, Sequence, UnenrollReason
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.enrollment import contact_label, unenroll


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
    """Soft-delete the contact, keep a snapshot in the ledger, end its enrollments."""
    with transaction.atomic():
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


def deactivate_user(*, user: User, actor: User | None) -> int:
    """Deactivate a user; the enrollments they made end with ``user_deactivated``."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended = _unenroll_all(
            Enrollment.objects.filter(enrolled_by=user, status__in=OPEN_STATUSES),
            UnenrollReason.USER_DEACTIVATED,
            actor,
            f"{user.display_name}, who enrolled this contact, was deactivated",
        )
        record_event(
            kind="user_deactivated",
            actor=actor,
            sentence=f"{user.display_name} was deactivated; {ended} open enrollments ended.",
            data={"user": user.pk},
        )
    return ended


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
