from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, F, Q

from cadency.accounts.permissions import may_act_on
from cadency.lib.cli_helpers import (
    confirm,
    get_actor,
    get_sequence,
    iso,
    positive_int,
    short_time,
    write_json,
    write_table,
)
from cadency.lib.specs import load_spec
from cadency.sequences.models import Enrollment, EnrollmentStatus, Sequence, Step
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.authoring import (
    DAY_NAMES,
    SequenceSpecError,
    create_sequence,
)
from cadency.sequences.services.lifecycle import delete_sequence
from cadency.sequences.services.step_editing import step_spec


def status_counts(sequence_ids: list[int]) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = {pk: Counter() for pk in sequence_ids}
    rows = (
        Enrollment.objects.filter(sequence_id__in=sequence_ids)
        .values_list("sequence_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for sequence_id, status, n in rows:
        counts[sequence_id][status] = n
    return counts


def step_data(step: Step) -> dict[str, Any]:
    return {"position": step.position, **step_spec(step)}


def sequence_data(sequence: Sequence, counts: Counter[str]) -> dict[str, Any]:
    return {
        "id": sequence.pk,
        "name": sequence.name,
        "owner": sequence.owner.username,
        "version": sequence.current_version,
        "created_at": iso(sequence.created_at),
        "deleted_at": iso(sequence.archived_at),
        "settings": {
            "send_window": [
                sequence.send_window_start.isoformat("minutes"),
                sequence.send_window_end.isoformat("minutes"),
            ],
            "send_days": [DAY_NAMES[d] for d in sequence.send_days],
            "business_days_only": sequence.business_days_only,
            "thread_follow_ups": sequence.thread_follow_ups,
            "unenroll_same_company": sequence.unenroll_same_company,
            "task_reminders": sequence.task_reminders,
        },
        "steps": [step_data(step) for step in sequence.current_steps()],
        "enrollments": {status: counts[status] for status in EnrollmentStatus.values},
    }


def describe_step(step: dict[str, Any]) -> str:
    delay = (
        f"+{step['delay']} {step['delay_unit'].replace('_', ' ')}" if step["delay"] else "at once"
    )
    what = step["subject"] or step["title"] or step["body"].split("\n", 1)[0]
    flags = [
        flag
        for flag, on in (
            ("thread as reply", step["type"] == "automated_email" and step["thread_as_reply"]),
            ("pause until complete", step["pause_until_complete"]),
        )
        if on
    ]
    extra = f" [{', '.join(flags)}]" if flags else ""
    return f"  {step['position']}. {step['type']:<16} {delay:<20} {what}{extra}"


class Command(BaseCommand):
    help = "Create a sequence from YAML/JSON, show, list or delete sequences."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser(
            "create",
            help="create a sequence from a YAML or JSON file",
            description="Create a sequence from a file: {name, settings: {send_window, "
            "send_days, business_days_only, thread_follow_ups, unenroll_same_company, "
            "task_reminders}, steps: [{type, delay, delay_unit, subject, body, title, "
            "thread_as_reply, pause_until_complete}]}.",
        )
        create.add_argument("file", type=Path, metavar="FILE.yaml|FILE.json")
        create.add_argument("--owner", required=True, help="the owning user's username")
        create.add_argument("--json", action="store_true", help="print the sequence as JSON")

        show = actions.add_parser("show", help="settings, steps and enrollment counts")
        show.add_argument("id", type=positive_int)
        show.add_argument("--json", action="store_true", help="print JSON")

        listing = actions.add_parser("list", help="list sequences")
        listing.add_argument("--deleted", action="store_true", help="include deleted sequences")
        listing.add_argument("--json", action="store_true", help="print JSON")

        delete = actions.add_parser(
            "delete", help="delete a sequence; its open enrollments end (sequence_deleted)"
        )
        delete.add_argument("id", type=positive_int)
        delete.add_argument("--as", dest="actor", required=True, metavar="USERNAME")
        delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        delete.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "create":
                self.create(options)
            case "show":
                self.show(options)
            case "list":
                self.list(options)
            case "delete":
                self.delete(options)

    def create(self, options: dict[str, Any]) -> None:
        owner = get_actor(options["owner"])
        path: Path = options["file"]
        spec = load_spec(path)
        try:
            sequence = create_sequence(owner=owner, spec=spec)
        except SequenceSpecError as exc:
            raise CommandError(f"{path}: {exc}; nothing was created") from exc
        if options["json"]:
            write_json(self.stdout, sequence_data(sequence, Counter()))
        else:
            steps = sequence.current_steps().count()
            self.stdout.write(
                f"Created sequence {sequence.pk} «{sequence.name}» with {steps} steps, "
                f"owned by {owner.username}."
            )

    def show(self, options: dict[str, Any]) -> None:
        sequence = get_sequence(options["id"])
        data = sequence_data(sequence, status_counts([sequence.pk])[sequence.pk])
        if options["json"]:
            write_json(self.stdout, data)
            return
        settings = data["settings"]
        out = self.stdout
        out.write(f"Sequence {sequence.pk}: {sequence.name} (version {sequence.current_version})")
        out.write(f"Owner: {sequence.owner.username}")
        if sequence.archived_at:
            out.write(f"Deleted: {short_time(sequence.archived_at)}")
        out.write(
            f"Send window: {'-'.join(settings['send_window'])} on "
            f"{', '.join(settings['send_days'])}"
        )
        for key in ("business_days_only", "thread_follow_ups", "unenroll_same_company"):
            out.write(f"{key.replace('_', ' ').capitalize()}: {'yes' if settings[key] else 'no'}")
        out.write(f"Task reminders: {'yes' if settings['task_reminders'] else 'no'}")
        out.write("Steps:")
        for step in data["steps"]:
            out.write(describe_step(step))
        out.write(
            "Enrollments: "
            + ", ".join(f"{n} {status}" for status, n in data["enrollments"].items())
        )

    def list(self, options: dict[str, Any]) -> None:
        sequences = Sequence.objects.select_related("owner").order_by("pk")
        if not options["deleted"]:
            sequences = sequences.filter(archived_at=None)
        sequences = sequences.annotate(
            step_count=Count("steps", filter=Q(steps__version=F("current_version")))
        )
        rows = list(sequences)
        counts = status_counts([s.pk for s in rows])
        if options["json"]:
            write_json(
                self.stdout,
                [
                    {
                        "id": s.pk,
                        "name": s.name,
                        "owner": s.owner.username,
                        "steps": s.step_count,
                        "deleted_at": iso(s.archived_at),
                        "enrollments": {st: counts[s.pk][st] for st in EnrollmentStatus.values},
                    }
                    for s in rows
                ],
            )
            return
        write_table(
            self.stdout,
            ["ID", "NAME", "OWNER", "STEPS", *(st.upper() for st in EnrollmentStatus.values)],
            [
                [
                    s.pk,
                    s.name + (" (deleted)" if s.archived_at else ""),
                    s.owner.username,
                    s.step_count,
                    *(counts[s.pk][st] for st in EnrollmentStatus.values),
                ]
                for s in rows
            ],
            empty="No sequences: create one with `cadency sequence create FILE.yaml`.",
        )

    def delete(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        sequence = get_sequence(options["id"])
        if not may_act_on(actor, sequence.owner_id):
            raise CommandError(
                f"{actor.username} is a {actor.role} and may only delete their own sequences; "
                f"«{sequence.name}» belongs to {sequence.owner.username}"
            )
        if sequence.archived_at is not None:
            raise CommandError(f"«{sequence.name}» was already deleted; nothing was changed")
        open_count = Enrollment.objects.filter(sequence=sequence, status__in=OPEN_STATUSES).count()
        question = (
            f"Delete «{sequence.name}» (id {sequence.pk})? "
            f"Its {open_count} open enrollment(s) will end."
        )
        if not confirm(self.stderr, question, assume_yes=options["yes"]):
            raise CommandError("cancelled: nothing was changed")
        ended = delete_sequence(sequence=sequence, actor=actor)
        if options["json"]:
            write_json(
                self.stdout, {"id": sequence.pk, "deleted": True, "enrollments_ended": ended}
            )
        else:
            self.stdout.write(f"Deleted «{sequence.name}»; {ended} open enrollment(s) ended.")
