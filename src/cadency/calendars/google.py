"""Google Calendar through its REST API (v3), with the standard library.

The first sync lists the events ending after the connection (``timeMin``) and
keeps ``nextSyncToken``; later syncs send ``syncToken`` and get only what changed,
deletions included (``status: cancelled``). A 410 Gone means the token expired:
Cadency lists everything again. Busy times come from ``freeBusy.query``.
"""

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from cadency.calendars.remote import (
    CalendarAuthError,
    CalendarError,
    Changes,
    EventStatus,
    Interval,
    RemoteAttendee,
    RemoteEvent,
    Response,
    SyncState,
)

logger = logging.getLogger("cadency.calendars")

API_BASE = "https://www.googleapis.com/calendar/v3"
TIMEOUT_SECONDS = 15
PAGE_SIZE = 250
RESPONSES = {
    "accepted": Response.ACCEPTED,
    "declined": Response.DECLINED,
    "tentative": Response.TENTATIVE,
}


class SyncTokenExpired(CalendarError):
    """410 Gone: the sync token is no longer valid, a full sync is required."""


def rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def event_time(value: Mapping[str, Any]) -> dt.datetime:
    """``{"dateTime": …}`` or, for an all-day event, ``{"date": "2031-05-06"}`` (00:00 UTC)."""
    if "dateTime" in value:
        return parse_time(str(value["dateTime"])).astimezone(dt.UTC)
    day = dt.date.fromisoformat(str(value["date"]))
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def remote_event(item: Mapping[str, Any], calendar_zone: str) -> RemoteEvent:
    start, end = item["start"], item["end"]
    organizer = item.get("organizer") or {}
    status = str(item.get("status", EventStatus.CONFIRMED))
    return RemoteEvent(
        remote_id=str(item["id"]),
        uid=str(item.get("iCalUID") or item["id"]),
        etag=str(item.get("etag", "")),
        title=str(item.get("summary", "")),
        starts_at=event_time(start),
        ends_at=max(event_time(start), event_time(end)),
        time_zone=str(start.get("timeZone") or calendar_zone or "UTC"),
        location=str(item.get("location", "")),
        status=status if status in {EventStatus.TENTATIVE, EventStatus.CANCELLED} else "confirmed",
        organizer_email=str(organizer.get("email", "")).lower(),
        organizer_name=str(organizer.get("displayName", "")),
        attendees=tuple(
            RemoteAttendee(
                email=str(a["email"]).lower(),
                name=str(a.get("displayName", "")),
                response=RESPONSES.get(str(a.get("responseStatus")), Response.NEEDS_ACTION),
            )
            for a in item.get("attendees", [])
            if a.get("email") and not a.get("resource")
        ),
        last_modified=parse_time(str(item["updated"])) if item.get("updated") else None,
        transparent=item.get("transparency") == "transparent",
        recurring=bool(item.get("recurrence")),
    )


class GoogleCalendar:
    def __init__(self, *, calendar_id: str, access_token: str, api_base: str = "") -> None:
        self.calendar_id = calendar_id
        self.access_token = access_token
        self.api_base = (api_base or API_BASE).rstrip("/")
        if urlsplit(self.api_base).scheme not in {"http", "https"}:
            raise CalendarError(f"{self.api_base!r} is not an http(s) address")
        self.zone = ""

    def request(
        self, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        url = f"{self.api_base}{path}" + (f"?{urlencode(params)}" if params else "")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url,
            data=json.dumps(body).encode() if body is not None else None,
            method="POST" if body is not None else "GET",
            headers={
                "Authorization": f"Bearer {self.access_token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = json.load(response)
        except urllib.error.HTTPError as exc:
            raise self.failure(exc) from exc
        except (OSError, ValueError) as exc:
            raise CalendarError(f"Google Calendar could not be reached: {exc}") from exc
        if not isinstance(answer, dict):
            raise CalendarError("Google Calendar sent an answer Cadency cannot read")
        return answer

    def failure(self, exc: urllib.error.HTTPError) -> CalendarError:
        try:
            message = str(json.load(exc)["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = exc.reason
        if exc.code == 401:
            return CalendarAuthError(
                f"Google refused the access token ({message}): it expired or was revoked; "
                "connect the calendar again"
            )
        if exc.code == 410:
            return SyncTokenExpired(message)
        if exc.code == 404:
            return CalendarError(f"Google has no calendar {self.calendar_id!r} for this account")
        return CalendarError(f"Google Calendar answered {exc.code}: {message}")

    @property
    def calendar_path(self) -> str:
        return f"/calendars/{quote(self.calendar_id, safe='')}"

    def check(self) -> str:
        calendar = self.request(self.calendar_path)
        self.zone = str(calendar.get("timeZone", ""))
        return str(calendar.get("summary") or self.calendar_id)

    def changes(
        self, state: SyncState, since: dt.datetime, known_etags: Mapping[str, str]
    ) -> Changes:
        if state.token:
            try:
                return self.list_events({"syncToken": state.token})
            except SyncTokenExpired:
                pass  # a full sync is required
        return self.list_events({"timeMin": rfc3339(since)})

    def list_events(self, window: Mapping[str, str]) -> Changes:
        params = {"showDeleted": "true", "singleEvents": "false", "maxResults": str(PAGE_SIZE)}
        params.update(window)
        changes = Changes()
        while True:
            page = self.request(f"{self.calendar_path}/events", params)
            zone = str(page.get("timeZone", ""))
            for item in page.get("items", []):
                if item.get("recurringEventId"):
                    continue  # one changed occurrence of a series: the series is the meeting
                if "start" in item:
                    try:
                        changes.events.append(remote_event(item, zone))
                    except (KeyError, ValueError, TypeError) as exc:
                        logger.warning("skipping the Google event %s: %r", item.get("id"), exc)
                else:  # a deleted event: Google guarantees only its id
                    changes.removed.append(str(item["id"]))
            if page.get("nextPageToken"):
                params["pageToken"] = str(page["nextPageToken"])
                continue
            changes.state = SyncState(token=str(page.get("nextSyncToken", "")))
            return changes

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        answer = self.request(
            "/freeBusy",
            body={
                "timeMin": rfc3339(start),
                "timeMax": rfc3339(end),
                "items": [{"id": self.calendar_id}],
            },
        )
        calendar = answer.get("calendars", {}).get(self.calendar_id, {})
        if calendar.get("errors"):
            reasons = ", ".join(str(e.get("reason")) for e in calendar["errors"])
            raise CalendarError(f"Google could not tell the busy times of the calendar: {reasons}")
        periods = calendar.get("busy", [])
        return sorted((parse_time(b["start"]), parse_time(b["end"])) for b in periods)
