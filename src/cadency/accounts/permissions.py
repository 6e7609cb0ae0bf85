"""Who may act on what (SPEC §1): reps on what they made, managers and admins on all."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from cadency.accounts.models import Role, User
from cadency.contacts.models import Contact
from cadency.sequences.models import Enrollment, Sequence
from cadency.sequences.models.enrollment import OPEN_STATUSES


def may_act_on(actor: User, owner_id: int) -> bool:
    return actor.can_act_on_all_enrollments() or actor.pk == owner_id


def check_may_act_on(actor: User, enrollment: Enrollment) -> None:
    """Refuse (403) an action on an enrollment another user made, for a rep."""
    if not may_act_on(actor, enrollment.enrolled_by_id):
        raise PermissionDenied(
            f"enrollment {enrollment.pk} was made by another user; "
            f"a {actor.role} may only act on their own"
        )


def actionable(enrollments: QuerySet[Enrollment], actor: User) -> QuerySet[Enrollment]:
    """The part of a selection the actor may act on."""
    if actor.can_act_on_all_enrollments():
        return enrollments
    return enrollments.filter(enrolled_by=actor)


def may_manage_sequence(actor: User, sequence: Sequence) -> bool:
    """The owner, a manager or an admin may edit, configure or delete a sequence."""
    return may_act_on(actor, sequence.owner_id)


def check_may_manage_sequence(actor: User, sequence: Sequence) -> None:
    if not may_manage_sequence(actor, sequence):
        raise PermissionDenied(
            f"«{sequence.name}» belongs to another user; a {actor.role} may only change "
            "the sequences they own"
        )


def is_admin(user: User) -> bool:
    return user.is_superuser or user.role == Role.ADMIN


def may_deactivate_user(actor: User, user: User) -> bool:
    """Managers and admins deactivate users; only an admin deactivates an admin."""
    if not actor.can_act_on_all_enrollments():
        return False
    return is_admin(actor) or not is_admin(user)


def check_may_deactivate_user(actor: User, user: User) -> None:
    if not actor.can_act_on_all_enrollments():
        raise PermissionDenied(
            f"{actor.username} is a {actor.role}: only a manager or an admin may deactivate users"
        )
    if not may_deactivate_user(actor, user):
        raise PermissionDenied(f"{user.username} is an admin: only an admin may deactivate them")


def check_may_delete_contact(actor: User, contact: Contact) -> None:
    """Managers and admins delete any contact. A rep deletes a contact they own
    (its owner property), and only when no open enrollment of it was made by
    someone else: deleting ends those enrollments, and a rep acts on their own only."""
    if actor.can_act_on_all_enrollments():
        return
    if contact.owner_id != actor.pk:
        raise PermissionDenied(
            f"{contact.email} is not owned by {actor.username}; a rep may delete only the "
            "contacts they own (a manager or an admin may delete any)"
        )
    others = (
        Enrollment.objects.filter(contact=contact, status__in=OPEN_STATUSES)
        .exclude(enrolled_by=actor)
        .select_related("enrolled_by")
        .first()
    )
    if others is not None:
        raise PermissionDenied(
            f"{contact.email} is enrolled by {others.enrolled_by.display_name}; deleting it "
            "would end their enrollment, which only they, a manager or an admin may do"
        )


def may_delete_contact(actor: User, contact: Contact) -> bool:
    try:
        check_may_delete_contact(actor, contact)
    except PermissionDenied:
        return False
    return True
