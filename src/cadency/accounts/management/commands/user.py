from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cadency.accounts.models import ApiToken, Role, User
from cadency.accounts.permissions import check_may_deactivate_user
from cadency.accounts.services import UserError, create_user
from cadency.accounts.tokens import TokenError, create_token, revoke_token
from cadency.lib.cli_helpers import (
    clean_email,
    confirm,
    get_actor,
    get_user,
    iso,
    read_secret,
    short_time,
    write_json,
    write_table,
)
from cadency.sequences.services.lifecycle import (
    DeactivationError,
    check_deactivation,
    deactivate_user,
    deactivation_preview,
)


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


def token_data(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "user": token.user.username,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "revoked_at": iso(token.revoked_at),
    }


def get_token(ref: str) -> ApiToken:
    """A token by id or by its prefix (``cdy_1a2b3c4d``)."""
    tokens = ApiToken.objects.select_related("user")
    token = (
        tokens.filter(pk=int(ref)).first()
        if ref.isdigit()
        else tokens.filter(prefix=ref.rstrip("…")).first()
    )
    if token is None:
        raise CommandError(f"there is no API token {ref!r} (see `cadency user token list`)")
    return token


class Command(BaseCommand):
    help = "Create, list or deactivate users; create, list or revoke their API tokens."

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
            "--as",
            dest="actor",
            required=True,
            metavar="USERNAME",
            help="the acting manager or admin",
        )
        deactivate.add_argument(
            "--reassign-tasks-to",
            metavar="USERNAME",
            help="give the user's open tasks to this user (default: cancel them)",
        )
        deactivate.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        deactivate.add_argument("--json", action="store_true", help="print the result as JSON")

        self.add_token_arguments(actions.add_parser("token", help="a user's REST API tokens"))

    def add_token_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="token_action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a token; it is printed only once")
        create.add_argument("username", help="the user the token acts as")
        create.add_argument("--name", required=True, help="what the token is for")
        create.add_argument("--json", action="store_true", help="print the token as JSON")

        listing = actions.add_parser("list", help="list tokens (never their secret)")
        listing.add_argument("--user", metavar="USERNAME", help="only this user's tokens")
        listing.add_argument("--json", action="store_true", help="print JSON")

        revoke = actions.add_parser("revoke", help="revoke a token at once")
        revoke.add_argument("token", metavar="ID|PREFIX", help="the token's id or prefix")
        revoke.add_argument(
            "--as",
            dest="actor",
            required=True,
            metavar="USERNAME",
            help="the acting user: the token's owner, a manager or an admin",
        )
        revoke.add_argument("--json", action="store_true", help="print the token as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        match options["action"]:
            case "create":
                self.create(options)
            case "list":
                self.list(options)
            case "deactivate":
                self.deactivate(options)
            case "token":
                self.token(options)

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
        user = get_user(options["username"])
        try:
            check_may_deactivate_user(actor, user)
        except PermissionDenied as exc:
            raise CommandError(f"{exc}; nothing was changed") from exc
        if not user.is_active:
            raise CommandError(f"{user.username} is already deactivated; nothing was changed")
        heir = get_user(options["reassign_tasks_to"]) if options["reassign_tasks_to"] else None
        try:
            check_deactivation(user=user, actor=actor, reassign_tasks_to=heir)
        except DeactivationError as exc:
            raise CommandError(f"cannot deactivate {user.username}: {exc}") from exc
        preview = deactivation_preview(user)
        tasks = f"reassigned to {heir.username}" if heir else "cancelled"
        question = (
            f"Deactivate {user.username}? {preview.open_enrollments} open enrollment(s) they "
            f"made will end; their {preview.open_tasks} open task(s) will be {tasks}."
        )
        if not confirm(self.stderr, question, assume_yes=options["yes"]):
            raise CommandError("cancelled: nothing was changed")
        try:
            done = deactivate_user(user=user, actor=actor, reassign_tasks_to=heir)
        except DeactivationError as exc:
            raise CommandError(f"cannot deactivate {user.username}: {exc}") from exc
        user.refresh_from_db()
        if options["json"]:
            write_json(
                self.stdout,
                {
                    "user": user_data(user),
                    "enrollments_ended": done.enrollments_ended,
                    "tasks_reassigned": done.tasks_reassigned,
                    "tasks_cancelled": done.tasks_cancelled,
                    "tasks_reassigned_to": heir.username if heir else None,
                },
            )
            return
        moved = (
            f"{done.tasks_reassigned} open task(s) reassigned to {heir.username}"
            if heir
            else f"{done.tasks_cancelled} open task(s) cancelled"
        )
        self.stdout.write(
            f"Deactivated {user.username}; {done.enrollments_ended} open enrollment(s) "
            f"ended, {moved}."
        )

    def token(self, options: dict[str, Any]) -> None:
        match options["token_action"]:
            case "create":
                self.create_token(options)
            case "list":
                self.list_tokens(options)
            case "revoke":
                self.revoke_token(options)

    def create_token(self, options: dict[str, Any]) -> None:
        user = get_user(options["username"])
        try:
            issued = create_token(user=user, name=options["name"])
        except TokenError as exc:
            raise CommandError(f"cannot create the token: {exc}") from exc
        if options["json"]:
            write_json(self.stdout, {**token_data(issued.token), "token": issued.secret})
            return
        self.stdout.write(issued.secret)
        self.stderr.write(
            f"Created the API token “{issued.token.name}” for {user.username} "
            f"(id {issued.token.pk}). Copy it now: it is not shown again."
        )

    def list_tokens(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "pk")
        if options["user"]:
            tokens = tokens.filter(user=get_user(options["user"]))
        rows = list(tokens)
        if options["json"]:
            write_json(self.stdout, [token_data(t) for t in rows])
            return
        write_table(
            self.stdout,
            ["ID", "USER", "NAME", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
            [
                [
                    t.pk,
                    t.user.username,
                    t.name,
                    t.prefix,
                    short_time(t.created_at),
                    short_time(t.last_used_at),
                    short_time(t.revoked_at),
                ]
                for t in rows
            ],
            empty="No API tokens.",
        )

    def revoke_token(self, options: dict[str, Any]) -> None:
        actor = get_actor(options["actor"])
        token = get_token(options["token"])
        try:
            revoked = revoke_token(token=token, actor=actor)
        except TokenError as exc:
            raise CommandError(f"{exc}; {actor.username} is a {actor.role}") from exc
        if options["json"]:
            write_json(self.stdout, {**token_data(token), "revoked": revoked})
        elif revoked:
            self.stdout.write(f"Revoked the API token “{token.name}” ({token.prefix}…).")
        else:
            self.stdout.write(f"The token {token.prefix}… was already revoked; nothing changed.")
