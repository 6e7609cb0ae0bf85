"""A user's absence: set them away until a date, end it early, or look at it.

Users act on their own absence; managers and admins on anyone's (403 otherwise).
While away, the user's enrollments are paused and their open tasks moved past the
return; on return the backlog is spread over the following days.
"""

import datetime as dt
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import BeforeValidator, ConfigDict

from cadency.accounts.models import User
from cadency.api.auth import actor_of
from cadency.api.common import Id, Text, UserRef, get_or_404
from cadency.api.errors import conflict, errors, invalid
from cadency.sequences.models import Absence
from cadency.sequences.services.absence import (
    AbsenceCode,
    AbsenceRefused,
    check_may_set_absence,
    current_absence,
    start_absence,
)
from cadency.sequences.services.absence_return import end_absence

router = Router(tags=["absences"])


def require_date_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date string like 2030-06-03")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(require_date_text)]


class AbsenceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    until: IsoDate = Field(description="the day the user is back (after today)")
    note: Annotated[Text, Field(max_length=500)] = ""


class AbsenceOut(Schema):
    id: int
    user: UserRef
    starts_at: dt.datetime
    until: dt.date
    returns_at: dt.datetime
    note: str
    created_by: UserRef | None
    ended_at: dt.datetime | None
    ended_by: UserRef | None
    enrollments_held: int
    tasks_moved: int

    @staticmethod
    def resolve_enrollments_held(obj: Absence) -> int:
        return obj.pauses.count()

    @staticmethod
    def resolve_tasks_moved(obj: Absence) -> int:
        return obj.tasks.count()


class AbsenceStatusOut(Schema):
    user: UserRef
    away: bool
    absence: AbsenceOut | None


class ReturnOut(Schema):
    absence: AbsenceOut
    resumed: int = Field(description="enrollments resumed")
    steps_rescheduled: int = Field(description="overdue steps spread over the following days")
    tasks_rescheduled: int
    left_as_they_were: int = Field(
        description="enrollments someone else resumed, paused or handed back to an "
        "out-of-office pause meanwhile"
    )


def absences() -> QuerySet[Absence]:
    return Absence.objects.select_related("user", "created_by", "ended_by")


def subject(request: HttpRequest, user_id: int) -> tuple[User, User]:
    actor = actor_of(request)
    return actor, get_or_404(User.objects.all(), user_id, "user")


@router.get("/users/{user_id}/absence", response={200: AbsenceStatusOut, **errors(404)})
def get_absence(request: HttpRequest, user_id: Id) -> dict[str, Any]:
    """Whether the user is away, and until when."""
    _, user = subject(request, user_id)
    current = current_absence(user)
    return {
        "user": user,
        "away": current is not None,
        "absence": absences().get(pk=current.pk) if current else None,
    }


@router.post("/users/{user_id}/absence", response={201: AbsenceOut, **errors(403, 404, 409)})
def set_absence(request: HttpRequest, user_id: Id, body: AbsenceIn) -> Status[Absence]:
    """Set the user away until ``until``: their active enrollments pause and their open
    tasks due before then move to the days after. 400 for a date that is not after
    today (in the user's time zone) or more than a year away; 409 if already away."""
    actor, user = subject(request, user_id)
    check_may_set_absence(actor, user)
    try:
        absence = start_absence(user=user, until=body.until, actor=actor, note=body.note)
    except AbsenceRefused as exc:
        if exc.code in (AbsenceCode.DATE_NOT_IN_FUTURE, AbsenceCode.DATE_TOO_FAR):
            raise invalid(f"until: {exc.message}") from exc
        raise conflict(exc.message) from exc
    return Status(201, absences().get(pk=absence.pk))


@router.delete("/users/{user_id}/absence", response={200: ReturnOut, **errors(403, 404, 409)})
def end_user_absence(request: HttpRequest, user_id: Id) -> dict[str, Any]:
    """The user is back: what the absence paused resumes and the backlog is spread over
    the following days. 409 if the user is not away (nothing changes)."""
    actor, user = subject(request, user_id)
    check_may_set_absence(actor, user)
    current = current_absence(user)
    if current is None:
        raise conflict(f"{user.username} is not away; nothing was changed")
    report = end_absence(absence=current, actor=actor)
    return {
        "absence": absences().get(pk=current.pk),
        "resumed": report.resumed,
        "steps_rescheduled": report.steps_rescheduled,
        "tasks_rescheduled": report.tasks_rescheduled,
        "left_as_they_were": report.left_as_they_were,
    }
