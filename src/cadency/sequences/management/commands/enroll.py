import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cadency.lib.cli_helpers import (
    enrollment_data,
    exit_with,
    get_actor,
    get_contact,
    get_mailbox,
    get_sequence,
    iso,
    parse_when,
    positive_int,
    short_time,
    write_json,
)
from cadency.sequences.models import Enrollment, EnrollmentStatus, StepRun, StepRunState, Task
from cadency.sequences.services.enrollment import enroll
from cadency.sequences.services.errors import EnrollmentRefused


def first_run_data(run: StepRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    task = Task.objects.filter(step_run=run).first()
    return {
        "position": run.position,
        "type": run.step.kind,
        "state": run.state,
        "due_at": iso(run.due_at),
        "message_id": run.message_id or None,
        "task": {"id": task.pk, "title": task.title} if task else None,
        "error": run.last_error or None,
    }


def describe_run(run: dict[str, Any] | None) -> str:
    if run is None:
        return "no step has run yet"
    step = f"step {run['position']} ({run['type']})"
    if run["task"]:
        return f"{step}: task {run['task']['id']} created: {run['task']['title']}"
    match run["state"]:
        case StepRunState.SENT:
            return f"{step} sent, Message-ID {run['message_id']}"
        case StepRunState.SCHEDULED:
            due = dt.datetime.fromisoformat(run["due_at"])
            retry = f" (last attempt: {run['error']})" if run["error"] else ""
            return f"{step} scheduled for {short_time(due)}{retry}"
        case state:
            error = f": {run['error']}" if run["error"] else ""
            return f"{step} {state}{error}"


class Command(BaseCommand):
    help = "Enroll a contact in a sequence; the first step runs at once unless --start-at."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contact", required=True, metavar="EMAIL", help="contact address")
        parser.add_argument("--sequence", required=True, type=positive_int, metavar="ID")
        parser.add_argument(
            "--as", dest="actor", required=True, metavar="USERNAME", help="the enrolling user"
        )
        parser.add_argument("--mailbox", metavar="EMAIL", help="send from this mailbox of the user")
        parser.add_argument("--start-step", type=positive_int, default=1, metavar="N")
        parser.add_argument(
            "--start-at",
            metavar="ISO8601",
            help="start later, e.g. 2030-06-03T09:00+02:00 (an offset is required)",
        )
        parser.add_argument("--json", action="store_true", help="print the enrollment as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = get_actor(options["actor"])
        contact = get_contact(options["contact"])
        sequence = get_sequence(options["sequence"])
        mailbox = get_mailbox(options["mailbox"], user=actor) if options["mailbox"] else None
        start_at = None
        if options["start_at"]:
            start_at = parse_when(options["start_at"], "--start-at")
            if start_at <= timezone.now():
                raise CommandError(
                    f"--start-at: {options['start_at']} is in the past; leave it out to start now"
                )
        try:
            enrollment = enroll(
                contact=contact,
                sequence=sequence,
                user=actor,
                mailbox=mailbox,
                start_step=options["start_step"],
                start_at=start_at,
            )
        except EnrollmentRefused as exc:
            exit_with(self.stderr, f"refused ({exc.code}): {exc.message}")
        enrollment = Enrollment.objects.select_related(
            "contact", "sequence", "enrolled_by", "mailbox"
        ).get(pk=enrollment.pk)
        run = (
            StepRun.objects.select_related("step")
            .filter(enrollment=enrollment, position=options["start_step"])
            .first()
        )
        first = first_run_data(run)
        if options["json"]:
            write_json(self.stdout, {**enrollment_data(enrollment), "first_step": first})
            return
        self.stdout.write(
            f"Enrolled {enrollment.email} in «{sequence.name}» (enrollment {enrollment.pk}), "
            f"sending from {enrollment.mailbox.email}; {describe_run(first)}."
        )
        if enrollment.status != EnrollmentStatus.ACTIVE:
            self.stdout.write(
                f"The enrollment is now {enrollment.status}: {enrollment.reason_text}"
            )
