"""Who may act on what (SPEC §1): reps on what they made, managers and admins on all."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from cadency.accounts.models import User
from cadency.sequences.models import Enrollment, Sequence


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
