from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cadency.lib.cli_helpers import (
    enrollment_data,
    get_contact,
    get_sequence,
    get_user,
    positive_int,
    short_time,
    write_json,
    write_table,
)
from cadency.sequences.models import Enrollment, EnrollmentStatus, UnenrollReason


class Command(BaseCommand):
    help = "List enrollments, newest first, with filters."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="list enrollments")
        listing.add_argument("--status", choices=EnrollmentStatus.values)
        listing.add_argument("--reason", choices=UnenrollReason.values, help="why it ended")
        listing.add_argument("--sequence", type=positive_int, metavar="ID")
        listing.add_argument("--contact", metavar="EMAIL")
        listing.add_argument("--enrolled-by", metavar="USERNAME")
        listing.add_argument("--limit", type=positive_int, default=100, metavar="N")
        listing.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        enrollments = Enrollment.objects.select_related(
            "contact", "sequence", "enrolled_by", "mailbox"
        ).order_by("-started_at", "-pk")
        if options["status"]:
            enrollments = enrollments.filter(status=options["status"])
        if options["reason"]:
            enrollments = enrollments.filter(reason=options["reason"])
        if options["sequence"]:
            enrollments = enrollments.filter(sequence=get_sequence(options["sequence"]))
        if options["contact"]:
            contact = get_contact(options["contact"], include_deleted=True)
            enrollments = enrollments.filter(contact=contact)
        if options["enrolled_by"]:
            enrollments = enrollments.filter(enrolled_by=get_user(options["enrolled_by"]))
        total = enrollments.count()
        shown = list(enrollments[: options["limit"]])
        if options["json"]:
            write_json(self.stdout, [enrollment_data(e) for e in shown])
        else:
            write_table(
                self.stdout,
                ["ID", "CONTACT", "SEQUENCE", "BY", "STATUS", "STEP", "STARTED", "ENDED", "REASON"],
                [
                    [
                        e.pk,
                        e.email,
                        f"{e.sequence_id} {e.sequence.name}",
                        e.enrolled_by.username,
                        e.status,
                        e.current_position,
                        short_time(e.started_at),
                        short_time(e.ended_at),
                        e.reason,
                    ]
                    for e in shown
                ],
                empty="No enrollments match.",
            )
        if total > len(shown):
            self.stderr.write(f"Showing {len(shown)} of {total}; use --limit to see more.")
