"""The signed links Cadency writes into emails about meetings.

- A booking page URL in a sequence email gets ``?ref=<signed enrollment id>``: a
  booking through it names the enrollment whose email carried the link, so the
  booking ends that enrollment even when the link is another user's (SPEC §3).
- The visitor's invitation carries a link to cancel or move the booking, signed
  for that meeting: no sign-in, and a forged or altered link opens nothing.
"""

import re
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

from cadency.accounts.models import User
from cadency.meetings.models import Meeting, MeetingLink, MeetingSource

SALT = "meeting-ref"
MANAGE_SALT = "cadency.meetings.manage"
REF_PARAM = "ref"
# Punctuation that ends a sentence rather than a URL ("book here: <url>.").
TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def booking_url(link: MeetingLink) -> str:
    """The absolute URL of the link's public booking page."""
    path = reverse("meetings:book", kwargs={"username": link.user.username, "slug": link.slug})
    return settings.CADENCY_BASE_URL + path


class InvalidManageToken(ValueError):
    """A cancel or reschedule link was forged, altered or truncated."""


def first_active_link_url(user: User) -> str:
    """The URL of the user's first active meeting link, "" when they have none."""
    link = (
        MeetingLink.objects.filter(user=user, active=True)
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    return booking_url(link) if link is not None else ""


def make_ref(enrollment_id: int) -> str:
    return signing.dumps(enrollment_id, salt=SALT)


def read_ref(ref: str) -> int | None:
    """The enrollment id a reference names; None when it is missing, forged or altered."""
    if not ref:
        return None
    try:
        value = signing.loads(ref, salt=SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def booking_url_pattern() -> re.Pattern[str]:
    base = re.escape(settings.CADENCY_BASE_URL)
    return re.compile(
        rf"{base}/meet/[\w.@+-]+/[-\w]+/?(?![-\w:/%])(?P<query>\?[^\s<>\"'#]*)?(?P<fragment>#[^\s<>\"']*)?",
        re.IGNORECASE,
    )


def add_enrollment_ref(body: str, enrollment_id: int) -> str:
    """Add (or replace) ``ref=<signed enrollment id>`` on every booking page URL in ``body``."""
    if "/meet/" not in body:
        return body
    ref = make_ref(enrollment_id)

    def with_ref(match: re.Match[str]) -> str:
        url = match.group(0)
        kept = len(url.rstrip(TRAILING_PUNCTUATION))
        # A "?" alone or closing punctuation belongs to the sentence, not the URL.
        url, tail = url[:kept], url[kept:]
        address, _, fragment = url.partition("#")
        path, _, query = address.partition("?")
        params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != REF_PARAM]
        params.append((REF_PARAM, ref))
        return f"{path}?{urlencode(params)}" + (f"#{fragment}" if fragment else "") + tail

    return booking_url_pattern().sub(with_ref, body)


def manage_token(meeting: Meeting) -> str:
    return signing.dumps({"m": meeting.pk, "u": meeting.ical_uid}, salt=MANAGE_SALT)


def manage_url(meeting: Meeting) -> str:
    """The visitor's page to see, cancel or move the booking."""
    path = reverse("meetings:booking_manage", kwargs={"token": manage_token(meeting)})
    return settings.CADENCY_BASE_URL + path


def meeting_for_token(token: str) -> Meeting:
    """The booked meeting a manage token names; InvalidManageToken otherwise."""
    try:
        claim = signing.loads(token, salt=MANAGE_SALT)
    except signing.BadSignature as exc:
        raise InvalidManageToken("This link is not valid") from exc
    if not isinstance(claim, dict) or not isinstance(claim.get("m"), int):
        raise InvalidManageToken("This link is not valid")
    meeting = (
        Meeting.objects.select_related("link__user", "organizer")
        .filter(pk=claim["m"], ical_uid=str(claim.get("u", "")), source=MeetingSource.BOOKING)
        .first()
    )
    if meeting is None or meeting.link is None:
        raise InvalidManageToken("This link names no booking")
    return meeting
