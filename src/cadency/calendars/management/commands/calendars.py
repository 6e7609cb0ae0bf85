from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.calendars.models import CalendarConnection
from cadency.calendars.services import (
    ConnectionRefused,
    connect_caldav,
    connect_google,
    disconnect,
    may_manage,
)
from cadency.calendars.sync import SyncReport, sync_connection
from cadency.lib.cli_helpers import (
    get_actor,
    get_user,
    iso,
    positive_int,
    read_secret,
    short_time,
    write_json,
    write_table,
)


def connection_data(connection: CalendarConnection) -> dict[str, Any]:
    """Everything about a connection except its secrets."""
    return {
        "id": connection.pk,
        "user": connection.user.username,
        "kind": connection.kind,
        "name": connection.name,
        "address": connection.address,
        "username": connection.username,
        "health": connection.health,
        "last_error": connection.last_error,
        "last_synced_at": iso(connection.last_synced_at),
        "meetings": connection.events.count(),
    }


def report_data(connection: CalendarConnection, report: SyncReport) -> dict[str, Any]:
    return {
        "id": connection.pk,
        "name": connection.name,
        "created": report.created,
        "updated": report.updated,
        "cancelled": report.cancelled,
        "unchanged": report.unchanged,
        "ignored": report.ignored,
        "ended_enrollments": report.ended_enrollments,
        "error": report.error or None,
        "skipped": report.skipped,
    }


def get_connection(pk: int) -> CalendarConnection:
    connection = CalendarConnection.objects.select_related("user").filter(pk=pk).first()
    if connection is None:
        raise CommandError(f"there is no calendar connection {pk} (see `cadency calendars list`)")
    return connection


def read_password(options: dict[str, Any], prompt: str) -> str:
    if options["password_file"]:
        try:
            secret = Path(options["password_file"]).read_text().splitlines()[0].strip()
        except (OSError, IndexError) as exc:
            raise CommandError(f"cannot read a secret from {options['password_file']}") from exc
        if not secret:
            raise CommandError(f"{options['password_file']} starts with an empty line")
        return secret
    return read_secret(value=None, from_stdin=options["password_stdin"], prompt=prompt)


class Command(BaseCommand):
    help = "Connect, list, sync or disconnect calendars (meetings with contacts, busy times)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        connect = actions.add_parser(
            "connect",
            help="connect a CalDAV or Google calendar after testing it",
            description="Connect a calendar of USER. Cadency logs in first and saves nothing "
            "if that fails. The password (CalDAV) or OAuth2 access token (Google) comes from "
            "--password-file, --password-stdin or a hidden prompt.",
        )
        which = connect.add_mutually_exclusive_group(required=True)
        which.add_argument("--caldav", metavar="URL", help="the calendar's (or account's) URL")
        which.add_argument("--google", metavar="CALENDAR_ID", help="e.g. primary or an address")
        connect.add_argument("--username", default="", help="CalDAV login")
        connect.add_argument("--as", dest="actor", required=True, metavar="USERNAME")
        connect.add_argument("--name", default="", help="default: the calendar's own name")
        secret = connect.add_mutually_exclusive_group()
        secret.add_argument("--password-file", metavar="FILE", help="read it from FILE")
        secret.add_argument("--password-stdin", action="store_true", help="read it from stdin")
        connect.add_argument("--json", action="store_true", help="print the result as JSON")

        listing = actions.add_parser("list", help="list calendar connections")
        listing.add_argument("--user", help="only this user's calendars")
        listing.add_argument("--json", action="store_true", help="print JSON")

        sync = actions.add_parser("sync", help="read the calendars now (all, or one)")
        sync.add_argument("id", nargs="?", type=positive_int, metavar="ID")
        sync.add_argument("--json", action="store_true", help="print JSON")

        remove = actions.add_parser(
            "disconnect", help="forget a calendar (the meetings found on it stay)"
        )
        remove.add_argument("id", type=positive_int, metavar="ID")
        remove.add_argument("--as", dest="actor", required=True, metavar="USERNAME")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "connect":
                self.connect(options)
            case "list":
                self.list(options)
            case "sync":
                self.sync(options)
            case "disconnect":
                self.disconnect(options)

    def connect(self, options: dict[str, Any]) -> None:
        user = get_actor(options["actor"])
        try:
            if options["caldav"]:
                if not options["username"]:
                    raise CommandError("a CalDAV calendar needs --username")
                connection = connect_caldav(
                    user=user,
                    url=options["caldav"],
                    username=options["username"],
                    password=read_password(options, "CalDAV password"),
                    name=options["name"],
                )
            else:
                connection = connect_google(
                    user=user,
                    calendar_id=options["google"],
                    access_token=read_password(options, "Google OAuth2 access token"),
                    name=options["name"],
                )
        except ConnectionRefused as exc:
            raise CommandError(f"the calendar was not connected: {exc}") from exc
        if options["json"]:
            write_json(self.stdout, connection_data(connection))
        else:
            self.stdout.write(
                f"Connected calendar {connection.pk}: «{connection.name}» "
                f"({connection.address}) for {user.username}."
            )

    def list(self, options: dict[str, Any]) -> None:
        connections = CalendarConnection.objects.select_related("user").order_by(
            "user__username", "name", "pk"
        )
        if options["user"]:
            connections = connections.filter(user=get_user(options["user"]))
        if options["json"]:
            write_json(self.stdout, [connection_data(c) for c in connections])
            return
        write_table(
            self.stdout,
            ["ID", "USER", "KIND", "NAME", "ADDRESS", "HEALTH", "SYNCED", "ERROR"],
            [
                [
                    c.pk,
                    c.user.username,
                    c.kind,
                    c.name,
                    c.address,
                    c.health,
                    short_time(c.last_synced_at),
                    c.last_error,
                ]
                for c in connections
            ],
            empty="No calendars: connect one with `cadency calendars connect`.",
        )

    def sync(self, options: dict[str, Any]) -> None:
        if options["id"]:
            connections = [get_connection(options["id"])]
        else:
            connections = list(CalendarConnection.objects.select_related("user").order_by("pk"))
        results = [(c, sync_connection(c)) for c in connections]
        if options["json"]:
            write_json(self.stdout, [report_data(c, r) for c, r in results])
        else:
            for connection, report in results:
                self.stdout.write(f"Calendar {connection.pk} «{connection.name}»: {report}")
            if not results:
                self.stdout.write("No calendars to sync.")
        failed = [c for c, r in results if r.error]
        if failed:
            ids = ", ".join(str(c.pk) for c in failed)
            raise CommandError(f"the sync failed for calendar(s) {ids} (marked failing)")

    def disconnect(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        connection = get_connection(options["id"])
        if not may_manage(actor, connection):
            raise CommandError(
                f"{actor.username} may not disconnect calendar {connection.pk}: "
                "only its owner or an admin"
            )
        disconnect(connection=connection, actor=actor)
        self.stdout.write(f"Disconnected calendar {options['id']} «{connection.name}».")
