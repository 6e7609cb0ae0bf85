"""Who may act on what (SPEC §1): reps on what they enrolled, managers and admins on all."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from cadency.accounts.models import User
from cadency.sequences.models import Enrollment


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
