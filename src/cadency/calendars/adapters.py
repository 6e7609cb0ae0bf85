"""The adapter that talks to a connection's server."""

from cadency.calendars import google
from cadency.calendars.caldav_client import CalDavCalendar
from cadency.calendars.models import CalendarConnection, CalendarKind
from cadency.calendars.remote import CalendarAdapter


def adapter_for(connection: CalendarConnection) -> CalendarAdapter:
    """Raises SecretUnreadable when the stored secret cannot be decrypted."""
    if connection.kind == CalendarKind.GOOGLE:
        return google.GoogleCalendar(
            calendar_id=connection.google_calendar_id,
            access_token=connection.secret,
            api_base=google.API_BASE,
        )
    return CalDavCalendar(
        url=connection.caldav_url,
        username=connection.username,
        password=connection.secret,
        calendar_url=connection.calendar_url,
    )
