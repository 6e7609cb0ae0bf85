from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.accounts.models import Role, User
from cadency.accounts.services import UserError, create_user
from cadency.lib.cli_helpers import (
    clean_email,
    confirm,
    get_actor,
    get_user,
    iso,
    read_secret,
    write_json,
    write_table,
)
from cadency.sequences.models import Enrollment
from cadency.sequences.models.enrollment import OPEN_STATUSES
from cadency.sequences.services.lifecycle import deactivate_user


def user_data(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "is_active": user.is_active,
        "date_joined": iso(user.date_joined),
    }


class Command(BaseCommand):
    help = "Create, list or deactivate users."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser("create", help="create a user")
        create.add_argument("username")
        create.add_argument("--email", required=True)
        create.add_argument("--role", choices=Role.values, default=Role.REP)
        create.add_argument("--first-name", default="")
        create.add_argument("--last-name", default="")
        secret = create.add_mutually_exclusive_group()
        secret.add_argument("--password", help="the password (visible in shell history)")
        secret.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
        create.add_argument("--json", action="store_true", help="print the user as JSON")

        listing = actions.add_parser("list", help="list users")
        listing.add_argument("--json", action="store_true", help="print JSON")

        deactivate = actions.add_parser(
            "deactivate", help="deactivate a user; the enrollments they made end"
        )
        deactivate.add_argument("username")
        deactivate.add_argument(
            "--as", dest="actor", required=True, metavar="ADMIN", help="the acting admin"
        )
        deactivate.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        deactivate.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "create":
                self.create(options)
            case "list":
                self.list(options)
            case "deactivate":
                self.deactivate(options)

    def create(self, options: dict[str, Any]) -> None:
        email = clean_email(options["email"])
        password = read_secret(
            value=options["password"],
            from_stdin=options["password_stdin"],
            prompt="Password",
            repeat=True,
        )
        try:
            user = create_user(
                username=options["username"],
                email=email,
                password=password,
                role=Role(options["role"]),
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except UserError as exc:
            raise CommandError(f"cannot create the user: {exc}") from exc
        if options["json"]:
            write_json(self.stdout, user_data(user))
        else:
            self.stdout.write(f"Created {user.role} {user.username} <{user.email}> (id {user.pk}).")

    def list(self, options: dict[str, Any]) -> None:
        users = list(User.objects.order_by("username"))
        if options["json"]:
            write_json(self.stdout, [user_data(u) for u in users])
            return
        write_table(
            self.stdout,
            ["ID", "USERNAME", "NAME", "EMAIL", "ROLE", "ACTIVE"],
            [
                [
                    u.pk,
                    u.username,
                    u.get_full_name(),
                    u.email,
                    u.role,
                    "yes" if u.is_active else "no",
                ]
                for u in users
            ],
            empty="No users yet: create one with `cadency user create`.",
        )

    def deactivate(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        if not (actor.is_superuser or actor.role == Role.ADMIN):
            raise CommandError(f"{actor.username} is a {actor.role}: only an admin may deactivate")
        user = get_user(options["username"])
        if user.pk == actor.pk:
            raise CommandError("you cannot deactivate yourself; ask another admin")
        if not user.is_active:
            raise CommandError(f"{user.username} is already deactivated; nothing was changed")
        open_count = Enrollment.objects.filter(enrolled_by=user, status__in=OPEN_STATUSES).count()
        question = (
            f"Deactivate {user.username}? {open_count} open enrollment(s) they made will end."
        )
        if not confirm(self.stderr, question, assume_yes=options["yes"]):
            raise CommandError("cancelled: nothing was changed")
        ended = deactivate_user(user=user, actor=actor)
        user.refresh_from_db()
        if options["json"]:
            write_json(self.stdout, {"user": user_data(user), "enrollments_ended": ended})
        else:
            self.stdout.write(f"Deactivated {user.username}; {ended} open enrollment(s) ended.")
