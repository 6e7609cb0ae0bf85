"""A sequence's unenrollment triggers: list them, preview one (how many open
enrollments saving it would end now), add one (it ends those at once), remove one.

Anyone may list them; previewing, adding and removing are for whoever may manage the
sequence: its owner, a manager or an admin (403 otherwise). Enrollments a trigger ends
carry the reason ``unenroll_trigger`` and the trigger as evidence.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from cadency.accounts.models import User
from cadency.accounts.permissions import check_may_manage_sequence
from cadency.api.auth import actor_of
from cadency.api.common import BodyId, Id, SequenceRef, Text, UserRef, get_or_404
from cadency.api.errors import conflict, errors, invalid
from cadency.api.pagination import Page
from cadency.automation.models import TriggerKind, UnenrollTrigger
from cadency.automation.selectors import ended_counts
from cadency.automation.services.triggers import (
    TriggerError,
    TriggerSpec,
    add_trigger,
    check_trigger,
    preview,
    remove_trigger,
)
from cadency.deals.models import DealStage
from cadency.sequences.models import Sequence

router = Router(tags=["unenrollment triggers"])

Op = Literal["is", "is_not", "contains", "is_any_of", "is_set", "is_not_set"]
Value = Annotated[Text, Field(max_length=100)]


class ConditionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    field: Annotated[
        Text,
        Field(
            max_length=200,
            examples=["lifecycle_stage"],
            description="email, first_name, last_name, lifecycle_stage, owner (a username), "
            "time_zone, properties.<name>, company.name, company.domain, "
            "company.properties.<name>",
        ),
    ]
    op: Op = "is"
    value: Value | Annotated[list[Value], Field(max_length=10)] = Field(
        "", examples=["customer"], description="a list for is_any_of; none for is_set"
    )


class TriggerConfigIn(Schema):
    """What each kind takes: ``property_value`` a ``condition``; ``deal_created``
    nothing; ``deal_stage`` a ``stage``; ``list_joined`` a ``list`` id."""

    model_config = ConfigDict(extra="forbid")

    condition: ConditionIn | None = None
    stage: DealStage | None = None
    list: BodyId | None = None


class TriggerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: TriggerKind
    config: TriggerConfigIn = Field(default_factory=TriggerConfigIn)


class TriggerOut(Schema):
    id: int
    sequence: SequenceRef
    kind: TriggerKind
    config: dict[str, Any]
    description: str = Field(description="when it ends an enrollment, in words")
    enabled: bool
    created_by: UserRef | None
    created_at: dt.datetime
    ended_so_far: int = Field(description="enrollments it has ended (reason unenroll_trigger)")

    @staticmethod
    def resolve_ended_so_far(obj: UnenrollTrigger) -> int:
        return ended_counts([obj])[obj.pk]


class TriggerAddedOut(TriggerOut):
    ended: int = Field(description="open enrollments it was already true for, ended on saving")


class PreviewOut(Schema):
    kind: TriggerKind
    config: dict[str, Any]
    description: str
    would_end: int = Field(description="open enrollments of the sequence saving it would end now")


class TriggerRemovedOut(Schema):
    id: int
    description: str
    ended_so_far: int = Field(description="the enrollments it ended stay ended")


def triggers() -> QuerySet[UnenrollTrigger]:
    return UnenrollTrigger.objects.select_related("sequence", "created_by")


def managed(request: HttpRequest, sequence_id: int, *, adding: bool) -> tuple[User, Sequence]:
    """The sequence, if the token's user may manage it; a deleted one takes no trigger."""
    actor = actor_of(request)
    sequence = get_or_404(Sequence.objects.select_related("owner"), sequence_id, "sequence")
    check_may_manage_sequence(actor, sequence)
    if adding and sequence.archived_at is not None:
        raise conflict(f"sequence {sequence_id} was deleted; it takes no new trigger")
    return actor, sequence


def checked(body: TriggerIn) -> TriggerSpec:
    config = body.config.model_dump(mode="json", exclude_none=True)
    try:
        spec = check_trigger(body.kind, config)
    except TriggerError as exc:
        raise invalid(f"config: {exc}") from exc
    return spec


@router.get(
    "/sequences/{sequence_id}/unenroll-triggers",
    response={200: list[TriggerOut], **errors(404)},
)
@paginate(Page)
def list_unenroll_triggers(request: HttpRequest, sequence_id: Id) -> QuerySet[UnenrollTrigger]:
    """The sequence's unenrollment triggers, oldest first, with how many enrollments
    each has ended so far."""
    sequence = get_or_404(Sequence.objects.all(), sequence_id, "sequence")
    return triggers().filter(sequence=sequence).order_by("created_at", "pk")


@router.post(
    "/sequences/{sequence_id}/unenroll-triggers/preview",
    response={200: PreviewOut, **errors(403, 404, 409)},
)
def preview_unenroll_trigger(
    request: HttpRequest, sequence_id: Id, body: TriggerIn
) -> dict[str, Any]:
    """How many open enrollments of the sequence saving this trigger would end now.
    Nothing is written."""
    _, sequence = managed(request, sequence_id, adding=True)
    spec = checked(body)
    spec, would_end = preview(sequence, spec.kind, spec.config)
    return {
        "kind": spec.kind,
        "config": spec.config,
        "description": spec.description,
        "would_end": would_end,
    }


@router.post(
    "/sequences/{sequence_id}/unenroll-triggers",
    response={201: TriggerAddedOut, **errors(403, 404, 409)},
)
def add_unenroll_trigger(
    request: HttpRequest, sequence_id: Id, body: TriggerIn
) -> Status[UnenrollTrigger]:
    """Add a trigger. The open enrollments it is already true for end at once
    (``ended``); from then on it ends an enrollment when it becomes true. 400 for a
    kind's settings that do not hold (an unknown list, a condition without a value)."""
    actor, sequence = managed(request, sequence_id, adding=True)
    spec = checked(body)
    with transaction.atomic():
        trigger, ended = add_trigger(
            sequence=sequence, kind=spec.kind, config=spec.config, actor=actor
        )
    added = triggers().get(pk=trigger.pk)
    added.ended = ended  # type: ignore[attr-defined]
    return Status(201, added)


@router.delete(
    "/sequences/{sequence_id}/unenroll-triggers/{trigger_id}",
    response={200: TriggerRemovedOut, **errors(403, 404)},
)
def remove_unenroll_trigger(
    request: HttpRequest, sequence_id: Id, trigger_id: Id
) -> dict[str, Any]:
    """Remove a trigger; the enrollments it ended stay ended."""
    actor, sequence = managed(request, sequence_id, adding=False)
    trigger = get_or_404(triggers().filter(sequence=sequence), trigger_id, "trigger")
    answer = {
        "id": trigger.pk,
        "description": trigger.description,
        "ended_so_far": ended_counts([trigger])[trigger.pk],
    }
    with transaction.atomic():
        remove_trigger(trigger=trigger, actor=actor)
    return answer
