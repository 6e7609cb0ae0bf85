"""Meeting link pages: a user's links (signed in), the public booking page and the
visitor's page to cancel or move a booking (no sign-in: a signed link)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from cadency.accounts.models import User
from cadency.mailboxes.forms import TimeZoneField, time_zone_choices
from cadency.meetings import booking
from cadency.meetings.availability import Slot, offered_slots, slots_by_day
from cadency.meetings.booking import WEEKDAYS, BookingError, LinkError, LinkSettings, SlotTaken
from cadency.meetings.links_in_email import (
    InvalidManageToken,
    booking_url,
    manage_token,
    meeting_for_token,
)
from cadency.meetings.models import Meeting, MeetingLink, MeetingStatus
from cadency.sequences.services.scheduling import resolve_zone
from cadency.web.requests import signed_in_user

# --- forms --------------------------------------------------------------------------


def parse_durations(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError as exc:
        raise forms.ValidationError("Write minutes as whole numbers, e.g. 15, 30, 60.") from exc


def parse_day_hours(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-17:00" → [["09:00", "12:00"], ["13:00", "17:00"]]."""
    intervals = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        start, dash, end = part.replace("\N{EN DASH}", "-").partition("-")
        if not dash:
            raise forms.ValidationError("Write each interval as HH:MM-HH:MM, e.g. 09:00-17:00.")
        intervals.append([start.strip().zfill(5), end.strip().zfill(5)])
    return intervals


