"""Free times of a meeting link: working hours minus busy times, inside notice and horizon.

Working hours are local wall-clock times in the link's time zone, turned into
UTC instants day by day, so a DST change moves them with the clock (09:00 stays
09:00). Busy times are the organizer's meetings that are not cancelled and the
busy times of their connected calendars, each widened by the link's buffer.
Everything is compared in UTC.
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from cadency.calendars.busy import busy_from_calendars
from cadency.meetings.models import Meeting, MeetingLink, MeetingStatus
from cadency.sequences.services.scheduling import resolve_zone

# Slots start every ``duration`` minutes, but at least every half hour.
MAX_SLOT_STEP_MINUTES = 30
END_OF_DAY = "24:00"


@dataclass(frozen=True, order=True)
class Slot:
    start: dt.datetime  # UTC
    end: dt.datetime

    def local(self, tz: ZoneInfo) -> dt.datetime:
        return self.start.astimezone(tz)


Interval = tuple[dt.datetime, dt.datetime]


def link_zone(link: MeetingLink) -> ZoneInfo:
    return resolve_zone(link.time_zone)


def wall_clock(day: dt.date, hhmm: str, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of ``hhmm`` on ``day`` in ``tz``; "24:00" is the next midnight.

    A time skipped by a DST change (02:30 on a spring-forward day) lands on the
    same instant as the clock's first time after the change.
    """
    if hhmm == END_OF_DAY:
        day, hhmm = day + dt.timedelta(days=1), "00:00"
    local = dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=tz)
    return local.astimezone(dt.UTC)


def working_intervals(link: MeetingLink, first_day: dt.date, last_day: dt.date) -> list[Interval]:
    """The link's working hours on each local day from ``first_day`` to ``last_day``, in UTC."""
    tz = link_zone(link)
    hours = link.working_hours or {}
    intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        for start, end in hours.get(str(day.weekday()), []):
            begins, ends = wall_clock(day, start, tz), wall_clock(day, end, tz)
            if begins < ends:
                intervals.append((begins, ends))
        day += dt.timedelta(days=1)
    return sorted(intervals)


def merged(intervals: list[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same times."""
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def busy_intervals(
    link: MeetingLink,
    start: dt.datetime,
    end: dt.datetime,
    *,
    exclude_meeting_id: int | None = None,
) -> list[Interval]:
    """The organizer's busy times touching [start, end), widened by the buffer, merged."""
    buffer = dt.timedelta(minutes=link.buffer_minutes)
    meetings = Meeting.objects.filter(
        organizer_id=link.user_id, starts_at__lt=end + buffer, ends_at__gt=start - buffer
    ).exclude(status=MeetingStatus.CANCELLED)
    if exclude_meeting_id is not None:
        meetings = meetings.exclude(pk=exclude_meeting_id)
    busy = list(meetings.values_list("starts_at", "ends_at")) + busy_from_calendars(
        link.user, start - buffer, end + buffer
    )
    return merged([(b_start - buffer, b_end + buffer) for b_start, b_end in busy])


def overlaps(
    start: dt.datetime, end: dt.datetime, busy: list[Interval], ends: list[dt.datetime]
) -> bool:
    """Whether [start, end) overlaps one of the merged ``busy`` intervals (``ends``: their ends)."""
    first_ending_after = bisect_right(ends, start)
    return first_ending_after < len(busy) and busy[first_ending_after][0] < end


def slot_step(duration_minutes: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(duration_minutes, MAX_SLOT_STEP_MINUTES))


def bookable_window(
    link: MeetingLink, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> Interval:
    """[start, end) cut to what the minimum notice and the horizon allow."""
    earliest = now + dt.timedelta(minutes=link.minimum_notice_minutes)
    latest = now + dt.timedelta(days=link.horizon_days)
    return max(start, earliest), min(end, latest)


def free_slots(
    link: MeetingLink,
    duration_minutes: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
    exclude_meeting_id: int | None = None,
) -> list[Slot]:
    """The slots of ``duration_minutes`` starting in [start, end) a visitor may book now.

    ``exclude_meeting_id``: a meeting being moved does not block its own new time.
    """
    now = now or timezone.now()
    start, end = bookable_window(link, start, end, now)
    if start >= end or duration_minutes <= 0:
        return []
    length = dt.timedelta(minutes=duration_minutes)
    tz = link_zone(link)
    # One local day either side: a UTC range can begin before its first local day.
    first_day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last_day = end.astimezone(tz).date() + dt.timedelta(days=1)
    busy = busy_intervals(link, start, end + length, exclude_meeting_id=exclude_meeting_id)
    busy_ends = [b_end for _, b_end in busy]
    step = slot_step(duration_minutes)
    slots: list[Slot] = []
    for work_start, work_end in merged(working_intervals(link, first_day, last_day)):
        candidate = work_start
        while candidate + length <= work_end:
            if start <= candidate < end and not overlaps(
                candidate, candidate + length, busy, busy_ends
            ):
                slots.append(Slot(candidate, candidate + length))
            candidate += step
    return slots


def is_bookable(
    link: MeetingLink,
    duration_minutes: int,
    start: dt.datetime,
    *,
    now: dt.datetime | None = None,
    exclude_meeting_id: int | None = None,
) -> bool:
    """Whether exactly this slot is offered and free now (durations are the caller's check)."""
    slots = free_slots(
        link,
        duration_minutes,
        start,
        start + dt.timedelta(seconds=1),
        now=now,
        exclude_meeting_id=exclude_meeting_id,
    )
    return any(slot.start == start for slot in slots)


def slots_by_day(slots: list[Slot], tz: ZoneInfo) -> dict[dt.date, list[Slot]]:
    """Slots grouped by the visitor's local day, days in order."""
    days: dict[dt.date, list[Slot]] = defaultdict(list)
    for slot in sorted(slots):
        days[slot.local(tz).date()].append(slot)
    return dict(days)


def offered_slots(
    link: MeetingLink,
    duration_minutes: int,
    *,
    now: dt.datetime | None = None,
    exclude_meeting_id: int | None = None,
) -> list[Slot]:
    """Every slot of the link from now to its horizon."""
    now = now or timezone.now()
    return free_slots(
        link,
        duration_minutes,
        now,
        now + dt.timedelta(days=link.horizon_days),
        now=now,
        exclude_meeting_id=exclude_meeting_id,
    )
