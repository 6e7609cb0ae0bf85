"""When a step may run: delays, business days, send windows and time zones.

Pure functions over aware datetimes; comparisons are made in UTC so DST folds
and gaps cannot confuse them, while delays are added in local wall-clock time
(a follow-up "2 days later" leaves at the same local hour across a DST change).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cadency.sequences.models import DelayUnit, Sequence

SATURDAY = 5
MAX_LOOKAHEAD_DAYS = 14


@dataclass(frozen=True)
class SendPolicy:
    window_start: dt.time
    window_end: dt.time
    send_days: frozenset[int]
    business_days_only: bool
    tz: ZoneInfo

    def allows_day(self, day: dt.date) -> bool:
        if self.business_days_only and day.weekday() >= SATURDAY:
            return False
        return day.weekday() in self.send_days

    def window_on(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(day, self.window_start, tzinfo=self.tz)
        end = dt.datetime.combine(day, self.window_end, tzinfo=self.tz)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def sequence_settings_snapshot(sequence: Sequence) -> dict[str, Any]:
    """The sending settings an enrollment keeps for its whole life."""
    return {
        "window_start": sequence.send_window_start.isoformat(),
        "window_end": sequence.send_window_end.isoformat(),
        "send_days": sorted(sequence.send_days),
        "business_days_only": sequence.business_days_only,
        "thread_follow_ups": sequence.thread_follow_ups,
        "pause_on_out_of_office": sequence.pause_on_out_of_office,
        "unenroll_same_company": sequence.unenroll_same_company,
        "track_clicks": sequence.track_clicks,
        "track_opens": sequence.track_opens,
    }


def resolve_zone(*names: str) -> ZoneInfo:
    """The first valid zone among the names (contact's, then mailbox's), else UTC."""
    for name in names:
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def policy_from_snapshot(snapshot: dict[str, Any], tz: ZoneInfo) -> SendPolicy:
    return SendPolicy(
        window_start=dt.time.fromisoformat(snapshot["window_start"]),
        window_end=dt.time.fromisoformat(snapshot["window_end"]),
        send_days=frozenset(snapshot["send_days"]),
        business_days_only=snapshot["business_days_only"],
        tz=tz,
    )


def add_delay(start: dt.datetime, amount: int, unit: DelayUnit, tz: ZoneInfo) -> dt.datetime:
    local = start.astimezone(tz)
    if unit == DelayUnit.DAYS:
        shifted = local + dt.timedelta(days=amount)
    else:
        shifted = local
        remaining = amount
        while remaining > 0:
            shifted += dt.timedelta(days=1)
            if shifted.weekday() < SATURDAY:
                remaining -= 1
    # Re-attach the zone so the wall-clock time is kept across DST changes.
    naive = shifted.replace(tzinfo=None)
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def next_send_time(candidate: dt.datetime, policy: SendPolicy) -> dt.datetime:
    """The first instant at or after ``candidate`` inside the policy's window."""
    candidate = candidate.astimezone(dt.UTC)
    first_day = candidate.astimezone(policy.tz).date()
    for offset in range(MAX_LOOKAHEAD_DAYS + 1):
        day = first_day + dt.timedelta(days=offset)
        if not policy.allows_day(day):
            continue
        start, end = policy.window_on(day)
        if candidate < start:
            return start
        if candidate < end:
            return candidate
    raise ValueError("the send window allows no day: check send days and business days")


def follow_up_due(
    previous: dt.datetime, amount: int, unit: DelayUnit, policy: SendPolicy
) -> dt.datetime:
    return next_send_time(add_delay(previous, amount, unit, policy.tz), policy)


def day_start(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Midnight of ``now``'s day in ``tz`` (a mailbox's day for its daily limit)."""
    return dt.datetime.combine(now.astimezone(tz).date(), dt.time(0), tzinfo=tz)


def next_day_start(now: dt.datetime, policy: SendPolicy) -> dt.datetime:
    """The window opening on the next allowed day (daily send limit reached)."""
    local_midnight = dt.datetime.combine(
        now.astimezone(policy.tz).date() + dt.timedelta(days=1), dt.time(0), tzinfo=policy.tz
    )
    return next_send_time(local_midnight, policy)
