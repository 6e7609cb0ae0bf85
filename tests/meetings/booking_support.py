"""Builders shared by the booking-page tests: meeting links and booked meetings."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from cadency.accounts.models import User
from cadency.meetings.models import Meeting, MeetingAttendee, MeetingLink, MeetingSource

WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(5)}
EVERY_HOUR_OF_EVERY_DAY = {str(day): [["00:00", "24:00"]] for day in range(7)}
# Monday 2 March 2026, 07:00 UTC = 08:00 in Paris (CET, UTC+1).
MONDAY_MORNING = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


def make_link(user: User, **fields: Any) -> MeetingLink:
    defaults: dict[str, Any] = {
        "title": "Intro call",
        "slug": "intro",
        "durations": [30],
        "working_hours": WEEKDAYS_9_TO_5,
        "time_zone": "Europe/Paris",
        "buffer_minutes": 0,
        "minimum_notice_minutes": 0,
        "horizon_days": 30,
    }
    return MeetingLink.objects.create(user=user, **{**defaults, **fields})


def at_paris(day: dt.date, hhmm: str) -> dt.datetime:
    """A Paris wall-clock time, as the UTC instant."""
    local = dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=ZoneInfo("Europe/Paris"))
    return local.astimezone(dt.UTC)


def make_meeting(
    organizer: User,
    start: dt.datetime,
    minutes: int = 30,
    *,
    source: MeetingSource = MeetingSource.CONTACT_RECORD,
    **fields: Any,
) -> Meeting:
    meeting = Meeting.objects.create(
        organizer=organizer,
        title=fields.pop("title", "Existing meeting"),
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        source=source,
        **fields,
    )
    MeetingAttendee.objects.create(meeting=meeting, email="someone@globex.test", name="Someone")
    return meeting
