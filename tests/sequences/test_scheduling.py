"""Send windows, business days, time zones and DST (SPEC §2.3)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cadency.sequences.models import DelayUnit
from cadency.sequences.services.scheduling import (
    SendPolicy,
    add_delay,
    follow_up_due,
    next_send_time,
    resolve_zone,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def policy(
    tz: ZoneInfo = PARIS, days: frozenset[int] = WEEKDAYS, business: bool = True
) -> SendPolicy:
    return SendPolicy(dt.time(9), dt.time(17), days, business, tz)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def local(tz: ZoneInfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def test_it_keeps_a_time_inside_the_window() -> None:
    wednesday_10 = local(PARIS, 2026, 12, 2, 10, 0)
    assert next_send_time(wednesday_10, policy()) == wednesday_10


def test_it_moves_an_early_time_to_the_window_opening_the_same_day() -> None:
    wednesday_7 = local(PARIS, 2026, 12, 2, 7, 0)
    assert next_send_time(wednesday_7, policy()) == local(PARIS, 2026, 12, 2, 9, 0)


def test_it_moves_a_late_time_to_the_next_days_opening() -> None:
    wednesday_18 = local(PARIS, 2026, 12, 2, 18, 0)
    assert next_send_time(wednesday_18, policy()) == local(PARIS, 2026, 12, 3, 9, 0)


def test_it_treats_the_window_end_as_closed() -> None:
    wednesday_17 = local(PARIS, 2026, 12, 2, 17, 0)
    assert next_send_time(wednesday_17, policy()) == local(PARIS, 2026, 12, 3, 9, 0)


def test_it_skips_the_weekend() -> None:
    friday_evening = local(PARIS, 2026, 12, 4, 20, 0)
    assert next_send_time(friday_evening, policy()) == local(PARIS, 2026, 12, 7, 9, 0)


def test_business_days_only_overrides_weekend_send_days() -> None:
    every_day = frozenset(range(7))
    saturday = local(PARIS, 2026, 12, 5, 10, 0)
    assert next_send_time(saturday, policy(days=every_day, business=True)) == local(
        PARIS, 2026, 12, 7, 9, 0
    )
    assert next_send_time(saturday, policy(days=every_day, business=False)) == saturday


def test_it_honours_chosen_send_days() -> None:
    tuesdays_and_thursdays = frozenset({1, 3})
    monday = local(PARIS, 2026, 12, 7, 10, 0)
    assert next_send_time(monday, policy(days=tuesdays_and_thursdays)) == local(
        PARIS, 2026, 12, 8, 9, 0
    )


def test_the_window_is_read_in_the_contacts_time_zone() -> None:
    # 15:00 UTC is 16:00 in Paris (inside) but 10:00 in New York (inside too);
    # 20:00 UTC is 21:00 in Paris (outside) but 15:00 in New York (inside).
    evening_utc = utc(2026, 12, 2, 20, 0)
    assert next_send_time(evening_utc, policy(NEW_YORK)) == evening_utc
    assert next_send_time(evening_utc, policy(PARIS)) == local(PARIS, 2026, 12, 3, 9, 0)


def test_a_delay_in_days_keeps_the_local_hour_across_the_dst_change() -> None:
    # Paris leaves summer time on 2026-10-25.
    friday_10 = local(PARIS, 2026, 10, 23, 10, 0)
    later = add_delay(friday_10, 3, DelayUnit.DAYS, PARIS)
    assert later.astimezone(PARIS) == local(PARIS, 2026, 10, 26, 10, 0)
    assert later - friday_10 == dt.timedelta(days=3, hours=1)


def test_a_window_opening_is_right_on_the_spring_dst_day() -> None:
    # New York springs forward on 2026-03-08 (a Sunday); send every day.
    sunday_early = local(NEW_YORK, 2026, 3, 8, 1, 0)
    opening = next_send_time(sunday_early, policy(NEW_YORK, frozenset(range(7)), business=False))
    assert opening == local(NEW_YORK, 2026, 3, 8, 9, 0)
    assert opening.astimezone(dt.UTC) == utc(2026, 3, 8, 13, 0)


def test_business_day_delays_skip_weekends() -> None:
    thursday = local(PARIS, 2026, 12, 3, 10, 0)
    assert add_delay(thursday, 2, DelayUnit.BUSINESS_DAYS, PARIS) == local(
        PARIS, 2026, 12, 7, 10, 0
    )
    friday = local(PARIS, 2026, 12, 4, 10, 0)
    assert add_delay(friday, 1, DelayUnit.BUSINESS_DAYS, PARIS) == local(PARIS, 2026, 12, 7, 10, 0)


def test_a_follow_up_due_on_saturday_goes_on_monday_at_the_opening() -> None:
    thursday_16 = local(PARIS, 2026, 12, 3, 16, 0)
    assert follow_up_due(thursday_16, 2, DelayUnit.DAYS, policy()) == local(
        PARIS, 2026, 12, 7, 9, 0
    )


def test_a_zero_delay_follow_up_waits_for_the_window() -> None:
    late = local(PARIS, 2026, 12, 2, 22, 0)
    assert follow_up_due(late, 0, DelayUnit.DAYS, policy()) == local(PARIS, 2026, 12, 3, 9, 0)


def test_a_policy_with_no_allowed_day_is_an_error() -> None:
    weekend_only_but_business = policy(days=frozenset({5, 6}), business=True)
    with pytest.raises(ValueError, match="no day"):
        next_send_time(utc(2026, 12, 2, 10), weekend_only_but_business)


def test_the_contacts_zone_wins_then_the_mailboxes_then_utc() -> None:
    assert resolve_zone("America/New_York", "Europe/Paris").key == "America/New_York"
    assert resolve_zone("", "Europe/Paris").key == "Europe/Paris"
    assert resolve_zone("Mars/Olympus", "").key == "UTC"
