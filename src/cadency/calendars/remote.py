"""What a calendar server tells Cadency, whatever the protocol (CalDAV or Google)."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

Interval = tuple[dt.datetime, dt.datetime]


class CalendarError(Exception):
    """The calendar server could not be reached or refused; the message says why."""


class CalendarAuthError(CalendarError):
    """The server refused the credentials (wrong password, expired or revoked token)."""


class EventStatus:
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


class Response:
    """An attendee's answer, named as in ``meetings.models.AttendeeResponse``."""

    NEEDS_ACTION = "needs_action"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TENTATIVE = "tentative"


@dataclass(frozen=True)
class RemoteAttendee:
    email: str
    name: str = ""
    response: str = Response.NEEDS_ACTION


@dataclass(frozen=True)
class RemoteEvent:
    """One event as the server has it now (times are aware; all-day events start at 00:00)."""

    remote_id: str
    uid: str
    etag: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    time_zone: str = "UTC"
    location: str = ""
    status: str = EventStatus.CONFIRMED
    organizer_email: str = ""
    organizer_name: str = ""
    attendees: tuple[RemoteAttendee, ...] = ()
    last_modified: dt.datetime | None = None
    transparent: bool = False
    recurring: bool = False


@dataclass(frozen=True)
class SyncState:
    token: str = ""
    ctag: str = ""


@dataclass
class Changes:
    """What changed since ``SyncState``: new or changed events, and removed ones by remote id."""

    events: list[RemoteEvent] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    state: SyncState = field(default_factory=SyncState)


class CalendarAdapter(Protocol):
    def check(self) -> str:
        """Log in and find the calendar; returns its display name. Raises CalendarError."""
        ...

    def changes(
        self, state: SyncState, since: dt.datetime, known_etags: Mapping[str, str]
    ) -> Changes:
        """Events changed since ``state`` (all events ending after ``since`` when there is no
        usable state). ``known_etags`` (remote id → etag) lets the adapter skip downloading
        events Cadency already has. Raises CalendarError."""
        ...

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """Busy intervals (UTC) overlapping [start, end). Raises CalendarError."""
        ...
