"""The Calendars page: a user's connected calendars; connect (CalDAV), sync now, disconnect.

Everyone sees their own calendars; acting on one is for its owner or an admin (403 else).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cadency.accounts.models import User
from cadency.calendars.forms import ConnectCalDavForm
from cadency.calendars.models import CalendarConnection
from cadency.calendars.services import ConnectionRefused, connect_caldav, disconnect, may_manage
from cadency.calendars.sync import sync_connection
from cadency.web.requests import signed_in_user


def get_manageable(actor: User, connection_id: int) -> CalendarConnection:
    """The connection (404 if unknown), refused (403) to anyone but its owner or an admin."""
    connections = CalendarConnection.objects.select_related("user")
    connection = get_object_or_404(connections, pk=connection_id)
    if not may_manage(actor, connection):
        raise PermissionDenied("Only the owner of a calendar or an admin may change it.")
    return connection


def render_list(request: HttpRequest, form: ConnectCalDavForm, status: int = 200) -> HttpResponse:
    connections = CalendarConnection.objects.filter(user=signed_in_user(request)).order_by(
        "name", "pk"
    )
    return render(
        request, "calendars/list.html", {"connections": connections, "form": form}, status=status
    )


def calendar_list(request: HttpRequest) -> HttpResponse:
    return render_list(request, ConnectCalDavForm())


@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    form = ConnectCalDavForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            connection = connect_caldav(
                user=actor,
                url=data["url"],
                username=data["username"],
                password=data["password"],
                name=data["name"],
            )
        except ConnectionRefused as exc:
            form.add_error(None, f"The calendar was not connected, nothing was saved: {exc}.")
        else:
            messages.success(
                request,
                f"Connected «{connection.name}». Meetings with your contacts on it are read "
                "every minute; sync now to read them at once.",
            )
            return redirect("calendars:list")
    return render_list(request, form, status=400)


@require_POST
def sync_now(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = get_manageable(signed_in_user(request), connection_id)
    report = sync_connection(connection)
    if report.error:
        messages.error(request, f"«{connection.name}» could not be read: {report.error}")
    elif report.skipped:
        messages.info(request, f"«{connection.name}» is being read right now; try again shortly.")
    else:
        messages.success(request, f"Read «{connection.name}»: {report}.")
    return redirect("calendars:list")


@require_POST
def disconnect_calendar(request: HttpRequest, connection_id: int) -> HttpResponse:
    actor = signed_in_user(request)
    connection = get_manageable(actor, connection_id)
    name = connection.name
    disconnect(connection=connection, actor=actor)
    messages.success(request, f"Disconnected «{name}». The meetings found on it are kept.")
    return redirect("calendars:list")
