"""Enrollments: list, enroll, unenroll (one or in bulk), pause and resume.

Reps act only on the enrollments they made; managers and admins on all
(``accounts.permissions``). Refused enrollments answer 422 with the refusal code.
"""

import datetime as dt
from dataclasses import replace
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_act_on, may_act_on
from cadency.api.auth import actor_of
from cadency.api.common import (
    BodyId,
    BodyInt,
    ContactRef,
    Id,
    IsoDateTime,
    MailboxRef,
    SequenceRef,
    Text,
    UserRef,
    check_exists,
    get_or_404,
)
from cadency.api.errors import ErrorOut, errors, invalid, not_found
from cadency.api.pagination import Page
from cadency.contacts.models import Contact
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    Sequence,
    StepRun,
    UnenrollReason,
)
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.selectors import EnrollmentFilter, enrollment_rows, filter_enrollments
from cadency.sequences.services.bulk import unenroll_many
from cadency.sequences.services.enrollment import enroll, pause, resume, unenroll

router = Router(tags=["enrollments"])

MAX_BULK_IDS = 100_000
SHOW_REFUSED_AT_MOST = 1000
LATEST_START = dt.timedelta(days=366)


class StepRunOut(Schema):
    position: int
    state: str
    due_at: dt.datetime
    executed_at: dt.datetime | None
    subject: str
    message_id: str
    error: str

    @staticmethod
    def resolve_error(obj: StepRun) -> str:
        return obj.last_error


class EnrollmentOut(Schema):
    id: int
    status: EnrollmentStatus
    reason: UnenrollReason | None
    reason_text: str
    email: str
    contact: ContactRef
    sequence: SequenceRef
    sequence_version: int
    enrolled_by: UserRef
    mailbox: MailboxRef
    current_step: int
    started_at: dt.datetime
    paused_at: dt.datetime | None
    ended_at: dt.datetime | None
    ended_by: UserRef | None
    evidence: dict[str, Any]

    @staticmethod
    def resolve_reason(obj: Enrollment) -> str | None:
        return obj.reason or None

    @staticmethod
    def resolve_current_step(obj: Enrollment) -> int:
        return obj.current_position


class EnrollmentDetailOut(EnrollmentOut):
    step_runs: list[StepRunOut]

    @staticmethod
    def resolve_step_runs(obj: Enrollment) -> list[StepRun]:
        return list(obj.step_runs.order_by("position"))


class EnrollmentFilterIn(Schema):
    """Which enrollments: every condition given must hold."""

    model_config = ConfigDict(extra="forbid")

    sequence: Id | None = None
    status: list[EnrollmentStatus] = Field(default_factory=list)
    reason: list[UnenrollReason] = Field(default_factory=list, description="why it ended")
    enrolled_by: Id | None = Field(None, description="the id of the user who enrolled")
    contact: Id | None = None
    search: Annotated[Text, Field(max_length=200, description="in addresses and names")] = ""
    ids: list[Id] = Field(default_factory=list, max_length=500)

    def selection(self, *, statuses: tuple[str, ...] = ()) -> EnrollmentFilter:
        """The selector's filter; ``statuses`` apply when the filter names none."""
        check_exists(Sequence.objects.all(), self.sequence, "sequence")
        check_exists(User.objects.all(), self.enrolled_by, "user")
        check_exists(Contact.objects.all(), self.contact, "contact")
        named = tuple(s.value for s in self.status)
        return EnrollmentFilter(
            sequence_id=self.sequence,
            statuses=named if named else statuses,
            reasons=tuple(r.value for r in self.reason),
            enrolled_by_id=self.enrolled_by,
            contact_id=self.contact,
            search=self.search.strip(),
            ids=tuple(self.ids),
        )


class EnrollmentFilterBody(EnrollmentFilterIn):
    sequence: BodyId | None = None
    enrolled_by: BodyId | None = Field(None, description="the id of the user who enrolled")
    contact: BodyId | None = None
    ids: list[BodyId] = Field(default_factory=list, max_length=MAX_BULK_IDS)


class EnrollIn(Schema):
    contact: BodyId
    sequence: BodyId
    mailbox: BodyId | None = Field(
        None, description="one of your mailboxes; default: a working one"
    )
    start_step: BodyInt = Field(1, ge=1, le=10_000)
    start_at: IsoDateTime | None = Field(
        None, description="start later (ISO 8601 with a UTC offset); default: at once"
    )


class ActionOut(Schema):
    changed: bool = Field(description="false when the enrollment was already in that state")
    enrollment: EnrollmentOut


class BulkUnenrollIn(Schema):
    """Either ``ids`` or ``filter``. A filter without ``status`` means the open ones."""

    model_config = ConfigDict(extra="forbid")

    ids: list[BodyId] | None = Field(None, min_length=1, max_length=MAX_BULK_IDS)
    filter: EnrollmentFilterBody | None = None


class RefusedOut(Schema):
    id: int
    email: str
    sequence: str
    enrolled_by: str


class BulkUnenrollOut(Schema):
    selected: int = Field(description="enrollments the request named or matched")
    ended: int = Field(description="unenrolled now, with reason manual")
    already_ended: int = Field(description="yours to end, but already ended: unchanged")
    refused_count: int = Field(description="made by another user: unchanged (403 each)")
    refused: list[RefusedOut] = Field(description=f"the first {SHOW_REFUSED_AT_MOST} refused")


def enrollments() -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related(
        "contact", "sequence", "enrolled_by", "mailbox", "ended_by"
    )


@router.get("/enrollments", response={200: list[EnrollmentOut], **errors(404)})
@paginate(Page)
def list_enrollments(
    request: HttpRequest, filters: Query[EnrollmentFilterIn]
) -> QuerySet[Enrollment]:
    """Enrollments, newest first."""
    selected = filter_enrollments(filters.selection())
    return enrollment_rows(selected).select_related("ended_by")


