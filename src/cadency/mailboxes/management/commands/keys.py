from dataclasses import asdict
from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.lib.cli_helpers import positive_int, write_json, write_table
from cadency.mailboxes.key_rotation import BATCH_SIZE, ColumnReport, check, rotate

HEADERS = {
    "rotate": ("secrets", "rows", "re-encrypted", "already newest", "unreadable"),
    "check": ("secrets", "rows", "newest key", "older key", "unreadable"),
}


class Command(BaseCommand):
    help = "Rotate the keys that encrypt secrets at rest (CADENCY_ENCRYPTION_KEYS)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        rotate_parser = actions.add_parser(
            "rotate",
            help="re-encrypt every secret with the newest key (the first listed)",
            description="Re-encrypt mailbox, calendar and webhook secrets with the first key "
            "of CADENCY_ENCRYPTION_KEYS, in batches. Safe to run again.",
        )
        check_parser = actions.add_parser(
            "check", help="say which secrets the configured keys cannot read"
        )
        generate = actions.add_parser("generate", help="print a new key to put first")
        for sub in (rotate_parser, check_parser):
            sub.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE)
            sub.add_argument("--json", action="store_true", help="print the result as JSON")
        generate.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        action: str = options["action"]
        if action == "generate":
            key = Fernet.generate_key().decode()
            if options["json"]:
                write_json(self.stdout, {"key": key})
            else:
                self.stdout.write(key)
            return
        reports = (rotate if action == "rotate" else check)(batch_size=options["batch_size"])
        if options["json"]:
            write_json(self.stdout, [asdict(report) for report in reports])
        else:
            self.write_reports(action, reports)
        unreadable = [row for report in reports for row in report.unreadable]
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} secret(s) cannot be read with the configured keys: "
                "add the key they were encrypted with to CADENCY_ENCRYPTION_KEYS, "
                "or enter those secrets again"
            )

    def write_reports(self, action: str, reports: list[ColumnReport]) -> None:
        rows = [
            (
                report.column,
                report.rows,
                *((report.rotated, report.current) if action == "rotate" else ()),
                *((report.current, report.old_key) if action == "check" else ()),
                len(report.unreadable),
            )
            for report in reports
        ]
        write_table(self.stdout, HEADERS[action], rows)
        for report in reports:
            for row in report.unreadable:
                self.stdout.write(f"unreadable: {report.column} id {row.pk} ({row.label})")
        if action == "check" and any(report.old_key for report in reports):
            self.stdout.write("Some secrets use an older key: run `cadency keys rotate`.")
