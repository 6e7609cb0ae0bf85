"""Free slots of a meeting link: working hours (DST-correct) minus busy times, notice, horizon."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cadency.accounts.models import User
from cadency.meetings import availability
from cadency.meetings.availability import Slot, free_slots, is_bookable, slots_by_day
from cadency.meetings.models import MeetingStatus
from tests.factories import make_user
from tests.meetings.booking_support import MONDAY_MORNING, at_paris, make_link, make_meeting

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def alice() -> User:
    return make_user("alice", first_name="Alice", last_name="Martin")


def starts(slots: list[Slot], tz: ZoneInfo = PARIS) -> list[str]:
    return [slot.start.astimezone(tz).strftime("%H:%M") for slot in slots]


def day_range(day: dt.date, tz: ZoneInfo = PARIS) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def test_slots_follow_working_hours_in_the_links_time_zone(alice: User) -> None:
    link = make_link(alice, working_hours={"0": [["09:00", "12:00"]]})
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)
    assert starts(slots) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert slots[0].start == dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)  # CET is UTC+1
    assert all(slot.end - slot.start == dt.timedelta(minutes=30) for slot in slots)


def test_a_longer_meeting_still_starts_every_half_hour_and_fits_inside_the_hours(
    alice: User,
) -> None:
    link = make_link(alice, durations=[60], working_hours={"0": [["09:00", "11:00"]]})
    slots = free_slots(link, 60, *day_range(MONDAY), now=MONDAY_MORNING)
    assert starts(slots) == ["09:00", "09:30", "10:00"]


def test_days_without_working_hours_offer_nothing(alice: User) -> None:
    link = make_link(alice)  # Monday to Friday
    sunday = dt.date(2026, 3, 8)
    assert free_slots(link, 30, *day_range(sunday), now=MONDAY_MORNING) == []


def test_working_hours_keep_their_local_time_across_the_spring_dst_change(alice: User) -> None:
    link = make_link(alice, working_hours={"6": [["09:00", "10:00"]]}, horizon_days=60)
    before, after = dt.date(2026, 3, 22), dt.date(2026, 3, 29)  # Paris: CET, then CEST
    slots_before = free_slots(link, 30, *day_range(before), now=MONDAY_MORNING)
    slots_after = free_slots(link, 30, *day_range(after), now=MONDAY_MORNING)
    assert starts(slots_before) == starts(slots_after) == ["09:00", "09:30"]
    assert slots_before[0].start.hour == 8  # UTC+1
    assert slots_after[0].start.hour == 7  # UTC+2


def test_hours_across_the_spring_forward_gap_are_two_real_hours(alice: User) -> None:
    # 01:00-04:00 on 29 March 2026 in Paris: 02:00-03:00 does not exist.
    link = make_link(alice, working_hours={"6": [["01:00", "04:00"]]}, horizon_days=60)
    slots = free_slots(link, 30, *day_range(dt.date(2026, 3, 29)), now=MONDAY_MORNING)
    assert starts(slots) == ["01:00", "01:30", "03:00", "03:30"]
    assert slots[-1].end - slots[0].start == dt.timedelta(hours=2)


def test_hours_across_the_autumn_fall_back_are_four_real_hours(alice: User) -> None:
    # 01:00-04:00 on 25 October 2026 in Paris: 02:00-03:00 happens twice.
    link = make_link(alice, working_hours={"6": [["01:00", "04:00"]]}, horizon_days=300)
    slots = free_slots(link, 30, *day_range(dt.date(2026, 10, 25)), now=MONDAY_MORNING)
    assert len(slots) == 8
    assert slots[-1].end - slots[0].start == dt.timedelta(hours=4)
    assert starts(slots) == [
        "01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30"
    ]  # fmt: skip


def test_a_time_skipped_by_dst_starts_the_hours_at_the_first_real_time(alice: User) -> None:
    link = make_link(alice, working_hours={"6": [["02:30", "04:00"]]}, horizon_days=60)
    slots = free_slots(link, 30, *day_range(dt.date(2026, 3, 29)), now=MONDAY_MORNING)
    assert starts(slots) == ["03:30"]


def test_existing_meetings_are_busy(alice: User) -> None:
    link = make_link(alice, working_hours={"0": [["09:00", "12:00"]]})
    make_meeting(alice, at_paris(MONDAY, "10:00"), 30)
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)
    assert starts(slots) == ["09:00", "09:30", "10:30", "11:00", "11:30"]


def test_the_buffer_keeps_time_free_before_and_after_a_meeting(alice: User) -> None:
    link = make_link(alice, working_hours={"0": [["09:00", "12:00"]]}, buffer_minutes=15)
    make_meeting(alice, at_paris(MONDAY, "10:00"), 30)
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)
    # 09:30-10:00 would end inside 09:45-10:45 (the meeting with its buffer); so would 10:30.
    assert starts(slots) == ["09:00", "11:00", "11:30"]


def test_a_buffer_exactly_filled_leaves_the_neighbouring_slots(alice: User) -> None:
    link = make_link(alice, working_hours={"0": [["09:00", "12:00"]]}, buffer_minutes=30)
    make_meeting(alice, at_paris(MONDAY, "10:00"), 30)
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)
    assert starts(slots) == ["09:00", "11:00", "11:30"]


def test_cancelled_meetings_and_other_users_meetings_are_not_busy(alice: User) -> None:
    link = make_link(alice, working_hours={"0": [["09:00", "10:00"]]})
    make_meeting(alice, at_paris(MONDAY, "09:00"), 30, status=MeetingStatus.CANCELLED)
    make_meeting(make_user("bob"), at_paris(MONDAY, "09:30"), 30)
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)
    assert starts(slots) == ["09:00", "09:30"]


def test_busy_times_of_connected_calendars_are_busy_with_the_buffer(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = make_link(alice, working_hours={"0": [["09:00", "12:00"]]}, buffer_minutes=10)
    asked: list[tuple[dt.datetime, dt.datetime]] = []

    def calendar_busy(
        user: User, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        assert user == alice
        asked.append((start, end))
        return [(at_paris(MONDAY, "09:00"), at_paris(MONDAY, "10:00"))]

    monkeypatch.setattr(availability, "busy_from_calendars", calendar_busy)
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)
    assert starts(slots) == ["10:30", "11:00", "11:30"]
    assert asked, "the calendars were asked for busy times"


def test_minimum_notice_hides_slots_starting_too_soon(alice: User) -> None:
    link = make_link(alice, minimum_notice_minutes=120)
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)  # 08:00 in Paris
    assert starts(slots)[0] == "10:00"


def test_the_horizon_hides_slots_too_far_ahead(alice: User) -> None:
    link = make_link(alice, horizon_days=2)
    slots = availability.offered_slots(link, 30, now=MONDAY_MORNING)
    days = sorted({slot.local(PARIS).date() for slot in slots})
    assert days == [MONDAY, dt.date(2026, 3, 3)]
    assert max(slot.start for slot in slots) < MONDAY_MORNING + dt.timedelta(days=2)


def test_only_offered_free_slots_are_bookable(alice: User) -> None:
    link = make_link(alice, working_hours={"0": [["09:00", "12:00"]]})
    taken = make_meeting(alice, at_paris(MONDAY, "10:00"), 30)
    now = MONDAY_MORNING
    assert is_bookable(link, 30, at_paris(MONDAY, "09:00"), now=now)
    assert not is_bookable(link, 30, at_paris(MONDAY, "09:10"), now=now)  # not a slot start
    assert not is_bookable(link, 30, at_paris(MONDAY, "10:00"), now=now)  # busy
    assert not is_bookable(link, 30, at_paris(MONDAY, "12:00"), now=now)  # after hours
    assert not is_bookable(link, 30, at_paris(MONDAY, "07:30"), now=now)  # in the past
    # A meeting being moved does not block its own time.
    assert is_bookable(link, 30, at_paris(MONDAY, "10:00"), now=now, exclude_meeting_id=taken.pk)


def test_visitors_see_slots_on_their_own_days(alice: User) -> None:
    link = make_link(alice, working_hours={"0": [["15:00", "17:00"]]})
    slots = free_slots(link, 30, *day_range(MONDAY), now=MONDAY_MORNING)
    tokyo = ZoneInfo("Asia/Tokyo")  # UTC+9: 16:00 in Paris is midnight on Tuesday
    by_day = slots_by_day(slots, tokyo)
    assert {day: starts(day_slots, tokyo) for day, day_slots in by_day.items()} == {
        MONDAY: ["23:00", "23:30"],
        dt.date(2026, 3, 3): ["00:00", "00:30"],
    }
