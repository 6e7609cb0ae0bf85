"""When each step would run if you enrolled the contact now (``selectors.forecast``)."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from cadency.api.auth import actor_of
from cadency.api.common import ContactRef, Id, MailboxRef, SequenceRef, get_or_404
from cadency.api.errors import ErrorOut, errors
from cadency.contacts.models import Contact
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Sequence
from cadency.sequences.selectors import ForecastStep, forecast
from cadency.sequences.services.enrollment import choose_mailbox
from cadency.sequences.services.errors import EnrollmentRefused, RefusalCode

router = Router(tags=["forecast"])


class ForecastStepOut(Schema):
    position: int
    type: str
    subject: str
    due_at: dt.datetime
    time_zone: str

    @staticmethod
    def resolve_type(obj: ForecastStep) -> str:
        return obj.kind


class ForecastOut(Schema):
    contact: ContactRef
    sequence: SequenceRef
    mailbox: MailboxRef
    start_step: int
    steps: list[ForecastStepOut]


class ForecastQuery(Schema):
    contact: Id
    sequence: Id
    mailbox: Id | None = Field(None, description="one of your mailboxes; default: a working one")
    start_step: int = Field(1, ge=1, le=10_000)


@router.get("/forecast", response={200: ForecastOut, 422: ErrorOut, **errors(404)})
def get_forecast(request: HttpRequest, query: Query[ForecastQuery]) -> dict[str, Any]:
    """The send time of every step, in the contact's time zone (else the mailbox's),
    assuming nobody answers and tasks are done when due. Task steps run when due.
    422 ``no_working_mailbox`` or ``invalid_start_step`` as enrolling would say."""
    contact = get_or_404(Contact.objects.all(), query.contact, "contact")
    sequence = get_or_404(Sequence.objects.all(), query.sequence, "sequence")
    chosen = (
        get_or_404(Mailbox.objects.all(), query.mailbox, "mailbox")
        if query.mailbox is not None
        else None
    )
    mailbox = choose_mailbox(actor_of(request), chosen)
    count = sequence.current_steps().count()
    if query.start_step > max(count, 1):
        raise EnrollmentRefused(
            RefusalCode.INVALID_START_STEP,
            f"there is no step {query.start_step}: the sequence has {count} steps",
        )
    steps = forecast(
        contact=contact, sequence=sequence, mailbox=mailbox, start_step=query.start_step
    )
    return {
        "contact": contact,
        "sequence": sequence,
        "mailbox": mailbox,
        "start_step": query.start_step,
        "steps": steps,
    }
