"""Enrolling a contact from its record, with a forecast of every step before confirming."""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cadency.contacts.forms import EnrollForm
from cadency.contacts.models import Contact
from cadency.contacts.views.common import get_contact
from cadency.mailboxes.models import Mailbox
from cadency.sequences.models import Enrollment, Sequence, StepKind, StepRunState
from cadency.sequences.selectors import ForecastStep, forecast
from cadency.sequences.services.enrollment import check_enrollable, contact_label, enroll
from cadency.sequences.services.errors import EnrollmentRefused
from cadency.web.requests import signed_in_user


@dataclass(frozen=True)
class ForecastRow:
    position: int
    kind_label: str
    subject: str
    due_at: dt.datetime  # in the time zone the step is scheduled in
    zone: str

    @classmethod
    def of(cls, step: ForecastStep) -> "ForecastRow":
        kind = StepKind(step.kind).label if step.kind in StepKind.values else step.kind
        local = step.due_at.astimezone(ZoneInfo(step.time_zone))
        return cls(step.position, kind, step.subject, local, step.time_zone)


@dataclass(frozen=True)
class Preview:
    """What enrolling with the form's choices would do, before anything is written."""

    steps: list[ForecastRow]
    mailbox: Mailbox | None
    refusal: EnrollmentRefused | None


def preview_of(form: EnrollForm) -> Preview | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    refusal = None
    try:
        check_enrollable(
            contact=form.contact,
            sequence=data["sequence"],
            user=form.user,
            mailbox=data["mailbox"],
            start=data["start_step"],
        )
    except EnrollmentRefused as exc:
        refusal = exc
    mailbox = form.sending_mailbox()
    steps = (
        [
            ForecastRow.of(step)
            for step in forecast(
                contact=form.contact,
                sequence=data["sequence"],
                mailbox=mailbox,
                start_step=data["start_step"],
                start_at=data["start_at"],
            )
        ]
        if mailbox is not None
        else []
    )
    return Preview(steps, mailbox, refusal)


def default_choices(request: HttpRequest) -> QueryDict:
    """Bind the form on first display so the forecast shows at once."""
    data = QueryDict(mutable=True)
    first = Sequence.objects.filter(archived_at=None).order_by("name").first()
    data["sequence"] = request.GET.get("sequence") or (str(first.pk) if first else "")
    data["start_step"] = "1"
    return data


def page(
    request: HttpRequest,
    contact: Contact,
    form: EnrollForm,
    *,
    refusal: EnrollmentRefused | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "contact": contact,
        "form": form,
        "preview": preview_of(form),
        "refusal": refusal,
        "has_sequences": Sequence.objects.filter(archived_at=None).exists(),
    }
    return render(request, "contacts/enroll.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def enroll_page(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_contact(pk)
    user = signed_in_user(request)
    if request.method != "POST":
        choices = request.GET if "start_step" in request.GET else default_choices(request)
        return page(request, contact, EnrollForm(choices, user=user, contact=contact))
    form = EnrollForm(request.POST, user=user, contact=contact)
    if "preview" in request.POST:
        return page(request, contact, form)
    if not form.is_valid():
        return page(request, contact, form, status=400)
    data = form.cleaned_data
    try:
        enrollment = enroll(
            contact=contact,
            sequence=data["sequence"],
            user=user,
            mailbox=data["mailbox"],
            start_step=data["start_step"],
            start_at=data["start_at"],
        )
    except EnrollmentRefused as exc:
        return page(request, contact, form, refusal=exc, status=400)
    messages.success(request, enrolled_message(enrollment))
    return redirect(f"/contacts/{contact.pk}/")


def enrolled_message(enrollment: Enrollment) -> str:
    text = (
        f"Enrolled {contact_label(enrollment.contact)} in «{enrollment.sequence.name}» "
        f"from {enrollment.mailbox.email}."
    )
    first = enrollment.step_runs.order_by("position").first()
    if first is not None:
        text += f" Step {first.position}: {first.get_state_display().lower()}"
        if first.state == StepRunState.SCHEDULED:
            text += f" for {first.due_at:%Y-%m-%d %H:%M} UTC"
        text += "."
    return text


@require_GET
def forecast_partial(request: HttpRequest, pk: int) -> HttpResponse:
    """The forecast alone, refreshed by htmx whenever a choice changes."""
    contact = get_contact(pk)
    form = EnrollForm(request.GET, user=signed_in_user(request), contact=contact)
    return render(request, "contacts/_forecast.html", {"form": form, "preview": preview_of(form)})
