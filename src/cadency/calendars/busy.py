"""Busy times from a user's connected calendars, for booking pages.

Each working connection is asked (CalDAV free-busy report, Google freeBusy.query);
answers are kept a few seconds so rendering a booking page does not hammer the
server. A server error is logged and marks the connection failing (the periodic
sync is how it recovers); the page gets what the other calendars said, never an error.
"""

import datetime as dt
import logging
import threading
import time

from cadency.accounts.models import User
from cadency.calendars.adapters import adapter_for
from cadency.calendars.models import CalendarConnection
from cadency.calendars.remote import Interval
from cadency.calendars.services import mark_failing
from cadency.mailboxes.models import Health

logger = logging.getLogger("cadency.calendars")

CACHE_SECONDS = 5.0
_cache: dict[tuple[int, dt.datetime, dt.datetime], tuple[float, list[Interval]]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def merged(intervals: list[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def busy_of(connection: CalendarConnection, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    key = (connection.pk, start, end)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
    try:
        found = adapter_for(connection).busy(start, end)
    except Exception as exc:  # the booking page must render whatever went wrong
        logger.warning("busy times of calendar %s (%s): %s", connection.pk, connection.name, exc)
        mark_failing(connection, f"free/busy: {exc}")
        return []
    with _cache_lock:
        for stale in [k for k, (expires, _) in _cache.items() if expires <= now]:
            del _cache[stale]
        _cache[key] = (now + CACHE_SECONDS, found)
    return found


def busy_from_calendars(user: User, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """Busy intervals (UTC) between ``start`` and ``end`` on the user's working calendars."""
    found: list[Interval] = []
    for connection in CalendarConnection.objects.filter(user=user).exclude(health=Health.FAILING):
        for busy_start, busy_end in busy_of(connection, start, end):
            if busy_start < end and busy_end > start:
                clipped = (max(busy_start, start), min(busy_end, end))
                found.append((clipped[0].astimezone(dt.UTC), clipped[1].astimezone(dt.UTC)))
    return merged(found)