def day_hours_text(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


class LinkForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.CharField(
        label="Address",
        max_length=80,
        required=False,
        help_text="The end of the page's address; empty: made from the title.",
    )
    durations = forms.CharField(
        label="Durations (minutes)", initial="30", help_text="One or more, e.g. 15, 30, 60."
    )
    time_zone = TimeZoneField(help_text="The zone your working hours are in.")
    buffer_minutes = forms.IntegerField(
        label="Buffer (minutes)",
        min_value=0,
        initial=0,
        help_text="Kept free before and after every meeting and busy time.",
    )
    minimum_notice_minutes = forms.IntegerField(
        label="Minimum notice (minutes)",
        min_value=0,
        initial=240,
        help_text="No booking starts sooner than this after the visitor books.",
    )
    horizon_days = forms.IntegerField(label="How far ahead (days)", min_value=1, initial=30)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, name in enumerate(WEEKDAYS):
            self.fields[f"hours_{day}"] = forms.CharField(
                label=name,
                required=False,
                initial="09:00-17:00" if day < 5 else "",
                help_text="Empty: not bookable that day.",
            )

    def hours_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day in range(7)]

    def clean_durations(self) -> list[int]:
        return parse_durations(self.cleaned_data["durations"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for day in range(7):
            name = f"hours_{day}"
            if name in data:
                try:
                    data[name] = parse_day_hours(data[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return data

    def to_settings(self) -> LinkSettings:
        data = self.cleaned_data
        return LinkSettings(
            title=data["title"],
            slug=data["slug"] or slugify(data["title"])[:80].strip("-_"),
            durations=data["durations"],
            working_hours={str(day): data[f"hours_{day}"] for day in range(7)},
            time_zone=data["time_zone"],
            buffer_minutes=data["buffer_minutes"],
            minimum_notice_minutes=data["minimum_notice_minutes"],
            horizon_days=data["horizon_days"],
        )


def link_initial(link: MeetingLink) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "title": link.title,
        "slug": link.slug,
        "durations": ", ".join(str(m) for m in link.durations),
        "time_zone": link.time_zone,
        "buffer_minutes": link.buffer_minutes,
        "minimum_notice_minutes": link.minimum_notice_minutes,
        "horizon_days": link.horizon_days,
    }
    for day in range(7):
        initial[f"hours_{day}"] = day_hours_text(link.working_hours.get(str(day), []))
    return initial


class VisitorForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=200)
    email = forms.CharField(label="Your email", max_length=254)


# --- the signed-in user's links ------------------------------------------------------


def own_link(request: HttpRequest, pk: int) -> MeetingLink:
    """The signed-in user's link (404 if unknown, 403 if another user's)."""
    link = get_object_or_404(MeetingLink.objects.select_related("user"), pk=pk)
    if link.user_id != signed_in_user(request).pk:
        raise PermissionDenied(f"the meeting link {pk} is another user's: only its owner edits it")
    return link


@dataclass(frozen=True)
class LinkRow:
    link: MeetingLink
    url: str
    upcoming: int


def link_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    links = list(
        MeetingLink.objects.filter(user=user).select_related("user").order_by("-active", "title")
    )
    upcoming = {
        row["link"]: row["n"]
        for row in Meeting.objects.filter(link__in=links, starts_at__gte=timezone.now())
        .exclude(status=MeetingStatus.CANCELLED)
        .values("link")
        .annotate(n=Count("pk"))
    }
    rows = [LinkRow(link, booking_url(link), upcoming.get(link.pk, 0)) for link in links]
    return render(request, "meetings/links.html", {"rows": rows})


def link_form_page(request: HttpRequest, form: LinkForm, link: MeetingLink | None) -> HttpResponse:
    return render(
        request,
        "meetings/links_form.html",
        {"form": form, "link": link},
        status=400 if form.errors else 200,
    )


def link_create(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = LinkForm(request.POST or None, initial={"time_zone": default_zone(user)})
    if request.method == "POST" and form.is_valid():
        try:
            link = booking.create_link(user=user, wanted=form.to_settings())
        except LinkError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Created «{link.title}»: {booking_url(link)}")
            return redirect("meetings:links")
    return link_form_page(request, form, None)


def default_zone(user: User) -> str:
    mailbox = user.mailboxes.order_by("pk").first()
    return mailbox.time_zone if mailbox else "UTC"


def link_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    link = own_link(request, pk)
    form = LinkForm(request.POST or None, initial=link_initial(link))
    if request.method == "POST" and form.is_valid():
        try:
            changed = booking.update_link(link=link, actor=user, wanted=form.to_settings())
        except LinkError as exc:
            form.add_error(None, str(exc))
        else:
            if changed:
                messages.success(request, f"Saved «{form.cleaned_data['title']}».")
            else:
                messages.info(request, "Nothing changed.")
            return redirect("meetings:links")
    return link_form_page(request, form, link)


@require_POST
def link_set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    link = own_link(request, pk)
    if booking.set_link_active(link=link, actor=signed_in_user(request), active=active):
        state = "takes bookings again" if active else "no longer takes bookings"
        messages.success(request, f"«{link.title}» {state}.")
    return redirect("meetings:links")


# --- the public booking page --------------------------------------------------------


@dataclass(frozen=True)
class Picker:
    """What the visitor is choosing: duration, zone, day, time (from the query string)."""

    link: MeetingLink
    duration: int
    tz: ZoneInfo
    days: dict[dt.date, list[Slot]]
    day: dt.date | None
    chosen: Slot | None
    ref: str

    def url(self, **changes: Any) -> str:
        params = {"duration": self.duration, "tz": self.tz.key, "ref": self.ref} | changes
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    @property
    def day_links(self) -> list[tuple[dt.date, str, bool]]:
        return [(day, self.url(day=day.isoformat()), day == self.day) for day in self.days]

    @property
    def duration_links(self) -> list[tuple[int, str, bool]]:
        return [(m, self.url(duration=m), m == self.duration) for m in self.link.durations]

    @property
    def time_links(self) -> list[tuple[dt.datetime, str]]:
        slots = self.days.get(self.day, []) if self.day else []
        return [
            (slot.local(self.tz), self.url(day=self.day, start=iso(slot.start))) for slot in slots
        ]


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else None


def parse_day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def picker_for(
    request: HttpRequest,
    link: MeetingLink,
    *,
    duration: int | None = None,
    moving: int | None = None,
) -> Picker:
    query = request.GET
    zone_name = query.get("tz", "")
    tz = resolve_zone(zone_name, link.time_zone)
    if duration is None:
        asked = query.get("duration", "")
        offered = asked.isdigit() and int(asked) in link.durations
        duration = int(asked) if offered else link.durations[0]
    days = slots_by_day(offered_slots(link, duration, exclude_meeting_id=moving), tz)
    day = parse_day(query.get("day", ""))
    start = parse_moment(query.get("start", ""))
    chosen = next((s for d in days.values() for s in d if s.start == start), None)
    if chosen is not None:
        day = chosen.local(tz).date()
    if day not in days:
        day = next(iter(days), None)
    return Picker(
        link=link,
        duration=duration,
        tz=tz,
        days=days,
        day=day,
        chosen=chosen,
        ref=query.get("ref", ""),
    )


def bookable_link(username: str, slug: str) -> MeetingLink:
    return get_object_or_404(
        MeetingLink.objects.select_related("user"), user__username=username, slug=slug
    )


def picker_page(
    request: HttpRequest,
    picker: Picker,
    *,
    form: VisitorForm | None = None,
    error: str = "",
    status: int = 200,
    meeting: Meeting | None = None,
) -> HttpResponse:
    return render(
        request,
        "meetings/booking.html",
        {
            "picker": picker,
            "link": picker.link,
            "organizer": picker.link.user,
            "form": form or VisitorForm(),
            "error": error or no_time_error(request, picker),
            "zones": zone_names(),
            "meeting": meeting,
        },
        status=status,
    )


def zone_names() -> list[str]:
    return [name for name, _ in time_zone_choices()]


def no_time_error(request: HttpRequest, picker: Picker) -> str:
    if picker.chosen is not None:
        return ""
    posted = request.method == "POST"
    if request.GET.get("start"):
        # Offered when the page was shown, gone when the visitor submitted: just taken.
        return str(SlotTaken()) if posted else "That time is no longer available: pick another."
    return "Pick a time first." if posted else ""


def refused_status(request: HttpRequest) -> int:
    """409 when the time asked for was taken meanwhile, 400 for anything else."""
    return 409 if request.GET.get("start") else 400


@login_not_required
@require_http_methods(["GET", "POST"])
def booking_page(request: HttpRequest, username: str, slug: str) -> HttpResponse:
    link = bookable_link(username, slug)
    if not link.active or not link.user.is_active:
        return render(request, "meetings/booking_closed.html", {"link": link}, status=404)
    picker = picker_for(request, link)
    if request.method == "GET":
        return picker_page(request, picker)
    form = VisitorForm(request.POST)
    if picker.chosen is None:
        return picker_page(request, picker, form=form, status=refused_status(request))
    if not form.is_valid():
        return picker_page(request, picker, form=form, status=400)
    try:
        meeting = booking.book(
            link=link,
            duration_minutes=picker.duration,
            start=picker.chosen.start,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            ref=picker.ref,
            visitor_time_zone=picker.tz.key,
        )
    except SlotTaken as exc:
        # The page is computed again: the time just taken is no longer offered.
        again = picker_for(request, link)
        return picker_page(request, again, form=form, error=str(exc), status=409)
    except BookingError as exc:
        return picker_page(request, picker, form=form, error=str(exc), status=400)
    return redirect("meetings:booking_manage", token=manage_token(meeting))


# --- the visitor's booking: see, cancel, move ---------------------------------------


def invalid_token_page(request: HttpRequest, error: InvalidManageToken) -> HttpResponse:
    return render(request, "meetings/booking_invalid.html", {"error": error}, status=400)


@login_not_required
@require_http_methods(["GET"])
def booking_manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        meeting = meeting_for_token(token)
    except InvalidManageToken as exc:
        return invalid_token_page(request, exc)
    tz = resolve_zone(meeting.time_zone)
    return render(
        request,
        "meetings/booking_manage.html",
        {
            "meeting": meeting,
            "token": token,
            "starts": meeting.starts_at.astimezone(tz),
            "ends": meeting.ends_at.astimezone(tz),
            "tz": tz,
            "cancelled": meeting.status == MeetingStatus.CANCELLED,
            "attendee": meeting.attendees.order_by("pk").first(),
        },
    )


@login_not_required
@require_POST
def booking_cancel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        meeting = meeting_for_token(token)
    except InvalidManageToken as exc:
        return invalid_token_page(request, exc)
    try:
        booking.cancel_booking(meeting=meeting)
    except BookingError as exc:
        messages.error(request, str(exc))
    return redirect("meetings:booking_manage", token=token)


@login_not_required
@require_http_methods(["GET", "POST"])
def booking_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    try:
        meeting = meeting_for_token(token)
    except InvalidManageToken as exc:
        return invalid_token_page(request, exc)
    assert meeting.link is not None  # meeting_for_token returns booked meetings only
    if meeting.status == MeetingStatus.CANCELLED or not meeting.link.active:
        return redirect("meetings:booking_manage", token=token)
    minutes = int(meeting.duration.total_seconds() // 60)
    picker = picker_for(request, meeting.link, duration=minutes, moving=meeting.pk)
    if request.method == "GET":
        return picker_page(request, picker, meeting=meeting)
    if picker.chosen is None:
        return picker_page(request, picker, meeting=meeting, status=refused_status(request))
    if picker.chosen.start == meeting.starts_at:
        error = "That is the meeting's time already: pick another."
        return picker_page(request, picker, meeting=meeting, error=error, status=400)
    try:
        booking.reschedule_booking(meeting=meeting, start=picker.chosen.start)
    except SlotTaken as exc:
        again = picker_for(request, meeting.link, duration=minutes, moving=meeting.pk)
        return picker_page(request, again, meeting=meeting, error=str(exc), status=409)
    except BookingError as exc:
        return picker_page(request, picker, meeting=meeting, error=str(exc), status=400)
    messages.success(request, "Your meeting was moved; an updated invitation is on its way.")
    return redirect("meetings:booking_manage", token=token)
