from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
from cadency.lib.cli_helpers import (
    confirm,
    get_actor,
    get_contact,
    get_sequence,
    get_user,
    positive_int,
    write_json,
)
from cadency.sequences.models import Enrollment, UnenrollReason
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.bulk import unenroll_many
from cadency.sequences.services.enrollment import unenroll

SHOW_AT_MOST = 20


@dataclass(frozen=True)
class Row:
    id: int
    status: str
    enrolled_by_id: int
    enrolled_by: str
    contact: str
    sequence: str

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def label(self) -> str:
        return f"enrollment {self.id} ({self.contact} in «{self.sequence}»)"


FIELDS = ("pk", "status", "enrolled_by_id", "enrolled_by__username", "email", "sequence__name")


class Command(BaseCommand):
    help = (
        "Unenroll by enrollment id(s), by contact, or a whole sequence (--all or filters). "
        "Reps may only unenroll the enrollments they made; managers and admins any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=positive_int, metavar="ID")
        parser.add_argument("--contact", metavar="EMAIL", help="the contact's open enrollment")
        parser.add_argument("--sequence", type=positive_int, metavar="ID", help="in this sequence")
        parser.add_argument(
            "--all", action="store_true", help="with --sequence: every open enrollment"
        )
        parser.add_argument(
            "--status", choices=[s.value for s in OPEN_STATUSES], help="only this status"
        )
        parser.add_argument("--enrolled-by", metavar="USERNAME", help="only those this user made")
        parser.add_argument(
            "--as", dest="actor", required=True, metavar="USERNAME", help="the acting user"
        )
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = get_actor(options["actor"])
        rows = self.select(options)
        refused = [r for r in rows if not may_act_on(actor, r.enrolled_by_id)]
        allowed = [r for r in rows if may_act_on(actor, r.enrolled_by_id)]
        to_end = [r for r in allowed if r.is_open]
        for row in refused[:SHOW_AT_MOST]:
            self.stderr.write(
                f"refused: {row.label} was enrolled by {row.enrolled_by}; "
                f"{actor.username} is a {actor.role} and may only unenroll their own"
            )
        if len(refused) > SHOW_AT_MOST:
            self.stderr.write(f"refused: … and {len(refused) - SHOW_AT_MOST} more")
        ended = 0
        if to_end:
            question = (
                f"Unenroll {to_end[0].label}?"
                if len(to_end) == 1
                else f"Unenroll {len(to_end)} enrollments?"
            )
            if not confirm(self.stderr, question, assume_yes=options["yes"]):
                raise CommandError("cancelled: nothing was changed")
            ended = self.end([r.id for r in to_end], actor)
        already = len(allowed) - ended
        if options["json"]:
            write_json(
                self.stdout,
                {
                    "selected": len(rows),
                    "ended": ended,
                    "already_ended": already,
                    "refused": [
                        {
                            "id": r.id,
                            "contact": r.contact,
                            "sequence": r.sequence,
                            "enrolled_by": r.enrolled_by,
                        }
                        for r in refused
                    ],
                },
            )
        elif not rows:
            self.stdout.write("No open enrollment matches; nothing was changed.")
        else:
            self.stdout.write(f"Unenrolled {ended} enrollment(s); {already} had already ended.")
        if refused:
            raise CommandError(
                f"{len(refused)} enrollment(s) made by other users were refused and left "
                f"unchanged; ask a manager or admin"
            )

    def end(self, ids: list[int], actor: User) -> int:
        if len(ids) == 1:
            enrollment = Enrollment.objects.select_related("contact", "sequence").get(pk=ids[0])
            return int(unenroll(enrollment=enrollment, reason=UnenrollReason.MANUAL, actor=actor))
        return unenroll_many(enrollment_ids=ids, reason=UnenrollReason.MANUAL, actor=actor)

    def select(self, options: dict[str, Any]) -> list[Row]:
        ids: list[int] = options["ids"]
        filters = [f"--{name}" for name in ("status", "enrolled_by") if options[name]]
        if ids:
            extra = [f"--{n}" for n in ("contact", "sequence", "all") if options[n]] + filters
            if extra:
                raise CommandError(f"give enrollment ids or {', '.join(extra)}, not both")
            found = {
                r.id: r
                for r in (
                    Row(*values)
                    for values in Enrollment.objects.filter(pk__in=ids).values_list(*FIELDS)
                )
            }
            missing = sorted(set(ids) - set(found))
            if missing:
                listed = ", ".join(map(str, missing))
                raise CommandError(f"there is no enrollment with id {listed}; nothing was changed")
            return [found[pk] for pk in dict.fromkeys(ids)]
        if not options["contact"] and not options["sequence"]:
            raise CommandError("say what to unenroll: enrollment ids, --contact or --sequence")
        if options["all"] and filters:
            raise CommandError(f"--all means every open enrollment: leave out {filters[0]}")
        if options["sequence"] and not options["contact"] and not (options["all"] or filters):
            raise CommandError(
                "--sequence needs --all or a filter (--status, --enrolled-by) to say which"
            )
        enrollments = Enrollment.objects.filter(
            status__in=[options["status"]] if options["status"] else OPEN_STATUSES
        )
        if options["contact"]:
            enrollments = enrollments.filter(contact=get_contact(options["contact"]))
        if options["sequence"]:
            enrollments = enrollments.filter(sequence=get_sequence(options["sequence"]))
        if options["enrolled_by"]:
            enrollments = enrollments.filter(enrolled_by=get_user(options["enrolled_by"]))
        return [Row(*values) for values in enrollments.order_by("pk").values_list(*FIELDS)]