@router.post("/enrollments/unenroll", response={200: BulkUnenrollOut, **errors(404)})
def unenroll_in_bulk(request: HttpRequest, body: BulkUnenrollIn) -> dict[str, Any]:
    """Unenroll many enrollments, by ids or by a filter (reason ``manual``).

    Enrollments another user made are refused and left unchanged unless you are
    a manager or an admin; the others end. Unknown ids change nothing at all."""
    actor = actor_of(request)
    if (body.ids is None) == (body.filter is None):
        raise invalid("give either `ids` or `filter`, not both or neither")
    if body.ids is not None:
        ids = list(dict.fromkeys(body.ids))
        selected = Enrollment.objects.filter(pk__in=ids)
        known = set(selected.values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in known]
        if missing:
            listed = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
            raise not_found("enrollment", f"{listed}; nothing was changed")
    else:
        assert body.filter is not None
        selection = body.filter.selection(statuses=tuple(OPEN_STATUSES))
        if replace(selection, statuses=()).is_empty:
            raise invalid("the filter selects nothing in particular: name a sequence, a user…")
        selected = filter_enrollments(selection)
    rows = list(
        selected.order_by("pk").values_list(
            "pk", "status", "enrolled_by_id", "enrolled_by__username", "email", "sequence__name"
        )
    )
    allowed = [row for row in rows if may_act_on(actor, row[2])]
    refused = [row for row in rows if not may_act_on(actor, row[2])]
    to_end = [row[0] for row in allowed if row[1] in OPEN_STATUSES]
    ended = end_enrollments(to_end, actor)
    return {
        "selected": len(rows),
        "ended": ended,
        "already_ended": len(allowed) - ended,
        "refused_count": len(refused),
        "refused": [
            {"id": pk, "email": email, "sequence": sequence, "enrolled_by": username}
            for pk, _, _, username, email, sequence in refused[:SHOW_REFUSED_AT_MOST]
        ],
    }


def end_enrollments(ids: list[int], actor: User) -> int:
    if len(ids) == 1:
        enrollment = enrollments().get(pk=ids[0])
        return int(unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=actor))
    return unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=actor)


@router.get("/enrollments/{enrollment_id}", response={200: EnrollmentDetailOut, **errors(404)})
def get_enrollment(request: HttpRequest, enrollment_id: Id) -> Enrollment:
    """An enrollment with its step runs."""
    return get_or_404(enrollments(), enrollment_id, "enrollment")


@router.post(
    "/enrollments",
    response={201: EnrollmentDetailOut, 422: ErrorOut, **errors(404)},
)
def create_enrollment(request: HttpRequest, body: EnrollIn) -> Status[Enrollment]:
    """Enroll a contact as you; the first step runs at once unless ``start_at`` is later.

    Refusals (422) carry the refusal code: invalid_email, suppressed,
    already_enrolled, no_working_mailbox, missing_token, sequence_archived,
    sequence_empty, invalid_start_step, contact_deleted, user_inactive."""
    start_at = check_start(body.start_at)
    enrollment = enroll(
        contact=get_or_404(Contact.objects.all(), body.contact, "contact"),
        sequence=get_or_404(Sequence.objects.all(), body.sequence, "sequence"),
        user=actor_of(request),
        mailbox=(
            get_or_404(Mailbox.objects.all(), body.mailbox, "mailbox")
            if body.mailbox is not None
            else None
        ),
        start_step=body.start_step,
        start_at=start_at,
    )
    return Status(201, enrollments().get(pk=enrollment.pk))


def check_start(start_at: dt.datetime | None) -> dt.datetime | None:
    if start_at is None:
        return None
    if timezone.is_naive(start_at):
        raise invalid("start_at needs a UTC offset, e.g. 2030-06-03T09:00:00+02:00")
    now = timezone.now()
    if start_at <= now:
        raise invalid("start_at is in the past; leave it out to start now")
    if start_at > now + LATEST_START:
        raise invalid("start_at is more than a year ahead")
    return start_at


def act(request: HttpRequest, enrollment_id: int, action: str) -> dict[str, Any]:
    actor = actor_of(request)
    enrollment = get_or_404(enrollments(), enrollment_id, "enrollment")
    check_may_act_on(actor, enrollment)
    match action:
        case "unenroll":
            changed = unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=actor)
        case "pause":
            changed = pause(enrollment=enrollment, actor=actor)
        case _:
            changed = resume(enrollment=enrollment, actor=actor)
    return {"changed": changed, "enrollment": enrollments().get(pk=enrollment.pk)}


@router.post("/enrollments/{enrollment_id}/unenroll", response={200: ActionOut, **errors(403, 404)})
def unenroll_enrollment(request: HttpRequest, enrollment_id: Id) -> dict[str, Any]:
    """End the enrollment (reason ``manual``); scheduled steps and open tasks are cancelled.
    Unenrolling an ended enrollment changes nothing (``changed: false``)."""
    return act(request, enrollment_id, "unenroll")


@router.post("/enrollments/{enrollment_id}/pause", response={200: ActionOut, **errors(403, 404)})
def pause_enrollment(request: HttpRequest, enrollment_id: Id) -> dict[str, Any]:
    """Pause an active enrollment (``changed: false`` if it was not active)."""
    return act(request, enrollment_id, "pause")


@router.post("/enrollments/{enrollment_id}/resume", response={200: ActionOut, **errors(403, 404)})
def resume_enrollment(request: HttpRequest, enrollment_id: Id) -> dict[str, Any]:
    """Resume a paused enrollment; steps that fell due meanwhile go at the next window."""
    return act(request, enrollment_id, "resume")
