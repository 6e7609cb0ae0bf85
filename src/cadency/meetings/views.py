"""Meetings on the contact, company and deal records: the lists, "Log a meeting", cancel."""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cadency.accounts.models import User
from cadency.contacts.models import Company, Contact
from cadency.contacts.views.common import get_contact
from cadency.deals.models import Deal
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cadency.meetings.services import MeetingError, cancel_meeting, log_meeting, may_cancel
from cadency.meetings.views_forms import COMMON_ZONES, MeetingForm
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.services.enrollment import contact_label
from cadency.web.redirects import redirect_back
from cadency.web.requests import signed_in_user

LIST_LIMIT = 50


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    starts_local: dt.datetime
    ends_local: dt.datetime
    attendees: list[MeetingAttendee]
    may_cancel: bool

    @property
    def is_cancelled(self) -> bool:
        return self.meeting.status == MeetingStatus.CANCELLED


def _local(moment: dt.datetime, zone_name: str) -> dt.datetime:
    try:
        return moment.astimezone(ZoneInfo(zone_name))
    except (ValueError, KeyError):
        return moment


def meeting_rows(meetings: QuerySet[Meeting], user: User) -> list[MeetingRow]:
    """The newest meetings first, each with its attendees: two queries whatever the count."""
    attendees = MeetingAttendee.objects.select_related("contact").order_by("pk")
    chosen = (
        meetings.select_related("organizer", "created_by", "company", "deal")
        .prefetch_related(Prefetch("attendees", queryset=attendees))
        .order_by("-starts_at", "-pk")[:LIST_LIMIT]
    )
    return [
        MeetingRow(
            meeting=meeting,
            starts_local=_local(meeting.starts_at, meeting.time_zone),
            ends_local=_local(meeting.ends_at, meeting.time_zone),
            attendees=list(meeting.attendees.all()),
            may_cancel=may_cancel(user, meeting),
        )
        for meeting in chosen
    ]


def meetings_of_contact(contact: Contact) -> QuerySet[Meeting]:
    return Meeting.objects.filter(
        pk__in=MeetingAttendee.objects.filter(contact=contact).values("meeting_id")
    )


def meetings_of_company(company: Company) -> QuerySet[Meeting]:
    """Logged on the company, or attended by one of its contacts."""
    attended = MeetingAttendee.objects.filter(contact__company=company).values("meeting_id")
    return Meeting.objects.filter(Q(company=company) | Q(pk__in=attended))


def meetings_of_deal(deal: Deal) -> QuerySet[Meeting]:
    return Meeting.objects.filter(deal=deal)


def section_context(
    request: HttpRequest, meetings: QuerySet[Meeting], form: MeetingForm, action: str
) -> dict[str, Any]:
    """What the meetings section of a record shows."""
    return {
        "meeting_rows": meeting_rows(meetings, signed_in_user(request)),
        "meeting_form": form,
        "meeting_action": action,
        "meeting_limit": LIST_LIMIT,
        "zones": COMMON_ZONES,
        "back": request.get_full_path(),
    }


def company_contacts(company: Company) -> QuerySet[Contact]:
    return Contact.objects.filter(company=company, deleted_at=None).order_by(
        "last_name", "first_name", "email"
    )


def deal_contacts(deal: Deal) -> QuerySet[Contact]:
    return deal.contacts.filter(deleted_at=None).order_by("last_name", "first_name", "email")


def ended_by(meeting: Meeting) -> list[Enrollment]:
    return list(
        Enrollment.objects.filter(
            reason=UnenrollReason.MEETING_BOOKED, evidence__meeting=meeting.pk
        )
        .select_related("contact", "sequence")
        .order_by("pk")
    )


def logged_message(meeting: Meeting) -> str:
    text = f"Logged «{meeting.title}»."
    for enrollment in ended_by(meeting):
        text += (
            f" {contact_label(enrollment.contact)} was unenrolled from "
            f"«{enrollment.sequence.name}» (meeting booked)."
        )
    return text


def log_page(
    request: HttpRequest,
    *,
    on: Contact | Company | Deal,
    record_name: str,
    record_url: str,
    choices: QuerySet[Contact] | None,
) -> HttpResponse:
    """GET: the form alone. POST: log the meeting, or show the form again with the error."""
    user = signed_in_user(request)
    contact = on if isinstance(on, Contact) else None
    if request.method != "POST":
        form = MeetingForm.blank(user, contact=contact, choices=choices)
        return _form_page(request, form, record_name, record_url)
    form = MeetingForm(request.POST, choices=choices)
    if form.is_valid():
        data = form.cleaned_data
        try:
            meeting = log_meeting(
                actor=user,
                organizer=data["organizer"],
                title=data["title"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                time_zone=data["time_zone"],
                attendees=[*form.chosen_contacts(), *form.addresses()],
                on=on,
                notes=data["notes"],
                location=data["location"],
            )
        except MeetingError as exc:
            form.show_error(exc)
        else:
            messages.success(request, logged_message(meeting))
            return redirect(f"{record_url}#meetings")
    return _form_page(request, form, record_name, record_url, status=400)


def _form_page(
    request: HttpRequest,
    form: MeetingForm,
    record_name: str,
    record_url: str,
    *,
    status: int = 200,
) -> HttpResponse:
    context = {
        "meeting_form": form,
        "meeting_action": request.path,
        "record_name": record_name,
        "record_url": record_url,
        "zones": COMMON_ZONES,
    }
    return render(request, "meetings/log_meeting.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def log_on_contact(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_contact(pk)
    return log_page(
        request,
        on=contact,
        record_name=contact.full_name or contact.email,
        record_url=f"/contacts/{contact.pk}/",
        choices=None,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def log_on_company(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    return log_page(
        request,
        on=company,
        record_name=company.name,
        record_url=f"/companies/{company.pk}/",
        choices=company_contacts(company),
    )


@require_http_methods(["GET", "HEAD", "POST"])
def log_on_deal(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=pk)
    return log_page(
        request,
        on=deal,
        record_name=deal.name,
        record_url=f"/deals/{deal.pk}/",
        choices=deal_contacts(deal),
    )


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    user = signed_in_user(request)
    if not may_cancel(user, meeting):
        raise PermissionDenied(
            "only the organizer, the user who logged the meeting, a manager or an admin "
            "may cancel it"
        )
    try:
        cancel_meeting(meeting=meeting, actor=user)
    except MeetingError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, f"Cancelled «{meeting.title}».")
    return redirect_back(request, _record_of(meeting))


def _record_of(meeting: Meeting) -> str:
    """The page of the record the meeting belongs to."""
    if meeting.deal_id:
        return f"/deals/{meeting.deal_id}/"
    if meeting.company_id:
        return f"/companies/{meeting.company_id}/"
    first = meeting.attendees.filter(contact__isnull=False).order_by("pk").first()
    return f"/contacts/{first.contact_id}/" if first else "/contacts/"
