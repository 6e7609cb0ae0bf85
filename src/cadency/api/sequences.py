"""Sequences and their steps; creating one from the same description as
``cadency sequence create`` (``sequences.services.authoring``)."""

import datetime as dt
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_manage_sequence
from cadency.api.auth import actor_of
from cadency.api.common import (
    BodyBool,
    BodyInt,
    Id,
    LongText,
    Text,
    UserRef,
    check_exists,
    get_or_404,
)
from cadency.api.errors import ApiError, conflict, errors, invalid
from cadency.api.pagination import Page
from cadency.sequences.models import DelayUnit, Sequence, Step, StepKind
from cadency.sequences.reports import with_summary
from cadency.sequences.services.authoring import DAY_NAMES, SequenceSpecError, create_sequence
from cadency.sequences.services.lifecycle import delete_sequence

router = Router(tags=["sequences"])

DayName = Annotated[Text, Field(max_length=9, examples=["mon"])]
ClockTime = Annotated[Text, Field(max_length=8, examples=["08:30"])]


class SettingsOut(Schema):
    send_window: list[str]
    send_days: list[str]
    business_days_only: bool
    thread_follow_ups: bool
    unenroll_same_company: bool
    task_reminders: bool
    pause_on_out_of_office: bool
    track_clicks: bool
    track_opens: bool


class EnrollmentCounts(Schema):
    enrolled: int
    active: int
    paused: int
    finished: int
    unenrolled: int


class StepOut(Schema):
    id: int
    version: int
    position: int
    type: str
    delay: int
    delay_unit: str
    subject: str
    body: str
    title: str
    thread_as_reply: bool
    pause_until_complete: bool

    @staticmethod
    def resolve_type(obj: Step) -> str:
        return obj.kind

    @staticmethod
    def resolve_title(obj: Step) -> str:
        return obj.task_title


class SequenceOut(Schema):
    id: int
    name: str
    owner: UserRef
    version: int
    settings: SettingsOut
    enrollments: EnrollmentCounts
    created_at: dt.datetime
    deleted_at: dt.datetime | None

    @staticmethod
    def resolve_version(obj: Sequence) -> int:
        return obj.current_version

    @staticmethod
    def resolve_deleted_at(obj: Sequence) -> dt.datetime | None:
        return obj.archived_at

    @staticmethod
    def resolve_settings(obj: Sequence) -> dict[str, Any]:
        return {
            "send_window": [
                obj.send_window_start.isoformat("minutes"),
                obj.send_window_end.isoformat("minutes"),
            ],
            "send_days": [DAY_NAMES[day] for day in obj.send_days],
            "business_days_only": obj.business_days_only,
            "thread_follow_ups": obj.thread_follow_ups,
            "unenroll_same_company": obj.unenroll_same_company,
            "task_reminders": obj.task_reminders,
            "pause_on_out_of_office": obj.pause_on_out_of_office,
            "track_clicks": obj.track_clicks,
            "track_opens": obj.track_opens,
        }

    @staticmethod
    def resolve_enrollments(obj: Any) -> dict[str, int]:
        """From ``reports.with_summary``'s annotations."""
        return {
            "enrolled": obj.enrolled_count,
            "active": obj.active_count,
            "paused": obj.paused_count,
            "finished": obj.finished_count,
            "unenrolled": obj.unenrolled_count,
        }


class SequenceDetailOut(SequenceOut):
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj: Sequence) -> list[Step]:
        return list(obj.current_steps())


class SettingsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    send_window: list[ClockTime] | None = Field(
        None, min_length=2, max_length=2, examples=[["08:30", "17:30"]]
    )
    send_days: list[DayName] | None = Field(None, min_length=1, max_length=7)
    business_days_only: BodyBool | None = None
    thread_follow_ups: BodyBool | None = None
    unenroll_same_company: BodyBool | None = None
    task_reminders: BodyBool | None = None
    pause_on_out_of_office: BodyBool | None = None
    track_clicks: BodyBool | None = None
    track_opens: BodyBool | None = None


class StepIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: StepKind
    delay: BodyInt = Field(0, ge=0, le=3650, description="days after the previous step")
    delay_unit: DelayUnit = DelayUnit.DAYS
    subject: Annotated[Text, Field(max_length=500)] = ""
    body: LongText = ""
    title: Annotated[Text, Field(max_length=300, description="a task step's title")] = ""
    thread_as_reply: BodyBool = True
    pause_until_complete: BodyBool = False


class SequenceIn(Schema):
    """The description ``cadency sequence create`` reads from YAML, as JSON."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(min_length=1, max_length=200)]
    settings: SettingsIn | None = None
    steps: list[StepIn] = Field(min_length=1, max_length=100)


class SequenceFilter(Schema):
    owner: Id | None = None
    include_deleted: bool = False


def sequences() -> QuerySet[Sequence]:
    return with_summary(Sequence.objects.select_related("owner"))


@router.get("/sequences", response={200: list[SequenceOut], **errors(404)})
@paginate(Page)
def list_sequences(request: HttpRequest, filters: Query[SequenceFilter]) -> QuerySet[Sequence]:
    """Sequences by name, with their enrollment counts."""
    check_exists(User.objects.all(), filters.owner, "user")
    found = sequences().order_by("name", "pk")
    if filters.owner is not None:
        found = found.filter(owner_id=filters.owner)
    if not filters.include_deleted:
        found = found.filter(archived_at__isnull=True)
    return found


@router.get("/sequences/{sequence_id}", response={200: SequenceDetailOut, **errors(404)})
def get_sequence(request: HttpRequest, sequence_id: Id) -> Sequence:
    """A sequence with its current steps."""
    return get_or_404(sequences(), sequence_id, "sequence")


@router.post("/sequences", response={201: SequenceDetailOut, **errors()})
def create_sequence_from_spec(request: HttpRequest, body: SequenceIn) -> Status[Sequence]:
    """Create a sequence owned by you."""
    spec = body.model_dump(mode="json", exclude_unset=True)
    spec["settings"] = (
        body.settings.model_dump(mode="json", exclude_none=True) if body.settings else {}
    )
    spec["steps"] = [step.model_dump(mode="json") for step in body.steps]
    try:
        sequence = create_sequence(owner=actor_of(request), spec=spec)
    except SequenceSpecError as exc:
        raise invalid(str(exc)) from exc
    return Status(201, sequences().get(pk=sequence.pk))


@router.get("/sequences/{sequence_id}/steps", response={200: list[StepOut], **errors(404)})
@paginate(Page)
def list_steps(request: HttpRequest, sequence_id: Id) -> QuerySet[Step]:
    """The current version's steps, in order."""
    return get_or_404(Sequence.objects.all(), sequence_id, "sequence").current_steps()


@router.get("/sequences/{sequence_id}/steps/{position}", response={200: StepOut, **errors(404)})
def get_step(
    request: HttpRequest, sequence_id: Id, position: Annotated[int, Field(ge=1, le=10_000)]
) -> Step:
    """One step of the current version, by its 1-based position."""
    sequence = get_or_404(Sequence.objects.all(), sequence_id, "sequence")
    step = sequence.current_steps().filter(position=position).first()
    if step is None:
        raise ApiError(404, "not_found", f"sequence {sequence_id} has no step {position}")
    return step


class SequenceDeletedOut(Schema):
    id: int
    deleted_at: dt.datetime
    enrollments_ended: int


@router.delete(
    "/sequences/{sequence_id}", response={200: SequenceDeletedOut, **errors(403, 404, 409)}
)
def delete_sequence_by_id(request: HttpRequest, sequence_id: Id) -> dict[str, object]:
    """Delete a sequence (its owner, a manager or an admin): its open enrollments end
    with reason ``sequence_deleted``. The sequence is archived, not erased: it stays
    readable (``include_deleted``) and its reports do not change."""
    actor = actor_of(request)
    sequence = get_or_404(Sequence.objects.all(), sequence_id, "sequence")
    check_may_manage_sequence(actor, sequence)
    if sequence.archived_at is not None:
        raise conflict(f"sequence {sequence_id} was already deleted")
    ended = delete_sequence(sequence=sequence, actor=actor)
    sequence.refresh_from_db()
    return {"id": sequence.pk, "deleted_at": sequence.archived_at, "enrollments_ended": ended}
