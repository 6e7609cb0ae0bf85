import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.accounts.models import User
from cadency.lib.cli_helpers import get_actor, get_user, iso, write_json
from cadency.sequences.models import Absence
from cadency.sequences.services.absence import (
    AbsenceRefused,
    current_absence,
    start_absence,
)
from cadency.sequences.services.absence_return import end_absence


def absence_data(absence: Absence) -> dict[str, Any]:
    return {
        "id": absence.pk,
        "user": absence.user.username,
        "starts_at": iso(absence.starts_at),
        "until": absence.until.isoformat(),
        "returns_at": iso(absence.returns_at),
        "note": absence.note,
        "created_by": absence.created_by.username if absence.created_by else None,
        "ended_at": iso(absence.ended_at),
        "ended_by": absence.ended_by.username if absence.ended_by else None,
        "enrollments_held": absence.pauses.count(),
        "tasks_moved": absence.tasks.count(),
    }


def return_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--until: {text!r} is not a date like 2030-06-03") from None


class Command(BaseCommand):
    help = (
        "Set a user away until a date (their enrollments pause, their tasks move past the "
        "return), end it early, or show it. Reps act on their own absence only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        start = actions.add_parser("start", help="set USERNAME away until a date")
        start.add_argument("username", metavar="USERNAME")
        start.add_argument("--until", required=True, metavar="YYYY-MM-DD", help="back on")
        start.add_argument("--note", default="", help="e.g. Holiday")
        end = actions.add_parser("end", help="USERNAME is back: resume and spread the backlog")
        end.add_argument("username", metavar="USERNAME")
        for sub in (start, end):
            sub.add_argument("--as", dest="actor", required=True, metavar="USERNAME")
        show = actions.add_parser("show", help="whether USERNAME is away, and until when")
        show.add_argument("username", metavar="USERNAME")
        for sub in (start, end, show):
            sub.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user(options["username"])
        try:
            match options["action"]:
                case "start":
                    self.start(user, options)
                case "end":
                    self.end(user, options)
                case _:
                    self.show(user, options)
        except PermissionDenied as exc:
            raise CommandError(f"{exc}; nothing was changed") from exc
        except AbsenceRefused as exc:
            raise CommandError(exc.message) from exc

    def start(self, user: User, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        until = return_date(options["until"])
        if len(options["note"]) > 500:
            raise CommandError("--note: at most 500 characters; nothing was changed")
        absence = start_absence(user=user, until=until, actor=actor, note=options["note"])
        if options["json"]:
            write_json(self.stdout, absence_data(absence))
            return
        self.stdout.write(
            f"{user.username} is away until {absence.until:%Y-%m-%d}: "
            f"{absence.pauses.count()} enrollment(s) paused, {absence.tasks.count()} task(s) "
            "moved to after the return."
        )

    def end(self, user: User, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        absence = current_absence(user)
        if absence is None:
            raise CommandError(f"{user.username} is not away; nothing was changed")
        report = end_absence(absence=absence, actor=actor)
        if options["json"]:
            write_json(
                self.stdout,
                {
                    "absence": absence_data(absence),
                    "resumed": report.resumed,
                    "steps_rescheduled": report.steps_rescheduled,
                    "tasks_rescheduled": report.tasks_rescheduled,
                    "left_as_they_were": report.left_as_they_were,
                },
            )
            return
        self.stdout.write(
            f"{user.username} is back: {report.resumed} enrollment(s) resumed, "
            f"{report.steps_rescheduled} overdue step(s) spread over the following days, "
            f"{report.tasks_rescheduled} task(s) rescheduled, {report.left_as_they_were} "
            "left as someone else had set them."
        )

    def show(self, user: User, options: dict[str, Any]) -> None:
        absence = current_absence(user)
        if options["json"]:
            data = absence_data(absence) if absence else None
            write_json(self.stdout, {"user": user.username, "away": bool(absence), "absence": data})
        elif absence is None:
            self.stdout.write(f"{user.username} is not away.")
        else:
            note = f" ({absence.note})" if absence.note else ""
            self.stdout.write(
                f"{user.username} is away until {absence.until:%Y-%m-%d}{note}: "
                f"{absence.pauses.count()} enrollment(s) held, {absence.tasks.count()} task(s) "
                "moved."
            )
