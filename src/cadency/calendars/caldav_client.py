"""CalDAV calendars through the ``caldav`` library.

Changes come from the collection's sync-collection report (RFC 6578): the first
sync lists every object with its etag and downloads those Cadency does not have;
later syncs ask only for what changed since the stored sync-token. The
collection's sync-token (and CalendarServer ctag) tell at once when nothing
changed. A server that forgot the token (403/409) gets a full listing again.
Busy times come from a free-busy report.
"""

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

import caldav
import requests
from caldav.elements import dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error
from caldav.lib.url import URL

from cadency.calendars.ical import busy_periods, remote_event
from cadency.calendars.remote import (
    CalendarAuthError,
    CalendarError,
    Changes,
    Interval,
    RemoteEvent,
    SyncState,
)

logger = logging.getLogger("cadency.calendars")

TIMEOUT_SECONDS = 15
MULTIGET_BATCH = 100
CALENDAR_TYPE = "{urn:ietf:params:xml:ns:caldav}calendar"


class GetCTag(ValuedBaseElement):
    tag: ClassVar[str] = "{http://calendarserver.org/ns/}getctag"


def resource_path(url: Any) -> str:
    """The path of a resource, unquoted (servers quote ``@`` in hrefs, or do not)."""
    return unquote(urlsplit(str(url)).path)


def describe(exc: Exception, url: str) -> CalendarError:
    if isinstance(exc, error.AuthorizationError):  # 401 or 403, told apart by the reason
        if "forbidden" in str(exc.reason).lower():
            return CalendarAuthError(f"{url}: this account may not read this calendar (403)")
        return CalendarAuthError(f"{url}: the server refused the username or password")
    if isinstance(exc, error.NotFoundError):
        return CalendarError(f"{url}: no calendar at this address (404)")
    if isinstance(exc, error.DAVError):
        return CalendarError(f"{url}: the CalDAV server answered {exc.reason}")
    if isinstance(exc, requests.Timeout):
        return CalendarError(f"{url}: the server did not answer within {TIMEOUT_SECONDS} s")
    if isinstance(exc, requests.ConnectionError):
        return CalendarError(f"{url}: cannot connect to the server")
    return CalendarError(f"{url}: {exc}")


FAILURES = (error.DAVError, requests.RequestException, ValueError)


class CalDavCalendar:
    def __init__(self, *, url: str, username: str, password: str, calendar_url: str = "") -> None:
        if urlsplit(url).scheme not in {"http", "https"}:
            raise CalendarError(f"{url!r} is not an http:// or https:// address")
        self.url = url
        self.calendar_url = calendar_url
        self.client = caldav.DAVClient(
            url=url, username=username, password=password, timeout=TIMEOUT_SECONDS
        )

    # --- finding the calendar --------------------------------------------------------

    def calendar(self) -> caldav.Calendar:
        if not self.calendar_url:
            self.calendar_url = self.find_calendar_url()
        return caldav.Calendar(client=self.client, url=self.calendar_url)

    def find_calendar_url(self) -> str:
        """The address itself if it is a calendar, else the first calendar of the account."""
        try:
            here = caldav.Calendar(client=self.client, url=self.url)
            props = here.get_properties([dav.ResourceType()])
            if CALENDAR_TYPE in str(props.get(dav.ResourceType.tag, "")):
                return self.url
            calendars = self.client.principal().calendars()  # type: ignore[no-untyped-call]
        except FAILURES as exc:
            raise describe(exc, self.url) from exc
        if not calendars:
            raise CalendarError(f"{self.url}: this account has no calendar")
        return str(calendars[0].url)

    def check(self) -> str:
        calendar = self.calendar()
        try:
            props = calendar.get_properties([dav.ResourceType(), dav.DisplayName()])
        except FAILURES as exc:
            raise describe(exc, self.calendar_url) from exc
        if CALENDAR_TYPE not in str(props.get(dav.ResourceType.tag, "")):
            raise CalendarError(f"{self.calendar_url}: this address is not a calendar")
        name = props.get(dav.DisplayName.tag)
        return str(name) if name else resource_path(self.calendar_url).rstrip("/").rsplit("/")[-1]

    # --- changes ---------------------------------------------------------------------

    def changes(
        self, state: SyncState, since: dt.datetime, known_etags: Mapping[str, str]
    ) -> Changes:
        calendar = self.calendar()
        try:
            props = calendar.get_properties([dav.SyncToken(), GetCTag()])
            token = str(props.get(dav.SyncToken.tag) or "")
            ctag = str(props.get(GetCTag.tag) or "")
            if state.token and (token == state.token or (ctag and ctag == state.ctag)):
                return Changes(state=state)
            listing, full = self.listing(calendar, state.token)
            new_state = SyncState(token=str(listing.sync_token or token), ctag=ctag)
            changed: dict[str, str] = {}
            removed: list[str] = []
            for item in listing:
                path = resource_path(item.url)
                etag = str(item.props.get(dav.GetEtag.tag) or "")
                if not etag:
                    removed.append(path)
                elif known_etags.get(path) != etag:
                    changed[path] = etag
            if full:
                listed = {resource_path(item.url) for item in listing}
                removed += [path for path in known_etags if path not in listed]
            events = list(self.download(calendar, changed))
        except FAILURES as exc:
            raise describe(exc, self.calendar_url) from exc
        return Changes(events=events, removed=removed, state=new_state)

    def listing(self, calendar: caldav.Calendar, token: str) -> tuple[Any, bool]:
        """(objects with etags, whether this is the whole collection)."""
        if token:
            try:
                return calendar.objects_by_sync_token(sync_token=token, load_objects=False), False
            except (error.AuthorizationError, error.ReportError, error.ResponseError):
                pass  # the server no longer knows the token: list everything again
        return calendar.objects_by_sync_token(load_objects=False), True

    def download(
        self, calendar: caldav.Calendar, etags: Mapping[str, str]
    ) -> Iterator[RemoteEvent]:
        paths = list(etags)
        base = URL.objectify(self.calendar_url)
        for start in range(0, len(paths), MULTIGET_BATCH):
            batch = [base.join(quote(path)) for path in paths[start : start + MULTIGET_BATCH]]
            for item in calendar.calendar_multiget(batch):  # type: ignore[no-untyped-call]
                path = resource_path(item.url)
                try:
                    event = remote_event(item.data, remote_id=path, etag=etags.get(path, ""))
                except CalendarError as exc:
                    logger.warning("skipping the unreadable calendar object %s: %s", path, exc)
                    continue
                if event is not None:
                    yield event

    # --- busy times ------------------------------------------------------------------

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        calendar = self.calendar()
        try:
            answer = calendar.freebusy_request(start.astimezone(dt.UTC), end.astimezone(dt.UTC))
            return busy_periods(answer.data)
        except FAILURES as exc:
            raise describe(exc, self.calendar_url) from exc
