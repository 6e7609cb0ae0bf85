"""Users: list them, and deactivate one (managers and admins)."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import ConfigDict

from cadency.accounts.models import Role, User
from cadency.accounts.permissions import check_may_deactivate_user
from cadency.api.auth import actor_of
from cadency.api.common import BodyId, Id, UserRef, get_or_404
from cadency.api.errors import conflict, errors, forbidden
from cadency.api.pagination import Page
from cadency.sequences.services.lifecycle import DeactivationError, deactivate_user

router = Router(tags=["users"])


class UserOut(Schema):
    id: int
    username: str
    name: str
    email: str
    role: Role
    is_active: bool
    date_joined: dt.datetime

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.display_name


class UserFilter(Schema):
    role: Role | None = None
    is_active: bool | None = Field(None, description="only active (true) or deactivated (false)")


class DeactivateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reassign_tasks_to: BodyId | None = Field(
        None, description="the id of the user who takes over the open tasks; none: cancel them"
    )


class DeactivationOut(Schema):
    user: UserOut
    enrollments_ended: int
    tasks_reassigned: int
    tasks_cancelled: int
    tasks_reassigned_to: UserRef | None


@router.get("/users", response={200: list[UserOut], **errors()})
@paginate(Page)
def list_users(request: HttpRequest, filters: Query[UserFilter]) -> QuerySet[User]:
    """Users by username."""
    found = User.objects.order_by("username", "pk")
    if filters.role is not None:
        found = found.filter(role=filters.role)
    if filters.is_active is not None:
        found = found.filter(is_active=filters.is_active)
    return found


@router.get("/users/{user_id}", response={200: UserOut, **errors(404)})
def get_user(request: HttpRequest, user_id: Id) -> User:
    return get_or_404(User.objects.all(), user_id, "user")


@router.post(
    "/users/{user_id}/deactivate", response={200: DeactivationOut, **errors(403, 404, 409)}
)
def deactivate_user_by_id(
    request: HttpRequest, user_id: Id, body: DeactivateIn
) -> dict[str, object]:
    """Deactivate a user (managers and admins; only an admin deactivates an admin).

    The enrollments they made end with reason ``user_deactivated`` (their history and
    reports stay); their open tasks go to ``reassign_tasks_to``, or are cancelled.
    They can no longer sign in or use their API tokens. Reactivating them later
    (in the admin) does not enroll anyone again. Send ``{}`` to cancel the tasks."""
    actor = actor_of(request)
    user = get_or_404(User.objects.all(), user_id, "user")
    try:
        check_may_deactivate_user(actor, user)
    except PermissionDenied as exc:
        raise forbidden(str(exc)) from exc
    heir = None
    if body.reassign_tasks_to is not None:
        heir = get_or_404(User.objects.all(), body.reassign_tasks_to, "user")
    if not user.is_active:
        raise conflict(f"{user.username} is already deactivated")
    try:
        done = deactivate_user(user=user, actor=actor, reassign_tasks_to=heir)
    except DeactivationError as exc:
        raise conflict(str(exc)) from exc
    return {
        "user": user,
        "enrollments_ended": done.enrollments_ended,
        "tasks_reassigned": done.tasks_reassigned,
        "tasks_cancelled": done.tasks_cancelled,
        "tasks_reassigned_to": heir,
    }
