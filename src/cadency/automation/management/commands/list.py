"""``cadency list``: create lists, add and remove the contacts of a static list, show one.

Anyone may create lists and change a static list's contacts; the lists are the
same as on the Lists pages and in the API.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.automation.conditions import describe, parse_conditions
from cadency.automation.models import ContactList, ListKind
from cadency.automation.services.list_admin import find_list, lists_with_counts, members_of
from cadency.automation.services.lists import (
    ListError,
    add_to_list,
    create_list,
    remove_from_list,
)
from cadency.lib.cli_helpers import get_actor, get_contact, iso, write_json, write_table

SHOWN_MEMBERS = 50


def get_list(ref: str) -> ContactList:
    found = find_list(ref)
    if found is None:
        raise CommandError(f"there is no list {ref!r} (see `cadency list show`)")
    return found


def list_data(contact_list: ContactList, members: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": contact_list.pk,
        "name": contact_list.name,
        "kind": contact_list.kind,
        "conditions": contact_list.conditions,
        "owner": contact_list.owner.username if contact_list.owner else None,
        "member_count": getattr(contact_list, "member_count", None),
        "created_at": iso(contact_list.created_at),
    }
    if members is not None:
        data["members"] = members
    return data


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--conditions is not valid JSON: {exc}") from exc


class Command(BaseCommand):
    help = "Create static or dynamic lists, add or remove a static list's contacts, show lists."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser("create", help="create a list")
        create.add_argument("name")
        kind = create.add_mutually_exclusive_group(required=True)
        kind.add_argument(
            "--static",
            action="store_const",
            dest="kind",
            const="static",
            help="people add contacts",
        )
        kind.add_argument(
            "--dynamic",
            action="store_const",
            dest="kind",
            const="dynamic",
            help="every contact matching --conditions, kept up to date",
        )
        create.add_argument(
            "--conditions",
            metavar="JSON",
            help='dynamic lists: [{"field": "lifecycle_stage", "op": "is", "value": "customer"}]',
        )
        create.add_argument(
            "--as", dest="actor", required=True, metavar="USERNAME", help="the list's owner"
        )
        create.add_argument("--json", action="store_true", help="print the list as JSON")

        for name, text in (
            ("add", "add a contact to a static list"),
            ("remove", "remove a contact from a static list"),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("list", metavar="LIST", help="the list's id or name")
            sub.add_argument("email", metavar="EMAIL", help="the contact's address (or an alias)")
            sub.add_argument(
                "--as", dest="actor", required=True, metavar="USERNAME", help="the acting user"
            )

        show = actions.add_parser("show", help="show a list and its contacts, or every list")
        show.add_argument("list", nargs="?", metavar="LIST", help="id or name; none: all lists")
        show.add_argument("--json", action="store_true", help="print as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, options["action"])(options)

    def create(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        conditions = parse_json(options["conditions"]) if options["conditions"] else None
        if options["kind"] == ListKind.DYNAMIC and conditions is None:
            raise CommandError("a dynamic list needs --conditions; nothing was created")
        try:
            created = create_list(
                name=options["name"], kind=options["kind"], actor=actor, conditions=conditions
            )
        except ListError as exc:
            raise CommandError(f"{exc}; nothing was created") from exc
        listed = lists_with_counts().get(pk=created.pk)
        if options["json"]:
            write_json(self.stdout, list_data(listed))
            return
        self.stdout.write(
            f"Created the {listed.kind} list «{listed.name}» (id {listed.pk}) "
            f"with {listed.member_count} contact(s)."  # type: ignore[attr-defined]
        )

    def add(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        contact_list, contact = get_list(options["list"]), get_contact(options["email"])
        try:
            added = add_to_list(contact_list=contact_list, contact=contact, actor=actor)
        except ListError as exc:
            raise CommandError(f"{exc}; nothing was changed") from exc
        if added:
            self.stdout.write(f"Added {contact.email} to «{contact_list.name}».")
        else:
            self.stdout.write(f"{contact.email} was already in «{contact_list.name}».")

    def remove(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        contact_list = get_list(options["list"])
        contact = get_contact(options["email"], include_deleted=True)
        try:
            removed = remove_from_list(contact_list=contact_list, contact=contact, actor=actor)
        except ListError as exc:
            raise CommandError(f"{exc}; nothing was changed") from exc
        if removed:
            self.stdout.write(f"Removed {contact.email} from «{contact_list.name}».")
        else:
            self.stdout.write(f"{contact.email} was not in «{contact_list.name}»; nothing changed.")

    def show(self, options: dict[str, Any]) -> None:
        if not options["list"]:
            rows = list(lists_with_counts())
            if options["json"]:
                write_json(self.stdout, [list_data(r) for r in rows])
                return
            write_table(
                self.stdout,
                ["ID", "NAME", "KIND", "MEMBERS", "OWNER"],
                [
                    (r.pk, r.name, r.kind, r.member_count, r.owner.username if r.owner else "")  # type: ignore[attr-defined]
                    for r in rows
                ],
                empty="No lists yet (cadency list create NAME --static|--dynamic).",
            )
            return
        contact_list = lists_with_counts().get(pk=get_list(options["list"]).pk)
        emails = [m.contact.email for m in members_of(contact_list)]
        if options["json"]:
            write_json(self.stdout, list_data(contact_list, emails))
            return
        count = contact_list.member_count  # type: ignore[attr-defined]
        self.stdout.write(f"«{contact_list.name}» (id {contact_list.pk}), {contact_list.kind}")
        if contact_list.kind == ListKind.DYNAMIC:
            self.stdout.write(
                f"Every contact whose {describe(parse_conditions(contact_list.conditions))}"
            )
        self.stdout.write(f"{count} contact(s):")
        for email in emails[:SHOWN_MEMBERS]:
            self.stdout.write(f"  {email}")
        if len(emails) > SHOWN_MEMBERS:
            self.stdout.write(f"  … and {len(emails) - SHOWN_MEMBERS} more (--json lists all)")
