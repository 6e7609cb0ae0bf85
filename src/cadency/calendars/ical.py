"""Reading iCalendar data from CalDAV: events (VEVENT) and free-busy answers (VFREEBUSY)."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar

from cadency.calendars.remote import (
    CalendarError,
    EventStatus,
    Interval,
    RemoteAttendee,
    RemoteEvent,
    Response,
)

PARTSTATS = {
    "ACCEPTED": Response.ACCEPTED,
    "DECLINED": Response.DECLINED,
    "TENTATIVE": Response.TENTATIVE,
}
STATUSES = {"CANCELLED": EventStatus.CANCELLED, "TENTATIVE": EventStatus.TENTATIVE}
BUSY_TYPES = {"BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE"}


def parse_calendar(data: str | bytes) -> icalendar.Calendar:
    try:
        return icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise CalendarError(f"the server sent iCalendar data Cadency cannot read: {exc}") from exc


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def address_of(value: Any) -> str:
    """``mailto:Jane@Acme.test`` → ``jane@acme.test`` ("" if it is no mail address)."""
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.lower() if "@" in text else ""


def param(value: Any, name: str) -> str:
    params = getattr(value, "params", None)
    return str(params.get(name, "")) if params is not None else ""


def as_utc(value: dt.date | dt.datetime) -> dt.datetime:
    """An aware UTC time; a date is its midnight in UTC, a floating time is read as UTC."""
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def zone_name(start: Any) -> str:
    for name in (param(start, "TZID"), str(getattr(getattr(start, "dt", None), "tzinfo", ""))):
        try:
            return ZoneInfo(name).key if name else "UTC"
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def event_times(component: icalendar.Component) -> tuple[dt.datetime, dt.datetime]:
    start = component.get("DTSTART")
    if start is None:
        raise CalendarError(f"the event {component.get('UID')} has no start (DTSTART)")
    begins: dt.date | dt.datetime = start.dt
    if component.get("DTEND") is not None:
        ends: dt.date | dt.datetime = component.get("DTEND").dt
    elif component.get("DURATION") is not None:
        ends = begins + component.get("DURATION").dt
    elif isinstance(begins, dt.datetime):
        ends = begins
    else:
        ends = begins + dt.timedelta(days=1)
    return as_utc(begins), max(as_utc(begins), as_utc(ends))


def master_event(calendar: icalendar.Calendar) -> icalendar.Component | None:
    """The event of a calendar object: the one without RECURRENCE-ID (a series' master)."""
    events = calendar.walk("VEVENT")
    for component in events:
        if component.get("RECURRENCE-ID") is None:
            return component
    return events[0] if events else None


def remote_event(data: str | bytes, *, remote_id: str, etag: str) -> RemoteEvent | None:
    """The event stored in one CalDAV object, or None when it holds no event (a task…)."""
    component = master_event(parse_calendar(data))
    if component is None or component.get("UID") is None:
        return None
    starts_at, ends_at = event_times(component)
    organizer = component.get("ORGANIZER")
    attendees = tuple(
        RemoteAttendee(
            email=address_of(attendee),
            name=param(attendee, "CN"),
            response=PARTSTATS.get(param(attendee, "PARTSTAT").upper(), Response.NEEDS_ACTION),
        )
        for attendee in as_list(component.get("ATTENDEE"))
        if address_of(attendee)
    )
    modified = component.get("LAST-MODIFIED")
    return RemoteEvent(
        remote_id=remote_id,
        uid=str(component.get("UID")),
        etag=etag,
        title=str(component.get("SUMMARY", "")),
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=zone_name(component.get("DTSTART")),
        location=str(component.get("LOCATION", "")),
        status=STATUSES.get(str(component.get("STATUS", "")).upper(), EventStatus.CONFIRMED),
        organizer_email=address_of(organizer) if organizer is not None else "",
        organizer_name=param(organizer, "CN"),
        attendees=attendees,
        last_modified=as_utc(modified.dt) if modified is not None else None,
        transparent=str(component.get("TRANSP", "")).upper() == "TRANSPARENT",
        recurring=component.get("RRULE") is not None,
    )


def busy_periods(data: str | bytes) -> list[Interval]:
    """The busy periods of a free-busy answer (FBTYPE BUSY, BUSY-TENTATIVE, BUSY-UNAVAILABLE;
    a period without FBTYPE is busy)."""
    found: list[Interval] = []
    for component in parse_calendar(data).walk("VFREEBUSY"):
        for period in as_list(component.get("FREEBUSY")):
            if (param(period, "FBTYPE") or "BUSY").upper() not in BUSY_TYPES:
                continue
            start, end = period.dt
            if isinstance(end, dt.timedelta):
                end = start + end
            found.append((as_utc(start), as_utc(end)))
    return sorted(found)
