from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from tqdm import tqdm

from cadency.contacts.models import Contact
from cadency.contacts.services import ContactError, import_contacts
from cadency.lib.cli_helpers import ProgressStream, iso, positive_int, write_json, write_table


def contact_data(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "email": contact.email,
        "aliases": [a.email for a in contact.aliases.all()],
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "company": contact.company.name if contact.company else None,
        "time_zone": contact.time_zone,
        "lifecycle_stage": contact.lifecycle_stage,
        "properties": contact.properties,
        "created_at": iso(contact.created_at),
    }


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the CSV as UTF-8"
        ) from None
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None


class Command(BaseCommand):
    help = "Import contacts from CSV, list them."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        imp = actions.add_parser(
            "import",
            help="import contacts from a CSV file",
            description="Import contacts from a CSV file with a header row. Columns: email "
            "(required), first_name, last_name, company, company_domain, time_zone, "
            "lifecycle_stage, aliases (separated by ;); any other column becomes a property. "
            "Bad rows are reported with their line number and skipped; good rows are kept.",
        )
        imp.add_argument("file", type=Path, metavar="FILE.csv")
        imp.add_argument("--json", action="store_true", help="print the report as JSON")

        listing = actions.add_parser("list", help="list contacts")
        listing.add_argument("--search", help="part of a name, address or company")
        listing.add_argument("--limit", type=positive_int, default=200)
        listing.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "import":
                self.import_file(options)
            case "list":
                self.list(options)

    def import_file(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        text = read_text(path)
        lines = max(text.count("\n") + (not text.endswith("\n")) - 1, 0)
        with tqdm(
            total=lines, unit="row", desc=path.name, file=ProgressStream(self.stderr), disable=None
        ) as bar:

            def on_row(line: int) -> None:
                bar.update(max(line - 1 - bar.n, 0))

            try:
                report = import_contacts(text, on_row=on_row)
            except ContactError as exc:
                raise CommandError(f"{path}: {exc}; nothing was imported") from exc
            bar.update(max(lines - bar.n, 0))
        if options["json"]:
            write_json(self.stdout, {"file": str(path), **report.as_dict})
        else:
            for line, error in report.errors:
                self.stderr.write(f"{path}, line {line}: {error}" if line else f"{path}: {error}")
            self.stdout.write(
                f"{report.created} created, {report.updated} updated, "
                f"{len(report.errors)} rows with errors (not imported)."
            )
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} row(s) of {path} were not imported; the others were kept"
            )

    def list(self, options: dict[str, Any]) -> None:
        contacts = (
            Contact.objects.filter(deleted_at=None)
            .select_related("company")
            .prefetch_related("aliases")
            .order_by("email")
        )
        if options["search"]:
            term = options["search"].strip()
            contacts = contacts.filter(
                Q(email__icontains=term)
                | Q(aliases__email__icontains=term)
                | Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(company__name__icontains=term)
            ).distinct()
        total = contacts.count()
        shown = list(contacts[: options["limit"]])
        if options["json"]:
            write_json(self.stdout, [contact_data(c) for c in shown])
        else:
            write_table(
                self.stdout,
                ["ID", "EMAIL", "NAME", "COMPANY", "TIME ZONE", "STAGE"],
                [
                    [
                        c.pk,
                        c.email,
                        c.full_name,
                        c.company.name if c.company else "",
                        c.time_zone,
                        c.lifecycle_stage,
                    ]
                    for c in shown
                ],
                empty="No contacts found.",
            )
        if total > len(shown):
            self.stderr.write(f"Showing {len(shown)} of {total}; use --limit to see more.")
